"""Loads everything a provider's profile shows, in a fixed six queries however much it holds
(and the profiles the comparison page sets side by side, in five however many).

The provider; its qualifications; its locations; its services; every name the services and
the provider link to (approaches, concerns, age groups, places, languages, communities) in
one UNION ALL; and its newest approved recommendations.
"""

import datetime
import functools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.shortcuts import get_object_or_404
from django.utils import timezone

from services.models import (
    REVIEW_AFTER_DAYS,
    AgeGroup,
    Approach,
    Community,
    Concern,
    Language,
    Location,
    Provider,
    Qualification,
    Recommendation,
    Service,
)
from services.templatetags.directory import session_fee
from services.upkeep import showing

# The profile shows this many recommendations, newest first, and says how many there are.
RECOMMENDATIONS_SHOWN = 10


@dataclass
class ServiceDetail:
    """A service and the names of what it links to (read in one query for all services)."""

    service: Service
    approaches: list[Approach] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)
    age_groups: list[AgeGroup] = field(default_factory=list)
    languages: list[Language] = field(default_factory=list)  # its own (a group's), if any
    locations: list[Location] = field(default_factory=list)


@dataclass
class Profile:
    provider: Provider
    services: list[ServiceDetail]
    qualifications: list[Qualification]
    locations: list[Location]
    languages: list[Language]
    communities: list[Community]
    recommendations: list[Recommendation] = field(default_factory=list)

    @property
    def concerns(self) -> list[Concern]:
        unique = {concern.slug: concern for detail in self.services for concern in detail.concerns}
        return sorted(unique.values(), key=lambda concern: concern.name)

    @property
    def stale(self) -> bool:
        """Staff have not checked the listing in the last year (or ever)."""
        checked = self.provider.last_verified
        a_year_ago = timezone.localdate() - datetime.timedelta(days=REVIEW_AFTER_DAYS)
        return checked is None or checked < a_year_ago

    @property
    def licence_verified_on(self):
        """When staff last checked a licence or registration with its issuing body (or None)."""
        dates = [
            q.verified_on
            for q in self.qualifications
            if q.kind == Qualification.Kind.LICENCE and q.verified_on
        ]
        return max(dates, default=None)

    @property
    def has_licence(self) -> bool:
        return any(q.kind == Qualification.Kind.LICENCE for q in self.qualifications)

    @property
    def more_recommendations(self) -> int:
        """How many approved ones are not shown on the page."""
        return max(0, self.provider.recommendations_approved - len(self.recommendations))

    @property
    def newcomers(self) -> str:
        """Who a provider takes on: members, when all they offer is groups; else clients."""
        groups = [detail.service.support_type.is_group for detail in self.services]
        return "members" if groups and all(groups) else "clients"

    @functools.cached_property
    def availability(self) -> showing.Availability:
        """Whether they take new clients (or members), since when, and how soon."""
        return showing.availability(self.provider, self.newcomers)

    @property
    def replies(self) -> str:
        """How they answer messages sent through the site ("" while too few to say)."""
        return showing.replies(self.provider)

    @property
    def replies_counted(self) -> str:
        return showing.REPLIES_COUNTED.format(days=settings.REPLY_FIGURES_DAYS)

    # What the first screen of the profile says at a glance (on a phone, above the fold).

    @property
    def support_types(self) -> list[str]:
        """The kinds of support offered, each once, in the services' order."""
        return list(dict.fromkeys(detail.service.support_type.name for detail in self.services))

    @property
    def fee_summary(self) -> str:
        """All the services' fees in a few words: "Free", "£40–£65 a session; some free;
        sliding scale", "Fee not stated"."""
        services = [detail.service for detail in self.services]
        if services and all(service.is_free for service in services):
            return "Free"
        paid = [service for service in services if not service.is_free]
        amounts: list[Decimal] = [
            amount
            for service in paid
            for amount in (service.fee_min, service.fee_max)
            if amount is not None
        ]
        parts = []
        if amounts:
            parts.append(session_fee(min(amounts), max(amounts), paid[0].currency))
        else:
            parts.append("Fee not stated")
        if any(service.is_free for service in services):
            parts.append("some free")
        if any(service.sliding_scale for service in paid):
            parts.append("sliding scale")
        if any(service.accepts_insurance for service in paid):
            parts.append("accepts insurance")
        return "; ".join(parts)

    @property
    def where_summary(self) -> list[str]:
        """Where and how: "In person in Leeds, Otley", "Online", "By phone"."""
        services = [detail.service for detail in self.services]
        towns = list(dict.fromkeys(location.public.town for location in self.locations))
        lines = []
        if towns and any(service.offers_in_person for service in services):
            lines.append("In person in " + ", ".join(towns))
        if any(service.offers_online for service in services):
            lines.append("Online (video)")
        if any(service.offers_phone for service in services):
            lines.append("By phone")
        return lines


