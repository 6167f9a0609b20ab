"""The results page (/find/), the profile page and the explanation pages, through the client."""

import datetime
import html as html_module
import json
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlencode

import pytest
from django.db import connection

from services.memo import Memo
from services.models import Concern, Location, Provider, SupportType
from services.search import facet_index, page
from tests.conftest import LEEDS, MANCHESTER

pytestmark = pytest.mark.django_db

# Queries of a results page with filters and a typed place, once the taxonomy choices and
# the place are remembered and the listing index is built: whether the listings changed,
# the rows of the page shown, and which of their services meet the service criteria (a
# card leads with one). The count, the order and the option counts come from the index.
FIND_QUERIES = 3
# A place is looked up once, and again after the listings change (their postcodes are places).
PLACE_QUERIES = 1
# Search words add a query: on PostgreSQL turning them into the database's query, once
# for the same words (they are remembered), on SQLite the search itself.
FIND_QUERIES_WITH_NEW_WORDS = FIND_QUERIES + 1
FIND_QUERIES_WITH_WORDS = FIND_QUERIES + (connection.vendor != "postgresql")
# Building the in-memory listing index (services/search/facet_index.py), once per process: the
# change log's end, providers, services, each criterion's own, places (and the search
# words and their pairs), and the changes made meanwhile, instead of the change log
# read of every other request.
INDEX_BUILD_QUERIES = 4 + facet_index.CRITERIA_QUERIES + 2 * (connection.vendor == "postgresql")
# Applying a change: the same reads, of the changed listings only (services/search/listing_index.py).
INDEX_APPLY_QUERIES = INDEX_BUILD_QUERIES - 1
# The first request: every taxonomy's choices (one query) and the index build too.
FIND_QUERIES_COLD = FIND_QUERIES + PLACE_QUERIES + 1 + INDEX_BUILD_QUERIES
# The profile: provider, qualifications, locations, services, every linked term, recommendations.
PROFILE_QUERIES = 6  # services/profiles.py


def get(client, url, params=None, status=200):
    response = client.get(url, params)
    assert response.status_code == status, response.content.decode()[:3000]
    return response


def names(response) -> list[str]:
    return [provider.name for provider in response.context["page"].object_list]


def summary(response) -> str:
    match = re.search(
        r'<h2 id="results-title" class="summary" tabindex="-1">(.*?)</h2>',
        response.content.decode(),
    )
    return html_module.unescape(match[1])


def chips(response) -> dict[str, str]:
    """{chip label: the query string that removes it}."""
    found = re.findall(
        r'<a href="\?([^"]*)" aria-label="Remove ([^"]*)">', response.content.decode()
    )
    return {html_module.unescape(label): html_module.unescape(query) for query, label in found}


def errors(response) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


def at(town, coordinates):
    return (town, *coordinates)


@pytest.fixture
def leeds_listings(make_listing):
    """Two grief counsellors in Leeds, and listings that each miss one criterion."""
    make_listing(
        "Ash Counselling",
        places=[at("Leeds", LEEDS)],
        languages=["english"],
        services=[{"type": "counselling", "concerns": ["grief"], "fee_min": Decimal(40)}],
    )
    make_listing(
        "Birch Counselling",
        places=[at("Leeds", (53.81, -1.56))],
        languages=["english", "spanish"],
        services=[{"type": "counselling", "concerns": ["grief", "anxiety"], "is_free": True}],
    )
    make_listing(
        "Manchester Counselling",
        places=[at("Manchester", MANCHESTER)],
        languages=["polish"],
        services=[{"type": "counselling", "concerns": ["grief"]}],
    )
    make_listing(
        "Leeds Art",
        places=[at("Leeds", LEEDS)],
        services=[{"type": "art-therapy", "concerns": ["grief"]}],
    )
    make_listing(
        "Leeds Anxiety",
        places=[at("Leeds", LEEDS)],
        services=[{"type": "counselling", "concerns": ["anxiety"], "fee_min": Decimal(90)}],
    )
    make_listing(
        "Online Grief",
        languages=["spanish"],
        services=[{"type": "counselling", "concerns": ["grief"], "formats": ["online"]}],
    )


