"""Every criterion of the results FilterSet, on small listings built for each case.

OR within a filter, AND between filters; the service criteria hold for one and the same
service; place and radius; the sorts; and the option counts, checked against the results
each option would really give.
"""

import datetime
import math
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services import geo
from services.models import Location, Provider
from services.search import listing_index, matching, selection
from services.search.facets import facet_counts, facet_counts_in_sql
from services.search.filters import (
    FLAG_FILTERS,
    LIST_FILTERS,
    RANK_TIER_MILLIONTHS,
    ProviderFilter,
    options_of,
)
from tests.conftest import LEEDS, MANCHESTER

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


def query(params: dict) -> QueryDict:
    return QueryDict(urlencode(params, doseq=True))


def filtered(params: dict) -> ProviderFilter:
    return ProviderFilter(query(params), queryset=Provider.objects.published())


def find(**params) -> list[str]:
    """The names of the results, in the order the page would list them."""
    return [provider.name for provider in filtered(params).qs]


def found(**params) -> set[str]:
    return set(find(**params))


def at(town, coordinates):
    """A place at these coordinates, its full address shown: distances are measured to it
    (to a place shown by town only, from its square: tests/test_town_only.py)."""
    latitude, longitude = coordinates
    return {
        "town": town,
        "latitude": latitude,
        "longitude": longitude,
        "address_shown": Location.AddressShown.FULL,
    }


# Step-free throughout, as staff confirmed: a place meeting `wheelchair`.
STEP_FREE = {
    "wheelchair_access": Location.WheelchairAccess.FULL,
    "wheelchair_access_confirmed_by": Location.ConfirmedBy.STAFF,
}


# --------------------------------------------------------------------------- one criterion each


def test_type_concern_approach_and_age_group(make_listing):
    make_listing("Counsellor", services=[{"type": "counselling", "concerns": ["grief"]}])
    make_listing(
        "Art Therapist",
        services=[{"type": "art-therapy", "approaches": ["cbt"], "age_groups": ["children"]}],
    )
    make_listing(
        "Psychotherapist",
        services=[{"type": "psychotherapy", "concerns": ["anxiety"], "approaches": ["emdr"]}],
    )

    assert found(type="counselling") == {"Counsellor"}
    assert found(type="art-therapy") == {"Art Therapist"}
    assert found(concern="grief") == {"Counsellor"}
    assert found(concern="anxiety") == {"Psychotherapist"}
    assert found(concern="trauma") == set()
    assert found(approach="cbt") == {"Art Therapist"}
    assert found(approach="emdr") == {"Psychotherapist"}
    assert found(age_group="children") == {"Art Therapist"}
    assert found(age_group="adults") == set()
    assert found() == {"Counsellor", "Art Therapist", "Psychotherapist"}


def test_only_published_listings_are_found(make_listing):
    make_listing("Published")
    make_listing("Draft", status=Provider.Status.DRAFT)
    make_listing("Archived", status=Provider.Status.ARCHIVED)
    assert found() == {"Published"}


def test_format(make_listing):
    make_listing("In Person", places=[at("Leeds", LEEDS)], services=[{"formats": ["in_person"]}])
    make_listing("Online", services=[{"formats": ["online"]}])
    make_listing("Phone", services=[{"formats": ["phone"]}])
    make_listing("Video And Phone", services=[{"formats": ["online", "phone"]}])

    assert found(format="in_person") == {"In Person"}
    assert found(format="online") == {"Online", "Video And Phone"}
    assert found(format="phone") == {"Phone", "Video And Phone"}
    assert found(format=["in_person", "phone"]) == {"In Person", "Phone", "Video And Phone"}


def test_a_groups_language_is_its_own_or_else_the_providers(make_listing):
    make_listing(
        "Riverside Centre",
        languages=["english", "polish"],
        services=[
            {"type": "support-groups", "languages": ["spanish"]},
            {"type": "counselling"},
        ],
    )
    assert found(language="spanish", type="support-groups") == {"Riverside Centre"}
    assert found(language="polish", type="support-groups") == set()
    assert found(language="polish", type="counselling") == {"Riverside Centre"}
    assert found(language="spanish", type="counselling") == set()


def test_language_and_gender(make_listing):
    make_listing("Spanish Woman", languages=["english", "spanish"], gender="woman")
    make_listing("Polish Man", languages=["polish"], gender="man")
    make_listing("Unstated")
    make_listing("Non-binary Welsh", languages=["welsh"], gender="non-binary")

    assert found(language="spanish") == {"Spanish Woman"}
    assert found(language=["spanish", "polish"]) == {"Spanish Woman", "Polish Man"}
    assert found(language="english") == {"Spanish Woman"}
    assert found(gender="woman") == {"Spanish Woman"}
    assert found(gender=["woman", "non-binary"]) == {"Spanish Woman", "Non-binary Welsh"}
    assert found(gender="man", language="spanish") == set()


