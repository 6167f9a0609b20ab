"""Places typed by people turned into coordinates offline, and distances between them and listings."""

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

# The annotations of Location.distance_point_sql(): where distances to a place are measured from.
MEASURED = ("measured_latitude", "measured_longitude")
EARTH_RADIUS_KM = 6371.0088  # the mean radius, which keeps the spherical model's error below 0.5 %
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
MAX_PLACE_LENGTH = 100
# A "did you mean" list longer than this is no help: the person can add a region instead.
MAX_CHOICES = 10

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
    if centres["district_latitude"] is not None:
        return PlaceLookup(Place(full, centres["district_latitude"], centres["district_longitude"]))
    return PlaceLookup(None, error=UNKNOWN_POSTCODE.format(postcode=full))


def _resolve_name(text: str, name: str, qualifier: str) -> PlaceLookup:
    key = place_key(name)
    rows = (
        list(
            GazetteerPlace.objects.filter(key=key)
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
    if abroad:
        return _one_or_choices(abroad)
    return PlaceLookup(None, error=UNKNOWN_PLACE.format(text=text))


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
