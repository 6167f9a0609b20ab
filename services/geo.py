"""Places typed by people turned into coordinates offline, and distances between them and listings."""

import difflib
import functools
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Exists,
    FloatField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import ACos, Cos, Greatest, Least, Radians, Sin

from services.memo import KeyedMemo
from services.models import GazetteerPlace, Location, Service
from services.places import postcodes

# The annotations of Location.distance_point_sql(): where distances to a place are measured from.
MEASURED = ("measured_latitude", "measured_longitude")
EARTH_RADIUS_KM = 6371.0088  # the mean radius, which keeps the spherical model's error below 0.5 %
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
MAX_PLACE_LENGTH = 100
# A "did you mean" list longer than this is no help: the person can add a region instead.
MAX_CHOICES = 10
# Of misspelt places and postcodes, only the few closest are worth offering.
MAX_SUGGESTIONS = 5
# The postcode districts are the UK's: they answer only in a directory of the UK.
POSTCODE_COUNTRY = "GB"
# A place named with its county ("Leeds, West Yorkshire") must be within this of one
# of the county's postcode districts' centres: a "Leeds, Cornwall" is not Leeds.
COUNTY_REACH_KM = 25

# The outward part ("LS6", "SW1A") and, optionally, the inward part ("3AB") of a UK
# postcode, matched with the spaces taken out so "ls63ab" and "LS6  3AB" both work.
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})?")

# What people write for a country that is neither its GeoNames name nor its ISO code.
COUNTRY_ALIASES = {
    "uk": "GB",
    "u k": "GB",
    "britain": "GB",
    "great britain": "GB",
    "usa": "US",
    "u s a": "US",
    "u s": "US",
    "united states of america": "US",
}

# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "đ": "d", "ø": "o", "ı": "i", "ħ": "h", "ð": "d", "æ": "ae", "œ": "oe", "þ": "th"}
)
_APOSTROPHES = re.compile(r"['’‘ʻʼ`]")
_NOT_WORD = re.compile(r"[\W_]+")
# Tabs and line breaks are only spaces typed or pasted by accident; other control
# characters (NUL above all, which PostgreSQL refuses) mean the text is not a place.
_HARMLESS_CONTROLS = {"\t", "\n", "\r"}

TOO_LONG = f"That is too long for a place. Type a town, a city or a postcode, in up to {MAX_PLACE_LENGTH} characters."
UNREADABLE = (
    "That place has characters we cannot read. Type the name of a town or city, or a postcode."
)
EMPTY = "Type the name of a town or city, or a postcode."
UNKNOWN_POSTCODE = "We could not find the postcode {postcode}. Try the name of a town or city."
UNKNOWN_PLACE = "We could not find a place called “{text}”. Check the spelling, or try a nearby town or a postcode."


@dataclass(frozen=True)
class Place:
    label: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class PlaceLookup:
    place: Place | None
    choices: tuple[Place, ...] = ()
    error: str = ""


