"""Listings as HSDS 3.0 objects: organizations, services, locations and the parts they hold.

Only what the public profile shows leaves the directory (Location.public): a location whose
provider shows only the town gives its town and postcode district, and no name, street or
coordinates. The parts of an object (an address, a phone, a schedule, a cost option, an
attribute) have ids derived from their owner's UUID, so they are as stable as the owner.
"""

import datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from services.hsds import vocabulary as vocab
from services.hsds.vocabulary import derived_id
from services.models import Location, Provider, Qualification, Service, ServiceAtLocation

STATUS = {
    Provider.Status.PUBLISHED: "active",
    Provider.Status.DRAFT: "inactive",
    Provider.Status.ARCHIVED: "defunct",
}
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_NAMES = [
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
]

# The words that mark each cost option, so an import can read our own fees back.
FREE = "Free of charge"
PER_SESSION = "Per session"
LOWEST = "Lowest fee per session"
HIGHEST = "Highest fee per session"

WHEELCHAIR = "Wheelchair access"
FACILITATED_BY = "Facilitated by "
# Qualifications are written one to a line: "Title · issued by X · no. N · region R · 2010 · verified 2024-05-01".
SEPARATOR = " · "
KIND_PREFIX = {
    Qualification.Kind.DEGREE: "Degree: ",
    Qualification.Kind.CERTIFICATION: "Certification: ",
    Qualification.Kind.MEMBERSHIP: "Membership: ",
}


# --------------------------------------------------------------------------- loading


def linked_service_at_locations() -> QuerySet:
    """The (service, location) pairs linked now: ServiceAtLocation follows Service.locations."""
    return ServiceAtLocation.objects.all()


def with_full_service_data(services: QuerySet) -> QuerySet:
    """Services with everything a fully nested HSDS service shows, in a fixed number of queries."""
    return services.select_related("support_type", "provider").prefetch_related(
        "approaches",
        "concerns",
        "age_groups",
        "languages",
        Prefetch(
            "service_at_locations",
            queryset=linked_service_at_locations().select_related("location").order_by("pk"),
        ),
        "provider__languages",
        "provider__communities",
        "provider__qualifications",
        Prefetch("provider__locations", queryset=Location.objects.order_by("pk")),
    )


def with_full_provider_data(providers: QuerySet, *, with_services: bool) -> QuerySet:
    lookups = ["languages", "communities", Prefetch("locations", Location.objects.order_by("pk"))]
    if with_services:
        services = (
            Service.objects.select_related("support_type")
            .prefetch_related(
                "approaches",
                "concerns",
                "age_groups",
                "languages",
                Prefetch(
                    "service_at_locations",
                    queryset=linked_service_at_locations()
                    .select_related("location")
                    .order_by("pk"),
                ),
            )
            .order_by("pk")
        )
        lookups += ["qualifications", Prefetch("services", queryset=services)]
    return providers.prefetch_related(*lookups)


# --------------------------------------------------------------------------- helpers


def _optional(**values) -> dict:
    """The optional fields that have a value: HSDS leaves out what is not known."""
    return {key: value for key, value in values.items() if value not in (None, "", [])}


def number(amount: Decimal | int | float) -> int | float:
    amount = Decimal(amount)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _time(value: datetime.time | None) -> str | None:
    return value.strftime("%H:%M:%S") if value else None


def _attribute(owner_uuid, entity: str, vocabulary, term, value: str = "") -> dict:
    term_data = vocab.term_hsds(vocabulary, term)
    return {
        "id": derived_id(owner_uuid, f"attribute:{term_data['id']}"),
        "link_id": str(owner_uuid),
        "link_entity": entity,
        "taxonomy_term_id": term_data["id"],
        **_optional(value=value),
        "taxonomy_term": term_data,
    }


def _feature_attributes(obj, owner: str, entity: str, values: dict | None = None) -> list[dict]:
    values = values or {}
    return [
        _attribute(obj.uuid, entity, vocab.FEATURES, f, values.get(f.code, ""))
        for f in vocab.LISTING_FEATURES
        if f.owner == owner and f.holds(obj)
    ]


# --------------------------------------------------------------------------- organization


