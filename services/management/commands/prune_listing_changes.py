"""Delete the listing change log's rows over a day old (daily, from cron).

Each process reads the log every half second; a process that starts builds its index
from the listings themselves, so old rows are never read again.
"""

import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from services.models import ListingChange

KEPT = datetime.timedelta(days=1)


class Command(BaseCommand):
    help = "Delete the listing change log's rows over a day old."

    def handle(self, *args, **options):
        deleted, _ = ListingChange.objects.filter(changed_at__lt=timezone.now() - KEPT).delete()
        self.stdout.write(f"Deleted {deleted:,} listing changes over a day old.")
