"""Create or refresh a staff login for local development, with a new random password."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Development only: create the superuser 'staff' (or reset its password) and print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="staff")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError(
                "local_staff only runs with DJANGO_DEBUG on. In production use `manage.py createsuperuser`."
            )
        # A fresh password each time: nothing fixed that could leak into a deployment.
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        # A new password starts with a clean slate: lift a sign-in lockout from earlier tries.
        from axes.utils import reset

        reset(username=username)
        self.stdout.write(
            self.style.SUCCESS(
                f"Staff sign-in: http://127.0.0.1:8000/admin/  user: {username}  password: {password}"
                + ("" if created else "  (new password for this run)")
            )
        )