GRIEF_IN_LEEDS = {"type": "counselling", "concern": "grief", "near": "Leeds"}


# --------------------------------------------------------------------------- summary and chips


def test_summary_line(client, leeds_listings):
    response = get(client, "/find/", GRIEF_IN_LEEDS)
    assert names(response) == ["Ash Counselling", "Birch Counselling"]
    assert summary(response) == "2 counsellors for grief and loss within 10 km of Leeds"
    assert (
        "<title>2 counsellors for grief and loss within 10 km of Leeds" in response.content.decode()
    )

    # Online services count as near, when online is asked for (and then in-person ones do not).
    response = get(client, "/find/", {**GRIEF_IN_LEEDS, "format": "online", "radius": "25"})
    assert names(response) == ["Online Grief"]
    assert summary(response) == "1 counsellor for grief and loss within 25 km of Leeds or online"


def test_the_frame_is_rendered_once_and_the_title_escaped(client, leeds_listings):
    get(client, "/find/", GRIEF_IN_LEEDS)
    # Words no listing has: the title says what was searched for, escaped.
    response = get(client, "/find/", {"q": '<b>qqq</b> "zzz'})
    assert "services/find.html" not in [t.origin.template_name for t in response.templates]
    html = response.content.decode()
    head, body = html.split("</title>", 1)
    assert "<title>0 listings matching “&lt;b&gt;qqq&lt;/b&gt; &quot;zzz” · " in head
    assert "<b>qqq" not in html
    assert html.count('<main id="main"') == 1 and body.count("<title>") == 0
    assert "Part of your search" not in html and 'class="summary" tabindex="-1">0 listings' in body

    response = get(client, "/find/", {"type": "counselling", "concern": "anxiety", "near": "Leeds"})
    assert summary(response) == "2 counsellors for anxiety within 10 km of Leeds"
    response = get(client, "/find/", {"type": "art-therapy"})
    assert summary(response) == "1 art therapist"
    response = get(client, "/find/", {"concern": ["grief", "anxiety"], "q": "leeds"})
    assert summary(response) == "4 listings for grief and loss or anxiety matching “leeds”"
    response = get(client, "/find/")
    assert summary(response) == "6 listings"


def test_every_active_filter_is_a_chip_that_removes_itself(client, leeds_listings):
    params = {**GRIEF_IN_LEEDS, "concern": ["grief", "anxiety"], "free": "1", "max_fee": "50"}
    response = get(client, "/find/", params)
    assert names(response) == ["Birch Counselling"]
    found = chips(response)
    assert list(found) == [
        "within 10 km of Leeds",
        "Counselling",
        "Grief and loss",
        "Anxiety",
        "up to £50 a session",
        "free",
    ]
    removed_concern = parse_qs(found["Grief and loss"])
    assert removed_concern["concern"] == ["anxiety"]
    assert removed_concern["type"] == ["counselling"]
    assert parse_qs(found["within 10 km of Leeds"]).keys() == {
        "type",
        "concern",
        "free",
        "max_fee",
    }

    # Follow each chip's link: that chip is gone, every other one is still there.
    for label, query in found.items():
        after = get(client, f"/find/?{query}")
        remaining = chips(after)
        assert label not in remaining, label
        assert set(remaining) == set(found) - {label}, label


def test_the_search_words_are_a_chip_too(client, leeds_listings):
    response = get(client, "/find/", {"q": "grief", "type": "counselling"})
    found = chips(response)
    assert "“grief”" in found
    assert parse_qs(found["“grief”"]) == {"type": ["counselling"]}
    assert "Clear all" in response.content.decode()


@pytest.mark.parametrize(
    "max_fee, label", [("50", "up to £50 a session"), ("12.50", "up to £12.50 a session")]
)
def test_the_fee_limit_chip_shows_the_limit_asked_for(client, leeds_listings, max_fee, label):
    response = get(client, "/find/", {"max_fee": max_fee})
    assert label in chips(response)


