"""Places typed by people resolved offline, and distances computed in the database."""

import math

import pytest
from django.db.models import F

from services import geo
from services.geo import (
    EARTH_RADIUS_KM,
    Place,
    bounding_box,
    distance_km,
    place_key,
    providers_near,
    resolve_place,
)
from services.models import GazetteerPlace, Location, Provider

pytestmark = pytest.mark.django_db

LEEDS = (53.8008, -1.5491)
MANCHESTER = (53.4808, -2.2426)
BRADFORD = (53.7960, -1.7594)


def haversine_km(a, b):
    (lat1, lng1), (lat2, lng2) = (map(math.radians, point) for point in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@pytest.fixture
def make_location(make_location):
    """Places with their full address shown: these tests measure to the places themselves
    (to a place shown by town only, from its square: tests/test_town_only.py)."""

    def make(provider, **fields):
        fields.setdefault("address_shown", Location.AddressShown.FULL)
        return make_location(provider, **fields)

    return make


def labels(lookup):
    return [choice.label for choice in lookup.choices]


# --------------------------------------------------------------------------- the gazetteer


def test_the_migration_loads_the_gazetteer():
    assert GazetteerPlace.objects.count() > 35000
    london = GazetteerPlace.objects.filter(key="london", country_code="GB").get()
    assert (london.region, london.country) == ("England", "United Kingdom")
    # Towns of 1,000 people are there for the UK and Ireland only.
    assert GazetteerPlace.objects.filter(country_code="GB", population__lt=15000).exists()
    assert GazetteerPlace.objects.filter(country_code="IE", population__lt=15000).exists()
    assert not GazetteerPlace.objects.filter(country_code="FR", population__lt=15000).exists()
    assert GazetteerPlace.objects.get(key="springfield", region="Illinois").country_code == "US"
    assert set(
        GazetteerPlace.objects.filter(country_code="GB").values_list("region", flat=True)
    ) <= {"England", "Scotland", "Wales", "Northern Ireland", ""}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Stoke-on-Trent", "stoke on trent"),
        ("King's Lynn", "kings lynn"),
        ("  St. Albans ", "st albans"),
        ("Zürich", "zurich"),
        ("São Paulo", "sao paulo"),
        ("Łódź", "lodz"),
        ("NEWCASTLE   upon\tTyne", "newcastle upon tyne"),
    ],
)
def test_place_key_folds_case_accents_punctuation_and_spaces(name, key):
    assert place_key(name) == key


# --------------------------------------------------------------------------- postcodes


@pytest.fixture
def leeds_postcodes(make_provider, make_location):
    provider = make_provider()
    make_location(provider, postcode="LS6 3AB", latitude=53.8200, longitude=-1.5800)
    make_location(provider, postcode="LS6 3AB", latitude=53.8210, longitude=-1.5810)
    make_location(provider, postcode="LS6 2XY", latitude=53.8300, longitude=-1.5700)
    # Other districts that begin with the same characters.
    make_location(provider, postcode="LS16 5AA", latitude=53.8700, longitude=-1.6000)
    make_location(provider, postcode="LS60 1AA", latitude=50.0, longitude=-5.0)
    # No coordinates: no help in finding the district.
    make_location(provider, postcode="LS6 4ZZ")


@pytest.mark.parametrize("typed", ["LS6 3AB", "ls6 3ab", "LS63AB", "  ls6   3AB "])
def test_a_full_postcode_is_the_centre_of_the_listings_there(leeds_postcodes, typed):
    lookup = resolve_place(typed)
    assert lookup.error == ""
    assert lookup.place == Place("LS6 3AB", pytest.approx(53.8205), pytest.approx(-1.5805))


