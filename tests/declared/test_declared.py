"""Run by tests/test_declaration.py under tests/declared/settings.py: the criterion
declared in tests/declared/criteria.py, and nothing else, appears everywhere a criterion
does."""

from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from services.hsds import vocabulary as vocab
from services.models import Provider
from services.search import listing_index, matching, results
from services.search.facets import facet_counts, facet_counts_in_sql
from services.search.filters import ProviderFilter, search_form_class

pytestmark = pytest.mark.django_db

TICKED = {"free_consultation": "1"}


def filtered(params: dict) -> ProviderFilter:
    query = QueryDict(urlencode(params, doseq=True))
    return ProviderFilter(query, queryset=Provider.objects.published())


@pytest.fixture
def listings(make_listing):
    make_listing("Talks first for free", offers_free_consultation=True)
    make_listing("Online and free to talk", offers_free_consultation=True)
    make_listing("Charges from the start")


def test_the_form_has_it():
    field = search_form_class().base_fields["free_consultation"]
    assert field.label == "Free first conversation"


def test_the_sql_reference_and_the_index_find_the_same(listings):
    expected = ["Online and free to talk", "Talks first for free"]
    assert [p.name for p in filtered(TICKED).qs] == expected
    criteria = filtered(TICKED).criteria
    found = matching.results(listing_index.current_index(), criteria, Provider.objects.published())
    assert [listed.name for listed in found[0:10]] == expected


def test_it_is_counted_in_memory_and_in_sql(listings):
    criteria = filtered({}).criteria
    base = Provider.objects.published()
    assert facet_counts(criteria, base)["free_consultation"] == {"1": 2}
    assert facet_counts_in_sql(criteria, base)["free_consultation"] == {"1": 2}


def test_its_chip_and_its_box_on_the_page(listings, client):
    chips = results.chips(filtered(TICKED).criteria, QueryDict(urlencode(TICKED)), "")
    assert [chip.label for chip in chips] == ["free first conversation"]
    page = client.get("/find/", TICKED).content.decode()
    assert 'name="free_consultation"' in page and "2 listings" in page


def test_it_is_published_as_an_hsds_attribute(listings, client):
    term = vocab.FEATURES_BY_CODE["free-first-consultation"]
    assert (term.name, term.owner) == ("Free first conversation", "organization")
    assert [f.code for f in vocab.LISTING_FEATURES].count("free-first-consultation") == 1
    carrying = []
    for provider in Provider.objects.order_by("name"):
        organization = client.get(f"/api/hsds/organizations/{provider.uuid}").json()
        if term.id in {a["taxonomy_term_id"] for a in organization["attributes"]}:
            carrying.append(provider.name)
    assert carrying == ["Online and free to talk", "Talks first for free"]
