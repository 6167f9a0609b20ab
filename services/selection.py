"""A search's criteria applied to the listing index: its results, and what each option would give.

Sets of providers are boolean masks over the index's providers, and sets of services
masks over its services, which the index holds grouped by provider. Several service
criteria must hold for one and the same service, as in Criteria.providers (the SQL
reference). Two ways to work, chosen per search:

- Broad (no place or words, or many matches): each option's providers are also held as
  packed bits, so counting the providers of every option of a filter among the eligible
  ones is an AND and a popcount over a 64th of the words.
- Narrow (the place or words leave at most NARROW_SHARE of the listings): only those
  providers and their services are looked at, so the work grows with the matches, not
  with the directory: a search near Truro costs the same at a million listings.
"""

import numpy as np
from django.utils import timezone

from services.facet_index import (
    PROVIDER_FLAGS,
    PROVIDER_LIST_FILTERS,
    SERVICE_FLAGS,
    SERVICE_LIST_FILTERS,
    FacetIndex,
    Options,
    ServiceOptions,
    owners_of,
    pack,
)

# At most this share of the listings in scope: the narrow way.
NARROW_SHARE = 1 / 16

SERVICE_CRITERIA = (*SERVICE_LIST_FILTERS, *SERVICE_FLAGS, "max_fee")
PROVIDER_CRITERIA = (*PROVIDER_LIST_FILTERS, *PROVIDER_FLAGS, "min_years")


class Narrow:
    """A few providers (positions, ascending) and their services, grouped as in the index."""

    def __init__(self, index: FacetIndex, providers: np.ndarray):
        self.providers = providers
        starts = index.service_start[providers]
        lengths = index.service_start[providers + 1] - starts
        ends = np.cumsum(lengths)
        offsets = ends - lengths  # where each provider's services start in self.services
        # Each provider's range of services in the index, one after another.
        total = int(ends[-1]) if len(ends) else 0
        self.services = np.repeat(starts - offsets, lengths) + np.arange(total)
        # For each of those services, its provider's place in self.providers.
        self.owner = np.repeat(np.arange(len(providers)), lengths)
        has_services = lengths > 0
        self.group_starts = offsets[has_services]
        self.group_owner = np.flatnonzero(has_services)

    def owners_of(self, services: np.ndarray) -> np.ndarray:
        """bool[len(providers)]: which have one of these services (bool[len(services)])."""
        mask = np.zeros(len(self.providers), dtype=bool)
        if self.group_starts.size:
            mask[self.group_owner] = np.logical_or.reduceat(services, self.group_starts)
        return mask


