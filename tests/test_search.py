"""Search words: what they match, synonyms, spelling, and each database's body.

The suite runs on SQLite and on PostgreSQL; services/search/text.py picks its body by
connection.vendor. What holds on both is asserted always; stemming and weighting
only where PostgreSQL does them.
"""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict

from services.models import Provider, SearchSynonym, SearchWord
from services.search.filters import ProviderFilter
from services.search.text import (
    Term,
    expand,
    forget_synonyms,
    parse,
    search_providers,
    suggest_spelling,
)
from tests.conftest import LEEDS

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"


def search(q: str) -> list[str]:
    """Names of the published providers the words find, best match first."""
    filterset = ProviderFilter(
        QueryDict(urlencode({"q": q})), queryset=Provider.objects.published()
    )
    return [provider.name for provider in filterset.qs]


def found(q: str) -> set[str]:
    return set(search(q))


# --------------------------------------------------------------------------- parsing


def test_parse_words_phrases_and_exclusions():
    assert parse('grief "panic attacks" -couples or leeds') == [
        Term("grief"),
        Term("panic attacks"),
        Term("couples", excluded=True),
        Term("leeds"),
    ]
    assert parse('  "" , ') == []
    assert parse('-"group work"') == [Term("group work", excluded=True)]


# --------------------------------------------------------------------------- fields


@pytest.fixture
def fields(make_listing):
    """Listings with a distinctive word in only one field each."""
    make_listing("Quillon Practice", statement="Calm rooms.")
    make_listing("Statement Only", statement="I have long worked with beekeepers.")
    make_listing(
        "Qualified",
        qualifications=[
            {"kind": "degree", "title": "Diploma in Dramatherapy", "issuer": "Roehampton"}
        ],
    )
    make_listing("Speaks", languages=["somali"])
    make_listing("Placed", places=[{"town": "Harrogate", "postcode": "HG1 2AB"}])
    make_listing("Approached", services=[{"approaches": ["gestalt"]}])
    make_listing("Concerned", services=[{"concerns": ["loneliness"]}])
    make_listing("Art", services=[{"type": "art-therapy"}])
    make_listing("Hidden Beekeepers", status=Provider.Status.DRAFT, statement="beekeepers")


@pytest.mark.parametrize(
    "q, name",
    [
        ("quillon", "Quillon Practice"),  # the name
        ("beekeepers", "Statement Only"),  # the statement
        ("dramatherapy", "Qualified"),  # a qualification's title
        ("roehampton", "Qualified"),  # its issuer
        ("somali", "Speaks"),  # a language
        ("harrogate", "Placed"),  # a town
        ("HG1", "Placed"),  # the postcode district
        ("gestalt", "Approached"),  # an approach
        ("loneliness", "Concerned"),  # a concern
        ("art therapy", "Art"),  # the kind of support
    ],
)
def test_words_match_every_field_of_a_listing(fields, q, name):
    assert found(q) == {name}


def test_the_private_part_of_a_postcode_is_not_searchable(make_listing):
    make_listing("Placed", places=[{"town": "Harrogate", "postcode": "HG1 2AB"}])
    assert found("2AB") == set()


def test_nothing_found_for_a_word_in_no_listing(fields):
    assert found("xylophone") == set()


def test_every_word_must_match(make_listing):
    make_listing("Grief In Leeds", places=[("Leeds", *LEEDS)], services=[{"concerns": ["grief"]}])
    make_listing("Grief Online", services=[{"concerns": ["grief"]}])
    make_listing(
        "Anxiety In Leeds", places=[("Leeds", *LEEDS)], services=[{"concerns": ["anxiety"]}]
    )
    assert found("grief leeds") == {"Grief In Leeds"}
    assert found("grief") == {"Grief In Leeds", "Grief Online"}
    assert found("leeds") == {"Grief In Leeds", "Anxiety In Leeds"}
    assert found("grief xylophone") == set()
    assert found("grief anxiety") == set()
    assert found("GRIEF Leeds") == {"Grief In Leeds"}
    if connection.vendor == "sqlite":
        # SQLite looks for each word as text anywhere in the document, all of them required:
        # part of a word is enough, but every part must be there.
        assert found("grie") == {"Grief In Leeds", "Grief Online"}
        assert found("grie leed") == {"Grief In Leeds"}
        assert found("grie anxi") == set()
    else:
        # PostgreSQL matches whole words (after stemming), not parts of them.
        assert found("grie") == set()


def test_quoted_phrase_and_excluded_word(make_listing):
    make_listing("Phrase", statement="We offer support after grief and loss of every kind.")
    make_listing("Apart", statement="Loss of a job, and grief.")
    make_listing(
        "Grief And Anxiety", statement="Grief, and worry.", services=[{"concerns": ["anxiety"]}]
    )
    assert found('"grief and loss"') == {"Phrase"}
    assert found("grief loss") >= {"Phrase", "Apart"}
    assert found("grief -anxiety") == {"Phrase", "Apart"}
    assert found('-"grief and loss" grief') == {"Apart", "Grief And Anxiety"}


