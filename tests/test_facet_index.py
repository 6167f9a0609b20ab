"""The listing index follows changes: in the request in tests, in a thread in production."""

import pytest

from services import facet_index
from services.models import Provider

pytestmark = pytest.mark.django_db(transaction=True)


def published() -> int:
    return facet_index.current_index().providers


def test_a_change_is_picked_up_in_the_background(make_listing, settings):
    settings.FACET_INDEX_REBUILD_IN_BACKGROUND = True
    make_listing("First")
    before = facet_index.current_index()  # no index yet: built in the request
    assert before.providers == 1

    make_listing("Second")
    # The page is answered at once from the index as it was...
    assert facet_index.current_index() is before
    facet_index._rebuilding.join(timeout=30)
    # ...and the next one from the rebuilt index.
    after = facet_index.current_index()
    assert after is not before and after.providers == 2
    assert Provider.objects.published().count() == 2


def test_without_background_rebuilds_the_request_waits_for_the_new_index(make_listing):
    make_listing("First")
    assert published() == 1
    make_listing("Second")
    assert published() == 2
