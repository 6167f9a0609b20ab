"""How many forms one client address may send: a count per address and form, in the cache
every worker shares (CACHES["shared"]: the database, or Redis when REDIS_URL is set)."""

import hashlib
import logging

from django.conf import settings
from django.core.cache import caches

from services.client_address import client_address

logger = logging.getLogger(__name__)


def _key(request, scope: str) -> str:
    # The address is kept only as a keyed hash: the cache never holds who sent what.
    digest = hashlib.blake2b(
        (client_address(request) or "unknown").encode(),
        key=settings.SECRET_KEY.encode()[:64],
        digest_size=16,
    ).hexdigest()
    return f"form-rate:{scope}:{digest}"


def form_rate_exceeded(request, scope: str) -> bool:
    """True when this address has sent FORM_RATE_LIMIT forms of this kind in the window."""
    try:
        sent = caches["shared"].get(_key(request, scope), 0)
    except Exception:
        # A person trying to reach help is not refused because the cache is down.
        logger.exception("The shared cache could not be read; the form rate limit is not applied.")
        return False
    return sent >= settings.FORM_RATE_LIMIT


def form_rate_count(request, scope: str) -> None:
    """Count one form sent from this address; the window starts with the first."""
    cache = caches["shared"]
    key = _key(request, scope)
    try:
        if not cache.add(key, 1, timeout=settings.FORM_RATE_WINDOW_SECONDS):
            cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=settings.FORM_RATE_WINDOW_SECONDS)
    except Exception:
        logger.exception("The shared cache could not be written; this form was not counted.")
