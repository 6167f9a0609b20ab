"""A search's criteria applied to the listing index: its results, and what each option would give.

Sets of providers are boolean masks over the index's providers, and sets of services
masks over its services, which the index holds grouped by provider. Several service
criteria must hold for one and the same service, as in Criteria.providers (the SQL
reference). The work is kept to the providers that can match:

- A search whose place or words leave few providers (at most NARROW_SHARE of the
  listings) looks at those providers one by one, so its cost grows with the matches,
  not with the directory: a search near Truro costs the same at a million listings.
  Of those, only the ones that offer every service criterion (all but one, for the
  counts) have their services read, and a filter with no other service criterion
  counts from a word per provider, without reading services at all.
- Otherwise the provider criteria and each service criterion first narrow the
  providers by what the index holds per provider ("has a service with this option"):
  necessary, and exact for the providers with one service, five in six of them. Only
  those left with several services have their services checked together; if even they
  are many, the services of every provider with several are, in one block.
- The options of a few providers' services are gathered from the index once
  (Narrow.word()), however many criteria and counts read them: at a million listings,
  gathering was most of the work.
- Counting the providers of every option of a filter among many is an AND and a
  popcount over packed bits, a 64th of the words; so is the one count over every
  provider that a search near a place needs (those working online, anywhere).
- Every service filter's counts come from one set of services: a filter's options
  count among the services that meet every other criterion, so a service that fails
  one chosen criterion still counts for that filter (_counted_services()).
"""

from functools import cached_property

import numpy as np
from django.utils import timezone

from services.search.facet_index import (
    PROVIDER_FLAGS,
    PROVIDER_LIST_FILTERS,
    SERVICE_FLAGS,
    SERVICE_LIST_FILTERS,
    FacetIndex,
    Options,
    ProvidersPerBit,
    pack,
)

# At most this share of the listings: looked at one by one.
NARROW_SHARE = 1 / 16
# Providers with several services, left to check after the others are settled: at most
# this share of the listings are looked at one by one; more, and all of them together.
SEVERAL_NARROW_SHARE = 1 / 64

EVERY_BIT = np.iinfo(np.uint64).max

SERVICE_CRITERIA = (*SERVICE_LIST_FILTERS, *SERVICE_FLAGS, "max_fee")
PROVIDER_CRITERIA = (*PROVIDER_LIST_FILTERS, *PROVIDER_FLAGS, "min_years")


class Among:
    """Some providers (a mask over the index's; None: every one), and what a search has
    worked out about them, kept with them: whether they are few, their positions, their
    services, their counts."""

    def __init__(self, mask: np.ndarray | None, positions: np.ndarray | None = None):
        self.mask = mask
        self.positions = positions  # ascending, when known without a pass over the mask
        self.worked: dict[tuple, object] = {}


