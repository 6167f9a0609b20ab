"""Bulk loads leave the database with planner statistics for the tables they wrote."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.models import Provider
from services.planner_statistics import planner_statistics_update

pytestmark = pytest.mark.django_db

LISTING_TABLES = {
    "services_provider",
    "services_provider_languages",
    "services_provider_communities",
    "services_qualification",
    "services_location",
    "services_service",
    "services_service_approaches",
    "services_service_concerns",
    "services_service_age_groups",
    "services_service_locations",
    "services_serviceatlocation",
    "services_searchword",
}


def analysed_tables(queries) -> set[str]:
    """The tables named by the ANALYZE statements run."""
    tables = set()
    for query in queries:
        sql = query["sql"]
        if sql.upper().startswith("ANALYZE"):
            tables.update(name.strip(' "') for name in sql[len("ANALYZE") :].split(","))
    return tables


def assert_statistics_of_providers(count: int) -> None:
    """The database itself holds statistics of the providers saved now."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Written in place by ANALYZE, even inside the test's transaction.
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'services_provider'")
            assert cursor.fetchone() == (count,)
            cursor.execute(
                "SELECT most_common_vals::text FROM pg_stats "
                "WHERE tablename = 'services_provider' AND attname = 'kind'"
            )
            assert cursor.fetchall() == [("{individual,organisation}",)]
        else:
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'services_provider'")
            # A row per index: the rows it holds first (fewer in a partial index).
            assert max(int(stat.split()[0]) for (stat,) in cursor.fetchall()) == count


def test_seed_demo_analyses_every_table_it_wrote(taxonomies):
    with CaptureQueriesContext(connection) as queries:
        call_command("seed_demo", providers=37, seed=5, stdout=StringIO())
    assert analysed_tables(queries) == LISTING_TABLES | {
        "services_recommendation",
        "services_report",
    }
    assert Provider.objects.count() == 37
    assert_statistics_of_providers(37)


def test_import_hsds_analyses_every_table_it_wrote(tmp_path, taxonomies):
    call_command("seed_demo", providers=23, seed=8, stdout=StringIO())
    export = tmp_path / "listings.json"
    call_command("export_hsds", str(export), "--all", stderr=StringIO())
    Provider.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        call_command("import_hsds", str(export), stdout=StringIO(), stderr=StringIO())
    assert analysed_tables(queries) == LISTING_TABLES
    assert Provider.objects.count() == 23
    assert_statistics_of_providers(23)


def test_each_table_is_analysed_once(django_assert_num_queries):
    expected = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(expected) as queries:
        planner_statistics_update(
            models=[Provider, Provider.languages.through, Provider, Provider.languages.through]
        )
    assert analysed_tables(queries) == {"services_provider", "services_provider_languages"}
