"""An in-memory index of what every published listing offers, for results and option counts.

Counting in SQL how many providers each option of each filter would give is a
COUNT(DISTINCT) over joins per option: hundreds of milliseconds each at 100,000
listings. Here each filter's options are rows of booleans over the services or the
providers (numpy), with the providers' places and sort keys, so a results page reads
only the rows it shows; services/search/selection.py applies a search to it.

One index covers every published listing when a process starts (or merges in the
background); services/search/listing_index.py keeps it current with a second, small index of the
listings changed since.
"""

from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper
from django.db.models.functions import Lower

from services import geo
from services.models import (
    Location,
    Provider,
    Service,
)
from services.search import criteria, word_index
from services.search.criteria import CRITERIA, Choices, Flag, Level

# The criteria that describe one service, and those that describe the provider
# (services/search/criteria.py): each is rows of booleans here, one per option.
SERVICE_LIST_FILTERS = criteria.of(Choices, Level.SERVICE)
SERVICE_FLAGS = criteria.of(Flag, Level.SERVICE)
PROVIDER_LIST_FILTERS = criteria.of(Choices, Level.PROVIDER)
PROVIDER_FLAGS = criteria.of(Flag, Level.PROVIDER)
PLACE_CRITERIA = criteria.place_criteria()
# The queries a build asks of the database for the criteria: one per option of a fixed
# list, one per flag or taxonomy, and one more for a taxonomy's fallback.
CRITERIA_QUERIES = sum(
    (len(getattr(c, "fixed", ())) or 1) + bool(getattr(c, "fallback", ""))
    for c in CRITERIA.values()
    if isinstance(c, Choices | Flag)
)


@dataclass
class Options:
    """One filter's options: a row of booleans per option, over services or providers."""

    names: list[str]
    matrix: np.ndarray  # bool[options, services or providers]
    # Over providers: the same rows as packed bits, so that counting the providers of
    # every option in a set of them is an AND and a popcount over a 64th of the words.
    bits: np.ndarray | None = None

    def __post_init__(self):
        self.position = {name: row for row, name in enumerate(self.names)}

    def rows(self, chosen) -> list[int]:
        return [self.position[option] for option in chosen if option in self.position]

    def mask(self, option: str) -> np.ndarray | None:
        row = self.position.get(option)
        return None if row is None else self.matrix[row]


# For counting the bits of bytes: BYTE_BITS[value, bit] is 1 when that bit of value is set.
BYTE_BITS = (np.arange(256)[:, None] >> np.arange(8) & 1).astype(np.int64)


