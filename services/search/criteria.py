"""Every search criterion, declared once.

Each declaration says the URL parameter, its label, its options, whether it describes
the provider or one service, and the condition behind it in the models. From these come
the search form's fields and the SQL reference (filters.py), the listing index's rows
and option counts (facet_index.py, selection.py), the counts in SQL (facets.py), and the
labels of the filters, chips and "remove this" suggestions (results.py), and, where a
field holds it, the HSDS attribute it is published and imported as (hsds/vocabulary.py).
A new yes/no criterion is one Flag below, the migration for its field, and its tests.

Service criteria must all hold for one and the same service. A Flag with `places` is a
place criterion: when a place is searched, only the places meeting it count as near.
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum
from importlib import import_module

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from services.models import (
    AgeGroup,
    Approach,
    Concern,
    Gender,
    Language,
    Location,
    Provider,
    Qualification,
    Service,
    SupportType,
    Taxonomy,
)


class Level(StrEnum):
    PROVIDER = "provider"  # a fact about the provider
    SERVICE = "service"  # a fact about one of their services


@dataclass(frozen=True)
class Attribute:
    """The HSDS attribute (a term of the listing-features vocabulary) that says a criterion
    or option holds: a yes/no field of the service, the provider or one of its places."""

    code: str  # the term's code, from which its id is derived: never renamed
    field: str
    description: str
    on_place: bool = False  # the field is the place's, not the service's or provider's


@dataclass(frozen=True)
class Option:
    value: str  # the URL parameter's value
    label: str
    condition: Q
    hsds: Attribute | None = None
    chip: str = ""  # what its chip says, where the label needs the filter's name to be clear


@dataclass(frozen=True)
class Criterion:
    name: str  # the URL parameter: bookmarked, so never renamed
    label: str  # the form's label and the filter's heading
    level: Level


@dataclass(frozen=True)
class Choices(Criterion):
    """Tick any of its options: any of them will do (OR), with every other criterion (AND).

    The options are the terms of a taxonomy, the term's slug being at `path` from the
    service or provider; or `fixed` Options."""

    taxonomy: type[Taxonomy] | None = None
    path: str = ""
    fixed: tuple[Option, ...] = ()
    # The path crosses a many-to-many relation: a subquery, so that a provider who speaks
    # two of the languages ticked is listed once.
    many: bool = False
    # Where the terms are for a service or provider that has none at `path` (a group's
    # languages are its own, or else its provider's).
    fallback: str = ""

    def condition(self, values) -> Q:
        if self.taxonomy is not None:
            chosen = Q(**{f"{self.path}__in": values})
            if self.fallback:
                chosen |= Q(**{self.own: None}) & Q(**{f"{self.fallback}__in": values})
            if self.many:
                model = Provider if self.level == Level.PROVIDER else Service
                return Q(pk__in=model.objects.filter(chosen).values("pk"))
            return chosen
        any_of = Q()
        for option in self.fixed:
            if option.value in values:
                any_of |= option.condition
        return any_of

    @property
    def own(self) -> str:
        """The relation at the start of `path` ("languages"), which is empty when the
        terms come from `fallback`."""
        return self.path.split("__")[0]


@dataclass(frozen=True)
class Flag(Criterion):
    """A box to tick: ticked means "only these"; unticked, no criterion at all.

    Its condition is `when`, or, with `hsds`, that the attribute's field is true."""

    chip: str = ""  # what its chip says
    # The condition on the service or provider; a callable when it needs a subquery.
    when: Q | object = None
    # A place criterion: the places that meet it (a place search counts only those).
    places: Q | None = None
    hsds: Attribute | None = None

    def condition(self, value=True) -> Q:
        if self.when is None:
            return Q(**{self.hsds.field: True})
        return self.when() if callable(self.when) else self.when


@dataclass(frozen=True)
class Number(Criterion):
    """A number typed in; its condition is the index's and filters' own (max_fee, min_years)."""

    minimum: int = 0
    maximum: int = 0
    whole: bool = True


def _licence_checked() -> Q:
    checked = Qualification.objects.filter(
        provider_id=OuterRef("pk"), kind=Qualification.Kind.LICENCE, verified_on__isnull=False
    )
    return Q(Exists(checked))


# When a group meets, or when a place is open: a group with a schedule meets when its
# schedule says; any other service in person, when one of its places is open.
EVENING_FROM = datetime.time(17, 0)
_SCHEDULED = Q(group_weekday__isnull=False)
_UNSCHEDULED = Q(group_weekday__isnull=True)

STEP_FREE = Q(wheelchair_access=Location.WheelchairAccess.FULL)


def _offered(value: str, label: str, code: str, description: str) -> Option:
    """A format: offered in person, online or by phone, as the service's field says."""
    field = f"offers_{value}"
    return Option(value, label, Q(**{field: True}), Attribute(code, field, description))


def _at_a_place(condition: Q) -> Q:
    """Offered in person at one of its places that meets the condition. A subquery, so
    that two such criteria may be met at different places, as the index holds them."""
    places = Location.objects.filter(condition, services=OuterRef("pk"))
    return Q(offers_in_person=True) & Q(Exists(places))


def _starting_within(weeks: int, label: str) -> Option:
    """A first session within about this many weeks: the provider's wait (WAIT_WEEKS) is
    this or less, so "1 week" finds "within a week" and "about 1 week". The wait is dated
    by the availability confirmation: a listing not taking people on now never matches."""
    condition = Q(accepting_now=True, wait_weeks__lte=weeks)
    return Option(str(weeks), label, condition, chip=f"first session within {label}")


