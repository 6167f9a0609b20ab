"""Every search criterion in one FilterSet, and how many results each option would give."""

import functools
import operator
from dataclasses import dataclass

import django_filters
from django import forms
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Collate, Floor, Lower, Round, RowNumber
from django.utils import timezone

from services import geo
from services.memo import Memo
from services.models import (
    Provider,
    Service,
    SupportType,
)
from services.search import criteria
from services.search.criteria import CRITERIA, Choices, Flag, Level, Number
from services.search.text import MAX_QUERY_LENGTH, search_providers

SORTS = [
    ("relevance", "Best match"),
    ("distance", "Nearest"),
    ("fee", "Lowest fee"),
    ("experience", "Most experienced"),
    ("recommended", "Most recommended"),
    ("name", "Name"),
]
RADIUS_DEFAULT_KM = 10
RADIUS_CHOICES = [2, 5, 10, 25, 50, 100]
RADIUS_MAX_KM = 500
TAXONOMY_CACHE_SECONDS = 300

# Which criteria describe one service (they must all hold for the same service) and
# which the provider; which are lists of options, and which yes/no (services/search/criteria.py).
SERVICE_FILTERS = list(criteria.at(Level.SERVICE))
PROVIDER_FILTERS = list(criteria.at(Level.PROVIDER))
LIST_FILTERS = list(criteria.of(Choices))
FLAG_FILTERS = list(criteria.of(Flag))
TAXONOMIES = {
    name: c.taxonomy
    for name, c in CRITERIA.items()
    if isinstance(c, Choices) and c.taxonomy is not None
}
FORMATS = [(option.value, option.label) for option in CRITERIA["format"].fixed]


@dataclass
class Taxonomy:
    terms: list[tuple[str, str, str]]  # (slug, name, noun), in the taxonomy's own order

    def __post_init__(self):
        self.options = [(slug, label) for slug, label, _noun in self.terms]
        self.slugs = frozenset(slug for slug, _label, _noun in self.terms)


def taxonomy_options(name: str) -> list[tuple[str, str]]:
    """(slug, name) of a taxonomy, in its own order."""
    return _taxonomies()[name].options


def options_of(name: str) -> list[tuple[str, str]]:
    """(value, label) of each option of a list criterion, in the page's order."""
    choices = CRITERIA[name]
    if choices.taxonomy is not None:
        return taxonomy_options(name)
    return [(option.value, option.label) for option in choices.fixed]


def taxonomy_slugs(name: str) -> frozenset[str]:
    return _taxonomies()[name].slugs


def support_type_nouns() -> dict[str, str]:
    """{slug: "counsellors", ...}, for sentences about results."""
    return {slug: (noun or label).lower() for slug, label, noun in _taxonomies()["type"].terms}


def _read_taxonomies() -> dict[str, Taxonomy]:
    """Every taxonomy the results page offers, in one query."""
    text = CharField()
    parts = [
        model.objects.order_by()
        .annotate(
            taxonomy=Value(name, output_field=text),
            list_order=Window(RowNumber(), order_by=model._meta.ordering),
        )
        .values_list(
            "taxonomy",
            "slug",
            "name",
            F("noun") if model is SupportType else Value("", output_field=text),
            "list_order",
        )
        for name, model in TAXONOMIES.items()
    ]
    found = {name: [] for name in TAXONOMIES}
    for taxonomy, slug, label, noun, _position in sorted(
        parts[0].union(*parts[1:], all=True), key=lambda row: (row[0], row[4])
    ):
        found[taxonomy].append((slug, label, noun))
    return {name: Taxonomy(terms) for name, terms in found.items()}


# They change rarely, and the admin forgets them when staff edit them.
_taxonomies_kept = Memo(_read_taxonomies, TAXONOMY_CACHE_SECONDS)
_taxonomies = _taxonomies_kept.get


def clear_taxonomy_cache() -> None:
    _taxonomies_kept.forget()