def profile_lead_with(profile: Profile, service: str | None) -> ServiceDetail | None:
    """Put the service with this uuid (from a result card's link) first among the profile's
    services and return it; anything that is not one of them changes nothing (None)."""
    if not service:
        return None
    try:
        wanted = uuid.UUID(service)
    except (ValueError, AttributeError, TypeError):
        return None
    for index, detail in enumerate(profile.services):
        if detail.service.uuid == wanted:
            profile.services.insert(0, profile.services.pop(index))
            return detail
    return None


def profile_load(slug: str, *, include_unpublished: bool = False) -> Profile:
    """The profile of a published provider (or any, for staff); Http404 if there is none."""
    providers = Provider.objects.select_related("gender")
    if not include_unpublished:
        providers = providers.published()
    [profile] = _profiles_of([get_object_or_404(providers, slug=slug)])
    profile.recommendations = list(
        profile.provider.recommendations.approved()
        .only("provider_id", "author_name", "author_role", "relationship", "text", "created_at")
        .order_by("-created_at", "-pk")[:RECOMMENDATIONS_SHOWN]
    )
    return profile


def profiles_load(slugs: list[str]) -> list[Profile]:
    """The profiles of those of these published providers that exist, in the order given,
    without recommendations: five queries however many there are (none when no slugs)."""
    if not slugs:
        return []
    found = {
        provider.slug: provider
        for provider in Provider.objects.published().select_related("gender").filter(slug__in=slugs)
    }
    providers = [found[slug] for slug in dict.fromkeys(slugs) if slug in found]
    return _profiles_of(providers) if providers else []


def _profiles_of(providers: list[Provider]) -> list[Profile]:
    """Everything but the recommendations of these providers' profiles, in four queries:
    qualifications, locations, services, and every term they link to."""
    ids = [provider.pk for provider in providers]
    qualifications = _grouped(
        Qualification.objects.filter(provider_id__in=ids).order_by("kind", "-year", "title")
    )
    all_locations = list(Location.objects.filter(provider_id__in=ids))
    locations = _grouped(all_locations)
    services = _grouped(
        ServiceDetail(service)
        for service in Service.objects.filter(provider_id__in=ids).select_related("support_type")
    )
    languages, communities = _attach_terms(
        ids,
        [detail for details in services.values() for detail in details],
        {location.pk: location for location in all_locations},
    )
    return [
        Profile(
            provider,
            services.get(provider.pk, []),
            qualifications.get(provider.pk, []),
            locations.get(provider.pk, []),
            languages.get(provider.pk, []),
            communities.get(provider.pk, []),
        )
        for provider in providers
    ]


def _grouped(rows) -> dict[int, list]:
    """{provider id: its rows}, in the rows' order (a ServiceDetail by its service's)."""
    grouped = {}
    for row in rows:
        owner = row.service.provider_id if isinstance(row, ServiceDetail) else row.provider_id
        grouped.setdefault(owner, []).append(row)
    return grouped


