"""The Jinja2 helpers of the results page give what Django's own tags give."""

import pytest
from django.http import QueryDict
from django.template.defaulttags import querystring as django_querystring

from services.templating import querystring

QUERIES = [
    "",
    "q=grief&page=2",
    "concern=grief&concern=anxiety&near=L%C3%A9eds&page=3",
    "a=1&a=2&b=",
]
CHANGES = [
    {"page": 4},
    {"page": None},
    {"near": "Leeds, England", "lat": None, "lng": None, "page": None},
    {"concern": ["trauma", "grief"]},
    {"a": "x y&z"},
    {"missing": None},
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("changes", CHANGES, ids=str)
def test_querystring_is_djangos(query, changes):
    given = QueryDict(query)
    assert querystring(given, **changes) == django_querystring(None, given, **changes)
