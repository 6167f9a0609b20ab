"""Import HSDS 3.0 files: all of them or nothing.

An import runs in one transaction: it checks every record against the HSDS schemas and
the directory's rules, and writes nothing if any record is wrong, naming the file, the
record and the field. Records are matched by their UUIDs, so importing an export updates
the same listings; nothing is ever deleted. Listings are written CHUNK at a time, in bulk.
"""

import json
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from services.hsds import tabular
from services.hsds import vocabulary as vocab
from services.hsds.checks import Report, kind_of, schema_problems
from services.hsds.exporting import CHUNK, Progress, quiet
from services.hsds.reading import ListingReader, ProviderPlan
from services.hsds.terms import Terms
from services.indexing import search_index_update
from services.models import (
    Location,
    Provider,
    Qualification,
    SearchWord,
    Service,
    ServiceAtLocation,
    SupportType,
)

# --------------------------------------------------------------------------- reading files

# HSDS records nest about a dozen levels (a page, an organization, its services, their
# places, their addresses...). A file nested far deeper is not HSDS, and would exhaust
# the stack of what reads it: Python's JSON reader at about 1,000 levels, the schema
# check at a few hundred, a listing's reading sooner still.
MAX_NESTING = 64
TOO_DEEP = (
    f"nests lists and objects more than {MAX_NESTING} levels deep; HSDS files nest about a dozen"
)


@dataclass
class Record:
    where: str  # file and position
    kind: str
    data: dict


class Refused(Exception):
    """The import wrote nothing; the report says why."""

    def __init__(self, report: Report):
        super().__init__(f"{len(report.errors)} problems")
        self.report = report


def read_records(path: Path, report: Report) -> Iterator[Record]:
    """The HSDS records in a file: JSON (a page, a list, one object, or the tabular example's
    {"x.csv": rows}), a datapackage folder or .zip, or a datapackage.json beside its CSVs."""
    name = path.name
    if path.is_dir() or path.suffix == ".zip" or name == "datapackage.json":
        yield from _tabular_records(path, report)
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        report.error(name, "", f"is not JSON: {error}")
        return
    except RecursionError:
        report.error(name, "", TOO_DEEP)
        return
    if _nesting(document) > MAX_NESTING:
        report.error(name, "", TOO_DEEP)
        return
    if isinstance(document, dict) and any(key.endswith(".csv") for key in document):
        yield from _nested_records(name, tabular.tables_from_json_document(document), report)
        return
    if isinstance(document, dict) and "contents" in document:
        items, label = document["contents"], "contents"
    elif isinstance(document, list):
        items, label = document, ""
    else:
        items, label = [document], None
    if not isinstance(items, list):
        report.error(name, "contents", "is not a list")
        return
    for n, item in enumerate(items):
        where = name if label is None else f"{name}: {label}[{n}]"
        kind = kind_of(item)
        if kind is None:
            report.error(where, "", "is not an HSDS object")
            continue
        if isinstance(item.get("id"), str):
            where += f" ({kind} {item['id']})"
        yield Record(where, kind, item)


def _nesting(document) -> int:
    """How deeply lists and objects nest in a JSON document (1 for a flat list), up to
    one level past MAX_NESTING. A loop, not recursion, which a deep file would exhaust;
    about a second for a 170 MB file, a third of the time reading it takes."""
    deepest, waiting = 0, [(document, 1)] if isinstance(document, dict | list) else []
    while waiting:
        node, depth = waiting.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_NESTING:
                break
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                waiting.append((child, depth + 1))
    return deepest


def _tabular_records(path: Path, report: Report) -> Iterator[Record]:
    folder = path.parent if path.name == "datapackage.json" else path
    texts = {}
    if path.suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                texts = {
                    Path(n).name: archive.read(n).decode("utf-8")
                    for n in archive.namelist()
                    if n.endswith(".csv")
                }
        except (zipfile.BadZipFile, UnicodeDecodeError) as error:
            report.error(path.name, "", f"cannot be read: {error}")
            return
    else:
        texts = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.csv")}
    tables = {}
    for kind in tabular.TYPES:
        text = texts.get(tabular.table_name(kind))
        if text is not None:
            tables[tabular.table_name(kind)] = tabular.read_csv(text, kind)
    yield from _nested_records(path.name, tables, report)


