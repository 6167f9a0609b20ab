"""A place shown by town only: nothing finer than its town and postcode district leaves the
directory, on any public page or feed (Location.public says what may)."""

import io
import json
import re
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from services.models import Location
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
