"""Write-side operations on listings: publish, unpublish, archive, verify."""

import reversion
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from services.models import Provider, listings_changed


def services_left_check(*, provider: Provider, left: int, remedy: str) -> None:
    """A published listing keeps at least one service: ValidationError (ending in `remedy`,
    what the person can do instead) when a change would leave it `left` with none."""
    if provider.status == Provider.Status.PUBLISHED and left < 1:
        raise ValidationError(f"A published listing needs at least one service. {remedy}")


def _record(*, provider: Provider, by, comment: str, fields: list[str]) -> Provider:
    """Save the given fields inside a revision, so the change history says who did what."""
    listings_changed([provider.pk])
    with reversion.create_revision():
        provider.save(update_fields=[*fields, "updated_at"])
        if by is not None:
            reversion.set_user(by)
        reversion.set_comment(comment)
    return provider


def _locked(provider: Provider) -> Provider:
    """The listing as saved, locked until the transaction ends.

    The revision stores the whole object, so it must not be a caller's stale copy.
    """
    return Provider.objects.select_for_update().get(pk=provider.pk)


def _set_status(*, provider: Provider, status: str, by) -> None:
    provider.status = status
    provider.status_changed_at = timezone.now()
    provider.status_changed_by = by


@transaction.atomic
def provider_publish(*, provider: Provider, by) -> Provider:
    """Show the listing to the public, if it meets every rule for a published listing.

    Raises ValidationError naming what is missing; the listing is left unchanged.
    """
    provider = _locked(provider)
    problems = provider.publication_problems()
    if problems:
        raise ValidationError(f"“{provider}” cannot be published yet: " + "; ".join(problems) + ".")
    _set_status(provider=provider, status=Provider.Status.PUBLISHED, by=by)
    provider.full_clean()
    return _record(
        provider=provider,
        by=by,
        comment="Published.",
        fields=["status", "status_changed_at", "status_changed_by"],
    )


@transaction.atomic
def provider_unpublish(*, provider: Provider, by) -> Provider:
    """Take the listing off the public site and back to draft."""
    provider = _locked(provider)
    _set_status(provider=provider, status=Provider.Status.DRAFT, by=by)
    return _record(
        provider=provider,
        by=by,
        comment="Unpublished (back to draft).",
        fields=["status", "status_changed_at", "status_changed_by"],
    )


@transaction.atomic
def provider_archive(*, provider: Provider, by) -> Provider:
    """Retire a listing (closed, retired, moved away) without deleting its history."""
    provider = _locked(provider)
    _set_status(provider=provider, status=Provider.Status.ARCHIVED, by=by)
    return _record(
        provider=provider,
        by=by,
        comment="Archived.",
        fields=["status", "status_changed_at", "status_changed_by"],
    )


@transaction.atomic
def provider_mark_verified(*, provider: Provider, by) -> Provider:
    """Record that staff checked the listing today."""
    provider = _locked(provider)
    provider.last_verified = timezone.localdate()
    provider.last_verified_by = by
    return _record(
        provider=provider,
        by=by,
        comment="Marked verified.",
        fields=["last_verified", "last_verified_by"],
    )
