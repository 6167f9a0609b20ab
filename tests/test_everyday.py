"""Everyday words (fixtures/everyday_words.json) find the concerns people mean, and words
of crisis (fixtures/crisis_words.json) open the results with urgent help."""

import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from services.models import EverydayPhrase
from services.search import everyday

pytestmark = pytest.mark.django_db

CRISIS = json.loads((settings.BASE_DIR / "fixtures" / "crisis_words.json").read_text())


def meant(q: str) -> set[str]:
    return {slug for m in everyday.vocabulary().meant(q) for slug, _name in m.concerns}


# Matching


def test_threads_stem_at_the_same_time_without_mixing_words():
    # gunicorn's threads stem searches at once; a stemmer shared between them raised
    # IndexError under the benchmark's load. Switching threads very often shows it here.
    interval = sys.getswitchinterval()
    texts = ["panicking all the time, relationships, organisational bereavement"] * 2000
    expected = [everyday.words(text) for text in texts]
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(everyday.words, texts)) == expected
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.parametrize(
    ("searched", "phrase", "found"),
    [
        ("lost my dear old mum", "lost mum", True),  # three words between
        ("lost my dear old sweet mum", "lost mum", False),  # four
        ("mum lost", "lost mum", False),  # the phrase's order
        ("Can't stop CRYING!", "cant stop crying", True),
        ("panicked", "panicking", True),  # one stem
    ],
)
def test_a_phrase_matches_its_words_in_order_in_any_form(searched, phrase, found):
    assert everyday.contains(everyday.words(searched), everyday.words(phrase)) is found


# The vocabulary


@pytest.mark.parametrize(
    ("q", "concern"),
    [
        ("my husband passed away", "grief"),
        ("panicking all the time", "anxiety"),
        ("we argue constantly", "relationships"),
        ("flashbacks", "trauma"),
        ("flashbaks", "trauma"),  # a typo
        ("panik atak", "anxiety"),
        ("I can't sleep at night", "anxiety"),
        ("drinking too much", "addiction"),
        ("my son has tantrums", "child-behaviour"),
        ("hate my job", "career"),
        ("binge eating", "eating-disorders"),
    ],
)
def test_everyday_words_mean_concerns(everyday_words, q, concern):
    assert concern in meant(q)


def test_words_that_are_not_everyday_phrases_mean_nothing(everyday_words):
    assert meant("cognitive behavioural therapy") == set()
    assert everyday.search_words("person centred") == ""


def test_the_vocabulary_covers_what_people_come_with(everyday_words):
    phrases = EverydayPhrase.objects.prefetch_related("concerns")
    assert phrases.count() >= 300
    per_concern = {}
    for phrase in phrases:
        for concern in phrase.concerns.all():
            per_concern[concern.slug] = per_concern.get(concern.slug, 0) + 1
    for slug in [
        "grief",
        "anxiety",
        "depression",
        "relationships",
        "parenting",
        "trauma",
        "self-harm",
        "eating-disorders",
        "stress",
        "career",
        "addiction",
        "child-behaviour",
    ]:
        assert per_concern.get(slug, 0) >= 20, slug


def test_sleep_is_covered_though_it_is_no_concern(everyday_words):
    for q in ["insomnia", "cant sleep", "awake at night"]:
        assert meant(q), q


# Words of crisis, both ways


@pytest.mark.parametrize("q", CRISIS["crisis_examples"])
def test_words_of_crisis_suggest_risk(q):
    assert everyday.suggests_risk(q)


@pytest.mark.parametrize("q", CRISIS["not_crisis"] + ["self-esteem", "grief", "self care"])
def test_no_false_alarm(q):
    assert not everyday.suggests_risk(q)


# On the results page


@pytest.fixture
def listings(make_listing):
    make_listing(
        "Loss and After",
        services=[{"type": "counselling", "concerns": ["grief"]}],
        places=[("Leeds", 53.8, -1.55)],
    )
    make_listing("Calm Minds", services=[{"type": "psychotherapy", "concerns": ["anxiety"]}])


def names(response) -> list[str]:
    return [card.name for card in response.context["page"].object_list]


def test_everyday_words_find_the_concern(client, listings, everyday_words):
    assert names(client.get("/find/", {"q": "my husband passed away"})) == ["Loss and After"]
    response = client.get("/find/", {"q": "panicking all the time"})
    assert names(response) == ["Calm Minds"]
    assert "we also looked for support with: Anxiety." in response.content.decode()


def test_an_edited_phrase_counts_at_once(staff_client, listings, everyday_words):
    assert names(staff_client.get("/find/", {"q": "my budgie flew off"})) == []
    from services.models import Concern

    response = staff_client.post(
        "/admin/services/everydayphrase/add/",
        {"phrase": "Budgie  flew", "concerns": [Concern.objects.get(slug="grief").pk]},
    )
    assert response.status_code == 302
    assert EverydayPhrase.objects.filter(phrase="budgie flew").exists()
    assert names(staff_client.get("/find/", {"q": "my budgie flew off"})) == ["Loss and After"]


def test_a_phrase_must_point_somewhere(staff_client, everyday_words):
    response = staff_client.post("/admin/services/everydayphrase/add/", {"phrase": "nowhere"})
    assert response.status_code == 200
    assert "Choose the concerns or kinds of support" in response.content.decode()


def test_words_that_find_nothing_offer_the_closest_concerns(client, listings, everyday_words):
    response = client.get("/find/", {"q": "nite terors"})
    assert names(response) == []
    page = response.content.decode()
    assert "Did you mean support with:" in page
    assert 'href="?concern=anxiety">Anxiety</a> (1 result)' in page


def test_words_of_crisis_open_the_page_with_urgent_help(client, listings, everyday_words, caplog):
    with caplog.at_level(logging.DEBUG):
        page = client.get("/find/", {"q": "I want to die, my husband passed away"})
    body = page.content.decode()
    main = body[body.index('<main id="main"') :]
    assert "116 123" in main and "85258" in main and "NHS 111" in main and "999" in main
    # Inside the main content, before any result; the support still follows.
    assert main.index("urgent-help") < main.index('class="cards"')
    assert names(page) == ["Loss and After"]
    assert "want to die" not in caplog.text


@pytest.mark.parametrize("q", ["self-esteem", "grief", "", "anxiety"])
def test_no_urgent_panel_otherwise(client, listings, q):
    assert "urgent-help" not in client.get("/find/", {"q": q}).content.decode()


def test_words_no_listing_uses_are_left_out_when_nothing_matched(client, make_listing):
    make_listing("Little Steps", services=[{"type": "play-therapy", "concerns": ["anxiety"]}])
    response = client.get("/find/", {"q": "play therapy for my son"})
    assert names(response) == ["Little Steps"]
    page = response.content.decode()
    assert "No results for “play therapy for my son”" in page
    assert "Showing results for “<strong>play therapy</strong>”" in page
    # A search that matches as typed is left as it is.
    assert "Showing results" not in client.get("/find/", {"q": "play therapy"}).content.decode()
