"""The result cards and filter options built in services/cards.py."""

import datetime
import html

import pytest
from django.utils import translation

from services import cards
from services.search.filters import Criteria
from services.search.matching import Listed
from services.search.results import FilterGroup, Option, annotate_cards

TODAY = datetime.date(2026, 12, 1)

CARD = {
    "types": [["counselling", "Counselling"]],
    "approaches": ["CBT", "Integrative therapy", "Gestalt", "EMDR"],
    "concerns": [[f"c{n}", f"Concern {n}"] for n in range(7)] + [["grief", "Grief & loss"]],
    "credentials": [
        {"kind": "licence", "title": "MBACP <Accred>", "verified": "2025-01-01"},
        {"kind": "membership", "title": "UKCP", "verified": None},
    ],
    "towns": ["Leeds"],
    "formats": ["in_person", "online"],
    "fee_min": "40.00",
    "fee_max": "60.00",
    "currency": "GBP",
    "sliding_scale": True,
    "groups": [
        {
            "name": "Tuesday group",
            "weekday": 1,
            "start": "18:30",
            "frequency": "weekly",
            "starts_on": None,
        }
    ],
}


def card_html(**overrides) -> str:
    row = Listed(7, "ash-counselling", "Ash & <Co>", True, 2016, 3, CARD)
    for name, value in overrides.items():
        setattr(row, name, value)
    row.distance_km = 2.345
    annotate_cards([row], Criteria({"concern": ["grief"]}), TODAY)
    return str(cards.result_cards([row]))


def test_a_card_says_what_a_person_chooses_by(client):
    page = card_html()
    assert '<a href="/providers/ash-counselling/">Ash &amp; &lt;Co&gt;</a>' in page
    assert 'MBACP &lt;Accred&gt; <span class="verified">(checked by us)</span> · UKCP</p>' in page
    assert (
        '<p class="types">Counselling <span class="muted">· CBT, Integrative therapy, Gestalt</span>'
        in page
    )
    # The concern searched for comes first, marked; then four more.
    assert (
        'Works with: <strong class="matched">Grief &amp; loss</strong>, Concern 0, Concern 1, '
        "Concern 2, Concern 3 and more</p>"
    ) in page
    assert "<li>2.3 km away (Leeds) · also online</li>" in page
    assert "<li>£40–£60 a session · sliding scale</li>" in page
    assert '<li class="yes">Taking new clients</li>' in page
    assert "<li>3 recommendations</li>" in page
    assert "Next group: Tuesday group, Tuesday 1 December at 18:30" in page
    years = datetime.date.today().year - 2016
    assert f"<li>{years} years in practice</li>" in page


def test_a_card_leaves_out_what_is_not_known():
    page = card_html(accepting_new_clients=False, practising_since=None, recommendations_approved=0)
    assert '<li class="no">Not taking new clients</li>' in page
    assert "in practice" not in page
    assert "recommendation" not in page


def test_one_recommendation_is_singular():
    assert "<li>1 recommendation</li>" in card_html(recommendations_approved=1)


def test_filter_options_escape_and_mark_what_is_chosen():
    group = FilterGroup(name="concern", legend="Support with")
    group.options = [
        Option("grief", "Grief & loss", 12, True),
        Option("anger", "Anger", 0, False),
    ]
    markup = str(cards.filter_groups([group]))
    assert '<details class="filter-group" id="id_concern" open>' in markup
    assert '<summary>Support with <span class="muted">(1)</span></summary>' in markup
    assert (
        '<input type="checkbox" name="concern" value="grief" id="f-concern-grief" checked>'
        ' <label for="f-concern-grief">Grief &amp; loss <span class="count">(12)</span></label>'
    ) in markup
    assert '<li class="empty"><input type="checkbox" name="concern" value="anger"' in markup
    flags = str(cards.filter_options(None, [Option("free", "Free", 3, False)]))
    assert 'name="free" value="1" id="f-free"' in flags
    assert html.unescape(flags).count("(3)") == 1


def test_the_next_meeting_is_in_the_language_of_the_page():
    # The formatted day is kept per language: an English page's is not shown in German.
    assert "Tuesday 1 December" in card_html()
    with translation.override("de"):
        assert "Dienstag 1 Dezember" in card_html()
    assert "Tuesday 1 December" in card_html()


# The card leads with the service that met the search


def cards_of(client, **params) -> dict[str, str]:
    """{name: the card's HTML} of a results page."""
    page = client.get("/find/", params).content.decode()
    found = {}
    for card in page.split('<li class="card">')[1:]:
        name = card.split("</a></h3>")[0].rsplit(">", 1)[1]
        found[html.unescape(name)] = card.split("</li>\n</li>")[0]
    return found


