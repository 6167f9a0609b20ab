"""A profile's first screen (what, how much, where, taking clients, how to get in touch),
the service a result card led with, and the search kept on the way to the comparison."""

import re
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from services.models import Provider
from services.profiles import profile_lead_with, profile_load
from tests.conftest import LEEDS, MANCHESTER
from tests.test_find import PROFILE_QUERIES

pytestmark = pytest.mark.django_db

MATCH_LABEL = "The service that matched your search"


@pytest.fixture
def willow(make_listing):
    """A practice in Leeds with counselling (£40–£60) and a free support group."""
    return make_listing(
        "Willow Practice",
        slug="willow-practice",
        phone="0113 496 0000",
        accepting_new_clients=True,
        statement="We have worked with grief and loss in Leeds for many years.",
        places=[("Leeds", *LEEDS)],
        services=[
            {
                "type": "counselling",
                "concerns": ["grief"],
                "fee_min": Decimal("40"),
                "fee_max": Decimal("60"),
                "sliding_scale": True,
                "formats": ["in_person", "online"],
            },
            {
                "type": "support-groups",
                "name": "Grief group",
                "concerns": ["grief"],
                "is_free": True,
                "formats": ["in_person"],
            },
        ],
    )


def page(client, provider, **query) -> str:
    url = provider.get_absolute_url() + ("?" + urlencode(query) if query else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def position(html: str, text: str) -> int:
    """Where the text is on the page (after the site's own header and banner)."""
    at = html.find(text, html.index("<main"))
    assert at != -1, f"{text!r} is not on the page"
    return at


def service_headings(html: str) -> list[str]:
    return re.findall(
        r'<div class="service[^"]*"[^>]*>\s*(?:<p[^>]*>[^<]*</p>\s*)?<h3>([^<]+)', html
    )


# --------------------------------------------------------------------------- the first screen


def test_the_fee_availability_and_contact_come_before_the_long_sections(client, willow):
    html = page(client, willow)
    header_end = position(html, "</header>")
    first = {
        "offers": position(html, "<dd>Counselling, Support groups</dd>"),
        "fee": position(html, "<dd>£40–£60 a session; some free; sliding scale</dd>"),
        "where": position(html, "<dd>In person in Leeds · Online (video)</dd>"),
        "taking": position(html, "Taking new clients</dd>"),
        "message": position(
            html,
            f'<a class="button primary" href="/providers/{willow.slug}/contact/">Send a message'
            '<span class="visually-hidden"> to Willow Practice</span></a>',
        ),
        "call": position(html, '<a class="button" href="tel:01134960000">Call 0113 496 0000</a>'),
    }
    assert max(first.values()) < header_end
    assert header_end < position(html, 'id="specialises"')
    assert header_end < position(html, '<div class="statement">')
    # The long sections are all still there, in their order, after the first screen.
    headings = re.findall(r"<h2 id=\"(\w+)\">", html)
    assert headings == [
        "specialises",
        "approach",
        "qualifications",
        "about",
        "recommendations",
        "fees",
        "where",
        "contact",
        "freshness",
    ]
    assert html.count("<h1>") == 1


def test_not_taking_clients_and_phone_only_contact(client, make_listing):
    provider = make_listing(
        "Phone Only",
        email="",
        phone="07700 900123",
        accepting_new_clients=False,
        services=[{"is_free": True, "formats": ["phone"]}],
    )
    html = page(client, provider)
    header = html[position(html, 'class="profile-header"') : position(html, "</header>")]
    assert "<dd>Free</dd>" in header
    assert "<dd>By phone</dd>" in header
    assert "Not taking new clients at the moment</dd>" in header
    assert '<a class="button primary" href="tel:07700900123">Call 07700 900123</a>' in header
    assert "Send a message" not in html


def test_a_fee_not_given_says_so(client, make_listing):
    provider = make_listing("No Fee Given", services=[{"formats": ["online"]}])
    html = page(client, provider)
    assert "<dt>Fee</dt>\n      <dd>Fee not stated</dd>" in html


# --------------------------------------------------------------------------- ?service=


def test_the_service_a_card_led_with_comes_first_and_is_marked(client, willow):
    group = willow.services.get(name="Grief group")
    plain = page(client, willow)
    assert service_headings(plain) == ["Counselling", "Grief group "]
    assert MATCH_LABEL not in plain
    assert "aria-current" not in plain

    html = page(client, willow, service=str(group.uuid))
    assert service_headings(html) == ["Grief group ", "Counselling"]
    assert (
        '<div class="service matched" aria-current="true">\n'
        f'        <p class="match-label">{MATCH_LABEL}</p>\n'
        "        <h3>Grief group"
    ) in html
    assert html.count(MATCH_LABEL) == 1


@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "",
        "00000000-0000-0000-0000-000000000000",
        "{12345678-1234-5678-1234-567812345678",
        "x" * 5000,
        "\x00",
    ],
)
def test_a_service_that_is_not_one_of_theirs_is_ignored(client, willow, value):
    html = page(client, willow, service=value)
    assert service_headings(html) == ["Counselling", "Grief group "]
    assert MATCH_LABEL not in html


