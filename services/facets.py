"""How many results each option of each filter would give, with the other filters as they are."""

from django.db.models import CharField, Count, Exists, F, QuerySet, Value
from django.db.models.functions import Coalesce

from services import listing_index, matching
from services.filters import (
    FLAG_FILTERS,
    LIST_FILTERS,
    SERVICE_FILTERS,
    Criteria,
    verified_licences,
)
from services.models import FORMAT_FIELDS, Provider, Service

# Facet counts: for each option of each filter, how many providers the search would
# give if that option were chosen, with the other filters as they are.


def facet_counts(
    criteria: Criteria,
    base: QuerySet,
    *,
    selection: matching.Selections | None = None,
) -> dict[str, dict[str, int]]:
    """{filter name: {option: count}}: how many providers each option would give.

    Counted in memory (services/selection.py); the database is asked at most which
    providers match the search words, and not even that when `selection`, the results'
    own, is given.
    """
    if selection is None:
        index = listing_index.current_index()
        selection = matching.results(index, criteria, base).selection
    counts = selection.counts()
    # Options with no results are left out, as a GROUP BY would leave them.
    return {
        name: {option: n for option, n in counts.get(name, {}).items() if n}
        for name in LIST_FILTERS + FLAG_FILTERS
    }


def facet_counts_in_sql(criteria: Criteria, base: QuerySet) -> dict[str, dict[str, int]]:
    """The same counts, computed by the database (a UNION ALL of small GROUP BYs).

    Exact but slow on large directories; kept to check the in-memory index against.
    """
    parts = []
    for name in LIST_FILTERS + FLAG_FILTERS:
        # An option's count ignores the filter's own current choice ("OR within a filter").
        others = criteria.without(name) if name in criteria.data else criteria
        parts.extend(_facet_parts(name, others, base))
    counts: dict[str, dict[str, int]] = {name: {} for name in LIST_FILTERS + FLAG_FILTERS}
    if not parts:
        return counts
    union = parts[0].union(*parts[1:], all=True)
    for name, option, count in union:
        counts[name][option] = count
    return counts


def _facet_parts(name: str, criteria: Criteria, base: QuerySet) -> list[QuerySet]:
    label = Value(name, output_field=CharField())
    providers = criteria.providers(base).values("pk")
    if name in SERVICE_FILTERS:
        # Count providers through their services, so all service criteria hold for one service.
        services = Service.objects.filter(criteria.service_condition(), provider__in=providers)
        if name == "format":
            parts = []
            for option, field in FORMAT_FIELDS.items():
                scope = services
                if option == "online" and criteria.place:
                    # Choosing "online" also counts online services away from the place.
                    online = Criteria({**criteria.data, "format": ["online"]}, place=criteria.place)
                    scope = Service.objects.filter(
                        criteria.service_condition(),
                        provider__in=online.providers(base).values("pk"),
                    )
                parts.append(
                    _count_part(scope.filter(**{field: True}), label, Value(option), "provider_id")
                )
            return parts
        if name in FLAG_FILTERS:
            field = {
                "sliding_scale": "sliding_scale",
                "free": "is_free",
                "insurance": "accepts_insurance",
            }[name]
            return [_count_part(services.filter(**{field: True}), label, Value("1"), "provider_id")]
        if name == "type":
            return [_count_part(services, label, F("support_type__slug"), "provider_id")]
        relation, term = {
            "concern": ("concerns", "concern"),
            "approach": ("approaches", "approach"),
            "age_group": ("age_groups", "agegroup"),
        }[name]
        links = getattr(Service, relation).through.objects.filter(service__in=services.values("pk"))
        return [_count_part(links, label, F(f"{term}__slug"), "service__provider_id")]
    if name == "language":
        links = Provider.languages.through.objects.filter(provider__in=providers)
        return [_count_part(links, label, F("language__slug"), "provider_id")]
    matching = Provider.objects.filter(pk__in=providers)
    if name == "gender":
        return [_count_part(matching.exclude(gender=None), label, F("gender__slug"), "pk")]
    if name == "accepting":
        return [_count_part(matching.filter(accepting_new_clients=True), label, Value("1"), "pk")]
    if name == "recommended":
        recommended = matching.filter(recommendations_approved__gt=0)
        return [_count_part(recommended, label, Value("1"), "pk")]
    if name == "verified":
        return [_count_part(matching.filter(Exists(verified_licences())), label, Value("1"), "pk")]
    raise ValueError(name)


def _count_part(queryset: QuerySet, label, key, counted: str) -> QuerySet:
    return (
        queryset.order_by()
        .values(facet=label, option=Coalesce(key, Value(""), output_field=CharField()))
        .annotate(count=Count(counted, distinct=True))
        .values_list("facet", "option", "count")
    )
