"""The relevance set (searches.py) on the demo data: every search is a test.

The demo data is seeded once for the module, as `make run` seeds it (300 providers, seed 1),
inside a transaction rolled back at the end, so the other tests still start empty.
"""

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from services.management.commands.seed_demo import SEEDED
from services.planner_statistics import planner_statistics_update
from tests.relevance.run import check_response, search
from tests.relevance.searches import CASES

DEMO_PROVIDERS = 300
DEMO_SEED = 1


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command(
                "seed_demo", providers=DEMO_PROVIDERS, seed=DEMO_SEED, stdout=io.StringIO()
            )
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            # seed_demo's ANALYZE left the planner counting 300 listings that the rollback
            # took away; the admin's counts read those estimates, so they are made again.
            planner_statistics_update(models=SEEDED)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_search_meets_its_expectations(case, demo_data, db, client):
    # tests/conftest.py puts the Jinja2 templates' context in response.context.
    failures = check_response(case, search(client, case))
    assert not failures, f"{case['params']}: " + "; ".join(failures)
