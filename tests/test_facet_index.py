"""The full listing index's own structures: option bits, counts, packing, freeing."""

import gc
import weakref

import numpy as np
import pytest

from services.search import facet_index, selection

pytestmark = pytest.mark.django_db(transaction=True)


def test_option_bits_agree_with_the_booleans_beyond_64_options(monkeypatch):
    """Filters share words; one may have more than 64 options (staff add concerns)."""
    rng = np.random.default_rng(7)
    sizes = {"concern": 70, "approach": 20, "type": 5, "free": 1}
    filters = {
        name: ([f"{name}-{n}" for n in range(size)], rng.random((size, 500)) < 0.05)
        for name, size in sizes.items()
    }
    bits = facet_index.OptionBits(filters, 500)
    assert len(bits.words) == 2  # 64 concerns; then 6 concerns, 20 approaches, 5 types, 1 flag
    assert len({place for name in sizes for place in bits.bit_of[name].values()}) == 96

    names, matrix = filters["concern"]
    chosen = ["concern-3", "concern-64", "concern-69", "not-an-option"]
    expected = matrix[[3, 64, 69]].any(axis=0)
    assert (bits.any_of("concern", chosen) == expected).all()
    at = np.array([0, 7, 100, 499])
    assert (bits.any_of("concern", chosen, at) == expected[at]).all()
    # The words already taken at those positions, as a Narrow keeps them.
    taken = {number: word[at] for number, word in enumerate(bits.words)}
    assert (bits.any_of("concern", chosen, at, word=taken.__getitem__) == expected[at]).all()
    assert not bits.any_of("concern", ["not-an-option"]).any()
    assert len(bits.any_of("type", [], at)) == 4

    owners = np.sort(rng.integers(0, 120, 500))  # services grouped by provider
    services = np.sort(rng.choice(500, 300, replace=False))
    theirs = owners[services]
    starts = np.flatnonzero(np.r_[True, theirs[1:] != theirs[:-1]])
    assert np.diff(starts, append=len(services)).max() > 4  # some runs are long
    # Each run's words ORed by place in the run, and by reduceat.
    for longest in (100, 0):
        monkeypatch.setattr(facet_index._Runs, "LONGEST_BY_PLACE", longest)
        per_bit = bits.providers_per_bit(services, starts)
        taken = {number: word[services] for number, word in enumerate(bits.words)}
        assert (bits.providers_per_bit(services, starts, taken.__getitem__) == per_bit).all()
        for name, (names, matrix) in filters.items():
            counted = bits.option_counts(name, per_bit)
            for row in range(len(names)):
                having = {owners[s] for s in services if matrix[row, s]}
                assert counted[row] == len(having), (name, row)
    # Counted one by one (as the provider filters are, over providers).
    per_item = bits.per_bit(services)
    for name, (_names, matrix) in filters.items():
        assert (
            bits.option_counts(name, per_item).tolist() == matrix[:, services].sum(axis=1).tolist()
        )
    assert not bits.per_bit(services[:0]).any()


def test_all_of_several_filters_is_the_and_of_each_filters_any_of():
    """One chosen option of a filter is a bit that must be set, tested with the others of
    its word at once; several chosen are any of theirs; an unknown option matches none."""
    rng = np.random.default_rng(11)
    sizes = {"concern": 70, "approach": 20, "type": 5, "free": 1}
    filters = {
        name: ([f"{name}-{n}" for n in range(size)], rng.random((size, 2000)) < 0.5)
        for name, size in sizes.items()
    }
    bits = facet_index.OptionBits(filters, 2000)

    def any_of(name, chosen):
        names, matrix = filters[name]
        rows = [names.index(option) for option in chosen if option in names]
        return matrix[rows].any(axis=0)

    at = np.array([1, 5, 500, 1999])
    for criteria in [
        [("type", ["type-2"]), ("free", ["free-0"])],  # single bits of one word
        [("concern", ["concern-65"]), ("type", ["type-1"]), ("free", ["free-0"])],  # two words
        [("concern", ["concern-3", "concern-66"]), ("approach", ["approach-4"])],  # any of
        [("type", ["type-1", "type-3"]), ("approach", ["approach-0", "approach-9"])],
    ]:
        expected = np.logical_and.reduce([any_of(name, chosen) for name, chosen in criteria])
        assert 0 < expected.sum() < 2000, criteria  # the test can tell right from wrong
        assert (bits.all_of(criteria) == expected).all(), criteria
        assert (bits.all_of(criteria, at) == expected[at]).all(), criteria
    assert not bits.all_of([("type", ["type-1"]), ("free", ["not-an-option"])]).any()
    assert bits.all_of([]).all()


@pytest.mark.parametrize("values", [50, 5000])  # both ways of counting bits (64 bits)
def test_bit_counts(values):
    rng = np.random.default_rng(values)
    numbers = rng.integers(0, 2**63, values, dtype=np.uint64)
    expected = [sum(int(n) >> bit & 1 for n in numbers) for bit in range(64)]
    assert facet_index._bit_counts(numbers, 64).tolist() == expected
    assert facet_index._bit_counts(numbers, 13).tolist() == expected[:13]


@pytest.mark.parametrize("size", [0, 7, 64, 1000])
def test_packed_bits_give_back_their_positions(size):
    """The online count works on packed bits (pack()): the set bits' positions, and
    whether given positions are set, read back what was packed."""
    rng = np.random.default_rng(size)
    mask = rng.random(size) < 0.1
    mask[-1:] = True  # the last position too, next to the padding
    packed = facet_index.pack(mask)
    assert selection._set_positions(packed).tolist() == np.flatnonzero(mask).tolist()
    positions = np.arange(size)
    assert selection._bits_at(packed, positions).tolist() == mask.tolist()


def test_an_old_index_is_freed_as_soon_as_it_is_dropped(make_listing):
    """After a rebuild the old index (hundreds of MB at a million listings) goes at once,
    not at the cycle collector's next full pass: nothing in it refers back to it."""
    make_listing()
    index = facet_index.build()
    selection.several_block(index)  # the one Narrow the index keeps
    gone = weakref.ref(index)
    gc.disable()
    try:
        del index
        assert gone() is None
    finally:
        gc.enable()
