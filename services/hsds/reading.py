"""HSDS 3.0 objects back into listings: checked against the schemas, then turned into
unsaved Provider, Location and Service rows ("plans") with every problem named.

This reads what services/hsds/objects.py writes exactly (so an export imports back to
the same listings), and reads other directories' HSDS as far as the directory's model
holds it: what it cannot hold is left out with a warning, what is wrong is an error
naming the file, the record and the field.
"""

import datetime
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

import jsonschema
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import slugify
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services.hsds import objects as out
from services.hsds import vocabulary as vocab
from services.hsds.openapi import open_component_schemas
from services.models import (
    EARLIEST_YEAR,
    Language,
    Location,
    Provider,
    Qualification,
    Service,
    SupportType,
)

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
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schemas = open_component_schemas()
    registry = Registry().with_resources(
        (
            f"#/components/schemas/{name}",
            Resource.from_contents(schema, default_specification=DRAFT202012),
        )
        for name, schema in schemas.items()
    )
    root = {"$defs": schemas, **schemas[SCHEMA_FOR[kind]]}
    # The components refer to each other as "#/components/schemas/<name>".
    root = _rewrite_refs(root)
    return jsonschema.Draft202012Validator(
        root, registry=registry, format_checker=jsonschema.FormatChecker()
    )


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
    for error in sorted(_validator(kind).iter_errors(record), key=lambda e: list(e.absolute_path)):
        path = _path(error.absolute_path)
        owner = _nearest_id(record, list(error.absolute_path))
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


# --------------------------------------------------------------------------- plans


@dataclass
class LocationPlan:
    location: Location
    where: str


@dataclass
class ServicePlan:
    service: Service
    where: str
    approaches: list = field(default_factory=list)
    concerns: list = field(default_factory=list)
    age_groups: list = field(default_factory=list)
    places: list[tuple[str | None, str]] = field(default_factory=list)  # (sal uuid, location uuid)
    languages: list = field(default_factory=list)  # the provider's, as the service's attributes say
    # What the file gives: a relation it leaves out stays as it is on a saved service.
    has_terms: bool = True
    has_places: bool = True


@dataclass
class ProviderPlan:
    provider: Provider
    where: str
    status: str
    exists: bool
    has_details: bool  # the file gave the organization itself, not only its id
    languages: list | None = None  # None: leave them as they are
    communities: list | None = None
    qualifications: list[Qualification] | None = None
    locations: dict[str, LocationPlan] = field(default_factory=dict)
    read_locations: set[str] = field(default_factory=set)
    services: list[ServicePlan] = field(default_factory=list)


# --------------------------------------------------------------------------- terms


