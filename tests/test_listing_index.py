"""The listing index applies edits in place (services/search/listing_index.py): from the change
log, in the request in tests and in a thread in production, merging in the background."""

import datetime
import io
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.http import QueryDict
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.models import (
    Concern,
    ListingChange,
    Location,
    Provider,
    Service,
    SupportType,
    listings_changed,
)
from services.search import listing_changes, listing_index, matching
from services.search.facets import facet_counts, facet_counts_in_sql
from services.search.filters import ProviderFilter
from services.search.listing_changes import EVERY_LISTING, ChangeReader
from tests.conftest import LEEDS, MANCHESTER

pytestmark = pytest.mark.django_db(transaction=True)


def filtered(params: dict) -> ProviderFilter:
    query = QueryDict(urlencode(params, doseq=True))
    return ProviderFilter(query, queryset=Provider.objects.published())


def names(params: dict) -> list[str]:
    """The results the page would list, from the listing index."""
    filterset = filtered(params)
    found = matching.results(
        listing_index.current_index(), filterset.criteria, Provider.objects.published()
    )
    return [listed.name for listed in found[0 : found.count()]]


def test_an_edit_is_applied_without_building_the_whole_index_again(make_listing):
    first = make_listing("First")
    make_listing("Second")
    before = listing_index.current_index()
    assert before.providers == 2 and len(before.parts) == 1

    first.name = "Zebra"
    first.save()
    listings_changed([first.pk])
    after = listing_index.current_index()
    assert after.base is before.base  # the full index is kept...
    assert after.changed == {first.pk}  # ...and only the listing edited read again
    assert names({"sort": "name"}) == ["Second", "Zebra"]

    Provider.objects.filter(pk=first.pk).update(status=Provider.Status.DRAFT)
    listings_changed([first.pk])
    assert names({}) == ["Second"]
    assert listing_index.current_index().providers == 1


TOWNS = [("Leeds", *LEEDS), ("Manchester", *MANCHESTER)]
CONCERNS = ["grief", "anxiety", "depression"]
EDITS = ["publish", "unpublish", "fee", "add service", "remove service", "move", "accepting"]
SEARCHES = [
    {"sort": "name"},
    {"concern": ["grief"], "sort": "fee"},
    {"near": "Leeds", "accepting": "1"},
    {"near": "Manchester", "wheelchair": "1", "sort": "distance"},
    {"max_fee": "60", "times": ["evening"], "sort": "name"},
]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(EDITS), st.integers(0, 5), st.integers(0, 150)),
        min_size=1,
        max_size=8,
    )
)
def test_random_edits_leave_the_index_as_a_fresh_build_and_the_sql_say(make_listing, edits):
    """Publishing, unpublishing, fees, services added and removed, places moved,
    availability, in any order: after each, the index's results, order and counts are the
    SQL reference's; at the end, a full build from scratch says the same."""
    Provider.objects.all().delete()
    listing_index.forget()
    made = [
        make_listing(
            f"Listing {n}",
            places=[
                {
                    "town": TOWNS[n % 2][0],
                    "latitude": TOWNS[n % 2][1],
                    "longitude": TOWNS[n % 2][2],
                    "opens_evenings": n % 2 == 0,
                    "wheelchair_access": "full" if n % 3 == 0 else "unknown",
                    "wheelchair_access_confirmed_by": "staff" if n % 3 == 0 else "",
                }
            ],
            accepting_new_clients=n % 3 == 0,
            services=[{"concerns": [CONCERNS[n % 3]], "fee_min": Decimal(30 + 10 * n)}],
        )
        for n in range(6)
    ]
    listing_index.current_index()
    for edit, which, number in edits:
        provider = made[which]
        services = Service.objects.filter(provider=provider)
        if edit in ("publish", "unpublish"):
            status = Provider.Status.PUBLISHED if edit == "publish" else Provider.Status.DRAFT
            Provider.objects.filter(pk=provider.pk).update(status=status)
        elif edit == "fee":
            services.update(fee_min=Decimal(number))
        elif edit == "add service":
            service = Service.objects.create(
                provider=provider,
                support_type=SupportType.objects.get(slug="counselling"),
                offers_in_person=True,
                fee_min=Decimal(number),
            )
            service.concerns.set(Concern.objects.filter(slug=CONCERNS[number % 3]))
            service.locations.set(provider.locations.all())
        elif edit == "remove service":
            if services.count() > 1:
                services.order_by("pk").first().delete()
        elif edit == "move":
            town, latitude, longitude = TOWNS[number % 2]
            Location.objects.filter(provider=provider).update(
                town=town, latitude=latitude, longitude=longitude
            )
        else:
            Provider.objects.filter(pk=provider.pk).update(accepting_new_clients=number % 2 == 0)
        listings_changed([provider.pk])
        for params in SEARCHES:
            filterset = filtered(params)
            assert names(params) == [p.name for p in filterset.qs], (edit, params)
            base = Provider.objects.published()
            assert _nonzero(facet_counts(filterset.criteria, base)) == _nonzero(
                facet_counts_in_sql(filterset.criteria, base)
            ), (edit, params)
    edited = [names(params) for params in SEARCHES]
    listing_index.forget()
    assert [names(params) for params in SEARCHES] == edited


