"""A criterion needs only its declaration: one declared in a test-only module
(tests/declared/criteria.py) appears in the form, the SQL reference, the index, the
counts and the page. Its tests run in a pytest of their own, with settings that add it."""

import os
import subprocess
import sys

from django.conf import settings
from django.db import connection


def test_a_criterion_declared_elsewhere_works_everywhere(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.declared.settings"}
    if connection.vendor == "postgresql":
        # A database of its own beside this run's.
        url = os.environ["DATABASE_URL"]
        env["DATABASE_URL"] = url.rstrip("/") + "_declared"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'declared.sqlite3'}"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "tests/declared",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "5 passed" in run.stdout