def test_no_chips_without_filters(client, leeds_listings):
    response = get(client, "/find/")
    assert chips(response) == {}
    assert 'class="chips removable"' not in response.content.decode()


# --------------------------------------------------------------------------- pages


@pytest.fixture
def many_counsellors(make_listing):
    """25 counsellors for grief in Leeds (more than a page) and one for anxiety."""

    def make(count=25):
        for n in range(count):
            make_listing(
                f"Counsellor {n:02d}",
                places=[at("Leeds", (LEEDS[0] + n / 1000, LEEDS[1]))],
                languages=["english", "welsh"],
                services=[
                    {
                        "type": "counselling",
                        "concerns": ["grief", "anxiety"],
                        "approaches": ["cbt", "person-centred"],
                        "age_groups": ["adults"],
                        "fee_min": Decimal(40 + n),
                    },
                    {"type": "art-therapy", "concerns": ["trauma"], "formats": ["online"]},
                ],
            )

    return make


def test_pagination_links_keep_the_filters(client, many_counsellors, make_listing):
    many_counsellors()
    make_listing("Not Grief", services=[{"concerns": ["anxiety"]}])
    params = {"type": "counselling", "concern": "grief", "sort": "name"}
    first = get(client, "/find/", params)
    assert first.context["paginator"].count == 25
    assert names(first) == [f"Counsellor {n:02d}" for n in range(20)]
    html = first.content.decode()
    assert "Page 1 of 2" in html
    link = html_module.unescape(re.search(r'<a href="\?([^"]*)" rel="next">Next</a>', html)[1])
    assert parse_qs(link) == {
        "type": ["counselling"],
        "concern": ["grief"],
        "sort": ["name"],
        "page": ["2"],
    }
    second = get(client, f"/find/?{link}")
    assert names(second) == [f"Counsellor {n:02d}" for n in range(20, 25)]
    assert summary(second) == summary(first) == "25 counsellors for grief and loss"
    back = html_module.unescape(
        re.search(r'<a href="\?([^"]*)" rel="prev">Previous</a>', second.content.decode())[1]
    )
    assert parse_qs(back)["page"] == ["1"] and parse_qs(back)["concern"] == ["grief"]


@pytest.mark.parametrize("page", ["3", "99", str(10**12)])
def test_a_page_past_the_end_shows_the_last_page_with_a_message(client, many_counsellors, page):
    many_counsellors()
    response = get(client, "/find/", {"concern": "grief", "page": page}, status=400)
    assert response.context["page"].number == 2
    assert names(response) == [f"Counsellor {n:02d}" for n in range(20, 25)]
    assert (
        "There are only 2 pages of results, so here is the last one." in response.content.decode()
    )


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "\x00", "9" * 5000])
def test_a_page_that_is_not_a_page_number_shows_the_first_page(client, many_counsellors, page):
    many_counsellors()
    response = get(client, "/find/", {"concern": "grief", "page": page}, status=400)
    assert response.context["page"].number == 1
    assert len(names(response)) == 20
    assert "here is the first page" in response.content.decode()


def test_page_of_an_empty_result(client, leeds_listings):
    response = get(client, "/find/", {"concern": "eating-disorders", "page": "2"}, status=400)
    assert response.context["page"].number == 1
    assert names(response) == []
    assert "There is only 1 page of results, so here is the last one." in response.content.decode()


# --------------------------------------------------------------------------- bad input


