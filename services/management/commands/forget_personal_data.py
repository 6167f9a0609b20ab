"""Delete personal data older than the privacy notice's periods (daily, from cron).

See services/retention.py for what goes and what stays; safe to run twice.
"""

from django.core.management.base import BaseCommand

from services.retention import personal_data_forget


class Command(BaseCommand):
    help = "Delete personal data older than the periods the privacy notice gives."

    def handle(self, *args, **options):
        self.stdout.write(str(personal_data_forget()))
