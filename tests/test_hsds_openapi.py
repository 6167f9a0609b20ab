"""The API's own OpenAPI document, and schemathesis run against the app with it.

schemathesis generates requests for every operation from the document (a bounded number
of examples each) and checks each answer: no server error, a documented status and
content type, and a body that matches the schema (HSDS's objects, closed).
"""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hsds_spec import SPEC_DIR, require_spec
from hypothesis import HealthCheck, settings

from services.hsds import openapi

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 30


def test_the_schemas_are_the_specifications_own(tmp_path):
    require_spec()
    for path in (SPEC_DIR / "schema").glob("*.json"):
        copy = openapi.SCHEMA_DIR / path.name
        assert copy.read_bytes() == path.read_bytes(), f"{copy} differs from {path}"


def test_the_document_is_served_with_every_specification_path(client):
    document = client.get("/api/hsds/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://testserver/api/hsds"}]
    require_spec()
    spec = json.loads((SPEC_DIR / "schema" / "openapi.json").read_text())
    assert set(document["paths"]) == set(spec["paths"])
    for path, item in spec["paths"].items():
        ours = {p["name"] for p in document["paths"][path]["get"]["parameters"]}
        theirs = {
            p.get("name") or p["$ref"].rsplit("/", 1)[1] for p in item["get"].get("parameters", [])
        }
        assert theirs <= ours, (path, theirs - ours)


def test_every_component_is_closed():
    def walk(schema, where):
        if isinstance(schema, dict):
            if "properties" in schema and "allOf" not in schema:
                assert schema.get("additionalProperties") is False, where
            for key, value in schema.items():
                walk(value, f"{where}/{key}")
        elif isinstance(schema, list):
            for n, value in enumerate(schema):
                walk(value, f"{where}/{n}")

    walk(openapi.component_schemas(), "components")


schema = schemathesis.openapi.from_wsgi("/api/hsds/openapi.json", get_wsgi_application())


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django's WSGI handler closes the database connection after each request, which
    would end the test's transaction on PostgreSQL; the test client does the same as this."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def published(make_listing, days_ago, wsgi_keeps_the_test_connection):
    """Listings for the generated requests to find: a full address, a town-only one, a group."""
    make_listing(
        "Generated Requests Practice",
        languages=["english", "welsh"],
        places=[
            {"town": "Leeds", "latitude": 53.8, "longitude": -1.55, "address_shown": "full"},
            ("York", 53.96, -1.08),
        ],
        services=[
            {"concerns": ["grief"], "approaches": ["cbt"], "age_groups": ["adults"], "fee_min": 30},
            {
                "type": "support-groups",
                "formats": ["online"],
                "is_free": True,
                "group_weekday": 2,
                "group_frequency": "fortnightly",
            },
        ],
        licence_verified_on=days_ago(3),
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_document(case, published):
    case.call_and_validate()
