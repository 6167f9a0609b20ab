"""The address a request came from, as far as this site's own proxies can vouch for it."""

from django.conf import settings


def client_address(request) -> str:
    """REMOTE_ADDR, or with DJANGO_TRUSTED_PROXY_COUNT proxies in front, the address the
    outermost of them saw. Addresses further left in X-Forwarded-For are whatever the
    client wrote, so they are never used."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