class TaxonomyChoiceField(forms.MultipleChoiceField):
    """Terms of a taxonomy, checked against a set of its slugs (Django's field walks
    every choice for each value given)."""

    def __init__(self, *, taxonomy: str, **kwargs):
        self.taxonomy = taxonomy
        super().__init__(choices=lambda: taxonomy_options(taxonomy), **kwargs)

    def valid_value(self, value) -> bool:
        return value in taxonomy_slugs(self.taxonomy)


class TaxonomyFilter(django_filters.MultipleChoiceFilter):
    field_class = TaxonomyChoiceField


def taxonomy_filter(name: str, label: str) -> django_filters.MultipleChoiceFilter:
    """Checkboxes for the terms of a taxonomy; several ticked means any of them."""
    return TaxonomyFilter(label=label, taxonomy=name, widget=forms.CheckboxSelectMultiple)


class FlagFilter(django_filters.Filter):
    """A checkbox: ticked means "only these"; unticked means no filter (not "only those without")."""

    field_class = forms.BooleanField


class WholeNumberFilter(django_filters.Filter):
    field_class = forms.IntegerField


class FindForm(forms.Form):
    """Validates the criteria together: the place, and a sort that fits the search."""

    place: geo.Place | None = None
    place_choices: tuple = ()

    def __init__(self, *args, **kwargs):
        # Django deep-copies every field for each form, so that one form may change its
        # own; nothing changes these, and the 22 copies cost a millisecond a page. They
        # are shared instead (the class attribute shadowed while the form is set up).
        shared = self.base_fields
        self.base_fields = {}
        super().__init__(*args, **kwargs)
        del self.base_fields
        self.fields = dict(shared)

    def clean(self):
        data = super().clean()
        # A criterion that takes one value, given several different ones (a hand-edited
        # link): which was meant is unknown, so none is used and the person is told.
        for name, field in self.fields.items():
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if not isinstance(field, forms.MultipleChoiceField) and len(set(values)) > 1:
                self.add_error(name, "This came more than once, with different values. Give one.")
        lat, lng = data.get("lat"), data.get("lng")
        if data.get("near"):
            # A typed place wins over coordinates left from an earlier "use my location".
            lookup = geo.resolve_place_remembered(data["near"])
            self.place, self.place_choices = lookup.place, lookup.choices
            if lookup.error:
                self.add_error("near", lookup.error)
            elif lookup.place is None:
                self.add_error(
                    "near", f"There is more than one “{data['near']}”. Choose the one you mean."
                )
        elif lat is not None and lng is not None:
            self.place = geo.Place(label="your location", latitude=float(lat), longitude=float(lng))
        elif (lat is None) != (lng is None) and not {"lat", "lng"} & set(self.errors):
            self.add_error(
                "near", "Your location came through incomplete. Type a town or postcode instead."
            )
        sort = data.get("sort")
        if sort == "relevance" and not data.get("q"):
            self.add_error("sort", "Sorting by best match needs some search words.")
        elif sort == "distance" and self.place is None and "near" not in self.errors:
            self.add_error("sort", "Sorting by distance needs a place.")
        return data


def _criterion_filter(criterion) -> django_filters.Filter:
    """The form field of a criterion, as its declaration says."""
    if isinstance(criterion, Flag):
        return FlagFilter(label=criterion.label)
    if isinstance(criterion, Number):
        if criterion.whole:
            return WholeNumberFilter(
                label=criterion.label, min_value=criterion.minimum, max_value=criterion.maximum
            )
        return django_filters.NumberFilter(
            label=criterion.label,
            min_value=criterion.minimum,
            max_value=criterion.maximum,
            decimal_places=2,
        )
    if criterion.taxonomy is not None:
        return taxonomy_filter(criterion.name, criterion.label)
    return django_filters.MultipleChoiceFilter(
        label=criterion.label,
        choices=options_of(criterion.name),
        widget=forms.CheckboxSelectMultiple,
    )