def test_accepting_new_clients(make_listing):
    make_listing("Open", accepting_new_clients=True)
    make_listing("Full", accepting_new_clients=False)
    assert found(accepting="1") == {"Open"}
    # Unticked means no filter, not "only those who are full".
    assert found() == {"Open", "Full"}
    assert found(accepting="") == {"Open", "Full"}


def test_verified_means_a_licence_checked_by_staff(make_listing, days_ago):
    make_listing("Checked Licence", licence_verified_on=days_ago(30))
    make_listing("Unchecked Licence", qualifications=[{"kind": "licence", "title": "Registered"}])
    make_listing(
        "Checked Degree",
        qualifications=[{"kind": "degree", "title": "MSc", "verified_on": days_ago(30)}],
    )
    make_listing("Nothing Listed")
    assert found(verified="1") == {"Checked Licence"}
    assert len(found()) == 4


def test_min_years_counts_from_the_year_they_started(make_listing):
    make_listing("Ten Years", practising_since=THIS_YEAR - 10)
    make_listing("Two Years", practising_since=THIS_YEAR - 2)
    make_listing("Unknown", practising_since=None)

    assert found(min_years="10") == {"Ten Years"}
    assert found(min_years="11") == set()
    assert found(min_years="2") == {"Ten Years", "Two Years"}
    assert found(min_years="0") == {"Ten Years", "Two Years", "Unknown"}


def test_sliding_scale_free_and_insurance(make_listing):
    make_listing("Sliding", services=[{"sliding_scale": True, "fee_min": Decimal(20)}])
    make_listing("Free", services=[{"is_free": True}])
    make_listing("Insured", services=[{"accepts_insurance": True, "fee_min": Decimal(80)}])
    make_listing("Plain", services=[{"fee_min": Decimal(50)}])

    assert found(sliding_scale="1") == {"Sliding"}
    assert found(free="1") == {"Free"}
    assert found(insurance="1") == {"Insured"}
    assert found(free="1", insurance="1") == set()


def test_max_fee(make_listing):
    make_listing("Free", services=[{"is_free": True}])
    make_listing("Forty To Sixty", services=[{"fee_min": Decimal(40), "fee_max": Decimal(60)}])
    make_listing("Sixty", services=[{"fee_min": Decimal(60), "fee_max": Decimal(60)}])
    make_listing("Only A Top Fee", services=[{"fee_max": Decimal(45)}])
    make_listing("Fee Not Stated", services=[{}])
    make_listing("Pay What You Can", services=[{"fee_min": Decimal(0), "fee_max": Decimal(50)}])

    # A service is affordable if its lowest fee is within the limit; free counts.
    assert found(max_fee="50") == {"Free", "Forty To Sixty", "Only A Top Fee", "Pay What You Can"}
    assert found(max_fee="40") == {"Free", "Forty To Sixty", "Pay What You Can"}
    assert found(max_fee="39.99") == {"Free", "Pay What You Can"}
    assert found(max_fee="60") == {
        "Free",
        "Forty To Sixty",
        "Sixty",
        "Only A Top Fee",
        "Pay What You Can",
    }
    # Nothing to pay at all: free services, and those whose fees start at nothing.
    assert found(max_fee="0") == {"Free", "Pay What You Can"}
    assert len(found()) == 6


# --------------------------------------------------------------------------- OR and AND


def test_options_of_one_filter_are_or_and_filters_are_and(make_listing):
    make_listing("Grief Counsellor", services=[{"type": "counselling", "concerns": ["grief"]}])
    make_listing("Anxiety Counsellor", services=[{"type": "counselling", "concerns": ["anxiety"]}])
    make_listing("Grief Group", services=[{"type": "art-therapy", "concerns": ["grief"]}])
    make_listing("Trauma Therapist", services=[{"type": "psychotherapy", "concerns": ["trauma"]}])

    assert found(concern=["grief", "anxiety"]) == {
        "Grief Counsellor",
        "Anxiety Counsellor",
        "Grief Group",
    }
    assert found(concern=["grief", "anxiety"], type="counselling") == {
        "Grief Counsellor",
        "Anxiety Counsellor",
    }
    assert found(concern="grief", type=["counselling", "art-therapy"]) == {
        "Grief Counsellor",
        "Grief Group",
    }
    assert found(concern="trauma", type="counselling") == set()


