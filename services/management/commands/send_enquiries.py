"""Retry enquiries whose email could not be sent (run every few minutes, e.g. from cron)."""

from django.core.management.base import BaseCommand

from services.enquiries import enquiries_to_retry, enquiry_send
from services.models import Enquiry


class Command(BaseCommand):
    help = (
        "Send enquiries that are waiting or failed, up to DJANGO_ENQUIRY_MAX_ATTEMPTS tries each."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="At most this many per run.")

    def handle(self, *args, limit, **options):
        counts = dict.fromkeys(Enquiry.Delivery.values, 0)
        for enquiry in enquiries_to_retry()[:limit]:
            counts[enquiry_send(enquiry=enquiry).delivery] += 1
        self.stdout.write(
            f"Sent {counts['sent']}, failed {counts['failed']} (will retry), "
            f"gave up on {counts['gave_up']}."
        )
