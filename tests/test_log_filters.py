"""Logs keep no search words, and a mistyped search is not a warning."""

import logging
import runpy
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIRequestHandler

from services.log_filters import WithoutQueryString

PROJECT = Path(__file__).resolve().parent.parent
WORDS = ("suicidal", "thoughts", "Leeds")


# --------------------------------------------------------------------------- search words


def runserver_logs(request_line: str, status: int) -> None:
    """What `manage.py runserver` logs for one request, through the configured loggers."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)  # no socket needed to log
    handler.request, handler.client_address = None, ("127.0.0.1", 50000)
    handler.requestline = request_line
    handler.log_request(status, 1234)


@pytest.mark.parametrize("status", [400, 404, 500])
def test_runserver_request_lines_keep_the_path_and_not_the_search(caplog, status):
    runserver_logs("GET /find/?q=suicidal+thoughts&near=Leeds HTTP/1.1", status)
    [record] = [r for r in caplog.records if r.name == "django.server"]
    assert record.getMessage() == f'"GET /find/ HTTP/1.1" {status} 1234'
    for word in WORDS:
        assert word not in caplog.text


def test_a_malformed_request_line_with_spaces_loses_its_words_too(caplog):
    runserver_logs("GET /find/?q=suicidal thoughts near Leeds HTTP/1.1", 404)
    assert '"GET /find/ HTTP/1.1" 404 1234' in caplog.text
    for word in WORDS:
        assert word not in caplog.text


@pytest.fixture
def gunicorn_error_log():
    """gunicorn's error logger as gunicorn.conf.py sets it up when the server starts."""
    logger = logging.getLogger("gunicorn.error")
    before = list(logger.filters)
    runpy.run_path(str(PROJECT / "gunicorn.conf.py"))["on_starting"](None)
    yield logger
    logger.filters[:] = before


@pytest.mark.parametrize(
    "message, args, logged",
    [
        # What gunicorn logs when it cannot parse a request, and when the app fails.
        (
            "Invalid request from ip=192.0.2.1: Invalid HTTP request line: "
            "'GET /find/?q=suicidal thoughts&near=Leeds HTTP/1.1 x'",
            (),
            "Invalid request from ip=192.0.2.1: Invalid HTTP request line: 'GET /find/ HTTP/1.1 x'",
        ),
        (
            "Error handling request %s %s",
            ("GET", "/find/?q=suicidal+thoughts&near=Leeds"),
            "Error handling request GET /find/",
        ),
    ],
)
def test_gunicorn_error_lines_keep_no_search(caplog, gunicorn_error_log, message, args, logged):
    gunicorn_error_log.error(message, *args)
    assert [r.getMessage() for r in caplog.records] == [logged]


def test_messages_without_a_query_string_are_left_as_they_are():
    record = logging.LogRecord(
        "services.enquiries", logging.WARNING, __file__, 1, "Is %s down? %d%%", ("Redis", 50), None
    )
    assert WithoutQueryString().filter(record)
    assert record.getMessage() == "Is Redis down? 50%"


# --------------------------------------------------------------------------- bad searches


@pytest.mark.django_db
def test_a_mistyped_search_answers_400_without_a_warning(client, taxonomies, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get("/find/?radius=abc&page=-1")
    assert response.status_code == 400
    assert "Pages start at 1, so here is the first page." in response.content.decode()
    assert [r for r in caplog.records if r.name == "django.request"] == []


@pytest.mark.django_db
def test_other_bad_requests_are_still_logged(client, taxonomies, caplog):
    with caplog.at_level(logging.WARNING):
        compare = client.get("/compare/?p=only-one")
        missing = client.get("/find/nothing-here/")
    assert (compare.status_code, missing.status_code) == (400, 404)
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "django.request"]
    assert logged == [
        ("WARNING", "Bad Request: /compare/"),
        ("WARNING", "Not Found: /find/nothing-here/"),
    ]
