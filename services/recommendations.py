"""Write-side operations on recommendations: submit, approve, reject, delete.

Each one that changes what the public sees recounts Provider.recommendations_approved
and says the listing changed (as services/listings.py does), so the in-memory listing index
rebuilds and "recommended" results follow.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from services.models import Provider, Recommendation, listings_changed


def recommendation_submit(
    *,
    provider: Provider,
    author_name: str,
    relationship: str,
    author_email: str,
    text: str,
    consents_to_publication: bool,
    author_role: str = "",
) -> Recommendation:
    """Store a recommendation from the public; hidden until staff approve it."""
    recommendation = Recommendation(
        provider=provider,
        author_name=author_name,
        relationship=relationship,
        author_role=author_role,
        author_email=author_email,
        text=text,
        consents_to_publication=consents_to_publication,
        status=Recommendation.Status.PENDING,
    )
    recommendation.full_clean()
    recommendation.save()
    return recommendation


def recommendations_recount(*, provider_id: int) -> None:
    """Recount a provider's approved recommendations (rather than add or subtract one, so the
    number cannot drift); say the listing changed when it moved."""
    count = Recommendation.objects.approved().filter(provider_id=provider_id).count()
    changed = (
        Provider.objects.filter(pk=provider_id)
        .exclude(recommendations_approved=count)
        .update(recommendations_approved=count)
    )
    if changed:
        listings_changed([provider_id])


def _moderate(*, recommendation: Recommendation, status: str, by) -> Recommendation:
    # The provider's row is locked first, so two moderators' recounts happen one after the other.
    Provider.objects.lock(recommendation.provider_id)
    recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    recommendation.status = status
    recommendation.moderated_at = timezone.now()
    recommendation.moderated_by = by
    recommendation.save(update_fields=["status", "moderated_at", "moderated_by"])
    recommendations_recount(provider_id=recommendation.provider_id)
    return recommendation


@transaction.atomic
def recommendation_approve(*, recommendation: Recommendation, by) -> Recommendation:
    """Show it on the provider's profile; records who approved it and when."""
    return _moderate(recommendation=recommendation, status=Recommendation.Status.APPROVED, by=by)


@transaction.atomic
def recommendation_reject(*, recommendation: Recommendation, by) -> Recommendation:
    """Keep it off the profile (or take an approved one down); records who and when."""
    return _moderate(recommendation=recommendation, status=Recommendation.Status.REJECTED, by=by)


@transaction.atomic
def recommendation_delete(*, recommendation: Recommendation, by) -> None:
    """Delete it for good. Only staff with the delete permission may: a listing's own
    provider has no way to remove a recommendation once it is approved."""
    if by is None or not (by.is_staff and by.has_perm("services.delete_recommendation")):
        raise PermissionDenied("Only directory staff may delete a recommendation.")
    provider_id = recommendation.provider_id
    Provider.objects.lock(provider_id)
    Recommendation.objects.filter(pk=recommendation.pk).delete()
    recommendations_recount(provider_id=provider_id)
