"""The form rate limit, counted per client address in the database, or in Redis, at once
however many forms come together."""

import logging
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.core.cache import caches
from django.db import connection, connections
from django.test import Client, RequestFactory
from django.urls import reverse

from services import throttle
from services.client_address import client_address
from services.models import Enquiry, FormsSent, Provider

pytestmark = pytest.mark.django_db

REDIS = ("127.0.0.1", 6379)


def request_from(address: str, forwarded: str = ""):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


def exercise_the_limit(settings):
    settings.FORM_RATE_LIMIT = 2
    one, other = request_from("198.51.100.7"), request_from("198.51.100.8")
    assert [throttle.form_rate_allows(one, "report") for _ in range(3)] == [True, True, False]
    assert throttle.form_rate_allows(one, "enquiry")  # each form has its own count
    assert throttle.form_rate_allows(other, "report")


def test_the_limit_in_the_database(settings):
    assert caches["shared"].__class__.__name__ == "DatabaseCache"
    exercise_the_limit(settings)
    assert FormsSent.objects.count() == 3


def test_the_window_ends(settings):
    settings.FORM_RATE_LIMIT = 1
    settings.FORM_RATE_WINDOW_SECONDS = 3600
    request = request_from("198.51.100.9")
    before = int(time.time())
    assert throttle.form_rate_allows(request, "report")
    assert before + 3600 <= FormsSent.objects.get().window_ends <= time.time() + 3600
    # A refused form counts, but does not move the window's end.
    FormsSent.objects.update(window_ends=before + 100)
    assert not throttle.form_rate_allows(request, "report")
    assert FormsSent.objects.values_list("sent", "window_ends").get() == (2, before + 100)
    # Once the window is over, a new one: counted from 1 again, and another address's
    # ended window is forgotten as it begins.
    FormsSent.objects.update(window_ends=int(time.time()))
    FormsSent.objects.create(sender="report:ended", sent=5, window_ends=int(time.time()) - 60)
    assert throttle.form_rate_allows(request, "report")
    assert not throttle.form_rate_allows(request, "report")
    (row,) = FormsSent.objects.all()
    assert row.sent == 2 and row.window_ends >= time.time() + 3600 - 5


def test_the_count_holds_no_address(settings):
    request = request_from("203.0.113.5")
    throttle.form_rate_allows(request, "enquiry")
    (row,) = FormsSent.objects.all()
    assert "203.0.113.5" not in row.sender and row.sender.startswith("enquiry:")
    assert row.sent == 1


def test_a_failing_count_does_not_stop_a_person(settings, monkeypatch, caplog):
    """The database refuses the count (here: its table is gone): the form goes through, the
    failure is logged, and the request's other work is not caught up in it."""
    monkeypatch.setattr(FormsSent._meta, "db_table", "no_such_table")
    request = request_from("198.51.100.10")
    with caplog.at_level(logging.ERROR, logger="services.throttle"):
        assert throttle.form_rate_allows(request, "enquiry")
    assert "could not be counted" in caplog.text
    assert Provider.objects.count() == 0  # the connection is still usable


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_cache(settings):
    if not _redis_reachable():
        reason = f"Redis is not reachable on {REDIS[0]}:{REDIS[1]}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI needs it (.ci/run starts it).", pytrace=False)
        pytest.skip(reason)
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{REDIS[0]}:{REDIS[1]}/15",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
    }
    yield caches["shared"]
    caches["shared"].clear()


def test_the_limit_in_redis(settings, redis_cache):
    assert redis_cache.__class__.__name__ == "RedisCache"
    exercise_the_limit(settings)
    assert not FormsSent.objects.exists()


def _redis_key(cache, request, scope):
    sender = throttle._sender(scope, request.META["REMOTE_ADDR"])
    key = cache.make_and_validate_key(f"form-rate:{sender}")
    return cache._cache.get_client(key, write=True), key


def test_the_window_ends_in_redis(settings, redis_cache):
    settings.FORM_RATE_LIMIT = 1
    settings.FORM_RATE_WINDOW_SECONDS = 3600
    request = request_from("198.51.100.11")
    assert throttle.form_rate_allows(request, "report")
    assert not throttle.form_rate_allows(request, "report")
    client, key = _redis_key(redis_cache, request, "report")
    assert 3590 <= client.ttl(key) <= 3600
    client.delete(key)  # as the expiry does
    assert throttle.form_rate_allows(request, "report")
    # A count left without an end (as an interrupted older version could) is given one.
    client.persist(key)
    assert not throttle.form_rate_allows(request, "report")
    assert 3590 <= client.ttl(key) <= 3600


