"""How availability, the wait for a first session and the reply figures are worded
(services/upkeep/showing.py), wherever a listing shows them: the result card, the profile,
the comparison and the shortlist; the HSDS attribute; the `starts_within` search."""

import datetime
import html
import re
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.utils import timezone

from services import cards as card_html
from services.comparison import comparison_build
from services.models import Provider
from services.profiles import profiles_load
from services.search import listing_index, matching, results
from services.search.facets import facet_counts, facet_counts_in_sql
from services.search.filters import Criteria, ProviderFilter, search_form_class
from services.upkeep import showing
from tests.test_my_listing import edit_url, listing_form, signed_in

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 6)
LONG_AGO = datetime.date(2026, 10, 3)  # older than AVAILABILITY_CONFIRM_DAYS: a lapse stays


# --------------------------------------------------------------------------- the words


@pytest.mark.parametrize(
    ("weeks", "groups_only", "said"),
    [
        (None, False, ""),
        (0, False, "First session within a week"),
        (1, False, "First session in about 1 week"),
        (2, False, "First session in about 2 weeks"),
        (8, False, "First session in about 2 months"),
        (0, True, "You can join at the next meeting"),
        (4, True, "Waiting list: about 4 weeks"),
    ],
)
def test_the_wait(weeks, groups_only, said):
    assert showing.wait_text(weeks, groups_only) == said


@pytest.mark.parametrize(
    ("rate", "hours", "said"),
    [
        (None, None, ""),
        (None, 3, ""),
        (80, 5, "Answers 80% of messages, usually within a few hours"),
        (80, 6, "Answers 80% of messages, usually within a day"),
        (100, 24, "Answers 100% of messages, usually within a day"),
        (60, 25, "Answers 60% of messages, usually within 2 days"),
        (60, 72, "Answers 60% of messages, usually within 3 days"),
        (0, None, "Has not answered recent messages"),
    ],
)
def test_the_replies(rate, hours, said):
    assert showing.reply_text(rate, hours) == said


def facts(**changes) -> dict:
    stored = {
        "accepting": True,
        "lapsed": False,
        "paused": False,
        "confirmed_on": "2026-12-03",
        "wait_weeks": 2,
        "reply_rate": None,
        "reply_hours": None,
    }
    return {**stored, **changes}


@pytest.mark.parametrize(
    ("changes", "state", "text", "confirmed", "wait"),
    [
        ({}, "taking", "Taking new clients", "confirmed 3 December 2026", "First session in about 2 weeks"),
        ({"accepting": False}, "not_taking", "Not taking new clients at the moment", "confirmed 3 December 2026", ""),
        ({"lapsed": True, "confirmed_on": "2026-10-03"}, "lapsed", "Availability not confirmed since 3 October 2026", "", ""),
        ({"lapsed": True, "confirmed_on": None}, "lapsed", "Availability not confirmed", "", ""),
        # No confirmed date beside "not answering": it would read as if that were confirmed.
        ({"paused": True}, "paused", "Not answering messages at the moment", "", ""),
        # Their own "not taking" stands, lapsed or paused.
        ({"accepting": False, "lapsed": True, "paused": True}, "not_taking", "Not taking new clients at the moment", "confirmed 3 December 2026", ""),
    ],
)  # fmt: skip
def test_each_state_in_words(changes, state, text, confirmed, wait):
    said = showing.availability(facts(**changes))
    assert (said.state, said.text, said.confirmed, said.wait) == (state, text, confirmed, wait)


def test_a_group_takes_members_and_joins_at_the_next_meeting():
    said = showing.availability(facts(wait_weeks=0), "members")
    assert (said.text, said.wait) == ("Taking new members", "You can join at the next meeting")


# --------------------------------------------------------------------------- listings


@pytest.fixture
def states(make_listing, days_ago):
    """One listing in each state, all with a wait of two weeks, all in Leeds."""
    common = {"places": [("Leeds", 53.80, -1.55)], "wait_weeks": 2}
    return {
        "taking": make_listing(
            "Ash Taking",
            accepting_confirmed_on=days_ago(3),
            reply_rate=80,
            reply_hours=20,
            replies_counted=10,
            **common,
        ),
        "not_taking": make_listing(
            "Beech Full", accepting_new_clients=False, accepting_confirmed_on=days_ago(3), **common
        ),
        "lapsed": make_listing(
            "Cedar Lapsed", accepting_confirmed_on=LONG_AGO, availability_lapsed=True, **common
        ),
        "paused": make_listing(
            "Damson Paused",
            accepting_confirmed_on=days_ago(3),
            paused_for_replies_at=timezone.now(),
            **common,
        ),
    }


def cards(client, **query) -> dict[str, str]:
    """{name: the text of its result card} on /find/."""
    page = client.get("/find/", query).content.decode()
    found = {}
    for card in page.split('<li class="card">')[1:]:
        name = re.search(r'<h3 id="provider-\d+"><a [^>]+>([^<]+)</a>', card)[1]
        found[html.unescape(name)] = html.unescape(re.sub(r"<[^>]+>", " ", card))
    return found


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_states_are_what_the_database_computes(states):
    accepting_now = dict(Provider.objects.values_list("name", "accepting_now"))
    for listing in states.values():
        said = showing.availability(listing)
        assert (said.state == "taking") is accepting_now[listing.name]