def _nonzero(counts: dict) -> dict:
    return {name: {o: n for o, n in options.items() if n} for name, options in counts.items()}


def test_edits_are_followed_by_a_thread_in_production(make_listing, settings):
    settings.LISTING_INDEX_FOLLOW = "thread"
    settings.LISTING_INDEX_FOLLOW_SECONDS = 0.05
    make_listing("First")
    assert listing_index.current_index().providers == 1
    make_listing("Second")  # its save says the listing changed
    deadline = time.monotonic() + 10
    while listing_index.current_index().providers != 2:
        assert time.monotonic() < deadline, "the change was not applied"
        time.sleep(0.05)
    assert any(t.name == "listing-index-follow" for t in threading.enumerate())


def test_many_edits_are_merged_into_a_new_full_index(make_listing, monkeypatch):
    monkeypatch.setattr(listing_index, "MERGE_AT_LEAST", 2)
    monkeypatch.setattr(listing_index, "MERGE_SHARE", 0)
    listings = [make_listing(f"Listing {n}") for n in range(4)]
    before = listing_index.current_index()
    Provider.objects.filter(pk__in=[listing.pk for listing in listings[:3]]).update(name="Edited")
    listings_changed([listing.pk for listing in listings[:3]])
    # Three changed at once, over the limit: no segment for them, a full build instead,
    # while the pages are answered from the index as it was.
    assert listing_index.current_index().segments == ()
    listing_index._follower.wait()
    after = listing_index.current_index()
    assert after.base is not before.base
    assert after.changed == frozenset() and after.providers == 4
    assert names({"sort": "name"}) == ["Edited", "Edited", "Edited", "Listing 3"]


def test_a_full_build_asked_for_during_a_combine_follows_it(make_listing, monkeypatch):
    monkeypatch.setattr(listing_index, "MOST_SEGMENTS", 1)
    listings = [make_listing(f"Listing {n}") for n in range(3)]
    listing_index.current_index()
    follower = listing_index._follower
    started = threading.Event()
    release = threading.Event()
    combine = follower._combine

    def slow_combine(segments):
        started.set()
        release.wait(10)
        combine(segments)

    monkeypatch.setattr(follower, "_combine", slow_combine)
    for listing in listings[:2]:
        listings_changed([listing.pk])
        listing_index.current_index()  # the second segment starts a combine
    assert started.wait(10)
    Provider.objects.update(name="Renamed")
    listings_changed()  # any listing: a full build, asked for while the combine works
    listing_index.current_index()
    release.set()
    follower.wait()
    assert names({}) == ["Renamed"] * 3
    assert listing_index.current_index().segments == ()


def test_many_segments_are_combined_into_one(make_listing, monkeypatch):
    monkeypatch.setattr(listing_index, "MOST_SEGMENTS", 2)
    listings = [make_listing(f"Listing {n}") for n in range(4)]
    before = listing_index.current_index()
    for listing in listings[:3]:
        Provider.objects.filter(pk=listing.pk).update(name=f"Renamed {listing.name}")
        listings_changed([listing.pk])
        listing_index.current_index()  # one segment each
    listing_index._follower.wait()
    after = listing_index.current_index()
    assert after.base is before.base and len(after.segments) == 1
    assert after.changed == {listing.pk for listing in listings[:3]}
    assert names({"sort": "name"}) == [
        "Listing 3",
        "Renamed Listing 0",
        "Renamed Listing 1",
        "Renamed Listing 2",
    ]