class _SearchFilters(django_filters.FilterSet):
    class Meta:
        model = Provider
        fields = []
        form = FindForm

    def filter_queryset(self, queryset):
        """All criteria at once (see Criteria), from the fields that are valid."""
        providers = self.criteria.providers(queryset)
        if self.criteria.sort() == "fee":
            providers = self.criteria.with_lowest_fee(providers)
        return providers.order_by(*self.criteria.ordering())

    def get_form_class(self):
        return search_form_class()

    @property
    def criteria(self) -> "Criteria":
        if not hasattr(self, "_criteria"):
            self._criteria = criteria_of(self.form)
        return self._criteria


# Every criterion's filter, between the words and place and the order, as the page has them.
ProviderFilter = type(
    "ProviderFilter",
    (_SearchFilters,),
    {
        "q": django_filters.CharFilter(
            label="What are you looking for?", max_length=MAX_QUERY_LENGTH
        ),
        "near": django_filters.CharFilter(label="Town, city or postcode", max_length=100),
        "lat": django_filters.NumberFilter(min_value=-90, max_value=90, widget=forms.HiddenInput),
        "lng": django_filters.NumberFilter(min_value=-180, max_value=180, widget=forms.HiddenInput),
        "radius": WholeNumberFilter(label="Within (km)", min_value=1, max_value=RADIUS_MAX_KM),
        **{name: _criterion_filter(criterion) for name, criterion in CRITERIA.items()},
        "sort": django_filters.ChoiceFilter(label="Sort by", choices=SORTS, empty_label=None),
        "__module__": __name__,
        "__doc__": "The results page's criteria, and the SQL reference of what they find.",
    },
)


@functools.cache
def search_form_class() -> type[FindForm]:
    """The form of every criterion, made once (django-filter makes one per FilterSet)."""
    fields = {name: filter_.field for name, filter_ in ProviderFilter.base_filters.items()}
    return type("ProviderFilterForm", (FindForm,), fields)


@functools.cache
def field_labels() -> dict[str, str]:
    """{criterion: its label}, for the error summary."""
    return {
        name: str(field.label) if field.label else name.replace("_", " ").capitalize()
        for name, field in search_form_class().base_fields.items()
    }


def search_form(data=None) -> FindForm:
    """The results page's form on its own. The page needs its validation, not the
    FilterSet's queryset (the listing index answers), and a FilterSet copies every filter."""
    return search_form_class()(data)


TYPED_FIELDS = ("q", "near", "lat", "lng", "max_fee", "min_years")


def typed_values(form: FindForm) -> dict[str, str]:
    """What the person typed in each text field, to show back as they typed it (valid
    or not); "" for an empty field and on a form not yet sent."""
    if not form.is_bound:
        return dict.fromkeys(TYPED_FIELDS, "")
    return {name: form.data.get(name) or "" for name in TYPED_FIELDS}


def criteria_of(form: FindForm) -> "Criteria":
    form.is_valid()  # only the fields that validate go into cleaned_data
    return Criteria(form.cleaned_data, place=form.place)