def test_the_card_says_each_state(client, states, days_ago):
    confirmed = f"confirmed {days_ago(3).day} {days_ago(3):%B %Y}"
    got = {name: words(text) for name, text in cards(client).items()}
    assert f"Taking new clients ({confirmed})" in got["Ash Taking"]
    assert "First session in about 2 weeks" in got["Ash Taking"]
    assert "Answers 80% of messages, usually within a day" in got["Ash Taking"]
    assert f"Not taking new clients at the moment ({confirmed})" in got["Beech Full"]
    assert "Availability not confirmed since 3 October 2026" in got["Cedar Lapsed"]
    assert "Not answering messages at the moment" in got["Damson Paused"]
    # The wait is only for a listing taking people on; no figures below enough messages.
    for name in ("Beech Full", "Cedar Lapsed", "Damson Paused"):
        assert "First session" not in got[name]
        assert "Taking new" not in got[name]
        assert "Answers" not in got[name]


def test_a_card_stored_before_these_facts_still_says_whether_they_take_clients(states):
    row = matching.card_rows([states["taking"].pk])[states["taking"].pk]
    del row.card["availability"]
    results.annotate_cards([row], Criteria({}), TODAY)
    assert '<li class="yes">Taking new clients</li>' in str(card_html.result_cards([row]))


def profile_text(client, listing) -> str:
    page = client.get(listing.get_absolute_url()).content.decode()
    start = page.index('class="profile-header"')
    header = page[start : page.index("</header>", start)]
    return words(html.unescape(re.sub(r"<[^>]+>", " ", header))), page


def test_the_profile_says_each_state(client, states, days_ago):
    confirmed = f"confirmed {days_ago(3).day} {days_ago(3):%B %Y}"
    header, page = profile_text(client, states["taking"])
    assert f"New clients Taking new clients ({confirmed})" in header
    assert "How soon First session in about 2 weeks" in header
    assert "Replies Answers 80% of messages, usually within a day" in header
    assert (
        "Counted from the messages sent to them through this site in the last 90 days."
        ' <a href="/about/#replies">How we count replies</a>'
    ) in page

    header, page = profile_text(client, states["not_taking"])
    assert f"Not taking new clients at the moment ({confirmed})" in header

    header, page = profile_text(client, states["lapsed"])
    assert "Availability not confirmed since 3 October 2026" in header
    assert '<dd class="availability muted">' in page

    header, page = profile_text(client, states["paused"])
    assert "Not answering messages at the moment" in header and confirmed not in header
    assert "are not marked as answered" in page

    for state in ("not_taking", "lapsed", "paused"):
        header, page = profile_text(client, states[state])
        assert "How soon" not in header and "First session" not in page
        assert "How we count replies" not in page  # no figures yet


def test_the_comparison_says_each_state(states):
    profiles = profiles_load([states[s].slug for s in ("taking", "not_taking", "lapsed", "paused")])
    rows = {row.criterion: row for row in comparison_build(profiles, Criteria({}), TODAY).rows}
    taking = rows["Taking new clients"].cells
    assert [cell[0].text for cell in taking] == [
        "Taking new clients",
        "Not taking new clients at the moment",
        "Availability not confirmed since 3 October 2026",
        "Not answering messages at the moment",
    ]
    assert [cell[0].tone for cell in taking] == ["yes", "no", "muted", "muted"]
    assert taking[0][0].note.startswith("Confirmed ")
    assert taking[2][0].note == taking[3][0].note == ""
    assert [[item.text for item in cell] for cell in rows["First session"].cells] == [
        ["First session in about 2 weeks"],
        [],
        [],
        [],
    ]
    replies = rows["Replies to messages"]
    assert replies.cells[0][0].text == "Answers 80% of messages, usually within a day"
    assert replies.cells[1:] == [[], [], []] and replies.empty == "Too few to say yet"


def test_the_shortlist_says_each_state(client, states):
    for listing in states.values():
        client.post("/shortlist/", {"add": listing.slug, "next": "/find/"})
    page = words(html.unescape(client.get("/shortlist/").content.decode()))
    assert "Taking new clients" in page and "First session in about 2 weeks" in page
    assert "Availability not confirmed since 3 October 2026" in page
    assert "Not answering messages at the moment" in page
    assert page.count("First session in") == 1


def test_the_about_page_says_how_replies_are_counted(client):
    page = client.get("/about/").content.decode()
    assert '<h2 id="replies">How we count replies</h2>' in page
    for said in ("last 90 days", "2 working days", "at least 5 messages", "marks as spam"):
        assert said in page


# --------------------------------------------------------------------------- HSDS


def test_hsds_publishes_accepting_only_while_it_holds(client, states, days_ago):
    def accepting(listing):
        organization = client.get(f"/api/hsds/organizations/{listing.uuid}").json()
        codes = {
            a["taxonomy_term"]["code"]: a.get("value") for a in organization.get("attributes", [])
        }
        return codes.get("accepting-new-clients", "absent")

    assert accepting(states["taking"]) == days_ago(3).isoformat()
    for state in ("not_taking", "lapsed", "paused"):
        assert accepting(states[state]) == "absent"


