"""The one-click links in the emails to providers: signed, so nobody can forge or alter one,
and dated, so an old one stops working. Each link opens a page with one button, which
does the thing: a mail scanner that follows links changes nothing.

What a link may do is checked again when it is used (the listing still has that address,
the enquiry is still that listing's), so a link outlives no change that should end it.
"""

import datetime

from django.core import signing
from django.urls import reverse

SALT = "services.upkeep.links"


def token_make(kind: str, *facts) -> str:
    return signing.dumps([kind, *facts], salt=SALT, compress=True)


def token_read(token: str, kind: str, *, max_age: datetime.timedelta) -> list | None:
    """The facts signed into the token, or None if it is forged, of another kind or too old."""
    try:
        signed = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(signed, list) or not signed or signed[0] != kind:
        return None
    return signed[1:]


def link(site_url: str, url_name: str, token: str, answer: str) -> str:
    return site_url + reverse(url_name, args=[token, answer])
