"""A hardened site: production checks and headers, the admin sign-in lockout, staff roles,
CSRF on every form, nothing changed by a GET, text shown escaped."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.test_settings import GOOD_KEY

PROJECT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": GOOD_KEY,
    "DJANGO_ALLOWED_HOSTS": "directory.example.org",
}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "therapy_directory.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --------------------------------------------------------------------------- production


def test_check_deploy_reports_nothing_with_production_settings():
    result = run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


HEADERS_SCRIPT = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client, override_settings

# The pages' stylesheet links need collectstatic's manifest; headers do not depend on it.
storages = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=storages):
    client = Client(HTTP_HOST="directory.example.org")
    plain = client.get("/find/?q=grief")
    # Load balancers check health over plain HTTP.
    plain_health = client.get("/healthz")
    # Behind the TLS proxy, which says so in X-Forwarded-Proto.
    secure = Client(HTTP_HOST="directory.example.org", HTTP_X_FORWARDED_PROTO="https")
    health = secure.get("/healthz")
    login = secure.get("/admin/login/")
cookie = login.cookies["csrftoken"]
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "plain_health_status": plain_health.status_code,
    "plain_health_body": plain_health.content.decode(),
    "health": dict(health.headers),
    "login": dict(login.headers),
    "csrf_cookie": {k: cookie[k] for k in ("secure", "httponly", "samesite")},
    "session_cookie": {
        "secure": settings.SESSION_COOKIE_SECURE,
        "httponly": settings.SESSION_COOKIE_HTTPONLY,
        "samesite": settings.SESSION_COOKIE_SAMESITE,
    },
}))
"""


@pytest.fixture(scope="module")
def production_responses():
    result = run_python(HEADERS_SCRIPT, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_production_redirects_plain_http(production_responses):
    assert production_responses["plain_status"] == 301
    assert production_responses["plain_location"] == "https://directory.example.org/find/?q=grief"


def test_production_answers_the_health_check_over_plain_http(production_responses):
    assert production_responses["plain_health_status"] == 200
    assert production_responses["plain_health_body"] == "ok"


@pytest.mark.parametrize("page", ["health", "login"])
def test_production_security_headers(production_responses, page):
    headers = production_responses[page]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    policy = directives(headers["Content-Security-Policy"])
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'self'" in policy[directive]
        assert "'unsafe-inline'" not in policy[directive]
        assert "'unsafe-eval'" not in policy[directive]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]


def test_production_cookies(production_responses):
    assert production_responses["csrf_cookie"] == {
        "secure": True,
        "httponly": "",
        "samesite": "Lax",
    }
    assert production_responses["session_cookie"] == {
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
    }


@pytest.mark.django_db
def test_a_page_with_inline_data_carries_the_nonce(client, make_published_provider):
    provider = make_published_provider("Nonce Check")
    response = client.get(provider.get_absolute_url())
    policy = directives(response["Content-Security-Policy"])
    [nonce] = [value for value in policy["script-src"] if value.startswith("'nonce-")]
    assert f'nonce="{nonce[7:-1]}"' in response.content.decode()
    # Another response, another nonce.
    again = directives(client.get(provider.get_absolute_url())["Content-Security-Policy"])
    assert nonce not in again["script-src"]