# --------------------------------------------------------------------------- starts_within


@pytest.fixture
def waits(make_listing, days_ago):
    def listing(name, wait_weeks, **fields):
        fields.setdefault("accepting_confirmed_on", days_ago(3))
        return make_listing(name, wait_weeks=wait_weeks, **fields)

    listing("Within A Week", 0)
    listing("One Week", 1)
    listing("Three Weeks", 3, places=[("Leeds", 53.80, -1.55)])  # in person, not online
    listing("Six Weeks", 6)
    listing("Half A Year", 26)
    listing("Wait Not Said", None)
    listing("Full", 0, accepting_new_clients=False)
    listing("Lapsed With A Wait", 0, accepting_confirmed_on=LONG_AGO, availability_lapsed=True)
    listing("Paused With A Wait", 0, paused_for_replies_at=timezone.now())
    listing("Draft With A Wait", 0, status=Provider.Status.DRAFT)


def filtered(params: dict) -> ProviderFilter:
    query = QueryDict(urlencode(params, doseq=True))
    return ProviderFilter(query, queryset=Provider.objects.published())


def found(params: dict) -> tuple[list[str], list[str]]:
    """The names the SQL reference finds, and those the listing index finds."""
    reference = sorted(p.name for p in filtered(params).qs)
    criteria = filtered(params).criteria
    listed = matching.results(listing_index.current_index(), criteria, Provider.objects.published())
    return reference, sorted(row.name for row in listed[0:50])


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (["1"], ["One Week", "Within A Week"]),
        (["2"], ["One Week", "Within A Week"]),
        (["4"], ["One Week", "Three Weeks", "Within A Week"]),
        (["8"], ["One Week", "Six Weeks", "Three Weeks", "Within A Week"]),
        # Options of one filter: any of them will do.
        (["1", "4"], ["One Week", "Three Weeks", "Within A Week"]),
    ],
)
def test_starts_within_finds_a_confirmed_wait_no_longer(waits, chosen, expected):
    reference, index = found({"starts_within": chosen})
    assert reference == index == expected


def test_starts_within_with_other_criteria(waits):
    reference, index = found({"starts_within": ["4"], "accepting": "1", "format": "online"})
    assert reference == index == ["One Week", "Within A Week"]


def test_starts_within_is_counted_in_memory_and_in_sql(waits):
    expected = {"1": 2, "2": 2, "4": 3, "8": 4}
    for criteria in (filtered({}).criteria, filtered({"starts_within": ["1"]}).criteria):
        # An option's count ignores its own filter's choice.
        assert facet_counts(criteria, Provider.objects.published())["starts_within"] == expected
        assert facet_counts_in_sql(criteria, Provider.objects.published())["starts_within"] == (
            expected
        )
    online = filtered({"format": "online"}).criteria
    expected = {"1": 2, "2": 2, "4": 2, "8": 3}
    assert facet_counts(online, Provider.objects.published())["starts_within"] == expected
    assert facet_counts_in_sql(online, Provider.objects.published())["starts_within"] == expected


def test_starts_within_on_the_page_its_chips_and_a_bad_value(client, waits):
    field = search_form_class().base_fields["starts_within"]
    assert field.label == "First session within"
    assert [label for _value, label in field.choices] == ["1 week", "2 weeks", "4 weeks", "8 weeks"]
    query = {"starts_within": ["2", "8"]}
    chips = results.chips(filtered(query).criteria, QueryDict(urlencode(query, doseq=True)), "")
    assert [chip.label for chip in chips] == [
        "first session within 2 weeks",
        "first session within 8 weeks",
    ]
    page = client.get("/find/", {"starts_within": "4"}).content.decode()
    assert 'name="starts_within" value="4" id="f-starts_within-4" checked>' in page
    assert "3 listings" in page
    bad = client.get("/find/", {"starts_within": "3"})
    assert bad.status_code < 500 and "Select a valid choice" in bad.content.decode()


# --------------------------------------------------------------------------- my listing


def test_saving_my_listing_confirms_availability_and_the_wait(client, make_published_provider):
    listing = make_published_provider("Hannah Reid Counselling", email="hannah@example.org")
    Provider.objects.filter(pk=listing.pk).update(
        accepting_confirmed_on=LONG_AGO, availability_lapsed=True
    )
    signed_in(client, "hannah@example.org")
    page = client.get(edit_url(listing)).content.decode()
    assert "How soon could a new client have a first session?" in page
    response = client.post(
        edit_url(listing),
        # A date in the request is not taken: saving confirms today.
        listing_form(listing, wait_weeks="3", accepting_confirmed_on="2020-01-01"),
    )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.wait_weeks == 3
    assert listing.accepting_confirmed_on == timezone.localdate()
    assert listing.availability_lapsed is False and listing.accepting_now is True
    assert listing.card["availability"]["wait_weeks"] == 3
