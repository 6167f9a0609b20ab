"""The API's own OpenAPI 3.1 document, built from the HSDS 3.0 specification's files.

The specification's openapi.json points at the compiled schemas on GitHub; this document
carries the per-object schemas (services/hsds/schema/, copied from the specification) as
components instead, each closed with additionalProperties: false as the specification's
own example check does, so a response with a field HSDS does not define breaks it.
Differences from the specification's document, on purpose:
- /service_at_locations/{id} answers a service_at_location (the specification's document
  says a compiled service there, which its own example contradicts);
- each operation also documents its 400 and 404 answers (RFC 9457 problem details), its
  `format` parameter (json only) and the ETag/304 behaviour.
"""

import copy
import json
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).parent / "schema"

# The keywords of JSON Schema kept from the specification's files (the rest are HSDS
# documentation: "core", "example", "constraints", "datapackage_metadata", ...).
_KEEP = {"type", "properties", "items", "required", "enum", "format", "$ref", "description"}


@cache
def spec_file(name: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text())


def object_names() -> list[str]:
    return sorted(path.stem for path in SCHEMA_DIR.glob("*.json") if path.stem not in ("openapi",))


def _clean(schema: dict) -> dict:
    cleaned = {key: value for key, value in schema.items() if key in _KEEP}
    if "$ref" in cleaned:
        return {"$ref": "#/components/schemas/" + cleaned["$ref"].removesuffix(".json")}
    if "properties" in cleaned:
        cleaned["properties"] = {k: _clean(v) for k, v in cleaned["properties"].items()}
        cleaned["additionalProperties"] = False
    if "items" in cleaned:
        cleaned["items"] = _clean(cleaned["items"])
    return cleaned


def _opened(schema):
    """The same schema with every object open to fields HSDS does not define."""
    if isinstance(schema, dict):
        return {k: _opened(v) for k, v in schema.items() if k != "additionalProperties"}
    if isinstance(schema, list):
        return [_opened(item) for item in schema]
    return schema


@cache
def open_component_schemas() -> dict:
    """For checking files to import: HSDS's types and required fields, extensions allowed."""
    return _opened(component_schemas())


def _scalars(name: str) -> dict:
    """An object's schema with only its own fields (what the list endpoints show)."""
    schema = _clean(spec_file(name))
    schema["properties"] = {
        key: value
        for key, value in schema["properties"].items()
        if "$ref" not in value and value.get("type") != "array"
    }
    return schema


def _with(name: str, **properties) -> dict:
    schema = _clean(spec_file(name))
    schema["properties"].update(properties)
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


@cache
def component_schemas() -> dict:
    schemas = {name: _clean(spec_file(name)) for name in object_names()}
    schemas.update(
        organization_full=_with("organization", services=_array("service")),
        service_at_location_full=_with("service_at_location", service=_ref("service")),
        organization_list_item=_scalars("organization"),
        program_list_item=_scalars("program"),
        location_list_item=_scalars("location"),
        service_list_item={
            **_scalars("service"),
            "properties": {
                **_scalars("service")["properties"],
                "organization": _ref("organization_list_item"),
                "program": _ref("program_list_item"),
            },
        },
        service_minimal=_scalars("service"),
    )
    schemas["service_at_location_list_item"] = {
        **_scalars("service_at_location"),
        "properties": {
            **_scalars("service_at_location")["properties"],
            "location": _ref("location_list_item"),
            "service": _ref("service_list_item"),
        },
    }
    schemas["Page"] = {
        "type": "object",
        "required": [
            "total_items",
            "total_pages",
            "page_number",
            "size",
            "first_page",
            "last_page",
            "empty",
            "contents",
        ],
        "properties": {
            "total_items": {"type": "integer", "minimum": 0},
            "total_pages": {"type": "integer", "minimum": 0},
            "page_number": {"type": "integer", "minimum": 1},
            "size": {"type": "integer", "minimum": 1},
            "first_page": {"type": "boolean"},
            "last_page": {"type": "boolean"},
            "empty": {"type": "boolean"},
            "contents": {"type": "array"},
        },
        "additionalProperties": False,
    }
    schemas["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "parameter": {"type": "string"},
        },
        "additionalProperties": False,
    }
    schemas["Meta"] = {
        "type": "object",
        "required": ["version", "openapi_url"],
        "properties": {
            "version": {"type": "string"},
            "profile": {"type": "string", "format": "uri"},
            "openapi_url": {"type": "string", "format": "uri"},
        },
        "additionalProperties": False,
    }
    return schemas


def _page_of(*item_schemas: dict) -> dict:
    """The specification's Page envelope (closed, each field required) around these items."""
    items = item_schemas[0] if len(item_schemas) == 1 else {"anyOf": list(item_schemas)}
    page = copy.deepcopy(component_schemas()["Page"])
    page["properties"]["contents"] = {"type": "array", "items": items}
    return page


