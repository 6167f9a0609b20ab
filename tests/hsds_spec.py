"""The HSDS 3.0 specification's own files (../shared/hsds-3.0/), as strict jsonschema validators.

Strict as the specification's validate_examples_json_schema.sh is: every object is closed
(additionalProperties: false), so a field HSDS does not define fails. Formats (uuid, uri,
email, date-time) are checked too. Without the files the tests fail in CI (CI=true) and
are skipped elsewhere, with the reason.
"""

import json
import os
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(os.environ.get("HSDS_SPEC_DIR", settings.BASE_DIR.parent / "shared" / "hsds-3.0"))


def require_spec() -> None:
    if (SPEC_DIR / "schema" / "compiled" / "service.json").exists():
        return
    message = f"The HSDS 3.0 specification files are not in {SPEC_DIR} (set HSDS_SPEC_DIR)."
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _closed(schema):
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def _load(name: str) -> dict:
    return _closed(json.loads((SPEC_DIR / "schema" / f"{name}.json").read_text()))


@cache
def _registry() -> Registry:
    """The per-object schemas by file name, for their "$ref": "phone.json" and alike."""
    return Registry().with_resources(
        (path.name, Resource.from_contents(_load(path.stem), default_specification=DRAFT202012))
        for path in (SPEC_DIR / "schema").glob("*.json")
        if path.stem != "openapi"
    )


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """name: "compiled/service", "taxonomy", ... (a file under schema/)."""
    require_spec()
    return jsonschema.Draft202012Validator(
        _load(name), registry=_registry(), format_checker=jsonschema.FormatChecker()
    )


def assert_valid(document, name: str) -> None:
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:10]
    )


PAGE_FIELDS = {
    "total_items": int,
    "total_pages": int,
    "page_number": int,
    "size": int,
    "first_page": bool,
    "last_page": bool,
    "empty": bool,
    "contents": list,
}


def assert_valid_page(document, item_schema: str) -> None:
    """The specification's paging envelope (openapi.json components/schemas/Page) around valid items."""
    assert set(document) == set(PAGE_FIELDS), sorted(document)
    for field, kind in PAGE_FIELDS.items():
        assert type(document[field]) is kind, (field, document[field])
    for item in document["contents"]:
        assert_valid(item, item_schema)


def example(name: str):
    require_spec()
    return json.loads((SPEC_DIR / "examples" / f"{name}.json").read_text())
