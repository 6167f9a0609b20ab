"""Everyday words: what people call what they are going through ("my husband passed
away", "panicking all the time"), turned into the directory's concerns and kinds of
support, and the words that suggest someone may be at risk now.

Both are phrases matched word by word: the words are stemmed with Snowball's English
stemmer (the one PostgreSQL's 'english' search uses), so "panicking", "panicked" and
"panic" meet; a phrase matches when its words come in its order with at most MAX_GAP
other words between them ("lost my dear mum" has "lost mum"). A word of five letters or
more that no phrase uses is read as the nearest one a phrase does ("bereavment",
"panicing"), as a person in a hurry types them.
"""

import difflib
import json
import re
import threading
from dataclasses import dataclass
from functools import cache

import snowballstemmer
from django.conf import settings

from services.geo import place_key
from services.memo import Memo
from services.models import EverydayPhrase

MAX_GAP = 3
KEPT_SECONDS = 300
# How alike a mistyped word and a phrase's word must be (difflib's ratio, of their stems).
TYPO_CUTOFF = 0.8
TYPO_MIN_LENGTH = 5
# How alike the words of a search that found nothing must be to a phrase's for its
# concerns to be offered.
CLOSE_CUTOFF = 0.7
MOST_SUGGESTED = 3

# A Snowball stemmer keeps the word it is working on in itself, so threads sharing one mix
# their words up (an IndexError under load): each thread has its own.
_thread = threading.local()
_NOT_WORD = re.compile(r"[\W_]+")


def words(text: str) -> tuple[str, ...]:
    """The stems of text's words: lower case, accents and apostrophes gone ("can't" is
    "cant"), folded as place names are (geo.place_key)."""
    stemmer = getattr(_thread, "stemmer", None)
    if stemmer is None:
        stemmer = _thread.stemmer = snowballstemmer.stemmer("english")
    return tuple(stemmer.stemWords(place_key(text).split()))


def contains(searched: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Whether the phrase's words come in the search in order, at most MAX_GAP apart."""
    if not phrase:
        return False
    for start, word in enumerate(searched):
        if word == phrase[0] and _rest_follows(searched, start, phrase[1:]):
            return True
    return False


def _rest_follows(searched, at: int, rest) -> bool:
    if not rest:
        return True
    window = searched[at + 1 : at + 2 + MAX_GAP]
    return any(
        word == rest[0] and _rest_follows(searched, at + 1 + offset, rest[1:])
        for offset, word in enumerate(window)
    )


@dataclass(frozen=True)
class Meaning:
    phrase: tuple[str, ...]  # its stems
    concerns: tuple[tuple[str, str], ...]  # (slug, name)
    support_types: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Vocabulary:
    meanings: tuple[Meaning, ...]
    known: frozenset[str]  # every stem a phrase uses

    def corrected(self, searched: tuple[str, ...]) -> tuple[str, ...]:
        """The search's words, each unknown long one read as the nearest known one."""
        return tuple(
            word
            if word in self.known or len(word) < TYPO_MIN_LENGTH
            else next(iter(difflib.get_close_matches(word, self.known, 1, TYPO_CUTOFF)), word)
            for word in searched
        )

    def meant(self, q: str) -> list[Meaning]:
        searched = self.corrected(words(q))
        return [m for m in self.meanings if contains(searched, m.phrase)]


def _read() -> Vocabulary:
    meanings = tuple(
        Meaning(
            words(phrase.phrase),
            tuple((c.slug, c.name) for c in phrase.concerns.all()),
            tuple((t.slug, t.name) for t in phrase.support_types.all()),
        )
        for phrase in EverydayPhrase.objects.prefetch_related("concerns", "support_types")
    )
    return Vocabulary(meanings, frozenset(word for m in meanings for word in m.phrase))


# Kept briefly; the admin forgets them when staff edit them.
_kept = Memo(_read, KEPT_SECONDS)


def vocabulary() -> Vocabulary:
    return _kept.get()


def forget() -> None:
    _kept.forget()


def understood(q: str) -> list[str]:
    """The names of the concerns and kinds of support q's everyday phrases point to, less
    those q names itself ("grief" needs no telling that it found "Grief and loss")."""
    names = {}
    for meaning in vocabulary().meant(q):
        names.update(meaning.concerns)
        names.update(meaning.support_types)
    typed = set(words(q))
    return sorted(name for name in names.values() if not typed & set(words(name)))


def search_words(q: str) -> str:
    """What the everyday phrases in q mean, as search words: the names of the concerns
    and kinds of support they point to, any of them ("" if q has none). Every listing
    with a concern has its name among its words, weighted as its name."""
    concerns, types = {}, {}
    for meaning in vocabulary().meant(q):
        concerns.update(meaning.concerns)
        types.update(meaning.support_types)
    if concerns and types:
        # A phrase that names both ("someone to talk to about my grief") wants both.
        wanted = [f"{c} {t}" for c in concerns.values() for t in types.values()]
    else:
        wanted = list(concerns.values()) or list(types.values())
    return " or ".join(_plain(name) for name in sorted(wanted))


def _plain(name: str) -> str:
    # "Obsessive-compulsive disorder (OCD)": words only, which websearch and SQLite both
    # read as "all of these" (a leading "-" would mean "not").
    return " ".join(_NOT_WORD.sub(" ", name).split())


def closest_concerns(q: str) -> list[tuple[str, str]]:
    """(slug, name) of the concerns whose everyday words come closest to q's, closest
    first: for a search that found nothing."""
    searched = words(q)
    if not searched:
        return []
    best: dict[tuple[str, str], float] = {}
    for meaning in vocabulary().meanings:
        # How well each of the phrase's words is met by one of the search's.
        score = sum(
            max(difflib.SequenceMatcher(None, word, typed).ratio() for typed in searched)
            for word in meaning.phrase
        ) / len(meaning.phrase)
        if score >= CLOSE_CUTOFF:
            for concern in meaning.concerns:
                best[concern] = max(best.get(concern, 0.0), score)
    ranked = sorted(best, key=lambda concern: (-best[concern], concern[1]))
    return ranked[:MOST_SUGGESTED]


@cache
def _crisis_phrases() -> tuple[tuple[str, ...], ...]:
    with open(settings.BASE_DIR / "fixtures" / "crisis_words.json", encoding="utf-8") as file:
        return tuple(words(phrase) for phrase in json.load(file)["phrases"])


def suggests_risk(q: str) -> bool:
    """Whether q's words suggest a risk to life or safety now (fixtures/crisis_words.json):
    the results page then opens with urgent help. The words are never logged."""
    searched = words(q)
    return any(contains(searched, phrase) for phrase in _crisis_phrases())