def test_service_criteria_hold_for_one_and_the_same_service(make_listing):
    make_listing(
        "Two Services",
        places=[at("Leeds", LEEDS)],
        services=[
            {
                "type": "counselling",
                "concerns": ["anxiety"],
                "formats": ["in_person"],
                "fee_min": Decimal(70),
            },
            {
                "type": "art-therapy",
                "concerns": ["grief"],
                "formats": ["online"],
                "sliding_scale": True,
                "fee_min": Decimal(20),
            },
        ],
    )
    assert found(type="counselling", concern="anxiety") == {"Two Services"}
    assert found(type="art-therapy", concern="grief") == {"Two Services"}
    # Each holds for one of the services, but no one service does both.
    assert found(type="counselling", concern="grief") == set()
    assert found(type="art-therapy", concern="anxiety") == set()
    assert found(format="in_person", sliding_scale="1") == set()
    assert found(format="online", sliding_scale="1") == {"Two Services"}
    assert found(type="counselling", max_fee="30") == set()
    assert found(type="art-therapy", max_fee="30") == {"Two Services"}
    # Provider criteria are about the provider, whichever service matched.
    assert found(type="counselling", accepting="1") == {"Two Services"}


# --------------------------------------------------------------------------- place


def test_distance_between_the_test_cities_is_about_58_km():
    leeds = geo.Place("Leeds", *LEEDS)
    assert 57 < _km(leeds, MANCHESTER) < 59


def _km(place, coordinates):
    """The distance the database computes, worked out here with the haversine formula."""
    lat1, lng1, lat2, lng2 = map(math.radians, (place.latitude, place.longitude, *coordinates))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * geo.EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@pytest.fixture
def two_cities(make_listing):
    make_listing("Leeds Rooms", places=[at("Leeds", LEEDS)])
    make_listing("Manchester Rooms", places=[at("Manchester", MANCHESTER)])
    make_listing("Online Only", services=[{"formats": ["online"]}])
    make_listing(
        "Leeds And Online",
        places=[at("Leeds", (53.81, -1.56))],
        services=[{"formats": ["in_person", "online"]}],
    )
    make_listing(
        "Manchester By Phone",
        places=[at("Manchester", MANCHESTER)],
        services=[{"formats": ["in_person"]}, {"formats": ["phone"]}],
    )
    make_listing("No Coordinates", places=[{"town": "Nowhere"}])


def test_radius_around_coordinates(two_cities):
    lat, lng = LEEDS
    near_leeds = {"Leeds Rooms", "Leeds And Online"}
    manchester = {"Manchester Rooms", "Manchester By Phone"}
    assert found(lat=lat, lng=lng) == near_leeds  # 10 km unless asked
    assert found(lat=lat, lng=lng, radius="50") == near_leeds
    assert found(lat=lat, lng=lng, radius="60") == near_leeds | manchester
    assert found(lat=MANCHESTER[0], lng=MANCHESTER[1], radius="5") == manchester


def test_radius_around_a_place_name(two_cities):
    assert found(near="Leeds") == {"Leeds Rooms", "Leeds And Online"}
    assert found(near="Manchester", radius="25") == {"Manchester Rooms", "Manchester By Phone"}


def test_online_services_count_as_near_when_online_is_asked_for(two_cities):
    lat, lng = LEEDS
    assert found(lat=lat, lng=lng, format="online") == {"Online Only", "Leeds And Online"}
    assert found(lat=lat, lng=lng, format=["in_person", "online"]) == {
        "Leeds Rooms",
        "Leeds And Online",
        "Online Only",
    }
    # Online does not make a far-away in-person or phone service near.
    assert found(lat=lat, lng=lng, format="phone") == set()
    assert found(lat=lat, lng=lng, format=["phone", "online"], radius="60") == {
        "Online Only",
        "Leeds And Online",
        "Manchester By Phone",
    }


def test_distance_sort_nearest_first_online_only_last(two_cities):
    lat, lng = LEEDS
    names = find(lat=lat, lng=lng, radius="100", format=["in_person", "online"], sort="distance")
    assert names == [
        "Leeds Rooms",
        "Leeds And Online",
        "Manchester By Phone",  # the same place as the next: by name
        "Manchester Rooms",
        "Online Only",
    ]
    results = list(filtered({"lat": lat, "lng": lng, "radius": "100"}).qs)
    distances = {p.name: p.distance_km for p in results}
    assert distances["Leeds Rooms"] == pytest.approx(0, abs=0.01)
    assert distances["Manchester Rooms"] == pytest.approx(
        _km(geo.Place("", lat, lng), MANCHESTER), rel=0.001
    )
    # A place with no sort chosen sorts by distance.
    assert find(lat=lat, lng=lng, radius="100")[0] == "Leeds Rooms"


