"""HSDS 3.0 objects back into listings: checked against the schemas, then turned into
unsaved Provider, Location and Service rows ("plans") with every problem named.

This reads what services/hsds/objects.py writes exactly (so an export imports back to
the same listings), and reads other directories' HSDS as far as the directory's model
holds it: what it cannot hold is left out with a warning, what is wrong is an error
naming the file, the record and the field.
"""

import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import slugify

from services.hsds import vocabulary as vocab
from services.hsds.checks import Report
from services.hsds.fields import (
    CONFIRMED_LABELS,
    HSDS_STATUS,
    LOCATION_FIELDS,
    PROVIDER_FIELDS,
    SERVICE_FIELDS,
    WHEELCHAIR_LABELS,
    WHEELCHAIR_PATTERN,
    date,
    fit,
    model_errors,
    read_fees,
    read_qualification,
    read_schedule,
    text,
)
from services.hsds.terms import Terms
from services.models import EARLIEST_YEAR, Location, Provider, Qualification, Service, SupportType

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
                day = date(service_data["assured_date"], where, f"{path}assured_date", self.report)
                if day:
                    verified.append(day)
            if not provider.phone:
                for phone in service_data.get("phones", []):
                    provider.phone = text(phone.get("number"))
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
                if (q := read_qualification(text, licences, where, path, self.report)) is not None
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
        provider.name = text(org.get("name"))
        provider.statement = (org.get("description") or "").strip()
        # What the file leaves out stays as it is.
        if "email" in org:
            provider.email = org["email"] or ""
        if "website" in org:
            provider.website = org["website"] or ""
        if "phones" in org:
            phones = org["phones"]
            provider.phone = text(phones[0].get("number")) if phones else ""
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
            provider.accepting_confirmed_on = date(
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
        street = text(address.get("address_1"))
        postcode = text(address.get("postal_code")).upper()
        # An address without its street is one whose provider shows only the town. When
        # the listing is here already, the name, street, full postcode and map position
        # the file does not show are kept.
        partial = not street
        keep = partial and existing is not None and bool(existing.address_line1)
        if not (keep and not text(data.get("name"))):
            location.name = text(data.get("name"))
        if not keep:
            location.address_line1 = street
            location.address_line2 = text(address.get("address_2"))
        location.town = text(address.get("city"))
        location.region = text(address.get("state_province") or address.get("region"))
        if not (keep and existing.postcode_district == postcode):
            location.postcode = postcode
        location.country = text(address.get("country")).upper()
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
            match = WHEELCHAIR_PATTERN.match(text(access.get("description")))
            notes = (access.get("details") or "").strip()
            if match and match["access"].lower() in WHEELCHAIR_LABELS:
                location.wheelchair_access = WHEELCHAIR_LABELS[match["access"].lower()]
                location.wheelchair_access_confirmed_by = CONFIRMED_LABELS.get(
                    (match["by"] or "").lower(), ""
                )
            else:
                notes = " ".join(part for part in [text(access.get("description")), notes] if part)
            if (
                location.wheelchair_access != Location.WheelchairAccess.UNKNOWN
                and not location.wheelchair_access_confirmed_by
            ):
                location.wheelchair_access_confirmed_by = Location.ConfirmedBy.PROVIDER
            location.accessibility_notes = fit(
                notes, 300, where, f"{path}accessibility[0]", self.report
            )
        hours = [
            (s.get("description") or "").strip()
            for s in data.get("schedules", [])
            if s.get("description")
        ]
        location.opening_hours = fit(
            hours[0] if hours else "", 300, where, f"{path}schedules[0].description", self.report
        )
        attributes = self._attributes(data, where, path)
        # Another publisher's place says nothing of our features: left as they are.
        if self._uses_features(attributes):
            features = self._features(attributes, "location")
            for feature in vocab.LISTING_FEATURES:
                if feature.owner == "location":
                    setattr(location, feature.field, feature.code in features)
        try:
            location.clean_fields(
                exclude=["provider", "address_line1"] if partial else ["provider"]
            )
            location.clean()
        except ValidationError as error:
            for field_name, message in model_errors(error, LOCATION_FIELDS):
                self.report.error(where, f"{path}{field_name}", message)
            return
        plan.locations[location_id] = LocationPlan(location, where)

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
        name = text(data.get("name"))
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
            service.insurers = fit(
                features.get("accepts-insurance", (False, ""))[1],
                300,
                where,
                f"{path}attributes (accepts-insurance)",
                self.report,
            )
        elif existing is None:
            # Another directory's service: in person where it has a place, else by phone
            # if it has a number, else online.
            service.offers_in_person = bool(sals)
            service.offers_phone = bool(data.get("phones")) and not sals
            service.offers_online = not (service.offers_in_person or service.offers_phone)
        if "cost_options" in data or existing is None:
            read_fees(service, data.get("cost_options", []), where, path, self.report)
        if "schedules" in data or existing is None:
            read_schedule(service, data.get("schedules", []), where, path, self.report)
        try:
            service.clean_fields(exclude=["provider", "support_type"])
            service.clean()
        except ValidationError as error:
            for field_name, message in model_errors(error, SERVICE_FIELDS):
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
        words = f" {text(data.get('name')).lower()} "
        for support_type in self.support_types:
            if f" {support_type.name.lower()} " in words:
                return support_type
        return self.default_support_type

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
            for field_name, message in model_errors(error, PROVIDER_FIELDS):
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
