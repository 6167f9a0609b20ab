"""Error pages are the site's own, through Django's real handlers with DEBUG off: one heading,
what happened in plain words, where to get urgent help, and a way back to search."""

import re

import pytest
from django.db import OperationalError, connection
from django.test import Client

from services.search import listing_index

pytestmark = pytest.mark.django_db

URGENT_HELP = (
    '<aside class="crisis" aria-label="Urgent help">\n    <p>In crisis or feeling unsafe right '
    "now? Call 999 in an emergency, or Samaritans on 116 123, free, any time. "
    '<a href="tel:116123">Call 116 123</a></p>\n  </aside>'
)
SEARCH_FORM = '<form method="get" action="/find/" role="search" aria-labelledby="search-again">'
STYLESHEET = '<link rel="stylesheet" href="/static/css/site.css">'


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


@pytest.fixture
def browser():
    """A client that gets the error page as a browser would, not the exception."""
    return Client(raise_request_exception=False)


def assert_site_page(response, status: int, title: str, heading: str, words: str) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert f"<title>{title} · Find Therapeutic Support</title>" in html
    assert re.findall(r"<h1[ >].*?</h1>", html) == [f"<h1>{heading}</h1>"]
    assert words in html
    assert URGENT_HELP in html
    assert SEARCH_FORM in html
    assert '<input type="search" name="q" id="search-again-q"' in html
    assert STYLESHEET in html
    # The policy stays strict: nothing inline that it would have to allow.
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    return html


@pytest.mark.parametrize("path", ["/no-such-page/", "/providers/nobody-by-that-name/"])
def test_a_page_that_is_not_there(browser, taxonomies, path):
    assert_site_page(
        browser.get(path),
        404,
        "Page not found",
        "We could not find that page",
        "The link may be mistyped or out of date, or the listing it led to may have left the directory.",
    )


def test_a_request_the_site_cannot_answer(browser):
    assert_site_page(
        browser.get("/", HTTP_HOST="probe.example.net"),
        400,
        "Request not understood",
        "We could not understand that request",
        "Something in it was not what this site expects, so nothing was done.",
    )


def test_a_page_that_is_not_open_to_this_person(editor_client):
    editor_client.raise_request_exception = False
    assert_site_page(
        editor_client.get("/admin/auth/user/"),
        403,
        "Not open to you",
        "This page is not open to you",
        "It may be for some of the directory’s staff only.",
    )


def test_a_form_without_its_security_code(make_published_provider):
    provider = make_published_provider("Token Check")
    response = Client(enforce_csrf_checks=True).post(
        f"/providers/{provider.slug}/report/", {"problem": "moved"}
    )
    assert_site_page(
        response,
        403,
        "Your form could not be sent",
        "Your form could not be sent",
        "what you wrote is usually still there",
    )


SERVER_ERROR = (
    "Sorry: this page could not be shown because of a fault on our side, not anything you did."
)


def test_a_fault_in_the_site(browser, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a fault nobody expected")

    monkeypatch.setattr(listing_index, "current_index", broken)
    html = assert_site_page(
        browser.get("/find/?q=grief"),
        500,
        "Something went wrong",
        "Something went wrong on our side",
        SERVER_ERROR,
    )
    assert "a fault nobody expected" not in html


def test_a_fault_while_the_database_is_down_asks_nothing_more_of_it(browser, monkeypatch):
    attempts = []

    def unavailable():
        attempts.append(1)
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(connection, "ensure_connection", unavailable)
    assert_site_page(
        browser.get("/"),
        500,
        "Something went wrong",
        "Something went wrong on our side",
        SERVER_ERROR,
    )
    assert len(attempts) == 1  # the home page's own query, and nothing for the error page


def test_a_fault_when_the_stylesheet_cannot_be_found_still_gets_the_page(
    browser, monkeypatch, settings, tmp_path
):
    """Static files collected without the stylesheet: the page comes, unstyled."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }

    def broken(*args, **kwargs):
        raise RuntimeError("a fault nobody expected")

    monkeypatch.setattr(listing_index, "current_index", broken)
    response = browser.get("/find/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong on our side</h1>" in html
    assert URGENT_HELP in html
    assert 'rel="stylesheet"' not in html
