"""Many rows changed at once, one statement sent per row in a single batch.

Django's bulk_update() builds a CASE expression per field over every row: for 5,000
listings that cost more than the rest of an import together. An UPDATE per row, sent with
executemany() (psycopg pipelines them; SQLite runs them in process), costs a small part.
"""

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model


def rows_update(objects: Iterable[Model], fields: Sequence[str]) -> None:
    """Write these fields of these saved objects (all of one model), as they are in memory."""
    objects = list(objects)
    if not objects or not fields:
        return
    meta = objects[0]._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(column.column)} = %s" for column in columns)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    params = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns]
        + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
