"""The shortlist: listings a person saved to compare, kept in their session and nowhere else.

It holds provider ids (slugs can change when staff rename a listing), in the order they
were saved. Reading it costs nothing for someone without a session cookie: Django's
database sessions are only loaded when there is one.
"""

from urllib.parse import urlencode

from django.db.models import Q

from services.models import Provider
from services.upkeep import showing

SESSION_KEY = "shortlist"
# Enough to gather a few options; a longer list is no help in choosing.
SHORTLIST_MAX = 20
# The comparison page puts this many side by side.
COMPARE_MIN, COMPARE_MAX = 2, 4


class NotListed(Exception):
    """The listing is not published (or there is no such listing)."""


class ShortlistFull(Exception):
    """The shortlist already holds SHORTLIST_MAX listings."""


def shortlist_ids(session) -> list[int]:
    """The ids saved in this session, oldest first (anything unreadable left out)."""
    saved = session.get(SESSION_KEY) or []
    if not isinstance(saved, list):
        return []
    return [pk for pk in saved if isinstance(pk, int)]


def shortlist_add(*, session, slug: str) -> Provider:
    """Save a published listing; returns it. Raises NotListed or ShortlistFull.

    The same query checks the listing and which saved ones are still published: those
    that are not any more are dropped here, so they do not count towards the limit.
    """
    saved = shortlist_ids(session)
    rows = list(
        Provider.objects.published()
        .filter(Q(slug=slug) | Q(pk__in=saved))
        .only("pk", "slug", "name")
    )
    provider = next((row for row in rows if row.slug == slug), None)
    if provider is None:
        raise NotListed(slug)
    published = {row.pk for row in rows}
    kept = [pk for pk in saved if pk in published]
    if provider.pk not in kept:
        if len(kept) >= SHORTLIST_MAX:
            _store(session, kept)
            raise ShortlistFull(slug)
        kept.append(provider.pk)
    _store(session, kept)
    return provider


def shortlist_remove(*, session, slug: str) -> Provider | None:
    """Take a listing off the shortlist, published or not; returns it (None if unknown)."""
    provider = Provider.objects.filter(slug=slug).only("pk", "slug", "name").first()
    if provider is not None:
        saved = shortlist_ids(session)
        if provider.pk in saved:
            _store(session, [pk for pk in saved if pk != provider.pk])
    return provider


def shortlist_clear(*, session) -> None:
    session.pop(SESSION_KEY, None)


def shortlist_providers(ids: list[int]) -> list[Provider]:
    """The published ones of these listings, in the order given, each with what it says
    about taking people on (`availability`, services/upkeep/showing.py): one query."""
    if not ids:
        return []
    found = {p.pk: p for p in Provider.objects.published().filter(pk__in=ids)}
    providers = [found[pk] for pk in ids if pk in found]
    for provider in providers:
        joining = showing.newcomers((provider.card or {}).get("services", []))
        provider.availability = showing.availability(provider, joining)
    return providers


def _store(session, ids: list[int]) -> None:
    if ids:
        session[SESSION_KEY] = ids
    else:
        session.pop(SESSION_KEY, None)


# What the shortlist and the comparison keep of a search: the place, for distances, and
# what was searched for, to mark it.
KEPT_SEARCH = ("q", "near", "lat", "lng", "concern")


def kept_search(query, names=KEPT_SEARCH) -> str:
    """ "?near=Leeds&concern=grief" from a results page's query ("" if none of it): its
    values of these parameters."""
    pairs = [(name, value) for name in names for value in query.getlist(name) if value]
    return "?" + urlencode(pairs) if pairs else ""


def shortlist_status(count: int) -> str:
    if not count:
        return ""
    return f"{count} listing{'' if count == 1 else 's'} on your shortlist."