def test_a_provider_with_two_places_in_range_is_listed_once_at_the_nearest(make_listing):
    make_listing("Two Rooms", places=[at("Leeds", LEEDS), at("Manchester", MANCHESTER)])
    make_listing("Between", places=[at("Huddersfield", (53.645, -1.785))])
    make_listing("Far Rooms", places=[at("Manchester", MANCHESTER), at("Leeds", LEEDS)])
    params = {"lat": MANCHESTER[0], "lng": MANCHESTER[1], "radius": "100", "sort": "distance"}
    filterset = filtered(params)
    results = list(filterset.qs)
    assert [p.name for p in results] == ["Far Rooms", "Two Rooms", "Between"]
    assert results[0].distance_km == pytest.approx(0, abs=0.01)
    # The index (services/search/matching.py) the same way: each once, at the nearest place.
    index = listing_index.current_index()
    listed = matching.results(index, filterset.criteria, Provider.objects.published())[0:3]
    assert [(p.name, p.distance_km) for p in listed] == [
        (p.name, pytest.approx(p.distance_km, abs=1e-6)) for p in results
    ]


# --------------------------------------------------------------------------- sorts


def test_fee_sort_uses_the_cheapest_matching_service_free_first(make_listing):
    make_listing("Sixty", services=[{"fee_min": Decimal(60), "fee_max": Decimal(80)}])
    make_listing("Free Group", services=[{"is_free": True}])
    make_listing("Thirty", services=[{"fee_min": Decimal(30), "fee_max": Decimal(50)}])
    make_listing("Not Stated", services=[{}])
    make_listing("Top Fee Only", services=[{"fee_max": Decimal(45)}])
    make_listing(
        "Cheap Art Dear Counselling",
        services=[
            {"type": "art-therapy", "fee_min": Decimal(10)},
            {"type": "counselling", "fee_min": Decimal(90)},
        ],
    )

    assert find(sort="fee") == [
        "Free Group",
        "Cheap Art Dear Counselling",
        "Thirty",
        "Top Fee Only",
        "Sixty",
        "Not Stated",
    ]
    # Only the services that match count: as a counsellor this one is the dearest.
    assert find(sort="fee", type="counselling") == [
        "Free Group",
        "Thirty",
        "Top Fee Only",
        "Sixty",
        "Cheap Art Dear Counselling",
        "Not Stated",
    ]


def test_experience_sort_most_experienced_first_unknown_last(make_listing):
    make_listing("Newer", practising_since=THIS_YEAR - 3)
    make_listing("Unknown", practising_since=None)
    make_listing("Veteran", practising_since=1985)
    make_listing("Middle", practising_since=2005)
    assert find(sort="experience") == ["Veteran", "Middle", "Newer", "Unknown"]


def test_name_sort_and_the_default_order(make_listing):
    for name in ["Cedar", "alder", "Birch", "Ash"]:
        make_listing(name)
    # Case does not matter: "alder" comes first, not after every capital letter.
    assert find(sort="name") == ["alder", "Ash", "Birch", "Cedar"]
    assert find() == ["alder", "Ash", "Birch", "Cedar"]  # no words and no place: by name


def test_best_match_near_a_place_puts_the_nearest_first_among_equal_matches(make_listing, client):
    """Grief near Leeds, online included: the Leeds listing matches as well as the others
    (the same words, in the same places) and comes first, though its name is last A-Z."""
    for name, place in [
        ("Alder Grief Care", ("York", 53.96, -1.08)),
        ("Birch Grief Care", ("Harrogate", 53.99, -1.54)),
        ("Zeta Grief Care", ("Leeds", 53.80, -1.55)),
    ]:
        make_listing(
            name,
            services=[{"concerns": ["grief"], "formats": ["in_person", "online"]}],
            places=[place],
        )
    params = {"q": "grief", "near": "Leeds", "radius": "50", "format": ["in_person", "online"]}
    assert find(**params) == ["Zeta Grief Care", "Birch Grief Care", "Alder Grief Care"]
    response = client.get("/find/", params)
    assert [p.name for p in response.context["page"].object_list] == [
        "Zeta Grief Care",
        "Birch Grief Care",
        "Alder Grief Care",
    ]
    assert "and among equally good matches, the nearest first" in response.content.decode()


def test_relevance_sort_puts_a_name_match_above_a_statement_match(make_listing):
    make_listing("Aaron Statement", statement="Much of my work is with grief.")
    make_listing("Grief Works", statement="A small practice.")
    make_listing("Unrelated", statement="Mostly stress at work.")
    assert find(q="grief", sort="relevance") == ["Grief Works", "Aaron Statement"]
    assert find(q="grief") == ["Grief Works", "Aaron Statement"]  # words: best match first
    assert find(q="grief", sort="name") == ["Aaron Statement", "Grief Works"]