@pytest.mark.parametrize("typed", ["LS6", "ls6", " Ls6 "])
def test_a_postcode_district_is_the_centre_of_the_district_not_of_its_listings(
    leeds_postcodes, typed
):
    lookup = resolve_place(typed)
    assert lookup.place == Place(
        "LS6 (centre of the postcode district)",
        pytest.approx(53.82, abs=0.01),
        pytest.approx(-1.58, abs=0.015),
    )


def test_a_district_missing_from_the_data_is_the_centre_of_its_listings(leeds_postcodes):
    # LS60 is no real district: only a listing says where it is.
    lookup = resolve_place("LS60")
    assert lookup.place == Place(
        "LS60 (centre of our listings in the postcode district)", 50.0, -5.0
    )


def test_an_unknown_full_postcode_falls_back_to_its_district(leeds_postcodes):
    lookup = resolve_place("LS6 9QQ")
    assert lookup.place.label == "LS6 9QQ (centre of the LS6 postcode district)"
    assert lookup.place.latitude == pytest.approx(53.82, abs=0.01)


def test_a_postcode_in_an_address_is_used(leeds_postcodes):
    lookup = resolve_place("12 Otley Road, Leeds, LS6 3AB")
    assert lookup.place.label == "LS6 3AB"


@pytest.mark.parametrize(("typed", "shown"), [("LS40", "LS40"), ("ls40 1aa", "LS40 1AA")])
def test_an_unknown_postcode_is_an_error(leeds_postcodes, typed, shown):
    lookup = resolve_place(typed)
    assert lookup.place is None
    # The districts of the area that are a slip of a key away, then the nearest numbers.
    assert labels(lookup) == ["LS20", "LS10", "LS4", "LS29", "LS28"]
    assert lookup.error == (
        f"We could not find the postcode {shown}. Try the name of a town or city."
    )


# --------------------------------------------------------------------------- place names


def test_a_unique_town_resolves():
    lookup = resolve_place("leeds")
    assert lookup.error == ""
    assert lookup.place.label == "Leeds"
    assert haversine_km((lookup.place.latitude, lookup.place.longitude), LEEDS) < 2


def test_names_are_matched_without_punctuation_or_accents():
    assert resolve_place("stoke on trent").place.label == "Stoke-on-Trent"
    assert resolve_place("Kings Lynn").place.label == "King's Lynn"
    assert resolve_place("zurich").place.label == "Zürich, Switzerland"


def test_a_town_known_only_from_the_listings(make_provider, make_location):
    provider = make_provider()
    make_location(provider, town="Little Wimbleton", latitude=52.0, longitude=-1.0)
    make_location(provider, town="Little Wimbleton", latitude=52.2, longitude=-1.2)
    make_location(provider, town="Little Wimbleton")  # no coordinates

    lookup = resolve_place("little wimbleton")

    assert lookup.error == ""
    assert lookup.place == Place("Little Wimbleton", pytest.approx(52.1), pytest.approx(-1.1))


def test_a_listings_town_wins_over_a_namesake_abroad(make_provider, make_location):
    # GeoNames' gazetteer calls Hull "Kingston upon Hull" and its "Hull" is in Canada;
    # the postcode districts know Hull (HU2 to HU8), and a listing there knows it better.
    assert resolve_place("Hull").place.label == "Hull"
    assert labels(resolve_place("Hull")) == ["Hull, Canada"]
    make_location(make_provider(), town="Hull", latitude=53.7676, longitude=-0.3274)

    lookup = resolve_place("Hull")

    assert lookup.place == Place("Hull", 53.7676, -0.3274)
    assert labels(lookup) == ["Hull, Canada"]