def test_search_combines_with_filters(make_listing):
    make_listing("Grief Counsellor", services=[{"type": "counselling", "concerns": ["grief"]}])
    make_listing("Grief Art", services=[{"type": "art-therapy", "concerns": ["grief"]}])
    filterset = ProviderFilter(
        QueryDict("q=grief&type=art-therapy"), queryset=Provider.objects.published()
    )
    assert [p.name for p in filterset.qs] == ["Grief Art"]


def test_words_that_say_nothing_do_not_filter(make_listing):
    make_listing("Anyone")
    for q in ["", "   ", '""', "or"]:
        assert found(q) == {"Anyone"}, q


# --------------------------------------------------------------------------- PostgreSQL


def test_word_forms(make_listing):
    """PostgreSQL stems words; SQLite matches the letters as typed, inside longer words too."""
    make_listing(
        "Family Work",
        statement="I see families and their children together.",
        services=[{"type": "psychotherapy"}],
    )
    make_listing("Relating", services=[{"type": "psychotherapy", "concerns": ["relationships"]}])
    make_listing(
        "Trained", statement="I trained in counselling.", services=[{"type": "play-therapy"}]
    )
    assert found("relationship") == {"Relating"}
    if POSTGRESQL:
        assert found("family") == {"Family Work"}
        # "counselled" and "counselling" share the stem "counsel" (but "counsellors" is
        # stemmed to "counsellor": see test_counsellors_finds_counselling).
        assert found("counselled") == {"Trained"}
    else:
        assert found("famil") == {"Family Work"}
        assert found("families") == {"Family Work"}
        assert found("counselled") == set()
        assert found("counsel") == {"Trained"}


def test_counsellors_finds_counselling(make_listing, synonyms):
    make_listing("Talking Rooms", services=[{"type": "counselling"}])
    make_listing("Deep Work", services=[{"type": "psychotherapy"}])
    assert found("counsellors") == {"Talking Rooms"}
    assert found("counsellor") == {"Talking Rooms"}
    assert found("counselling") == {"Talking Rooms"}
    assert found("psychotherapists") == {"Deep Work"}
    assert found("psychotherapist") == {"Deep Work"}


def test_names_and_concerns_rank_above_the_statement(make_listing):
    """PostgreSQL weights name and concerns above the statement; SQLite ranks name matches first."""
    make_listing("Aaron Byrne", statement="Some of my clients come to me after a loss: grief.")
    make_listing("Grief Care", statement="A small practice.")
    make_listing("Zoe Clark", statement="A small practice.", services=[{"concerns": ["grief"]}])
    ranked = search("grief")
    ranks = {
        p.name: p.rank for p in search_providers(Provider.objects.published(), "grief").queryset
    }
    assert ranked[0] in {"Grief Care", "Zoe Clark"}
    assert ranks["Grief Care"] > ranks["Aaron Byrne"]
    if POSTGRESQL:
        assert set(ranked[:2]) == {"Grief Care", "Zoe Clark"}
        assert ranked[2] == "Aaron Byrne"
        assert ranks["Zoe Clark"] > ranks["Aaron Byrne"]
    else:
        assert ranked == ["Grief Care", "Aaron Byrne", "Zoe Clark"]  # then by name


def test_or_between_words(make_listing):
    make_listing("Grief", services=[{"concerns": ["grief"]}])
    make_listing("Anxiety", services=[{"concerns": ["anxiety"]}])
    make_listing("Neither", services=[{"concerns": ["stress"]}])
    assert found("grief or anxiety") == {"Grief", "Anxiety"}


def test_a_name_match_ranks_first_on_both_databases(make_listing):
    make_listing("Aaron Byrne", statement="Some of my clients come to me after a loss: grief.")
    make_listing("Grief Care", statement="A small practice.")
    assert search("grief") == ["Grief Care", "Aaron Byrne"]


# --------------------------------------------------------------------------- synonyms


def test_synonyms_from_the_fixture(make_listing, synonyms):
    make_listing("Deep Work", services=[{"type": "psychotherapy"}])
    make_listing("Loss Support", services=[{"type": "art-therapy", "concerns": ["grief"]}])
    make_listing(
        "Thinking Differently",
        statement="Cognitive behavioural therapy, short term.",
        services=[{"type": "play-therapy"}],
    )
    make_listing("Talking Rooms", services=[{"type": "counselling"}])
    assert found("talk therapy") == {"Deep Work"}
    assert found("bereavement") == {"Loss Support"}
    assert found("Bereavement") == {"Loss Support"}
    assert found("CBT") == {"Thinking Differently"}
    assert found("cbt") == {"Thinking Differently"}
    # "talking therapy" means psychotherapy or counselling: either will do.
    assert found("talking therapy") == {"Deep Work", "Talking Rooms"}


