"""Keeps each provider's denormalised search document, result card and vector current."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch

from services.bulk_writes import rows_update
from services.models import Provider, SearchWord, Service, listings_changed
from services.upkeep import showing

# The document holds one line per weight, most important first; PostgreSQL
# weights each line (A-D) in the vector, SQLite searches the whole text.
#   A: name, kinds of support, concerns        B: approaches, qualifications
#   C: languages, communities, places          D: statement and service texts
WEIGHTS = "ABCD"

# The spelling vocabulary keeps words of this many letters or more.
MIN_WORD_LENGTH = 4
_WORD = re.compile(rf"[^\W\d_]{{{MIN_WORD_LENGTH},}}", re.UNICODE)

SEARCH_VECTOR_SQL = " || ".join(
    f"setweight(to_tsvector('english', split_part(search_document, E'\\n', {n})), '{w}')"
    for n, w in enumerate(WEIGHTS, start=1)
)


@dataclass
class ServiceFacts:
    service: Service  # its own fields; the related names below
    approaches: list[tuple[str, str]] = field(default_factory=list)  # (slug, name)
    concerns: list[tuple[str, str]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # its own (a group's), if any


@dataclass
class ListingFacts:
    """What a listing says, gathered from saved rows or from seed_demo's plans."""

    provider: Provider
    services: list[ServiceFacts]
    qualifications: list[tuple]  # (kind, title, issuer, verified_on)
    languages: list[str]
    communities: list[str]
    places: list[tuple[str, str, str]]  # (town, postcode district, region)


def facts_from_provider(provider: Provider) -> ListingFacts:
    """The facts of a provider loaded with search_queryset()."""
    return ListingFacts(
        provider=provider,
        services=[
            ServiceFacts(
                service=s,
                approaches=[(a.slug, a.name) for a in s.approaches.all()],
                concerns=[(c.slug, c.name) for c in s.concerns.all()],
                languages=[language.name for language in s.languages.all()],
            )
            for s in provider.services.all()
        ],
        qualifications=[
            (q.kind, q.title, q.issuer, q.verified_on) for q in provider.qualifications.all()
        ],
        languages=[language.name for language in provider.languages.all()],
        communities=[community.name for community in provider.communities.all()],
        places=[(loc.town, loc.postcode_district, loc.region) for loc in provider.locations.all()],
    )


def _terms(*groups: Iterable[str]) -> list[str]:
    # Sorted and unique, so the same listing always gives the same document.
    return sorted(
        {folded for group in groups for term in group if (folded := " ".join(term.split()))}
    )


def search_document(facts: ListingFacts) -> str:
    services = [f.service for f in facts.services]
    lines = [
        [
            " ".join(facts.provider.name.split()),
            *_terms(
                [s.support_type.name for s in services],
                [s.support_type.noun for s in services],
                [name for f in facts.services for _slug, name in f.concerns],
            ),
        ],
        _terms(
            [name for f in facts.services for _slug, name in f.approaches],
            [f"{title} {issuer}" for _kind, title, issuer, _verified in facts.qualifications],
        ),
        _terms(
            facts.languages,
            [name for f in facts.services for name in f.languages],
            facts.communities,
            [" ".join(place) for place in facts.places],
        ),
        [
            " ".join(facts.provider.statement.split()),
            *_terms(f"{s.name} {s.description}" for s in services),
        ],
    ]
    return "\n".join(" ".join(part for part in line if part) for line in lines)


def result_card(facts: ListingFacts) -> dict:
    """What a result card shows, so a results page needs no query per provider."""
    services = [f.service for f in facts.services]
    priced = [s for s in services if not s.is_free]
    fees = [fee for s in priced for fee in (s.fee_min, s.fee_max) if fee is not None]
    provider = facts.provider
    return {
        "kind": provider.kind,
        "introduction": provider.introduction,
        # The stored file's name, not its address: the address is the storage's to give
        # (services/cards.py), so a new MEDIA_URL or bucket needs no rebuild of the cards.
        "photo": provider.photo_card.name or None,
        "photo_alt": provider.photo_alt if provider.photo_card else "",
        # Sorted, so a card is the same whether built from saved rows or from a plan.
        "types": _unique(sorted((s.support_type.slug, s.support_type.name) for s in services)),
        "approaches": _unique(sorted(name for f in facts.services for _slug, name in f.approaches)),
        "concerns": _unique(sorted(pair for f in facts.services for pair in f.concerns)),
        "formats": [
            name
            for name, offered in [
                ("in_person", any(s.offers_in_person for s in services)),
                ("online", any(s.offers_online for s in services)),
                ("phone", any(s.offers_phone for s in services)),
            ]
            if offered
        ],
        "credentials": [
            {"kind": kind, "title": title, "verified": verified.isoformat() if verified else None}
            for kind, title, _issuer, verified in sorted(
                facts.qualifications, key=_credential_order
            )
            if kind in ("licence", "membership", "certification")
        ][:3],
        "fee_min": _money_text(min(fees)) if fees else None,
        "fee_max": _money_text(max(fees)) if fees else None,
        "currency": priced[0].currency if priced else "GBP",
        "free": any(s.is_free for s in services),
        "only_free": bool(services) and all(s.is_free for s in services),
        "sliding_scale": any(s.sliding_scale for s in services),
        "insurance": any(s.accepts_insurance for s in services),
        "towns": _unique(sorted(town for town, _district, _region in facts.places)),
        "groups": sorted(
            [_group(s) for s in services if s.group_weekday is not None],
            key=lambda group: (group["name"], group["weekday"]),
        ),
        # Whether they take people on, how soon, and how they answer messages, as
        # services/upkeep/showing.py words them.
        "availability": showing.card_facts(provider),
        # Each service on its own, so that a card can lead with the one that met the
        # search (services/search/results.py).
        "services": sorted(
            [_service_card(f) for f in facts.services],
            key=lambda service: (service["type"][1], service["name"], service["uuid"]),
        ),
    }