def test_redis_out_of_reach_does_not_stop_a_person(settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    with caplog.at_level(logging.ERROR, logger="services.throttle"):
        assert throttle.form_rate_allows(request_from("198.51.100.12"), "enquiry")
    assert "could not be counted" in caplog.text


def test_redis_url_chooses_redis_for_the_shared_cache_only():
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/3"}
    code = (
        "from django.conf import settings; "
        "print(settings.CACHES['shared']['BACKEND'], settings.CACHES['shared']['LOCATION'], "
        "settings.CACHES['default']['BACKEND'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/3",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


# --------------------------------------------------------------------------- at the same moment

RACERS = 20
RACE_LIMIT = 5
ENQUIRY = {
    "name": "Sam Reader",
    "email": "sam@example.org",
    "phone": "",
    "preferred_contact": "email",
    "message": "Hello, I would like to talk about grief.",
    "consents_to_processing": "on",
}


@pytest.fixture
def race_database(transactional_db, tmp_path):
    """The test database as threads writing at once reach it; yields a way to count a
    model's rows there. PostgreSQL's test database is a real one. SQLite's is in memory,
    shared between connections in a mode where a second writer is refused at once
    ("database table is locked") instead of waiting for its turn as a file's writers do: the
    threads get a file copy of it."""
    if connection.vendor != "sqlite":
        yield lambda model: model.objects.count()
        return
    connection.ensure_connection()
    path = tmp_path / "race.sqlite3"
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()

    def count(model):
        with sqlite3.connect(path) as database:
            return database.execute(f"SELECT COUNT(*) FROM {model._meta.db_table}").fetchone()[0]

    # Each thread's connection is made from these settings; this thread's stays in memory.
    # A transaction that reads before it writes (enquiry_submit's full_clean() and save())
    # cannot wait for another writer in SQLite's default mode, which fails it at once
    # ("database is locked"): each takes the write lock as it begins.
    settings_dict = connection.settings_dict
    in_memory = settings_dict["NAME"], settings_dict["OPTIONS"]
    settings_dict["NAME"] = str(path)
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "transaction_mode": "IMMEDIATE"}
    try:
        yield count
    finally:
        settings_dict["NAME"], settings_dict["OPTIONS"] = in_memory


def enquiries_at_once(provider) -> list[int]:
    """RACERS enquiries from one address, posted at the same moment: their status codes."""
    url = reverse("services:provider_contact", kwargs={"slug": provider.slug})
    start = threading.Barrier(RACERS)
    statuses = []

    def send():
        try:
            client = Client(REMOTE_ADDR="198.51.100.77")
            start.wait(timeout=30)
            statuses.append(client.post(url, ENQUIRY).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(statuses)


@pytest.fixture
def racing_provider(settings, make_published_provider):
    settings.FORM_RATE_LIMIT = RACE_LIMIT
    return make_published_provider("Raced Provider", email="raced@example.org")


def test_forms_sent_at_once_get_through_up_to_the_limit_in_the_database(
    racing_provider, race_database
):
    statuses = enquiries_at_once(racing_provider)
    assert statuses == [302] * RACE_LIMIT + [429] * (RACERS - RACE_LIMIT)
    assert race_database(Enquiry) == RACE_LIMIT


def test_forms_sent_at_once_get_through_up_to_the_limit_in_redis(
    racing_provider, redis_cache, race_database
):
    statuses = enquiries_at_once(racing_provider)
    assert statuses == [302] * RACE_LIMIT + [429] * (RACERS - RACE_LIMIT)
    assert race_database(Enquiry) == RACE_LIMIT


# --------------------------------------------------------------------------- client address


def test_client_address_is_remote_addr_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from("192.0.2.1", forwarded="10.0.0.1")) == "192.0.2.1"


def test_client_address_behind_one_proxy_ignores_what_the_client_wrote(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "10.0.0.1"; the proxy appended the address it saw.
    request = request_from("127.0.0.1", forwarded="10.0.0.1, 203.0.113.9")
    assert client_address(request) == "203.0.113.9"
    # A request that did not pass through the proxy falls back to REMOTE_ADDR.
    assert client_address(request_from("192.0.2.1")) == "192.0.2.1"


def test_client_address_is_none_without_a_valid_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request_from("")) is None
    assert client_address(request_from("not-an-address")) is None
    # A header that is not an address is not trusted either.
    assert client_address(request_from("192.0.2.1", forwarded="junk")) == "192.0.2.1"
