from django.db import migrations

# PostgreSQL's websearch_to_tsquery fails on a few odd mixes of quotes and operators
# ("tsquery stack too small"); this reads the plain words instead, in the same one statement.
CREATE = """
CREATE OR REPLACE FUNCTION websearch_or_plain(config regconfig, query text) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN websearch_to_tsquery(config, query);
EXCEPTION WHEN OTHERS THEN
    RETURN plainto_tsquery(config, query);
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS websearch_or_plain(regconfig, text);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("services", "0025_listings_that_lead_somewhere")]

    operations = [migrations.RunPython(create, drop)]