class Narrow:
    """A few providers (positions, ascending) and their services, grouped as in the index."""

    def __init__(self, index: FacetIndex, providers: np.ndarray):
        self.providers = providers
        # The index's arrays, not the index: the index keeps one Narrow (several_block())
        # and a cycle would keep an old index alive after a rebuild, until a full collection.
        self._service_start, self._service_count = index.service_start, index.service_count
        self._words: dict[int, np.ndarray] = {}
        self._fees: np.ndarray | None = None
        # Which of these services meet sets of criteria, by the criteria's names: kept by
        # the Selection that made this Narrow, for its own criteria.
        self.meeting: dict[tuple, np.ndarray] = {}

    @cached_property
    def _layout(self) -> tuple[np.ndarray, np.ndarray]:
        # Worked out when first asked: a search with no service criterion never needs it.
        starts = self._service_start[self.providers]
        lengths = self._service_count[self.providers]
        ends = np.cumsum(lengths, dtype=np.int64)
        offsets = ends - lengths  # where each provider's services start in self.services
        # Each provider's range of services in the index, one after another.
        total = int(ends[-1]) if len(ends) else 0
        services = np.repeat(starts - offsets, lengths) + np.arange(total)
        # For each of those services, its provider's place in self.providers.
        owner = np.repeat(np.arange(len(self.providers)), lengths)
        return services, owner

    @property
    def services(self) -> np.ndarray:
        """These providers' services: positions in the index, ascending."""
        return self._layout[0]

    @property
    def owner(self) -> np.ndarray:
        """For each of self.services, its provider's place in self.providers."""
        return self._layout[1]

    @cached_property
    def service_providers(self) -> np.ndarray:
        """For each of these services, its provider's position in the index."""
        return self.providers[self.owner]

    def word(self, index: FacetIndex, number: int) -> np.ndarray:
        """Word `number` of index.service_bits at these services: taken once, however
        many criteria ask (gathering from every service's words is most of the work)."""
        if number not in self._words:
            self._words[number] = index.service_bits.words[number][self.services]
        return self._words[number]

    def fees(self, index: FacetIndex) -> np.ndarray:
        """index.sort_fee at these services."""
        if self._fees is None:
            self._fees = index.sort_fee[self.services]
        return self._fees

    def owners_of(self, services: np.ndarray) -> np.ndarray:
        """bool[len(providers)]: which have one of these services (bool[len(services)])."""
        # Each marked service's owner, marked: an OR over each provider's run
        # (reduceat) costs about 18 ns a provider, 2.7 ms for the 150,000 with several
        # services among a million listings, against 0.2 to 0.9 ms.
        mask = np.zeros(len(self.providers), dtype=bool)
        mask[self.owner[np.flatnonzero(services)]] = True
        return mask


