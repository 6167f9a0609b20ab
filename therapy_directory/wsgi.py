"""WSGI entry point for production servers (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapy_directory.settings")
# A production server imports this module before the settings, so it starts
# with DEBUG off unless told otherwise; `manage.py runserver` loads the
# settings first and keeps the development default.
os.environ.setdefault("DJANGO_DEBUG", "false")

application = get_wsgi_application()