class Terms:
    """The directory's vocabularies by id and code, and the terms a file adds to them."""

    def __init__(self, report: Report):
        self.report = report
        self.by_id: dict[str, vocab.TermRef] = {}
        self.by_code: dict[tuple[str, str], vocab.TermRef] = {}
        for ref in vocab.all_terms():
            self._know(ref)

    def _know(self, ref: vocab.TermRef) -> None:
        term = ref.term
        term_id = term.id if isinstance(term, vocab.Feature) else str(term.uuid)
        code = term.code if isinstance(term, vocab.Feature) else term.slug
        self.by_id[term_id] = ref
        self.by_code[(ref.vocabulary.key, code)] = ref

    def find(self, term_data: dict, where: str, path: str) -> vocab.TermRef | None:
        """The directory's term for an HSDS taxonomy_term (by id, then by taxonomy and code),
        adding it to the vocabulary when the file brings a new one."""
        term_id = term_data.get("id") or term_data.get("taxonomy_term_id")
        if term_id in self.by_id:
            return self.by_id[term_id]
        vocabulary = vocab.vocabulary_by_id().get(term_data.get("taxonomy_id", ""))
        if vocabulary is None:
            return None
        code = term_data.get("code") or slugify(term_data.get("name", ""))
        ref = self.by_code.get((vocabulary.key, code))
        if ref is not None or vocabulary.model is None or not term_data.get("name"):
            return ref
        return self._add(vocabulary, term_id, code, term_data, where, path)

    def _add(self, vocabulary, term_id, code, data, where, path) -> vocab.TermRef | None:
        model = vocabulary.model
        if model in (Language,) or vocabulary is vocab.AGE_GROUPS:
            # A language needs its ISO code, an age group its ages: they come from services.
            self.report.warn(
                where,
                path,
                f"the {vocabulary.name.lower()} term “{data['name']}” is not in this directory and was left out",
            )
            return None
        term = model(
            name=data["name"][:100],
            slug=slugify(code)[:100],
            description=data.get("description", ""),
        )
        try:
            term.uuid = uuid.UUID(term_id) if term_id else uuid.uuid4()
        except ValueError:
            term.uuid = uuid.uuid4()
        try:
            term.full_clean()
        except ValidationError as error:
            self.report.error(
                where,
                path,
                f"the new term “{data['name']}” cannot be added: {' '.join(error.messages)}",
            )
            return None
        term.save()
        self.report.created[vocabulary.name] += 1
        ref = vocab.TermRef(vocabulary, term)
        self._know(ref)
        return ref

    def language(self, data: dict, where: str, path: str):
        """The directory's language for an HSDS language object (by code, then by name)."""
        code, name = (data.get("code") or "").strip().lower(), (data.get("name") or "").strip()
        for ref in self.by_id.values():
            if ref.vocabulary is vocab.LANGUAGES and (
                (code and ref.term.code.lower() == code)
                or (name and ref.term.name.lower() == name.lower())
            ):
                return ref.term
        if not (code and name):
            self.report.warn(where, path, "a language without both a name and a code was left out")
            return None
        term = Language(name=name[:100], slug=slugify(name)[:100], code=code[:12])
        try:
            term.full_clean()
        except ValidationError as error:
            self.report.error(
                where, path, f"the language “{name}” cannot be added: {' '.join(error.messages)}"
            )
            return None
        term.save()
        self.report.created["Languages"] += 1
        self._know(vocab.TermRef(vocab.LANGUAGES, term))
        return term


# --------------------------------------------------------------------------- reading a listing


def _text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _date(value, where, path, report) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        report.error(where, path, f"{value!r} is not a date (YYYY-MM-DD)")
        return None


def _time(value, where, path, report) -> datetime.time | None:
    if not value:
        return None
    try:
        return datetime.time.fromisoformat(str(value))
    except ValueError:
        report.error(where, path, f"{value!r} is not a time (HH:MM or HH:MM:SS)")
        return None


def _model_errors(error: ValidationError, fields: dict[str, str]) -> list[tuple[str, str]]:
    """A model's validation errors as (HSDS field, message)."""
    if not hasattr(error, "error_dict"):
        return [("", message) for message in error.messages]
    return [
        (fields.get(name, name), message)
        for name, errors in error.error_dict.items()
        for message in ValidationError(errors).messages
    ]


PROVIDER_FIELDS = {
    "name": "name",
    "statement": "description",
    "email": "email",
    "website": "website",
    "phone": "phones[0].number",
    "practising_since": "year_incorporated",
    "accepting_confirmed_on": "attributes (accepting-new-clients)",
}
LOCATION_FIELDS = {
    "name": "name",
    "address_line1": "addresses[0].address_1",
    "address_line2": "addresses[0].address_2",
    "town": "addresses[0].city",
    "region": "addresses[0].state_province",
    "postcode": "addresses[0].postal_code",
    "country": "addresses[0].country",
    "accessibility_notes": "accessibility[0].details",
    "opening_hours": "schedules[0].description",
}
SERVICE_FIELDS = {
    "name": "name",
    "fee_min": "cost_options",
    "fee_max": "cost_options",
    "currency": "cost_options[0].currency",
    "is_free": "cost_options",
    "offers_in_person": "attributes (in-person, online, phone)",
    "insurers": "attributes (accepts-insurance)",
    "group_weekday": "schedules[0].byday",
    "group_frequency": "schedules[0].freq",
    "group_start_time": "schedules[0].opens_at",
    "group_end_time": "schedules[0].closes_at",
    "group_facilitator": "schedules[0].notes",
    "group_starts_on": "schedules[0].dtstart",
}
HSDS_STATUS = {value: key for key, value in out.STATUS.items()}
WHEELCHAIR_LABELS = {label.lower(): value for value, label in Location.WheelchairAccess.choices}
CONFIRMED_LABELS = {label.lower(): value for value, label in Location.ConfirmedBy.choices}
_WHEELCHAIR = re.compile(
    rf"^{out.WHEELCHAIR}: (?P<access>[^.]+)\.(?: Confirmed by: (?P<by>.+)\.)?$"
)
_BYDAY = re.compile(r"^(?P<week>[1-5])?(?P<day>MO|TU|WE|TH|FR|SA|SU)$")
_KIND_BY_PREFIX = {prefix: kind for kind, prefix in out.KIND_PREFIX.items()}