def _nested_records(name: str, tables: dict, report: Report) -> Iterator[Record]:
    taxonomies, terms = tabular.taxonomy_rows(tables)
    for row in taxonomies:
        yield Record(f"{name}: taxonomies.csv ({row.get('id')})", "taxonomy", row)
    for row in terms:
        yield Record(f"{name}: taxonomy_terms.csv ({row.get('id')})", "taxonomy_term", row)
    for obj in tabular.nest(tables):
        kind = (
            "organization"
            if "services" in obj or "name" in obj and "status" not in obj
            else "service"
        )
        yield Record(f"{name}: {tabular.table_name(kind)} ({kind} {obj.get('id')})", kind, obj)


# --------------------------------------------------------------------------- import


@dataclass
class Tree:
    """An organization and what the file says it holds."""

    where: str
    data: dict


def hsds_import(
    paths: Iterable[Path],
    *,
    draft: bool = False,
    default_support_type: str = "",
    progress: Progress = quiet,
) -> Report:
    """Import HSDS files in one transaction. Raises Refused (nothing written) if any record is wrong."""
    report = Report()
    with transaction.atomic():
        if not SupportType.objects.exists():
            # An empty directory starts with the shipped vocabularies, whose ids are the same everywhere.
            call_command("loaddata", "taxonomies", verbosity=0)
        terms = Terms(report)
        default = None
        if default_support_type:
            default = SupportType.objects.filter(slug=default_support_type).first()
            if default is None:
                report.error(
                    "--default-support-type",
                    "",
                    f"there is no support type “{default_support_type}”",
                )
                raise Refused(report)
        # A record that breaks the schema is left out of the trees; the others are still
        # checked against the directory's rules, so that every problem is named at once.
        trees = _trees(paths, terms, report, progress)
        touched = _plan_and_write(
            trees, terms, report, draft=draft, default=default, progress=progress
        )
        if report.errors:
            raise Refused(report)
        progress(f"updating the search index of {len(touched):,} listings")
        search_index_update(touched)
    return report


def _trees(paths, terms: Terms, report: Report, progress: Progress) -> list[Tree]:
    """Every record checked against its schema, gathered into one tree per organization."""
    trees: dict[str, Tree] = {}
    seen = 0

    def tree_for(org_id: str, where: str) -> Tree:
        if org_id not in trees:
            trees[org_id] = Tree(where, {"id": org_id})
        return trees[org_id]

    def add_service(service: dict, where: str) -> None:
        org = service.get("organization")
        org_id = (org or {}).get("id") or service.get("organization_id")
        if not org_id:
            report.error(
                where,
                "organization_id",
                "a service needs its organization (organization_id or organization)",
            )
            return
        tree = tree_for(org_id, where)
        if org and "name" in org and "name" not in tree.data:
            tree.data.update({k: v for k, v in org.items() if k != "services"})
        tree.data.setdefault("services", []).append(
            {k: v for k, v in service.items() if k != "organization"}
        )

    for path in paths:
        for record in read_records(Path(path), report):
            seen += 1
            if seen % CHUNK == 0:
                progress(f"{seen:,} records checked")
            if record.kind == "meta":
                report.warn(record.where, "", "describes an API, and holds no listings")
                continue
            problems = schema_problems(record.kind, record.data)
            for field_path, message in problems:
                report.error(record.where, field_path, message)
            if problems:
                continue
            data = record.data
            if record.kind == "organization":
                tree = tree_for(data["id"], record.where)
                tree.where = record.where
                services = data.get("services", [])
                tree.data.update({k: v for k, v in data.items() if k != "services"})
                for service in services:
                    tree.data.setdefault("services", []).append(
                        dict(service, organization_id=data["id"])
                    )
            elif record.kind == "service":
                add_service(data, record.where)
            elif record.kind == "service_at_location":
                service = data.get("service")
                if not service:
                    report.warn(
                        record.where, "", "a service_at_location without its service was left out"
                    )
                    continue
                sal = {k: v for k, v in data.items() if k != "service"}
                add_service(dict(service, service_at_locations=[sal]), record.where)
            elif record.kind == "location":
                if data.get("organization_id"):
                    tree_for(data["organization_id"], record.where).data.setdefault(
                        "locations", []
                    ).append(data)
                else:
                    report.warn(
                        record.where,
                        "",
                        "a location without an organization cannot be listed and was left out",
                    )
            elif record.kind == "taxonomy":
                if data["id"] not in vocab.vocabulary_by_id():
                    report.warn(
                        record.where,
                        "",
                        f"the taxonomy “{data.get('name')}” is not one this directory uses; its terms are left out",
                    )
            elif record.kind == "taxonomy_term" and terms.find(data, record.where, "") is None:
                report.warn(
                    record.where,
                    "",
                    f"the term “{data.get('name')}” is not in a taxonomy this directory uses and was left out",
                )
    progress(f"{seen:,} records checked")
    return list(trees.values())