class OptionBits:
    """Several filters' options as the bits of a few whole numbers per service (or per
    provider).

    Each option has a bit of one word (uint64 per service): the 50-odd options of the
    service filters fit in one word a service, eight bytes, where a row of booleans per
    option took a byte each; the provider filters' 30-odd take one word a provider.
    Counting what every option would give among a set of them then reads each word once
    for all the filters in it.
    """

    def __init__(self, filters: dict[str, tuple[list[str], np.ndarray]], services: int):
        """`filters`: {filter: (option names, bool[options, services or providers])}."""
        self.names: dict[str, list[str]] = {}
        self.bit_of: dict[str, dict[str, tuple[int, int]]] = {}  # option -> (word, bit)
        self.words: list[np.ndarray] = []
        free: list[int] = []  # bits left in each word
        # The largest filters first, so that the small ones fill the gaps.
        for name, (names, matrix) in sorted(filters.items(), key=lambda item: -len(item[1][0])):
            self.names[name], self.bit_of[name] = names, {}
            for first in range(0, len(names), 64):
                chunk = names[first : first + 64]
                number = next((n for n, left in enumerate(free) if left >= len(chunk)), None)
                if number is None:
                    number = len(self.words)
                    self.words.append(np.zeros(services, dtype=np.uint64))
                    free.append(64)
                for offset, option in enumerate(chunk):
                    bit = 64 - free[number] + offset
                    self.bit_of[name][option] = (number, bit)
                    self.words[number] |= matrix[first + offset].astype(np.uint64) << np.uint64(bit)
                free[number] -= len(chunk)
        self.used = [64 - left for left in free]  # bits taken in each word

    def any_of(self, name: str, chosen, at=None, word=None) -> np.ndarray:
        """bool over the services (all, or those at the positions `at`) with any of these
        options of the filter. `word(number)`, if given, gives word `number` already
        taken at those positions."""
        return self.all_of([(name, chosen)], at, word)

    def all_of(self, criteria, at=None, word=None) -> np.ndarray:
        """bool over the services (all, or those at the positions `at`) with, for each
        (filter, chosen options) of `criteria`, any of those options. `word(number)`, if
        given, gives word `number` already taken at those positions.

        A filter with one option chosen, as most are, is one bit that must be set: every
        such bit of a word is tested at once, (word & bits) == bits, one pass over the
        services where a pass per filter took twice as long, or more."""
        required: dict[int, int] = {}  # word: the bits that must all be set
        alternatives: list[dict[int, int]] = []  # per filter, word: bits of which any will do
        for name, chosen in criteria:
            wanted: dict[int, int] = {}
            for option in chosen:
                if option in self.bit_of[name]:
                    number, bit = self.bit_of[name][option]
                    wanted[number] = wanted.get(number, 0) | 1 << bit
            if not wanted:  # no option the index knows: no service has one
                size = len(self.words[0]) if self.words else 0
                return np.zeros(size if at is None else len(at), dtype=bool)
            if len(wanted) == 1:
                [(number, bits)] = wanted.items()
                if bits & (bits - 1) == 0:  # a single bit
                    required[number] = required.get(number, 0) | bits
                    continue
            alternatives.append(wanted)

        def values(number: int) -> np.ndarray:
            if word is not None:
                return word(number)
            return self.words[number] if at is None else self.words[number][at]

        mask = None
        for number, bits in required.items():
            found = (values(number) & np.uint64(bits)) == np.uint64(bits)
            mask = found if mask is None else np.logical_and(mask, found, out=mask)
        for wanted in alternatives:
            found = None
            for number, bits in wanted.items():
                here = (values(number) & np.uint64(bits)) != 0
                found = here if found is None else np.logical_or(found, here, out=found)
            mask = found if mask is None else np.logical_and(mask, found, out=mask)
        if mask is None:  # no criterion: every service
            size = len(self.words[0]) if self.words else 0
            return np.ones(size if at is None else len(at), dtype=bool)
        return mask

    def filter_bits(self, name: str, number: int) -> int:
        """The bits of word `number` that hold the options of filter `name` (0: none)."""
        return sum(1 << bit for word, bit in self.bit_of.get(name, {}).values() if word == number)

    def providers_per_bit(self, services: np.ndarray, starts: np.ndarray, word=None) -> np.ndarray:
        """int[words, 64]: for each bit, how many providers have it in one of these services.

        The services come grouped by provider, as every subset of the index's services
        does; `starts` says where each provider's run of them starts. Each run's words
        are ORed together, then each bit counted. `word(number)`, if given, gives word
        `number` already taken at these services.
        """
        counting = ProvidersPerBit(self, services, starts, word)
        for name in self.names:
            counting.option_counts(name)
        return counting.counts

    def per_bit(self, items: np.ndarray) -> np.ndarray:
        """int[words, 64]: for each bit, how many of these (positions, each once) have it:
        a pass over those few, not over every row of options."""
        counts = np.zeros((len(self.words), 64), dtype=np.int64)
        if items.size:
            for number, word in enumerate(self.words):
                counts[number, : self.used[number]] = _bit_counts(word[items], self.used[number])
        return counts

    def option_counts(self, name: str, per_bit: np.ndarray) -> np.ndarray:
        """The filter's options' counts, in order, from providers_per_bit() or per_bit()."""
        places = [self.bit_of[name][option] for option in self.names[name]]
        if not places:
            return np.zeros(0, dtype=np.int64)
        numbers, bits = zip(*places, strict=True)
        return per_bit[list(numbers), list(bits)]


