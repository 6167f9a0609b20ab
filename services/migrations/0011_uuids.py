"""A lasting UUID for every object the HSDS API shows, filled in for existing rows.

Listings get their own random UUID in one UPDATE per table (gen_random_uuid() on
PostgreSQL, a version-4 UUID built from randomblob() on SQLite), so 100,000 rows take
seconds; a field default would give every existing row the same value. Taxonomy terms
(a few dozen rows) get the name-based UUID that fixtures/taxonomies.json gives the same
term, so the shipped vocabularies have the same ids in every copy of the directory.
"""

import uuid

from django.db import migrations, models

TERM_MODELS = ["supporttype", "approach", "concern", "language", "community", "agegroup", "gender"]
LISTING_TABLES = ["services_provider", "services_location", "services_service"]
MODELS = TERM_MODELS + [table.removeprefix("services_") for table in LISTING_TABLES]
# services.hsds.vocabulary.NAMESPACE, copied: a migration must not change with the code.
NAMESPACE = uuid.UUID("0b6f2c1e-5d8a-4c3f-9e71-2a4d6b8c0f13")

# 32 hex digits, as Django stores a UUID on SQLite: random, with the version-4 and
# variant bits in place.
SQLITE_UUID4 = (
    "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
    " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
    " || hex(randomblob(6)))"
)


def new_uuid_sql(vendor: str) -> str:
    return "gen_random_uuid()" if vendor == "postgresql" else SQLITE_UUID4


def term_uuid(model: str, slug: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"term:{model}:{slug}")


def fill_uuids(apps, schema_editor):
    for model in TERM_MODELS:
        Term = apps.get_model("services", model)
        for pk, slug in Term.objects.values_list("pk", "slug"):
            Term.objects.filter(pk=pk).update(uuid=term_uuid(model, slug))
    connection = schema_editor.connection
    value = new_uuid_sql(connection.vendor)
    with connection.cursor() as cursor:
        for table in LISTING_TABLES:
            cursor.execute(f"UPDATE {table} SET uuid = {value} WHERE uuid IS NULL")


class Migration(migrations.Migration):
    dependencies = [("services", "0010_phrase_pairs")]

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