def test_springfield_is_a_village_in_several_uk_counties_so_the_person_chooses():
    # The gazetteer's towns have no UK Springfield; the postcode districts name several.
    assert not GazetteerPlace.objects.filter(key="springfield", country_code="GB").exists()

    lookup = resolve_place("Springfield")

    assert lookup.place is None
    assert lookup.error == ""
    # The UK's first, the county with the most districts of that name first...
    assert labels(lookup)[:2] == ["Springfield, West Midlands", "Springfield, Essex"]
    # ...then those abroad, the most populous first.
    abroad = [label for label in labels(lookup) if label.endswith(", United States")]
    assert "Springfield, Illinois, United States" in abroad
    assert "Springfield, Missouri, United States" in abroad
    populations = [
        GazetteerPlace.objects.filter(key="springfield", region=label.split(", ")[1])
        .order_by("-population")
        .first()
        .population
        for label in abroad
    ]
    assert populations == sorted(populations, reverse=True)


@pytest.mark.parametrize("typed", ["Springfield, Illinois", "springfield ,  ILLINOIS"])
def test_a_qualified_name_resolves(typed):
    lookup = resolve_place(typed)
    assert lookup.error == ""
    assert lookup.place.label == "Springfield, Illinois, United States"
    assert lookup.place.latitude == pytest.approx(39.8, abs=0.1)
    assert lookup.choices == ()


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("Paris, France", "Paris, France"),
        ("Paris, FR", "Paris, France"),
        ("London, GB", "London"),
        ("London, UK", "London"),
        ("London, United Kingdom", "London"),
        ("London, Canada", "London, Canada"),
    ],
)
def test_a_qualifier_may_be_a_country_name_or_code(typed, label):
    assert resolve_place(typed).place.label == label


def test_newport_is_the_largest_of_the_uk_newports_and_the_others_are_offered():
    # The UK has Newports in Wales and in England, so each is named with its nation.
    assert set(
        GazetteerPlace.objects.filter(key="newport", country_code="GB").values_list(
            "region", flat=True
        )
    ) == {"Wales", "England"}

    lookup = resolve_place("Newport")

    assert lookup.place.label == "Newport, Wales"
    assert haversine_km((lookup.place.latitude, lookup.place.longitude), (51.5842, -2.9977)) < 5
    # The other UK one first, then those abroad; several English Newports are one choice.
    assert labels(lookup)[0] == "Newport, England"
    assert labels(lookup).count("Newport, England") == 1
    assert "Newport, Rhode Island, United States" in labels(lookup)


def test_newport_england_resolves_to_the_largest_english_one():
    lookup = resolve_place("Newport, England")
    assert lookup.place.label == "Newport, England"
    # Only the longer names people shorten to "Newport" are offered besides.
    assert [c.label for c in lookup.choices] == ["Newport Pagnell, England"]
    largest = (
        GazetteerPlace.objects.filter(key="newport", region="England")
        .order_by("-population")
        .first()
    )
    assert (lookup.place.latitude, lookup.place.longitude) == (largest.latitude, largest.longitude)


def test_a_name_that_is_not_where_the_qualifier_says_offers_where_it_is():
    lookup = resolve_place("Leeds, Wales")
    assert lookup.place is None
    assert lookup.error.startswith("We could not find a place called “Leeds, Wales”.")
    assert labels(lookup)[:1] == ["Leeds"]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Newcastle", "Newcastle upon Tyne, England"),
        ("Newport, Scotland", "Newport-on-Tay, Scotland"),
        ("Stoke", "Stoke-on-Trent"),
    ],
)
def test_a_shortened_name_is_the_most_populous_place_it_starts(typed, meant):
    lookup = resolve_place(typed)
    assert lookup.place.label == meant


def test_london_is_london_england_with_london_ontario_offered():
    lookup = resolve_place("London")
    assert lookup.place.label == "London"
    assert lookup.place.latitude == pytest.approx(51.51, abs=0.05)
    assert lookup.place.longitude == pytest.approx(-0.13, abs=0.05)
    ontario = next(choice for choice in lookup.choices if choice.label == "London, Canada")
    assert ontario.latitude == pytest.approx(42.98, abs=0.05)


