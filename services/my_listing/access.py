"""Who may manage which listing: managers added by staff's invitation, or by claiming a listing
whose contact email is theirs. Staff accounts never sign in here (they use the admin)."""

from uuid import uuid4

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from services.models import ListingManager, OutgoingEmail, Provider
from services.outbox import email_queue

User = get_user_model()


def email_normalised(email: str) -> str:
    return email.strip().lower()


def provider_account(email: str):
    """The account of the person at this address, made on first need: no password (they
    sign in by link), never staff."""
    email = email_normalised(email)
    user = User.objects.filter(email__iexact=email, is_staff=False).order_by("pk").first()
    if user is not None:
        return user
    username = (
        email if len(email) <= 150 and not User.objects.filter(username=email).exists() else ""
    )
    user = User(username=username or f"provider-{uuid4().hex}", email=email)
    user.set_unusable_password()
    user.save()
    return user


def listings_managed(user):
    """The listings this person may edit: not revoked, not archived."""
    if user is None or not user.is_authenticated or user.is_staff:
        return Provider.objects.none()
    return Provider.objects.filter(managers__user=user, managers__revoked_at__isnull=True).exclude(
        status=Provider.Status.ARCHIVED
    )


@transaction.atomic
def listings_claim(email: str):
    """The account for this address if it may manage any listing, else None.

    A listing whose contact email is this address is theirs to claim, unless staff revoked
    their access to it. Nothing is made for an address that manages nothing.
    """
    email = email_normalised(email)
    existing = User.objects.filter(email__iexact=email, is_staff=False).order_by("pk").first()
    if User.objects.filter(email__iexact=email, is_staff=True).exists():
        return None
    claimable = Provider.objects.filter(email__iexact=email).exclude(
        status=Provider.Status.ARCHIVED
    )
    if existing is not None:
        claimable = claimable.exclude(managers__user=existing)
    claimable = list(claimable.only("pk"))
    if existing is None and not claimable:
        return None
    user = existing or provider_account(email)
    ListingManager.objects.bulk_create(
        [ListingManager(provider=provider, user=user) for provider in claimable]
    )
    return user if listings_managed(user).exists() else None


@transaction.atomic
def manager_invite(*, provider: Provider, email: str, by) -> ListingManager:
    """Give this address access to the listing (again, if it was revoked), and tell them."""
    user = provider_account(email)
    manager, _ = ListingManager.objects.update_or_create(
        provider=provider,
        user=user,
        defaults={"invited_by": by, "revoked_at": None, "revoked_by": None},
    )
    email_queue(
        purpose=OutgoingEmail.Purpose.INVITATION,
        to=user.email,
        subject=f"You can now keep your listing on {settings.SITE_NAME} up to date",
        body=render_to_string(
            "services/email/my_listing_invitation.txt",
            {
                "provider": provider,
                "site_name": settings.SITE_NAME,
                "sign_in_url": settings.SITE_URL + reverse("services:my_listing"),
            },
        ),
    )
    return manager


def manager_revoke(*, manager: ListingManager, by) -> None:
    """Take the access away; the row stays, so the history says who had it and when."""
    ListingManager.objects.filter(pk=manager.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
