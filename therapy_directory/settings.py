"""Settings for the therapy directory, read from DJANGO_* environment variables.

Development needs no configuration: DEBUG is on, the database is SQLite in the
project folder. With DJANGO_DEBUG=false the site refuses to start without a real
secret key and allowed hosts.
"""

import copy
import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-development-only-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

if not DEBUG:
    if (
        SECRET_KEY == _DEV_SECRET_KEY
        or len(SECRET_KEY) < 50
        or SECRET_KEY.startswith("django-insecure")
    ):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
            "when DJANGO_DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must list the site's host names when DJANGO_DEBUG is off."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django_filters",
    "reversion",
    "csp",
    "axes",
    # The background worker's queue (Django 6's tasks framework, backported), in the database.
    "django_tasks",
    "django_tasks_db",
    "services",
]

MIDDLEWARE = [
    "services.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Only builds a header: no database work. The nonce is made when a template asks for it.
    "csp.middleware.CSPMiddleware",
    "therapy_directory.routers.PrimaryForOwnWrites",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks; it only turns a lockout flagged during sign-in into the
    # lockout page, so other requests pass straight through.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks sign-ins first, so a locked-out address and username never reach
# the password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Providers sign in at /my-listing/ by a one-time link sent to their email (django-sesame).
    "sesame.backends.ModelBackend",
]
# A provider's sign-in link works once (its token covers the last sign-in time, which
# signing in moves) and for 15 minutes.
SESAME_MAX_AGE = int(os.environ.get("DJANGO_SIGN_IN_LINK_SECONDS", str(15 * 60)))
SESAME_ONE_TIME = True

ROOT_URLCONF = "therapy_directory.urls"
WSGI_APPLICATION = "therapy_directory.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "services.context_processors.site",
            ],
        },
    },
    {
        # The results page's body (services/templating.py says why); Django templates
        # frame it, and render every other page.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "services.templating.environment"},
    },
]

# SQLite in the project folder unless DATABASE_URL names another database.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The site and its background worker write to one file: a transaction takes the write
    # lock when it starts (not at its first write, where SQLite would refuse it outright if
    # another held the lock), and waits for it up to 20 s.
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DJANGO_DB_POOL", not DEBUG
):
    # psycopg's pool keeps connections open across requests; it cannot be
    # combined with persistent connections (CONN_MAX_AGE).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DJANGO_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("DJANGO_DB_POOL_MAX", "8")),
        "timeout": 10,
    }

# With DATABASE_REPLICA_URL, pages read the public listings from a streaming replica and
# each process's listing index follows the edits through it (therapy_directory/routers.py).
REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]),
        "OPTIONS": copy.deepcopy(DATABASES["default"].get("OPTIONS", {})),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["therapy_directory.routers.ReplicaRouter"]

# "default" is per process and free to read: the results page reads it on every request.
# "shared" is one cache for every worker: the database by default, Redis when REDIS_URL is
# set. The forms' rate limit counts in that Redis; without it, in a table of its own
# (services/throttle.py says why: the database cache cannot add one atomically).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
SHARED_CACHE_TABLE = "directory_shared_cache"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "directory",
        }
        if REDIS_URL
        # Its table is made by migration 0014 (and `manage.py createcachetable`).
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": SHARED_CACHE_TABLE,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    ),
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Providers' photos (services/photos.py), saved through the storage API: files on disk
# under MEDIA_ROOT by default; README "Photos" shows an S3-compatible store instead.
MEDIA_URL = os.environ.get("DJANGO_MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "services.staticfiles.StaticFilesStorage"
        )
    },
}

# Shown on every page; a deployment sets its own local line.
CRISIS_LINE = {
    "text": os.environ.get(
        "DJANGO_CRISIS_LINE_TEXT",
        "In crisis or feeling unsafe right now? Call 999 in an emergency, or Samaritans on 116 123, free, any time.",
    ),
    "phone": os.environ.get("DJANGO_CRISIS_LINE_PHONE", "116 123"),
}
# Results and filter option counts come from an in-memory index in each process, which
# applies the listings' edits in place (services/search/listing_index.py): a thread reads the
# change log this often (seconds), so an edit shows within about that, plus its apply.
LISTING_INDEX_FOLLOW = "thread"
LISTING_INDEX_FOLLOW_SECONDS = float(os.environ.get("DJANGO_LISTING_INDEX_FOLLOW_SECONDS", "0.5"))
SITE_NAME = os.environ.get("DJANGO_SITE_NAME", "Find Therapeutic Support")
# Where the site is, for links in emails that are not written during a request (a staff
# decision's outcome, an invitation): no trailing slash.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The country the listings are in: its places win when a name is ambiguous
# ("London" is London, England, not London, Ontario).
DIRECTORY_COUNTRY = os.environ.get("DJANGO_DIRECTORY_COUNTRY", "GB").strip().upper()
if not (
    len(DIRECTORY_COUNTRY) == 2 and DIRECTORY_COUNTRY.isascii() and DIRECTORY_COUNTRY.isalpha()
):
    raise ImproperlyConfigured(
        f"DJANGO_DIRECTORY_COUNTRY must be a two-letter ISO 3166 country code, not {DIRECTORY_COUNTRY!r}."
    )

