"""Edits for `make bench`, made as staff make them: through the write functions the admin's
actions and saves call, in a process of its own (as another host would be).

Reads one command a line from stdin, "unpublish ID", "publish ID" or "accepting ID" (the
admin's save of "taking new clients", flipped), and answers "ok" once it is committed.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapy_directory.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.db.models import Q  # noqa: E402

from services import listings  # noqa: E402
from services.indexing import search_index_update  # noqa: E402
from services.models import Provider  # noqa: E402


def main() -> None:
    for line in sys.stdin:
        verb, pk = line.split()
        provider = Provider.objects.get(pk=int(pk))
        if verb == "unpublish":
            listings.provider_unpublish(provider=provider, by=None)
        elif verb == "publish":
            listings.provider_publish(provider=provider, by=None)
        else:
            with transaction.atomic():
                Provider.objects.filter(pk=provider.pk).update(
                    accepting_new_clients=~Q(accepting_new_clients=True)
                )
                search_index_update([provider.pk])
        print("ok", flush=True)


if __name__ == "__main__":
    main()
