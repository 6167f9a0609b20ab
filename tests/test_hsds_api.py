"""The HSDS 3.0 API: every endpoint against the specification's schemas, paging, filters,
privacy, errors, query counts and conditional requests."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db.models import Q
from django.utils import timezone
from hsds_spec import assert_valid, assert_valid_page

from services.hsds import vocabulary as vocab
from services.hsds.vocabulary import derived_id
from services.models import (
    Community,
    Language,
    ListingsVersion,
    Location,
    Provider,
    Service,
    ServiceAtLocation,
    SupportType,
)

pytestmark = pytest.mark.django_db

API = "/api/hsds"


def get(client, path, status=200, **params):
    response = client.get(f"{API}{path}", params)
    assert response.status_code == status, response.content[:500]
    return response.json()


@pytest.fixture
def listing(make_listing, days_ago):
    """A published practitioner with two places (one shown by town only), counselling at
    both and a monthly group, and the details HSDS carries."""
    provider = make_listing(
        "Ada Lovelace Counselling",
        phone="0113 496 0001",
        website="https://ada.example.org",
        statement="I work with grief and anxiety.",
        practising_since=2009,
        languages=["english", "polish"],
        accepting_confirmed_on=days_ago(10),
        offers_free_consultation=True,
        places=[
            {
                "name": "Headingley rooms",
                "address_line1": "12 Otley Road",
                "town": "Leeds",
                "region": "West Yorkshire",
                "postcode": "LS6 3AB",
                "latitude": 53.8190,
                "longitude": -1.5760,
                "address_shown": Location.AddressShown.FULL,
                "wheelchair_access": Location.WheelchairAccess.FULL,
                "wheelchair_access_confirmed_by": Location.ConfirmedBy.STAFF,
                "opening_hours": "Mon–Thu 9:00–20:00",
                "opens_evenings": True,
            },
            {
                "name": "Home practice",
                "address_line1": "3 Quiet Close",
                "town": "Harrogate",
                "postcode": "HG1 2QQ",
                "latitude": 53.99,
                "longitude": -1.54,
                "address_shown": Location.AddressShown.TOWN,
            },
        ],
        services=[
            {
                "type": "counselling",
                "formats": ["in_person", "online"],
                "concerns": ["grief", "anxiety"],
                "approaches": ["person-centred"],
                "age_groups": ["adults", "older-adults"],
                "fee_min": Decimal("40"),
                "fee_max": Decimal("60"),
                "sliding_scale": True,
                "for_couples": True,
            },
            {
                "type": "support-groups",
                "name": "Bereavement circle",
                "formats": ["online"],
                "is_free": True,
                "group_weekday": 1,
                "group_frequency": "monthly",
                "group_starts_on": datetime.date(2026, 3, 10),  # the second Tuesday
                "group_start_time": datetime.time(18, 30),
                "group_end_time": datetime.time(20, 0),
                "group_facilitator": "Sam Reed",
                "for_individuals": False,
                "for_groups": True,
            },
        ],
        qualifications=[
            {
                "kind": "licence",
                "title": "Registered Member MBACP",
                "issuer": "BACP",
                "number": "123456",
                "verified_on": days_ago(30),
            },
            {
                "kind": "degree",
                "title": "MA Counselling",
                "issuer": "University of Leeds",
                "year": 2008,
            },
        ],
    )
    provider.communities.set(Community.objects.filter(slug="lgbtq"))
    Provider.objects.filter(pk=provider.pk).update(last_verified=days_ago(5))
    provider.refresh_from_db()
    return provider


@pytest.fixture
def draft(make_listing):
    return make_listing(
        "Not Yet Public", status=Provider.Status.DRAFT, places=[("York", 53.96, -1.08)]
    )


def uid(obj) -> str:
    return str(obj.uuid)


# --------------------------------------------------------------------------- every endpoint, validated


def test_index_says_which_hsds_and_where_the_openapi_document_is(client):
    data = get(client, "/")
    assert data == {"version": "3.0", "openapi_url": "http://testserver/api/hsds/openapi.json"}


def test_services_list_validates_and_lists_published_services_only(client, listing, draft):
    page = get(client, "/services")
    assert_valid_page(page, "compiled/service_list")
    assert page["total_items"] == 2
    assert {s["id"] for s in page["contents"]} == {uid(s) for s in listing.services.all()}
    counselling = next(s for s in page["contents"] if s["name"] == "Counselling")
    assert counselling["organization"]["id"] == uid(listing)
    assert counselling["status"] == "active"
    assert counselling["assured_date"] == listing.last_verified.isoformat()
    assert counselling["minimum_age"] == 18 and "maximum_age" not in counselling
    assert counselling["fees_description"] == "£40 to £60 a session. Fees on a sliding scale."


def test_services_full_and_minimal_validate(client, listing):
    full = get(client, "/services", full="true")
    assert_valid_page(full, "compiled/service")
    minimal = get(client, "/services", minimal="true")
    assert_valid_page(minimal, "compiled/service_list")
    assert set(minimal["contents"][0]) == {"id", "name", "status", "last_modified"}


def test_service_detail_is_fully_nested_and_valid(client, listing):
    counselling = listing.services.get(support_type__slug="counselling")
    data = get(client, f"/services/{counselling.uuid}")
    assert_valid(data, "compiled/service")
    assert data["organization"]["id"] == uid(listing)
    # The place shown by town only has no name in the feed (Location.public).
    assert {sal["location"].get("name") for sal in data["service_at_locations"]} == {
        "Headingley rooms",
        None,
    }
    assert [(c["option"], c["amount"], c["currency"]) for c in data["cost_options"]] == [
        ("Lowest fee per session", 40, "GBP"),
        ("Highest fee per session", 60, "GBP"),
    ]
    assert [lang["code"] for lang in data["languages"]] == ["en", "pl"]
    terms = {
        (a["taxonomy_term"]["taxonomy"], a["taxonomy_term"]["code"]) for a in data["attributes"]
    }
    assert {
        ("Types of support", "counselling"),
        ("Concerns", "grief"),
        ("Concerns", "anxiety"),
        ("Therapeutic approaches", "person-centred"),
        ("Age groups", "adults"),
        ("Languages", "polish"),
        ("Listing features", "in-person"),
        ("Listing features", "online"),
        ("Listing features", "couples"),
        ("Listing features", "sliding-scale"),
    } <= terms
    assert ("Listing features", "phone") not in terms
    assert "Registered Member MBACP · issued by BACP · no. 123456" in data["licenses"]
    assert data["accreditations"].startswith(
        "Degree: MA Counselling · issued by University of Leeds"
    )


def test_a_group_meeting_is_an_rfc_5545_rule(client, listing):
    group = listing.services.get(support_type__slug="support-groups")
    (schedule,) = get(client, f"/services/{group.uuid}")["schedules"]
    assert schedule == {
        "id": derived_id(group.uuid, "schedule"),
        "service_id": uid(group),
        "freq": "MONTHLY",
        "interval": 1,
        "byday": "2TU",
        "dtstart": "2026-03-10",
        "opens_at": "18:30:00",
        "closes_at": "20:00:00",
        "description": "Once a month, on the second Tuesday, 18:30 to 20:00.",
        "notes": "Facilitated by Sam Reed",
    }


@pytest.mark.parametrize(
    ("frequency", "rule"),
    [
        ("weekly", {"freq": "WEEKLY", "interval": 1, "byday": "TU"}),
        ("fortnightly", {"freq": "WEEKLY", "interval": 2, "byday": "TU"}),
    ],
)
def test_weekly_and_fortnightly_meetings(client, listing, frequency, rule):
    group = listing.services.get(support_type__slug="support-groups")
    Service.objects.filter(pk=group.pk).update(group_frequency=frequency)
    (schedule,) = get(client, f"/services/{group.uuid}")["schedules"]
    assert {key: schedule[key] for key in rule} == rule


def test_a_monthly_meeting_without_a_known_week_gives_the_day_only_in_words(client, listing):
    group = listing.services.get(support_type__slug="support-groups")
    Service.objects.filter(pk=group.pk).update(group_starts_on=None)
    (schedule,) = get(client, f"/services/{group.uuid}")["schedules"]
    assert schedule["freq"] == "MONTHLY" and "byday" not in schedule
    assert schedule["description"].startswith("Once a month, on a Tuesday (ask which week)")


def test_a_free_service_costs_nothing(client, listing):
    group = listing.services.get(support_type__slug="support-groups")
    data = get(client, f"/services/{group.uuid}")
    assert [(c["option"], c["amount"]) for c in data["cost_options"]] == [("Free of charge", 0)]


def test_organizations_list_full_and_detail_validate(client, listing, draft):
    page = get(client, "/organizations")
    assert_valid_page(page, "compiled/organization_list")
    assert [o["id"] for o in page["contents"]] == [uid(listing)]
    assert_valid_page(get(client, "/organizations", full="true"), "compiled/organization")
    full_service = get(client, "/organizations", full_service="true")
    assert_valid_page(full_service, "compiled/organization")
    assert len(full_service["contents"][0]["services"]) == 2

    detail = get(client, f"/organizations/{listing.uuid}")
    assert_valid(detail, "compiled/organization")
    assert {s["id"] for s in detail["services"]} == {uid(s) for s in listing.services.all()}
    assert "attributes" not in detail["services"][0]  # simple services unless full_service
    nested = get(client, f"/organizations/{listing.uuid}", full_service="true")
    assert_valid(nested, "compiled/organization")
    assert "attributes" in nested["services"][0]
    assert detail["year_incorporated"] == 2009
    assert [p["number"] for p in detail["phones"]] == ["0113 496 0001"]
    features = {a["taxonomy_term"]["code"]: a.get("value") for a in detail["attributes"]}
    assert features["accepting-new-clients"] == listing.accepting_confirmed_on.isoformat()
    assert "free-first-consultation" in features and "lgbtq" in features
    assert "organisation" not in features


def test_service_at_locations_list_and_detail_validate(client, listing, draft):
    page = get(client, "/service_at_locations")
    assert_valid_page(page, "compiled/service_at_location_list")
    sals = ServiceAtLocation.objects.filter(service__provider=listing)
    assert {s["id"] for s in page["contents"]} == {uid(s) for s in sals}
    assert_valid_page(
        get(client, "/service_at_locations", full="true"), "compiled/service_at_location"
    )
    detail = get(client, f"/service_at_locations/{sals.first().uuid}")
    assert_valid(detail, "compiled/service_at_location")
    assert detail["service"]["id"] == uid(sals.first().service)


def test_taxonomies_and_terms_validate(client, listing):
    page = get(client, "/taxonomies")
    assert_valid_page(page, "taxonomy")
    assert [t["name"] for t in page["contents"]] == [v.name for v in vocab.VOCABULARIES]
    assert_valid(get(client, f"/taxonomies/{vocab.CONCERNS.id}"), "taxonomy")

    terms = get(client, "/taxonomy_terms", per_page=500)
    assert_valid_page(terms, "taxonomy_term")
    counselling = SupportType.objects.get(slug="counselling")
    term = get(client, f"/taxonomy_terms/{counselling.uuid}")
    assert_valid(term, "taxonomy_term")
    assert term["taxonomy_detail"] == vocab.SUPPORT_TYPES.as_hsds()
    assert term["code"] == "counselling" and term["taxonomy_id"] == vocab.SUPPORT_TYPES.id
    feature = get(client, f"/taxonomy_terms/{vocab.FEATURES_BY_CODE['online'].id}")
    assert feature["name"] == "Online"

    concerns = get(client, "/taxonomy_terms", taxonomy_id=vocab.CONCERNS.id, per_page=500)
    assert {t["taxonomy"] for t in concerns["contents"]} == {"Concerns"}
    assert concerns["total_items"] > 10
    assert get(client, "/taxonomy_terms", parent_id=str(uuid.uuid4()))["total_items"] == 0
    assert get(client, "/taxonomy_terms", search="bereave")["total_items"] >= 1


# --------------------------------------------------------------------------- privacy


def test_a_town_only_location_gives_no_street_and_no_coordinates(client, listing):
    home = listing.locations.get(name="Home practice")
    counselling = listing.services.get(support_type__slug="counselling")
    data = get(client, f"/services/{counselling.uuid}")
    shown = next(
        sal["location"] for sal in data["service_at_locations"] if sal["location_id"] == uid(home)
    )
    assert "latitude" not in shown and "longitude" not in shown
    (address,) = shown["addresses"]
    assert address["address_1"] == "" and "address_2" not in address
    assert (address["city"], address["postal_code"]) == ("Harrogate", "HG1")
    assert (
        "Quiet Close" not in str(data) and "HG1 2QQ" not in str(data) and "53.99" not in str(data)
    )
    listed = get(client, "/service_at_locations")["contents"]
    assert all("latitude" not in s["location"] for s in listed if s["location_id"] == uid(home))

    headingley = next(
        sal["location"] for sal in data["service_at_locations"] if sal["location_id"] != uid(home)
    )
    assert (headingley["latitude"], headingley["addresses"][0]["address_1"]) == (
        53.819,
        "12 Otley Road",
    )
    assert headingley["accessibility"][0]["description"] == (
        "Wheelchair access: Step-free throughout. Confirmed by: directory staff."
    )


def test_unpublished_listings_are_not_found(client, draft):
    service = draft.services.first()
    location = draft.locations.first()
    sal = ServiceAtLocation.objects.get(service=service, location=location)
    for path in [
        f"/services/{service.uuid}",
        f"/organizations/{draft.uuid}",
        f"/service_at_locations/{sal.uuid}",
    ]:
        data = get(client, path, status=404)
        assert data["status"] == 404 and "no published" in data["detail"]
    assert get(client, "/services")["total_items"] == 0


# --------------------------------------------------------------------------- filters and paging


def test_taxonomy_term_filters_services(client, listing, make_listing):
    other = make_listing(
        "Online Only Ltd", services=[{"type": "psychotherapy", "concerns": ["anxiety"]}]
    )

    def ids(**params):
        return {s["id"] for s in get(client, "/services", per_page=500, **params)["contents"]}

    concern = listing.services.get(support_type__slug="counselling").concerns.get(slug="grief")
    assert ids(taxonomy_term_id=uid(concern)) == {
        uid(listing.services.get(support_type__slug="counselling"))
    }
    anxiety = concern.__class__.objects.get(slug="anxiety")
    assert len(ids(taxonomy_term_id=uid(anxiety))) == 2
    polish = listing.languages.get(slug="polish")
    assert ids(taxonomy_term_id=uid(polish)) == {uid(s) for s in listing.services.all()}
    evenings = vocab.FEATURES_BY_CODE["open-evenings"].id
    assert ids(taxonomy_term_id=evenings) == {
        uid(listing.services.get(support_type__slug="counselling"))
    }
    assert ids(taxonomy_term_id=str(uuid.uuid4())) == set()
    assert ids(organization_id=uid(other)) == {uid(other.services.get())}
    assert len(ids(taxonomy_id=vocab.APPROACHES.id)) == 1
    assert ids(search="Lovelace") == {uid(s) for s in listing.services.all()}
    sal_ids = {
        s["service_id"]
        for s in get(client, "/service_at_locations", taxonomy_term_id=uid(concern))["contents"]
    }
    assert sal_ids == {uid(listing.services.get(support_type__slug="counselling"))}


def test_modified_after(client, listing):
    later = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    assert get(client, "/services", modified_after=later)["total_items"] == 0
    assert get(client, "/services", modified_after="2000-01-01")["total_items"] == 2


def test_paging_envelope(client, make_listing):
    for n in range(5):
        make_listing(f"Provider {n}")
    page = get(client, "/organizations", per_page=2, page=2)
    assert {k: v for k, v in page.items() if k != "contents"} == {
        "total_items": 5,
        "total_pages": 3,
        "page_number": 2,
        "size": 2,
        "first_page": False,
        "last_page": False,
        "empty": False,
    }
    last = get(client, "/organizations", per_page=2, page=3)
    assert len(last["contents"]) == 1 and last["last_page"]
    beyond = get(client, "/organizations", per_page=2, page=9)
    assert beyond["empty"] and beyond["contents"] == [] and beyond["last_page"]
    everything = [
        o["id"]
        for p in (1, 2, 3)
        for o in get(client, "/organizations", per_page=2, page=p)["contents"]
    ]
    assert len(set(everything)) == 5


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/services", {"page": "abc"}, "page"),
        ("/services", {"page": ""}, "page"),
        ("/services", {"taxonomy_term_id": ""}, "taxonomy_term_id"),
        ("/services", {"page": "0"}, "page"),
        ("/services", {"per_page": "0"}, "per_page"),
        ("/services", {"per_page": str(10**9)}, "per_page"),
        ("/services", {"per_page": "1.5"}, "per_page"),
        ("/services", {"taxonomy_term_id": "not-a-uuid"}, "taxonomy_term_id"),
        ("/services", {"taxonomy_id": "123"}, "taxonomy_id"),
        ("/services", {"organization_id": "x"}, "organization_id"),
        ("/services", {"full": "perhaps"}, "full"),
        ("/services", {"modified_after": "yesterday"}, "modified_after"),
        ("/services", {"modified_after": "2024-13-45"}, "modified_after"),
        ("/services", {"search": "grief\x00"}, "search"),
        ("/services", {"format": "ndjson"}, "format"),
        ("/organizations", {"full_service": "2"}, "full_service"),
        ("/service_at_locations", {"page": "-1"}, "page"),
        ("/taxonomy_terms", {"parent_id": "zzz"}, "parent_id"),
        ("/taxonomies", {"per_page": "501"}, "per_page"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(client, listing, path, params, parameter):
    response = client.get(f"{API}{path}", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    data = response.json()
    assert data["parameter"] == parameter and data["status"] == 400 and data["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/services/",
        "/services/nope",
        "/organizations/123",
        "/taxonomies/x/y",
        "/taxonomy_terms/" + "0" * 32,
    ],
)
def test_unknown_ids_are_a_json_404(client, path):
    data = get(client, path, status=404)
    assert data["status"] == 404


# --------------------------------------------------------------------------- fast and cacheable

LIST_QUERIES = {
    "/services": 4,
    "/services?minimal=true": 3,
    "/services?full=true": 12,
    "/organizations": 3,
    "/organizations?full=true": 6,
    "/organizations?full_service=true": 13,
    "/service_at_locations": 4,
    "/service_at_locations?full=true": 11,
    "/taxonomy_terms": 7,
    "/taxonomies": 1,
}


@pytest.mark.parametrize(("path", "queries"), LIST_QUERIES.items())
def test_list_pages_make_the_same_queries_whatever_per_page_is(
    client, django_assert_num_queries, make_listing, path, queries
):
    for n in range(6):
        make_listing(
            f"Provider {n}",
            places=[("Leeds", 53.8, -1.55)],
            languages=["english"],
            services=[{"concerns": ["anxiety"], "approaches": ["cbt"]}, {"type": "psychotherapy"}],
        )
    separator = "&" if "?" in path else "?"
    for per_page in (1, 500):
        with django_assert_num_queries(queries):
            response = client.get(f"{API}{path}{separator}per_page={per_page}")
        assert response.status_code == 200


def test_etag_and_last_modified_give_a_304_until_listings_change(client, listing):
    first = client.get(f"{API}/services")
    assert first["ETag"] and first["Last-Modified"] and "max-age=60" in first["Cache-Control"]
    again = client.get(f"{API}/services", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    other_page = client.get(f"{API}/services?page=2", HTTP_IF_NONE_MATCH=first["ETag"])
    assert other_page.status_code == 200
    ListingsVersion.bump()
    changed = client.get(f"{API}/services", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_a_304_costs_one_query(client, django_assert_num_queries, listing):
    etag = client.get(f"{API}/services?full=true")["ETag"]
    with django_assert_num_queries(1):
        assert client.get(f"{API}/services?full=true", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_service_locations_keep_their_ids_through_edits(make_listing):
    provider = make_listing("Keeps Ids", places=[("Leeds", 53.8, -1.55), ("York", 53.96, -1.08)])
    service = provider.services.get()
    leeds, york = provider.locations.order_by("town")
    before = ServiceAtLocation.objects.get(service=service, location=leeds).uuid
    service.locations.set([leeds])
    assert list(
        ServiceAtLocation.objects.filter(service=service).values_list("uuid", flat=True)
    ) == [before]
    york.services.add(service)
    assert ServiceAtLocation.objects.filter(service=service).count() == 2
    service.locations.clear()
    assert not ServiceAtLocation.objects.filter(service=service).exists()


def test_postcode_and_proximity(client, listing):
    def towns(**params):
        return sorted(
            s["location"]["addresses"][0]["city"]
            for s in get(client, "/service_at_locations", full="true", **params)["contents"]
        )

    assert towns(postcode="LS6 1AA") == ["Leeds"]
    assert towns(postcode="LS6 3AB", proximity="2000") == ["Leeds"]
    assert towns(postcode="LS6 3AB", proximity="30000") == ["Harrogate", "Leeds"]
    assert get(client, "/service_at_locations", proximity="500")["total_items"] == 2  # ignored
    assert get(client, "/service_at_locations", 400, postcode="nowhere")["parameter"] == "postcode"
    assert get(client, "/service_at_locations", postcode="ZE2 9ZZ", proximity="10")["empty"]


def test_the_features_that_are_criteria_come_from_their_declarations():
    from services.search.criteria import CRITERIA

    declared = {
        "in-person": ("In person", "service", "offers_in_person"),
        "open-daytime": ("Weekday daytimes", "location", "opens_daytime"),
        "open-evenings": ("Evenings (from 5 pm)", "location", "opens_evenings"),
        "sliding-scale": ("Sliding-scale fees", "service", "sliding_scale"),
        "accepting-new-clients": (
            CRITERIA["accepting"].label,
            "organization",
            # Said, confirmed in time and not paused (services/upkeep/).
            "accepting_now",
        ),
    }
    for code, (name, owner, field) in declared.items():
        feature = vocab.FEATURES_BY_CODE[code]
        assert (feature.name, feature.owner, feature.field) == (name, owner, field)
    # A flag's condition is its attribute's field being true.
    assert str(CRITERIA["sliding_scale"].condition()) == str(Q(sliding_scale=True))
    codes = [f.code for f in vocab.LISTING_FEATURES]
    assert len(codes) == len(set(codes))


def test_a_groups_own_language_is_the_services(client, make_listing):
    provider = make_listing(
        "Riverside Centre",
        languages=["english"],
        services=[{"type": "support-groups", "languages": ["spanish"]}, {"type": "counselling"}],
    )
    group = provider.services.get(support_type__slug="support-groups")
    counselling = provider.services.get(support_type__slug="counselling")

    def languages(service) -> list[str]:
        return [held["name"] for held in get(client, f"/services/{uid(service)}")["languages"]]

    assert languages(group) == ["Spanish"]
    assert languages(counselling) == ["English"]
    spanish = Language.objects.get(slug="spanish")
    found = get(client, "/services", taxonomy_term_id=uid(spanish))["contents"]
    assert [s["id"] for s in found] == [uid(group)]
