from django.db import migrations

# The admin's provider search (ProviderAdmin.search_fields = ["name", "=slug", "email"])
# filters with `name__icontains` and `email__icontains`, which Django writes on
# PostgreSQL as
#     UPPER("services_provider"."name"::text) LIKE UPPER('%fragment%')
# A B-tree cannot answer a LIKE with a leading wildcard, so without these the search
# reads every row. A GIN trigram index on exactly that expression can: the expression
# here must stay the same as Django's for the planner to match it (tests/test_query_plans.py
# checks it does). pg_trgm was created in 0003. SQLite has no such index; it scans.
POSTGRESQL_INDEXES = [
    (
        "CREATE INDEX services_provider_name_upper_trgm ON services_provider "
        'USING gin ((UPPER("name"::text)) gin_trgm_ops)',
        "DROP INDEX IF EXISTS services_provider_name_upper_trgm",
    ),
    (
        "CREATE INDEX services_provider_email_upper_trgm ON services_provider "
        'USING gin ((UPPER("email"::text)) gin_trgm_ops)',
        "DROP INDEX IF EXISTS services_provider_email_upper_trgm",
    ),
]


def create_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for create, _drop in POSTGRESQL_INDEXES:
            schema_editor.execute(create)


def drop_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _create, drop in POSTGRESQL_INDEXES:
            schema_editor.execute(drop)


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0007_listings_version"),
    ]

    operations = [
        migrations.RunPython(create_postgresql_indexes, drop_postgresql_indexes),
    ]
