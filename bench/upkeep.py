"""`keep_listings_current` at scale, timed: the availability reminders the seeded listings are
due (every one unconfirmed for a month, as on the first run after deploying), the lapse of
the same listings a grace period later, a batch of overdue enquiries chased, the reply
figures, and then an hourly run with nothing left to do. Run by `make bench` in its own
process against the benchmark's database; every write is rolled back afterwards.

    python bench/upkeep.py  (with DATABASE_URL set) prints one JSON line.
"""

import datetime
import json
import os
import sys
import time
from pathlib import Path

ENQUIRIES = 500


def _timed(step, **kwargs) -> tuple[int, float]:
    started = time.perf_counter()
    done = step(**kwargs)
    return done, round(time.perf_counter() - started, 2)


def measure() -> dict:
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from services.models import Concern, Enquiry, Location, Provider
    from services.upkeep import availability, replies

    today = timezone.localdate()
    now = timezone.now()
    figures = {}
    with transaction.atomic():
        reminded, seconds = _timed(availability.availability_remind, today=today)
        figures["reminders_queued"] = reminded
        figures["remind_seconds"] = seconds
        figures["reminders_per_minute"] = round(reminded / seconds * 60) if seconds else None

        after_grace = today + datetime.timedelta(days=settings.AVAILABILITY_GRACE_DAYS)
        lapsed, seconds = _timed(availability.availability_lapse, today=after_grace)
        figures["listings_lapsed"] = lapsed
        figures["lapse_seconds"] = seconds

        # Overdue enquiries to listings with an email and a place, each from a search of its
        # own (near the listing's place, for one of the concerns), so that no two follow-ups
        # look for the same listings.
        concerns = list(Concern.objects.order_by("slug").values_list("slug", flat=True))
        targets = list(
            Location.objects.filter(
                provider__status=Provider.Status.PUBLISHED, latitude__isnull=False
            )
            .exclude(provider__email="")
            .order_by("provider_id")
            .distinct("provider_id")
            .values_list("provider_id", "latitude", "longitude")[:ENQUIRIES]
        )
        sent = now - datetime.timedelta(days=7)
        Enquiry.objects.bulk_create(
            Enquiry(
                provider_id=pk,
                name="Bench",
                email="bench@example.org",
                message="Hello",
                consents_to_processing=True,
                wants_follow_up=True,
                came_from=f"lat={lat}&lng={lng}&concern={concerns[i % len(concerns)]}",
                reply_due_at=replies.reply_due(sent),
            )
            for i, (pk, lat, lng) in enumerate(targets)
        )
        chased, seconds = _timed(replies.enquiries_chase, now=now)
        figures["enquiries_chased"] = chased
        figures["chase_seconds"] = seconds
        _changed, seconds = _timed(replies.reply_figures_refresh, now=now)
        figures["reply_figures_seconds"] = seconds

        # The hourly run once all that is done: every step finds nothing.
        started = time.perf_counter()
        idle = [
            availability.availability_remind(today=today),
            availability.availability_lapse(today=after_grace),
            replies.enquiries_chase(now=now),
            replies.reply_figures_refresh(now=now),
        ]
        figures["idle_run_seconds"] = round(time.perf_counter() - started, 2)
        figures["idle_run_did"] = sum(idle)
        transaction.set_rollback(True)
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapy_directory.settings")
    import django

    django.setup()
    print(json.dumps(measure()))
