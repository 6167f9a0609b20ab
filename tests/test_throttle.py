"""The form rate limit, counted in the shared cache (the database, or Redis), per client address."""

import os
import socket
import subprocess
import sys
import uuid

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from services import throttle
from services.client_address import client_address

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
    for _ in range(2):
        assert not throttle.form_rate_exceeded(one, "report")
        throttle.form_rate_count(one, "report")
    assert throttle.form_rate_exceeded(one, "report")
    assert not throttle.form_rate_exceeded(one, "enquiry")  # each form has its own count
    assert not throttle.form_rate_exceeded(other, "report")


def test_the_limit_in_the_database_cache(settings):
    assert caches["shared"].__class__.__name__ == "DatabaseCache"
    exercise_the_limit(settings)


def test_the_window_ends(settings):
    settings.FORM_RATE_LIMIT = 1
    # A long window: the database cache drops microseconds from the expiry, so a window of a
    # second or two can close before the next line runs. The expiry is done by hand below.
    settings.FORM_RATE_WINDOW_SECONDS = 3600
    request = request_from("198.51.100.9")
    throttle.form_rate_count(request, "report")
    assert throttle.form_rate_exceeded(request, "report")
    caches["shared"].delete(throttle._key(request, "report"))  # as the expiry does
    assert not throttle.form_rate_exceeded(request, "report")


def test_the_cache_holds_no_address(settings):
    request = request_from("203.0.113.5")
    throttle.form_rate_count(request, "enquiry")
    key = throttle._key(request, "enquiry")
    assert "203.0.113.5" not in key
    assert caches["shared"].get(key) == 1


def test_a_broken_cache_does_not_stop_a_person(settings, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(caches["shared"], "get", broken)
    monkeypatch.setattr(caches["shared"], "add", broken)
    request = request_from("198.51.100.10")
    assert not throttle.form_rate_exceeded(request, "enquiry")
    throttle.form_rate_count(request, "enquiry")


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
