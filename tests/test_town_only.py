"""A place shown by town only: nothing finer than its town and postcode district leaves the
directory, on any public page or feed (Location.public says what may)."""

import io
import json
import re
import zipfile
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.http import QueryDict

from services import geo
from services.models import Location, Provider
from services.search import listing_index, matching
from services.search.filters import ProviderFilter
from tests.conftest import LEEDS

pytestmark = pytest.mark.django_db

# Distinctive words, so that no random token or id can hold one by chance.
HIDDEN_PLACE = {
    "name": "Marigold Suite, Thornbury Library",
    "address_line1": "14 Wisteria Lane",
    "address_line2": "Flat Periwinkle",
    "town": "Leeds",
    "region": "West Yorkshire",
    "postcode": "LS6 9QZ",
    "latitude": 53.819371,
    "longitude": -1.576214,
    "address_shown": Location.AddressShown.TOWN,
}
PRIVATE = (
    "Marigold",
    "Thornbury",
    "Wisteria",
    "Periwinkle",
    "9QZ",  # the inward half of the postcode
    "53.819",  # the map position
    "1.576",
)


@pytest.fixture
def hidden(make_listing):
    return make_listing(
        "Quiet Rooms",
        slug="quiet-rooms",
        places=[HIDDEN_PLACE],
        services=[{"concerns": ["grief"], "formats": ["in_person", "online"]}],
    )


@pytest.fixture
def open_door(make_listing):
    """A listing with its full address shown, to compare with and to show that the full
    address still comes through."""
    return make_listing(
        "Open Door",
        slug="open-door",
        places=[
            {
                "name": "Front Room",
                "address_line1": "3 Open Road",
                "town": "Leeds",
                "postcode": "LS1 4AP",
                "latitude": LEEDS[0],
                "longitude": LEEDS[1],
                "address_shown": Location.AddressShown.FULL,
            }
        ],
        services=[{"concerns": ["grief"]}],
    )


