"""ServiceAtLocation: a lasting UUID for each (service, location) pair, filled for existing links."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

# As in 0011_uuids: a random version-4 UUID per row, as 32 hex digits on SQLite.
SQLITE_UUID4 = (
    "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
    " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
    " || hex(randomblob(6)))"
)


def new_uuid_sql(vendor: str) -> str:
    return "gen_random_uuid()" if vendor == "postgresql" else SQLITE_UUID4


def fill_pairs(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO services_serviceatlocation (uuid, service_id, location_id) "
            f"SELECT {new_uuid_sql(connection.vendor)}, service_id, location_id "
            "FROM services_service_locations"
        )


class Migration(migrations.Migration):
    dependencies = [("services", "0011_uuids")]

    operations = [
        migrations.CreateModel(
            name="ServiceAtLocation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                (
                    "location",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="service_at_locations",
                        to="services.location",
                    ),
                ),
                (
                    "service",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="service_at_locations",
                        to="services.service",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("service", "location"), name="serviceatlocation_once"
                    )
                ]
            },
        ),
        migrations.RunPython(fill_pairs, migrations.RunPython.noop, elidable=False),
    ]
