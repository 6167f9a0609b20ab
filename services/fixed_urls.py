"""Addresses that are the same on every request, reversed once per process.

reverse() looks up the URLconf, the script prefix and the active language in
thread-locals and rebuilds the path from the pattern: about 150 µs each time, and the
results page asked for the same seven addresses on every request (looking up the key
costs a tenth of that). Those addresses depend
only on the URLconf and the script prefix (the project has no translated or
language-prefixed patterns), so those two are the key of what is kept.
"""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# What a slug is replaced by to find where it goes in an address.
_SLUG_MARKER = "slug-placeholder"


def fixed_url(name: str) -> str:
    """reverse(name), for a URL that takes no arguments."""
    return _reversed(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


def around_slug(name: str) -> tuple[str, str]:
    """What comes before and after the slug in reverse(name, kwargs={"slug": ...}), for
    many addresses of one shape: `before + slug + after` (a slug needs no quoting)."""
    return _around_slug(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


# The prefix is in the key though reverse() reads it itself: a memo made under one
# prefix is not used under another.


@functools.lru_cache(maxsize=64)
def _reversed(name: str, urlconf: str, _prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


@functools.lru_cache(maxsize=64)
def _around_slug(name: str, urlconf: str, _prefix: str) -> tuple[str, str]:
    before, after = reverse(name, urlconf=urlconf, kwargs={"slug": _SLUG_MARKER}).split(
        _SLUG_MARKER
    )
    return before, after