def test_the_home_country_is_a_setting(settings):
    settings.DIRECTORY_COUNTRY = "US"

    springfield = resolve_place("Springfield")
    london = resolve_place("London")

    # At home, a name in several states is named with its state.
    assert springfield.place.label == "Springfield, Missouri"
    assert "Springfield, Illinois" in labels(springfield)
    assert london.place is None
    assert labels(london)[0] == "London, England, United Kingdom"


def test_several_places_abroad_are_for_the_person_to_choose():
    lookup = resolve_place("Paris")
    assert lookup.place is None
    assert labels(lookup)[:2] == ["Paris, France", "Paris, Texas, United States"]


@pytest.mark.parametrize("typed", ["Nowhereville", "Nowhere-ville!!", "?!"])
def test_an_unknown_place_is_an_error(typed):
    lookup = resolve_place(typed)
    assert lookup.place is None
    assert lookup.choices == ()
    assert lookup.error == (
        f"We could not find a place called “{typed}”. Check the spelling, or try a nearby town or a postcode."
    )


@pytest.mark.parametrize(
    "typed",
    ["L" * 101, "Leeds\x00", "Le\x1beds", "\ud800Leeds", "", "   ", "x" * 100_000],
)
def test_bad_input_is_an_error_not_an_exception(typed):
    lookup = resolve_place(typed)
    assert lookup.place is None
    assert lookup.error


def test_stray_tabs_and_line_breaks_are_spaces():
    assert resolve_place("\tLeeds\r\n").place.label == "Leeds"


@pytest.mark.parametrize(
    "typed",
    ["LS6 3AB", "LS6", "Leeds", "Newport, Scotland", "Springfield", "Little Wimbleton", "Nowhere"],
)
def test_resolving_takes_at_most_two_queries(typed, leeds_postcodes, django_assert_max_num_queries):
    # The first unknown name in a process also reads the home country's names, once, for
    # spelling suggestions (test_the_names_for_suggestions_are_read_once).
    resolve_place("Nowhere")
    with django_assert_max_num_queries(2):
        resolve_place(typed)


# --------------------------------------------------------------------------- geometry


def test_bounding_box_at_the_equator():
    min_lat, max_lat, min_lng, max_lng = bounding_box(0, 0, EARTH_RADIUS_KM * math.pi / 180)
    assert (min_lat, max_lat) == (pytest.approx(-1), pytest.approx(1))
    assert (min_lng, max_lng) == (pytest.approx(-1), pytest.approx(1))


def test_bounding_box_in_leeds_holds_the_circle():
    min_lat, max_lat, min_lng, max_lng = bounding_box(*LEEDS, 10)
    assert max_lat - LEEDS[0] == pytest.approx(10 / 111.195, rel=1e-3)
    assert LEEDS[0] - min_lat == pytest.approx(10 / 111.195, rel=1e-3)
    # A degree of longitude is shorter this far north.
    assert max_lng - LEEDS[1] == pytest.approx(
        10 / (111.195 * math.cos(math.radians(LEEDS[0]))), rel=1e-2
    )
    # The points 10 km due east and west are inside, and not far inside.
    east = (LEEDS[0], LEEDS[1] + (max_lng - LEEDS[1]) * 0.999)
    assert haversine_km(LEEDS, east) < 10
    assert haversine_km(LEEDS, (LEEDS[0], max_lng + 0.001)) > 10


def test_bounding_box_near_a_pole_and_the_antimeridian_is_clamped():
    assert bounding_box(89.95, 10, 50) == (
        pytest.approx(89.95 - 50 / 111.195, rel=1e-4),
        90,
        -180,
        180,
    )
    assert bounding_box(-89.95, 10, 50)[0] == -90
    min_lat, max_lat, min_lng, max_lng = bounding_box(0, 179.9, 50)
    assert max_lng == 180
    assert min_lng == pytest.approx(179.9 - 50 / 111.195, rel=1e-4)
    assert bounding_box(*LEEDS, 0) == (LEEDS[0], LEEDS[0], LEEDS[1], LEEDS[1])
    assert bounding_box(*LEEDS, -5) == bounding_box(*LEEDS, 0)
    assert bounding_box(0, 0, 30000) == (-90, 90, -180, 180)


