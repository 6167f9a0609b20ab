"""Loads everything a provider's profile shows, in a fixed six queries however much it holds.

The provider; its qualifications; its locations; its services; every name the services and
the provider link to (approaches, concerns, age groups, places, languages, communities) in
one UNION ALL; and its newest approved recommendations.
"""

import datetime
import functools
from dataclasses import dataclass, field

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

# The profile shows this many recommendations, newest first, and says how many there are.
RECOMMENDATIONS_SHOWN = 10


@dataclass
class ServiceDetail:
    """A service and the names of what it links to (read in one query for all services)."""

    service: Service
    approaches: list[Approach] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)
    age_groups: list[AgeGroup] = field(default_factory=list)
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


def profile_load(slug: str, *, include_unpublished: bool = False) -> Profile:
    """The profile of a published provider (or any, for staff); Http404 if there is none."""
    providers = Provider.objects.select_related("gender")
    if not include_unpublished:
        providers = providers.published()
    provider = get_object_or_404(providers, slug=slug)
    qualifications = list(provider.qualifications.order_by("kind", "-year", "title"))
    locations = list(provider.locations.all())
    services = [ServiceDetail(s) for s in provider.services.select_related("support_type")]
    languages, communities = _attach_terms(
        provider, services, {location.pk: location for location in locations}
    )
    recommendations = list(
        provider.recommendations.approved()
        .only("provider_id", "author_name", "author_role", "relationship", "text", "created_at")
        .order_by("-created_at", "-pk")[:RECOMMENDATIONS_SHOWN]
    )
    return Profile(
        provider, services, qualifications, locations, languages, communities, recommendations
    )


def _link_select(model, field_name: str, kind: str, owner: str) -> str:
    """One SELECT of a UNION ALL: (owner id, kind, term id, slug, name, order) for one link."""
    field = model._meta.get_field(field_name)
    link, term = field.m2m_db_table(), field.related_model._meta.db_table
    term_id = f"l.{field.m2m_reverse_name()}"
    slug = "''" if kind == "location" else "t.slug"
    name = "''" if kind == "location" else "t.name"
    order = "t.min_age" if kind == "age_group" else "0"
    join = "" if kind == "location" else f" JOIN {term} t ON t.id = {term_id}"
    if owner == "provider":
        where = f"l.{field.m2m_column_name()} = %(provider)s"
    else:
        service = model._meta.db_table
        join += f" JOIN {service} s ON s.id = l.{field.m2m_column_name()}"
        where = "s.provider_id = %(provider)s"
    return (
        f"SELECT l.{field.m2m_column_name()}, '{kind}', {term_id}, {slug}, {name}, {order}"
        f" FROM {link} l{join} WHERE {where}"
    )


@functools.cache
def _terms_sql() -> str:
    """Every term the provider and its services link to, in one statement written once: the
    ORM would compile six querysets on every profile view, which cost more than the query."""
    return " UNION ALL ".join(
        [
            _link_select(Provider, "languages", "language", "provider"),
            _link_select(Provider, "communities", "community", "provider"),
            _link_select(Service, "approaches", "approach", "service"),
            _link_select(Service, "concerns", "concern", "service"),
            _link_select(Service, "age_groups", "age_group", "service"),
            _link_select(Service, "locations", "location", "service"),
        ]
    )


def _attach_terms(
    provider: Provider, details: list[ServiceDetail], locations: dict[int, Location]
) -> tuple[list[Language], list[Community]]:
    """Attach each service's terms and return the provider's languages and communities."""
    with connection.cursor() as cursor:
        cursor.execute(_terms_sql(), {"provider": provider.pk})
        rows = cursor.fetchall()
    by_service = {detail.service.pk: detail for detail in details}
    languages, communities = [], []
    for owner_id, kind, term_id, slug, name, order in rows:
        if kind == "language":
            languages.append(Language(pk=term_id, slug=slug, name=name))
        elif kind == "community":
            communities.append(Community(pk=term_id, slug=slug, name=name))
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
        elif term_id in locations:
            by_service[owner_id].locations.append(locations[term_id])
    for detail in details:
        detail.approaches.sort(key=lambda term: term.name)
        detail.concerns.sort(key=lambda term: term.name)
        detail.age_groups.sort(key=lambda term: term.min_age)
    return sorted(languages, key=lambda t: t.name), sorted(communities, key=lambda t: t.name)
