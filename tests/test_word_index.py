"""The in-memory word index (PostgreSQL) finds exactly what the database's full-text search finds."""

import pytest
from django.db import connection

from services.models import Provider
from services.search import listing_index, matching, word_index
from services.search.text import search_providers, tsqueries

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the word index is built from PostgreSQL vectors"
    ),
]

QUERIES = [
    "grief",
    "Grief counselling",
    "grieving",  # stems to the same word
    "anxiety -online",
    "anxiety or trauma",
    "talk therapy",  # a synonym
    "self-esteem",  # a hyphenated word: a phrase PostgreSQL's way, the whole word here
    "co-parenting or grief",
    "the and of",  # only stop words: nothing
    "-grief",  # only an exclusion: everyone without it
    "zzzz",
    "o'brien",  # a phrase to PostgreSQL ('o' <-> 'brien')
    '"small practice"',  # a phrase of two words: their pair
    '"practice small"',  # the same words the other way round: not the phrase
    '"grief works" or anxiety',
    '-"small practice"',
    '"small practice in town"',  # three words and one left out between: the database
]


@pytest.fixture
def wordy(make_listing):
    make_listing("Grief Works", statement="A small practice in town.")
    make_listing("Aaron Statement", statement="Much of my work is with grief and with self-esteem.")
    make_listing(
        "Online Anxiety", statement="Anxiety, panic and worry.", services=[{"formats": ["online"]}]
    )
    make_listing("Harbour", statement="Trauma and co-parenting after separation.")
    make_listing("Siobhan O'Brien", statement="Talking therapy for adults.")
    make_listing("Quiet Room", statement="Space to talk, no agenda. A practice, small and calm.")


@pytest.mark.parametrize("q", QUERIES)
def test_the_index_matches_what_the_database_matches(wordy, synonyms, q):
    index = listing_index.current_index().base
    base = Provider.objects.published()
    in_memory, _rank = matching.word_matches(index, matching.WordRows(base), q)
    expected = set(search_providers(base, q).queryset.values_list("pk", flat=True))
    assert set(index.provider_ids[in_memory].tolist()) == expected, q
    if q == "grief":
        assert len(expected) == 2  # the comparison is about something


def test_a_two_word_phrase_is_answered_in_memory(wordy, django_assert_num_queries):
    index = listing_index.current_index().base
    tsqueries("small")  # the synonyms are read
    with django_assert_num_queries(1):  # the query text
        mask, _rank = matching.word_matches(
            index, matching.WordRows(Provider.objects.published()), '"small practice"'
        )
    # "Quiet Room" has both words, but not as the phrase.
    names = Provider.objects.filter(pk__in=index.provider_ids[mask].tolist())
    assert list(names.values_list("name", flat=True)) == ["Grief Works"]


def test_a_longer_phrase_goes_to_the_database(wordy, django_assert_num_queries):
    index = listing_index.current_index().base
    for phrase in ['"practice in town"', '"a small practice in town"']:
        with pytest.raises(word_index.NeedsPositions):
            word_index.match(index.words, index.providers, tsqueries(phrase))
    with django_assert_num_queries(2):  # the query text, then the database's own search
        mask, _rank = matching.word_matches(
            index, matching.WordRows(Provider.objects.published()), '"small practice in town"'
        )
    names = Provider.objects.filter(pk__in=index.provider_ids[mask].tolist())
    assert list(names.values_list("name", flat=True)) == ["Grief Works"]


def test_a_word_in_the_name_outranks_one_in_the_statement(wordy):
    index = listing_index.current_index().base
    mask, rank = word_index.match(index.words, index.providers, tsqueries("grief"))
    by_name = dict(
        Provider.objects.filter(pk__in=index.provider_ids[mask].tolist()).values_list("pk", "name")
    )
    ranked = sorted(by_name, key=lambda pk: -rank[index.provider_ids.tolist().index(pk)])
    assert [by_name[pk] for pk in ranked] == ["Grief Works", "Aaron Statement"]


def test_a_query_is_one_database_round_trip(wordy, synonyms, django_assert_num_queries):
    index = listing_index.current_index().base
    tsqueries("talk therapy")  # the synonyms are cached
    with django_assert_num_queries(1):
        matching.word_matches(
            index, matching.WordRows(Provider.objects.published()), "talk therapy -online"
        )


def test_words_the_parser_refuses_are_looked_for_as_plain_words():
    """PostgreSQL's websearch parser fails on a few odd inputs ("tsquery stack too small",
    found by tests/test_find_properties.py). websearch_or_plain (migration 0026) reads the
    plain words then; to_tsquery, which refuses two words with no operator between them,
    shows that it does, and the transaction goes on."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT websearch_or_plain('english', %s)::text, websearch_or_plain('english', %s)::text",
            ['"grief" -loss', "grief loss"],
        )
        assert cursor.fetchone() == ("'grief' & !'loss'", "'grief' & 'loss'")
        cursor.execute(
            """CREATE FUNCTION pg_temp.refusing(config regconfig, query text) RETURNS tsquery
            LANGUAGE plpgsql AS $$ BEGIN RETURN to_tsquery(config, query);
            EXCEPTION WHEN OTHERS THEN RETURN plainto_tsquery(config, query); END $$"""
        )
        cursor.execute("SELECT pg_temp.refusing('english', 'grief loss')::text")
        assert cursor.fetchone() == ("'grief' & 'loss'",)
    assert Provider.objects.count() >= 0  # the transaction still works