def _applied(response) -> set[str]:
    return set(names(response))


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"concern": "unicorns"}, "concern"),
        ({"concern": ["grief", "unicorns"]}, "concern"),
        ({"type": "x" * 10_240}, "type"),
        ({"max_fee": "forty"}, "max_fee"),
        ({"max_fee": "-5"}, "max_fee"),
        ({"max_fee": "1e9"}, "max_fee"),
        ({"max_fee": "NaN"}, "max_fee"),
        ({"max_fee": "12.345"}, "max_fee"),
        ({"min_years": "ten"}, "min_years"),
        ({"min_years": str(10**12)}, "min_years"),
        ({"radius": "0"}, "radius"),
        ({"radius": "9" * 5000}, "radius"),
        ({"q": "grief\x00"}, "q"),
        ({"q": "g" * 10_240}, "q"),
        ({"near": "Leeds\x00"}, "near"),
        ({"near": "L" * 10_240}, "near"),
        ({"lat": "91", "lng": "0"}, "lat"),
        ({"lat": "north", "lng": "0"}, "lat"),
        ({"lat": "53.8"}, "near"),
        ({"sort": "cheapest"}, "sort"),
        ({"sort": "distance"}, "sort"),
        ({"sort": "relevance"}, "sort"),
        ({"format": "carrier-pigeon"}, "format"),
        ({"language": "klingon"}, "language"),
        ({"gender": "\x00"}, "gender"),
    ],
    ids=lambda value: value if isinstance(value, str) else urlencode(value, doseq=True)[:40],
)
def test_an_invalid_value_is_a_form_error_and_the_rest_still_applies(
    client, leeds_listings, bad, field
):
    """Counsellors who speak Spanish (two), whatever the bad value."""
    response = get(client, "/find/", {"type": "counselling", "language": "spanish", **bad}, 400)
    assert field in errors(response), errors(response)
    html = response.content.decode()
    assert "Part of your search could not be used" in html
    assert "The rest of your search is shown below." in html
    if field not in ("language",):
        assert _applied(response) == {"Birch Counselling", "Online Grief"}


@pytest.mark.parametrize(
    "name, values",
    [
        ("q", ["grief", "anxiety"]),
        ("near", ["Leeds", "Manchester"]),
        ("max_fee", ["30", "80"]),
        ("min_years", ["1", "2"]),
        ("radius", ["5", "25"]),
        ("sort", ["name", "fee"]),
        ("free", ["1", "0"]),
        ("lat", ["53.8", "53.4"]),
    ],
)
def test_a_single_valued_parameter_given_twice_is_a_form_error(
    client, leeds_listings, name, values
):
    query = urlencode(
        [("type", "counselling"), ("language", "spanish")] + [(name, v) for v in values]
    )
    response = get(client, f"/find/?{query}", status=400)
    assert name in errors(response)
    assert _applied(response) == {"Birch Counselling", "Online Grief"}


def test_the_same_value_twice_is_harmless(client, leeds_listings):
    response = get(client, "/find/?type=counselling&free=1&free=1&language=spanish")
    assert _applied(response) == {"Birch Counselling"}


def test_two_page_numbers_show_the_first_page(client, many_counsellors):
    many_counsellors()
    response = get(client, "/find/?concern=grief&page=2&page=1", status=400)
    assert response.context["page"].number == 1
    assert "here is the first page" in response.content.decode()


def test_invalid_utf8_and_unknown_parameters(client, leeds_listings):
    response = get(client, "/find/?q=%ff%fe&type=counselling&utm_source=x&concern[]=grief")
    assert response.status_code == 200
    assert "results-title" in response.content.decode()


# --------------------------------------------------------------------------- no results


def test_no_results_says_what_to_relax_and_how_many_each_would_give(client, leeds_listings):
    params = {**GRIEF_IN_LEEDS, "language": "polish"}
    response = get(client, "/find/", params)
    assert names(response) == []
    html = response.content.decode()
    assert "Nothing matches every part of this search." in html
    relaxations = response.context["relaxations"]
    # Only the changes that would help are offered: not a wider radius (Manchester is
    # further), online (nobody online speaks Polish), nor dropping the type or the concern.
    assert {r.label: r.count for r in relaxations} == {
        "Remove the place (Leeds)": 1,  # Manchester Counselling speaks Polish
        "Remove “language”": 2,  # Ash and Birch
    }
    # Each suggestion's count is what following its link gives.
    for relaxation in relaxations:
        assert relaxation.count > 0
        followed = get(client, f"/find/?{relaxation.query}")
        assert followed.context["paginator"].count == relaxation.count, relaxation.label
        assert f"({relaxation.count} result" in html