def test_distance_km_is_computed_in_the_database(make_provider, make_location):
    provider = make_provider()
    make_location(provider, name="Leeds", latitude=LEEDS[0], longitude=LEEDS[1])
    make_location(provider, name="Manchester", latitude=MANCHESTER[0], longitude=MANCHESTER[1])
    make_location(provider, name="Nowhere")  # no coordinates
    make_location(provider, name="Antipodes", latitude=-LEEDS[0], longitude=LEEDS[1] + 180)

    distances = dict(
        Location.objects.annotate(distance=distance_km(*LEEDS)).values_list("name", "distance")
    )

    # The same point: rounding must not take ACOS out of its domain.
    assert distances["Leeds"] == pytest.approx(0, abs=0.001)
    assert distances["Manchester"] == pytest.approx(haversine_km(LEEDS, MANCHESTER), abs=1)
    assert distances["Manchester"] == pytest.approx(58, abs=1)
    assert distances["Antipodes"] == pytest.approx(math.pi * EARTH_RADIUS_KM, abs=1)
    assert distances["Nowhere"] is None


def test_distance_km_takes_other_field_names(make_provider, make_location):
    make_location(make_provider(), latitude=MANCHESTER[0], longitude=MANCHESTER[1])
    distance = (
        Provider.objects.annotate(
            distance=distance_km(*LEEDS, "locations__latitude", "locations__longitude")
        )
        .values_list("distance", flat=True)
        .get()
    )
    assert distance == pytest.approx(haversine_km(LEEDS, MANCHESTER), abs=1)


# --------------------------------------------------------------------------- providers near


@pytest.fixture
def listings(make_provider, make_location, make_service):
    """Providers in Leeds, Bradford (two locations), Manchester, online only, and nowhere."""
    leeds = make_provider("Leeds")
    make_location(leeds, latitude=LEEDS[0], longitude=LEEDS[1])
    bradford = make_provider("Bradford")
    make_location(bradford, latitude=BRADFORD[0], longitude=BRADFORD[1])
    make_location(bradford, latitude=BRADFORD[0] - 0.01, longitude=BRADFORD[1] - 0.01)
    manchester = make_provider("Manchester")
    make_location(manchester, latitude=MANCHESTER[0], longitude=MANCHESTER[1])
    make_service(manchester, offers_in_person=True)
    online = make_provider("Online")
    make_service(online, offers_in_person=False, offers_online=True)
    make_service(online, offers_in_person=False, offers_phone=True)
    make_service(online, offers_in_person=False, offers_online=True)
    unplaced = make_provider("Unplaced")
    make_location(unplaced)
    # Inside the box around Leeds, but in its corner, beyond 20 km.
    corner = make_provider("Corner")
    min_lat, max_lat, min_lng, max_lng = bounding_box(*LEEDS, 20)
    make_location(corner, latitude=max_lat - 0.005, longitude=max_lng - 0.005)
    return {p.name: p for p in (leeds, bradford, manchester, online, unplaced, corner)}


def near_leeds(radius_km, **options):
    found = providers_near(
        Provider.objects.all(),
        latitude=LEEDS[0],
        longitude=LEEDS[1],
        radius_km=radius_km,
        **options,
    )
    return list(found.values_list("name", "distance_km"))


def test_providers_near_keeps_those_within_the_radius(listings):
    corner = listings["Corner"].locations.get()
    assert haversine_km(LEEDS, (corner.latitude, corner.longitude)) > 20

    found = dict(near_leeds(20))

    assert sorted(found) == ["Bradford", "Leeds"]
    assert found["Leeds"] == pytest.approx(0, abs=0.001)
    assert found["Bradford"] == pytest.approx(haversine_km(LEEDS, BRADFORD), abs=0.01)


