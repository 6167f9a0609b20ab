"""Providers' photos: checked by decoding them, stripped of metadata, stored in two small sizes.

An upload is read with Pillow, never judged by its name or content type: anything that does
not decode as a JPEG, PNG or WebP picture is refused, as is a file over 5 MB or a picture
of more than 40 megapixels (checked from its header, before any pixel is decoded: a small
PNG can claim billions of pixels). What is kept is made anew from the pixels alone: turned
upright as its EXIF orientation says, converted to sRGB, cropped square at the centre and
resized to the two sizes the pages show, at twice their size for high-density screens, as
WebP. No EXIF (no location), ICC profile or XMP survives. The files go through Django's
storage API (`default_storage`: disk by default, an S3-compatible store in production if
configured) under random names; the old files are deleted once a replacement or removal
is committed.
"""

import io
import math
import secrets
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageCms, ImageOps

# What the pages show, in CSS pixels (the <img> width and height); each file is stored at
# twice this, so it stays sharp on high-density screens.
CARD_WIDTH = CARD_HEIGHT = 96
PROFILE_WIDTH = PROFILE_HEIGHT = 240
DENSITY = 2
# WebP quality: a card photo comes to about 5 KB, so a results page of 20 stays well
# inside its 150 KB (make bench measures it); the profile's is about 20 KB.
CARD_QUALITY = 70
PROFILE_QUALITY = 75

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_BYTES = 5 * 1024 * 1024
# 8000 x 5000: more than a phone's photo at its usual setting. A JPEG is decoded at a
# fraction of its size; a PNG or WebP this large is 160 MB of RGBA for a moment, about as
# much as a request should ever hold.
MAX_PIXELS = 40_000_000
# Below this the card's 192-pixel file would be an enlargement.
MIN_SIDE = 200

NOT_A_PICTURE = (
    "This file is not a JPEG, PNG or WebP picture. Choose a photo saved in one of those formats."
)
TOO_LARGE = (
    "The photo is larger than 5 MB (this one is %(size)s). "
    "Choose a smaller file, or save a copy at a lower quality and choose that."
)
TOO_MANY_PIXELS = (
    "The photo has too many pixels: the most we take is 40 megapixels (for example "
    "8000 × 5000). Save a smaller copy and choose that."
)
TOO_SMALL = (
    "The photo is too small (%(width)s × %(height)s pixels): it needs to be at least "
    f"{MIN_SIDE} pixels wide and {MIN_SIDE} pixels high."
)
ALT_REQUIRED = (
    "Describe the photo in a few words for people who cannot see it, "
    "for example “Sam smiling, in a garden”."
)
NEW_OR_REMOVE = "Choose a new photo or remove the photo, not both."
PHOTO_HELP = "A JPEG, PNG or WebP picture of up to 5 MB, at least 200 × 200 pixels. It is shown cropped square."


@dataclass(frozen=True)
class Photo:
    """A checked photo, ready to store: the two WebP files, made from its pixels alone."""

    card: bytes
    profile: bytes


def photo_prepare(upload) -> Photo:
    """Check an uploaded file (any file object with .size, or bytes) and make the two sizes.

    Raises ValidationError with a message for the person who chose the file.
    """
    data = upload if isinstance(upload, bytes) else None
    size = len(data) if data is not None else upload.size
    if size > MAX_BYTES:
        raise ValidationError(TOO_LARGE, code="too_large", params={"size": _megabytes(size)})
    source = io.BytesIO(data) if data is not None else upload
    source.seek(0)
    try:
        # Past twice its own limit Pillow refuses to open a picture (DecompressionBombError);
        # below that, it only warns, and MAX_PIXELS (far lower) refuses it here.
        image = Image.open(source, formats=ACCEPTED_FORMATS)
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ValidationError(TOO_MANY_PIXELS, code="too_many_pixels")
        if min(width, height) < MIN_SIDE:
            raise ValidationError(
                TOO_SMALL, code="too_small", params={"width": width, "height": height}
            )
        # A JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) still larger than the
        # profile's file: much less work and memory for a large photo.
        image.draft("RGB", (PROFILE_WIDTH * DENSITY, PROFILE_HEIGHT * DENSITY))
        # Decoding every pixel is the real check: a file that only starts like a picture
        # (or is cut short) fails here.
        image.load()
    except Image.DecompressionBombError as error:
        raise ValidationError(TOO_MANY_PIXELS, code="too_many_pixels") from error
    except (OSError, SyntaxError, ValueError, EOFError, TypeError) as error:
        # OSError includes Pillow's UnidentifiedImageError: not one of the three formats.
        raise ValidationError(NOT_A_PICTURE, code="not_a_picture") from error
    # Shrunk at once to a whole fraction still larger than needed: what follows works on a
    # few hundred thousand pixels, and the full-size copy can go.
    factor = min(image.size) // (PROFILE_WIDTH * DENSITY)
    if factor > 1 and image.mode in ("RGB", "RGBA", "L", "LA"):
        image = image.reduce(factor)
    image = _srgb(_upright(image))
    profile = ImageOps.fit(
        image,
        (PROFILE_WIDTH * DENSITY, PROFILE_HEIGHT * DENSITY),
        method=Image.Resampling.LANCZOS,
    )
    card = profile.resize((CARD_WIDTH * DENSITY, CARD_HEIGHT * DENSITY), Image.Resampling.LANCZOS)
    return Photo(card=_webp(card, CARD_QUALITY), profile=_webp(profile, PROFILE_QUALITY))


