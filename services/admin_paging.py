"""Admin pagination that never counts a whole large table."""

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

# Past this many matches the admin says "10000" and offers that many pages: staff
# narrow a list with search and filters rather than page through it.
COUNT_CAP = 10_000


class LargeTablePaginator(Paginator):
    """Counts at most COUNT_CAP rows; the unfiltered list uses PostgreSQL's row estimate."""

    @cached_property
    def count(self):
        queryset = self.object_list
        if connection.vendor == "postgresql" and not queryset.query.where:
            estimate = _estimated_rows(queryset.model._meta.db_table)
            if estimate > COUNT_CAP:
                return estimate
        return queryset.order_by()[:COUNT_CAP].count()


def _estimated_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return max(row[0], 0) if row else 0