def organization_basic(provider: Provider) -> dict:
    return {
        "id": str(provider.uuid),
        "name": provider.name,
        "description": provider.statement,
        **_optional(
            email=provider.email,
            website=provider.website,
            year_incorporated=provider.practising_since,
        ),
    }


def organization_full(provider: Provider, *, services: str = "") -> dict:
    """A provider with its phones, locations and attributes.

    services: "" for none, "full" for fully nested services.
    """
    accepting = (
        provider.accepting_confirmed_on.isoformat() if provider.accepting_confirmed_on else ""
    )
    attributes = _feature_attributes(
        provider, "organization", "organization", {"accepting-new-clients": accepting}
    )
    attributes += [
        _attribute(provider.uuid, "organization", vocab.COMMUNITIES, community)
        for community in sorted(provider.communities.all(), key=lambda c: c.name)
    ]
    data = {
        **organization_basic(provider),
        **_optional(
            phones=_phones(provider, "organization_id"),
            locations=[location_full(loc, provider) for loc in provider.locations.all()],
            attributes=attributes,
        ),
    }
    if services == "full":
        data["services"] = [
            service_full(s, provider, with_organization=False) for s in provider.services.all()
        ]
    return data


def _phones(owner, key: str) -> list[dict]:
    provider = owner if isinstance(owner, Provider) else owner.provider
    if not provider.phone:
        return []
    return [
        {
            "id": derived_id(owner.uuid, "phone"),
            key: str(owner.uuid),
            "number": provider.phone,
            "type": "voice",
        }
    ]


# --------------------------------------------------------------------------- location


def location_basic(location: Location, provider: Provider) -> dict:
    place = location.public
    return {
        "id": str(location.uuid),
        "location_type": "physical",
        "organization_id": str(provider.uuid),
        **_optional(name=place.name, latitude=place.latitude, longitude=place.longitude),
    }


def location_full(location: Location, provider: Provider) -> dict:
    place = location.public
    address = {
        "id": derived_id(location.uuid, "address"),
        "location_id": str(location.uuid),
        # Required, so empty for a place shown by town only: that is how an import knows one.
        "address_1": place.address_line1,
        **_optional(address_2=place.address_line2),
        "city": place.town,
        "state_province": place.region,
        "postal_code": place.postcode,
        "country": place.country,
        "address_type": "physical",
    }
    accessibility = []
    if location.wheelchair_access != Location.WheelchairAccess.UNKNOWN or (
        location.accessibility_notes
    ):
        description = f"{WHEELCHAIR}: {location.get_wheelchair_access_display()}."
        if location.wheelchair_access_confirmed_by:
            description += (
                f" Confirmed by: {location.get_wheelchair_access_confirmed_by_display().lower()}."
            )
        accessibility.append(
            {
                "id": derived_id(location.uuid, "accessibility"),
                "location_id": str(location.uuid),
                "description": description,
                **_optional(details=location.accessibility_notes),
            }
        )
    schedules = []
    if location.opening_hours:
        schedules.append(
            {
                "id": derived_id(location.uuid, "opening-hours"),
                "location_id": str(location.uuid),
                "description": location.opening_hours,
            }
        )
    return {
        **location_basic(location, provider),
        "addresses": [address],
        **_optional(
            accessibility=accessibility,
            schedules=schedules,
            attributes=_feature_attributes(location, "location", "location"),
        ),
    }


# --------------------------------------------------------------------------- service


def service_basic(service: Service, provider: Provider, *, with_organization: bool = True) -> dict:
    data = {
        "id": str(service.uuid),
        "organization_id": str(provider.uuid),
        "name": str(service),
        **_optional(
            description=service.description,
            url=provider.website,
            email=provider.email,
        ),
        "status": STATUS[provider.status],
        **_optional(
            fees_description=fees_description(service),
            eligibility_description=eligibility_description(service),
            **_age_range(service),
            assured_date=provider.last_verified.isoformat() if provider.last_verified else None,
        ),
        "last_modified": provider.updated_at.isoformat(),
    }
    if with_organization:
        data["organization"] = organization_basic(provider)
    return data