def test_a_sort_that_does_not_fit_falls_back(make_listing):
    make_listing("Beta")
    make_listing("Alpha")
    filterset = filtered({"sort": "distance"})
    assert [p.name for p in filterset.qs] == ["Alpha", "Beta"]
    assert "sort" in filterset.form.errors
    filterset = filtered({"sort": "relevance"})
    assert [p.name for p in filterset.qs] == ["Alpha", "Beta"]
    assert "sort" in filterset.form.errors


# --------------------------------------------------------------------------- facet counts


@pytest.fixture
def varied(make_listing, days_ago):
    """Eight listings that differ in every filter, some near Leeds, some not."""
    make_listing(
        "Amber",
        recommendations_approved=2,
        places=[{**at("Leeds", LEEDS), **STEP_FREE, "opens_evenings": True}],
        languages=["english", "spanish"],
        gender="woman",
        practising_since=2001,
        licence_verified_on=days_ago(10),
        services=[
            {
                "type": "counselling",
                "concerns": ["grief", "anxiety"],
                "approaches": ["cbt"],
                "age_groups": ["adults"],
                "formats": ["in_person", "online"],
                "fee_min": Decimal(40),
                "sliding_scale": True,
            },
            {
                "type": "art-therapy",
                "concerns": ["trauma"],
                "approaches": ["psychodynamic"],
                "age_groups": ["children"],
                "formats": ["in_person"],
                "fee_min": Decimal(70),
            },
        ],
    )
    make_listing(
        "Birch",
        places=[{**at("Leeds", (53.79, -1.53)), "opens_weekends": True}],
        languages=["english"],
        gender="man",
        accepting_new_clients=False,
        services=[
            {
                "type": "counselling",
                "concerns": ["grief"],
                "approaches": ["person-centred"],
                "age_groups": ["adults", "older-adults"],
                "formats": ["in_person"],
                "is_free": True,
            }
        ],
    )
    make_listing(
        "Cedar",
        recommendations_approved=1,
        places=[{**at("Manchester", MANCHESTER), **STEP_FREE, "opens_daytime": False}],
        languages=["polish"],
        gender="non-binary",
        licence_verified_on=days_ago(400),
        services=[
            {
                "type": "psychotherapy",
                "concerns": ["anxiety", "depression"],
                "approaches": ["cbt", "emdr"],
                "age_groups": ["adults"],
                "formats": ["in_person", "phone"],
                "fee_min": Decimal(60),
                "accepts_insurance": True,
            }
        ],
    )
    make_listing(
        "Damson",
        languages=["spanish"],
        gender="woman",
        services=[
            {
                "type": "counselling",
                "concerns": ["grief"],
                "approaches": ["cbt"],
                "formats": ["online"],
                "fee_min": Decimal(30),
                "accepts_insurance": True,
            }
        ],
    )
    make_listing(
        "Elder",
        places=[at("Leeds", (53.80, -1.55))],
        languages=["english", "polish"],
        services=[
            {
                "type": "support-groups",
                "concerns": ["grief"],
                "languages": ["spanish"],  # the group's own, not the provider's
                "formats": ["in_person"],
                "is_free": True,
                "group_weekday": 1,
                "group_frequency": "weekly",
                "group_start_time": datetime.time(18, 30),
            },
            {"type": "counselling", "concerns": ["stress"], "formats": ["phone"], "fee_max": 35},
        ],
    )
    make_listing(
        "Fir",
        places=[at("Manchester", MANCHESTER)],
        languages=["english", "welsh"],
        practising_since=2019,
        statement="Grief after a sudden death.",
        services=[
            {
                "type": "counselling",
                "concerns": ["relationships"],
                "approaches": ["systemic"],
                "age_groups": ["young-people"],
                "formats": ["in_person", "online"],
                "fee_min": Decimal(55),
                "sliding_scale": True,
            }
        ],
    )
    make_listing(
        "Gorse",
        recommendations_approved=3,
        places=[
            {
                **at("Leeds", (53.82, -1.57)),
                "wheelchair_access": Location.WheelchairAccess.PARTIAL,
                "wheelchair_access_confirmed_by": Location.ConfirmedBy.PROVIDER,
                "opens_weekends": True,
            },
            {**at("Manchester", (53.47, -2.25)), **STEP_FREE},
        ],
        gender="man",
        practising_since=1995,
        accepting_new_clients=False,
        services=[
            {
                "type": "psychotherapy",
                "concerns": ["trauma", "grief"],
                "approaches": ["emdr"],
                "formats": ["in_person", "online", "phone"],
                "fee_min": Decimal(90),
                "accepts_insurance": True,
            }
        ],
    )
    make_listing("Hidden", status=Provider.Status.DRAFT, services=[{"concerns": ["grief"]}])