CRITERIA = {
    criterion.name: criterion
    for criterion in [
        Choices("type", "Kind of support", Level.SERVICE, SupportType, "support_type__slug"),
        Choices("concern", "Support with", Level.SERVICE, Concern, "concerns__slug"),
        Choices(
            "format",
            "How",
            Level.SERVICE,
            fixed=(
                _offered(
                    "in_person", "In person", "in-person", "Offered face to face, at a place."
                ),
                _offered("online", "Online", "online", "Offered by video."),
                _offered("phone", "By phone", "phone", "Offered by telephone."),
            ),
        ),
        Choices(
            "times",
            "When",
            Level.SERVICE,
            fixed=(
                Option(
                    "daytime",
                    "Weekday daytimes",
                    _SCHEDULED & Q(group_weekday__lte=4, group_start_time__lt=EVENING_FROM)
                    | _UNSCHEDULED & _at_a_place(Q(opens_daytime=True)),
                    Attribute(
                        "open-daytime",
                        "opens_daytime",
                        "Open on weekdays before 5 pm.",
                        on_place=True,
                    ),
                ),
                Option(
                    "evening",
                    "Evenings (from 5 pm)",
                    _SCHEDULED & Q(group_start_time__gte=EVENING_FROM)
                    | _UNSCHEDULED & _at_a_place(Q(opens_evenings=True)),
                    Attribute("open-evenings", "opens_evenings", "Open from 5 pm.", on_place=True),
                ),
                Option(
                    "weekend",
                    "Weekends",
                    _SCHEDULED & Q(group_weekday__gte=5)
                    | _UNSCHEDULED & _at_a_place(Q(opens_weekends=True)),
                    Attribute(
                        "open-weekends",
                        "opens_weekends",
                        "Open on Saturdays or Sundays.",
                        on_place=True,
                    ),
                ),
            ),
        ),
        Choices("approach", "Approach", Level.SERVICE, Approach, "approaches__slug"),
        Choices(
            "language",
            "Language",
            Level.SERVICE,
            Language,
            "languages__slug",
            many=True,
            fallback="provider__languages__slug",
        ),
        Choices("age_group", "Age", Level.SERVICE, AgeGroup, "age_groups__slug"),
        Choices("gender", "Practitioner's gender", Level.PROVIDER, Gender, "gender__slug"),
        Number("max_fee", "Most you can pay a session (£)", Level.SERVICE, 0, 10_000, False),
        Flag(
            "sliding_scale",
            "Sliding-scale fees",
            Level.SERVICE,
            "sliding-scale fees",
            hsds=Attribute(
                "sliding-scale", "sliding_scale", "Fees depend on what a person can pay."
            ),
        ),
        Flag("free", "Free", Level.SERVICE, "free", Q(is_free=True)),
        Flag(
            "insurance",
            "Accepts health insurance",
            Level.SERVICE,
            "accepts insurance",
            hsds=Attribute(
                "accepts-insurance",
                "accepts_insurance",
                "Fees can be paid by health insurance; the attribute's value names the"
                " insurers, where known.",
            ),
        ),
        Flag(
            "wheelchair",
            "Step-free access (confirmed)",
            Level.SERVICE,
            "step-free access",
            _at_a_place(STEP_FREE),
            places=STEP_FREE,
        ),
        Flag(
            "accepting",
            "Taking new clients now",
            Level.PROVIDER,
            "taking new clients",
            hsds=Attribute(
                "accepting-new-clients",
                "accepting_now",
                "Taking on new clients now; the attribute's value is the date that was last"
                " confirmed.",
            ),
        ),
        Choices(
            "starts_within",
            "First session within",
            Level.PROVIDER,
            fixed=(
                _starting_within(1, "1 week"),
                _starting_within(2, "2 weeks"),
                _starting_within(4, "4 weeks"),
                _starting_within(8, "8 weeks"),
            ),
        ),
        Flag(
            "recommended",
            "Recommended by someone who knows their work",
            Level.PROVIDER,
            "recommended",
            Q(recommendations_approved__gt=0),
        ),
        Flag(
            "verified",
            "Licence checked by our staff",
            Level.PROVIDER,
            "licence checked",
            _licence_checked,
        ),
        Number("min_years", "At least this many years' experience", Level.PROVIDER, 0, 60),
    ]
}


# Criteria declared in other modules, each with a CRITERIA list, after these (a test
# declares one this way: tests/declared/).
for _module in getattr(settings, "SEARCH_CRITERIA_MODULES", ()):
    CRITERIA.update((criterion.name, criterion) for criterion in import_module(_module).CRITERIA)


def of(kind: type, level: Level | None = None) -> tuple[str, ...]:
    """The names of the criteria of this kind (and level), in the page's order."""
    return tuple(
        name
        for name, criterion in CRITERIA.items()
        if isinstance(criterion, kind) and (level is None or criterion.level == level)
    )


def at(level: Level) -> tuple[str, ...]:
    return of(Criterion, level)


def attributes() -> list[tuple[Attribute, str, Criterion]]:
    """(attribute, label, criterion) of each criterion and option that maps to an HSDS
    attribute, in the page's order."""
    found = []
    for criterion in CRITERIA.values():
        if isinstance(criterion, Flag) and criterion.hsds is not None:
            found.append((criterion.hsds, criterion.label, criterion))
        for option in getattr(criterion, "fixed", ()):
            if option.hsds is not None:
                found.append((option.hsds, option.label, criterion))
    return found


def place_criteria() -> dict[str, Q]:
    """{name: the places that meet it} of the place criteria."""
    return {
        name: criterion.places
        for name, criterion in CRITERIA.items()
        if isinstance(criterion, Flag) and criterion.places is not None
    }
