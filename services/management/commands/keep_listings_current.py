"""Keep listings from leading nowhere (hourly, from cron): remind providers to confirm their
availability, lapse what went unconfirmed, chase unanswered enquiries, pause listings that
leave them unanswered, and bring reply figures up to date.

See services/upkeep/; each step records what it did, so a second run does nothing more.
"""

import time

from django.core.management.base import BaseCommand

from services.upkeep.availability import availability_lapse, availability_remind
from services.upkeep.replies import enquiries_chase, reply_figures_refresh

STEPS = [
    ("availability reminders queued", availability_remind),
    ("listings lapsed", availability_lapse),
    ("enquiries chased", enquiries_chase),
    ("reply figures changed", reply_figures_refresh),
]


class Command(BaseCommand):
    help = "Availability reminders and lapses, chased enquiries, pauses and reply figures."

    def handle(self, *args, **options):
        for label, step in STEPS:
            started = time.perf_counter()
            done = step()
            self.stdout.write(f"{done} {label} ({time.perf_counter() - started:.2f} s)")