class Selection:
    """The criteria of one search applied to the index.

    `data` holds the valid criteria. `strict` and `online` mark the providers that match
    the search words and the place, without and with online support counting as near
    (None: every provider); `strict_positions`, if known, are strict's providers.
    """

    def __init__(
        self, index: FacetIndex, data: dict, strict=None, online=None, strict_positions=None
    ):
        self.index, self.data = index, data
        self.strict = Among(strict, strict_positions)
        self.online = self.strict if online is strict else Among(online)
        self.scope = self.online if "online" in data.get("format", []) else self.strict
        self.provider_groups = {
            name: _provider_group(index, name, data[name])
            for name in PROVIDER_CRITERIA
            if name in data
        }
        self.service_criteria = [name for name in SERVICE_CRITERIA if name in data]
        self._service_groups: dict[tuple, np.ndarray] = {}  # over every service
        self._block_groups: dict[tuple, np.ndarray] = {}  # over several_block()'s
        self._offering: dict[str, np.ndarray] = {}
        self._meeting_providers: dict[str | None, np.ndarray | None] = {}
        self._owning: np.ndarray | None = None  # see _with_one_service()
        self._provider_per_bit: dict[str | None, np.ndarray] = {}

    # Results

    def positions(self) -> np.ndarray:
        """The providers that match every criterion: positions in the index, ascending."""
        narrow = self._narrow_offering(self.scope, 0)
        if narrow is not None:
            return narrow.providers[self._eligible_narrow(narrow, None)]
        mask = self._meeting_all_but(None)
        return np.arange(self.index.providers) if mask is None else np.flatnonzero(mask)

    def count(self) -> int:
        """len(positions()), without listing them (a pass over every provider at most)."""
        narrow = self._narrow_offering(self.scope, 0)
        if narrow is not None:
            return int(np.count_nonzero(self._eligible_narrow(narrow, None)))
        mask = self._meeting_all_but(None)
        return self.index.providers if mask is None else int(np.count_nonzero(mask))

    def lowest_fees(self, positions: np.ndarray) -> np.ndarray:
        """float[len(positions)]: each one's cheapest matching service (free is 0; nan if
        none states a fee)."""
        theirs = Narrow(self.index, positions)
        fee = self.index.sort_fee[theirs.services]
        criteria = [(name, self.data[name]) for name in self.service_criteria]
        matching = _all_of([~np.isnan(fee), _meeting_criteria(self.index, criteria, theirs)])
        fee = np.where(matching, fee, np.inf)
        lowest = np.full(len(positions), np.inf)
        starts = run_starts(theirs.owner)  # each provider's services, one run each
        if starts.size:
            lowest[theirs.owner[starts]] = np.minimum.reduceat(fee, starts)
        lowest[np.isinf(lowest)] = np.nan
        return lowest

    # Option counts

    def counts(self) -> dict[str, dict[str, int]]:
        """{filter: {option: providers}} for every option of every list and flag filter.

        An option's count ignores its own filter's choice.
        """
        result = {}
        for name in (*SERVICE_LIST_FILTERS, *SERVICE_FLAGS):
            names = self.index.service_bits.names[name]
            result[name] = dict(zip(names, self._service_counts(name).tolist(), strict=True))
        for name in (*PROVIDER_LIST_FILTERS, *PROVIDER_FLAGS):
            names = self.index.provider_options[name].names
            result[name] = dict(zip(names, self._provider_counts(name).tolist(), strict=True))
        return result

    def _service_counts(self, name: str) -> np.ndarray:
        if name != "format":
            return self._count_service_options(name, self.scope)
        # The formats count as their own filter is ignored: the strict scope. Choosing
        # "online" would also count online services away from the place.
        counts = self._count_service_options(name, self.strict)
        names = self.index.service_bits.names[name]
        online = names.index("online") if "online" in names else None
        if online is not None and self.online is not self.strict:
            counts[online] = self._option_count(name, "online", self.online)
        return counts

    def _count_service_options(self, name: str, scope) -> np.ndarray:
        """For each option of a service filter: the providers in scope that meet every
        other criterion with a service that has the option and meets the other service
        criteria."""
        others = tuple(other for other in self.service_criteria if other != name)
        if not others:
            # No other service criterion: a provider counts if any service of theirs has
            # the option, which the index holds per provider.
            if self._scope_positions(scope) is not None:
                return self._per_provider_bit(scope).option_counts(name)
            candidates = _all_of([scope.mask, self._providers_except(None)])
            return _popcounts(self.index.provider_service_options[name].bits, candidates)
        return self._providers_per_bit(scope).option_counts(name)

    def _option_count(self, name: str, option: str, scope) -> int:
        """What _count_service_options() gives for one option alone, without counting
        every other option on the way (the online count of a search near a place looks
        at every provider who works online, anywhere).

        In packed bits, a 64th of the words of the masks over every provider: at a
        million listings the masks' ANDs were most of the work of a search near a small
        town."""
        index = self.index
        others = tuple(other for other in self.service_criteria if other != name)
        candidates = _all_of(
            [pack(scope.mask) if scope.mask is not None else None]
            + [self._packed_provider_group(other) for other in self.provider_groups]
            + [self._packed_offering(name, [option])]
            + [self._packed_offering(other) for other in others]
        )
        if not others:
            # What the index holds per provider is exact for one criterion alone.
            return int(np.bitwise_count(candidates).sum())
        several = candidates & index.several_packed
        with_several = int(np.bitwise_count(several).sum())
        # Those with one service are settled: they offer every criterion with it.
        settled = int(np.bitwise_count(candidates).sum()) - with_several
        also = (name, [option])
        if with_several <= SEVERAL_NARROW_SHARE * index.providers:
            # Few: their services, one by one.
            narrow = Narrow(index, _set_positions(several))
            meeting = self._services_meeting_criteria(others, narrow, also=also)
            return settled + int(np.count_nonzero(narrow.owners_of(meeting)))
        # Many: the services of every provider with several (in the index's order) that
        # meet every criterion, their providers (ascending), those among the candidates,
        # each counted once.
        block = several_block(index)
        theirs = block.service_providers[self._services_meeting_criteria(others, block, also=also)]
        theirs = theirs[_bits_at(several, theirs)]
        return settled + len(run_starts(theirs))

    def _packed_offering(self, name: str, chosen=None) -> np.ndarray:
        """_offering_providers(), as packed bits."""
        if name == "max_fee":
            return pack(self._offering_providers(name))
        if chosen is None:
            chosen = ["1"] if name in SERVICE_FLAGS else self.data[name]
        return _packed_any_of(self.index.provider_service_options[name], chosen)

    def _packed_provider_group(self, name: str) -> np.ndarray:
        """provider_groups[name], as packed bits."""
        if name == "min_years":
            return pack(self.provider_groups[name])
        chosen = ["1"] if name in PROVIDER_FLAGS else self.data[name]
        return _packed_any_of(self.index.provider_options[name], chosen)

    def _per_provider_bit(self, scope) -> ProvidersPerBit:
        """For the few providers in scope that meet every provider criterion: how many have
        a service with each option, from the index's word per provider (the OR of their
        services' words), without reading the services."""
        if "per provider" not in scope.worked:
            eligible = self._scope_positions(scope)
            words = self.index.provider_service_words
            scope.worked["per provider"] = ProvidersPerBit(
                self.index.service_bits,
                eligible,
                np.arange(len(eligible)),  # one "service" each: the provider's word
                lambda number: words[number][eligible],
            )
        return scope.worked["per provider"]

    def _providers_per_bit(self, scope) -> ProvidersPerBit:
        """The providers per bit among _counted_services(): every service filter's
        counts from one set of services, each byte of the word counted once."""
        if "per bit" not in scope.worked:
            services, starts, word = self._counted_services(scope)
            scope.worked["per bit"] = ProvidersPerBit(
                self.index.service_bits, services, starts, word
            )
        return scope.worked["per bit"]

    def _counted_services(self, scope):
        """The services that count towards some service filter's options, of the providers
        in scope that meet every provider criterion: their positions (ascending), where
        each provider's run of them starts, and word(number) giving their words with only
        the bits they count for.

        A filter's options count among the services that meet every other criterion. So
        a service that meets every chosen criterion counts for every filter, one that
        fails just one chosen filter counts for that filter's options alone (its word
        keeps only their bits), and one that fails more counts for none. One set of
        services serves every filter, where a set for each chosen filter and one for the
        rest took up to three times as long."""
        index, criteria = self.index, self.service_criteria
        # The filters whose own choice may fail: those counted here (with several service
        # criteria; one chosen alone is counted per provider).
        countable = [c for c in criteria if c != "max_fee" and len(criteria) > 1]
        narrow = self._narrow_offering(scope, 1 if countable else 0)
        if narrow is None:
            candidates = _all_of([scope.mask, self._providers_except(None)])
            if criteria:
                # Offering every criterion but the one that may fail: necessary.
                offered = np.zeros(index.providers, dtype=np.uint8)
                for c in criteria:
                    offered += self._offering_providers(c)
                enough = offered >= len(criteria) - (1 if countable else 0)
                candidates = enough if candidates is None else candidates & enough
            narrow = self._narrow(Among(candidates))
            if narrow is None:
                # Many candidates: every service is checked.
                eligible = None if candidates is None else candidates[index.service_owner]
            else:
                eligible = None  # the candidates meet every provider criterion already
        else:
            eligible = self._eligible_narrow(narrow, None, services=False)[narrow.owner]
        met = [self._services_meeting_criteria((c,), narrow) for c in criteria]
        # For each service, the criterion it fails (its place in `criteria`), or len(criteria)
        # if none; services that fail more, or one not counted here, are dropped.
        size = index.services if narrow is None else len(narrow.services)
        failed = np.full(size, len(criteria), dtype=np.int8)
        dropped = np.zeros(size, dtype=bool) if eligible is None else ~eligible
        for place, (name, meets) in enumerate(zip(criteria, met, strict=True)):
            fails = ~meets
            if name in countable:
                dropped |= fails & (failed != len(criteria))  # a second failure
                np.putmask(failed, fails, place)
            else:
                dropped |= fails
        kept = np.flatnonzero(~dropped)
        failed = failed[kept]
        everywhere = narrow is None
        positions = kept if everywhere else narrow.services[kept]
        owners = index.service_owner[kept] if everywhere else narrow.owner[kept]
        bits = index.service_bits

        def word(number: int) -> np.ndarray:
            allowed = np.array(
                [bits.filter_bits(c, number) for c in criteria] + [EVERY_BIT],
                dtype=np.uint64,
            )
            words = bits.words[number][kept] if everywhere else narrow.word(index, number)[kept]
            return words & allowed[failed]

        return positions, run_starts(owners), word

    def _provider_counts(self, name: str) -> np.ndarray:
        options: Options = self.index.provider_options[name]
        # Filters whose own criterion is not chosen count among the same providers; a
        # chosen one's count ignores its own criterion, so among all in scope.
        key = name if name in self.provider_groups else None
        narrow = self._narrow_offering(self.scope, 0, every_provider_criterion=key is None)
        if narrow is not None:
            if key not in self._provider_per_bit:
                eligible = narrow.providers[self._eligible_narrow(narrow, key)]
                self._provider_per_bit[key] = self.index.provider_bits.per_bit(eligible)
            return self.index.provider_bits.option_counts(name, self._provider_per_bit[key])
        eligible = self._meeting_all_but(name)
        return _popcounts(options.bits, eligible)

    # The parts

    def _few(self, providers: Among, share=None) -> np.ndarray | None:
        """The positions of these providers, when they are few enough to be looked at one
        by one (at most this share of the listings; NARROW_SHARE unless given); else None."""
        if providers.mask is None:
            return None
        share = NARROW_SHARE if share is None else share
        key = ("few", share)
        if key not in providers.worked:
            known = providers.positions
            many = len(known) if known is not None else np.count_nonzero(providers.mask)
            positions = None
            if many <= share * self.index.providers:
                # Counting first: listing them takes a pass fifteen times as long.
                positions = known if known is not None else np.flatnonzero(providers.mask)
            providers.worked[key] = positions
        return providers.worked[key]

    def _narrow(self, providers: Among, share=None) -> Narrow | None:
        """These providers and their services, one by one, when they are few enough (see
        _few())."""
        key = ("narrow", share)
        if key not in providers.worked:
            positions = self._few(providers, share)
            providers.worked[key] = None if positions is None else Narrow(self.index, positions)
        return providers.worked[key]

    def _scope_positions(self, scope: Among, every_provider_criterion=True) -> np.ndarray | None:
        """The providers in scope that meet every provider criterion (with
        `every_provider_criterion`), when they are few enough to look at one by one (see
        _few()): positions, ascending; else None. With a rare language chosen they are
        few even with no place."""
        if not every_provider_criterion:
            return self._few(scope)
        if "in scope" not in scope.worked:
            positions = self._few(scope)
            if positions is not None:
                for group in self.provider_groups.values():
                    positions = positions[group[positions]]
            elif self.provider_groups:
                positions = self._few(Among(_all_of([scope.mask, self._providers_except(None)])))
            scope.worked["in scope"] = positions
        return scope.worked["in scope"]

    def _narrow_offering(
        self, scope: Among, missing: int, every_provider_criterion=True
    ) -> Narrow | None:
        """The providers of _scope_positions() and their services, one by one, but only
        those that offer (have a service that meets) every service criterion but at most
        `missing` of them: the others can neither match (with `missing` 0) nor count
        towards an option (with 1, see _counted_services()). Near a city, the providers
        of a kind of support for a concern are a few in a hundred of those there: their
        services are all that is looked at. None: they are many."""
        positions = self._scope_positions(scope, every_provider_criterion)
        if positions is None:
            return None
        criteria = self.service_criteria
        missing = min(missing, len(criteria))
        key = ("offering", missing, every_provider_criterion)
        if key not in scope.worked:
            if missing < len(criteria):
                # How many of the criteria each one offers: the same for every `missing`.
                offered_key = ("offered", every_provider_criterion)
                if offered_key not in scope.worked:
                    offered = np.zeros(len(positions), dtype=np.uint8)
                    for name in criteria:
                        offered += self._offering_providers(name)[positions]
                    scope.worked[offered_key] = offered
                positions = positions[scope.worked[offered_key] >= len(criteria) - missing]
            scope.worked[key] = Narrow(self.index, positions)
        return scope.worked[key]

    def _providers_except(self, name: str | None) -> np.ndarray | None:
        return _all_of(group for other, group in self.provider_groups.items() if other != name)

    def _offering_providers(self, name: str, chosen=None) -> np.ndarray:
        """The providers with a service that meets this service criterion (or has one of
        the `chosen` options): necessary for a match, and exact for those with one service."""
        key = name if chosen is None else (name, *chosen)
        if key not in self._offering:
            index, value = self.index, self.data.get(name)
            if name == "max_fee":
                with np.errstate(invalid="ignore"):
                    found = index.lowest_fee <= float(value)
            else:
                if chosen is None:
                    chosen = ["1"] if name in SERVICE_FLAGS else value
                found = _any_of(index.provider_service_options[name], chosen, index.providers)
            self._offering[key] = found
        return self._offering[key]

    def _services_meeting_criteria(
        self, names, narrow: Narrow | None, also: tuple | None = None
    ) -> np.ndarray | None:
        """bool over the services (all, or narrow's) that meet each of these service
        criteria and, if given, `also` (filter, options): kept unless `also` is given,
        and never to be changed. None: no criterion."""
        if narrow is None:
            kept = self._service_groups
        elif narrow is self.index.several_block:
            kept = self._block_groups  # the index's, shared by every search: not kept there
        else:
            kept = narrow.meeting  # made by this search
        key = tuple(names)
        if also is None and key in kept:
            return kept[key]
        criteria = [(name, self.data[name]) for name in names]
        found = _meeting_criteria(self.index, criteria + ([also] if also else []), narrow)
        if also is None:
            kept[key] = found
        return found

    def _meeting_all_but(self, name: str | None) -> np.ndarray | None:
        """The providers in scope that meet every criterion but provider filter `name`'s
        (None: every criterion), with a service that meets every service criterion (None:
        every provider, when there is no scope and no criterion)."""
        key = name if name in self.provider_groups else None
        if key not in self._meeting_providers:
            among = _all_of([self.scope.mask, self._providers_except(key)])
            self._meeting_providers[key] = self._with_matching_service(among)
        return self._meeting_providers[key]

    def _with_matching_service(self, among: np.ndarray | None) -> np.ndarray | None:
        """Those `among` (None: every provider) with a service that meets every service
        criterion. The provider criteria narrow the providers first, so that only theirs
        have their services checked together."""
        candidates = _all_of(
            [among] + [self._offering_providers(name) for name in self.service_criteria]
        )
        if len(self.service_criteria) > 1:
            # Several criteria: they must hold for one and the same service.
            candidates = self._with_one_service(candidates)
        return candidates

    def _meeting_every_criterion(self, narrow: Narrow) -> np.ndarray:
        """bool over narrow's services: those that meet every service criterion."""
        return self._services_meeting_criteria(self.service_criteria, narrow)

    def _with_one_service(self, candidates: np.ndarray) -> np.ndarray:
        """bool[P]: those of the candidates with one service that meets every criterion
        at once (what several_block()'s services say is kept for the other calls).

        Each candidate has a service that meets each criterion, which settles those with a
        single service, five in six of the listings: only the others have their services
        checked. When even they are many, the services of every provider with several are
        (several_block()): a third of the services, read in order, where listing the
        candidates' own services jumped about the index. At a million listings, checking
        the 40,000 counsellors for grief with several services one by one took 6 ms."""
        several = candidates & self.index.several_services
        narrow = self._narrow(Among(several), share=SEVERAL_NARROW_SHARE)
        if narrow is None:
            if self._owning is None:
                # Many: every provider with several services at once, in the index's order.
                # Owning: those with one service, and those with several of which one
                # meets every criterion.
                block = several_block(self.index)
                owning = ~self.index.several_services
                owning[block.service_providers[self._meeting_every_criterion(block)]] = True
                self._owning = owning
            return candidates & self._owning
        settled = candidates ^ several  # those with one service
        settled[narrow.providers[narrow.owners_of(self._meeting_every_criterion(narrow))]] = True
        return settled

    def _eligible_narrow(self, narrow: Narrow, name: str | None, *, services=True) -> np.ndarray:
        """bool over narrow.providers: every provider criterion but `name`'s and, with
        `services`, a service that meets every service criterion."""
        keep = np.ones(len(narrow.providers), dtype=bool)
        for other, group in self.provider_groups.items():
            if other != name:
                keep &= group[narrow.providers]
        if services and self.service_criteria:
            keep &= narrow.owners_of(self._meeting_every_criterion(narrow))
        return keep