def _with_option(params: dict, name: str, value: str) -> dict:
    """The query with this one option chosen in its filter (and nothing else there)."""
    changed = {key: value for key, value in params.items() if key != "page"}
    changed[name] = [value] if name in LIST_FILTERS else "1"
    return changed


def _options(name: str) -> list[str]:
    if name in FLAG_FILTERS:
        return ["1"]
    return [value for value, _label in options_of(name)]


FACET_QUERIES = [
    {},
    {"concern": ["grief"]},
    {"concern": ["grief", "anxiety"], "type": ["counselling"]},
    {"type": ["counselling"], "format": ["online"], "language": ["spanish"]},
    {"type": ["support-groups"], "language": ["spanish"]},
    {"type": ["support-groups"], "language": ["polish", "welsh"]},
    {"language": ["polish"], "near": "Leeds"},
    {"near": "Leeds"},
    {"near": "Leeds", "format": ["online"]},
    {"lat": str(LEEDS[0]), "lng": str(LEEDS[1]), "radius": "100", "format": ["in_person"]},
    {"lat": str(LEEDS[0]), "lng": str(LEEDS[1]), "format": ["in_person", "phone"]},
    {"free": "1"},
    {"accepting": "1", "verified": "1"},
    {"sliding_scale": "1", "gender": ["woman", "man"]},
    {"max_fee": "50", "age_group": ["adults"]},
    {"min_years": "10", "insurance": "1"},
    {"recommended": "1", "format": ["online"]},
    {"q": "grief"},
    {"q": "grief", "near": "Leeds", "approach": ["cbt", "emdr"]},
    # A place and two service criteria: "online" counts those working online anywhere.
    {"near": "Leeds", "type": ["counselling"], "concern": ["grief"]},
    # Place criteria hold at the place searched: Gorse's step-free place is in Manchester.
    {"near": "Leeds", "wheelchair": "1"},
    {"near": "Manchester", "wheelchair": "1", "format": ["online"]},
    {"times": ["evening"], "type": ["counselling", "support-groups"]},
    {"times": ["weekend", "daytime"], "wheelchair": "1"},
]


@pytest.fixture(params=["broad", "narrow", "several", "edited"])
def way(request, monkeypatch):
    """Each way services/search/selection.py works: every set of providers taken the narrow way
    (provider by provider), or none (and those with several services checked all
    together); or only those with several services, so that the others are settled by
    what the index holds per provider. And both ways of sorting by name or experience
    (services/search/matching.py). And an index with listings edited since it was built, in two
    segments, so that its results and counts come from three parts, merged
    (services/search/listing_index.py)."""
    if request.param == "edited":
        index = listing_index.current_index()
        ids = sorted(Provider.objects.published().values_list("pk", flat=True))
        # Two looks at the log, the second reading some listings of the first again.
        listing_index._follower.index = index.with_changes(ids[::2]).with_changes(ids[::3])
        assert len(listing_index.current_index().parts) == 3
        return request.param
    narrow = request.param != "broad"
    monkeypatch.setattr(selection, "NARROW_SHARE", 1.0 if narrow else 0.0)
    monkeypatch.setattr(selection, "SEVERAL_NARROW_SHARE", 1.0 if narrow else 0.0)
    if request.param == "several":
        take = selection.Selection._few

        def only_several(self, providers, share=None):
            mask = providers.mask
            if mask is not None and (mask & ~self.index.several_services).any():
                return None
            return take(self, providers, share)

        monkeypatch.setattr(selection.Selection, "_few", only_several)
    monkeypatch.setattr(matching, "PRESORTED_SHARE", 1.0 if narrow else 0.0)
    return request.param


@pytest.mark.parametrize("params", FACET_QUERIES, ids=lambda p: urlencode(p, doseq=True) or "all")
def test_each_option_count_is_what_choosing_it_would_give(varied, params, way):
    filterset = filtered(params)
    assert not filterset.form.errors, filterset.form.errors
    counts = facet_counts(filterset.criteria, Provider.objects.published())
    checked = 0
    for name in LIST_FILTERS + FLAG_FILTERS:
        for option in _options(name):
            expected = filtered(_with_option(params, name, option)).qs.count()
            assert counts[name].get(option, 0) == expected, (name, option, params)
            checked += 1
    assert checked > 70
    # Some options of the varied listings give results, so the comparison means something.
    assert sum(sum(group.values()) for group in counts.values()) > 0


