"""Signing in at /my-listing/ by a link sent to the listing's email: no password to leak.

The link's token is django-sesame's, scoped to this page: it works for SESAME_MAX_AGE
(15 minutes) and once, since signing in moves the last sign-in time the token covers. The
link opens a page with a button rather than signing in on the spot, so that a mail
scanner that follows links does not use it up.
"""

from django.conf import settings
from django.contrib.auth import authenticate, login
from django.template.loader import render_to_string
from django.urls import reverse
from sesame.utils import get_token

from services import throttle
from services.models import OutgoingEmail
from services.my_listing.access import email_normalised, listings_claim
from services.outbox import email_queue

SCOPE = "my-listing"


def sign_in_link_request(request, email: str) -> bool:
    """Send a sign-in link if this address may manage a listing. The caller answers the
    same whatever happened, so nobody learns which addresses are listed. False only when
    too many links were asked for, from this connection or for this address."""
    email = email_normalised(email)
    if not throttle.form_rate_allows(request, "sign-in") or not throttle.email_rate_allows(
        "sign-in", email
    ):
        return False
    user = listings_claim(email)
    if user is None:
        return True
    link = request.build_absolute_uri(
        reverse("services:my_listing_sign_in", args=[get_token(user, scope=SCOPE)])
    )
    email_queue(
        purpose=OutgoingEmail.Purpose.SIGN_IN,
        to=user.email,
        subject=f"Your link to sign in to {settings.SITE_NAME}",
        body=render_to_string(
            "services/email/my_listing_sign_in.txt",
            {
                "link": link,
                "minutes": settings.SESAME_MAX_AGE // 60,
                "site_name": settings.SITE_NAME,
            },
        ),
    )
    return True


def sign_in_with(request, token: str):
    """Sign in with the link's token; the provider's account, or None if the link is forged,
    expired or used already."""
    user = authenticate(request, sesame=token, scope=SCOPE)
    if user is None or user.is_staff:
        return None
    login(request, user)  # moves last_login: the link no longer works
    return user
