"""The table of the "shared" cache (settings.CACHES), so a fresh database has it.

`manage.py createcachetable` does the same and is safe to run again; with REDIS_URL set
there is no database cache and nothing is made.
"""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    table = schema_editor.connection.ops.quote_name(settings.SHARED_CACHE_TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [("services", "0013_trust_and_safety")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
