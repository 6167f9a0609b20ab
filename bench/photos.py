"""Photos for `make bench`: give listings a photo as an upload would (services/photos.py), or
take it off again, in a process of its own.

    python bench/photos.py add ID...      # prints {"card_bytes": [...], "profile_bytes": [...]}
    python bench/photos.py remove ID...

The picture is a real portrait, matplotlib's sample photograph of Grace Hopper (the bench
extras install matplotlib), cropped, mirrored and lightened differently for each listing so
that no two files are the same; without matplotlib, the demo data's drawn portrait. The
files go to the default storage (DJANGO_MEDIA_ROOT).
"""

import io
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapy_directory.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

from services.demo_data import demo_photo  # noqa: E402
from services.indexing import search_index_update  # noqa: E402
from services.models import Provider  # noqa: E402
from services.photos import photo_prepare, photo_remove, photo_save  # noqa: E402

PHOTO_FIELDS = ["photo_card", "photo_profile", "photo_alt"]


def portrait() -> Image.Image | None:
    try:
        from matplotlib import cbook
    except ImportError:
        return None
    with cbook.get_sample_data("grace_hopper.jpg") as file:
        return Image.open(file).convert("RGB")


def upload(source: Image.Image | None, number: int) -> bytes:
    """A camera-like JPEG, different for each number."""
    if source is None:
        return demo_photo(number)
    width, height = source.size
    inset = number % 5 * 8
    picture = source.crop((inset, inset, width - inset, height - inset * 2))
    if number % 2:
        picture = ImageOps.mirror(picture)
    picture = ImageEnhance.Brightness(picture).enhance(0.9 + number % 4 * 0.05)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92)
    return out.getvalue()


def main() -> None:
    verb, ids = sys.argv[1], [int(pk) for pk in sys.argv[2:]]
    source = portrait() if verb == "add" else None
    sizes = {"card_bytes": [], "profile_bytes": []}
    with transaction.atomic():
        for number, provider in enumerate(Provider.objects.filter(pk__in=ids).order_by("pk")):
            if verb == "add":
                photo = photo_prepare(upload(source, number))
                sizes["card_bytes"].append(len(photo.card))
                sizes["profile_bytes"].append(len(photo.profile))
                photo_save(provider=provider, upload=photo)
                provider.photo_alt = "Grace Hopper in uniform, a photograph used for measuring"
            else:
                photo_remove(provider=provider)
            provider.save(update_fields=PHOTO_FIELDS)
        search_index_update(ids)
    print(json.dumps(sizes), flush=True)


if __name__ == "__main__":
    main()
