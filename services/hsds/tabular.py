"""HSDS's tabular form: nested objects to one CSV table per object type (a datapackage), and back.

The per-object schemas say everything needed: each type's table ("path"), its columns
(the scalar properties, in order) and how a child points at its parent (the child's
`<parent>_id`, an attribute's `link_id`, or the parent's `<child>_id` for a single
nested object such as a service_at_location's location).
"""

import csv
import io
import json
from collections import defaultdict

from services.hsds.openapi import spec_file
from services.listing_csv.cells import cell_in, cell_out

# The object types the directory writes and reads, parents before children.
TYPES = [
    "taxonomy",
    "taxonomy_term",
    "organization",
    "service",
    "location",
    "service_at_location",
    "address",
    "phone",
    "schedule",
    "language",
    "accessibility",
    "cost_option",
    "attribute",
]
# Nested objects that are not in the per-object schemas: an organization's services and
# a service_at_location's service (the specification's compiled schemas add them).
EXTRA_CHILDREN = {
    ("organization", "services"): "service",
    ("service_at_location", "service"): "service",
}


def table_name(kind: str) -> str:
    return spec_file(kind)["path"]


def columns(kind: str) -> list[str]:
    return [
        name
        for name, prop in spec_file(kind)["properties"].items()
        if "$ref" not in prop and prop.get("type") != "array"
    ]


def children(kind: str) -> dict[str, tuple[str, bool]]:
    """{property: (child type, is a list)} for the nested objects of a type."""
    found = {}
    for name, prop in spec_file(kind)["properties"].items():
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if ref and ref.removesuffix(".json") in TYPES:
            found[name] = (ref.removesuffix(".json"), prop.get("type") == "array")
    for (parent, name), child in EXTRA_CHILDREN.items():
        if parent == kind:
            found[name] = (child, name.endswith("s"))
    return found


def _link(parent_kind: str, child_kind: str) -> str:
    """How a child row names its parent: "child" (child.<parent>_id), "attribute" or "parent"."""
    if child_kind == "attribute":
        return "attribute"
    if f"{parent_kind}_id" in spec_file(child_kind)["properties"]:
        return "child"
    return "parent"


def _parent_key(parent_kind: str, child_kind: str, prop: str) -> str:
    # taxonomy_term.taxonomy_detail is the one nested object whose key is not its own name.
    return "taxonomy_id" if prop == "taxonomy_detail" else f"{child_kind}_id"


# --------------------------------------------------------------------------- nested -> tables


class Tables:
    """Rows by table, each object once (the same location under two services is one row)."""

    def __init__(self):
        self.rows: dict[str, dict[str, dict]] = defaultdict(dict)

    def add(self, kind: str, obj: dict, parent: tuple[str, dict] | None = None) -> None:
        row = {name: obj[name] for name in columns(kind) if name in obj}
        if parent is not None:
            parent_kind, parent_obj = parent
            how = _link(parent_kind, kind)
            if how == "child":
                row.setdefault(f"{parent_kind}_id", parent_obj["id"])
            elif how == "attribute":
                row.setdefault("link_id", parent_obj["id"])
                row.setdefault("link_entity", parent_kind)
        for prop, (child_kind, many) in children(kind).items():
            if prop not in obj:
                continue
            for child in obj[prop] if many else [obj[prop]]:
                if not many and _link(kind, child_kind) == "parent":
                    row.setdefault(_parent_key(kind, child_kind, prop), child["id"])
                self.add(child_kind, child, (kind, obj))
        table = self.rows[table_name(kind)]
        table[row["id"]] = {**table.get(row["id"], {}), **row}

    def write_csv(self) -> dict[str, str]:
        """{file name: CSV text} for every type, empty tables included (with their header)."""
        files = {}
        for kind in TYPES:
            name = table_name(kind)
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=columns(kind), lineterminator="\n")
            writer.writeheader()
            for row in self.rows.get(name, {}).values():
                writer.writerow({key: _cell(value) for key, value in row.items()})
            files[name] = out.getvalue()
        return files


class CsvTables:
    """CSV files written a chunk of Tables at a time, each object once."""

    def __init__(self, files: dict[str, io.StringIO]):
        self.writers = {}
        self.written: dict[str, set] = defaultdict(set)
        for kind in TYPES:
            name = table_name(kind)
            writer = csv.DictWriter(files[name], fieldnames=columns(kind), lineterminator="\n")
            writer.writeheader()
            self.writers[name] = writer

    def write(self, tables: Tables, *, keep: set[str] = frozenset()) -> None:
        """Write the tables' rows; ids of the `keep` types are remembered across chunks
        (the same taxonomy terms turn up in every chunk)."""
        remembered = {table_name(kind) for kind in keep}
        for name, rows in tables.rows.items():
            seen = self.written[name]
            for row_id, row in rows.items():
                if name in remembered and row_id in seen:
                    continue
                if name in remembered:
                    seen.add(row_id)
                self.writers[name].writerow({key: _cell(value) for key, value in row.items()})


