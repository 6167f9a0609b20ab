"""Planner statistics for the tables a bulk load wrote, so the next queries are planned on what is there."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import Model


def planner_statistics_update(*, models: Iterable[type[Model]]) -> None:
    """ANALYZE these models' tables; a many-to-many's table is analysed when its `through`
    model is given (Provider.languages.through).

    PostgreSQL plans each query from statistics that only ANALYZE gathers. After a bulk
    load autovacuum gathers them late, or never where it is off: a freshly seeded
    100,000-listing database served /concerns/grief/ in 520 ms, and in 6 ms once analysed.
    PostgreSQL's guide to populating a database says to run ANALYZE after one.

    SQLite's planner reads statistics that ANALYZE keeps (sqlite_stat1) too, and guesses
    without them, so its tables are analysed the same way, one statement each as SQLite
    takes one table at a time. ANALYZE may run inside a transaction on both.
    """
    tables = list(dict.fromkeys(model._meta.db_table for model in models))
    if not tables:
        return
    names = [connection.ops.quote_name(table) for table in tables]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(names)}")
        elif connection.vendor == "sqlite":
            for name in names:
                cursor.execute(f"ANALYZE {name}")