def several_block(index: FacetIndex) -> Narrow:
    """Every provider with several services, and those services: made once per index."""
    if index.several_block is None:
        index.several_block = Narrow(index, np.flatnonzero(index.several_services))
    return index.several_block


def _all_of(masks) -> np.ndarray | None:
    """The AND of the masks that are not None, bool or packed bits alike (a new array;
    None if every one is None)."""
    result = None
    for mask in masks:
        if mask is None:
            continue
        if result is None:
            result = mask.copy()
        else:
            np.bitwise_and(result, mask, out=result)
    return result


def run_starts(owners: np.ndarray) -> np.ndarray:
    """Where each run of equal owners starts (they come in order)."""
    if not owners.size:
        return owners
    return np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])


def _packed_any_of(options: Options, chosen) -> np.ndarray:
    """The providers with any of the chosen options, as packed bits."""
    rows = options.rows(chosen)
    if not rows:
        return np.zeros(options.bits.shape[-1], dtype=np.uint64)
    if len(rows) == 1:
        return options.bits[rows[0]]  # never changed: _all_of() copies first
    return np.bitwise_or.reduce(options.bits[rows], axis=0)


def _set_positions(packed: np.ndarray) -> np.ndarray:
    """The positions of the set bits of packed bits (pack()), ascending: only the bytes
    that have one are unpacked."""
    octets = packed.view(np.uint8)
    occupied = np.flatnonzero(octets)
    bits = np.flatnonzero(np.unpackbits(octets[occupied]))
    return occupied[bits >> 3] * 8 + (bits & 7)


