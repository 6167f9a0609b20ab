"""Providers' photos (services/photos.py): checked by decoding, stripped, resized, stored,
replaced; set by staff in the admin; shown on cards and profiles; the introduction too."""

import html
import io
import re
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import ExifTags, Image, ImageCms, ImageDraw

from services import photos
from services.demo_data import demo_photo
from services.indexing import search_index_update
from services.management.commands.seed_demo import ListingGenerator
from services.models import Provider
from services.photos import PhotoForm, photo_files_check, photo_prepare, photo_remove, photo_save
from tests.conftest import LEEDS
from tests.test_find import PROFILE_QUERIES

pytestmark = pytest.mark.django_db

CARD_PIXELS = photos.CARD_WIDTH * photos.DENSITY
PROFILE_PIXELS = photos.PROFILE_WIDTH * photos.DENSITY


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every file goes to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(fmt="JPEG", size=(400, 300), mode="RGB", colour=(200, 120, 80), **options) -> bytes:
    image = Image.new(mode, size, colour)
    ImageDraw.Draw(image).ellipse([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], "white")
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def refused(data: bytes, name="photo.jpg") -> ValidationError:
    with pytest.raises(ValidationError) as error:
        photo_prepare(upload(data, name))
    return error.value


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A real PNG whose header says it is width x height: what a decompression bomb looks
    like until it is decoded."""
    data = bytearray(picture("PNG", size=(8, 8)))
    # The signature (8 bytes), IHDR's length and type (8), then width and height.
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# --------------------------------------------------------------------------- checking and making


def test_a_jpeg_keeps_no_exif_location_or_colour_profile():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (53.0, 48.0, 3.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (1.0, 32.0, 57.0),
    }
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = picture("JPEG", exif=exif, icc_profile=srgb)
    # The upload really carries a location, so the test can fail.
    assert opened(source).getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef]
    assert b"PhoneCam" in source

    photo = photo_prepare(upload(source))
    for data in (photo.card, photo.profile):
        image = opened(data)
        assert image.format == "WEBP"
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp"} & set(image.info)
        # WebP keeps metadata in chunks of these names: none is written.
        assert not any(chunk in data for chunk in (b"EXIF", b"ICCP", b"XMP "))
        assert b"PhoneCam" not in data


def test_the_sizes_and_format_of_what_is_kept():
    photo = photo_prepare(upload(demo_photo(1), "portrait.jpeg"))
    card, profile = opened(photo.card), opened(photo.profile)
    assert (card.format, card.size, card.mode) == ("WEBP", (CARD_PIXELS, CARD_PIXELS), "RGB")
    assert (profile.format, profile.size) == ("WEBP", (PROFILE_PIXELS, PROFILE_PIXELS))
    # Twice what the pages show, and small: twenty cards fit a results page's budget.
    assert (CARD_PIXELS, PROFILE_PIXELS) == (2 * photos.CARD_WIDTH, 2 * photos.PROFILE_WIDTH)
    assert len(photo.card) < 8 * 1024
    assert len(photo.profile) < 40 * 1024


def test_the_photo_is_turned_upright_as_its_exif_says():
    # Stored on its side: the left half red, the right half blue; orientation 6 means "turn
    # it a quarter clockwise to show it", which brings the red half to the top.
    image = Image.new("RGB", (400, 300), (220, 0, 0))
    image.paste((0, 0, 220), (200, 0, 400, 300))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)

    card = opened(photo_prepare(upload(out.getvalue())).card).convert("RGB")
    top, bottom = card.getpixel((CARD_PIXELS // 2, 10)), card.getpixel((CARD_PIXELS // 2, 180))
    assert top[0] > 150 and top[2] < 80
    assert bottom[2] > 150 and bottom[0] < 80


def test_a_png_keeps_its_transparency():
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([50, 50, 250, 250], (30, 120, 90, 255))
    out = io.BytesIO()
    image.save(out, "PNG")

    card = opened(photo_prepare(upload(out.getvalue(), "photo.png", "image/png")).card)
    assert card.mode == "RGBA"
    assert card.getpixel((0, 0))[3] == 0
    assert card.getpixel((CARD_PIXELS // 2, CARD_PIXELS // 2))[3] == 255


def test_an_opaque_png_and_a_webp_are_taken():
    for data, name in [
        (picture("PNG", size=(300, 500), mode="P"), "photo.png"),
        (picture("WEBP", size=(640, 480), quality=90), "photo.webp"),
        (picture("PNG", size=(300, 300), mode="LA", colour=(128, 255)), "grey.png"),
    ]:
        photo = photo_prepare(upload(data, name))
        card = opened(photo.card)
        assert card.size == (CARD_PIXELS, CARD_PIXELS)
        assert card.mode == "RGB"  # nothing see-through: no alpha channel kept


@pytest.mark.parametrize(
    "data, name",
    [
        (b"Hello, this is a text file with a picture's name.", "photo.jpg"),
        (b"\xff\xd8\xff\xe0 not really a JPEG after its first bytes", "photo.jpg"),
        (picture("GIF", size=(300, 300), mode="P"), "photo.png"),  # a picture, not one of the three
        (picture("BMP", size=(300, 300)), "photo.webp"),
        (picture("JPEG", size=(600, 600))[:800], "cut-short.jpg"),
    ],
    ids=["text", "jpeg-magic", "gif", "bmp", "truncated"],
)
def test_what_does_not_decode_as_a_jpeg_png_or_webp_is_refused(data, name):
    error = refused(data, name)
    assert error.code == "not_a_picture"
    assert error.messages == [
        "This file is not a JPEG, PNG or WebP picture. "
        "Choose a photo saved in one of those formats."
    ]


def test_a_file_over_5_mb_is_refused_before_it_is_read():
    real = picture("JPEG")
    # A valid JPEG, padded past the limit (decoders ignore what follows the picture).
    data = real + b"\0" * (photos.MAX_BYTES + 1 - len(real))
    error = refused(data)
    assert error.code == "too_large"
    assert error.messages == [
        "The photo is larger than 5 MB (this one is 5.1 MB). "
        "Choose a smaller file, or save a copy at a lower quality and choose that."
    ]
    # Exactly at the limit is taken.
    assert photo_prepare(upload(real + b"\0" * (photos.MAX_BYTES - len(real))))


@pytest.mark.parametrize("width, height", [(8000, 6000), (60000, 60000), (100_000, 500)])
def test_too_many_pixels_is_refused_without_decoding(width, height):
    data = png_claiming(width, height)
    assert len(data) < 1000
    error = refused(data, "bomb.png")
    assert error.code == "too_many_pixels"
    assert "the most we take is 40 megapixels" in error.messages[0]


def test_a_photo_too_small_to_show_is_refused():
    error = refused(picture("PNG", size=(150, 400)), "tiny.png")
    assert error.code == "too_small"
    assert error.messages == [
        "The photo is too small (150 × 400 pixels): it needs to be at least 200 pixels wide "
        "and 200 pixels high."
    ]


# --------------------------------------------------------------------------- storing


def stored(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


def test_saving_stores_both_sizes_under_names_no_one_can_guess(make_provider):
    provider = make_provider("Pictured")
    photo_save(provider=provider, upload=upload(demo_photo(2)))
    provider.save()
    provider.refresh_from_db()
    card, profile = provider.photo_card.name, provider.photo_profile.name
    assert re.fullmatch(r"photos/card/[\w-]{16}\.webp", card)
    assert re.fullmatch(r"photos/profile/[\w-]{16}\.webp", profile)
    assert "pictured" not in card.lower()
    assert opened(default_storage.open(card).read()).size == (CARD_PIXELS, CARD_PIXELS)
    assert opened(default_storage.open(profile).read()).size == (PROFILE_PIXELS, PROFILE_PIXELS)
    assert provider.photo_card.url == f"/media/{card}"

    # The same picture again gets new names.
    photo_save(provider=provider, upload=upload(demo_photo(2)))
    assert provider.photo_card.name != card


def test_replacing_and_removing_delete_the_old_files_once_committed(
    make_provider, django_capture_on_commit_callbacks
):
    provider = make_provider("Replaced", photo_alt="First photo")
    with django_capture_on_commit_callbacks(execute=True):
        photo_save(provider=provider, upload=upload(demo_photo(3)))
        provider.save()
    first = [provider.photo_card.name, provider.photo_profile.name]
    assert all(map(stored, first))

    with django_capture_on_commit_callbacks(execute=True):
        photo_save(provider=provider, upload=upload(demo_photo(4)))
        provider.save()
    second = [provider.photo_card.name, provider.photo_profile.name]
    assert not any(map(stored, first))
    assert all(map(stored, second))

    with django_capture_on_commit_callbacks(execute=True):
        photo_remove(provider=provider)
        provider.save()
    provider.refresh_from_db()
    assert not provider.photo_card and not provider.photo_profile and not provider.photo_alt
    assert not any(map(stored, second))
    assert not list(default_storage.listdir("photos/card")[1])


def test_a_save_that_rolls_back_keeps_the_old_files(
    make_provider, django_capture_on_commit_callbacks
):
    provider = make_provider("Kept")
    photo_save(provider=provider, upload=upload(demo_photo(5)))
    provider.save()
    old = provider.photo_card.name
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        photo_save(provider=provider, upload=upload(demo_photo(6)))
        provider.save()
        raise RuntimeError("the save failed")
    assert callbacks == []
    assert stored(old)


def test_an_old_version_naming_deleted_files_is_shown_without_a_photo(make_provider):
    provider = make_provider("Restored", photo_alt="Old photo")
    provider.photo_card = "photos/card/gone.webp"
    provider.photo_profile = "photos/profile/gone.webp"
    photo_files_check(provider=provider)
    assert (provider.photo_card.name, provider.photo_alt) == ("", "")

    photo_save(provider=provider, upload=upload(demo_photo(7)))
    provider.photo_alt = "Still here"
    photo_files_check(provider=provider)
    assert stored(provider.photo_card.name) and provider.photo_alt == "Still here"


# --------------------------------------------------------------------------- the form


def test_the_form_needs_a_description_with_a_new_or_kept_photo():
    files = {"photo": upload(demo_photo(8))}
    form = PhotoForm({"photo_alt": "  "}, files)
    assert not form.is_valid()
    assert form.errors == {"photo_alt": [photos.ALT_REQUIRED]}

    form = PhotoForm({"photo_alt": "Sam smiling"}, {"photo": upload(demo_photo(8))})
    assert form.is_valid(), form.errors
    assert isinstance(form.cleaned_data["photo"], photos.Photo)

    kept = PhotoForm({"photo_alt": ""}, has_photo=True)
    assert kept.errors == {"photo_alt": [photos.ALT_REQUIRED]}
    assert PhotoForm({"photo_alt": "", "remove_photo": "on"}, has_photo=True).is_valid()
    assert PhotoForm({"photo_alt": ""}).is_valid()  # no photo, none wanted

    both = PhotoForm(
        {"photo_alt": "Sam", "remove_photo": "on"}, {"photo": upload(demo_photo(8))}, has_photo=True
    )
    assert both.errors == {"remove_photo": [photos.NEW_OR_REMOVE]}


def test_the_form_says_what_is_wrong_with_the_file_and_keeps_the_description():
    form = PhotoForm({"photo_alt": "Sam smiling"}, {"photo": upload(b"not a picture")})
    assert form.errors == {"photo": [photos.NOT_A_PICTURE]}
    assert 'value="Sam smiling"' in str(form["photo_alt"])
    assert 'accept="image/jpeg,image/png,image/webp"' in str(form["photo"])


# --------------------------------------------------------------------------- the admin


def change_url(provider) -> str:
    return reverse("admin:services_provider_change", args=[provider.pk])


def test_staff_add_a_photo_in_the_admin(staff_client, html_form, make_published_provider):
    provider = make_published_provider("Admin Photo")
    page = staff_client.get(change_url(provider)).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "No photo" in page
    data = html_form.parse(page, "provider_form")
    data.update(
        photo=upload(demo_photo(9)),
        photo_alt="Alex in a blue jumper",
        introduction="I help adults through grief.",
        _save="Save",
    )
    response = staff_client.post(change_url(provider), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    provider.refresh_from_db()
    assert stored(provider.photo_card.name) and stored(provider.photo_profile.name)
    assert provider.photo_alt == "Alex in a blue jumper"
    # The card was rebuilt with it.
    assert provider.card["photo"] == provider.photo_card.name
    assert provider.card["photo_alt"] == "Alex in a blue jumper"
    assert provider.card["introduction"] == "I help adults through grief."
    # The change page previews it.
    page = staff_client.get(change_url(provider)).content.decode()
    assert (
        f'<img src="/media/{provider.photo_card.name}" width="96" height="96"'
        ' alt="Alex in a blue jumper">'
    ) in page

    # Removing it.
    data = html_form.parse(page, "provider_form")
    data.update(remove_photo="on", _save="Save")
    assert staff_client.post(change_url(provider), data).status_code == 302
    provider.refresh_from_db()
    assert (provider.photo_card.name, provider.photo_alt, provider.card["photo"]) == ("", "", None)


@pytest.mark.parametrize(
    "photo, alt, message",
    [
        (lambda: upload(demo_photo(10)), "", photos.ALT_REQUIRED),
        (lambda: upload(b"GIF89a but not really", "me.gif"), "Me", photos.NOT_A_PICTURE),
        (
            lambda: upload(picture("JPEG") + b"\0" * photos.MAX_BYTES),
            "Me",
            "The photo is larger than 5 MB",
        ),
    ],
    ids=["no-description", "fake", "too-large"],
)
def test_the_admin_refuses_a_bad_photo_and_keeps_what_was_typed(
    staff_client, html_form, make_published_provider, media_root, photo, alt, message
):
    provider = make_published_provider("Refused Photo")
    data = html_form.parse(staff_client.get(change_url(provider)).content.decode(), "provider_form")
    data.update(photo=photo(), photo_alt=alt, statement="Typed before choosing the photo.")
    data["_save"] = "Save"
    response = staff_client.post(change_url(provider), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert html.escape(message) in page
    kept = html_form.parse(page, "provider_form")
    assert kept["statement"] == ["Typed before choosing the photo."]
    assert kept["photo_alt"] == [alt]
    provider.refresh_from_db()
    assert provider.statement == "" and not provider.photo_card
    assert not media_root.exists() or not any(media_root.rglob("*.webp"))


# --------------------------------------------------------------------------- shown


@pytest.fixture
def pictured(make_listing):
    """A listing in Leeds with a photo and an introduction, rebuilt into its card."""

    def make(name="Rowan Photo", alt='Rowan, smiling, in a "garden" <outside>', **fields):
        provider = make_listing(
            name,
            places=[("Leeds", *LEEDS)],
            introduction="I work with grief & loss, gently.",
            indexed=False,
            **fields,
        )
        photo_save(provider=provider, upload=upload(demo_photo(11)))
        provider.photo_alt = alt
        provider.save()
        search_index_update([provider.pk])
        provider.refresh_from_db()
        return provider

    return make


def card_of(page: str, name: str) -> str:
    for card in page.split('<li class="card">')[1:]:
        if f">{name}</a></h3>" in card:
            return card[: card.index("</article>")]
    raise AssertionError(f"no card for {name}")


def test_a_card_shows_the_photo_at_its_size_lazily_and_the_introduction(
    client, pictured, make_listing
):
    provider = pictured()
    make_listing("Plain Listing", places=[("Leeds", *LEEDS)])
    page = client.get("/find/", {"near": "Leeds"}).content.decode()
    card = card_of(page, "Rowan Photo")
    assert (
        f'<img class="card-photo" src="/media/{provider.photo_card.name}" width="96" height="96"'
        ' alt="Rowan, smiling, in a &quot;garden&quot; &lt;outside&gt;" loading="lazy"'
        ' decoding="async">'
    ) in card
    assert '<p class="introduction">I work with grief &amp; loss, gently.</p>' in card
    # A card without a photo has no image and no placeholder to download.
    plain = card_of(page, "Plain Listing")
    assert "<img" not in plain and "introduction" not in plain


def test_a_profile_shows_the_photo_beside_the_name_and_the_introduction(client, pictured):
    provider = pictured()
    page = client.get(provider.get_absolute_url()).content.decode()
    start = page.index('class="profile-header"')
    header = page[start : page.index("</header>", start)]
    img = (
        f'<img class="profile-photo" src="/media/{provider.photo_profile.name}" width="240"'
        ' height="240" alt="Rowan, smiling, in a &quot;garden&quot; &lt;outside&gt;"'
        ' loading="lazy" decoding="async">'
    )
    assert img in header
    assert header.index(img) < header.index("<h1>Rowan Photo</h1>")
    assert '<p class="introduction">I work with grief &amp; loss, gently.</p>' in header


def test_a_profile_without_a_photo_has_no_image(client, make_listing):
    provider = make_listing("No Photo Here")
    page = client.get(provider.get_absolute_url()).content.decode()
    start = page.index('class="profile-header"')
    header = page[start : page.index("</header>", start)]
    assert "<img" not in header and 'class="introduction"' not in header


def test_photos_cost_no_query(client, make_listing):
    listings = [make_listing(f"Listing {n}", places=[("Leeds", *LEEDS)]) for n in range(4)]
    results, profile = "/find/?near=Leeds", listings[0].get_absolute_url()

    def queries(url: str) -> tuple[int, str]:
        client.get(url)  # the listings changed: the index applies it first
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url).content.decode()
        return len(captured), page

    without = queries(results)[0]
    assert queries(profile)[0] == PROFILE_QUERIES
    for n, provider in enumerate(listings):
        photo_save(provider=provider, upload=upload(demo_photo(20 + n)))
        provider.photo_alt = f"Photo {n}"
        provider.save()
    search_index_update([p.pk for p in listings])

    count, page = queries(results)
    assert page.count('class="card-photo"') == 4
    assert count == without
    count, page = queries(profile)
    assert 'class="profile-photo"' in page
    assert count == PROFILE_QUERIES


def test_a_photo_changes_no_listing_s_place_in_the_results(client, make_listing):
    # Each a little further from the centre of Leeds than the one before.
    for n in range(4):
        make_listing(f"Listing {n}", places=[("Leeds", LEEDS[0] + n / 100, LEEDS[1])])

    def order():
        page = client.get("/find/", {"near": "Leeds"}).content.decode()
        return re.findall(r'<h3 id="provider-\d+"><a [^>]+>([^<]+)</a>', page)

    before = order()
    assert before == [f"Listing {n}" for n in range(4)]
    last = Provider.objects.get(name=before[-1])
    photo_save(provider=last, upload=upload(demo_photo(12)))
    last.photo_alt = "A photo"
    last.save()
    search_index_update([last.pk])
    assert order() == before


# --------------------------------------------------------------------------- demo data


def test_seed_demo_gives_some_practitioners_a_made_up_photo(taxonomies):
    # The command's writing without its ANALYZE at the end, whose statistics would outlast
    # the test's transaction on PostgreSQL (tests/test_planner_statistics.py).
    generator = ListingGenerator(seed=5, taken_slugs=set(), photos=4)
    generator.insert_batch(40)
    # The command takes the number (nothing written with no providers, and no ANALYZE).
    call_command("seed_demo", providers=0, photos=4, stdout=io.StringIO())
    pictured = Provider.objects.exclude(photo_card="")
    assert 1 <= pictured.count() <= 4
    for provider in pictured:
        assert provider.kind == "individual" and provider.status == "published"
        assert stored(provider.photo_card.name) and stored(provider.photo_profile.name)
        assert provider.photo_alt
        assert provider.card["photo"] == provider.photo_card.name
    assert Provider.objects.filter(photo_card="").exclude(card__photo=None).count() == 0