def test_relaxations_include_online_and_a_wider_radius(client, leeds_listings):
    params = {**GRIEF_IN_LEEDS, "near": "Manchester", "language": "spanish"}
    response = get(client, "/find/", params)
    assert names(response) == []
    assert {r.label: r.count for r in response.context["relaxations"]} == {
        "Include online support": 1,  # Online Grief
        "Remove the place (Manchester)": 2,  # Birch and Online Grief
        "Remove “language”": 1,  # Manchester Counselling
    }
    params["radius"] = "50"
    response = get(client, "/find/", params)
    assert {r.label: r.count for r in response.context["relaxations"]}["Search within 100 km"] == 1
    for relaxation in response.context["relaxations"]:
        followed = get(client, f"/find/?{relaxation.query}")
        assert followed.context["paginator"].count == relaxation.count, relaxation.label


def test_no_results_for_the_words_alone(client, leeds_listings):
    response = get(client, "/find/", {"q": "xylophone"})
    assert [(r.label, r.count, r.query) for r in response.context["relaxations"]] == [
        ("Remove the search words", 6, "")
    ]


def test_no_results_and_no_single_change_helps(client, leeds_listings):
    response = get(client, "/find/", {"q": "xylophone", "concern": "eating-disorders"})
    assert response.context["relaxations"] == []
    assert "start again" in response.content.decode()


def test_no_results_near_a_place_offers_the_two_broad_changes(client, leeds_listings):
    params = {"near": "Leeds", "concern": "eating-disorders", "language": "polish"}
    response = get(client, "/find/", params)
    assert {r.label: r.count for r in response.context["relaxations"]} == {
        "Everything near Leeds": 4,
    }


# --------------------------------------------------------------------------- places


def test_an_ambiguous_place_offers_choices(client, leeds_listings):
    response = get(client, "/find/", {"near": "Springfield", "type": "counselling"}, status=400)
    html = response.content.decode()
    assert "There is more than one “Springfield”. Choose the one you mean." in html
    assert "Which one do you mean?" in html
    choices = re.findall(r'<li><a href="\?([^"]*)">(Springfield, [^<]+)</a></li>', html)
    assert len(choices) >= 2
    query, label = choices[0]
    assert parse_qs(html_module.unescape(query)) == {"near": [label], "type": ["counselling"]}
    # The other filters still apply, without the place.
    assert len(names(response)) == 5


def test_an_unknown_place_is_a_clear_message(client, leeds_listings):
    response = get(client, "/find/", {"near": "Xyzzyqwv", "type": "counselling"}, status=400)
    html = html_module.unescape(response.content.decode())
    assert "We could not find a place called “Xyzzyqwv”." in html
    assert len(names(response)) == 5


def test_a_postcode_district_of_a_listing_is_a_place(client, make_listing):
    make_listing(
        "Postcoded",
        places=[
            {"town": "Leeds", "postcode": "LS6 3AB", "latitude": LEEDS[0], "longitude": LEEDS[1]}
        ],
    )
    response = get(client, "/find/", {"near": "ls6"})
    assert names(response) == ["Postcoded"]
    assert "within 10 km of LS6" in summary(response)


def test_use_my_location(client, leeds_listings):
    response = get(client, "/find/", {"lat": "53.80", "lng": "-1.55", "type": "counselling"})
    # Nearest first; Ash and Leeds Anxiety share a place, so by name.
    assert names(response) == ["Ash Counselling", "Leeds Anxiety", "Birch Counselling"]
    assert summary(response).endswith("within 10 km of your location")
    assert "km away" in response.content.decode()


# --------------------------------------------------------------------------- query counts


def _find_url():
    return "/find/?" + urlencode(
        {
            "type": "counselling",
            "concern": "grief",
            "near": "Leeds",
            "radius": "25",
            "language": "english",
            "max_fee": "100",
            "sort": "distance",
        }
    )