def without_tokens(html: str) -> str:
    """The page without its CSRF tokens and CSP nonces: random letters and digits that
    can hold any short string."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'nonce="[^"]*"', "", html)


def assert_hidden(text: str, where: str) -> None:
    for private in PRIVATE:
        assert private not in text, f"{private!r} is shown in {where}"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return without_tokens(response.content.decode())


def test_the_model_declares_what_is_public():
    location = Location(**HIDDEN_PLACE)
    public = location.public
    assert (public.name, public.address_line1, public.address_line2) == ("", "", "")
    assert (public.town, public.region, public.postcode, public.country) == (
        "Leeds",
        "West Yorkshire",
        "LS6",
        "GB",
    )
    assert (public.latitude, public.longitude) == (None, None)
    assert public.address == "Leeds, LS6"
    full = Location(**{**HIDDEN_PLACE, "address_shown": Location.AddressShown.FULL}).public
    assert full.name == "Marigold Suite, Thornbury Library"
    assert full.address == "14 Wisteria Lane, Flat Periwinkle, Leeds, LS6 9QZ"
    assert (full.latitude, full.longitude) == (53.819371, -1.576214)


def test_the_profile_and_its_structured_data(client, hidden):
    html = page(client, f"/providers/{hidden.slug}/")
    assert "Leeds, LS6" in html
    assert_hidden(html, "the profile")
    structured = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    data = json.loads(structured[1])
    assert data["address"] == {
        "@type": "PostalAddress",
        "addressLocality": "Leeds",
        "addressCountry": "GB",
        "postalCode": "LS6",
    }


def test_the_full_address_is_still_shown_when_chosen(client, open_door):
    html = page(client, f"/providers/{open_door.slug}/")
    assert "<strong>Front Room</strong>" in html
    assert "3 Open Road, Leeds, LS1 4AP" in html


def test_results_and_explanation_pages(client, hidden, open_door):
    for url in (
        "/find/?near=Leeds",
        "/find/?q=quiet",
        f"/find/?lat={LEEDS[0]}&lng={LEEDS[1]}",
        "/",
        "/support/counselling/",
        "/concerns/grief/",
        "/guide/",
    ):
        html = page(client, url)
        assert_hidden(html, url)
    assert "Quiet Rooms" in page(client, "/find/?near=Leeds")


def test_the_shortlist_and_the_comparison(client, hidden, open_door):
    for slug in (hidden.slug, open_door.slug):
        assert client.post("/shortlist/", {"add": slug, "next": "/find/"}).status_code == 303
    shortlist = page(client, "/shortlist/?near=Leeds")
    assert "Quiet Rooms" in shortlist
    assert_hidden(shortlist, "the shortlist")
    compare = page(client, f"/compare/?p={hidden.slug}&p={open_door.slug}&near=Leeds")
    assert "Leeds, LS6" in compare and "3 Open Road, Leeds, LS1 4AP" in compare
    assert_hidden(compare, "the comparison")


def test_the_contact_recommend_and_report_pages(client, hidden):
    for name in ("contact", "contact/sent", "recommend", "recommend/thanks", "report"):
        url = f"/providers/{hidden.slug}/{name}/"
        assert_hidden(page(client, url), url)
    url = f"/providers/{hidden.slug}/report/thanks/"
    assert_hidden(page(client, url), url)


def test_the_hsds_api(client, hidden, open_door):
    service = hidden.services.get()
    location = hidden.locations.get()
    sal = service.service_at_locations.get()
    # The lists without full=true name no place; the rest name this one.
    for url in ("/api/hsds/services", "/api/hsds/organizations"):
        assert_hidden(client.get(url).content.decode(), url)
    for url in (
        "/api/hsds/services?full=true",
        f"/api/hsds/services/{service.uuid}",
        "/api/hsds/organizations?full_service=true",
        f"/api/hsds/organizations/{hidden.uuid}",
        "/api/hsds/service_at_locations",
        "/api/hsds/service_at_locations?postcode=LS6&proximity=20000",
        "/api/hsds/service_at_locations?postcode=LS6%209QZ",
        f"/api/hsds/service_at_locations/{sal.uuid}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert str(location.uuid) in text, url  # the place is there...
        assert_hidden(text, url)  # ...but only its town and district
    detail = client.get(f"/api/hsds/service_at_locations/{sal.uuid}").json()
    assert "name" not in detail["location"]
    assert "latitude" not in detail["location"]


def test_the_hsds_exports(tmp_path, hidden, open_door):
    target = tmp_path / "listings.json"
    call_command("export_hsds", str(target), stderr=StringIO())
    text = target.read_text()
    assert "Quiet Rooms" in text and "3 Open Road" in text
    assert_hidden(text, "the JSON export")
    package = tmp_path / "listings.zip"
    call_command("export_hsds", str(package), "--format", "tabular", stderr=StringIO())
    with zipfile.ZipFile(package) as archive:
        for name in archive.namelist():
            assert_hidden(archive.read(name).decode(), name)
        locations = archive.read("locations.csv").decode()
    assert "Front Room" in locations


def test_the_sitemap(client, hidden):
    for url in ("/sitemap.xml", "/sitemap-providers.xml", "/robots.txt"):
        assert_hidden(page(client, url), url)


def test_importing_the_export_back_keeps_what_it_hides(tmp_path, hidden):
    target = tmp_path / "listings.json"
    call_command("export_hsds", str(target), stderr=StringIO())
    call_command("import_hsds", str(target), stdout=io.StringIO(), stderr=io.StringIO())
    location = hidden.locations.get()
    kept = {field: getattr(location, field) for field in HIDDEN_PLACE}
    assert kept == HIDDEN_PLACE


# --------------------------------------------------------------------------- distances

# The middle of the hundredth of a degree the hidden place is in, which distances to it are
# measured from: (53.815, -1.575), 0.5 km from the place itself.
MEASURED_FROM = (53.815, -1.575)


def card_distance(html: str, name: str) -> str:
    card = html.split(f">{name}</a></h3>", 1)[1].split("</article>", 1)[0]
    return re.search(r"([\d.]+ km away)", card)[1]


def test_the_model_measures_distances_to_a_town_only_place_from_its_square():
    hidden = Location(**HIDDEN_PLACE)
    assert hidden.distance_point == pytest.approx(MEASURED_FROM, abs=1e-12)
    full = Location(**{**HIDDEN_PLACE, "address_shown": Location.AddressShown.FULL})
    assert full.distance_point == (53.819371, -1.576214)
    assert Location(address_shown=Location.AddressShown.TOWN).distance_point is None


def test_a_distance_from_the_place_itself_does_not_say_it_is_there(client, hidden, open_door):
    """Searched from the place's own coordinates, it is 0.5 km away: a distance to 0.1 km
    from points anyone may choose must not lead to the door."""
    here = f"lat={HIDDEN_PLACE['latitude']}&lng={HIDDEN_PLACE['longitude']}"
    html = client.get(f"/find/?{here}").content.decode()
    assert card_distance(html, "Quiet Rooms") == "0.5 km away"
    from_the_square = f"lat={MEASURED_FROM[0]}&lng={MEASURED_FROM[1]}"
    html = client.get(f"/find/?{from_the_square}").content.decode()
    assert card_distance(html, "Quiet Rooms") == "0.0 km away"
    compare = client.get(f"/compare/?p={hidden.slug}&p={open_door.slug}&{here}")
    assert "0.5 km" in compare.content.decode()
    assert "0.0 km" not in compare.content.decode()


def test_the_listing_index_and_the_sql_reference_measure_alike(hidden, open_door):
    here = HIDDEN_PLACE["latitude"], HIDDEN_PLACE["longitude"]
    params = {"lat": here[0], "lng": here[1], "radius": "25", "sort": "distance"}
    criteria = ProviderFilter(QueryDict(urlencode(params)), queryset=Provider.objects.published())
    in_sql = [(p.name, p.distance_km) for p in criteria.qs]
    index = listing_index.current_index()
    listed = matching.results(index, criteria.criteria, Provider.objects.published())[0:2]
    assert [(p.name, p.distance_km) for p in listed] == [
        (name, pytest.approx(km, abs=1e-9)) for name, km in in_sql
    ]
    to_the_square = geo.distances_km(*here, [MEASURED_FROM[0]], [MEASURED_FROM[1]])[0]
    assert in_sql[0] == ("Quiet Rooms", pytest.approx(to_the_square, abs=1e-9))


def test_the_postcode_of_a_town_only_place_does_not_find_it(client, hidden, corner_house):
    """Its full postcode is not a place a search can be near: it would be 0.0 km away. A
    search near it is near the centre of its postcode district instead."""
    by_postcode = client.get("/find/?near=LS6+9QZ").content.decode()
    by_district = client.get("/find/?near=LS6").content.decode()
    for name in ("Quiet Rooms", "Corner House"):
        assert card_distance(by_postcode, name) == card_distance(by_district, name)
    assert card_distance(by_postcode, "Quiet Rooms") == "0.6 km away"
    # A full address's postcode is a place, as before.
    assert card_distance(client.get("/find/?near=LS6+1AA").content.decode(), "Corner House") == (
        "0.0 km away"
    )


def test_a_town_known_only_by_a_town_only_place_is_at_its_square(client, make_listing, open_door):
    """A town the gazetteer lacks is where its listings are: for one shown by town only, its
    square, or the distances of other listings from the town would lead to the door."""
    make_listing(
        "Hamlet Rooms",
        places=[{**HIDDEN_PLACE, "town": "Thistlewick", "postcode": "TW9 9QZ"}],
    )
    html = client.get("/find/?near=Thistlewick&radius=25").content.decode()
    assert card_distance(html, "Hamlet Rooms") == "0.0 km away"
    from_the_square = f"lat={MEASURED_FROM[0]}&lng={MEASURED_FROM[1]}&radius=25"
    square = client.get(f"/find/?{from_the_square}").content.decode()
    assert card_distance(html, "Open Door") == card_distance(square, "Open Door") == "2.3 km away"


@pytest.fixture
def corner_house(make_listing):
    """A full address in the hidden place's district, 1.2 km from it (1.7 km from its square)."""
    return make_listing(
        "Corner House",
        places=[
            {
                "address_line1": "1 Corner Street",
                "town": "Leeds",
                "postcode": "LS6 1AA",
                "latitude": 53.83,
                "longitude": -1.58,
                "address_shown": Location.AddressShown.FULL,
            }
        ],
    )


def test_the_api_measures_proximity_as_the_results_page_does(client, hidden, corner_house):
    html = client.get("/find/?near=LS6+1AA").content.decode()
    assert card_distance(html, "Quiet Rooms") == "1.7 km away"

    def found(metres: int) -> set[str]:
        params = {"postcode": "LS6 1AA", "proximity": metres, "full": "true"}
        contents = client.get("/api/hsds/service_at_locations", params).json()["contents"]
        return {sal["service"]["organization"]["name"] for sal in contents}

    assert found(1650) == {"Corner House"}
    assert found(1750) == {"Corner House", "Quiet Rooms"}
