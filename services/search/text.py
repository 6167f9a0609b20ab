"""Search words: one entry point, a PostgreSQL full-text body and a SQLite body, the same
synonyms and everyday phrases."""

import difflib
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db import connection
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When

from services.indexing import MIN_WORD_LENGTH
from services.memo import KeyedMemo, Memo
from services.models import SearchSynonym, SearchWord
from services.search import everyday

MAX_QUERY_LENGTH = 200
SYNONYMS_CACHE_SECONDS = 300

# A quoted phrase, or a word that may start with "-" (to exclude it).
_TOKEN = re.compile(r'(-?)"([^"]+)"|(-?)([^\s"]+)')


@dataclass(frozen=True)
class Term:
    text: str
    excluded: bool = False


def parse_groups(q: str) -> list[list[Term]]:
    """Split websearch-style input into terms ("quoted phrases", -exclusions), in groups
    separated by a standalone "or": any group may match, all terms of a group must."""
    groups: list[list[Term]] = [[]]
    for match in _TOKEN.finditer(q):
        quoted = match.group(2) is not None
        minus, text = (
            (match.group(1), match.group(2)) if quoted else (match.group(3), match.group(4))
        )
        text = " ".join(text.split()).strip("'.,;:!?()")
        if not quoted and not minus and text.lower() == "or":
            groups.append([])
        elif text:
            groups[-1].append(Term(text=text, excluded=bool(minus)))
    return [group for group in groups if group]


def parse(q: str) -> list[Term]:
    """All the terms of q, whichever "or" group they are in."""
    return [term for group in parse_groups(q) for term in group]


def _read_synonyms() -> dict[str, str]:
    return dict(SearchSynonym.objects.values_list("phrase", "means"))


# Kept briefly; the admin forgets them when staff edit them.
_synonyms_kept = Memo(_read_synonyms, SYNONYMS_CACHE_SECONDS)


def synonyms() -> dict[str, str]:
    """{phrase: meaning}."""
    return _synonyms_kept.get()


def forget_synonyms() -> None:
    _synonyms_kept.forget()
    _tsqueries_kept.forget()


def expand(q: str) -> str:
    """The query with every known phrase replaced by what it means ("" if none matched)."""
    expanded, changed = q, False
    # Longest phrases first, so "grief counselling" wins over "counselling".
    for phrase, means in sorted(synonyms().items(), key=lambda item: -len(item[0])):
        pattern = re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", re.IGNORECASE)
        # A function, so that a backslash staff type in the meaning is taken as it is.
        expanded, count = pattern.subn(lambda _match, means=means: means, expanded)
        changed = changed or bool(count)
    return expanded if changed else ""


def _alternatives(q: str) -> list[str]:
    """The words to look for, any of them: q itself, q with its synonyms' meanings, and
    what the everyday phrases in it mean."""
    return [q] + [x for x in (expand(q), everyday.search_words(q)) if x]


@dataclass(frozen=True)
class SearchResult:
    queryset: QuerySet  # annotated with `rank`, higher is better (both bodies rank)


def search_providers(queryset: QuerySet, q: str) -> SearchResult:
    """Providers whose listing matches the words of q (and what its synonyms mean)."""
    q = q[:MAX_QUERY_LENGTH]
    if not parse(q):
        # Nothing to look for ("or", '""'): everything matches, equally, and can still be
        # ordered by rank as any search with words is.
        return SearchResult(queryset.annotate(rank=Value(0.0, output_field=FloatField())))
    alternatives = _alternatives(q)
    if connection.vendor == "postgresql":
        return _search_postgresql(queryset, alternatives)
    return _search_sqlite(queryset, alternatives)


