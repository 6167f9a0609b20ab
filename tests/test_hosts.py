"""More than one machine: web hosts that share one database, and a streaming replica.

Each host here is a gunicorn of its own (gunicorn.conf.py, two workers), on its own port,
started from the same code as production; the edit is made by another process through
the write functions the admin calls.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from services.models import Enquiry, Provider
from therapy_directory import routers

REPLICA_PORT = 5433
SEEN_WITHIN = 60  # seconds: generous for a loaded CI machine; make bench times it


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Site:
    """The site under gunicorn with production settings, on a port of its own."""

    def __init__(self, env: dict):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "therapy_directory.wsgi", "-c", "gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": "2"},
        )
        deadline = time.monotonic() + 120
        while self.listed() is None:
            assert self.process.poll() is None, "gunicorn stopped"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

    def listed(self) -> int | None:
        """How many listings /find/ says it found (None: not answering yet)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/find/", timeout=10) as r:
                body = r.read().decode()
        except OSError:
            return None
        found = re.search(r'id="results-title"[^>]*>([\d,]+) ', body)
        return int(found.group(1).replace(",", "")) if found else 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _environment(database_url: str, **more) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "hosts-test-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LISTING_INDEX_FOLLOW_SECONDS": "0.2",
        **more,
    }


def _manage(env: dict, *args) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


UNPUBLISH_ONE = (
    "from services import listings; from services.models import Provider; "
    "listings.provider_unpublish(provider=Provider.objects.published().first(), by=None)"
)


def _until(check) -> bool:
    deadline = time.monotonic() + SEEN_WITHIN
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_two_hosts_both_follow_an_edit(fresh_database_url, tmp_path):
    env = _environment(fresh_database_url, DJANGO_STATIC_ROOT=str(tmp_path / "static"))
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    _manage(env, "seed_demo", "--providers", "12")
    hosts = [Site(env), Site(env)]
    try:
        assert [host.listed() for host in hosts] == [12, 12]
        _manage(env, "shell", "--no-imports", "-c", UNPUBLISH_ONE)
        # Each request may reach either worker of a host: every one has applied it.
        assert _until(lambda: all(host.listed() == 11 for host in hosts for _ in range(6)))
    finally:
        for host in hosts:
            host.stop()


@pytest.fixture
def replica_url(fresh_database_url):
    """The fresh database as a streaming replica on port 5433 serves it (.ci/replica)."""
    if connection.vendor != "postgresql":
        pytest.skip("the replica is PostgreSQL's streaming replication")
    parts = urllib.parse.urlsplit(fresh_database_url)
    url = parts._replace(netloc=f"{parts.username}@127.0.0.1:{REPLICA_PORT}").geturl()
    try:
        psycopg.connect(url.replace(parts.path, "/postgres"), connect_timeout=3).close()
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"No replica on port {REPLICA_PORT}: .ci/replica makes one")
        pytest.skip(f"no replica on port {REPLICA_PORT} (.ci/replica makes one)")
    return url


def _replica_rows(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=3) as replica:
            return replica.execute(
                "SELECT count(*) FROM services_provider WHERE status = 'published'"
            ).fetchone()[0]
    except psycopg.Error:
        return -1  # not replicated yet


def test_an_edit_on_the_primary_reaches_find_through_the_replica(
    fresh_database_url, replica_url, tmp_path
):
    primary_env = _environment(fresh_database_url, DJANGO_STATIC_ROOT=str(tmp_path / "static"))
    _manage(primary_env, "migrate", "--noinput", "-v0")
    _manage(primary_env, "collectstatic", "--noinput", "-v0")
    _manage(primary_env, "seed_demo", "--providers", "12")
    assert _until(lambda: _replica_rows(replica_url) == 12)
    site = Site({**primary_env, "DATABASE_REPLICA_URL": replica_url})
    try:
        assert site.listed() == 12
        name = urllib.parse.urlsplit(fresh_database_url).path.lstrip("/")
        with psycopg.connect(replica_url.replace(f"/{name}", "/postgres")) as replica:
            readers = replica.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchone()[0]
        assert readers > 0  # the site reads the listings from the replica
        _manage(primary_env, "shell", "--no-imports", "-c", UNPUBLISH_ONE)
        assert _until(lambda: all(site.listed() == 11 for _ in range(6)))
    finally:
        site.stop()


# --------------------------------------------------------------------------- the router


@pytest.mark.django_db(transaction=True)
def test_the_listings_are_read_from_the_replica_and_everything_else_from_the_primary():
    router = routers.ReplicaRouter()
    assert router.db_for_read(Provider) == "replica"
    assert router.db_for_read(Provider.languages.through) == "replica"
    # A person's own writes: what they send, their session (the shortlist).
    assert router.db_for_read(Enquiry) == "default"
    from django.contrib.sessions.models import Session

    assert router.db_for_read(Session) == "default"
    assert router.db_for_write(Provider) == "default"
    # In a transaction (an edit reading what it is about to change), the primary.
    with transaction.atomic():
        assert router.db_for_read(Provider) == "default"
    assert not router.allow_migrate("replica", "services")


@pytest.mark.parametrize(
    ("method", "path", "primary"),
    [
        ("GET", "/find/", False),
        ("POST", "/providers/someone/contact/", True),
        ("GET", "/admin/services/provider/", True),
    ],
)
def test_a_request_that_writes_and_the_admin_read_from_the_primary(rf, method, path, primary):
    seen = {}

    def view(request):
        seen["db"] = routers.ReplicaRouter().db_for_read(Provider)

    routers.PrimaryForOwnWrites(view)(rf.generic(method, path))
    assert seen["db"] == ("default" if primary else "replica")