@dataclass
class Criteria:
    """What a person asked for, as conditions on providers and on their services."""

    data: dict
    place: geo.Place | None = None

    def __post_init__(self):
        # An unticked box and an empty field are no criterion; a fee limit of 0 is one
        # ("only free"), though 0 == False would drop it.
        self.data = {
            key: value
            for key, value in self.data.items()
            if value not in (None, "", [], False) or key == "max_fee" and value is not None
        }

    @property
    def radius_km(self) -> int:
        return self.data.get("radius") or RADIUS_DEFAULT_KM

    def active(self) -> list[str]:
        return [name for name in SERVICE_FILTERS + PROVIDER_FILTERS if name in self.data]

    def without(self, *names: str) -> "Criteria":
        data = {key: value for key, value in self.data.items() if key not in names}
        place = None if "near" in names else self.place
        return Criteria(data, place=place)

    # Conditions

    def service_condition(self) -> Q:
        return self._condition(Level.SERVICE)

    def provider_condition(self) -> Q:
        return self._condition(Level.PROVIDER)

    def _condition(self, level: Level) -> Q:
        condition = Q()
        for name in criteria.at(level):
            if name not in self.data:
                continue
            value = self.data[name]
            if name == "max_fee":
                condition &= (
                    Q(is_free=True)
                    | Q(fee_min__lte=value)
                    | Q(fee_min__isnull=True, fee_max__lte=value)
                )
            elif name == "min_years":
                condition &= Q(practising_since__lte=timezone.localdate().year - value)
            else:
                condition &= CRITERIA[name].condition(value)
        return condition

    def places(self) -> Q | None:
        """The places a place search counts: those meeting every place criterion chosen."""
        chosen = [q for name, q in criteria.place_criteria().items() if name in self.data]
        return functools.reduce(operator.and_, chosen) if chosen else None

    def matching_services(self) -> QuerySet:
        return Service.objects.filter(self.service_condition(), provider_id=OuterRef("pk"))

    def providers(self, queryset: QuerySet, *, search: bool = True) -> QuerySet:
        queryset = queryset.filter(self.provider_condition())
        if self.service_condition():
            queryset = queryset.filter(Exists(self.matching_services()))
        if self.place:
            queryset = geo.providers_near(
                queryset,
                latitude=self.place.latitude,
                longitude=self.place.longitude,
                radius_km=self.radius_km,
                include_online="online" in self.data.get("format", []),
                places=self.places(),
            )
        if search and self.data.get("q"):
            queryset = search_providers(queryset, self.data["q"]).queryset
        return queryset

    # Order

    def sort(self) -> str:
        chosen = self.data.get("sort")
        if chosen == "relevance" and self.data.get("q"):
            return chosen
        if chosen == "distance" and self.place:
            return chosen
        if chosen in ("fee", "experience", "recommended", "name"):
            return chosen
        if self.data.get("q"):
            return "relevance"
        return "distance" if self.place else "name"

    def ordering(self) -> list:
        name = name_order()
        match self.sort():
            case "relevance" if self.place:
                # Among matches about as good, the nearest first (matching._firsts).
                return [
                    match_tier().desc(),
                    F("distance_km").asc(nulls_last=True),
                    name,
                    "pk",
                ]
            case "relevance":
                return [F("rank").desc(), name, "pk"]
            case "distance":
                return [F("distance_km").asc(nulls_last=True), name, "pk"]
            case "fee":
                return [F("lowest_fee").asc(nulls_last=True), name, "pk"]
            case "experience":
                return [F("practising_since").asc(nulls_last=True), name, "pk"]
            case "recommended":
                return [F("recommendations_approved").desc(), name, "pk"]
        return [name, "pk"]

    def with_lowest_fee(self, queryset: QuerySet) -> QuerySet:
        """The cheapest session among the services that match (free counts as 0)."""
        fee = Case(
            When(is_free=True, then=Value(0)),
            default=Coalesce("fee_min", "fee_max"),
            output_field=DecimalField(max_digits=8, decimal_places=2),
        )
        cheapest = (
            self.matching_services()
            .annotate(fee=fee)
            .exclude(fee=None)
            .order_by("fee")
            .values("fee")[:1]
        )
        return queryset.annotate(lowest_fee=Subquery(cheapest))


# Matches whose rank is in the same tenth are about as good to a person: with a place,
# the nearest of them comes first. In millionths, as the index keeps ranks.
RANK_TIER_MILLIONTHS = 100_000


def match_tier() -> Floor:
    """How well a listing matches the words, in tiers: its rank to a millionth (as the
    index keeps it), in tenths, rounded down."""
    return Floor(Round(F("rank") * 1_000_000) / RANK_TIER_MILLIONTHS)


def name_order() -> Collate:
    """Names lowered by the database, then in the order of their characters: the listing
    index compares the same lowered names in Python, whose order of characters this is
    (a locale's order would need the locale's rules, and differs between databases)."""
    return Collate(Lower("name"), "C" if connection.vendor == "postgresql" else "BINARY")