def _group(service: Service) -> dict:
    return {
        "name": str(service),
        "weekday": service.group_weekday,
        "start": service.group_start_time.strftime("%H:%M") if service.group_start_time else None,
        "frequency": service.group_frequency,
        "starts_on": service.group_starts_on.isoformat() if service.group_starts_on else None,
    }


def _service_card(facts: ServiceFacts) -> dict:
    s = facts.service
    fees = [] if s.is_free else [fee for fee in (s.fee_min, s.fee_max) if fee is not None]
    return {
        "uuid": str(s.uuid),
        "type": (s.support_type.slug, s.support_type.name),
        "is_group": s.support_type.is_group,
        "name": s.name,
        "concerns": sorted(facts.concerns),
        "languages": sorted(facts.languages),
        "formats": [
            name
            for name, offered in [
                ("in_person", s.offers_in_person),
                ("online", s.offers_online),
                ("phone", s.offers_phone),
            ]
            if offered
        ],
        "fee_min": _money_text(min(fees)) if fees else None,
        "fee_max": _money_text(max(fees)) if fees else None,
        "currency": s.currency,
        "free": s.is_free,
        "sliding_scale": s.sliding_scale,
        "insurance": s.accepts_insurance,
        "group": _group(s) if s.group_weekday is not None else None,
    }


def _money_text(amount) -> str:
    return str(Decimal(amount).quantize(Decimal("0.01")))


def _credential_order(qualification: tuple) -> tuple:
    kind, title, _issuer, verified = qualification
    # Licences first, verified ones before the rest.
    return (
        {"licence": 0, "membership": 1, "certification": 2}.get(kind, 3),
        verified is None,
        title,
    )


def _unique(items: Iterable) -> list:
    return [list(item) if isinstance(item, tuple) else item for item in dict.fromkeys(items)]


def search_queryset():
    services = Service.objects.select_related("support_type").prefetch_related(
        "concerns", "approaches", "languages"
    )
    return Provider.objects.prefetch_related(
        Prefetch("services", queryset=services),
        "qualifications",
        "languages",
        "communities",
        "locations",
    )


def search_index_update(provider_ids: Iterable[int], *, batch_size: int = 1000) -> None:
    """Rebuild the document, card and vector of these providers from what is saved."""
    ids = list(provider_ids)
    for start in range(0, len(ids), batch_size):
        search_index_write(list(search_queryset().filter(pk__in=ids[start : start + batch_size])))
    listings_changed(ids)


def search_index_write(providers: list[Provider]) -> None:
    """Rebuild the document, card and vector of these providers, loaded with search_queryset();
    the objects are left holding what was written."""
    for provider in providers:
        facts = facts_from_provider(provider)
        provider.search_document = search_document(facts)
        provider.card = result_card(facts)
    rows_update(providers, ["search_document", "card"])
    vectors = search_vectors_update([p.pk for p in providers])
    for provider in providers:
        if provider.pk in vectors:
            provider.search_vector = vectors[provider.pk]
    vocabulary_add(p.search_document for p in providers)


def search_vectors_update(provider_ids: list[int]) -> dict:
    """PostgreSQL: recompute the weighted vectors from the stored documents, in one statement;
    returns them by provider id."""
    if connection.vendor != "postgresql" or not provider_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE services_provider SET search_vector = {SEARCH_VECTOR_SQL} WHERE id = ANY(%s)"
            " RETURNING id, search_vector",
            [provider_ids],
        )
        return dict(cursor.fetchall())


def vocabulary_add(documents: Iterable[str]) -> None:
    """Remember the words of the first three lines (names, terms, places), for spelling suggestions."""
    words = set()
    for text in documents:
        important = text.rsplit("\n", 1)[0]
        words.update(word.lower() for word in _WORD.findall(important))
    SearchWord.objects.bulk_create(
        [SearchWord(word=word[:60]) for word in sorted(words)],
        ignore_conflicts=True,
        batch_size=1000,
    )