def test_providers_near_widens_with_the_radius(listings):
    assert [name for name, _ in near_leeds(1)] == ["Leeds"]
    assert sorted(name for name, _ in near_leeds(60)) == [
        "Bradford",
        "Corner",
        "Leeds",
        "Manchester",
    ]
    assert near_leeds(0.0001) == [("Leeds", pytest.approx(0, abs=0.001))]


def test_providers_near_lists_a_provider_with_two_locations_once_at_its_nearest(listings):
    found = near_leeds(20)
    assert [name for name, _ in found].count("Bradford") == 1
    nearest = min(
        haversine_km(LEEDS, (location.latitude, location.longitude))
        for location in listings["Bradford"].locations.all()
    )
    assert dict(found)["Bradford"] == pytest.approx(nearest, abs=0.01)


def test_providers_near_can_include_those_who_work_online(listings):
    found = near_leeds(20, include_online=True)
    # Listed once, however many online services, and with no distance to show.
    assert sorted(found, key=lambda row: row[0]) == [
        ("Bradford", pytest.approx(haversine_km(LEEDS, BRADFORD), abs=0.01)),
        ("Leeds", pytest.approx(0, abs=0.001)),
        ("Online", None),
    ]


def test_an_online_provider_with_a_far_location_has_no_distance(listings, make_service):
    make_service(listings["Manchester"], offers_online=True)
    found = dict(near_leeds(20, include_online=True))
    assert found["Manchester"] is None
    assert found["Online"] is None


def test_providers_near_works_on_a_filtered_queryset_and_can_be_ordered(listings):
    found = providers_near(
        Provider.objects.exclude(name="Leeds"),
        latitude=LEEDS[0],
        longitude=LEEDS[1],
        radius_km=100,
        include_online=True,
        # Without nulls_last, SQLite puts those without a distance first and PostgreSQL last.
    ).order_by(F("distance_km").asc(nulls_last=True), "name")
    names = [provider.name for provider in found]
    assert names[0] == "Bradford"
    assert names[-1] == "Online"
    assert "Leeds" not in names
    assert len(names) == len(set(names))


# --------------------------------------------------------------------------- postcode districts


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("LS6", "LS6 (centre of the postcode district)"),
        ("ls6", "LS6 (centre of the postcode district)"),
        ("LS6 3AA", "LS6 3AA (centre of the LS6 postcode district)"),
        ("ls63aa", "LS6 3AA (centre of the LS6 postcode district)"),
        ("LS6  3AA", "LS6 3AA (centre of the LS6 postcode district)"),
    ],
)
def test_any_uk_postcode_resolves_with_no_listings(typed, label, django_assert_max_num_queries):
    assert not Location.objects.exists()
    with django_assert_max_num_queries(1):
        lookup = resolve_place(typed)
    assert lookup.error == ""
    assert lookup.place == Place(
        label, pytest.approx(53.82, abs=0.01), pytest.approx(-1.58, abs=0.015)
    )


def test_a_district_alone_needs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert resolve_place("SW1A").place.label == "SW1A (centre of the postcode district)"


def test_a_full_postcode_of_a_listing_shown_by_town_only_is_its_district(
    make_provider, make_location
):
    make_location(
        make_provider(),
        postcode="LS6 3AB",
        latitude=53.9,
        longitude=-1.7,
        address_shown=Location.AddressShown.TOWN,
    )
    lookup = resolve_place("LS6 3AB")
    assert lookup.place.label == "LS6 3AB (centre of the LS6 postcode district)"
    assert lookup.place.latitude == pytest.approx(53.82, abs=0.01)


def test_an_unknown_district_suggests_districts_that_resolve():
    lookup = resolve_place("LS40 1AA")
    assert lookup.place is None
    assert (
        lookup.error == "We could not find the postcode LS40 1AA. Try the name of a town or city."
    )
    for choice in lookup.choices:
        assert resolve_place(choice.label).place.latitude == choice.latitude


