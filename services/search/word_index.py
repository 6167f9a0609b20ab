"""Search words answered in memory (PostgreSQL): which providers each stemmed word is in.

A common word ("grief") is in a third of all listings. The GIN index finds them in a few
milliseconds, but reading their rows back to learn their ids and rank costs hundreds of
milliseconds at 100,000 listings. Here every lexeme of the published listings' search
vectors maps to the providers whose vector holds it, with the most prominent weight it
has there (A: name and kind of support ... D: statement), so a query is a few array
operations. PostgreSQL still turns the person's words into a query (stemming, stop words,
synonyms), so the words mean exactly what they mean to the database. A phrase of two
words ("low mood") is looked up the same way among each listing's pairs of neighbouring
words (migration 0010); a longer phrase, or one with a word left out between ("cup of
tea"), needs every word's positions, which are not kept, and goes to the database.
"""

import re
from dataclasses import dataclass

import numpy as np
from django.db import connections, router

from services.models import Provider

# PostgreSQL's default ts_rank weights for D, C, B, A; the codes below are 0 = A ... 3 = D.
WEIGHT_OF_CODE = np.array([1.0, 0.4, 0.2, 0.1])

POSTINGS_SQL = """
    SELECT u.lexeme,
           string_agg(int8send(p.id), ''::bytea ORDER BY p.id),
           string_agg(
               set_byte('\\x00'::bytea, 0, CASE WHEN 'A' = ANY(u.weights) THEN 0
                                                WHEN 'B' = ANY(u.weights) THEN 1
                                                WHEN 'C' = ANY(u.weights) THEN 2
                                                ELSE 3 END),
               ''::bytea ORDER BY p.id)
      FROM services_provider p, unnest(p.search_vector) u
     WHERE p.status = %s AND (%s IS NULL OR p.id = ANY(%s))
     GROUP BY u.lexeme
"""


# Each listing's pairs of neighbouring words ('low mood'), as a generated column keeps them.
PAIRS_SQL = """
    SELECT u.lexeme, string_agg(int8send(p.id), ''::bytea ORDER BY p.id)
      FROM services_provider p, unnest(p.phrase_pairs) u
     WHERE p.status = %s AND (%s IS NULL OR p.id = ANY(%s))
     GROUP BY u.lexeme
"""

# The words of a pair are in the same dictionary as the words, joined by a space, which
# no stemmed word holds.
PAIR = " "


@dataclass
class Postings:
    positions: np.ndarray  # int32: the providers (positions in the listing index) with the word
    codes: np.ndarray  # uint8: the most prominent weight it has in each (0 = A ... 3 = D)


def build(locate, ids=None) -> dict[str, Postings]:
    """Every lexeme of the published listings (or of those among `ids`), with its
    postings (one query).

    `locate(ids)` gives each provider's position in the listing index, and whether it
    is there (a listing published after the providers were read is not, yet).
    """
    words = {}
    with connections[router.db_for_read(Provider)].cursor() as cursor:
        among = None if ids is None else list(ids)
        cursor.execute(POSTINGS_SQL, [Provider.Status.PUBLISHED, among, among])
        for lexeme, ids, codes in cursor:
            positions, known = locate(np.frombuffer(bytes(ids), dtype=">i8"))
            words[lexeme] = Postings(
                positions=positions[known].astype(np.int32),
                codes=np.frombuffer(bytes(codes), np.uint8)[known],
            )
        cursor.execute(PAIRS_SQL, [Provider.Status.PUBLISHED, among, among])
        for pair, ids in cursor:
            positions, known = locate(np.frombuffer(bytes(ids), dtype=">i8"))
            words[pair] = Postings(positions=positions[known].astype(np.int32), codes=None)
    return words


class NeedsPositions(Exception):
    """The query has a phrase: only the database, which keeps word positions, can answer it."""


# The text form of a tsquery: 'lexeme' (quotes doubled inside), operators and brackets.
_TOKEN = re.compile(r"'((?:[^']|'')*)'(:\*?[A-D]*)?|<->|<\d+>|[&|!()]|\s+")


