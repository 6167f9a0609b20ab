"""Whatever the query string, /find/ answers with the results page: 200 or 400, never 500."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LEEDS, MANCHESTER

pytestmark = pytest.mark.django_db

PARAMETERS = [
    "q",
    "near",
    "lat",
    "lng",
    "radius",
    "type",
    "concern",
    "approach",
    "format",
    "language",
    "age_group",
    "max_fee",
    "sliding_scale",
    "free",
    "insurance",
    "accepting",
    "verified",
    "min_years",
    "gender",
    "sort",
    "page",
]
JUNK_KEYS = ["", "Q", "q ", "type[]", "page[]", "utm_source", "csrfmiddlewaretoken", "\x00", "é"]

# Values a real search uses, so that examples reach the filters and not only the errors.
REAL_VALUES = [
    "grief",
    "anxiety",
    "counselling",
    "art-therapy",
    "cbt",
    "online",
    "in_person",
    "phone",
    "spanish",
    "adults",
    "woman",
    "relevance",
    "distance",
    "fee",
    "experience",
    "name",
    "Leeds",
    "Manchester",
    "Springfield",
    "LS6",
    "LS6 3AB",
    "1",
    "0",
    "on",
    "10",
    "53.8008",
    "-1.5491",
    '"grief and loss" -anxiety',
    "talk therapy",
    "anxeity",
    "or",
]

# Text without lone surrogates, which no URL can carry.
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e9", "-0", "+5", "0x10", "1_000", "１２", "٣", "1e-400", "9" * 5000]),
)
long_values = st.builds(
    lambda character, size: character * size,
    st.sampled_from(["a", "9", "é", "\x00", " ", "😀", '"', "-"]),
    st.integers(min_value=100, max_value=10_240),
)
values = st.one_of(
    st.sampled_from(REAL_VALUES),
    text,
    text.map(lambda value: value + "\x00"),
    numbers,
    long_values,
)
keys = st.one_of(st.sampled_from(PARAMETERS), st.sampled_from(JUNK_KEYS), text)
# A list of pairs, so keys repeat as they do in real links (concern=a&concern=b).
queries = st.lists(st.tuples(keys, values), max_size=8)


@pytest.fixture
def listings(make_listing):
    make_listing(
        "Ash Counselling",
        places=[("Leeds", *LEEDS)],
        languages=["english", "spanish"],
        gender="woman",
        practising_since=2005,
        services=[
            {
                "type": "counselling",
                "concerns": ["grief", "anxiety"],
                "approaches": ["cbt"],
                "age_groups": ["adults"],
                "formats": ["in_person", "online"],
                "fee_min": Decimal(40),
                "sliding_scale": True,
            }
        ],
    )
    make_listing(
        "Birch Art",
        places=[("Manchester", *MANCHESTER)],
        services=[{"type": "art-therapy", "concerns": ["trauma"], "is_free": True}],
    )
    make_listing("Online Only", services=[{"concerns": ["grief"], "formats": ["online", "phone"]}])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries)
def test_find_never_fails(client, listings, synonyms, query):
    response = client.get("/find/?" + urlencode(query, doseq=True))
    assert response.status_code in (200, 400), (query, response.status_code)
    assert 'id="results-title"' in response.content.decode()


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=st.dictionaries(st.sampled_from(PARAMETERS), st.lists(values, max_size=3)))
def test_find_with_only_real_parameter_names(client, listings, query):
    response = client.get("/find/?" + urlencode(query, doseq=True))
    assert response.status_code in (200, 400), (query, response.status_code)
    assert 'id="results-title"' in response.content.decode()