def test_results_page_query_count_does_not_grow(
    client, many_counsellors, django_assert_num_queries, monkeypatch
):
    many_counsellors(3)
    url = _find_url()
    Memo.forget_all()
    with django_assert_num_queries(FIND_QUERIES_COLD):
        response = get(client, url)
    assert len(names(response)) == 3
    with django_assert_num_queries(FIND_QUERIES):
        get(client, url)

    many_counsellors(25)  # 28 in all now, more than a page
    # The listings changed: the index applies it, and the place is looked up again.
    with django_assert_num_queries(FIND_QUERIES + PLACE_QUERIES + INDEX_APPLY_QUERIES):
        response = get(client, url)
    with django_assert_num_queries(FIND_QUERIES):
        response = get(client, url)
    assert response.context["paginator"].count == 28
    assert len(names(response)) == 20
    with django_assert_num_queries(FIND_QUERIES):
        response = get(client, url + "&page=2")
    assert len(names(response)) == 8

    for per_page in (5, 20):
        monkeypatch.setattr(page, "RESULTS_PER_PAGE", per_page)
        with django_assert_num_queries(FIND_QUERIES):
            response = get(client, url)
        assert len(names(response)) == per_page


def test_results_page_query_count_with_search_words(
    client, many_counsellors, django_assert_num_queries, synonyms
):
    many_counsellors(3)
    url = _find_url() + "&q=grief+counsellor"
    get(client, url)  # the synonyms are read, and the words remembered
    with django_assert_num_queries(FIND_QUERIES_WITH_WORDS):
        small = get(client, url)
    with django_assert_num_queries(FIND_QUERIES_WITH_NEW_WORDS):
        get(client, _find_url() + "&q=grief+counsellors")
    many_counsellors(25)
    get(client, url)  # the listings changed: the option-count index is rebuilt once
    with django_assert_num_queries(FIND_QUERIES_WITH_WORDS):
        big = get(client, url)
    assert len(names(small)) == 3 and len(names(big)) == 20


def test_profile_query_count_does_not_grow(client, make_listing, django_assert_num_queries):
    one = make_listing("One Service", places=[at("Leeds", LEEDS)], languages=["english"])
    five = make_listing(
        "Five Services",
        places=[at("Leeds", LEEDS), at("Manchester", MANCHESTER)],
        languages=["english", "welsh", "polish"],
        qualifications=[{"title": f"Qualification {n}"} for n in range(4)],
        services=[
            {
                "type": slug,
                "concerns": ["grief", "anxiety"],
                "approaches": ["cbt"],
                "age_groups": ["adults", "children"],
                "formats": ["in_person", "online"],
                **(
                    {"group_weekday": 2, "group_frequency": "weekly"}
                    if slug == "support-groups"
                    else {}
                ),
            }
            for slug in [
                "psychotherapy",
                "counselling",
                "support-groups",
                "art-therapy",
                "play-therapy",
            ]
        ],
    )
    assert five.services.count() == 5
    for provider in (one, five):
        with django_assert_num_queries(PROFILE_QUERIES):
            get(client, provider.get_absolute_url())


# --------------------------------------------------------------------------- profile


JSON_LD = re.compile(r'<script type="application/ld\+json" nonce="([^"]+)">(.*?)</script>', re.S)


def _json_ld(response) -> dict:
    match = JSON_LD.search(response.content.decode())
    assert match, "no JSON-LD"
    # The data block carries the response's CSP nonce.
    assert f"'nonce-{match[1]}'" in response["Content-Security-Policy"]
    return json.loads(match[2])