def service_full(
    service: Service,
    provider: Provider,
    *,
    with_organization: bool = True,
    with_locations: bool = True,
) -> dict:
    """A fully nested service (`provider` loaded with providers_full_queryset or alike)."""
    qualifications = list(provider.qualifications.all())
    data = service_basic(service, provider, with_organization=False)
    data.update(
        _optional(
            licenses=qualifications_text(qualifications, licences=True),
            accreditations=qualifications_text(qualifications, licences=False),
            phones=_phones(service, "service_id"),
            schedules=[s for s in [group_schedule(service)] if s],
            service_at_locations=[
                {
                    "id": str(sal.uuid),
                    "service_id": str(service.uuid),
                    "location_id": str(sal.location.uuid),
                    "location": location_full(sal.location, provider),
                }
                for sal in service.service_at_locations.all()
            ]
            if with_locations
            else [],
            languages=[
                {
                    "id": derived_id(service.uuid, f"language:{language.uuid}"),
                    "service_id": str(service.uuid),
                    "name": language.name,
                    "code": language.code,
                }
                for language in sorted(service_languages(service, provider), key=lambda t: t.name)
            ],
            cost_options=cost_options(service),
            attributes=service_attributes(service, provider),
        )
    )
    if with_organization:
        data["organization"] = organization_full(provider)
    return data


def service_languages(service: Service, provider: Provider) -> list:
    """The languages a service is held in: its own (a group's), or else its provider's."""
    return list(service.languages.all()) or list(provider.languages.all())


def service_attributes(service: Service, provider: Provider) -> list[dict]:
    def by_name(terms):
        return sorted(terms, key=lambda t: t.name)

    def link(vocabulary, term, value=""):
        return _attribute(service.uuid, "service", vocabulary, term, value)

    return [
        link(vocab.SUPPORT_TYPES, service.support_type),
        *(link(vocab.APPROACHES, t) for t in by_name(service.approaches.all())),
        *(link(vocab.CONCERNS, t) for t in by_name(service.concerns.all())),
        *(
            link(vocab.AGE_GROUPS, t)
            for t in sorted(service.age_groups.all(), key=lambda t: t.min_age)
        ),
        *(link(vocab.LANGUAGES, t) for t in by_name(service_languages(service, provider))),
        *_feature_attributes(
            service, "service", "service", {"accepts-insurance": service.insurers}
        ),
    ]


def _age_range(service: Service) -> dict:
    groups = list(service.age_groups.all())
    if not groups:
        return {}
    uppers = [g.max_age for g in groups]
    return {
        "minimum_age": min(g.min_age for g in groups),
        "maximum_age": None if None in uppers else max(uppers),
    }


def fees_description(service: Service) -> str:
    money = {"GBP": "£", "EUR": "€", "USD": "$"}.get(service.currency)

    def amount(value):
        text = f"{value:.2f}".removesuffix(".00")
        return f"{money}{text}" if money else f"{text} {service.currency}"

    parts = []
    if service.is_free:
        parts.append("Free.")
    elif service.fee_min is not None and service.fee_max is not None:
        if service.fee_min == service.fee_max:
            parts.append(f"{amount(service.fee_min)} a session.")
        else:
            parts.append(f"{amount(service.fee_min)} to {amount(service.fee_max)} a session.")
    elif service.fee_min is not None:
        parts.append(f"From {amount(service.fee_min)} a session.")
    elif service.fee_max is not None:
        parts.append(f"Up to {amount(service.fee_max)} a session.")
    if service.sliding_scale:
        parts.append("Fees on a sliding scale.")
    if service.accepts_insurance:
        parts.append(
            f"Accepts health insurance ({service.insurers})."
            if service.insurers
            else "Accepts health insurance."
        )
    return " ".join(parts)


def eligibility_description(service: Service) -> str:
    clients = service.clients
    ages = [g.name for g in sorted(service.age_groups.all(), key=lambda g: g.min_age)]
    parts = []
    if clients:
        parts.append("For " + _and(clients) + ".")
    if ages:
        parts.append("Ages: " + _and(ages) + ".")
    return " ".join(parts)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def cost_options(service: Service) -> list[dict]:
    def option(key, label, value):
        return {
            "id": derived_id(service.uuid, f"cost:{key}"),
            "service_id": str(service.uuid),
            "option": label,
            "currency": service.currency,
            "amount": number(value),
            "amount_description": "per session",
        }

    if service.is_free:
        return [option("free", FREE, 0)]
    low, high = service.fee_min, service.fee_max
    if low is not None and high is not None and low == high:
        return [option("session", PER_SESSION, low)]
    return [
        option(key, label, value)
        for key, label, value in [("lowest", LOWEST, low), ("highest", HIGHEST, high)]
        if value is not None
    ]