def test_an_unknown_postcode_area_has_no_suggestions():
    lookup = resolve_place("QQ1 1AA")
    assert lookup.place is None
    assert lookup.choices == ()
    assert lookup.error.startswith("We could not find the postcode QQ1 1AA.")


# --------------------------------------------------------------------------- areas and counties


def test_an_area_the_postcode_districts_name_resolves():
    # A Leeds neighbourhood, in LS9: not a town in the gazetteer.
    assert not GazetteerPlace.objects.filter(key="harehills").exists()
    lookup = resolve_place("Harehills")
    assert lookup.error == ""
    assert lookup.place.label == "Harehills"
    assert haversine_km((lookup.place.latitude, lookup.place.longitude), LEEDS) < 5


def test_an_area_in_several_districts_of_a_county_is_their_middle():
    # Hull is in HU2, HU3, HU4, HU5 and HU8.
    lookup = resolve_place("hull")
    assert lookup.place.label == "Hull"
    assert haversine_km((lookup.place.latitude, lookup.place.longitude), (53.7446, -0.3353)) < 3


def test_areas_are_the_uks_only_in_a_directory_of_the_uk(settings):
    settings.DIRECTORY_COUNTRY = "US"
    assert resolve_place("Harehills").place is None


@pytest.mark.parametrize("typed", ["Leeds, West Yorkshire", "leeds,west yorkshire"])
def test_a_uk_place_may_be_named_with_its_county(typed):
    lookup = resolve_place(typed)
    assert lookup.error == ""
    assert lookup.place.label == "Leeds"
    assert haversine_km((lookup.place.latitude, lookup.place.longitude), LEEDS) < 2


def test_a_uk_place_named_with_another_county_offers_where_it_is():
    lookup = resolve_place("Leeds, Cornwall")
    assert lookup.place is None
    assert lookup.error.startswith("We could not find a place called “Leeds, Cornwall”.")
    assert labels(lookup)[0] == "Leeds"


def test_an_area_may_be_named_with_its_county():
    lookup = resolve_place("Springfield, Essex")
    assert lookup.place.label == "Springfield, Essex"
    # Springfield, Chelmsford.
    assert haversine_km((lookup.place.latitude, lookup.place.longitude), (51.74, 0.49)) < 5


def test_a_us_state_still_names_a_us_place():
    assert resolve_place("Springfield, Illinois").place.label == (
        "Springfield, Illinois, United States"
    )


# --------------------------------------------------------------------------- spelling


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Leedz", "Leeds"), ("Manchster", "Manchester"), ("Birmingam", "Birmingham")],
)
def test_a_misspelt_town_offers_the_towns_spelt_like_it(typed, meant):
    lookup = resolve_place(typed)
    assert lookup.place is None
    assert lookup.error == (
        f"We could not find a place called “{typed}”. Check the spelling, or try a nearby town or a postcode."
    )
    assert labels(lookup)[0] == meant
    assert resolve_place(labels(lookup)[0]).place.label == meant


def test_a_namesake_abroad_of_a_misspelt_town_offers_the_town():
    lookup = resolve_place("Edinburg")
    assert lookup.place.label == "Edinburg, Texas, United States"
    assert labels(lookup) == ["Edinburgh"]


def test_a_misspelt_town_with_a_qualifier_is_suggested_by_its_name():
    assert labels(resolve_place("Leedz, West Yorkshire"))[0] == "Leeds"


def test_the_names_for_suggestions_are_read_once(django_assert_num_queries):
    geo._home_places.cache_clear()
    # The gazetteer, the listings' towns, and the home country's names.
    with django_assert_num_queries(3):
        resolve_place("Leedz")
    with django_assert_num_queries(2):
        resolve_place("Manchster")