def test_counts_ignore_the_filters_own_choice_but_not_the_others(varied):
    counts = facet_counts(
        filtered({"concern": ["trauma"], "type": ["counselling"]}).criteria,
        Provider.objects.published(),
    )
    # Concerns counted among counsellors, as if no concern had been chosen.
    assert (
        counts["concern"]["grief"] == 3
    )  # Amber, Birch, Damson (Elder's group is not counselling)
    assert counts["concern"].get("trauma", 0) == 0  # Amber's trauma work is art therapy
    # Types counted among trauma services, as if no type had been chosen.
    assert counts["type"] == {"art-therapy": 1, "psychotherapy": 1}


def test_facet_counts_take_a_fixed_few_queries(varied):
    """Counted in memory: the database is asked only whether listings changed and which
    providers match the words (the places are in the index too; on PostgreSQL the same
    words are turned into a query once)."""
    facet_counts(filtered({}).criteria, Provider.objects.published())  # builds the index once
    words_seen = set()
    for params in FACET_QUERIES:
        filterset = filtered(params)
        list(filterset.qs)  # the place lookup, the choices and the synonyms come first
        criteria, base = filterset.criteria, Provider.objects.published()
        q = criteria.data.get("q")
        remembered = q in words_seen and connection.vendor == "postgresql"
        expected = 1 + bool(q and not remembered)
        words_seen.add(q)
        with CaptureQueriesContext(connection) as queries:
            counts = facet_counts(criteria, base)
        assert len(queries.captured_queries) == expected, params
        assert set(counts) == set(LIST_FILTERS + FLAG_FILTERS)


def test_in_memory_counts_equal_the_databases(varied, way):
    """The in-memory index and the SQL computation agree on every query shape."""
    for params in FACET_QUERIES:
        criteria = filtered(params).criteria
        base = Provider.objects.published()
        assert facet_counts(criteria, base) == facet_counts_in_sql(criteria, base), params


def test_counts_follow_a_change_to_the_listings(varied, make_listing):
    before = facet_counts(filtered({}).criteria, Provider.objects.published())["type"]
    make_listing("Brand New", services=[{"type": "art-therapy"}])  # indexing bumps the version
    after = facet_counts(filtered({}).criteria, Provider.objects.published())["type"]
    assert after["art-therapy"] == before.get("art-therapy", 0) + 1


def test_counts_of_the_empty_search(varied):
    counts = facet_counts(filtered({}).criteria, Provider.objects.published())
    assert counts["type"] == {
        "counselling": 5,
        "art-therapy": 1,
        "psychotherapy": 2,
        "support-groups": 1,
    }
    assert counts["format"] == {"in_person": 6, "online": 4, "phone": 3}
    assert counts["free"] == {"1": 2}
    assert counts["accepting"] == {"1": 5}
    assert counts["verified"] == {"1": 2}
    # Elder's group is held in Spanish, its counselling in the provider's English and Polish.
    assert counts["language"] == {"english": 4, "spanish": 3, "polish": 2, "welsh": 1}
    assert counts["recommended"] == {"1": 3}


def test_recommended_lists_the_recommended_most_first(varied):
    assert [p.name for p in filtered({"recommended": "1", "sort": "recommended"}).qs] == [
        "Gorse",
        "Amber",
        "Cedar",
    ]
    index = listing_index.current_index()
    criteria = filtered({"sort": "recommended"}).criteria
    results = matching.results(index, criteria, Provider.objects.published())
    assert [p.name for p in results[0:4]] == ["Gorse", "Amber", "Cedar", "Birch"]


def from_the_index(**params) -> set[str]:
    """The names the results page lists, from the listing index."""
    criteria = filtered(params).criteria
    found = matching.results(listing_index.current_index(), criteria, Provider.objects.published())
    return {listed.name for listed in found[0 : found.count()]}


def test_step_free_access_holds_at_the_place_searched_and_for_the_service(make_listing):
    make_listing(
        "Step-free in Manchester only",
        places=[at("Leeds", LEEDS), {**at("Manchester", MANCHESTER), **STEP_FREE}],
    )
    make_listing("Step-free in Leeds", places=[{**at("Leeds", (53.80, -1.55)), **STEP_FREE}])
    make_listing(
        "Online at a step-free place",
        places=[{**at("Leeds", LEEDS), **STEP_FREE}],
        services=[{"formats": ["online"]}],
    )
    make_listing(
        "Partly accessible",
        places=[
            {
                **at("Leeds", LEEDS),
                "wheelchair_access": Location.WheelchairAccess.PARTIAL,
                "wheelchair_access_confirmed_by": Location.ConfirmedBy.VISITOR,
            }
        ],
    )
    cases = [
        ({}, {"Step-free in Manchester only", "Step-free in Leeds"}),
        ({"near": "Leeds"}, {"Step-free in Leeds"}),
        ({"near": "Manchester"}, {"Step-free in Manchester only"}),
    ]
    for params, expected in cases:
        assert found(wheelchair="1", **params) == expected, params
        assert from_the_index(wheelchair="1", **params) == expected, params
    # The distance is to the nearest step-free place.
    (listed,) = filtered({"wheelchair": "1", "near": "Leeds", "radius": "100"}).qs.filter(
        name="Step-free in Manchester only"
    )
    assert listed.distance_km > 50