@pytest.fixture
def two_services(make_listing):
    """Counselling at £120–£140 with a free group; and a £6 grief group beside £45
    counselling that does not work with grief."""
    make_listing(
        "Cedar Practice",
        services=[
            {"type": "counselling", "fee_min": 120, "fee_max": 140, "concerns": ["anxiety"]},
            {
                "type": "support-groups",
                "name": "Open circle",
                "is_free": True,
                "concerns": ["loneliness"],
                "formats": ["online"],
            },
        ],
    )
    make_listing(
        "Rowan Centre",
        services=[
            {"type": "counselling", "fee_min": 45, "concerns": ["anxiety"]},
            {"type": "support-groups", "name": "Grief cafe", "fee_min": 6, "concerns": ["grief"]},
        ],
    )


@pytest.mark.django_db
def test_under_a_fee_the_card_shows_the_service_within_it(client, two_services):
    card = cards_of(client, max_fee="50")["Cedar Practice"]
    assert '<p class="types">Support groups: Open circle' in card
    assert "<li>Free</li>" in card and "£120" not in card
    assert "<li>online</li>" in card
    assert "?service=" in card  # the profile shows this service first
    assert "Also offers: Counselling" in card
    assert "Works with: Loneliness</p>" in card
    assert "Taking new members" in card  # a group's word


@pytest.mark.django_db
def test_the_card_shows_the_service_that_works_with_the_concern(client, two_services):
    card = cards_of(client, concern="grief", max_fee="50")["Rowan Centre"]
    assert '<p class="types">Support groups: Grief cafe' in card
    assert "<li>£6 a session</li>" in card
    assert 'Works with: <strong class="matched">Grief and loss</strong></p>' in card
    assert "Also offers: Counselling" in card
    # The words alone choose it too; the counselling leads when it is what was asked for.
    assert (
        '<p class="types">Support groups: Grief cafe' in cards_of(client, q="grief")["Rowan Centre"]
    )
    counselling = cards_of(client, type="counselling")["Rowan Centre"]
    assert '<p class="types">Counselling' in counselling and "<li>£45 a session</li>" in counselling
    assert "Grief" not in counselling.split("Also offers")[0]
    assert "Also offers: Grief cafe" in counselling


@pytest.mark.django_db
def test_with_nothing_asked_of_a_service_the_card_sums_them_up(client, two_services):
    card = cards_of(client)["Rowan Centre"]
    assert "£6–£45 a session" in card and "Also offers" not in card


@pytest.mark.django_db
def test_also_online_only_when_the_service_shown_is_online(client, make_listing):
    make_listing(
        "Holly House",
        places=[("Leeds", 53.80, -1.55)],
        services=[
            {"type": "counselling", "fee_min": 40, "formats": ["in_person"]},
            {"type": "art-therapy", "fee_min": 50, "formats": ["in_person", "online"]},
        ],
    )
    near = {"near": "Leeds", "radius": "10"}
    counselling = cards_of(client, type="counselling", **near)["Holly House"]
    assert "km away (Leeds)</li>" in counselling and "also online" not in counselling
    art = cards_of(client, type="art-therapy", **near)["Holly House"]
    assert "km away (Leeds) · also online</li>" in art


@pytest.mark.django_db
def test_the_filters_count_leaves_out_the_words_and_the_place(client, make_listing):
    make_listing("Holly House", places=[("Leeds", 53.80, -1.55)])
    page = client.get("/find/", {"q": "help", "near": "Leeds", "free": "1"}).content.decode()
    assert "(1 active)" in page
    page = client.get("/find/", {"near": "Leeds"}).content.decode()
    assert "active)" not in page
    assert "Online, from anywhere" in page
    assert "Online, from anywhere" not in client.get("/find/").content.decode()


@pytest.mark.django_db
def test_a_group_that_is_full_says_so_as_a_group(client, make_listing):
    make_listing(
        "Oak Circle",
        accepting_new_clients=False,
        services=[{"type": "support-groups", "name": "Tuesday circle", "concerns": ["grief"]}],
    )
    make_listing(
        "Elm Practice",
        accepting_new_clients=False,
        services=[
            {"type": "support-groups", "name": "Friday circle", "concerns": ["grief"]},
            {"type": "counselling", "concerns": ["anxiety"]},
        ],
    )
    assert "Not taking new members" in cards_of(client, concern="grief")["Oak Circle"]
    assert "Not taking new members" in cards_of(client)["Oak Circle"]  # only a group
    assert "Not taking new members" in cards_of(client, concern="grief")["Elm Practice"]
    assert "Not taking new clients" in cards_of(client, concern="anxiety")["Elm Practice"]
    assert "Not taking new clients" in cards_of(client)["Elm Practice"]