def _megabytes(size: int) -> str:
    # Rounded up: a file just over the limit must not read "5.0 MB".
    return f"{math.ceil(size * 10 / (1024 * 1024)) / 10:.1f} MB"


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the EXIF orientation says; as it is if that is unreadable."""
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        return image


def _srgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA if any pixel is see-through, in sRGB colours (a phone's Display P3
    photo would look dull once its colour profile is dropped)."""
    if image.mode == "I" or image.mode.startswith("I;16"):
        # 16-bit grey: to 8 bits, not clipped.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    mode = "RGBA" if image.has_transparency_data else "RGB"
    converted = None
    if icc := image.info.get("icc_profile"):
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode=mode,
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken or unusable profile: the colours as they are
    if converted is None:
        converted = image if image.mode == mode else image.convert(mode)
    if mode == "RGBA" and converted.getchannel("A").getextrema()[0] == 255:
        converted = converted.convert("RGB")  # an alpha channel with nothing see-through
    return converted


def _webp(image: Image.Image, quality: int) -> bytes:
    # A new image from the pixels alone, so nothing of the upload's info (EXIF, ICC
    # profile, XMP, comments) can be written with it.
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    pixels.save(out, "WEBP", quality=quality, method=6)
    return out.getvalue()


# --------------------------------------------------------------------------- storing


def photo_save(*, provider, upload) -> None:
    """Store a new photo for this provider: `upload` is the uploaded file, or the Photo that
    PhotoField made of it. Sets provider.photo_card and photo_profile; the caller saves the
    provider (and rebuilds its card, services.indexing.search_index_update). The old files
    are deleted once the transaction commits."""
    photo = upload if isinstance(upload, Photo) else photo_prepare(upload)
    old = _names(provider)
    # One random name for both sizes: nothing to guess from a provider's name or id.
    name = f"{secrets.token_urlsafe(12)}.webp"
    provider.photo_card.save(name, ContentFile(photo.card), save=False)
    provider.photo_profile.save(name, ContentFile(photo.profile), save=False)
    _delete_on_commit(provider, old)


def photo_remove(*, provider) -> None:
    """Take the photo (and its description) off this provider; the caller saves the provider
    (and rebuilds its card). The files are deleted once the transaction commits."""
    old = _names(provider)
    provider.photo_card = provider.photo_profile = ""
    provider.photo_alt = ""
    _delete_on_commit(provider, old)


def photo_files_check(*, provider) -> None:
    """Forget photo files that are no longer stored: an old version of a listing, restored
    from its change history, names the files a later photo replaced."""
    if any(name and not field.storage.exists(name) for field, name in _fields(provider)):
        provider.photo_card = provider.photo_profile = ""
        provider.photo_alt = ""


def _fields(provider):
    return [(f, f.name) for f in (provider.photo_card, provider.photo_profile)]


def _names(provider) -> list[str]:
    return [name for _field, name in _fields(provider) if name]


def _delete_on_commit(provider, names: list[str]) -> None:
    if not names:
        return
    storage = provider.photo_card.storage

    def delete():
        for name in names:
            storage.delete(name)

    # Not before: if the save rolls back, the listing still names these files.
    transaction.on_commit(delete)


# --------------------------------------------------------------------------- forms


class PhotoField(forms.FileField):
    """An optional photo upload; its cleaned value is a Photo (checked, both sizes made), or
    None when no file was chosen."""

    widget = forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", PHOTO_HELP)
        super().__init__(**kwargs)

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        return photo_prepare(upload)


def photo_choices_check(form: forms.BaseForm, *, has_photo: bool) -> None:
    """The rules between a form's photo, photo_alt and remove_photo fields: not a new photo
    and its removal at once, and a description whenever a photo is given or kept. For a
    form's clean(); `has_photo` says whether the provider has one now."""
    data = form.cleaned_data
    new, remove = data.get("photo"), data.get("remove_photo")
    if "photo" in form.errors:
        return  # the file was refused: say that, not what follows from it
    if new and remove:
        form.add_error("remove_photo", NEW_OR_REMOVE)
        return
    keeps = bool(new) or (has_photo and not remove)
    if keeps and not (data.get("photo_alt") or "").strip() and "photo_alt" not in form.errors:
        form.add_error("photo_alt", ALT_REQUIRED)


class PhotoForm(forms.Form):
    """A provider's photo: a new one, its description, or taking it off.

    Pass has_photo=bool(provider.photo_card). Once valid: photo_save() if
    cleaned_data["photo"], else photo_remove() if cleaned_data["remove_photo"]; set
    provider.photo_alt from cleaned_data["photo_alt"] if a photo is kept; save the provider
    and rebuild its card.
    """

    photo = PhotoField(label="Photo")
    photo_alt = forms.CharField(
        label="Describe the photo",
        max_length=200,
        required=False,
        help_text="For people who cannot see it: who is in it and what it shows, in a few words.",
    )
    remove_photo = forms.BooleanField(label="Remove the photo", required=False)

    def __init__(self, *args, has_photo: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_photo = has_photo
        if not has_photo:
            del self.fields["remove_photo"]

    def clean(self):
        cleaned_data = super().clean()
        photo_choices_check(self, has_photo=self.has_photo)
        return cleaned_data
