"""Production settings refuse to start half-configured."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k7Qz!m2vR9x#Lp4sT8wY1bN6cF3hJ0dG5eA-uW@iO7rE2tZ9yX4qP1sD8fK3gH6j"
assert len(GOOD_KEY) >= 60

SETTINGS_VARIABLES = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_DEBUG")


def manage_check(**env_overrides: str) -> subprocess.CompletedProcess:
    """Run `manage.py check` in a fresh interpreter with the given DJANGO_* variables."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_a_secret_key_refuses_to_start():
    result = manage_check(DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="directory.example.org")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "too-short",
        "django-insecure-" + "x" * 60,
        "django-insecure-development-only-never-use-in-production",
    ],
)
def test_production_with_a_weak_secret_key_refuses_to_start(key):
    result = manage_check(
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY=key, DJANGO_ALLOWED_HOSTS="directory.example.org"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = manage_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr
    assert "DJANGO_SECRET_KEY" not in result.stderr


def test_production_fully_configured_passes_the_checks():
    result = manage_check(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="directory.example.org,www.directory.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("value", ["maybe", "2", "treu"])
def test_unreadable_debug_value_fails_clearly(value):
    result = manage_check(DJANGO_DEBUG=value)
    assert result.returncode != 0
    assert f"DJANGO_DEBUG must be true or false, not {value!r}." in result.stderr


def test_development_needs_no_configuration():
    result = manage_check()
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- the test run itself


def test_tests_cannot_reach_the_network():
    with pytest.raises(OSError, match="Network access is blocked"):
        socket.create_connection(("93.184.215.14", 80), timeout=1)


def test_tests_can_reach_this_machine():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
