"""Checks of files to import against the HSDS 3.0 schemas, and the problems found, named."""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import jsonschema_rs

from services.hsds.openapi import open_component_schemas

# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    where: str  # the file and the record: "listings.json: contents[3] (organization 1b2c…)"
    field: str  # the field inside the record: "services[0].cost_options[1].amount"
    message: str

    def __str__(self):
        return (
            f"{self.where}: {self.field}: {self.message}"
            if self.field
            else f"{self.where}: {self.message}"
        )


@dataclass
class Report:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    created: dict = field(default_factory=lambda: defaultdict(int))
    updated: dict = field(default_factory=lambda: defaultdict(int))

    def error(self, where: str, field_path: str, message: str) -> None:
        self.errors.append(Problem(where, field_path, message))

    def warn(self, where: str, field_path: str, message: str) -> None:
        self.warnings.append(Problem(where, field_path, message))


# --------------------------------------------------------------------------- schema checks

SCHEMA_FOR = {
    "organization": "organization_full",
    "service": "service",
    "service_at_location": "service_at_location_full",
    "location": "location",
    "taxonomy": "taxonomy",
    "taxonomy_term": "taxonomy_term",
}


@cache
def _validator(kind: str) -> jsonschema_rs.Draft202012Validator:
    # jsonschema-rs, not the pure-Python jsonschema the tests use: the same Draft 2020-12
    # checks, formats included, about 400 times faster (10,000 organizations in well
    # under a second instead of 100 s).
    schemas = open_component_schemas()
    root = {"$defs": schemas, **schemas[SCHEMA_FOR[kind]]}
    # The components refer to each other as "#/components/schemas/<name>".
    return jsonschema_rs.Draft202012Validator(_rewrite_refs(root), validate_formats=True)


def _rewrite_refs(schema):
    if isinstance(schema, dict):
        return {
            key: (
                value.replace("#/components/schemas/", "#/$defs/")
                if key == "$ref"
                else _rewrite_refs(value)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rewrite_refs(item) for item in schema]
    return schema


def schema_problems(kind: str, record: dict) -> list[tuple[str, str]]:
    """(field path, message) for each way the record breaks the HSDS schema of its type."""
    found = []
    errors = sorted(
        _validator(kind).iter_errors(record), key=lambda e: list(map(str, e.instance_path))
    )
    for error in errors:
        path = _path(error.instance_path)
        owner = _nearest_id(record, list(error.instance_path))
        message = error.message if len(error.message) < 200 else error.message[:200] + "…"
        found.append((path + (f" (id {owner})" if owner else ""), message))
    return found


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the record)"


def _nearest_id(record, parts) -> str:
    found, node = "", record
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            found = node["id"]
    return found


def kind_of(record) -> str | None:
    """Which HSDS object a record of an unknown file is, from the fields it has."""
    if not isinstance(record, dict):
        return None
    keys = set(record)
    if {"version", "openapi_url"} & keys and "id" not in keys:
        return "meta"
    if {"taxonomy_detail", "taxonomy_id", "parent_id", "code", "term_uri"} & keys:
        return "taxonomy_term"
    if "location_type" in keys:
        return "location"
    if {"service_id", "location_id", "service"} & keys or (
        "location" in keys and "status" not in keys
    ):
        return "service_at_location"
    if "status" in keys or "organization_id" in keys:
        return "service"
    if "version" in keys:
        return "taxonomy"
    return "organization"