class Selection:
    """The criteria of one search applied to the index.

    `data` holds the valid criteria. `strict` and `online` mark the providers that match
    the search words and the place, without and with online support counting as near
    (None: every provider).
    """

    def __init__(self, index: FacetIndex, data: dict, strict=None, online=None):
        self.index, self.data = index, data
        self.strict, self.online = strict, online
        self.scope = online if "online" in data.get("format", []) else strict
        self.provider_groups = {
            name: _provider_group(index, name, data[name])
            for name in PROVIDER_CRITERIA
            if name in data
        }
        self.service_criteria = [name for name in SERVICE_CRITERIA if name in data]
        self._narrows: dict[int, Narrow | None] = {}
        self._service_groups: dict[tuple, np.ndarray] = {}
        self._matching_service: list[np.ndarray | None] = []

    # Results

    def positions(self) -> np.ndarray:
        """The providers that match every criterion: positions in the index, ascending."""
        narrow = self._narrow(self.scope)
        if narrow is not None:
            return narrow.providers[self._eligible_narrow(narrow, None)]
        mask = _all_of([self.scope, self._providers_except(None), self._with_matching_service()])
        return np.arange(self.index.providers) if mask is None else np.flatnonzero(mask)

    def count(self) -> int:
        return len(self.positions())

    def lowest_fees(self, positions: np.ndarray) -> np.ndarray:
        """float[len(positions)]: each one's cheapest matching service (free is 0; nan if
        none states a fee)."""
        theirs = Narrow(self.index, positions)
        fee = self.index.sort_fee[theirs.services]
        matching = _all_of(
            [~np.isnan(fee)]
            + [
                _service_group(self.index, name, self.data[name], theirs.services)
                for name in self.service_criteria
            ]
        )
        fee = np.where(matching, fee, np.inf)
        lowest = np.full(len(positions), np.inf)
        if theirs.group_starts.size:
            lowest[theirs.group_owner] = np.minimum.reduceat(fee, theirs.group_starts)
        lowest[np.isinf(lowest)] = np.nan
        return lowest

    # Option counts

    def counts(self) -> dict[str, dict[str, int]]:
        """{filter: {option: providers}} for every option of every list and flag filter.

        An option's count ignores its own filter's choice.
        """
        result = {}
        for name in (*SERVICE_LIST_FILTERS, *SERVICE_FLAGS):
            options = self.index.service_options[name]
            result[name] = dict(
                zip(options.names, self._service_counts(name).tolist(), strict=True)
            )
        for name in (*PROVIDER_LIST_FILTERS, *PROVIDER_FLAGS):
            options = self.index.provider_options[name]
            result[name] = dict(
                zip(options.names, self._provider_counts(name).tolist(), strict=True)
            )
        return result

    def _service_counts(self, name: str) -> np.ndarray:
        if name != "format":
            return self._count_service_options(name, self.scope)
        # The formats count as their own filter is ignored: the strict scope. Choosing
        # "online" would also count online services away from the place.
        counts = self._count_service_options(name, self.strict)
        online = self.index.service_options[name].position.get("online")
        if online is not None and self.online is not self.strict:
            counts[online] = self._count_service_options(name, self.online)[online]
        return counts

    def _count_service_options(self, name: str, scope) -> np.ndarray:
        """For each option of a service filter: the providers in scope that meet every
        other criterion with a service that has the option and meets the other service
        criteria."""
        options: ServiceOptions = self.index.service_options[name]
        narrow = self._narrow(scope)
        others = self._services_except(name, narrow)
        if narrow is not None:
            services = self._eligible_narrow(narrow, None, services=False)[narrow.owner]
            if others is not None:
                services &= others
            kept = np.flatnonzero(services)
            return options.providers_per_option(narrow.services[kept], narrow.owner[kept])
        eligible = _all_of([scope, self._providers_except(None)])
        if others is None:
            # No other service criterion: a provider counts if any service of theirs has
            # the option, which the index holds per provider.
            return _popcounts(self.index.provider_service_options[name].bits, eligible)
        services = others if eligible is None else others & eligible[self.index.service_owner]
        kept = np.flatnonzero(services)
        return options.providers_per_option(kept, self.index.service_owner[kept])

    def _provider_counts(self, name: str) -> np.ndarray:
        options: Options = self.index.provider_options[name]
        narrow = self._narrow(self.scope)
        if narrow is not None:
            eligible = narrow.providers[self._eligible_narrow(narrow, name)]
            return options.matrix[:, eligible].sum(axis=1)
        eligible = _all_of(
            [self.scope, self._providers_except(name), self._with_matching_service()]
        )
        return _popcounts(options.bits, eligible)

    # The parts

    def _narrow(self, scope) -> Narrow | None:
        """The providers in scope, when they are few enough to look at one by one."""
        if scope is None:
            return None
        key = id(scope)
        if key not in self._narrows:
            in_scope = np.flatnonzero(scope)
            few = len(in_scope) <= NARROW_SHARE * self.index.providers
            self._narrows[key] = Narrow(self.index, in_scope) if few else None
        return self._narrows[key]

    def _providers_except(self, name: str | None) -> np.ndarray | None:
        return _all_of(group for other, group in self.provider_groups.items() if other != name)

    def _services_except(self, name: str | None, narrow: Narrow | None = None):
        """The services (all, or the narrow ones) that meet every service criterion but
        `name`'s; None when there is no such criterion."""
        return _all_of(
            self._service_group(other, narrow) for other in self.service_criteria if other != name
        )

    def _service_group(self, name: str, narrow: Narrow | None) -> np.ndarray:
        key = (name, id(narrow))
        if key not in self._service_groups:
            at = None if narrow is None else narrow.services
            self._service_groups[key] = _service_group(self.index, name, self.data[name], at)
        return self._service_groups[key]

    def _with_matching_service(self) -> np.ndarray | None:
        """The providers with a service that meets every service criterion (None: no such
        criterion)."""
        if not self._matching_service:
            services = self._services_except(None)
            self._matching_service.append(
                None if services is None else owners_of(self.index, services)
            )
        return self._matching_service[0]

    def _eligible_narrow(self, narrow: Narrow, name: str | None, *, services=True) -> np.ndarray:
        """bool over narrow.providers: every provider criterion but `name`'s and, with
        `services`, a service that meets every service criterion."""
        keep = np.ones(len(narrow.providers), dtype=bool)
        for other, group in self.provider_groups.items():
            if other != name:
                keep &= group[narrow.providers]
        matching = self._services_except(None, narrow) if services else None
        if matching is not None:
            keep &= narrow.owners_of(matching)
        return keep


def _all_of(masks) -> np.ndarray | None:
    """The AND of the masks that are not None (a new array; None if every one is None)."""
    result = None
    for mask in masks:
        if mask is None:
            continue
        if result is None:
            result = mask.copy()
        else:
            np.logical_and(result, mask, out=result)
    return result


def _popcounts(bits: np.ndarray, eligible: np.ndarray | None) -> np.ndarray:
    """For each row of packed provider bits: how many of them are eligible."""
    if eligible is not None:
        bits = bits & pack(eligible)
    return np.bitwise_count(bits).sum(axis=-1, dtype=np.int64)


def _providers_per_option(matrix: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """For each row of bool[options, services]: how many different providers have one.

    `owners` (each service's provider) is in order, as every subset of the index's
    services is, so each provider's services are neighbours.
    """
    if not owners.size:
        return np.zeros(matrix.shape[0], dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    return np.logical_or.reduceat(matrix, starts, axis=1).sum(axis=1, dtype=np.int64)


def _service_group(index: FacetIndex, name: str, value, at=None) -> np.ndarray:
    """bool over the services (all, or those at the positions `at`) that meet a criterion."""
    if name == "max_fee":
        limit = float(value)
        free, low, high = index.is_free, index.fee_min, index.fee_max
        if at is not None:
            free, low, high = free[at], low[at], high[at]
        with np.errstate(invalid="ignore"):
            return free | (low <= limit) | (np.isnan(low) & (high <= limit))
    return index.service_options[name].any_of(["1"] if name in SERVICE_FLAGS else value, at)


def _provider_group(index: FacetIndex, name: str, value) -> np.ndarray:
    if name == "min_years":
        with np.errstate(invalid="ignore"):
            return index.practising_since <= timezone.localdate().year - value
    chosen = ["1"] if name in PROVIDER_FLAGS else value
    return _any_of(index.provider_options.get(name), chosen, index.providers)


def _any_of(options: Options | None, chosen, size: int) -> np.ndarray:
    """Providers with any of the chosen options (a flag is the single option "1")."""
    rows = options.rows(chosen) if options is not None else []
    if not rows:
        return np.zeros(size, dtype=bool)
    if len(rows) == 1:
        return options.matrix[rows[0]]  # never changed: every combination copies first
    return options.matrix[rows].any(axis=0)
