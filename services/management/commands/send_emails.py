"""Send the outbox's emails that are due and that no worker is sending (run from cron as a
safety net beside the background worker)."""

from django.core.management.base import BaseCommand

from services.models import OutgoingEmail
from services.outbox import email_send, emails_due


class Command(BaseCommand):
    help = (
        "Send emails that are due and not being sent (a lost task, a retry that is due), "
        "up to DJANGO_EMAIL_MAX_ATTEMPTS tries each."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="At most this many per run.")

    def handle(self, *args, limit, **options):
        counts = dict.fromkeys(OutgoingEmail.State.values, 0)
        elsewhere = 0
        for email_id in list(emails_due().values_list("pk", flat=True)[:limit]):
            email = email_send(email_id=email_id)
            # Only what this run tried is counted: another run or the worker may have
            # taken an email between the list and the send.
            if email is None:
                elsewhere += 1
            else:
                counts[email.state] += 1
        self.stdout.write(
            f"Sent {counts['sent']}, failed {counts['failed']} (will retry), "
            f"gave up on {counts['gave_up']}; {elsewhere} were being sent by another sender."
        )
