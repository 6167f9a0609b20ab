"""PostgreSQL: each listing's pairs of neighbouring words, for phrase searches in memory.

A phrase ("low mood") needs word positions. The database's full-text index finds the
listings with both words, then reads every one of them to check that the words are
neighbours: at 100,000 listings, a third of them for "low mood", half a second. Here
each listing's search vector also gives, in a generated column that PostgreSQL keeps
current, every pair of stemmed words at neighbouring positions ('low mood'), which
the in-memory word index (services/search/word_index.py) reads like the words themselves.

Adding the column rewrites the providers table once (about a minute at a million
listings, with the table locked). SQLite searches phrases its own way.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION services_phrase_pairs(vector tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(coalesce(array_agg(DISTINCT first.lexeme || ' ' || second.lexeme), '{}'))
      FROM (SELECT u.lexeme, position FROM unnest(vector) u, unnest(u.positions) position) first
      JOIN (SELECT u.lexeme, position FROM unnest(vector) u, unnest(u.positions) position) second
        ON second.position = first.position + 1
$$;
ALTER TABLE services_provider
    ADD COLUMN phrase_pairs tsvector GENERATED ALWAYS AS (services_phrase_pairs(search_vector)) STORED;
"""

DROP = """
ALTER TABLE services_provider DROP COLUMN IF EXISTS phrase_pairs;
DROP FUNCTION IF EXISTS services_phrase_pairs(tsvector);
"""


def create_phrase_pairs(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_phrase_pairs(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("services", "0009_recently_checked_and_postcode_indexes")]

    operations = [migrations.RunPython(create_phrase_pairs, drop_phrase_pairs)]
