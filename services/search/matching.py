"""The results of a search, worked out in the in-memory listing index.

Criteria.providers() in services/search/filters.py states every criterion in SQL, and stays
the reference (the tests compare the two). Asking the database for the whole result
set, its size and its order costs a scan of every match on each page view; here the
database only turns the search words into a query (services/search/word_index.py answers it;
a phrase goes to the database's full-text index) and reads the rows of the page shown.
The place, the filters, the count and every sort come from the index, so page 500
costs what page 1 does.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from django.db import connection, connections, router
from django.db.models import QuerySet

from services import geo
from services.models import Provider
from services.search import facet_index, word_index
from services.search.filters import RANK_TIER_MILLIONTHS, Criteria
from services.search.selection import Selection, run_starts
from services.search.text import parse, search_providers, tsqueries_remembered


@dataclass
class Narrowing:
    """What the words and the place decide: which providers, their rank and distance."""

    words: np.ndarray | None = None  # bool[P]
    rank: np.ndarray | None = None  # float[P]
    near: np.ndarray | None = None  # bool[P]: a place of theirs is within the radius
    # Those near, ascending, and the km to the nearest of their places within it: a
    # few thousand, kept as they are rather than spread over every listing.
    near_positions: np.ndarray | None = None
    near_km: np.ndarray | None = None
    # The place and radius that `near` is for, so a changed search can reuse it.
    near_of: tuple | None = None

    def strict(self) -> np.ndarray | None:
        return _both(self.words, self.near)

    def strict_positions(self) -> np.ndarray | None:
        """The providers of strict(), when they are known without a pass over all."""
        return self.near_positions if self.words is None else None

    def distance_of(self, positions: np.ndarray) -> np.ndarray | None:
        """float[len(positions)]: km to each one's nearest place within the radius (nan:
        none, as for online support away from the place); None without a place."""
        if self.near_positions is None:
            return None
        if not len(self.near_km):
            return np.full(len(positions), np.nan)
        if len(positions) == len(self.near_positions) and np.array_equal(
            positions, self.near_positions
        ):
            return self.near_km  # every one near (a place alone): no search needed
        at = np.searchsorted(self.near_positions, positions).clip(0, len(self.near_km) - 1)
        return np.where(self.near_positions[at] == positions, self.near_km[at], np.nan)

    def online(self, index: facet_index.FacetIndex) -> np.ndarray | None:
        """As strict(), with every provider that works online counting as near."""
        if self.near is None:
            return self.strict()
        return _both(self.words, self.near | index.online)


def narrowing(
    index: facet_index.FacetIndex,
    criteria: Criteria,
    base: QuerySet,
    *,
    earlier: Narrowing | None = None,
    words: "WordRows | None" = None,
) -> Narrowing:
    """The words' and place's part of a search. `earlier`, the narrowing of a search
    this one changes, lends its word matches and its place's, where they are the same;
    `words`, the database's matches, asked once for every part of the index."""
    found = Narrowing()
    if criteria.data.get("q"):
        if earlier is not None and earlier.words is not None:
            found.words, found.rank = earlier.words, earlier.rank
        else:
            words = words if words is not None else WordRows(base)
            found.words, found.rank = word_matches(index, words, criteria.data["q"])
    if criteria.place:
        # A place criterion chosen (step-free access): only the places that meet it.
        meeting = tuple(name for name in facet_index.PLACE_CRITERIA if name in criteria.data)
        found.near_of = (criteria.place, criteria.radius_km, meeting)
        if earlier is not None and earlier.near_of == found.near_of:
            found.near_positions, found.near_km = earlier.near_positions, earlier.near_km
            found.near = earlier.near
        else:
            found.near_positions, found.near_km, found.near = places_near(
                index, criteria.place, criteria.radius_km, meeting
            )
    return found


class WordRows:
    """The ids and ranks of the providers the database finds for some words, asked once."""

    def __init__(self, base: QuerySet):
        self.base, self.asked = base, {}

    def __call__(self, q: str) -> tuple[np.ndarray, np.ndarray]:
        if q not in self.asked:
            rows = search_providers(self.base, q).queryset.order_by().values_list("pk", "rank")
            self.asked[q] = _columns(list(rows))
        return self.asked[q]


