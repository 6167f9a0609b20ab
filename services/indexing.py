"""Keeps each provider's search document, full-text vector and the search vocabulary current."""

import re
from collections.abc import Iterable

from django.db import connection
from django.db.models import Prefetch

from services.models import Provider, SearchWord, Service

# The document holds one line per weight, most important first; PostgreSQL
# weights each line (A-D) in the vector, SQLite searches the whole text.
#   A: name, kinds of support, concerns        B: approaches, qualifications
#   C: languages, communities, places          D: statement and service texts
WEIGHTS = "ABCD"

_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)

_VECTOR_SQL = " || ".join(
    f"setweight(to_tsvector('english', split_part(search_document, E'\\n', {n})), '{w}')"
    for n, w in enumerate(WEIGHTS, start=1)
)


def search_document(
    *,
    name: str,
    support_types: Iterable[str] = (),
    concerns: Iterable[str] = (),
    approaches: Iterable[str] = (),
    qualifications: Iterable[str] = (),
    languages: Iterable[str] = (),
    communities: Iterable[str] = (),
    places: Iterable[str] = (),
    statement: str = "",
    service_texts: Iterable[str] = (),
) -> str:
    def terms(*groups: Iterable[str]) -> list[str]:
        # Sorted and unique, so the same listing always gives the same document.
        return sorted(
            {folded for group in groups for term in group if (folded := " ".join(term.split()))}
        )

    lines = [
        [" ".join(name.split()), *terms(support_types, concerns)],
        terms(approaches, qualifications),
        terms(languages, communities, places),
        [" ".join(statement.split()), *terms(service_texts)],
    ]
    return "\n".join(" ".join(part for part in line if part) for line in lines)


def provider_search_document(provider: Provider) -> str:
    """The document of a provider loaded with search_queryset()."""
    services = list(provider.services.all())
    return search_document(
        name=provider.name,
        support_types=[s.support_type.name for s in services]
        + [s.support_type.noun for s in services],
        concerns=[c.name for s in services for c in s.concerns.all()],
        approaches=[a.name for s in services for a in s.approaches.all()],
        qualifications=[f"{q.title} {q.issuer}" for q in provider.qualifications.all()],
        languages=[language.name for language in provider.languages.all()],
        communities=[community.name for community in provider.communities.all()],
        places=[
            f"{loc.town} {loc.postcode_district} {loc.region}" for loc in provider.locations.all()
        ],
        statement=provider.statement,
        service_texts=[f"{s.name} {s.description}" for s in services],
    )


def search_queryset():
    services = Service.objects.select_related("support_type").prefetch_related(
        "concerns", "approaches"
    )
    return Provider.objects.prefetch_related(
        Prefetch("services", queryset=services),
        "qualifications",
        "languages",
        "communities",
        "locations",
    )


def search_index_update(provider_ids: Iterable[int], *, batch_size: int = 1000) -> None:
    """Rebuild the search document and vector of these providers from what is saved."""
    ids = list(provider_ids)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        documents = {
            p.pk: provider_search_document(p) for p in search_queryset().filter(pk__in=chunk)
        }
        write_search_documents(documents)


def write_search_documents(documents: dict[int, str]) -> None:
    """Store documents (provider id -> text), their vectors, and their words in the vocabulary."""
    if not documents:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE services_provider SET search_document = %s WHERE id = %s",
            [(text, pk) for pk, text in documents.items()],
        )
    search_vectors_update(list(documents))
    vocabulary_add(documents.values())


def search_vectors_update(provider_ids: list[int]) -> None:
    """PostgreSQL: recompute the weighted vectors from the stored documents, in one statement."""
    if connection.vendor != "postgresql" or not provider_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE services_provider SET search_vector = {_VECTOR_SQL} WHERE id = ANY(%s)",
            [provider_ids],
        )


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
