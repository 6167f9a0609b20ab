"""How search words are read: websearch syntax shared by the PostgreSQL and SQLite bodies."""

import pytest

from services.search.text import parse, parse_groups


def texts(groups):
    return [[(term.text, term.excluded) for term in group] for group in groups]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("grief", [[("grief", False)]]),
        ("grief leeds", [[("grief", False), ("leeds", False)]]),
        ('"low mood" -online', [[("low mood", False), ("online", True)]]),
        ("psychotherapy or counselling", [[("psychotherapy", False)], [("counselling", False)]]),
        ("grief OR anxiety leeds", [[("grief", False)], [("anxiety", False), ("leeds", False)]]),
        ('"talk or walk"', [[("talk or walk", False)]]),
        ("order", [[("order", False)]]),
        ("or", []),
        ("  ", []),
        ('"unclosed phrase', [[("unclosed", False), ("phrase", False)]]),
        ("grief, (loss)!", [[("grief", False), ("loss", False)]]),
    ],
)
def test_parse_groups(q, expected):
    assert texts(parse_groups(q)) == expected


def test_parse_flattens_the_groups():
    assert [term.text for term in parse("a1 or b2 c3")] == ["a1", "b2", "c3"]