def tsqueries(q: str) -> list[str]:
    """PostgreSQL: the text of the query that q, and what its synonyms mean, each make
    (as _search_postgresql would search for them), in one query."""
    q = q[:MAX_QUERY_LENGTH]
    alternatives = _alternatives(q)
    # websearch_to_tsquery, or the plain words where it fails (migration 0026).
    columns = ", ".join(["websearch_or_plain('english', %s)::text"] * len(alternatives))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", alternatives)
        return list(cursor.fetchone())


# People search for the same words again and again: each is turned into a query once in a
# while (and again when the synonyms change).
_tsqueries_kept = KeyedMemo(lambda q: tsqueries(q), seconds=SYNONYMS_CACHE_SECONDS, size=4096)


def tsqueries_remembered(q: str) -> list[str]:
    """tsqueries(q), remembered in this process."""
    return _tsqueries_kept.get(q)


def _search_postgresql(queryset, alternatives: list[str]) -> SearchResult:
    query = SearchQuery(alternatives[0], search_type="websearch", config="english")
    for alternative in alternatives[1:]:
        query |= SearchQuery(alternative, search_type="websearch", config="english")
    matched = queryset.filter(search_vector=query).annotate(
        # Normalisation 1: long statements do not outrank a short, exact listing.
        rank=SearchRank(F("search_vector"), query, normalization=1)
    )
    return SearchResult(matched)


def _search_sqlite(queryset, alternatives: list[str]) -> SearchResult:
    """Every term must appear in the document (for any alternative, or either side of "or")."""
    condition = Q()
    for alternative in alternatives:
        for group in parse_groups(alternative):
            every_term = Q()
            for term in group:
                contains = Q(search_document__icontains=term.text)
                every_term &= ~contains if term.excluded else contains
            condition |= every_term
    # A plain rank: how many of the words are in the name.
    in_name = [
        Case(When(name__icontains=term.text, then=Value(1.0)), default=Value(0.0))
        for term in parse(alternatives[0])
        if not term.excluded
    ]
    rank = sum(in_name[1:], in_name[0]) if in_name else Value(0.0)
    return SearchResult(queryset.filter(condition).annotate(rank=rank))


def suggest_spelling(q: str) -> str:
    """q with misspelt words replaced by the nearest word the listings use; "" if none is better."""
    words = [term.text for term in parse(q) if not term.excluded and " " not in term.text]
    unknown = [w for w in words if len(w) >= 4 and w.isalpha()]
    if not unknown:
        return ""
    known = set(
        SearchWord.objects.filter(word__in=[w.lower() for w in unknown]).values_list(
            "word", flat=True
        )
    )
    corrected = q
    for word in unknown:
        if word.lower() in known:
            continue
        replacement = _nearest_word(word.lower())
        if replacement:
            corrected = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", replacement, corrected, count=1)
    return corrected if corrected != q else ""


def known_words_only(q: str) -> str:
    """q with only the words some listing uses ("play therapy for my son": "play
    therapy"), for words that found nothing; "" if that leaves nothing or all of q. Words
    of three letters or fewer go too: no listing's words are kept that short."""
    terms = parse(q)
    if not terms or any(term.excluded or " " in term.text for term in terms):
        return ""
    typed = [term.text for term in terms]
    known = set(
        SearchWord.objects.filter(
            word__in=[word.lower() for word in typed if len(word) >= MIN_WORD_LENGTH]
        ).values_list("word", flat=True)
    )
    kept = [word for word in typed if word.lower() in known]
    return " ".join(kept) if kept and len(kept) < len(typed) else ""


def _nearest_word(word: str) -> str:
    if connection.vendor == "postgresql":
        # The % operator uses the trigram index on the vocabulary.
        best = (
            SearchWord.objects.filter(word__trigram_similar=word)
            .annotate(similarity=TrigramSimilarity("word", word))
            .order_by("-similarity", "word")
            .values_list("word", flat=True)
            .first()
        )
        return best or ""
    # SQLite: compare with the words that share the first letter (a short list).
    candidates = SearchWord.objects.filter(word__startswith=word[0]).values_list("word", flat=True)
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else ""