def place_key(text: str) -> str:
    """The form a place name is stored and looked up in: "Stoke-on-Trent" -> "stoke on trent"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    unaccented = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # "King's Lynn" and "Kings Lynn" should meet, so apostrophes go rather than become spaces.
    return " ".join(_NOT_WORD.sub(" ", _APOSTROPHES.sub("", unaccented)).split())


def resolve_place(text: str) -> PlaceLookup:
    """What a person typed in "near" (a postcode, a town, "Springfield, Illinois"), as coordinates."""
    text = text or ""
    if any(
        unicodedata.category(ch) in ("Cc", "Cs") and ch not in _HARMLESS_CONTROLS for ch in text
    ):
        return PlaceLookup(None, error=UNREADABLE)
    text = " ".join(text.split())
    if len(text) > MAX_PLACE_LENGTH:
        return PlaceLookup(None, error=TOO_LONG)
    if not text:
        return PlaceLookup(None, error=EMPTY)

    parts = [" ".join(part.split()) for part in text.split(",")]
    parts = [part for part in parts if part]
    # Someone may type a whole address; its postcode is the most precise part of it.
    for part in parts:
        postcode = _postcode(part)
        if postcode:
            return _resolve_postcode(*postcode)
    if not parts:
        return PlaceLookup(None, error=UNKNOWN_PLACE.format(text=text))
    name, qualifier = parts[0], ", ".join(parts[1:])
    return _resolve_name(text, name, qualifier)


# People type the same few hundred towns and postcodes; each is looked up once in a while.
# The listings' own postcodes and towns are places too: forgotten when the listings change.
_lookups = KeyedMemo(lambda text: resolve_place(text), seconds=300, size=4096)


def resolve_place_remembered(text: str) -> PlaceLookup:
    """resolve_place(text), remembered in this process."""
    return _lookups.get(text)


def forget_places() -> None:
    _lookups.forget()


def _postcode(text: str) -> tuple[str, str] | None:
    """(outward, inward) of a UK postcode, inward "" when only the district was typed."""
    match = POSTCODE.fullmatch("".join(text.split()).upper())
    if not match:
        return None
    return match[1], match[2] or ""


def _resolve_postcode(outward: str, inward: str) -> PlaceLookup:
    full = f"{outward} {inward}" if inward else outward
    district = postcodes.district(outward)
    if inward or not district:
        # A listing's place is where distances to it are measured from (Location.distance_point),
        # and the full postcode of a place shown by town only is not a place at all: a search
        # there would find the listing 0.0 km away.
        exact = Q(postcode__iexact=full, address_shown=Location.AddressShown.FULL)
        # One query gives both answers: the exact postcode's locations are among the district's.
        centres = (
            Location.objects.filter(
                latitude__isnull=False, longitude__isnull=False, postcode__istartswith=f"{outward} "
            )
            .annotate(**Location.distance_point_sql())
            .aggregate(
                exact_latitude=Avg(MEASURED[0], filter=exact),
                exact_longitude=Avg(MEASURED[1], filter=exact),
                district_latitude=Avg(MEASURED[0]),
                district_longitude=Avg(MEASURED[1]),
            )
        )
        if inward and centres["exact_latitude"] is not None:
            return PlaceLookup(Place(full, centres["exact_latitude"], centres["exact_longitude"]))
    # The label is shown as the place searched: it says the point is the district's middle,
    # not the postcode itself.
    of_district = f"the {outward} postcode district" if inward else "the postcode district"
    if district:
        return PlaceLookup(
            Place(f"{full} (centre of {of_district})", district.latitude, district.longitude)
        )
    # A district too new for the data file, or not in it, may still have listings.
    if centres["district_latitude"] is not None:
        return PlaceLookup(
            Place(
                f"{full} (centre of our listings in {of_district})",
                centres["district_latitude"],
                centres["district_longitude"],
            )
        )
    # Labels a person can choose and that resolve again as typed: the bare district.
    close = tuple(
        Place(known.outward, known.latitude, known.longitude)
        for known in postcodes.districts_like(outward, MAX_SUGGESTIONS)
    )
    return PlaceLookup(None, choices=close, error=UNKNOWN_POSTCODE.format(postcode=full))


def _resolve_name(text: str, name: str, qualifier: str) -> PlaceLookup:
    key = place_key(name)
    # People shorten the names of places at home: "Newcastle" is Newcastle upon Tyne to
    # most, and Newcastle-under-Lyme to some; a home place that starts with the name
    # counts with the places of that very name, the most populous first.
    shortened = Q(country_code=settings.DIRECTORY_COUNTRY, key__startswith=f"{key} ")
    rows = (
        list(
            GazetteerPlace.objects.filter(Q(key=key) | shortened)
            .order_by("-population", "pk")
            .values_list("name", "region", "country_code", "country", "latitude", "longitude")
        )
        if key
        else []
    )
    at_home, abroad = _places(rows, qualifier)
    if at_home:
        # A directory of one country: a place there wins over bigger ones abroad, and of
        # several there (Newport, Wales and Newport, England) the most populous.
        others = at_home[1:] + abroad
        return PlaceLookup(at_home[0], choices=tuple(others[:MAX_CHOICES]))
    if qualifier and abroad:
        return _one_or_choices(abroad)
    if qualifier:
        # "Leeds, West Yorkshire": GeoNames knows the nation, not the county, of a UK place.
        in_county = _in_county(rows, qualifier) or _area(key, qualifier)
        if in_county:
            return PlaceLookup(in_county)
    if qualifier and rows:
        # The name exists, only not where the qualifier says: offer where it does.
        at_home, abroad = _places(rows, "")
        return PlaceLookup(
            None,
            choices=tuple((at_home + abroad)[:MAX_CHOICES]),
            error=UNKNOWN_PLACE.format(text=text),
        )

    # The gazetteer lacks villages, neighbourhoods and short names ("Hull" is "Kingston
    # upon Hull" there, and "Hull" alone is in Canada), but a listing there says where it is.
    town = (
        Location.objects.filter(town__iexact=name, latitude__isnull=False, longitude__isnull=False)
        .annotate(**Location.distance_point_sql())
        .aggregate(label=Min("town"), latitude=Avg(MEASURED[0]), longitude=Avg(MEASURED[1]))
    )
    if town["latitude"] is not None:
        place = Place(town["label"], town["latitude"], town["longitude"])
        return PlaceLookup(place, choices=tuple(abroad[:MAX_CHOICES]))
    # And the postcode districts name the villages and areas in them: one of these wins
    # over namesakes abroad, but of several in different counties the person chooses.
    areas = [] if qualifier else _areas(key)
    if len(areas) == 1:
        return PlaceLookup(areas[0], choices=tuple(abroad[:MAX_CHOICES]))
    if areas:
        return PlaceLookup(None, choices=tuple((areas + abroad)[:MAX_CHOICES]))
    if abroad:
        # A namesake abroad may be a slip for a place at home: "Edinburg" is in Texas.
        found = _one_or_choices(abroad)
        at_home = tuple(place for place in _spelt_like(key) if place_key(place.label) != key)
        return PlaceLookup(found.place, choices=(found.choices + at_home)[:MAX_CHOICES])
    return PlaceLookup(None, choices=_spelt_like(key), error=UNKNOWN_PLACE.format(text=text))


def _in_county(rows: list[tuple], qualifier: str) -> Place | None:
    """Of the home places in the gazetteer rows, the one in the county the qualifier names:
    the nearest to one of its postcode districts, if near enough to be in it."""
    county = _home_districts(postcodes.districts_in_county, place_key(qualifier))
    home = [row for row in rows if row[2] == settings.DIRECTORY_COUNTRY]
    if not county or not home:
        return None
    latitudes = [district.latitude for district in county]
    longitudes = [district.longitude for district in county]
    km, name, latitude, longitude = min(
        (distances_km(latitude, longitude, latitudes, longitudes).min(), name, latitude, longitude)
        for name, _, _, _, latitude, longitude in home
    )
    return Place(name, latitude, longitude) if km <= COUNTY_REACH_KM else None


def _area(key: str, qualifier: str) -> Place | None:
    """A village or area of this name in the county the qualifier names."""
    areas = _areas(key, county=place_key(qualifier))
    return areas[0] if areas else None


def _areas(key: str, county: str = "") -> list[Place]:
    """Villages and areas of this name that the postcode districts list (in a county, if
    one is given), most districts first. Those of one county are one place, the middle of
    its districts there; each is named with its county when there are several."""
    by_county: dict[str, list[postcodes.District]] = {}
    for district in _home_districts(postcodes.districts_named, key):
        if county:
            named = [name for name in district.counties if place_key(name) == county]
        else:
            named = list(district.counties[:1]) or [""]
        for county_name in named[:1]:
            by_county.setdefault(county_name, []).append(district)
    areas = []
    for county_name, districts in sorted(by_county.items(), key=lambda item: -len(item[1])):
        name = next(place for place in districts[0].places if place_key(place) == key)
        areas.append(
            Place(
                f"{name}, {county_name}" if county or len(by_county) > 1 else name,
                round(sum(district.latitude for district in districts) / len(districts), 4),
                round(sum(district.longitude for district in districts) / len(districts), 4),
            )
        )
    return areas


def _home_districts(lookup, key: str) -> list[postcodes.District]:
    return lookup(key) if key and settings.DIRECTORY_COUNTRY == POSTCODE_COUNTRY else []


def _spelt_like(key: str) -> tuple[Place, ...]:
    """Home places whose names are spelt nearly like the one typed ("Leedz": Leeds)."""
    places = _home_places(settings.DIRECTORY_COUNTRY)
    close = difflib.get_close_matches(key, places, n=MAX_SUGGESTIONS, cutoff=0.8) if key else []
    return tuple(places[match] for match in close)


@functools.cache
def _home_places(country: str) -> dict[str, Place]:
    """The home country's gazetteer, by key, the most populous of a name standing for it.

    Read once per process (a few thousand rows): the gazetteer changes only with a migration.
    """
    places: dict[str, Place] = {}
    rows = (
        GazetteerPlace.objects.filter(country_code=country)
        .order_by("-population", "pk")
        .values_list("key", "name", "latitude", "longitude")
    )
    for key, name, latitude, longitude in rows:
        places.setdefault(key, Place(name, latitude, longitude))
    return places


def _places(rows: list[tuple], qualifier: str) -> tuple[list[Place], list[Place]]:
    """Gazetteer rows of one name as places at home and abroad, each most populous first."""
    home = settings.DIRECTORY_COUNTRY
    # A home-country name needs its region only when the home country has it in several.
    home_regions = {region for _, region, code, *_ in rows if code == home}
    wanted = place_key(qualifier)
    at_home, abroad, labels = [], [], set()
    for name, region, code, country, latitude, longitude in rows:
        if qualifier and not _qualifies(wanted, region, code, country):
            continue
        if code == home:
            label = f"{name}, {region}" if region and len(home_regions) > 1 else name
        else:
            label = ", ".join(part for part in (name, region, country) if part)
        # Places under one label cannot be told apart by the person, so the first (the
        # most populous) stands for them all.
        if label not in labels:
            labels.add(label)
            (at_home if code == home else abroad).append(Place(label, latitude, longitude))
    return at_home, abroad


def _one_or_choices(places: list[Place]) -> PlaceLookup:
    if len(places) == 1:
        return PlaceLookup(places[0])
    # Abroad, population alone is no guide to which one a person means: they choose.
    return PlaceLookup(None, choices=tuple(places[:MAX_CHOICES]))


def _qualifies(wanted: str, region: str, code: str, country: str) -> bool:
    """Whether a qualifier (as a place_key) names this region or country."""
    if not wanted:
        return False
    if COUNTRY_ALIASES.get(wanted) == code:
        return True
    return wanted in (place_key(region), code.lower(), place_key(country))


def bounding_box(latitude: float, longitude: float, km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) of a box holding every point within km of a point.

    Cheap to test against the (latitude, longitude) index before the exact distance.
    """
    latitude = min(90.0, max(-90.0, float(latitude)))
    longitude = min(180.0, max(-180.0, float(longitude)))
    km = max(0.0, float(km))
    delta_lat = km / KM_PER_DEGREE
    min_lat, max_lat = latitude - delta_lat, latitude + delta_lat
    if min_lat <= -90 or max_lat >= 90:
        # The circle takes in a pole, and so every longitude.
        return max(-90.0, min_lat), min(90.0, max_lat), -180.0, 180.0
    # The circle is widest east-west north or south of its centre, not at it: this is
    # the longitude where a meridian touches it (Matuschek's method).
    angular = km / EARTH_RADIUS_KM
    delta_lng = math.degrees(
        math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(latitude))))
    )
    # Across the antimeridian the box is cut short rather than wrapped: no listing is there.
    return min_lat, max_lat, max(-180.0, longitude - delta_lng), min(180.0, longitude + delta_lng)


