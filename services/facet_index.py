"""An in-memory index of what every published listing offers: results and option counts, fast.

Counting in SQL how many providers each option of each filter would give is a
COUNT(DISTINCT) over joins per option: hundreds of milliseconds each at 100,000
listings. Here each option is a boolean mask over services or providers (numpy),
so each count is a vectorised AND and a distinct count. Service options combine
per service before they are mapped to providers, so several service filters must
hold for one and the same service, exactly as the results query requires. The
same masks, with the providers' places and sort keys, give the results themselves
(services/matching.py), so a results page reads only the rows it shows.

Each process keeps one index and rebuilds it when ListingsVersion moves (every
write to listings bumps it), at most once per FACET_INDEX_MIN_AGE seconds, so a
burst of edits costs one rebuild, in a background thread; results and counts may
lag an edit by that long plus the build (10 s at 100,000 listings, about two
minutes at a million). A result read from a slightly old index is still checked
against the database when its row is read: an unpublished listing is not shown.
"""

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models.functions import Lower
from django.utils import timezone

from services import word_index
from services.models import (
    FORMAT_FIELDS,
    ListingsVersion,
    Location,
    Provider,
    Qualification,
    Service,
)

SERVICE_LIST_FILTERS = ("type", "concern", "approach", "age_group", "format")
SERVICE_FLAGS = {
    "sliding_scale": "sliding_scale",
    "free": "is_free",
    "insurance": "accepts_insurance",
}
PROVIDER_LIST_FILTERS = ("language", "gender")
PROVIDER_FLAGS = ("accepting", "verified")


@dataclass
class FacetIndex:
    version: tuple
    built_at: float
    provider_ids: np.ndarray  # ids of published providers, ascending
    service_owner: np.ndarray  # for each service, its provider's position (non-decreasing)
    service_options: dict[str, dict[str, np.ndarray]] = field(
        default_factory=dict
    )  # filter -> option -> bool[S]
    provider_options: dict[str, dict[str, np.ndarray]] = field(
        default_factory=dict
    )  # filter -> option -> bool[P]
    # filter -> option -> bool[P]: the provider has a service with that option
    provider_service_options: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    fee_min: np.ndarray | None = None  # float[S], nan when not stated
    fee_max: np.ndarray | None = None
    is_free: np.ndarray | None = None
    practising_since: np.ndarray | None = None  # float[P], nan when not stated
    online: np.ndarray | None = None  # bool[P]: has a service offered online
    # Sort orders: positions of every provider, in name order and in experience order.
    name_rank: np.ndarray | None = None  # int[P]: where each provider comes by name
    by_name: np.ndarray | None = None
    by_experience: np.ndarray | None = None
    # Services grouped by provider, for "the cheapest matching service".
    owner_starts: np.ndarray | None = None  # where each provider's group starts
    owners: np.ndarray | None = None  # the provider of each group
    # Every place with coordinates, by latitude, for "within so many km".
    place_latitude: np.ndarray | None = None
    place_longitude: np.ndarray | None = None
    place_owner: np.ndarray | None = None
    # PostgreSQL: which providers each search word is in (services/word_index.py).
    words: dict | None = None

    @property
    def providers(self) -> int:
        return len(self.provider_ids)

    @property
    def services(self) -> int:
        return len(self.service_owner)


_lock = threading.Lock()
_index: FacetIndex | None = None
_rebuilding: threading.Thread | None = None


def current_index() -> FacetIndex:
    """This process's index, rebuilt if the listings changed (and it is old enough).

    With FACET_INDEX_REBUILD_IN_BACKGROUND (the default) a changed version starts a
    rebuild in a thread and the page is answered from the index as it was: at a million
    listings a build takes over a minute, far longer than anyone should wait. Only the
    very first build, with no index to answer from, happens in the request.
    """
    global _index
    version = ListingsVersion.objects.filter(pk=1).values_list("number", "changed_at").first() or (
        0,
        None,
    )
    index = _index
    min_age = getattr(settings, "FACET_INDEX_MIN_AGE", 30)
    if index is not None and (
        index.version == version or time.monotonic() - index.built_at < min_age
    ):
        return index
    if index is not None and getattr(settings, "FACET_INDEX_REBUILD_IN_BACKGROUND", True):
        _rebuild_in_background(version)
        return index
    with _lock:
        if _index is None or _index.version != version:
            _index = build(version)
        return _index