def word_matches(
    index: facet_index.FacetIndex, rows: WordRows, q: str
) -> tuple[np.ndarray, np.ndarray]:
    """Which providers the words match, and how well: one query (none when the same
    words came lately)."""
    if index.words is not None and parse(q):
        try:
            return word_index.match(index.words, index.providers, tsqueries_remembered(q))
        except word_index.NeedsPositions:
            pass  # a phrase: the database answers
    ids, ranks = rows(q)
    positions, known = facet_index.positions_of(index.provider_ids, ids)
    mask = np.zeros(index.providers, dtype=bool)
    mask[positions[known]] = True
    rank = np.zeros(index.providers)
    rank[positions[known]] = ranks[known]
    return mask, rank


def places_near(
    index: facet_index.FacetIndex, place: geo.Place, radius_km: float, meeting=()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Providers with a place within radius_km (that meets each place criterion named in
    `meeting`): their positions (ascending), the distance to the nearest of those places,
    and bool[P] marking them."""
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(
        place.latitude, place.longitude, radius_km
    )
    # The box's places: in each band of latitude it crosses, a slice of longitudes.
    bands = np.arange(facet_index.place_band(min_lat), facet_index.place_band(max_lat) + 1)
    starts = np.searchsorted(index.place_key, bands * 360.0 + (min_lng + 180.0), side="left")
    stops = np.searchsorted(index.place_key, bands * 360.0 + (max_lng + 180.0), side="right")
    # Band by band, so that the box's places are read as slices, not gathered.
    owners, km = [np.zeros(0, dtype=np.intp)], [np.zeros(0)]
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        if start < stop:
            band_km = geo.distances_from(
                place.latitude,
                place.longitude,
                index.place_sin_lat[start:stop],
                index.place_cos_lat[start:stop],
                index.place_lng_radians[start:stop],
            )
            within = band_km <= float(radius_km)
            for name in meeting:
                within &= index.place_meets[name][start:stop]
            owners.append(index.place_owner[start:stop][within])
            km.append(band_km[within])
    owners, km = np.concatenate(owners), np.concatenate(km)
    # Each provider once, at their nearest place. Provider and distance make one whole
    # number, so one sort of plain integers puts the places in provider order and each
    # provider's nearest first. Among a million listings, for the 30,000 places within
    # 10 km of Leeds, that took a quarter of the time of the least distance per provider
    # in an array over every provider, and a fifth of sorting by provider (argsort) and
    # gathering; for the 190,000 within 25 km of London, about the same as the first.
    key = owners.astype(np.uint64) << _KM_BITS | np.rint(km * 1e9).astype(np.uint64)
    key.sort()
    owners = (key >> _KM_BITS).astype(np.intp)
    starts = run_starts(owners)
    positions = owners[starts]
    nearest = (key[starts] & _KM_MASK) / 1e9
    near = np.zeros(index.providers, dtype=bool)
    near[positions] = True
    return positions, nearest, near


# The low 40 bits of the key hold the distance in micrometres (up to 1,099 km, beyond
# RADIUS_MAX_KM); the 24 above them, the provider's position (up to 16 million listings).
_KM_BITS = np.uint64(40)
_KM_MASK = np.uint64((1 << 40) - 1)


@dataclass
class Ordered:
    """The results and their order, sorted only as far as a page needs.

    `key` (one unique whole number per result, smaller first) is set for the orders
    worked out per search; sorting a third of a million listings by rank for a page
    of twenty is wasted work, so the first pages take a partial sort (argpartition).
    Without a key, `positions` are in order already.
    """

    positions: np.ndarray
    key: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, page: slice) -> np.ndarray:
        if self.key is None:
            return self.positions[page]
        stop = len(self) if page.stop is None else min(page.stop, len(self))
        if stop <= 0:
            return self.positions[:0]
        if stop < len(self):
            first = np.argpartition(self.key, stop - 1)[:stop]
        else:
            first = np.arange(len(self))
        first = first[np.argsort(self.key[first])]
        return self.positions[first][page]


# Results of more than this share of the listings are taken in the index's name or
# experience order; fewer are sorted (a partial sort, as far as the page shown).
PRESORTED_SHARE = 1 / 8

# Unknown fees sort after every real one (in pence), unknown distances after every real
# one (in millimetres: farther than the other side of the Earth).
NO_FEE = 10**10
UNKNOWN_DISTANCE = 10**11
# Best match with a place: a tier of rank, then metres (unknown, as online, last).
UNKNOWN_METRES = 10**8
TIER_SPAN = 10**9


def selection(
    index: facet_index.FacetIndex, criteria: Criteria, found: Narrowing, alive=None
) -> Selection:
    """The search's criteria applied to the index, within what the words and place leave
    and, in a full index, among the listings that have not changed since (`alive`)."""
    strict_positions = found.strict_positions()
    if alive is not None and strict_positions is not None:
        strict_positions = strict_positions[alive[strict_positions]]
    return Selection(
        index,
        criteria.data,
        _both(found.strict(), alive),
        _both(found.online(index), alive),
        strict_positions,
    )


def ordered(
    index: facet_index.FacetIndex, criteria: Criteria, found: Narrowing, chosen: Selection
) -> Ordered:
    """The results (positions into index.provider_ids), in the order the page lists them.

    Each order ends with the name and then the id, as Criteria.ordering() does.
    """
    positions = chosen.positions()
    sort = criteria.sort()
    if sort in ("name", "experience"):
        if len(positions) > PRESORTED_SHARE * index.providers:
            # Many: the index's own order, without the ones that do not match.
            order = index.by_name if sort == "name" else index.by_experience
            matching = np.zeros(index.providers, dtype=bool)
            matching[positions] = True
            return Ordered(order[matching[order]])
        ranks = index.name_rank if sort == "name" else index.experience_rank
        return Ordered(positions, key=ranks[positions])
    first = _firsts(index, sort, found, chosen, positions)
    return Ordered(positions, key=first * max(index.providers, 1) + index.name_rank[positions])


def _firsts(index, sort: str, found: Narrowing, chosen: Selection, positions) -> np.ndarray:
    """What each result is ordered by before its name: whole numbers, smaller first."""
    if sort == "name":
        return np.zeros(len(positions), dtype=np.int64)
    if sort == "experience":
        # The year they started; unknown last.
        since = index.practising_since[positions]
        return np.where(np.isnan(since), NO_FEE, np.nan_to_num(since)).astype(np.int64)
    if sort == "distance":
        # In whole millimetres (places closer than that are one place to anyone), then by
        # name; unknown (nan: online, away from the place) comes last.
        km = found.distance_of(positions)
        first = np.where(np.isnan(km), UNKNOWN_DISTANCE, np.round(np.nan_to_num(km) * 1e6))
        return first.astype(np.int64)
    if sort == "relevance":
        # Ranks to a millionth, best first; the name below them makes each key unique.
        micro = np.round(found.rank[positions] * 1e6)
        km = found.distance_of(positions)
        if km is None:
            return -micro.astype(np.int64)
        # With a place: by tier of rank (filters.match_tier), then the nearest, to a metre.
        tier = np.floor(micro / RANK_TIER_MILLIONTHS)
        metres = np.where(np.isnan(km), UNKNOWN_METRES, np.round(np.nan_to_num(km) * 1000))
        return (-tier * TIER_SPAN + metres).astype(np.int64)
    if sort == "recommended":
        return -index.recommendations[positions]
    # fee, in pence
    fees = chosen.lowest_fees(positions)
    return np.where(np.isnan(fees), NO_FEE, np.round(np.nan_to_num(fees) * 100)).astype(np.int64)


class Part:
    """A search in one of a listing index's parts (services/search/listing_index.py)."""

    def __init__(self, index, alive, criteria: Criteria, base, earlier=None, words=None):
        self.index, self.alive, self.criteria = index, alive, criteria
        self.found = narrowing(index, criteria, base, earlier=earlier, words=words)
        self.chosen = selection(index, criteria, self.found, alive)

    def count(self) -> int:
        return self.chosen.count()

    @cached_property
    def ordered(self) -> Ordered:
        return ordered(self.index, self.criteria, self.found, self.chosen)

    def merge_keys(self, positions: np.ndarray) -> list[tuple]:
        """(what it is ordered by, lowered name, id) of each of these results: the same
        in every part, so that the parts' results merge into one order."""
        firsts = _firsts(self.index, self.criteria.sort(), self.found, self.chosen, positions)
        return list(
            zip(
                firsts.tolist(),
                self.index.name_keys[positions].tolist(),
                self.index.provider_ids[positions].tolist(),
                strict=True,
            )
        )


def parts(live, criteria: Criteria, base: QuerySet, *, earlier=None) -> list[Part]:
    """The search in each part of the listing index `live`. `earlier`, the parts of a
    search this one changes, lend their word and place matches where they are the same."""
    words = WordRows(base)
    return [
        Part(index, alive, criteria, base, None if earlier is None else earlier[n].found, words)
        for n, (index, alive) in enumerate(live.parts)
    ]


def results(live, criteria: Criteria, base: QuerySet) -> "ResultList":
    """The results of a search, ready for a paginator; `.parts` keep the words' matches."""
    return ResultList(parts(live, criteria, base))


def count(live, criteria: Criteria, base: QuerySet, *, earlier=None) -> int:
    return sum(part.count() for part in parts(live, criteria, base, earlier=earlier))


class Selections:
    """The option counts of a search over every part of the index."""

    def __init__(self, searched: list[Part]):
        self.searched = searched

    def counts(self) -> dict[str, dict[str, int]]:
        total: dict[str, dict[str, int]] = {}
        for part in self.searched:
            for name, options in part.chosen.counts().items():
                into = total.setdefault(name, {})
                for option, n in options.items():
                    into[option] = into.get(option, 0) + n
        criteria = self.searched[0].criteria
        if criteria.place:
            # A place criterion changes which places are near: what ticking it gives is
            # a search of its own (with the same words, so no query).
            for name in facet_index.PLACE_CRITERIA:
                ticked = Criteria({**criteria.data, name: True}, place=criteria.place)
                total[name] = {
                    "1": sum(
                        Part(part.index, part.alive, ticked, None, part.found).count()
                        for part in self.searched
                    )
                }
        return total


class ResultList:
    """The ordered results as a paginator wants them: a length, and slices of rows.

    A slice reads just those rows, in one query, and notes on each what the card shows
    about this search (distance, rank). `selection` is kept for the option counts, which
    start from the same work.
    """

    def __init__(self, searched: list[Part]):
        self.parts = searched
        self.selection = Selections(searched)

    @cached_property
    def _count(self) -> int:
        return sum(len(part.ordered) for part in self.parts)

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self.count()

    def _page(self, page: slice) -> list[tuple[int, int]]:
        """(part, position) of the results on this slice."""
        if len(self.parts) == 1:
            return [(0, p) for p in np.asarray(self.parts[0].ordered[page]).tolist()]
        # Each part's first results as far as the page, merged.
        stop = self.count() if page.stop is None else min(page.stop, self.count())
        rows = []
        for number, part in enumerate(self.parts):
            positions = np.asarray(part.ordered[slice(0, stop)])
            keys = part.merge_keys(positions)
            rows.extend(zip(keys, [number] * len(keys), positions.tolist(), strict=True))
        rows.sort()
        return [(number, position) for _, number, position in rows[page]]

    def __getitem__(self, page: slice) -> list["Listed"]:
        shown = self._page(page)
        ids = [int(self.parts[n].index.provider_ids[p]) for n, p in shown]
        rows = card_rows(ids)
        listed = []
        for (number, position), pk in zip(shown, ids, strict=True):
            row = rows.get(pk)
            if row is None:
                continue  # unpublished since the index was built
            found = self.parts[number].found
            at = np.array([position])
            row.distance_km = _value(found.distance_of(at), 0)
            row.rank = None if found.rank is None else _value(found.rank[at], 0)
            listed.append(row)
        return listed


class Listed:
    """A result: what its card reads from the row (the rest is in the stored card)."""

    def __init__(
        self, pk, slug, name, accepting_new_clients, practising_since, recommendations, card
    ):
        self.pk, self.slug, self.name = pk, slug, name
        self.accepting_new_clients, self.practising_since = accepting_new_clients, practising_since
        self.recommendations_approved = recommendations
        self.card = card
        self.distance_km = self.rank = None


_card_field = Provider._meta.get_field("card")


def card_rows(ids: list[int]) -> dict[int, Listed]:
    """{id: Listed} of those of these providers that are published now (the index may be
    a few seconds behind an unpublishing). In SQL: the ORM's building the query and its
    model instances cost four times the query itself, on every results page."""
    if not ids:
        return {}
    placeholders = ", ".join(["%s"] * len(ids))
    with connections[router.db_for_read(Provider)].cursor() as cursor:
        cursor.execute(
            "SELECT id, slug, name, accepting_new_clients, practising_since,"
            " recommendations_approved, card"
            f" FROM {Provider._meta.db_table} WHERE status = %s AND id IN ({placeholders})",
            [Provider.Status.PUBLISHED, *ids],
        )
        rows = cursor.fetchall()
    return {
        row[0]: Listed(*row[:6], _card_field.from_db_value(row[6], None, connection))
        for row in rows
    }


def _value(values: np.ndarray | None, position: int) -> float | None:
    if values is None or np.isnan(values[position]):
        return None
    return float(values[position])


def _columns(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ids, ranks = zip(*rows, strict=True)
    return np.array(ids, dtype=np.int64), np.array(ranks, dtype=float)


def _both(first, second):
    if first is None:
        return second
    return first if second is None else first & second