def distance_km(
    latitude: float, longitude: float, lat_field: str = "latitude", lng_field: str = "longitude"
) -> Case:
    """A database expression: the great-circle distance in km from a point to a row's coordinates.

    Null when the row has no coordinates, on SQLite and PostgreSQL alike.
    """
    latitude, longitude = math.radians(float(latitude)), math.radians(float(longitude))
    # Spherical law of cosines, with the point's own sines and cosines worked out here.
    cosine = Value(math.sin(latitude)) * Sin(Radians(lat_field)) + Value(math.cos(latitude)) * Cos(
        Radians(lat_field)
    ) * Cos(Radians(lng_field) - Value(longitude))
    # Rounding can take the cosine of a zero distance just past 1, outside ACOS's domain
    # (an error on SQLite, NaN or an error elsewhere).
    clamped = Least(Greatest(cosine, Value(-1.0)), Value(1.0))
    return Case(
        # PostgreSQL's GREATEST skips a null where SQLite's returns null: test for it
        # first so that both give null for a row without coordinates.
        When(
            Q(**{f"{lat_field}__isnull": False, f"{lng_field}__isnull": False}),
            then=ACos(clamped) * Value(EARTH_RADIUS_KM),
        ),
        default=None,
        output_field=FloatField(),
    )


def distances_km(latitude: float, longitude: float, latitudes, longitudes):
    """The same great-circle distance as distance_km(), for arrays of coordinates (numpy)."""
    lats = np.radians(latitudes)
    return distances_from(latitude, longitude, np.sin(lats), np.cos(lats), np.radians(longitudes))