def _rebuild_in_background(version: tuple) -> None:
    global _rebuilding
    with _lock:
        if _rebuilding is not None and _rebuilding.is_alive():
            return
        _rebuilding = threading.Thread(
            target=_rebuild, args=(version,), name="listing-index-rebuild", daemon=True
        )
        _rebuilding.start()


def _rebuild(version: tuple) -> None:
    global _index
    try:
        fresh = build(version)
        with _lock:
            if _index is None or _index.version != fresh.version:
                _index = fresh
    finally:
        # The thread's own database connection: closed, not left to the pool's timeout.
        connection.close()


def warm() -> None:
    """Build the index now (gunicorn calls this before it starts its workers)."""
    current_index()
    # The workers are forked from this process: none of its connections, nor the pool
    # holding them, may be shared with them.
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()


def forget() -> None:
    """Drop this process's index (tests, and after bulk loads in the same process)."""
    global _index
    _index = None


def build(version: tuple) -> FacetIndex:
    published = {"provider__status": Provider.Status.PUBLISHED}
    providers = list(
        Provider.objects.published()
        .order_by("pk")
        .values_list("pk", "gender__slug", "accepting_new_clients", "practising_since")
    )
    provider_ids = np.fromiter((row[0] for row in providers), dtype=np.int64, count=len(providers))
    services = list(
        Service.objects.filter(**published)
        .order_by("provider_id", "pk")
        .values_list(
            "pk",
            "provider_id",
            "support_type__slug",
            *FORMAT_FIELDS.values(),
            *SERVICE_FLAGS.values(),
            "fee_min",
            "fee_max",
        )
    )
    # Services are held grouped by provider, so the providers of any subset of them come
    # in order: counting distinct providers is counting where the provider changes.
    service_ids = np.fromiter((row[0] for row in services), dtype=np.int64, count=len(services))
    service_order = np.argsort(service_ids)
    owners = np.fromiter((row[1] for row in services), dtype=np.int64, count=len(services))
    index = FacetIndex(
        version=version,
        built_at=time.monotonic(),
        provider_ids=provider_ids,
        service_owner=np.searchsorted(provider_ids, owners),
    )
    columns = list(zip(*services, strict=True)) if services else [[] for _ in range(11)]

    def column(i: int, dtype=bool) -> np.ndarray:
        return np.array(columns[i], dtype=dtype)

    index.service_options["type"] = _options_of(column(2, object))
    index.service_options["format"] = {name: column(3 + i) for i, name in enumerate(FORMAT_FIELDS)}
    for i, name in enumerate(SERVICE_FLAGS):
        index.service_options[name] = {"1": column(6 + i)}
    index.is_free = index.service_options["free"]["1"]
    index.fee_min = np.array(
        [float("nan") if v is None else float(v) for v in columns[9]], dtype=float
    )
    index.fee_max = np.array(
        [float("nan") if v is None else float(v) for v in columns[10]], dtype=float
    )
    for name, relation, term in [
        ("concern", "concerns", "concern"),
        ("approach", "approaches", "approach"),
        ("age_group", "age_groups", "agegroup"),
    ]:
        links = getattr(Service, relation).through.objects.filter(
            service__provider__status=Provider.Status.PUBLISHED
        )
        rows = links.values_list("service_id", f"{term}__slug")
        index.service_options[name] = _link_masks(rows, service_ids, sorter=service_order)

    index.provider_options["gender"] = _options_of(
        np.array([row[1] or "" for row in providers], dtype=object)
    )
    index.provider_options["gender"].pop("", None)
    index.provider_options["accepting"] = {"1": np.array([row[2] for row in providers], dtype=bool)}
    index.practising_since = np.array(
        [float("nan") if row[3] is None else row[3] for row in providers], dtype=float
    )
    languages = Provider.languages.through.objects.filter(**published).values_list(
        "provider_id", "language__slug"
    )
    index.provider_options["language"] = _link_masks(languages, provider_ids)
    verified = (
        Qualification.objects.filter(
            kind=Qualification.Kind.LICENCE, verified_on__isnull=False, **published
        )
        .values_list("provider_id", flat=True)
        .distinct()
    )
    index.provider_options["verified"] = {"1": _positions_mask(list(verified), provider_ids)}
    index.online = offers_online(index)
    index.provider_service_options = {
        name: {option: _owners_mask(index, mask) for option, mask in options.items()}
        for name, options in index.service_options.items()
    }
    _add_orders(index)
    _add_places(index)
    if connection.vendor == "postgresql":
        index.words = word_index.build(lambda ids: positions_of(index.provider_ids, ids))
    return index