def _cell(value) -> str:
    """A value as a CSV cell; a text a spreadsheet would run as a formula gets a ' in front,
    which read_csv() takes off again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return cell_out(value) if isinstance(value, str) else str(value)


def datapackage() -> dict:
    """The Frictionless Data Package that describes the CSV files."""
    resources = []
    for kind in TYPES:
        schema = spec_file(kind)
        fields = []
        for name in columns(kind):
            prop = schema["properties"][name]
            field = {
                "name": name,
                "type": prop.get("datapackage_type") or prop.get("type", "string"),
            }
            if prop.get("format") in ("uuid", "email", "uri"):
                field["format"] = prop["format"]
            if name in schema.get("required", []) or name in schema.get("tabular_required", []):
                field["constraints"] = {"required": True}
            fields.append(field)
        resources.append(
            {
                "name": schema["name"],
                "path": schema["path"],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, "primaryKey": "id"},
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": "hsds-listings",
        "title": "Therapy directory listings (Open Referral HSDS 3.0)",
        "resources": resources,
    }


# --------------------------------------------------------------------------- tables -> nested


def read_csv(text: str, kind: str) -> list[dict]:
    """Rows of a CSV table as HSDS values: empty cells left out, numbers as numbers."""
    schema = spec_file(kind)
    props = schema["properties"]
    # A cell cannot tell an empty text from a missing one: a required text is empty.
    required_text = {
        name for name in schema.get("required", []) if props.get(name, {}).get("type") == "string"
    }
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row = {}
        for name, value in raw.items():
            if name is None or value is None or (value == "" and name not in required_text):
                continue
            row[name] = _typed(cell_in(value), props.get(name, {}).get("type"))
        rows.append(row)
    return rows


def _typed(value: str, kind: str | None):
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return value  # left as it is, for the schema check to name
        return int(number) if number.is_integer() and "." not in value else number
    return value


def nest(tables: dict[str, list[dict]]) -> list[dict]:
    """Organizations with their services, locations and parts, from rows by table name.

    `tables` maps a table file name ("services.csv") to its rows. Services whose
    organization is not in the tables come back on their own.
    """
    by_kind = {kind: tables.get(table_name(kind), []) for kind in TYPES}
    index = {
        kind: {row["id"]: row for row in rows if "id" in row} for kind, rows in by_kind.items()
    }
    pointing = defaultdict(lambda: defaultdict(list))  # kind -> (key, value) -> rows
    for kind, rows in by_kind.items():
        for row in rows:
            for key in (
                "organization_id",
                "service_id",
                "location_id",
                "service_at_location_id",
                "phone_id",
                "link_id",
            ):
                if key in row:
                    pointing[kind][(key, row[key])].append(row)

    def build(kind: str, row: dict, seen: frozenset) -> dict:
        obj = dict(row)
        for prop, (child_kind, many) in children(kind).items():
            if (kind, prop) == ("service_at_location", "service") or child_kind in seen:
                continue  # reached from its service already
            how = _link(kind, child_kind)
            if how == "parent" and not many:
                found = index[child_kind].get(row.get(_parent_key(kind, child_kind, prop)))
                if found is not None:
                    obj[prop] = build(child_kind, found, seen | {kind})
                continue
            key = "link_id" if how == "attribute" else f"{kind}_id"
            rows = pointing[child_kind].get((key, row["id"]), [])
            if how == "attribute":
                rows = [r for r in rows if r.get("link_entity", kind) == kind]
            if rows:
                built = [build(child_kind, r, seen | {kind}) for r in rows]
                obj[prop] = built if many else built[0]
        return obj

    organizations = [build("organization", row, frozenset()) for row in by_kind["organization"]]
    known = set(index["organization"])
    loose = [
        build("service", row, frozenset())
        for row in by_kind["service"]
        if row.get("organization_id") not in known
    ]
    return organizations + loose


def taxonomy_rows(tables: dict[str, list[dict]]) -> tuple[list[dict], list[dict]]:
    return tables.get(table_name("taxonomy"), []), tables.get(table_name("taxonomy_term"), [])


def tables_from_json_document(document: dict) -> dict[str, list[dict]]:
    """HSDS's tabular example as JSON ({"services.csv": [rows], ...}): read as the CSV
    files would be, so a cell's type is its column's ("10092008082" in a text column)."""
    kinds = {table_name(kind): kind for kind in TYPES}
    tables = {}
    for name, rows in document.items():
        if name in kinds and isinstance(rows, list):
            out = io.StringIO()
            kind = kinds[name]
            writer = csv.DictWriter(out, fieldnames=columns(kind), extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                if isinstance(row, dict):
                    writer.writerow({key: _cell(value) for key, value in row.items()})
            tables[name] = read_csv(out.getvalue(), kind)
    return tables


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