def distances_from(latitude: float, longitude: float, sin_lats, cos_lats, lng_radians):
    """distances_km() to places whose sine and cosine of latitude and longitude in radians
    are worked out already (the listing index keeps them: they are most of the work)."""
    lat, lng = math.radians(float(latitude)), math.radians(float(longitude))
    cosine = math.sin(lat) * sin_lats + math.cos(lat) * cos_lats * np.cos(lng_radians - lng)
    return np.arccos(np.clip(cosine, -1.0, 1.0)) * EARTH_RADIUS_KM


def providers_near(
    queryset: QuerySet,
    *,
    latitude: float,
    longitude: float,
    radius_km: float,
    include_online: bool = False,
    places: Q | None = None,
) -> QuerySet:
    """Providers with a location within radius_km (or, if asked, offering online sessions).
    With `places`, only the locations that meet it count (a place criterion: step-free).

    Each is annotated with distance_km, to its nearest location within the radius, or
    None for a provider that is there only because it works online.
    """
    # A place shown by town only is measured from the middle of its square (Location.
    # distance_point), under 0.8 km from it: the box is that much wider.
    min_lat, max_lat, min_lng, max_lng = bounding_box(latitude, longitude, radius_km + 1)
    within = (
        # The box first: it is what the (latitude, longitude) index can narrow down.
        Location.objects.filter(
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min_lng,
            longitude__lte=max_lng,
        )
        .filter(places or Q(), provider=OuterRef("pk"))
        .annotate(**Location.distance_point_sql())
        .annotate(distance=distance_km(latitude, longitude, *MEASURED))
        .filter(distance__lte=float(radius_km))
    )
    # Subqueries rather than joins, so a provider with two locations in range is listed once.
    matches = Exists(within)
    if include_online:
        matches |= Exists(Service.objects.filter(provider=OuterRef("pk"), offers_online=True))
    nearest = within.order_by("distance").values("distance")[:1]
    return queryset.filter(matches).annotate(
        distance_km=Subquery(nearest, output_field=FloatField())
    )