def _existing(trees: list[Tree]) -> dict:
    """The saved providers, locations and services a chunk of trees names, by UUID."""
    ids = {"provider": set(), "location": set(), "service": set()}
    for tree in trees:
        ids["provider"].add(tree.data["id"])
        for location in tree.data.get("locations", []):
            ids["location"].add(location["id"])
        for service in tree.data.get("services", []):
            ids["service"].add(service["id"])
            for sal in service.get("service_at_locations", []):
                location_id = sal.get("location_id") or (sal.get("location") or {}).get("id")
                if location_id:
                    ids["location"].add(location_id)
    models = {"provider": Provider, "location": Location, "service": Service}
    return {
        kind: {
            str(row.uuid): row
            for row in models[kind].objects.filter(uuid__in=[uuid.UUID(i) for i in ids[kind]])
        }
        for kind in models
    }


def _plan_and_write(trees, terms, report, *, draft, default, progress) -> list[int]:
    taken_slugs = set(Provider.objects.values_list("slug", flat=True))
    touched = []
    total = len(trees)
    for start in range(0, total, CHUNK):
        chunk = trees[start : start + CHUNK]
        existing = _existing(chunk)
        reader = ListingReader(
            report=report,
            terms=terms,
            draft=draft,
            default_support_type=default,
            existing=existing,
            taken_slugs=taken_slugs,
        )
        plans = []
        for tree in chunk:
            provider = existing["provider"].get(tree.data["id"])
            if provider is None and "name" not in tree.data:
                report.error(
                    tree.where,
                    "organization_id",
                    f"organization {tree.data['id']} is neither in the files nor in the directory",
                )
                continue
            plan = reader.plan(tree.data, tree.where, provider_row=provider)
            if plan is not None:
                plans.append(plan)
        if not report.errors:  # once anything is wrong, the rest is only checked
            try:
                with transaction.atomic():
                    touched += _write(plans, existing, report)
            except IntegrityError as error:
                report.error(
                    chunk[0].where, "", f"the files clash with what the directory holds: {error}"
                )
        progress(
            f"{min(start + CHUNK, total):,}/{total:,} organizations {'written' if not report.errors else 'checked'}"
        )
    return touched


PROVIDER_WRITE_FIELDS = [
    "kind", "name", "statement", "practising_since", "offers_free_consultation", "accepting_new_clients",
    "accepting_confirmed_on", "phone", "email", "website", "status", "last_verified", "updated_at",
]  # fmt: skip
LOCATION_WRITE_FIELDS = [
    "name", "address_line1", "address_line2", "town", "region", "postcode", "country", "address_shown",
    "latitude", "longitude", "wheelchair_access", "wheelchair_access_confirmed_by", "accessibility_notes",
    "opening_hours", "opens_evenings", "opens_weekends",
]  # fmt: skip
SERVICE_WRITE_FIELDS = [
    "support_type", "name", "description", "term", "offers_in_person", "offers_online", "offers_phone",
    "for_individuals", "for_couples", "for_families", "for_groups", "fee_min", "fee_max", "currency",
    "sliding_scale", "is_free", "accepts_insurance", "insurers", "group_weekday", "group_start_time",
    "group_end_time", "group_frequency", "group_starts_on", "group_facilitator",
]  # fmt: skip


# Every table _write() and the search index update write, for planner_statistics_update().
WRITTEN = [
    Provider,
    Provider.languages.through,
    Provider.communities.through,
    Qualification,
    Location,
    Service,
    Service.approaches.through,
    Service.concerns.through,
    Service.age_groups.through,
    Service.locations.through,
    ServiceAtLocation,
    SearchWord,
]


