"""The directory's vocabularies as HSDS taxonomies and taxonomy terms, with their lasting ids.

Six vocabularies are staff-edited tables (each term carries its own UUID); the seventh,
"Listing features", is fixed here: the yes/no facts of a listing (online, sliding scale,
accepting new clients, ...) that HSDS has no field for and that other systems filter on.
"""

import uuid
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from services.models import AgeGroup, Approach, Community, Concern, Language, SupportType

# Fixed for ever: every derived id (taxonomies, features, the parts of a listing) hangs on it.
NAMESPACE = uuid.UUID("0b6f2c1e-5d8a-4c3f-9e71-2a4d6b8c0f13")

TERM_LANGUAGE = "en"  # the language the terms are written in


def derived_id(owner: uuid.UUID | str, part: str) -> str:
    """A stable UUID for a part of an object (its address, a phone, an attribute)."""
    return str(uuid.uuid5(owner if isinstance(owner, uuid.UUID) else uuid.UUID(owner), part))


@dataclass(frozen=True)
class Vocabulary:
    key: str
    name: str
    description: str
    model: type | None = None  # None: the fixed listing features

    @cached_property
    def id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"taxonomy:{self.key}"))

    def as_hsds(self) -> dict:
        return {"id": self.id, "name": self.name, "description": self.description}


SUPPORT_TYPES = Vocabulary(
    "support-types",
    "Types of support",
    "The kind of support a service gives: counselling, psychotherapy, support groups, art therapy, play therapy.",
    SupportType,
)
APPROACHES = Vocabulary(
    "approaches",
    "Therapeutic approaches",
    "How a practitioner works: the therapeutic approaches and modalities a service uses.",
    Approach,
)
CONCERNS = Vocabulary(
    "concerns",
    "Concerns",
    "What people come for support with, that a service works with.",
    Concern,
)
LANGUAGES = Vocabulary("languages", "Languages", "Languages a provider can work in.", Language)
COMMUNITIES = Vocabulary(
    "communities",
    "Communities and identities",
    "Communities and identities a provider belongs to or has experience with.",
    Community,
)
AGE_GROUPS = Vocabulary(
    "age-groups", "Age groups", "The ages of the people a service is for.", AgeGroup
)
FEATURES = Vocabulary(
    "listing-features",
    "Listing features",
    "Facts about how a service is offered that other systems filter on.",
)

VOCABULARIES = [SUPPORT_TYPES, APPROACHES, CONCERNS, LANGUAGES, COMMUNITIES, AGE_GROUPS, FEATURES]
BY_MODEL = {v.model: v for v in VOCABULARIES if v.model is not None}


@dataclass(frozen=True)
class Feature:
    """A yes/no fact of a service, a provider ("organization") or a location."""

    code: str
    name: str
    description: str
    owner: str  # "service", "organization" or "location"
    field: str  # the model field; "kind" means "is an organisation"

    @cached_property
    def id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"feature:{self.code}"))

    def holds(self, obj) -> bool:
        if self.field == "kind":
            return obj.kind == "organisation"
        return bool(getattr(obj, self.field))


def _declared_features() -> list[Feature]:
    """The features that are search criteria, as the criteria declare them."""
    from services.search.criteria import Level, attributes

    def owner(attribute, criterion) -> str:
        if attribute.on_place:
            return "location"
        return "organization" if criterion.level == Level.PROVIDER else "service"

    return [
        Feature(a.code, label, a.description, owner(a, criterion), a.field)
        for a, label, criterion in attributes()
    ]


# The features that are search criteria come from their declarations; these others are
# only published (and read back), not searched on.
_PUBLISHED_ONLY = [
    Feature(
        "individuals",
        "For individuals",
        "Works with people on their own.",
        "service",
        "for_individuals",
    ),
    Feature("couples", "For couples", "Works with couples.", "service", "for_couples"),
    Feature("families", "For families", "Works with families.", "service", "for_families"),
    Feature("groups", "In groups", "Works with groups.", "service", "for_groups"),
    Feature(
        "free-first-consultation",
        "Free first consultation",
        "The first conversation costs nothing.",
        "organization",
        "offers_free_consultation",
    ),
    Feature(
        "organisation",
        "An organisation",
        "A group practice, charity or service rather than an individual practitioner.",
        "organization",
        "kind",
    ),
]
LISTING_FEATURES = _declared_features()
LISTING_FEATURES += [
    f for f in _PUBLISHED_ONLY if f.code not in {declared.code for declared in LISTING_FEATURES}
]
FEATURES_BY_CODE = {f.code: f for f in LISTING_FEATURES}
FEATURES_BY_ID = {f.id: f for f in LISTING_FEATURES}


def term_hsds(vocabulary: Vocabulary, term, *, detail: bool = False) -> dict:
    """A term (a taxonomy row or a Feature) as an HSDS taxonomy_term."""
    if isinstance(term, Feature):
        data = _term_hsds(vocabulary, term.id, term.code, term.name, term.description)
    else:
        data = _term_hsds(vocabulary, str(term.uuid), term.slug, term.name, term.description)
    if detail:
        return {**data, "taxonomy_detail": vocabulary.as_hsds()}
    return data


@lru_cache(maxsize=4096)
def _term_hsds(
    vocabulary: Vocabulary, term_id: str, code: str, name: str, description: str
) -> dict:
    # The same few dozen terms are in every listing: built once, keyed by all they say,
    # so an edited term is a new key, never a stale answer. Callers do not change it.
    return {
        "id": term_id,
        "code": code,
        "name": name,
        "description": description,
        "taxonomy": vocabulary.name,
        "taxonomy_id": vocabulary.id,
        "language": TERM_LANGUAGE,
    }


@dataclass(frozen=True)
class TermRef:
    """Which vocabulary a term id belongs to, and the term (a saved row or a Feature)."""

    vocabulary: Vocabulary
    term: object


def all_terms() -> list[TermRef]:
    """Every term of every vocabulary, in vocabulary order then by name (one query each)."""
    found = []
    for vocabulary in VOCABULARIES:
        if vocabulary.model is None:
            terms = sorted(LISTING_FEATURES, key=lambda f: f.name)
        else:
            terms = vocabulary.model.objects.order_by("name")
        found.extend(TermRef(vocabulary, term) for term in terms)
    return found


def find_term(term_id: uuid.UUID) -> TermRef | None:
    """The term with this id, looking in each vocabulary in turn."""
    feature = FEATURES_BY_ID.get(str(term_id))
    if feature:
        return TermRef(FEATURES, feature)
    for vocabulary in VOCABULARIES:
        if vocabulary.model is not None:
            term = vocabulary.model.objects.filter(uuid=term_id).first()
            if term is not None:
                return TermRef(vocabulary, term)
    return None


@cache
def vocabulary_by_id() -> dict[str, Vocabulary]:
    return {v.id: v for v in VOCABULARIES}