def _link_select(model, field_name: str, kind: str, owner: str, providers: int) -> str:
    """One SELECT of a UNION ALL: (owner id, kind, term id, slug, name, order) for one link,
    of `providers` providers (parameters p0, p1, ...)."""
    field = model._meta.get_field(field_name)
    link, term = field.m2m_db_table(), field.related_model._meta.db_table
    term_id = f"l.{field.m2m_reverse_name()}"
    slug = "''" if kind == "location" else "t.slug"
    name = "''" if kind == "location" else "t.name"
    order = "t.min_age" if kind == "age_group" else "0"
    join = "" if kind == "location" else f" JOIN {term} t ON t.id = {term_id}"
    if providers == 1:
        among = "= %(p0)s"
    else:
        among = "IN (" + ", ".join(f"%(p{n})s" for n in range(providers)) + ")"
    if owner == "provider":
        where = f"l.{field.m2m_column_name()} {among}"
    else:
        service = model._meta.db_table
        join += f" JOIN {service} s ON s.id = l.{field.m2m_column_name()}"
        where = f"s.provider_id {among}"
    return (
        f"SELECT l.{field.m2m_column_name()}, '{kind}', {term_id}, {slug}, {name}, {order}"
        f" FROM {link} l{join} WHERE {where}"
    )


# One statement per number of providers: one for a profile, two to four for the comparison.
@functools.cache
def _terms_sql(providers: int = 1) -> str:
    """Every term the providers and their services link to, in one statement written once: the
    ORM would compile six querysets on every profile view, which cost more than the query."""
    return " UNION ALL ".join(
        [
            _link_select(Provider, "languages", "language", "provider", providers),
            _link_select(Provider, "communities", "community", "provider", providers),
            _link_select(Service, "approaches", "approach", "service", providers),
            _link_select(Service, "concerns", "concern", "service", providers),
            _link_select(Service, "age_groups", "age_group", "service", providers),
            _link_select(Service, "languages", "service_language", "service", providers),
            _link_select(Service, "locations", "location", "service", providers),
        ]
    )


def _attach_terms(
    provider_ids: list[int], details: list[ServiceDetail], locations: dict[int, Location]
) -> tuple[dict[int, list[Language]], dict[int, list[Community]]]:
    """Attach each service's terms and return the providers' languages and communities,
    {provider id: its terms}, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            _terms_sql(len(provider_ids)), {f"p{n}": pk for n, pk in enumerate(provider_ids)}
        )
        rows = cursor.fetchall()
    by_service = {detail.service.pk: detail for detail in details}
    languages, communities = {}, {}
    for owner_id, kind, term_id, slug, name, order in rows:
        if kind == "language":
            languages.setdefault(owner_id, []).append(Language(pk=term_id, slug=slug, name=name))
        elif kind == "community":
            communities.setdefault(owner_id, []).append(Community(pk=term_id, slug=slug, name=name))
        elif owner_id not in by_service:
            continue
        elif kind == "approach":
            by_service[owner_id].approaches.append(Approach(pk=term_id, slug=slug, name=name))
        elif kind == "concern":
            by_service[owner_id].concerns.append(Concern(pk=term_id, slug=slug, name=name))
        elif kind == "age_group":
            by_service[owner_id].age_groups.append(
                AgeGroup(pk=term_id, slug=slug, name=name, min_age=order)
            )
        elif kind == "service_language":
            by_service[owner_id].languages.append(Language(pk=term_id, slug=slug, name=name))
        elif term_id in locations:
            by_service[owner_id].locations.append(locations[term_id])
    for detail in details:
        detail.approaches.sort(key=lambda term: term.name)
        detail.concerns.sort(key=lambda term: term.name)
        detail.age_groups.sort(key=lambda term: term.min_age)
        detail.languages.sort(key=lambda term: term.name)
    for terms in (*languages.values(), *communities.values()):
        terms.sort(key=lambda term: term.name)
    return languages, communities