def _add_orders(index: FacetIndex) -> None:
    # Name order as the database collates it, so it reads as any other list of names does.
    by_name_ids = np.fromiter(
        Provider.objects.published().order_by(Lower("name"), "pk").values_list("pk", flat=True),
        dtype=np.int64,
    )
    index.by_name = np.searchsorted(index.provider_ids, by_name_ids)
    index.name_rank = np.empty(index.providers, dtype=np.int64)
    index.name_rank[index.by_name] = np.arange(index.providers)
    # Earliest start first, unknown last, then by name.
    started = np.where(np.isnan(index.practising_since), np.inf, index.practising_since)
    index.by_experience = np.lexsort((index.name_rank, started))
    owners = index.service_owner
    index.owner_starts = (
        np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if owners.size else owners
    )
    index.owners = owners[index.owner_starts]


def _add_places(index: FacetIndex) -> None:
    rows = list(
        Location.objects.filter(
            provider__status=Provider.Status.PUBLISHED,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .order_by("latitude", "pk")
        .values_list("provider_id", "latitude", "longitude")
    )
    columns = list(zip(*rows, strict=True)) if rows else [[], [], []]
    index.place_owner = np.searchsorted(index.provider_ids, np.array(columns[0], dtype=np.int64))
    index.place_latitude = np.array(columns[1], dtype=float)
    index.place_longitude = np.array(columns[2], dtype=float)


def _options_of(values: np.ndarray) -> dict[str, np.ndarray]:
    return {option: values == option for option in set(values.tolist())}


def positions_of(all_ids: np.ndarray, ids, sorter=None) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ids is in all_ids (ascending, or put in order by `sorter`), and
    whether it is there at all (a listing published since the index was built is not)."""
    wanted = np.asarray(ids, dtype=np.int64)
    if not len(all_ids) or not wanted.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    order = np.searchsorted(all_ids, wanted, sorter=sorter).clip(0, len(all_ids) - 1)
    positions = order if sorter is None else sorter[order]
    return positions, all_ids[positions] == wanted


def _positions_mask(ids: list[int], all_ids: np.ndarray, sorter=None) -> np.ndarray:
    """Which of all_ids are among ids."""
    mask = np.zeros(len(all_ids), dtype=bool)
    positions, known = positions_of(all_ids, ids, sorter)
    mask[positions[known]] = True
    return mask


def _link_masks(rows, all_ids: np.ndarray, sorter=None) -> dict[str, np.ndarray]:
    by_option: dict[str, list[int]] = {}
    for owner_id, option in rows:
        by_option.setdefault(option, []).append(owner_id)
    return {option: _positions_mask(ids, all_ids, sorter) for option, ids in by_option.items()}


# Selecting and counting


class Selection:
    """The criteria of one search applied to the index.

    `data` holds the valid criteria. `strict` and `online` mark the providers that match
    the search words and the place, without and with online support counting as near
    (None: every provider).
    """

    def __init__(self, index: FacetIndex, data: dict, strict=None, online=None):
        everyone = np.ones(index.providers, dtype=bool)
        self.index, self.data = index, data
        self.strict = everyone if strict is None else strict
        self.online = everyone if online is None else online
        self.scope = self.online if "online" in data.get("format", []) else self.strict
        self.service_groups = {
            name: _service_group(index, name, data[name])
            for name in (*SERVICE_LIST_FILTERS, *SERVICE_FLAGS, "max_fee")
            if name in data
        }
        self.provider_groups = {
            name: _provider_group(index, name, data[name])
            for name in (*PROVIDER_LIST_FILTERS, *PROVIDER_FLAGS, "min_years")
            if name in data
        }

    def providers_except(self, name: str | None, scope: np.ndarray) -> np.ndarray:
        mask = scope.copy()
        for other, group in self.provider_groups.items():
            if other != name:
                mask &= group
        return mask

    def services_except(self, name: str | None) -> np.ndarray:
        mask = np.ones(self.index.services, dtype=bool)
        for other, group in self.service_groups.items():
            if other != name:
                mask &= group
        return mask

    def with_matching_service(self) -> np.ndarray:
        return _owners_mask(self.index, self.services_except(None))

    def providers(self) -> np.ndarray:
        """The providers that match every criterion."""
        mask = self.providers_except(None, self.scope)
        if self.service_groups:
            mask &= self.with_matching_service()
        return mask

    def lowest_fees(self) -> np.ndarray:
        """float[P]: each provider's cheapest matching service (free is 0; nan if none states one)."""
        index = self.index
        with np.errstate(invalid="ignore"):
            fee = np.where(
                index.is_free, 0.0, np.where(np.isnan(index.fee_min), index.fee_max, index.fee_min)
            )
        fee = np.where(self.services_except(None) & ~np.isnan(fee), fee, np.inf)
        lowest = np.full(index.providers, np.inf)
        if index.owner_starts.size:
            lowest[index.owners] = np.minimum.reduceat(fee, index.owner_starts)
        lowest[np.isinf(lowest)] = np.nan
        return lowest

    def counts(self) -> dict[str, dict[str, int]]:
        """{filter: {option: providers}} for every option of every list and flag filter.

        An option's count ignores its own filter's choice.
        """
        index = self.index
        result: dict[str, dict[str, int]] = {}
        in_scope = {"strict": self.providers_except(None, self.strict)}
        # Without a place, "online" is the strict scope itself: no second pass over it.
        in_scope["online"] = (
            in_scope["strict"]
            if self.online is self.strict
            else self.providers_except(None, self.online)
        )
        in_scope["scope"] = in_scope["online" if self.scope is self.online else "strict"]
        services_in = {}  # the same, per service
        for name in (*SERVICE_LIST_FILTERS, *SERVICE_FLAGS):
            result[name] = {}
            others = [group for other, group in self.service_groups.items() if other != name]
            candidates = {}
            for option, option_mask in index.service_options.get(name, {}).items():
                # Choosing "online" also counts online services away from the place.
                if name == "format":
                    key = "online" if option == "online" else "strict"
                else:
                    key = "scope"
                if not others:
                    # No other service filter: a provider counts if any service of theirs
                    # has the option, which the index knows per provider.
                    has_option = index.provider_service_options[name][option]
                    result[name][option] = int(np.count_nonzero(has_option & in_scope[key]))
                    continue
                if key not in candidates:
                    # The services the other filters leave, once per scope: usually few.
                    if key not in services_in:
                        services_in[key] = in_scope[key][index.service_owner]
                    left = self.services_except(name) & services_in[key]
                    services = np.flatnonzero(left)
                    candidates[key] = (services, index.service_owner[services])
                services, owners = candidates[key]
                result[name][option] = _distinct(owners[option_mask[services]])
        has_matching_service = self.with_matching_service()
        for name in (*PROVIDER_LIST_FILTERS, *PROVIDER_FLAGS):
            eligible = self.providers_except(name, self.scope) & has_matching_service
            result[name] = {
                option: int(np.count_nonzero(eligible & mask))
                for option, mask in index.provider_options.get(name, {}).items()
            }
        return result


def _distinct(owners: np.ndarray) -> int:
    """How many different providers, given in order (as every subset of services is)."""
    if not owners.size:
        return 0
    return 1 + int(np.count_nonzero(owners[1:] != owners[:-1]))


def _service_group(index: FacetIndex, name: str, value) -> np.ndarray:
    if name == "max_fee":
        limit = float(value)
        with np.errstate(invalid="ignore"):
            return (
                index.is_free
                | (index.fee_min <= limit)
                | (np.isnan(index.fee_min) & (index.fee_max <= limit))
            )
    return _any_of(
        index.service_options.get(name, {}),
        ["1"] if name in SERVICE_FLAGS else value,
        index.services,
    )


def _provider_group(index: FacetIndex, name: str, value) -> np.ndarray:
    if name == "min_years":
        with np.errstate(invalid="ignore"):
            return index.practising_since <= timezone.localdate().year - value
    return _any_of(
        index.provider_options.get(name, {}),
        ["1"] if name in PROVIDER_FLAGS else value,
        index.providers,
    )


def _any_of(options: dict[str, np.ndarray], chosen, size: int) -> np.ndarray:
    """Rows with any of the chosen options (a flag is the single option "1")."""
    mask = np.zeros(size, dtype=bool)
    for option in chosen:
        if option in options:
            mask |= options[option]
    return mask


def offers_online(index: FacetIndex) -> np.ndarray:
    """Providers with at least one service offered online."""
    online = index.service_options["format"].get("online", np.zeros(index.services, dtype=bool))
    return _owners_mask(index, online)


def _owners_mask(index: FacetIndex, services: np.ndarray) -> np.ndarray:
    """The providers of these services."""
    mask = np.zeros(index.providers, dtype=bool)
    mask[index.service_owner[services]] = True
    return mask
