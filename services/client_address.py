"""The address a request came from, as far as this site's own proxies can vouch for it."""

import ipaddress

from django.conf import settings


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(request) -> str | None:
    """REMOTE_ADDR, or with DJANGO_TRUSTED_PROXY_COUNT proxies in front, the address the
    outermost of them saw. Addresses further left in X-Forwarded-For are whatever the
    client wrote, so they are never used. None when there is no address (django-axes, which
    stores it in an IP address column, takes None for that)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops and _valid(forwarded[-hops]):
            return forwarded[-hops]
    remote = request.META.get("REMOTE_ADDR", "")
    return remote if _valid(remote) else None
