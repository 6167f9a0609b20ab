"""How many results each option of each filter would give, with the other filters as they are."""

from django.db.models import CharField, Count, F, QuerySet, Value
from django.db.models.functions import Coalesce

from services.models import Provider, Service
from services.search import listing_index, matching
from services.search.criteria import CRITERIA, Flag, Level
from services.search.filters import FLAG_FILTERS, LIST_FILTERS, Criteria, taxonomy_options

# Facet counts: for each option of each filter, how many providers the search would
# give if that option were chosen, with the other filters as they are.


def facet_counts(
    criteria: Criteria,
    base: QuerySet,
    *,
    selection: matching.Selections | None = None,
) -> dict[str, dict[str, int]]:
    """{filter name: {option: count}}: how many providers each option would give.

    Counted in memory (services/search/selection.py); the database is asked at most which
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
    criterion = CRITERIA[name]
    if criterion.level == Level.SERVICE:
        # Count providers through their services, so all service criteria hold for one service.
        counted, owner = Service.objects.filter(criteria.service_condition()), "provider_id"
        counted = counted.filter(provider__in=providers)
    else:
        counted, owner = Provider.objects.filter(pk__in=providers), "pk"
    if isinstance(criterion, Flag) and criterion.places is not None and criteria.place:
        # A place criterion changes which places are near: its own search.
        ticked = Criteria({**criteria.data, name: True}, place=criteria.place).providers(base)
        return [_count_part(ticked, label, Value("1"), "pk")]
    if isinstance(criterion, Flag):
        return [_count_part(counted.filter(criterion.condition()), label, Value("1"), owner)]
    if criterion.taxonomy is not None and criterion.fallback:
        # Terms of its own or its fallback's: each term counted as choosing it would count.
        return [
            _count_part(counted.filter(criterion.condition([slug])), label, Value(slug), owner)
            for slug, _name in taxonomy_options(name)
        ]
    if criterion.taxonomy is not None:
        return [
            _count_part(counted.exclude(**{criterion.path: None}), label, F(criterion.path), owner)
        ]
    parts = []
    for option in criterion.fixed:
        scope = counted
        if name == "format" and option.value == "online" and criteria.place:
            # Choosing "online" also counts online services away from the place.
            online = Criteria({**criteria.data, "format": ["online"]}, place=criteria.place)
            scope = Service.objects.filter(
                criteria.service_condition(), provider__in=online.providers(base).values("pk")
            )
        parts.append(_count_part(scope.filter(option.condition), label, Value(option.value), owner))
    return parts


def _count_part(queryset: QuerySet, label, key, counted: str) -> QuerySet:
    return (
        queryset.order_by()
        .values(facet=label, option=Coalesce(key, Value(""), output_field=CharField()))
        .annotate(count=Count(counted, distinct=True))
        .values_list("facet", "option", "count")
    )