def test_a_change_to_every_listing_merges_in_the_background(make_listing):
    make_listing("First")
    before = listing_index.current_index()
    Provider.objects.update(name="Renamed")
    listings_changed()  # as when a term every listing uses is deleted
    assert listing_index.current_index() is before  # answered from the old one meanwhile
    listing_index._follower.wait()
    assert names({}) == ["Renamed"]


def test_a_change_committed_out_of_order_is_not_missed(db):
    """On PostgreSQL a change can become visible after a later-numbered one: the number
    it left is looked for again."""
    reader = ChangeReader.from_now()
    start = reader.last
    ListingChange.objects.create(pk=start + 2, provider_id=20)
    assert reader.read() == {20}
    assert reader.gaps[0][:2] == (start + 1, start + 1)
    ListingChange.objects.create(pk=start + 1, provider_id=10)  # committed late
    assert reader.read() == {10}
    assert reader.read() == set()  # read once only
    ListingChange.objects.create(pk=start + 3, provider_id=None)
    assert reader.read() is EVERY_LISTING
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # explicit ids do not move the sequence
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                [ListingChange._meta.db_table, start + 3],
            )


def test_a_wide_gap_is_kept_as_one_range_until_it_expires(db, monkeypatch):
    """A rolled-back import of many listings skips as many numbers."""
    reader = ChangeReader.from_now()
    start = reader.last
    ListingChange.objects.create(pk=start + 100_000, provider_id=1)
    assert reader.read() == {1}
    assert reader.gaps[0][:2] == (start + 1, start + 99_999)
    ListingChange.objects.create(pk=start + 50_000, provider_id=2)
    assert reader.read() == {2}
    assert reader.read() == set()
    monkeypatch.setattr(listing_changes, "GAP_SECONDS", 0)
    assert reader.read() == set()
    assert not reader.gaps and not reader.late
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                [ListingChange._meta.db_table, start + 100_000],
            )


def test_the_change_log_keeps_a_day(db):
    from django.core.management import call_command

    old = ListingChange.objects.create(provider_id=1)
    ListingChange.objects.filter(pk=old.pk).update(
        changed_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
    )
    recent = ListingChange.objects.create(provider_id=2)
    call_command("prune_listing_changes", stdout=io.StringIO())
    assert list(ListingChange.objects.values_list("pk", flat=True)) == [recent.pk]


# Each process that reads listings: builds its index, then says how many it lists each
# time that changes (its follower thread applies the edits).
WATCH = """
import time
from services.search import listing_index

seen = listing_index.current_index().providers
print(seen, flush=True)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    now = listing_index.current_index().providers
    if now != seen:
        print(now, flush=True)
        break
    time.sleep(0.02)
"""


def test_an_edit_reaches_every_process(fresh_database_url):
    """As on several hosts: separate processes, each following the change log of one
    database, all apply an edit made by another."""
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "DJANGO_LISTING_INDEX_FOLLOW_SECONDS": "0.1",
    }

    def manage(*args, run=subprocess.run, **kwargs):
        return run(
            [sys.executable, "manage.py", *args], cwd=django_settings.BASE_DIR, env=env, **kwargs
        )

    manage("migrate", "--noinput", "-v0", check=True)
    manage("seed_demo", "--providers", "12", check=True, capture_output=True)
    watchers = [
        manage("shell", "--no-imports", "-c", WATCH, run=subprocess.Popen, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        before = [int(watcher.stdout.readline()) for watcher in watchers]
        assert before == [12, 12]
        edit = (
            "from services import listings; from services.models import Provider; "
            "listings.provider_unpublish(provider=Provider.objects.published().first(), by=None)"
        )
        manage("shell", "--no-imports", "-c", edit, check=True)
        after = [int(watcher.stdout.readline() or 0) for watcher in watchers]
        assert after == [11, 11]
    finally:
        for watcher in watchers:
            watcher.kill()
            watcher.wait()