def _bits_at(packed: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """bool[len(positions)]: whether each of these bits of packed bits (pack()) is set."""
    octets = packed.view(np.uint8)[positions >> 3]
    return (octets >> (7 - (positions & 7)).astype(np.uint8)) & 1 != 0


def _popcounts(bits: np.ndarray, eligible: np.ndarray | None) -> np.ndarray:
    """For each row of packed provider bits: how many of them are eligible."""
    if eligible is not None:
        bits = bits & pack(eligible)
    return np.bitwise_count(bits).sum(axis=-1, dtype=np.int64)


def _meeting_criteria(index: FacetIndex, criteria, narrow: Narrow | None = None):
    """bool over the services (all, or narrow's) that meet every (criterion, value) given;
    None if none is."""
    found = []
    options = [
        (name, ["1"] if name in SERVICE_FLAGS else value)
        for name, value in criteria
        if name != "max_fee"
    ]
    if options:
        if narrow is None:
            found.append(index.service_bits.all_of(options))
        else:
            found.append(
                index.service_bits.all_of(
                    options, narrow.services, word=lambda number: narrow.word(index, number)
                )
            )
    for name, value in criteria:
        if name == "max_fee":
            # Free, or the lowest fee stated (either end of the range) within the limit.
            fees = index.sort_fee if narrow is None else narrow.fees(index)
            with np.errstate(invalid="ignore"):
                found.append(fees <= float(value))
    if not found:
        return None
    for more in found[1:]:
        np.logical_and(found[0], more, out=found[0])  # each is new: no copy needed
    return found[0]


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