def test_times_from_a_groups_meetings_and_a_places_opening(make_listing):
    def group(name, weekday, hour):
        make_listing(
            name,
            places=[at("Leeds", LEEDS)],
            services=[
                {
                    "type": "support-groups",
                    "group_weekday": weekday,
                    "group_frequency": "weekly",
                    "group_start_time": datetime.time(hour, 0),
                }
            ],
        )

    group("Tuesday evening group", 1, 18)
    group("Saturday morning group", 5, 10)
    group("Monday morning group", 0, 10)
    make_listing(
        "Open late", places=[{**at("Leeds", LEEDS), "opens_daytime": False, "opens_evenings": True}]
    )
    make_listing("Open office hours", places=[at("Leeds", LEEDS)])
    make_listing("Online", services=[{"formats": ["online"]}])
    cases = [
        (["evening"], {"Tuesday evening group", "Open late"}),
        (["weekend"], {"Saturday morning group"}),
        (["daytime"], {"Monday morning group", "Open office hours"}),
        (["evening", "weekend"], {"Tuesday evening group", "Open late", "Saturday morning group"}),
    ]
    for times, expected in cases:
        assert found(times=times) == expected, times
        assert from_the_index(times=times) == expected, times


def test_today_matters_for_min_years(make_listing, monkeypatch):
    make_listing("Since 2010", practising_since=2010)
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2020, 6, 1))
    assert found(min_years="10") == {"Since 2010"}
    assert found(min_years="11") == set()


# --------------------------------------------------------------------------- the index's results


def match_tier_of(rank: float) -> int:
    return math.floor(round(rank * 1_000_000) / RANK_TIER_MILLIONTHS)


SORT_CHOICES = ["", "relevance", "distance", "fee", "experience", "recommended", "name"]


@pytest.mark.parametrize("sort", SORT_CHOICES)
@pytest.mark.parametrize("params", FACET_QUERIES, ids=lambda p: urlencode(p, doseq=True) or "all")
def test_the_index_gives_the_databases_results_in_its_order(varied, params, sort, way):
    """The results page takes its results from the in-memory index (services/search/matching.py);
    the SQL form of the criteria is the reference, for the set, the order and the distances."""
    filterset = filtered({**params, "sort": sort} if sort else params)
    criteria, base = filterset.criteria, Provider.objects.published()
    expected = list(filterset.qs)
    index = listing_index.current_index()
    results = matching.results(index, criteria, base)
    assert results.count() == len(expected) == matching.count(index, criteria, base)
    shown = results[0 : len(expected)]
    if criteria.sort() == "relevance" and connection.vendor == "postgresql":
        # The word index ranks by the weight of each word's place (test_word_index.py),
        # a simpler measure than ts_rank's: the same results, best match first by it.
        assert sorted(p.name for p in shown) == sorted(p.name for p in expected)
        if criteria.place is None:
            ranks = [p.rank for p in shown]
            assert ranks == sorted(ranks, reverse=True)
        else:
            # Tiers of rank, best first; in each, the nearest first.
            keys = [(-match_tier_of(p.rank), p.distance_km or math.inf) for p in shown]
            assert keys == sorted(keys)
        return
    assert [p.name for p in shown] == [p.name for p in expected], (params, sort)
    for mine, theirs in zip(shown, expected, strict=True):
        if getattr(theirs, "distance_km", None) is None:
            assert mine.distance_km is None
        else:
            assert mine.distance_km == pytest.approx(theirs.distance_km, abs=1e-6)


def test_a_page_reads_only_its_own_rows(varied, django_assert_num_queries):
    filterset = filtered({"sort": "name"})
    index = listing_index.current_index()
    results = matching.results(index, filterset.criteria, Provider.objects.published())
    everyone = [p.name for p in filterset.qs]
    with django_assert_num_queries(1):
        assert [p.name for p in results[2:5]] == everyone[2:5]
    with django_assert_num_queries(1):
        assert [p.name for p in results[len(everyone) - 1 :]] == everyone[-1:]