@pytest.mark.django_db
def test_pages_without_inline_data_send_no_nonce(client, taxonomies):
    policy = directives(client.get("/")["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]


# --------------------------------------------------------------------------- admin sign-in lockout

LOGIN = "/admin/login/"


def sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


@pytest.mark.django_db
def test_five_failures_lock_out_that_address_and_username(staff_user):
    from axes.models import AccessAttempt

    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(4):
        response = sign_in(client, "staff", "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    locked = sign_in(client, "staff", "wrong")
    assert locked.status_code == 429
    assert "Sign-in paused for this account" in locked.content.decode()
    # Even the right password is refused now.
    refused = sign_in(client, "staff", "a-long-test-password")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address, or another username from this address, is not locked.
    assert (
        sign_in(Client(REMOTE_ADDR="198.51.100.21"), "staff", "a-long-test-password").status_code
        == 302
    )
    assert sign_in(client, "someone-else", "wrong").status_code == 200
    assert AccessAttempt.objects.filter(username="staff").get().failures_since_start >= 5


@pytest.mark.django_db
def test_the_lockout_ends_after_fifteen_minutes(staff_user):
    import datetime

    from axes.models import AccessAttempt, AccessAttemptExpiration
    from django.utils import timezone

    client = Client(REMOTE_ADDR="198.51.100.22")
    for _ in range(5):
        sign_in(client, "staff", "wrong")
    assert sign_in(client, "staff", "a-long-test-password").status_code == 429
    sixteen_minutes_ago = timezone.now() - datetime.timedelta(minutes=16)
    AccessAttempt.objects.update(attempt_time=sixteen_minutes_ago)
    AccessAttemptExpiration.objects.update(expires_at=sixteen_minutes_ago)
    assert sign_in(client, "staff", "a-long-test-password").status_code == 302


@pytest.mark.django_db
def test_public_pages_do_no_lockout_work(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


# --------------------------------------------------------------------------- staff roles


@pytest.mark.django_db
def test_the_editor_group_edits_and_moderates_but_does_not_manage_users(editor):
    group = Group.objects.get(name="editor")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {
        "change_provider",
        "add_service",
        "verify_provider",
        "change_recommendation",
        "change_report",
        "view_enquiry",
        "view_listingforreview",
    } <= codenames
    assert not group.permissions.exclude(content_type__app_label="services").exists()
    assert not codenames & {"publish_provider", "delete_recommendation", "delete_enquiry"}
    assert not any(
        name.startswith(("change_", "add_", "delete_"))
        for name in codenames
        & {"change_supporttype", "change_concern", "change_approach", "add_language"}
    )
    assert editor.has_perm("services.change_provider")
    assert not editor.has_perm("auth.change_user")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/auth/user/",
        "/admin/auth/group/",
        "/admin/auth/user/add/",
        "/admin/axes/accessattempt/",
    ],
)
def test_an_editor_cannot_manage_users_or_lockouts(editor_client, url):
    assert editor_client.get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/services/provider/",
        "/admin/services/recommendation/",
        "/admin/services/report/",
        "/admin/services/enquiry/",
        "/admin/services/listingforreview/",
    ],
)
def test_an_editor_reaches_listings_and_moderation(editor_client, url):
    assert editor_client.get(url).status_code == 200


@pytest.mark.django_db
def test_an_editor_cannot_change_a_vocabulary(editor_client, taxonomies):
    assert editor_client.get("/admin/services/concern/add/").status_code == 403


# --------------------------------------------------------------------------- CSRF and GET


def _views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


@pytest.mark.django_db
def test_only_the_read_only_api_is_exempt_from_csrf(client):
    exempt = [path for path, view in _views() if getattr(view, "csrf_exempt", False)]
    # Django's own admin marks none; of ours, only the HSDS API, which takes no writes
    # (a POST is a 405, not a CSRF failure's 403).
    assert exempt and all(path.startswith("api/hsds/") for path in exempt), exempt
    for path in ("/api/hsds/", "/api/hsds/services", "/api/hsds/openapi.json"):
        assert client.post(path, {"name": "x"}).status_code == 405


@pytest.mark.django_db
def test_nothing_changes_on_get(client, make_published_provider):
    from services.models import Enquiry, ListingsVersion, Recommendation, Report

    provider = make_published_provider("Get Only")
    before = ListingsVersion.current()
    query = {"name": "x", "email": "x@example.org", "message": "hi", "problem": "moved"}
    for name in ("provider_contact", "provider_recommend", "provider_report"):
        assert (
            client.get(reverse(f"services:{name}", args=[provider.slug]), query).status_code == 200
        )
    assert not Enquiry.objects.exists()
    assert not Recommendation.objects.exists()
    assert not Report.objects.exists()
    assert ListingsVersion.current() == before


@pytest.mark.django_db
def test_statements_are_plain_text_shown_escaped(client, make_published_provider):
    provider = make_published_provider(
        "Escape Check", statement='<script>alert("x")</script>\n\n<a href="javascript:x">link</a>'
    )
    html = client.get(provider.get_absolute_url()).content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'href="javascript:x"' not in html


@pytest.mark.django_db
def test_a_refused_csrf_token_gets_a_page_in_words(make_published_provider):
    provider = make_published_provider("Token Check")
    response = Client(enforce_csrf_checks=True).post(
        reverse("services:provider_report", args=[provider.slug]), {"problem": "moved"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Your form could not be sent</h1>" in html
    assert "back button" in html
    assert "Samaritans" in html  # the crisis line, as on every page


@pytest.mark.django_db
def test_the_migration_gives_the_editor_group_exactly_its_permissions():
    from tests.conftest import EDITOR_PERMISSIONS

    group = Group.objects.get(name="editor")
    assert set(group.permissions.values_list("codename", flat=True)) == set(EDITOR_PERMISSIONS)