class ProvidersPerBit:
    """OptionBits.providers_per_bit() as the filters ask for their counts, a byte of a word
    at a time: a filter whose own criterion is chosen counts among services of its own,
    and needs only the bytes that hold its options. At a million listings, counting every
    byte for each of those was a sixth of the work of a search with three chosen."""

    def __init__(self, bits: OptionBits, services: np.ndarray, starts: np.ndarray, word=None):
        self.bits, self.services, self.word = bits, services, word
        self.runs = _Runs(starts, len(services)) if services.size else None
        self.counts = np.zeros((len(bits.words), 64), dtype=np.int64)
        self._ored: dict[int, np.ndarray] = {}  # word: each provider's services' words, ORed
        self._counted: set[tuple[int, int]] = set()  # (word, byte)

    def option_counts(self, name: str) -> np.ndarray:
        """The filter's options' counts, in order: how many providers have each."""
        if self.runs is not None:  # else no services, and every count is 0
            for number, bit in self.bits.bit_of[name].values():
                byte = bit // 8
                if (number, byte) not in self._counted:
                    self._counted.add((number, byte))
                    counted = _byte_counts(self._ored_word(number), byte)
                    self.counts[number, 8 * byte : 8 * byte + 8] = counted
        return self.bits.option_counts(name, self.counts)

    def _ored_word(self, number: int) -> np.ndarray:
        if number not in self._ored:
            if self.word is None:
                values = self.bits.words[number][self.services]
            else:
                values = self.word(number)
            self._ored[number] = self.runs.or_of(values)
        return self._ored[number]


class _Runs:
    """Runs of consecutive values, starting at `starts`, most of them one long (a
    provider's services: five in six have one)."""

    # Longer runs than this: reduceat.
    LONGEST_BY_PLACE = 4

    def __init__(self, starts: np.ndarray, size: int):
        self.starts = starts
        lengths = np.diff(starts, append=size)
        longest = int(lengths.max()) if lengths.size else 0
        # For each place in a run after the first: the runs that reach it, and where it is.
        self.later = None
        if longest <= self.LONGEST_BY_PLACE:
            self.later = []
            for place in range(1, longest):
                longer = np.flatnonzero(lengths > place)
                self.later.append((longer, starts[longer] + place))

    def or_of(self, values: np.ndarray) -> np.ndarray:
        """The OR of each run: by place in the run, which cost half what reduceat's
        18 ns or so a run did."""
        if self.later is None:
            return np.bitwise_or.reduceat(values, self.starts)
        theirs = values[self.starts]
        for runs, at in self.later:
            theirs[runs] |= values[at]
        return theirs


