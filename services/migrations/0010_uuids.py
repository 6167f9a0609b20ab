"""A lasting UUID for every object the HSDS API shows, filled in for existing rows.

Each existing row gets its own random UUID in one UPDATE per table (gen_random_uuid() on
PostgreSQL, a version-4 UUID built from randomblob() on SQLite), so 100,000 rows take
seconds; a field default would give every existing row the same value.
"""

import uuid

from django.db import migrations, models

TABLES = [
    "services_supporttype",
    "services_approach",
    "services_concern",
    "services_language",
    "services_community",
    "services_agegroup",
    "services_gender",
    "services_provider",
    "services_location",
    "services_service",
]
MODELS = [table.removeprefix("services_") for table in TABLES]

# 32 hex digits, as Django stores a UUID on SQLite: random, with the version-4 and
# variant bits in place.
SQLITE_UUID4 = (
    "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
    " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
    " || hex(randomblob(6)))"
)


def new_uuid_sql(vendor: str) -> str:
    return "gen_random_uuid()" if vendor == "postgresql" else SQLITE_UUID4


def fill_uuids(apps, schema_editor):
    connection = schema_editor.connection
    value = new_uuid_sql(connection.vendor)
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"UPDATE {table} SET uuid = {value} WHERE uuid IS NULL")


class Migration(migrations.Migration):
    dependencies = [("services", "0009_recently_checked_and_postcode_indexes")]

    operations = [
        *[
            migrations.AddField(
                model_name=model, name="uuid", field=models.UUIDField(null=True, editable=False)
            )
            for model in MODELS
        ],
        migrations.RunPython(fill_uuids, migrations.RunPython.noop, elidable=False),
        *[
            migrations.AlterField(
                model_name=model,
                name="uuid",
                field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
            )
            for model in MODELS
        ],
    ]