def _write(plans: list[ProviderPlan], existing: dict, report: Report) -> list[int]:
    """Write a chunk of plans in bulk: a few statements per table, not per listing."""
    now = timezone.now()
    providers = [p.provider for p in plans]
    for provider in providers:
        provider.updated_at = now
        if provider.status != Provider.Status.DRAFT and provider.status_changed_at is None:
            provider.status_changed_at = now
    new = [p for p in providers if p.pk is None]
    old = [p for p in providers if p.pk is not None]
    # bulk_create gives the new rows their keys on both databases (INSERT ... RETURNING).
    Provider.objects.bulk_create(new)
    Provider.objects.bulk_update(old, PROVIDER_WRITE_FIELDS + ["status_changed_at"])
    report.created["organizations"] += len(new)
    report.updated["organizations"] += len(providers) - len(new)

    locations = []
    for plan in plans:
        for location_plan in plan.locations.values():
            location_plan.location.provider_id = plan.provider.pk
            locations.append(location_plan.location)
    new_locations = [loc for loc in locations if loc.pk is None]
    old_locations = [loc for loc in locations if loc.pk is not None]
    Location.objects.bulk_create(new_locations)
    Location.objects.bulk_update(old_locations, LOCATION_WRITE_FIELDS)
    report.created["locations"] += len(new_locations)
    report.updated["locations"] += len(locations) - len(new_locations)
    location_pks = {str(loc.uuid): loc.pk for loc in locations}
    location_pks.update(
        {key: row.pk for key, row in existing["location"].items() if key not in location_pks}
    )

    services = []
    for plan in plans:
        for service_plan in plan.services:
            service_plan.service.provider_id = plan.provider.pk
            services.append(service_plan)
    new_services = [s.service for s in services if s.service.pk is None]
    old_services = [s.service for s in services if s.service.pk is not None]
    old_service_pks = [s.pk for s in old_services]
    Service.objects.bulk_create(new_services)
    Service.objects.bulk_update(old_services, SERVICE_WRITE_FIELDS)
    report.created["services"] += len(new_services)
    report.updated["services"] += len(old_service_pks)

    # Links: what the file says replaces what an updated service had; a relation the
    # file leaves out (no attributes, no service_at_locations) stays as it is.
    replace_terms = [
        s.service.pk for s in services if s.has_terms and s.service.pk in old_service_pks
    ]
    replace_places = [
        s.service.pk for s in services if s.has_places and s.service.pk in old_service_pks
    ]
    previous_sal = {
        (s, loc): u
        for s, loc, u in ServiceAtLocation.objects.filter(
            service_id__in=replace_places
        ).values_list("service_id", "location_id", "uuid")
    }
    for through in (
        Service.approaches.through,
        Service.concerns.through,
        Service.age_groups.through,
    ):
        through.objects.filter(service_id__in=replace_terms).delete()
    Service.locations.through.objects.filter(service_id__in=replace_places).delete()
    ServiceAtLocation.objects.filter(service_id__in=replace_places).delete()
    links = {"approach": [], "concern": [], "agegroup": []}
    places, sals = [], []
    for service_plan in services:
        pk = service_plan.service.pk
        if service_plan.has_terms:
            links["approach"] += [
                Service.approaches.through(service_id=pk, approach_id=t)
                for t in dict.fromkeys(service_plan.approaches)
            ]
            links["concern"] += [
                Service.concerns.through(service_id=pk, concern_id=t)
                for t in dict.fromkeys(service_plan.concerns)
            ]
            links["agegroup"] += [
                Service.age_groups.through(service_id=pk, agegroup_id=t)
                for t in dict.fromkeys(service_plan.age_groups)
            ]
        if not service_plan.has_places:
            continue
        for sal_id, location_id in dict.fromkeys(service_plan.places):
            location_pk = location_pks[location_id]
            places.append(Service.locations.through(service_id=pk, location_id=location_pk))
            given = _as_uuid(sal_id) or previous_sal.get((pk, location_pk)) or uuid.uuid4()
            sals.append(ServiceAtLocation(uuid=given, service_id=pk, location_id=location_pk))
    Service.approaches.through.objects.bulk_create(links["approach"])
    Service.concerns.through.objects.bulk_create(links["concern"])
    Service.age_groups.through.objects.bulk_create(links["agegroup"])
    Service.locations.through.objects.bulk_create(places)
    ServiceAtLocation.objects.bulk_create(sals)

    languages = [p for p in plans if p.languages is not None]
    Provider.languages.through.objects.filter(
        provider_id__in=[p.provider.pk for p in languages]
    ).delete()
    Provider.languages.through.objects.bulk_create(
        [
            Provider.languages.through(provider_id=p.provider.pk, language_id=t)
            for p in languages
            for t in dict.fromkeys(p.languages)
        ]
    )
    communities = [p for p in plans if p.communities is not None]
    Provider.communities.through.objects.filter(
        provider_id__in=[p.provider.pk for p in communities]
    ).delete()
    Provider.communities.through.objects.bulk_create(
        [
            Provider.communities.through(provider_id=p.provider.pk, community_id=t)
            for p in communities
            for t in dict.fromkeys(p.communities)
        ]
    )
    qualified = [p for p in plans if p.qualifications is not None]
    Qualification.objects.filter(provider_id__in=[p.provider.pk for p in qualified]).delete()
    for plan in qualified:
        for q in plan.qualifications:
            q.provider_id = plan.provider.pk
    Qualification.objects.bulk_create([q for p in qualified for q in p.qualifications])
    return [p.provider.pk for p in plans]


def _as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