def test_a_service_of_another_provider_is_ignored(client, willow, make_listing):
    other = make_listing("Other Place").services.get()
    html = page(client, willow, service=str(other.uuid))
    assert MATCH_LABEL not in html


def test_the_matched_service_costs_no_query(client, willow, django_assert_num_queries):
    group = willow.services.get(name="Grief group")
    with django_assert_num_queries(PROFILE_QUERIES):
        client.get(willow.get_absolute_url() + f"?service={group.uuid}")


def test_profile_lead_with(willow):
    profile = profile_load(willow.slug)
    group = willow.services.get(name="Grief group")
    assert profile_lead_with(profile, None) is None
    assert profile_lead_with(profile, "nope") is None
    assert profile_lead_with(profile, str(group.uuid).upper()).service == group
    assert [detail.service for detail in profile.services][0] == group


# --------------------------------------------------------------------------- the search kept


def test_results_to_profile_to_shortlist_to_comparison_keeps_the_place(
    client, willow, make_listing
):
    rowan = make_listing(
        "Rowan Counselling",
        slug="rowan-counselling",
        places=[("Manchester", *MANCHESTER)],
        services=[{"concerns": ["grief"]}],
    )
    search = {"near": "Leeds", "concern": "grief"}
    # A card's link: the service it led with, and the search it came from.
    html = page(client, rowan, service=str(rowan.services.get().uuid), **search, sort="name")
    shortlist_link = re.search(r'<a href="([^"]+)" data-shortlist-link', html)[1]
    assert shortlist_link == "/shortlist/?near=Leeds&amp;concern=grief"
    next_url = re.search(r'name="next" value="([^"]+)"', html)[1].replace("&amp;", "&")
    for provider in (rowan, willow):
        response = client.post("/shortlist/", {"add": provider.slug, "next": next_url})
        assert response.status_code == 303
        assert dict(parse_qsl(urlsplit(response.url).query)).items() >= search.items()

    shortlist = client.get(shortlist_link.replace("&amp;", "&")).content.decode()
    form = shortlist[shortlist.index('class="shortlist-compare"') :]
    form = form[: form.index("</form>")]
    kept = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    assert kept == [("near", "Leeds"), ("concern", "grief")]
    chosen = re.findall(r'name="p" value="([^"]+)"', form)

    comparison = client.get("/compare/?" + urlencode([("p", slug) for slug in chosen] + kept))
    assert comparison.status_code == 200
    html = comparison.content.decode()
    assert "Distance from Leeds" in html
    assert 'href="/shortlist/?near=Leeds&amp;concern=grief">Back to your shortlist</a>' in html


def test_without_a_search_the_shortlist_link_is_plain(client, willow):
    html = page(client, willow)
    assert '<a href="/shortlist/" data-shortlist-link hidden>See your shortlist</a>' in html


def test_a_profile_of_a_draft_has_no_save(staff_client, make_listing):
    draft = make_listing("Draft Listing", status=Provider.Status.DRAFT)
    html = page(staff_client, draft)
    assert "data-shortlist-link" not in html


def test_a_profile_opened_from_the_comparison_keeps_the_place(client, willow, make_listing):
    make_listing("Rowan Counselling", slug="rowan-counselling", places=[("Leeds", *LEEDS)])
    html = client.get(
        "/compare/?"
        + urlencode({"p": ["willow-practice", "rowan-counselling"], "near": "Leeds"}, doseq=True)
    ).content.decode()
    assert '<a href="/providers/willow-practice/?near=Leeds">Willow Practice</a>' in html
    profile = client.get("/providers/willow-practice/?near=Leeds").content.decode()
    assert '<a href="/shortlist/?near=Leeds" data-shortlist-link hidden>' in profile


def test_a_group_says_its_own_language_and_takes_members(client, make_listing):
    provider = make_listing(
        "Riverside Circle",
        languages=["english"],
        accepting_new_clients=False,
        services=[{"type": "support-groups", "name": "Círculo", "languages": ["spanish"]}],
    )
    page = client.get(provider.get_absolute_url()).content.decode()
    assert "<dt>Held in</dt><dd>Spanish</dd>" in page
    assert "Not taking new members at the moment" in page
    assert "Not taking new clients" not in page