class ListingReader:
    """Turns organization trees (an organization, its services and places) into plans."""

    def __init__(
        self,
        *,
        report: Report,
        terms: Terms,
        draft: bool,
        default_support_type: SupportType | None,
        existing: dict,
        taken_slugs: set[str],
    ):
        self.report = report
        self.terms = terms
        self.draft = draft
        self.default_support_type = default_support_type
        self.support_types = list(SupportType.objects.all())
        self.existing = existing  # {"provider"|"location"|"service": {uuid str: model row}}
        self.taken_slugs = taken_slugs

    # ----- attributes

    def _attributes(self, obj: dict, where: str, path: str) -> list[tuple[vocab.TermRef, str, str]]:
        found = []
        for n, attribute in enumerate(obj.get("attributes", [])):
            term_data = dict(attribute.get("taxonomy_term") or {})
            term_data.setdefault("id", attribute.get("taxonomy_term_id"))
            ref = self.terms.find(term_data, where, f"{path}attributes[{n}]")
            if ref is None:
                self.report.warn(
                    where,
                    f"{path}attributes[{n}]",
                    "a term of a taxonomy this directory does not use was left out",
                )
                continue
            found.append((ref, attribute.get("value", ""), f"{path}attributes[{n}]"))
        return found

    @staticmethod
    def _uses_features(attributes) -> bool:
        return any(ref.vocabulary is vocab.FEATURES for ref, _v, _p in attributes)

    @staticmethod
    def _features(attributes, owner: str) -> dict[str, tuple[bool, str]]:
        return {
            ref.term.code: (True, value)
            for ref, value, _p in attributes
            if ref.vocabulary is vocab.FEATURES and ref.term.owner == owner
        }

    # ----- organization

    def plan(self, org: dict, where: str, *, provider_row: Provider | None) -> ProviderPlan | None:
        """An organization tree: org fields (if `has_details`), services, locations."""
        errors_before = len(self.report.errors)
        org_id = org["id"]
        existing = provider_row or self.existing["provider"].get(org_id)
        has_details = "name" in org
        provider = existing or Provider(uuid=uuid.UUID(org_id))
        attributes = self._attributes(org, where, "") if has_details else []
        if has_details:
            self._read_organization(
                provider, org, attributes, where, ours=_uses_listing_features(org)
            )
        services = org.get("services", [])
        plan = ProviderPlan(
            provider=provider,
            where=where,
            status=provider.status if existing else Provider.Status.DRAFT,
            exists=existing is not None,
            has_details=has_details,
        )
        if has_details and ("attributes" in org or not existing):
            plan.communities = [
                ref.term.pk for ref, _v, _p in attributes if ref.vocabulary is vocab.COMMUNITIES
            ]
        for n, location in enumerate(org.get("locations", [])):
            self._read_location(plan, location, where, f"locations[{n}].")
        languages, qualifications, verified = {}, {}, []
        statuses = []
        for n, service_data in enumerate(services):
            path = f"services[{n}]."
            for sal_n, sal in enumerate(service_data.get("service_at_locations", [])):
                if "location" in sal:
                    self._read_location(
                        plan,
                        sal["location"],
                        where,
                        f"{path}service_at_locations[{sal_n}].location.",
                    )
            service_plan = self._read_service(plan, service_data, where, path)
            if service_plan is None:
                continue
            plan.services.append(service_plan)
            statuses.append(service_data.get("status"))
            for lang_n, language in enumerate(service_data.get("languages", [])):
                term = self.terms.language(language, where, f"{path}languages[{lang_n}]")
                if term is not None:
                    languages[term.pk] = term
            for term in service_plan.languages:
                languages[term.pk] = term
            for field_name, licences in (("licenses", True), ("accreditations", False)):
                for line in (service_data.get(field_name) or "").splitlines():
                    if line.strip():
                        qualifications.setdefault(line.strip(), (licences, f"{path}{field_name}"))
            if service_data.get("assured_date"):
                day = _date(service_data["assured_date"], where, f"{path}assured_date", self.report)
                if day:
                    verified.append(day)
            if not provider.phone:
                for phone in service_data.get("phones", []):
                    provider.phone = _text(phone.get("number"))
                    break
            if not provider.email and service_data.get("email"):
                provider.email = service_data["email"]
            if not provider.website and service_data.get("url"):
                provider.website = service_data["url"]
        # A whole organization in the file says what it holds; services alone only add to it.
        if (has_details and services) or languages:
            plan.languages = list(languages)
        if (has_details and services) or qualifications:
            plan.qualifications = [
                q
                for text, (licences, path) in qualifications.items()
                if (q := self._qualification(text, licences, where, path)) is not None
            ]
        if verified:
            provider.last_verified = max(verified)
        if has_details or not existing:
            plan.status = self._status(statuses, existing)
        if not provider.slug:
            provider.slug = self._slug(provider.name)
        self._check_provider(plan)
        return plan if len(self.report.errors) == errors_before else None

    def _read_organization(
        self, provider: Provider, org: dict, attributes, where: str, *, ours: bool
    ) -> None:
        provider.name = _text(org.get("name"))
        provider.statement = (org.get("description") or "").strip()
        # What the file leaves out stays as it is.
        if "email" in org:
            provider.email = org["email"] or ""
        if "website" in org:
            provider.website = org["website"] or ""
        if "phones" in org:
            phones = org["phones"]
            provider.phone = _text(phones[0].get("number")) if phones else ""
        year = org.get("year_incorporated")
        if "year_incorporated" in org:
            provider.practising_since = None
        if year is not None:
            if isinstance(year, float) and not year.is_integer():
                self.report.error(where, "year_incorporated", f"{year} is not a year")
            elif EARLIEST_YEAR <= int(year) <= timezone.localdate().year:
                provider.practising_since = int(year)
            else:
                self.report.warn(
                    where,
                    "year_incorporated",
                    f"{int(year)} was left out: the directory counts experience from {EARLIEST_YEAR}",
                )
        if "attributes" not in org and provider.pk:
            return
        features = self._features(attributes, "organization")
        if ours:
            provider.kind = (
                Provider.Kind.ORGANISATION
                if "organisation" in features
                else Provider.Kind.INDIVIDUAL
            )
            provider.offers_free_consultation = "free-first-consultation" in features
            provider.accepting_new_clients = "accepting-new-clients" in features
            _, confirmed = features.get("accepting-new-clients", (False, ""))
            provider.accepting_confirmed_on = _date(
                confirmed, where, "attributes (accepting-new-clients).value", self.report
            )
        else:
            # Another directory's organization: not a practitioner, and whether it takes
            # new clients is not known, so it is not claimed.
            provider.kind = Provider.Kind.ORGANISATION
            provider.offers_free_consultation = False
            provider.accepting_new_clients = False
            provider.accepting_confirmed_on = None

    def _status(self, statuses: list, existing: Provider | None) -> str:
        if self.draft and existing is None:
            return Provider.Status.DRAFT
        mapped = [HSDS_STATUS.get(s) for s in statuses]
        if Provider.Status.PUBLISHED in mapped:
            return Provider.Status.PUBLISHED
        if mapped and all(s == Provider.Status.ARCHIVED for s in mapped):
            return Provider.Status.ARCHIVED
        return Provider.Status.DRAFT

    def _slug(self, name: str) -> str:
        base = slugify(name)[:200] or "listing"
        slug, n = base, 1
        while slug in self.taken_slugs:
            n += 1
            slug = f"{base}-{n}"
        self.taken_slugs.add(slug)
        return slug

    def _qualification(
        self, line: str, licence: bool, where: str, path: str
    ) -> Qualification | None:
        parts = line.split(out.SEPARATOR)
        title = parts[0]
        kind = Qualification.Kind.LICENCE if licence else Qualification.Kind.CERTIFICATION
        for prefix, prefixed_kind in _KIND_BY_PREFIX.items():
            if not licence and title.startswith(prefix):
                kind, title = prefixed_kind, title.removeprefix(prefix)
        q = Qualification(kind=kind, title=title.strip())
        for part in parts[1:]:
            if part.startswith("issued by "):
                q.issuer = part.removeprefix("issued by ")
            elif part.startswith("no. "):
                q.number = part.removeprefix("no. ")
            elif part.startswith("region "):
                q.region = part.removeprefix("region ")
            elif part.startswith("verified "):
                q.verified_on = _date(part.removeprefix("verified "), where, path, self.report)
            elif part.isdigit() and len(part) == 4:
                q.year = int(part)
            else:
                q.title = f"{q.title}{out.SEPARATOR}{part}"  # not ours: keep the words
        if len(q.title) > 200:
            self.report.warn(
                where, path, f"a qualification was shortened to 200 characters: “{q.title[:60]}…”"
            )
            q.title = q.title[:199] + "…"
        try:
            q.clean_fields(exclude=["provider"])
            q.clean()
        except ValidationError as error:
            for field_name, message in _model_errors(error, {}):
                self.report.error(
                    where, path, f"{field_name}: {message}" if field_name else message
                )
            return None
        return q

    # ----- locations

    def _read_location(self, plan: ProviderPlan, data: dict, where: str, path: str) -> None:
        location_id = data["id"]
        if location_id in plan.locations or location_id in plan.read_locations:
            return  # read already: the same place under the organization and a service
        plan.read_locations.add(location_id)
        addresses = [a for a in data.get("addresses", []) if a.get("city")]
        if not addresses:
            self.report.warn(
                where,
                path,
                "a location without an address (a town) cannot be listed and was left out",
            )
            return
        address = next((a for a in addresses if a.get("address_type") == "physical"), addresses[0])
        existing = self.existing["location"].get(location_id)
        if existing is not None and existing.provider_id != plan.provider.pk:
            self.report.error(
                where, f"{path}id", f"location {location_id} belongs to another listing"
            )
            return
        location = existing or Location(uuid=uuid.UUID(location_id))
        street = _text(address.get("address_1"))
        postcode = _text(address.get("postal_code")).upper()
        # An address without its street is one whose provider shows only the town. When
        # the listing is here already, the street, full postcode and map position the
        # file does not show are kept.
        partial = not street
        keep = partial and existing is not None and bool(existing.address_line1)
        location.name = _text(data.get("name"))
        if not keep:
            location.address_line1 = street
            location.address_line2 = _text(address.get("address_2"))
        location.town = _text(address.get("city"))
        location.region = _text(address.get("state_province") or address.get("region"))
        if not (keep and existing.postcode_district == postcode):
            location.postcode = postcode
        location.country = _text(address.get("country")).upper()
        location.address_shown = (
            Location.AddressShown.TOWN if partial else Location.AddressShown.FULL
        )
        lat, lng = data.get("latitude"), data.get("longitude")
        if not keep:
            location.latitude = location.longitude = None
        if lat is not None and lng is not None:
            if -90 <= lat <= 90 and -180 <= lng <= 180:
                location.latitude, location.longitude = float(lat), float(lng)
            else:
                self.report.warn(
                    where,
                    f"{path}latitude",
                    f"coordinates ({lat}, {lng}) are not on the Earth and were left out",
                )
        location.wheelchair_access = Location.WheelchairAccess.UNKNOWN
        location.wheelchair_access_confirmed_by = ""
        location.accessibility_notes = ""
        for access in data.get("accessibility", [])[:1]:
            match = _WHEELCHAIR.match(_text(access.get("description")))
            notes = (access.get("details") or "").strip()
            if match and match["access"].lower() in WHEELCHAIR_LABELS:
                location.wheelchair_access = WHEELCHAIR_LABELS[match["access"].lower()]
                location.wheelchair_access_confirmed_by = CONFIRMED_LABELS.get(
                    (match["by"] or "").lower(), ""
                )
            else:
                notes = " ".join(part for part in [_text(access.get("description")), notes] if part)
            if (
                location.wheelchair_access != Location.WheelchairAccess.UNKNOWN
                and not location.wheelchair_access_confirmed_by
            ):
                location.wheelchair_access_confirmed_by = Location.ConfirmedBy.PROVIDER
            location.accessibility_notes = self._fit(notes, 300, where, f"{path}accessibility[0]")
        hours = [
            (s.get("description") or "").strip()
            for s in data.get("schedules", [])
            if s.get("description")
        ]
        location.opening_hours = self._fit(
            hours[0] if hours else "", 300, where, f"{path}schedules[0].description"
        )
        features = self._features(self._attributes(data, where, path), "location")
        location.opens_evenings = "open-evenings" in features
        location.opens_weekends = "open-weekends" in features
        try:
            location.clean_fields(
                exclude=["provider", "address_line1"] if partial else ["provider"]
            )
            location.clean()
        except ValidationError as error:
            for field_name, message in _model_errors(error, LOCATION_FIELDS):
                self.report.error(where, f"{path}{field_name}", message)
            return
        plan.locations[location_id] = LocationPlan(location, where)

    def _fit(self, text: str, limit: int, where: str, path: str) -> str:
        if len(text) <= limit:
            return text
        self.report.warn(where, path, f"shortened to {limit} characters")
        return text[: limit - 1] + "…"

    # ----- services

    def _read_service(
        self, plan: ProviderPlan, data: dict, where: str, path: str
    ) -> ServicePlan | None:
        service_id = data["id"]
        existing = self.existing["service"].get(service_id)
        if existing is not None and existing.provider_id != plan.provider.pk:
            self.report.error(
                where, f"{path}id", f"service {service_id} belongs to another listing"
            )
            return None
        service = existing or Service(uuid=uuid.UUID(service_id))
        attributes = self._attributes(data, where, path)
        ours = self._uses_features(attributes)
        support_types = [
            ref.term for ref, _v, _p in attributes if ref.vocabulary is vocab.SUPPORT_TYPES
        ]
        if support_types:
            service.support_type = support_types[0]
        elif existing is None or "attributes" in data:
            guessed = self._guess_support_type(data)
            service.support_type = guessed or (existing.support_type if existing else None)
        if service.support_type is None:
            self.report.error(
                where,
                f"{path}attributes",
                "the service has no type of support this directory knows (a term of the “Types of support” taxonomy); name one with --default-support-type",
            )
            return None
        name = _text(data.get("name"))
        service.name = "" if name == service.support_type.name else name
        if "description" in data or existing is None:
            service.description = (data.get("description") or "").strip()
        features = self._features(attributes, "service")
        sals = [
            s
            for s in data.get("service_at_locations", [])
            if s.get("location_id") or s.get("location")
        ]
        if ours:
            for feature in vocab.LISTING_FEATURES:
                if feature.owner == "service":
                    setattr(service, feature.field, feature.code in features)
            service.insurers = self._fit(
                features.get("accepts-insurance", (False, ""))[1],
                300,
                where,
                f"{path}attributes (accepts-insurance)",
            )
        elif existing is None:
            # Another directory's service: in person where it has a place, else by phone
            # if it has a number, else online.
            service.offers_in_person = bool(sals)
            service.offers_phone = bool(data.get("phones")) and not sals
            service.offers_online = not (service.offers_in_person or service.offers_phone)
        if "cost_options" in data or existing is None:
            self._read_fees(service, data.get("cost_options", []), where, path)
        if "schedules" in data or existing is None:
            self._read_schedule(service, data.get("schedules", []), where, path)
        try:
            service.clean_fields(exclude=["provider", "support_type"])
            service.clean()
        except ValidationError as error:
            for field_name, message in _model_errors(error, SERVICE_FIELDS):
                self.report.error(where, f"{path}{field_name}", message)
            return None
        service_plan = ServicePlan(
            service,
            where,
            has_terms="attributes" in data or existing is None,
            has_places="service_at_locations" in data or existing is None,
        )
        for ref, _v, _p in attributes:
            if ref.vocabulary is vocab.APPROACHES:
                service_plan.approaches.append(ref.term.pk)
            elif ref.vocabulary is vocab.CONCERNS:
                service_plan.concerns.append(ref.term.pk)
            elif ref.vocabulary is vocab.AGE_GROUPS:
                service_plan.age_groups.append(ref.term.pk)
            elif ref.vocabulary is vocab.LANGUAGES:
                service_plan.languages.append(ref.term)
        for n, sal in enumerate(sals):
            location_id = sal.get("location_id") or sal["location"]["id"]
            saved = self.existing["location"].get(location_id)
            own = saved is not None and plan.provider.pk and saved.provider_id == plan.provider.pk
            if location_id not in plan.locations and not own:
                self.report.warn(
                    where,
                    f"{path}service_at_locations[{n}]",
                    f"location {location_id} is not in the file or the listing, so the service is not linked to it",
                )
                continue
            service_plan.places.append((sal.get("id"), location_id))
        return service_plan

    def _guess_support_type(self, data: dict) -> SupportType | None:
        """For another directory's service: a support type named in its name, or the default."""
        words = f" {_text(data.get('name')).lower()} "
        for support_type in self.support_types:
            if f" {support_type.name.lower()} " in words:
                return support_type
        return self.default_support_type

    def _read_fees(self, service: Service, options: list, where: str, path: str) -> None:
        service.is_free, service.fee_min, service.fee_max = False, None, None
        if not options:
            return
        labels = {o.get("option"): o for o in options}
        currencies = {(o.get("currency") or "GBP").upper() for o in options}
        if len(currencies) > 1:
            self.report.warn(
                where,
                f"{path}cost_options",
                f"fees in more than one currency; {sorted(currencies)[0]} is kept",
            )
        service.currency = sorted(currencies)[0]
        amounts = []
        for n, option in enumerate(options):
            if "amount" not in option:
                continue
            try:
                amounts.append(Decimal(str(option["amount"])).quantize(Decimal("0.01")))
            except InvalidOperation:
                self.report.error(where, f"{path}cost_options[{n}].amount", "is not an amount")
                return
        if out.FREE in labels:
            service.is_free = True
        elif out.PER_SESSION in labels:
            service.fee_min = service.fee_max = amounts[0] if amounts else None
        elif out.LOWEST in labels or out.HIGHEST in labels:
            for label, attr in ((out.LOWEST, "fee_min"), (out.HIGHEST, "fee_max")):
                if label in labels and "amount" in labels[label]:
                    setattr(
                        service,
                        attr,
                        Decimal(str(labels[label]["amount"])).quantize(Decimal("0.01")),
                    )
        elif amounts and all(a == 0 for a in amounts):
            service.is_free = True
        elif amounts:
            service.fee_min, service.fee_max = min(amounts), max(amounts)
        if any(a < 0 for a in amounts):
            self.report.error(where, f"{path}cost_options", "a fee cannot be negative")

    def _read_schedule(self, service: Service, schedules: list, where: str, path: str) -> None:
        for name in ("group_weekday", "group_start_time", "group_end_time", "group_starts_on"):
            setattr(service, name, None)
        service.group_frequency = service.group_facilitator = ""
        rules = [s for s in schedules if s.get("freq")]
        if not rules:
            return
        rule, spath = rules[0], f"{path}schedules[{schedules.index(rules[0])}]"
        if len(rules) > 1:
            self.report.warn(where, f"{path}schedules", "only the first meeting rule is kept")
        days = [d.strip() for d in (rule.get("byday") or "").split(",") if d.strip()]
        week = None
        if days:
            match = _BYDAY.match(days[0].upper())
            if not match:
                self.report.error(
                    where, f"{spath}.byday", f"{days[0]!r} is not an RFC 5545 day (MO, 2TU, ...)"
                )
                return
            service.group_weekday = out.WEEKDAYS.index(match["day"])
            week = int(match["week"]) if match["week"] else None
            if len(days) > 1:
                self.report.warn(where, f"{spath}.byday", f"only the first day ({days[0]}) is kept")
        interval = rule.get("interval") or 1
        if rule["freq"] == "MONTHLY":
            service.group_frequency = Service.Frequency.MONTHLY
        elif interval == 2:
            service.group_frequency = Service.Frequency.FORTNIGHTLY
        else:
            service.group_frequency = Service.Frequency.WEEKLY
            if interval != 1:
                self.report.warn(
                    where, f"{spath}.interval", f"every {interval} weeks is kept as every week"
                )
        service.group_starts_on = _date(rule.get("dtstart"), where, f"{spath}.dtstart", self.report)
        if (
            service.group_frequency == Service.Frequency.MONTHLY
            and week
            and service.group_weekday is not None
        ):
            anchor = service.group_starts_on
            if (
                not anchor
                or anchor.weekday() != service.group_weekday
                or (anchor.day - 1) // 7 + 1 != week
            ):
                service.group_starts_on = _nth_weekday_after(
                    anchor or timezone.localdate(), service.group_weekday, week
                )
        service.group_start_time = _time(
            rule.get("opens_at"), where, f"{spath}.opens_at", self.report
        )
        service.group_end_time = _time(
            rule.get("closes_at"), where, f"{spath}.closes_at", self.report
        )
        notes = (rule.get("notes") or "").strip()
        if notes.startswith(out.FACILITATED_BY):
            service.group_facilitator = notes.removeprefix(out.FACILITATED_BY)[:200]

    # ----- the rules for a published listing

    def _check_provider(self, plan: ProviderPlan) -> None:
        provider, where = plan.provider, plan.where
        # clean() checks the saved services of a published listing: it runs as a draft
        # here, and publication_problems() below checks the file's services instead.
        wanted, provider.status = plan.status, Provider.Status.DRAFT
        try:
            provider.clean_fields(exclude=["gender", "slug"])
            if plan.has_details or not plan.exists:
                provider.clean()
        except ValidationError as error:
            for field_name, message in _model_errors(error, PROVIDER_FIELDS):
                self.report.error(where, field_name, message)
        provider.status = wanted
        if plan.status == Provider.Status.PUBLISHED:
            problems = self.publication_problems(plan)
            if problems:
                self.report.warn(where, "", f"imported as a draft: {'; '.join(problems)}")
                plan.status = Provider.Status.DRAFT
        provider.status = plan.status

    @staticmethod
    def publication_problems(plan: ProviderPlan) -> list[str]:
        """Provider.publication_problems(), for a listing that is not saved yet."""
        provider = plan.provider
        problems = []
        if not provider.has_contact:
            problems.append("it needs a phone number, an email or a website")
        if not plan.services and not plan.exists:
            problems.append("it needs at least one service")
        for service_plan in plan.services:
            service = service_plan.service
            kept_places = not service_plan.has_places and service.pk
            if service.offers_in_person and not (service_plan.places or kept_places):
                problems.append(f"the in-person service “{service}” needs a location")
            if service.support_type.is_group and service.group_weekday is None:
                problems.append(f"the group “{service}” needs a meeting day")
        return problems


def _uses_listing_features(tree) -> bool:
    """Whether the file marks listing features (this directory's own taxonomy) anywhere in
    an organization: then a feature that is not there is a "no", not an "unknown"."""
    features = vocab.FEATURES.id
    if isinstance(tree, dict):
        term = tree.get("taxonomy_term") or {}
        if (
            tree.get("taxonomy_term_id") in vocab.FEATURES_BY_ID
            or term.get("taxonomy_id") == features
        ):
            return True
        return any(
            _uses_listing_features(value)
            for value in tree.values()
            if isinstance(value, (dict, list))
        )
    if isinstance(tree, list):
        return any(_uses_listing_features(item) for item in tree)
    return False


def _nth_weekday_after(day: datetime.date, weekday: int, week: int) -> datetime.date:
    """The first date from `day`'s month on that is the week-th such weekday of its month."""
    year, month = day.year, day.month
    for _ in range(24):
        first = datetime.date(year, month, 1)
        candidate = first + datetime.timedelta(
            days=(weekday - first.weekday()) % 7 + 7 * (week - 1)
        )
        if candidate.month == month:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return day