def group_schedule(service: Service) -> dict | None:
    """A group's meetings as an RFC 5545 rule (freq, interval, byday, dtstart)."""
    if service.group_weekday is None:
        return None
    day = WEEKDAYS[service.group_weekday]
    anchor = service.group_starts_on
    if anchor and anchor.weekday() != service.group_weekday:
        anchor = None  # as Service.next_meeting does: a contradictory anchor is not trusted
    frequency = service.group_frequency or Service.Frequency.WEEKLY
    rule = {"freq": "WEEKLY", "interval": 1, "byday": day}
    words = f"Every week on {WEEKDAY_NAMES[service.group_weekday]}"
    if frequency == Service.Frequency.FORTNIGHTLY:
        rule["interval"] = 2
        words = f"Every other week on {WEEKDAY_NAMES[service.group_weekday]}"
    elif frequency == Service.Frequency.MONTHLY:
        rule["freq"] = "MONTHLY"
        if anchor:
            # The same weekday in the same week of each month: "2TU", the second Tuesday.
            week = (anchor.day - 1) // 7 + 1
            rule["byday"] = f"{week}{day}"
            words = (
                f"Once a month, on the {_ordinal(week)} {WEEKDAY_NAMES[service.group_weekday][:-1]}"
            )
        else:
            # Which week of the month is not known: a rule with BYDAY alone would mean
            # every such weekday, so the day is given only in words.
            del rule["byday"]
            words = (
                f"Once a month, on a {WEEKDAY_NAMES[service.group_weekday][:-1]} (ask which week)"
            )
    if service.group_start_time:
        words += f", {service.group_start_time:%H:%M}"
        if service.group_end_time:
            words += f" to {service.group_end_time:%H:%M}"
    return {
        "id": derived_id(service.uuid, "schedule"),
        "service_id": str(service.uuid),
        **rule,
        **_optional(
            dtstart=anchor.isoformat() if anchor else None,
            opens_at=_time(service.group_start_time),
            closes_at=_time(service.group_end_time),
        ),
        "description": words + ".",
        **_optional(
            notes=f"{FACILITATED_BY}{service.group_facilitator}"
            if service.group_facilitator
            else ""
        ),
    }


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}[n]


def qualifications_text(qualifications: list[Qualification], *, licences: bool) -> str:
    """Licences (for `licenses`) or the other qualifications (for `accreditations`), one a line."""
    lines = []
    for q in sorted(qualifications, key=lambda q: (q.kind, q.title, q.pk or 0)):
        if (q.kind == Qualification.Kind.LICENCE) != licences:
            continue
        parts = [KIND_PREFIX.get(q.kind, "") + q.title]
        if q.issuer:
            parts.append(f"issued by {q.issuer}")
        if q.number:
            parts.append(f"no. {q.number}")
        if q.region:
            parts.append(f"region {q.region}")
        if q.year:
            parts.append(str(q.year))
        if q.verified_on:
            parts.append(f"verified {q.verified_on.isoformat()}")
        lines.append(SEPARATOR.join(parts))
    return "\n".join(lines)


# --------------------------------------------------------------------------- service at location


def service_at_location_basic(sal: ServiceAtLocation) -> dict:
    service, location = sal.service, sal.location
    return {
        "id": str(sal.uuid),
        "service_id": str(service.uuid),
        "location_id": str(location.uuid),
        "location": location_basic(location, service.provider),
        "service": service_basic(service, service.provider),
    }


def service_at_location_full(sal: ServiceAtLocation) -> dict:
    service, provider = sal.service, sal.service.provider
    return {
        "id": str(sal.uuid),
        "service_id": str(service.uuid),
        "location_id": str(sal.location.uuid),
        "location": location_full(sal.location, provider),
        "service": service_full(service, provider, with_locations=False),
    }