def test_profile_sections_verified_date_json_ld_and_canonical(client, make_listing):
    provider = make_listing(
        "Rowan <Hart>",
        statement="I work with grief & loss.",
        places=[
            {
                "town": "Leeds",
                "address_line1": "12 Secret Street",
                "postcode": "LS6 3AB",
                "address_shown": Location.AddressShown.TOWN,
            }
        ],
        languages=["english", "spanish"],
        services=[{"type": "counselling", "concerns": ["grief"], "approaches": ["cbt"]}],
    )
    Provider.objects.filter(pk=provider.pk).update(last_verified=datetime.date(2025, 3, 14))
    response = get(client, provider.get_absolute_url())
    html = response.content.decode()
    for heading in (
        "Specialises in",
        "Approach",
        "Qualifications and experience",
        "Getting to know Rowan &lt;Hart&gt;",
        "Fees and availability",
        "Where",
        "Contact",
    ):
        assert f">{heading}</h2>" in html, heading
    assert "Last verified March 2025" in html
    assert f'<link rel="canonical" href="http://testserver/providers/{provider.slug}/">' in html

    data = _json_ld(response)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Person"
    assert data["name"] == "Rowan <Hart>"
    assert data["url"] == f"http://testserver/providers/{provider.slug}/"
    assert data["knowsLanguage"] == ["English", "Spanish"]
    assert data["knowsAbout"] == ["Grief and loss"]
    assert data["address"] == {
        "@type": "PostalAddress",
        "addressLocality": "Leeds",
        "addressCountry": "GB",
        "postalCode": "LS6",
    }
    script = JSON_LD.search(html)[2]
    assert "Secret Street" not in script and "3AB" not in script
    assert "<Hart>" not in script  # escaped, so it cannot close the script element


def test_profile_of_an_organisation_with_a_full_address(client, make_listing):
    provider = make_listing(
        "Open Door Trust",
        kind=Provider.Kind.ORGANISATION,
        places=[
            {
                "town": "York",
                "address_line1": "3 Open Road",
                "postcode": "YO1 7HH",
                "address_shown": Location.AddressShown.FULL,
            }
        ],
    )
    data = _json_ld(get(client, provider.get_absolute_url()))
    assert data["@type"] == "Organization"
    assert data["address"]["streetAddress"] == "3 Open Road"
    assert data["address"]["postalCode"] == "YO1 7HH"
    assert (
        "Not yet verified by our staff" in get(client, provider.get_absolute_url()).content.decode()
    )


@pytest.mark.parametrize("status", [Provider.Status.DRAFT, Provider.Status.ARCHIVED])
def test_unpublished_profile_is_not_found(client, make_listing, status):
    provider = make_listing("Away", status=status)
    get(client, provider.get_absolute_url(), status=404)
    assert names(get(client, "/find/")) == []


# --------------------------------------------------------------------------- explanations


@pytest.mark.parametrize(
    "slug", ["psychotherapy", "counselling", "support-groups", "art-therapy", "play-therapy"]
)
def test_support_type_page(client, taxonomies, slug):
    support_type = SupportType.objects.get(slug=slug)
    response = get(client, f"/support/{slug}/")
    html = html_module.unescape(response.content.decode())
    assert f"<h1>{support_type.name}</h1>" in html
    assert "When to consider it" in html
    first_paragraph = support_type.when_to_consider.split("\n\n")[0]
    assert first_paragraph in html
    assert f'href="/find/?type={slug}"' in html


@pytest.mark.parametrize("slug", ["grief", "anxiety", "ocd"])
def test_concern_page(client, taxonomies, slug):
    concern = Concern.objects.get(slug=slug)
    response = get(client, f"/concerns/{slug}/")
    html = html_module.unescape(response.content.decode())
    assert concern.when_to_consider, "the fixture explains when to consider support"
    assert "When to consider support" in html
    assert concern.when_to_consider.split("\n\n")[0] in html
    assert f'href="/find/?concern={slug}"' in html


def test_explanation_pages_feature_providers_that_offer_it(client, make_listing):
    make_listing("Grief Help", services=[{"concerns": ["grief"]}])
    make_listing("Art Help", services=[{"type": "art-therapy", "concerns": ["anxiety"]}])
    html = get(client, "/concerns/grief/").content.decode()
    assert "Grief Help" in html and "Art Help" not in html
    html = get(client, "/support/art-therapy/").content.decode()
    assert "Art Help" in html and "Grief Help" not in html
    # The link leads to the same providers, filtered.
    assert names(get(client, "/find/?concern=grief")) == ["Grief Help"]


@pytest.mark.parametrize(
    "url", ["/support/no-such-thing/", "/concerns/no-such-thing/", "/providers/nobody/"]
)
def test_unknown_slug_is_not_found(client, taxonomies, url):
    get(client, url, status=404)
