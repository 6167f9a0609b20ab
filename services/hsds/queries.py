"""What the HSDS API lists: published listings only, narrowed by the specification's filters."""

import uuid

from django.db.models import Exists, OuterRef, Q, QuerySet

from services.geo import MEASURED, bounding_box, distance_km
from services.hsds import vocabulary as vocab
from services.hsds.objects import linked_service_at_locations
from services.models import Location, Provider, Service
from services.search.text import search_providers


def published_services() -> QuerySet:
    return Service.objects.filter(provider__status=Provider.Status.PUBLISHED)


def published_service_at_locations() -> QuerySet:
    return linked_service_at_locations().filter(service__provider__status=Provider.Status.PUBLISHED)


def matching_providers(q: str) -> QuerySet:
    """The ids of published providers whose listing matches the words (PostgreSQL full text or SQLite)."""
    return search_providers(Provider.objects.published(), q).queryset.values("pk")


def _through_has(model_field, owner_column: str, term_column: str, term_ids) -> Exists:
    return Exists(
        model_field.through.objects.filter(
            **{owner_column: OuterRef("provider_id" if owner_column == "provider_id" else "pk")},
            **{f"{term_column}__in": term_ids},
        )
    )


def services_with_term(ref: vocab.TermRef) -> Q | Exists:
    """Services that carry this term (as HSDS attributes of the service, its provider or its places)."""
    return _services_with(ref.vocabulary, term=ref.term)


def services_in_vocabulary(vocabulary: vocab.Vocabulary) -> Q | Exists:
    return _services_with(vocabulary, term=None)


def _services_with(vocabulary: vocab.Vocabulary, *, term) -> Q | Exists:
    ids = [term.pk] if term is not None and vocabulary.model is not None else None

    def any_of(model):
        return ids if ids is not None else model.objects.values("pk")

    if vocabulary is vocab.SUPPORT_TYPES:
        return Q(support_type__in=any_of(vocabulary.model))
    if vocabulary is vocab.APPROACHES:
        return _through_has(
            Service.approaches, "service_id", "approach_id", any_of(vocabulary.model)
        )
    if vocabulary is vocab.CONCERNS:
        return _through_has(Service.concerns, "service_id", "concern_id", any_of(vocabulary.model))
    if vocabulary is vocab.AGE_GROUPS:
        return _through_has(
            Service.age_groups, "service_id", "agegroup_id", any_of(vocabulary.model)
        )
    if vocabulary is vocab.LANGUAGES:
        # A service's own languages, or else its provider's (Service.languages).
        own = Service.languages.through.objects.filter(service_id=OuterRef("pk"))
        return _through_has(
            Service.languages, "service_id", "language_id", any_of(vocabulary.model)
        ) | (
            ~Exists(own)
            & _through_has(
                Provider.languages, "provider_id", "language_id", any_of(vocabulary.model)
            )
        )
    if vocabulary is vocab.COMMUNITIES:
        return _through_has(
            Provider.communities, "provider_id", "community_id", any_of(vocabulary.model)
        )
    features = [term] if term is not None else vocab.LISTING_FEATURES
    condition = Q(pk__in=[])
    for feature in features:
        condition |= _feature_condition(feature)
    return condition


def _feature_condition(feature: vocab.Feature) -> Q:
    if feature.owner == "service":
        return Q(**{feature.field: True})
    if feature.owner == "organization":
        if feature.field == "kind":
            return Q(provider__kind=Provider.Kind.ORGANISATION)
        return Q(**{f"provider__{feature.field}": True})
    at = Service.locations.through.objects.filter(
        service_id=OuterRef("pk"), **{f"location__{feature.field}": True}
    )
    return Q(Exists(at))


def services_filtered(
    *,
    search: str = "",
    term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after=None,
) -> QuerySet:
    services = published_services()
    if organization_id is not None:
        services = services.filter(provider__uuid=organization_id)
    if modified_after is not None:
        services = services.filter(provider__updated_at__gte=modified_after)
    if search:
        services = services.filter(provider_id__in=matching_providers(search))
    if term_id is not None:
        ref = vocab.find_term(term_id)
        services = services.filter(services_with_term(ref)) if ref else services.none()
    if taxonomy_id is not None:
        vocabulary = vocab.vocabulary_by_id().get(str(taxonomy_id))
        services = (
            services.filter(services_in_vocabulary(vocabulary)) if vocabulary else services.none()
        )
    return services


def near(sals: QuerySet, *, latitude: float, longitude: float, metres: int) -> QuerySet:
    """Services at locations within this distance of a point.

    Measured as the results page measures (Location.distance_point): to a place shown by
    town only, from the middle of its square of a hundredth of a degree, so that repeated
    questions cannot pin it down.
    """
    km = metres / 1000
    # The middle of a place's square is under 0.8 km from it: the box is that much wider.
    min_lat, max_lat, min_lng, max_lng = bounding_box(latitude, longitude, km + 1)
    return (
        sals.filter(
            location__latitude__gte=min_lat,
            location__latitude__lte=max_lat,
            location__longitude__gte=min_lng,
            location__longitude__lte=max_lng,
        )
        .annotate(**Location.distance_point_sql("location__"))
        .annotate(distance=distance_km(latitude, longitude, *MEASURED))
        .filter(distance__lte=km)
    )