def test_expand_replaces_the_longest_phrase_first(synonyms):
    assert expand("bereavement counselling") == "grief counselling"
    assert expand("bereavement") == "grief"
    assert expand("CBT in Leeds") == "cognitive behavioural therapy in Leeds"
    assert expand("grief") == ""
    # Whole words only.
    assert expand("cbt-informed") == ""
    assert expand("worrying") == ""


def test_a_synonym_staff_add_is_used_once_the_cache_is_cleared(make_listing):
    make_listing("Loss Support", services=[{"concerns": ["grief"]}])
    assert found("heartbreak") == set()
    SearchSynonym.objects.create(phrase="heartbreak", means="grief")
    # The synonyms are cached briefly; the admin clears the cache when staff save one.
    assert found("heartbreak") == set()
    forget_synonyms()
    assert found("heartbreak") == {"Loss Support"}
    assert found("heartbreak -grief") == set()


def test_a_synonym_added_in_the_admin_is_used_at_once(make_listing, staff_client):
    make_listing("Loss Support", services=[{"concerns": ["grief"]}])
    assert found("mourning") == set()
    response = staff_client.post(
        "/admin/services/searchsynonym/add/", {"phrase": "Mourning", "means": "grief"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SearchSynonym.objects.get().phrase == "mourning"
    assert found("mourning") == {"Loss Support"}


def test_a_synonym_meaning_with_a_backslash_is_taken_literally(make_listing):
    make_listing("Loss Support", services=[{"concerns": ["grief"]}])
    SearchSynonym.objects.create(phrase="sorrow", means=r"grief \d")
    assert expand("sorrow") == r"grief \d"
    SearchSynonym.objects.create(phrase="lament", means=r"grief\1")
    forget_synonyms()
    assert expand("lament") == r"grief\1"
    search("sorrow")  # no error


# --------------------------------------------------------------------------- spelling


def test_suggest_spelling_after_indexing(make_listing):
    make_listing("Calm Minds", services=[{"concerns": ["anxiety"]}])
    assert SearchWord.objects.filter(word="anxiety").exists()
    assert suggest_spelling("anxeity") == "anxiety"
    assert suggest_spelling("Anxeity") == "anxiety"
    assert suggest_spelling("anxiety") == ""  # already a word of the listings
    assert suggest_spelling("zzzzqqq") == ""
    assert suggest_spelling("cbt") == ""  # short words are left alone
    assert suggest_spelling("-anxeity") == ""  # and excluded ones


def test_spelling_is_corrected_on_the_results_page(client, make_listing):
    make_listing("Calm Minds", services=[{"concerns": ["anxiety"]}])
    make_listing("Other", services=[{"concerns": ["grief"]}])
    assert found("anxeity") == set()

    response = client.get("/find/", {"q": "anxeity"})
    assert response.status_code == 200
    html = response.content.decode()
    assert [p.name for p in response.context["page"].object_list] == ["Calm Minds"]
    assert (
        "No results for “anxeity”. Showing results for “<strong>anxiety</strong>” instead." in html
    )
    assert "Calm Minds" in html and ">Other<" not in html


def test_no_correction_when_the_words_find_something(client, make_listing):
    make_listing("Anxeity Name", statement="A name with a typo in it.")
    make_listing("Calm Minds", services=[{"concerns": ["anxiety"]}])
    response = client.get("/find/", {"q": "anxeity"})
    assert [p.name for p in response.context["page"].object_list] == ["Anxeity Name"]
    assert "Showing results for" not in response.content.decode()


# --------------------------------------------------------------------------- the document


def test_the_document_follows_changes_once_reindexed(make_listing, index):
    provider = make_listing("Changing", statement="Woodland walks.")
    assert found("woodland") == {"Changing"}
    Provider.objects.filter(pk=provider.pk).update(statement="Seaside walks.")
    assert found("seaside") == set()  # not until it is indexed again
    index(provider)
    assert found("seaside") == {"Changing"}
    assert found("woodland") == set()


def test_result_card_is_denormalised(make_listing):
    provider = make_listing(
        "Card",
        places=[("Leeds", *LEEDS)],
        services=[
            {"type": "counselling", "concerns": ["grief"], "fee_min": Decimal(40)},
            {"type": "art-therapy", "formats": ["online"], "is_free": True},
        ],
    )
    card = provider.card
    assert sorted(card["types"]) == [["art-therapy", "Art therapy"], ["counselling", "Counselling"]]
    assert card["concerns"] == [["grief", "Grief and loss"]]
    assert card["formats"] == ["in_person", "online"]
    assert card["towns"] == ["Leeds"]
    assert card["free"] is True and card["only_free"] is False
    assert card["fee_min"] == "40.00"