def _bit_counts(values: np.ndarray, bits: int) -> np.ndarray:
    """How many of the values have each of their lowest `bits` bits set."""
    return np.concatenate([_byte_counts(values, byte) for byte in range(-(-bits // 8))])[:bits]


def _byte_counts(values: np.ndarray, byte: int) -> np.ndarray:
    """int[8]: how many of the values have each bit of their byte number `byte` set."""
    if len(values) * 8 <= 1 << 12:
        # Few: every bit of every value at once.
        shifts = np.arange(8 * byte, 8 * byte + 8, dtype=np.uint64)
        return ((values[:, None] >> shifts) & np.uint64(1)).sum(axis=0, dtype=np.int64)
    # Many: how often each value of the byte occurs, then the bits of those values.
    column = np.asarray(values, dtype="<u8").view(np.uint8).reshape(-1, 8)[:, byte]
    return np.bincount(column, minlength=256) @ BYTE_BITS


@dataclass
class FacetIndex:
    provider_ids: np.ndarray  # ids of published providers, ascending
    service_owner: np.ndarray  # for each service, its provider's position (non-decreasing)
    # Where each provider's services start (and the next one's): services of provider p
    # are service_start[p]:service_start[p + 1].
    service_start: np.ndarray | None = None
    service_count: np.ndarray | None = None  # [P]: how many services each provider has
    several_services: np.ndarray | None = None  # bool[P]: the provider has more than one
    several_packed: np.ndarray | None = None  # the same, packed (pack())
    several_block: object | None = None  # selection.several_block(), made when first asked
    service_bits: OptionBits | None = None
    # For each word of service_bits, over providers: the OR of their services' words.
    provider_service_words: list[np.ndarray] = field(default_factory=list)
    provider_options: dict[str, Options] = field(default_factory=dict)  # over providers
    provider_bits: OptionBits | None = None  # the same options, as bits of a word a provider
    # Over providers: the provider has a service with that option.
    provider_service_options: dict[str, Options] = field(default_factory=dict)
    fee_min: np.ndarray | None = None  # float[S], nan when not stated
    fee_max: np.ndarray | None = None
    is_free: np.ndarray | None = None
    # float[S]: what a session costs for the fee sort (free is 0, else the lowest stated).
    sort_fee: np.ndarray | None = None
    lowest_fee: np.ndarray | None = None  # float[P]: the least of their services' sort_fee
    practising_since: np.ndarray | None = None  # float[P], nan when not stated
    recommendations: np.ndarray | None = None  # int[P]: approved recommendations
    online: np.ndarray | None = None  # bool[P]: has a service offered online
    # Sort orders: positions of every provider, in name order and in experience order,
    # and where each provider comes in them.
    name_keys: np.ndarray | None = None  # object[P]: lowered names (filters.NAME_ORDER)
    name_rank: np.ndarray | None = None  # int[P]
    by_name: np.ndarray | None = None
    experience_rank: np.ndarray | None = None
    by_experience: np.ndarray | None = None
    # Services grouped by provider, for "has a matching service".
    owner_starts: np.ndarray | None = None  # where each provider's group starts
    owners: np.ndarray | None = None  # the provider of each group
    # Every place with coordinates, for "within so many km": in bands of latitude
    # (PLACE_BAND_DEGREES), and by longitude within a band; place_key (band * 360 +
    # longitude + 180) is in ascending order, so a box is a few slices of it. The
    # coordinates are kept as geo.distances_from() takes them.
    place_sin_lat: np.ndarray | None = None
    place_cos_lat: np.ndarray | None = None
    place_lng_radians: np.ndarray | None = None
    place_owner: np.ndarray | None = None
    place_key: np.ndarray | None = None
    # For each place criterion (criteria.place_criteria()), bool over the places above.
    place_meets: dict = field(default_factory=dict)
    # PostgreSQL: which providers each search word is in (services/search/word_index.py).
    words: dict | None = None

    @property
    def providers(self) -> int:
        return len(self.provider_ids)

    @property
    def services(self) -> int:
        return len(self.service_owner)


def build(ids=None) -> FacetIndex:
    """An index of every published listing, or of those among `ids` (the listings changed
    since the last full build: services/search/listing_index.py)."""
    published = {"provider__status": Provider.Status.PUBLISHED}
    if ids is not None:
        ids = sorted(ids)
        published["provider_id__in"] = ids
    providers = list(
        _among(Provider.objects.published(), "pk", ids)
        .order_by("pk")
        .values_list("pk", Lower("name"), "practising_since", "recommendations_approved")
    )
    provider_ids = np.fromiter((row[0] for row in providers), dtype=np.int64, count=len(providers))
    services = list(
        Service.objects.filter(**published)
        .order_by("provider_id", "pk")
        .values_list("pk", "provider_id", "is_free", "fee_min", "fee_max")
    )
    # Services are held grouped by provider, so the providers of any subset of them come
    # in order: counting distinct providers is counting where the provider changes.
    service_ids = np.fromiter((row[0] for row in services), dtype=np.int64, count=len(services))
    service_order = np.argsort(service_ids)
    owners = np.fromiter((row[1] for row in services), dtype=np.int64, count=len(services))
    index = FacetIndex(
        provider_ids=provider_ids, service_owner=np.searchsorted(provider_ids, owners)
    )
    index.is_free = np.array([row[2] for row in services], dtype=bool)
    index.fee_min = np.array([np.nan if row[3] is None else float(row[3]) for row in services])
    index.fee_max = np.array([np.nan if row[4] is None else float(row[4]) for row in services])
    with np.errstate(invalid="ignore"):
        index.sort_fee = np.where(
            index.is_free, 0.0, np.where(np.isnan(index.fee_min), index.fee_max, index.fee_min)
        )
    listed = Service.objects.filter(**published)
    service_masks = {
        name: _criterion_masks(CRITERIA[name], listed, service_ids, service_order)
        for name in (*SERVICE_LIST_FILTERS, *SERVICE_FLAGS)
    }

    index.name_keys = np.array([row[1] for row in providers], dtype=object)
    index.recommendations = np.array([row[3] for row in providers], dtype=np.int64)
    index.practising_since = np.array(
        [np.nan if row[2] is None else row[2] for row in providers], dtype=float
    )
    listed = _among(Provider.objects.published(), "pk", ids)
    provider_masks = {
        name: _criterion_masks(CRITERIA[name], listed, provider_ids)
        for name in (*PROVIDER_LIST_FILTERS, *PROVIDER_FLAGS)
    }

    _add_service_groups(index)
    index.provider_options = {
        name: _stack(masks, index.providers) for name, masks in provider_masks.items()
    }
    filters = {}
    for name, masks in service_masks.items():
        names = list(masks)
        filters[name] = (names, _matrix(masks, names, index.services))
        index.provider_service_options[name] = _stack_rows(
            names, owners_of(index, filters[name][1])
        )
    index.service_bits = OptionBits(filters, index.services)
    index.provider_service_words = [_per_provider_or(index, w) for w in index.service_bits.words]
    index.provider_bits = OptionBits(
        {name: (options.names, options.matrix) for name, options in index.provider_options.items()},
        index.providers,
    )
    online = index.provider_service_options["format"].mask("online")
    index.online = np.zeros(index.providers, dtype=bool) if online is None else online
    _add_orders(index)
    _add_places(index, ids)
    if connection.vendor == "postgresql":
        index.words = word_index.build(lambda found: positions_of(index.provider_ids, found), ids)
    return index


def _criterion_masks(criterion, listed, all_ids, sorter=None) -> dict[str, np.ndarray]:
    """{option: bool over all_ids}: which of the services or providers `listed` have it."""
    if isinstance(criterion, Flag):
        found = listed.filter(criterion.condition()).values_list("pk", flat=True)
        return {"1": positions_mask(list(found), all_ids, sorter)}
    if criterion.taxonomy is not None:
        rows = list(listed.exclude(**{criterion.path: None}).values_list("pk", criterion.path))
        if criterion.fallback:
            rows += listed.filter(**{criterion.own: None}).values_list("pk", criterion.fallback)
        return _link_masks([row for row in rows if row[1] is not None], all_ids, sorter)
    return {
        option.value: positions_mask(
            list(listed.filter(option.condition).values_list("pk", flat=True)), all_ids, sorter
        )
        for option in criterion.fixed
    }


def _among(queryset, field: str, ids):
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


def _add_service_groups(index: FacetIndex) -> None:
    owners = index.service_owner
    index.service_start = np.searchsorted(owners, np.arange(index.providers + 1))
    counts = np.diff(index.service_start)
    # As small a number as holds them: a Narrow reads one for each of its providers.
    index.service_count = counts.astype(np.uint8 if counts.max(initial=0) < 256 else np.int64)
    index.several_services = counts > 1
    index.several_packed = pack(index.several_services)
    index.owner_starts = (
        np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if owners.size else owners
    )
    index.owners = owners[index.owner_starts]
    index.lowest_fee = np.full(index.providers, np.nan)
    if owners.size:
        index.lowest_fee[index.owners] = np.fmin.reduceat(index.sort_fee, index.owner_starts)


def _per_provider_or(index: FacetIndex, values: np.ndarray) -> np.ndarray:
    """For each provider, the OR of the values of their services (0: none)."""
    ored = np.zeros(index.providers, dtype=values.dtype)
    if index.owner_starts.size:
        ored[index.owners] = np.bitwise_or.reduceat(values, index.owner_starts)
    return ored


def _add_orders(index: FacetIndex) -> None:
    # Names in order of their characters, lowered by the database (filters.NAME_ORDER), so
    # that two indexes' results merge by comparing the names themselves.
    keys = index.name_keys
    index.by_name = np.array(
        sorted(range(index.providers), key=keys.__getitem__), dtype=np.int64
    )  # stable: equal names stay in id order
    index.name_rank = _ranks(index.by_name)
    # Earliest start first, unknown last, then by name.
    started = np.where(np.isnan(index.practising_since), np.inf, index.practising_since)
    index.by_experience = np.lexsort((index.name_rank, started))
    index.experience_rank = _ranks(index.by_experience)


def _ranks(order: np.ndarray) -> np.ndarray:
    """Where each position comes in this order."""
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order))
    return ranks


def _add_places(index: FacetIndex, ids) -> None:
    rows = list(
        _among(Location.objects, "provider_id", ids)
        .filter(
            provider__status=Provider.Status.PUBLISHED,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .order_by("pk")
        # Where distances to each place are measured from (Location.distance_point).
        .annotate(**Location.distance_point_sql())
        .annotate(
            **{
                f"meets_{name}": ExpressionWrapper(places, output_field=BooleanField())
                for name, places in PLACE_CRITERIA.items()
            }
        )
        .values_list("provider_id", *geo.MEASURED, *(f"meets_{n}" for n in PLACE_CRITERIA))
    )
    columns = list(zip(*rows, strict=True)) if rows else [[]] * (3 + len(PLACE_CRITERIA))
    owner = np.searchsorted(index.provider_ids, np.array(columns[0], dtype=np.int64))
    latitude = np.array(columns[1], dtype=float)
    longitude = np.array(columns[2], dtype=float)
    key = place_band(latitude) * 360.0 + (longitude + 180.0)
    order = np.argsort(key, kind="stable")
    index.place_owner, index.place_key = owner[order], key[order]
    radians = np.radians(latitude[order])
    index.place_sin_lat, index.place_cos_lat = np.sin(radians), np.cos(radians)
    index.place_lng_radians = np.radians(longitude[order])
    index.place_meets = {
        name: np.array(columns[3 + n], dtype=bool)[order] for n, name in enumerate(PLACE_CRITERIA)
    }


# A band of latitude is about 11 km: a search within 10 km looks at two or three bands,
# and in each only at the places in the box's longitudes (a band across the whole
# country would hold a tenth of the places).
PLACE_BAND_DEGREES = 0.1


def place_band(latitude):
    return np.floor(np.asarray(latitude) / PLACE_BAND_DEGREES)


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


def positions_mask(ids: list[int], all_ids: np.ndarray, sorter=None) -> np.ndarray:
    """Which of all_ids are among ids."""
    mask = np.zeros(len(all_ids), dtype=bool)
    positions, known = positions_of(all_ids, ids, sorter)
    mask[positions[known]] = True
    return mask


def _link_masks(rows, all_ids: np.ndarray, sorter=None) -> dict[str, np.ndarray]:
    by_option: dict[str, list[int]] = {}
    for owner_id, option in rows:
        by_option.setdefault(option, []).append(owner_id)
    return {option: positions_mask(ids, all_ids, sorter) for option, ids in by_option.items()}


def _matrix(masks: dict[str, np.ndarray], names: list[str], size: int) -> np.ndarray:
    return np.array([masks[name] for name in names], dtype=bool).reshape(len(names), size)


def _stack(masks: dict[str, np.ndarray], size: int) -> Options:
    names = list(masks)
    return _stack_rows(names, _matrix(masks, names, size))


def _stack_rows(names: list[str], matrix: np.ndarray) -> Options:
    """Options over providers, with their packed bits."""
    return Options(names, matrix, bits=pack(matrix))


def pack(masks: np.ndarray) -> np.ndarray:
    """bool[..., P] as uint64 words (the last axis padded to a whole word)."""
    packed = np.packbits(masks, axis=-1)
    padding = -packed.shape[-1] % 8
    if padding:
        packed = np.pad(packed, [(0, 0)] * (packed.ndim - 1) + [(0, padding)])
    return np.ascontiguousarray(packed).view(np.uint64)


def owners_of(index: FacetIndex, services: np.ndarray) -> np.ndarray:
    """bool[..., P]: the providers with at least one of these services (bool[..., S])."""
    mask = np.zeros((*services.shape[:-1], index.providers), dtype=bool)
    if services.ndim == 1:
        # The owners of the services chosen, marked: several times faster than an OR
        # over each provider's services.
        mask[index.service_owner[np.flatnonzero(services)]] = True
    elif index.owner_starts.size:
        mask[..., index.owners] = np.logical_or.reduceat(services, index.owner_starts, axis=-1)
    return mask