def match(
    words: dict[str, Postings], providers: int, tsqueries: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Providers matching any of the tsqueries (their text form), and a rank for each.

    The rank adds, for each word found, the weight of its most prominent place in the
    listing: a name or kind of support outweighs a mention in the statement.
    """
    mask = np.zeros(providers, dtype=bool)
    rank = np.zeros(providers)
    for text in tsqueries:
        tokens = _tokens(text)
        if not tokens:
            continue  # only stop words: PostgreSQL matches nothing either
        found, score = _Parser(tokens, words, providers).parse()
        mask |= found
        rank = np.maximum(rank, np.where(found, score, 0.0))
    return mask, rank


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        token = _TOKEN.match(text, position)
        if token is None:
            raise ValueError(f"Unexpected text in a tsquery: {text[position:]!r}")
        position = token.end()
        if token.group(0).isspace():
            continue
        if token.group(2):  # a prefix (:*) or a weight restriction: not made by websearch
            raise NeedsPositions(text)
        tokens.append(token.group(0))
    tokens = _without_compound_phrases(tokens)
    if any(token.startswith("<") and token != "<->" for token in tokens):
        raise NeedsPositions(text)  # words apart: 'cup' <2> 'tea'
    return tokens


def _without_compound_phrases(tokens: list[str]) -> list[str]:
    """'self-esteem' <-> 'self' <-> 'esteem' becomes 'self-esteem'.

    PostgreSQL reads a hyphenated word as the whole word followed by its parts, in a
    phrase. A listing holds the whole word only where it holds the parts in that order,
    so the whole word alone is the same condition, and needs no positions.
    """
    kept, at = [], 0
    while at < len(tokens):
        token = tokens[at]
        kept.append(token)
        at += 1
        parts = token.count("-") + 1 if token.startswith("'") and "-" in token else 0
        follow = tokens[at : at + 2 * parts]
        if (
            parts
            and len(follow) == 2 * parts
            and all(t == "<->" if i % 2 == 0 else t.startswith("'") for i, t in enumerate(follow))
        ):
            at += 2 * parts
    return kept


class _Parser:
    """Precedence, lowest first: | then & then ! then <-> (two neighbouring words; a
    longer phrase needs positions)."""

    def __init__(self, tokens: list[str], words: dict[str, Postings], providers: int):
        self.tokens, self.words, self.providers, self.at = tokens, words, providers, 0

    def parse(self):
        result = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"Unexpected {self.tokens[self.at]!r} in a tsquery")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _or(self):
        mask, score = self._and()
        while self._peek() == "|":
            self.at += 1
            other_mask, other_score = self._and()
            mask, score = mask | other_mask, score + other_score
        return mask, score

    def _and(self):
        mask, score = self._not()
        while self._peek() == "&":
            self.at += 1
            other_mask, other_score = self._not()
            mask, score = mask & other_mask, score + other_score
        return mask, score

    def _not(self):
        token = self._peek()
        if token == "!":
            self.at += 1
            mask, _score = self._not()
            return ~mask, np.zeros(self.providers)
        return self._word()

    def _phrase(self):
        first = self._primary()
        if self._peek() != "<->":
            return first
        self.at += 1
        second = self._primary()
        if self._peek() == "<->" or not (isinstance(first, str) and isinstance(second, str)):
            raise NeedsPositions("a phrase of more than two words")
        # Two neighbouring words: the listings with that pair, ranked by both words.
        (mask, _), (_, first_score), (_, second_score) = (
            self._lookup(first + PAIR + second),
            self._lookup(first),
            self._lookup(second),
        )
        return mask, np.where(mask, first_score + second_score, 0.0)

    def _primary(self):
        """A word (its text, looked up by the caller) or a bracketed (mask, score)."""
        token = self._peek()
        self.at += 1
        if token == "(":
            result = self._or()
            self.at += 1  # ")"
            return result
        if token is None or not token.startswith("'"):
            raise ValueError(f"Unexpected {token!r} in a tsquery")
        return token[1:-1].replace("''", "'")

    def _word(self):
        found = self._phrase()
        return self._lookup(found) if isinstance(found, str) else found

    def _lookup(self, word: str):
        mask = np.zeros(self.providers, dtype=bool)
        score = np.zeros(self.providers)
        postings = self.words.get(word)
        if postings is not None:
            mask[postings.positions] = True
            if postings.codes is not None:
                score[postings.positions] = WEIGHT_OF_CODE[postings.codes]
        return mask, score