# --------------------------------------------------------------------------- background work
# Work that must not hold up a request (sending email) is queued in the database and done by
# `manage.py db_worker`, which `make run` starts beside the site. The tests run each task at
# once, in the process (DJANGO_TASKS_BACKEND=django_tasks.backends.immediate.ImmediateBackend).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --------------------------------------------------------------------------- email
# Every email goes through the outbox (services/outbox.py): stored, then sent by the
# background worker, which retries a failed send later. Development prints them to the
# console; production sends them over SMTP.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = int(os.environ.get("DJANGO_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "directory@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", BASE_DIR / "sent-emails")
# How often the outbox tries one email before it leaves it to staff (the older name,
# DJANGO_ENQUIRY_MAX_ATTEMPTS, still counts).
EMAIL_MAX_ATTEMPTS = int(
    os.environ.get("DJANGO_EMAIL_MAX_ATTEMPTS", os.environ.get("DJANGO_ENQUIRY_MAX_ATTEMPTS", "5"))
)

# --------------------------------------------------------------------------- abuse control
# How many forms (enquiries, recommendations, reports) one client address may send in a
# window, counted in the shared cache.
FORM_RATE_LIMIT = int(os.environ.get("DJANGO_FORM_RATE_LIMIT", "5"))
FORM_RATE_WINDOW_SECONDS = int(os.environ.get("DJANGO_FORM_RATE_WINDOW", "3600"))
# How long personal data is kept, in days: the privacy notice (/privacy/) states these, and
# `manage.py forget_personal_data`, run daily, deletes what is older (services/retention.py).
# Enquiries and the emails that carried them, from when they were sent:
KEEP_ENQUIRIES_DAYS = int(os.environ.get("DJANGO_KEEP_ENQUIRIES_DAYS", "90"))
# Problem reports' details and reporters' emails, from when staff closed them:
KEEP_REPORTS_DAYS = int(os.environ.get("DJANGO_KEEP_REPORTS_DAYS", "180"))
# Recommenders' emails (and rejected recommendations), from when staff decided:
KEEP_RECOMMENDATIONS_DAYS = int(os.environ.get("DJANGO_KEEP_RECOMMENDATIONS_DAYS", "90"))
# Listings that do not lead nowhere (services/upkeep/), run by `manage.py keep_listings_current`:
# a provider taking new clients is asked to confirm it after this many days,
AVAILABILITY_CONFIRM_DAYS = int(os.environ.get("DJANGO_AVAILABILITY_CONFIRM_DAYS", "30"))
# and, unanswered this many days after the reminder, the listing stops saying so.
AVAILABILITY_GRACE_DAYS = int(os.environ.get("DJANGO_AVAILABILITY_GRACE_DAYS", "14"))
# An enquiry not answered within this many working days (Monday to Friday) is chased: the
# person gets other listings if they asked for them, the provider one reminder.
REPLY_WORKING_DAYS = int(os.environ.get("DJANGO_REPLY_WORKING_DAYS", "2"))
# This many unanswered enquiries in a row pause a listing from "taking new clients".
UNANSWERED_IN_A_ROW_PAUSE = int(os.environ.get("DJANGO_UNANSWERED_IN_A_ROW_PAUSE", "3"))
# Reply rates cover the enquiries of this many days, and are shown from this many on.
REPLY_FIGURES_DAYS = int(os.environ.get("DJANGO_REPLY_FIGURES_DAYS", "90"))
REPLY_FIGURES_FROM = int(os.environ.get("DJANGO_REPLY_FIGURES_FROM", "5"))
# Who to contact about the directory (/contact/) and who runs it (/about/, /privacy/).
CONTACT_EMAIL = os.environ.get("DJANGO_CONTACT_EMAIL", "hello@localhost")
OPERATOR_NAME = os.environ.get("DJANGO_OPERATOR_NAME", "the team that runs this directory")
# How many proxies of our own stand in front of the site, each adding the address it saw
# to X-Forwarded-For. 0: the client is REMOTE_ADDR (never trust a header nobody checked).
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))

# django-axes: five failed admin sign-ins for one address and username within fifteen
# minutes, and that pair is refused for the rest of the fifteen minutes.
AXES_VERBOSE = False
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_ONLY_ADMIN_SITE = True
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "services.client_address.client_address"
# Failed attempts are kept (staff see them in the admin); successful sign-ins are not logged.
AXES_DISABLE_ACCESS_LOG = True

# --------------------------------------------------------------------------- content security
# django-csp: only this site's own files run; the few inline blocks carry the response's
# nonce (request.csp_nonce), which is only made, and so only sent, when a page uses one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# Cookies are only read by this site's own pages; the session one never by scripts.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # Search words stay out of every log line (services/log_filters.py says why); the
    # filters sit on the loggers that make the records, before any handler sees them.
    "filters": {
        "without_query_string": {"()": "services.log_filters.WithoutQueryString"},
        "expected_bad_search": {"()": "services.log_filters.ExpectedBadSearch"},
    },
    "loggers": {
        # The request log would record search terms beside client addresses; its 4xx and
        # 5xx lines still come, without the query string.
        "django.server": {"level": "WARNING", "filters": ["without_query_string"]},
        "django.request": {"filters": ["expected_bad_search", "without_query_string"]},
        # django-axes logs every sign-in at INFO; failures are in its table already.
        "axes": {"level": "WARNING"},
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Load balancers check /healthz over plain HTTP and count a redirect as a failure.
    # It says only "ok"; the pattern is searched in the path, so it holds under any prefix.
    SECURE_REDIRECT_EXEMPT = [r"(^|/)healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    TEMPLATES[0]["OPTIONS"]["debug"] = False