def _query(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PARAMETERS = {
    "search": _query(
        "search",
        "Words to look for in the listings (no control characters, at most 200).",
        {
            "type": "string",
            "maxLength": 200,
            "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$",
        },
    ),
    "page": _query(
        "page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 1_000_000_000}
    ),
    "per_page": _query(
        "per_page",
        "Results a page, 1 to 500 (default 50).",
        {"type": "integer", "minimum": 1, "maximum": 500},
    ),
    "format": _query("format", "Only `json`.", {"type": "string", "enum": ["json"]}),
    "taxonomy_term_id": _query(
        "taxonomy_term_id",
        "Only services with this taxonomy term.",
        {"type": "string", "format": "uuid"},
    ),
    "taxonomy_id": _query(
        "taxonomy_id",
        "Only services with any term of this taxonomy.",
        {"type": "string", "format": "uuid"},
    ),
    "organization_id": _query(
        "organization_id",
        "Only this organization's services.",
        {"type": "string", "format": "uuid"},
    ),
    "modified_after": _query(
        "modified_after",
        "Only listings changed at or after this ISO 8601 date or date-time.",
        {"type": "string", "format": "date-time"},
    ),
    "minimal": _query(
        "minimal", "Only each service's id, name, status and last_modified.", {"type": "boolean"}
    ),
    "full": _query("full", "Fully nested objects.", {"type": "boolean"}),
    "full_service": _query(
        "full_service", "Organizations with fully nested services.", {"type": "boolean"}
    ),
    "postcode": _query(
        "postcode",
        "A UK postcode: services in its district, or with proximity within that distance of it.",
        {"type": "string", "pattern": "^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?([0-9][A-Za-z]{2})?$"},
    ),
    "proximity": _query(
        "proximity",
        "Metres from the postcode (1 to 1,000,000), measured to within about a kilometre; ignored without a postcode.",
        {"type": "string", "pattern": "^[1-9][0-9]{0,5}$|^1000000$"},
    ),
    "top_only": _query(
        "top_only", "Only terms without a parent (all of them here).", {"type": "boolean"}
    ),
    "parent_id": _query(
        "parent_id", "Only children of this term (none here).", {"type": "string", "format": "uuid"}
    ),
}


def _operation(
    operation_id: str, summary: str, schema: dict, parameters=(), *, detail=False
) -> dict:
    problem = {"application/problem+json": {"schema": _ref("Problem")}}
    responses = {
        "200": {
            "description": summary,
            "headers": {"ETag": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": schema}},
        },
        "304": {"description": "Not modified since the ETag or date the client sent."},
        "400": {"description": "A query parameter is not valid.", "content": problem},
    }
    if detail:
        responses["404"] = {"description": "No published object has that id.", "content": problem}
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [PARAMETERS[name] for name in parameters],
            "responses": responses,
        }
    }


def _detail_path(operation_id: str, summary: str, schema: dict, parameters=()) -> dict:
    path = _operation(operation_id, summary, schema, parameters, detail=True)
    path["parameters"] = [
        {
            "in": "path",
            "name": "id",
            "required": True,
            "description": "The object's id (a UUID).",
            "schema": {"type": "string"},
        }
    ]
    return path


LISTING_FILTERS = ["search", "taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after"]
PAGING = ["page", "per_page", "format"]


@cache
def _document_template() -> dict:
    paths = {
        "/": _operation(
            "getAPIMetaInformation", "About this API and its relation to HSDS.", _ref("Meta")
        ),
        "/services": _operation(
            "getPaginatedListOfServices",
            "A page of published services.",
            _page_of(_ref("service_list_item"), _ref("service"), _ref("service_minimal")),
            [*LISTING_FILTERS, *PAGING, "minimal", "full"],
        ),
        "/services/{id}": _detail_path(
            "getFullyNestedServiceById", "A fully nested service.", _ref("service")
        ),
        "/organizations": _operation(
            "getPaginatedListOfOrganizations",
            "A page of published organizations.",
            _page_of(_ref("organization_list_item"), _ref("organization_full")),
            ["search", "full", "full_service", *PAGING],
        ),
        "/organizations/{id}": _detail_path(
            "getOrganizationById",
            "A fully nested organization.",
            _ref("organization_full"),
            ["full_service"],
        ),
        "/service_at_locations": _operation(
            "getPaginatedListOfServiceAtLocation",
            "A page of published services at their locations.",
            _page_of(_ref("service_at_location_list_item"), _ref("service_at_location_full")),
            [*LISTING_FILTERS, "full", *PAGING, "postcode", "proximity"],
        ),
        "/service_at_locations/{id}": _detail_path(
            "getServiceAtLocationWithNestedDataById",
            "A fully nested service at a location.",
            _ref("service_at_location_full"),
        ),
        "/taxonomies": _operation(
            "getPaginatedListOfTaxonomies",
            "The directory's taxonomies.",
            _page_of(_ref("taxonomy")),
            ["search", *PAGING],
        ),
        "/taxonomies/{id}": _detail_path("getTaxonomyById", "A taxonomy.", _ref("taxonomy")),
        "/taxonomy_terms": _operation(
            "getPaginatedListOfTaxonomyTerms",
            "The terms of the directory's taxonomies.",
            _page_of(_ref("taxonomy_term")),
            ["search", "taxonomy_id", "top_only", "parent_id", *PAGING],
        ),
        "/taxonomy_terms/{id}": _detail_path(
            "getTaxonomyTermById", "A taxonomy term.", _ref("taxonomy_term")
        ),
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Therapy directory: HSDS 3.0 API",
            "version": "1.0.0",
            "summary": "Published listings of therapeutic support, read-only, in Open Referral HSDS 3.0.",
            "description": (
                "Published providers (organizations), their services and locations, and the "
                "directory's vocabularies (support types, approaches, concerns, languages, "
                "communities, age groups, listing features) as taxonomy terms. Answers carry "
                "an ETag; ask again with If-None-Match for a 304 when nothing changed."
            ),
            "license": {"name": "HSDS schemas: CC BY-SA 4.0", "identifier": "CC-BY-SA-4.0"},
        },
        "paths": paths,
        "components": {"schemas": copy.deepcopy(component_schemas())},
    }


def document(server_url: str) -> dict:
    """The OpenAPI document, with this server's address."""
    data = copy.deepcopy(_document_template())
    data["servers"] = [{"url": server_url.rstrip("/")}]
    return data
