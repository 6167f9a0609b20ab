"""Each process's listing index, kept current by applying edits in place.

As in Lucene's near-real-time search: a large index of every published listing, built at
start (services/facet_index.py), which never changes; a small index of the listings
changed since it was built; and a mask that hides the changed listings' old rows in the
large one. An edit rebuilds only the small index, so its cost grows with the listings
changed since the last full build, not with the directory. Once they pass MERGE_SHARE of
the listings, a thread builds a new large index while the pages are answered from the
old one, and swaps it in.

Every process learns of edits from the database, the only truth: ListingChange is a log
with a sequence number (models.listings_changed() writes it in the edit's transaction).
A thread reads it every LISTING_INDEX_FOLLOW_SECONDS, on any host, on PostgreSQL or
SQLite alike. With LISTING_INDEX_FOLLOW = "inline" (the tests), each request reads it.
"""

import gc
import logging
import os
import threading
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import close_old_connections, connection

from services import facet_index, geo
from services.listing_changes import EVERY_LISTING, ChangeReader
from services.memory import memory_release

logger = logging.getLogger(__name__)

# A merge starts when the changed listings pass this share of the directory (and
# MERGE_AT_LEAST): a small index of 2% costs about 2% more per search.
MERGE_SHARE = 0.02
MERGE_AT_LEAST = 500


@dataclass
class ListingIndex:
    """A full index, the listings changed since it was built, and their own index."""

    base: facet_index.FacetIndex
    changed: frozenset = frozenset()
    delta: facet_index.FacetIndex | None = None
    # bool[base.providers]: False for the base's listings that changed since (None: none).
    alive: np.ndarray | None = None
    parts: list = field(init=False)

    def __post_init__(self):
        self.parts = [(self.base, self.alive)]
        if self.delta is not None and self.delta.providers:
            self.parts.append((self.delta, None))

    @property
    def providers(self) -> int:
        alive = self.base.providers if self.alive is None else int(self.alive.sum())
        return alive + (self.delta.providers if self.delta is not None else 0)

    def with_changes(self, ids) -> "ListingIndex":
        """This index with these listings read again from the database."""
        changed = self.changed | frozenset(ids)
        return ListingIndex(self.base, changed, *_delta(self.base, changed))


def _delta(base: facet_index.FacetIndex, changed: frozenset):
    delta = facet_index.build(ids=changed)
    positions, known = facet_index.positions_of(base.provider_ids, sorted(changed))
    alive = np.ones(base.providers, dtype=bool)
    alive[positions[known]] = False
    return delta, alive


class _Follower:
    """This process's index and its place in the change log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.index: ListingIndex | None = None
        self.reader: ChangeReader | None = None
        self.merging: threading.Thread | None = None
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()
        self.stopping = threading.Event()

    def current(self) -> ListingIndex:
        if self.pid != os.getpid():
            # A forked worker (gunicorn builds the index before it forks): the index is
            # shared, copy-on-write; the threads are not, so they start again here.
            self.pid, self.thread, self.merging = os.getpid(), None, None
            self.stopping = threading.Event()
        if self.index is None:
            with self.lock:
                if self.index is None:
                    self._build()
                    return self.index  # with every change up to now
        if _mode() == "inline":
            self.follow()
        elif self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(
                        target=self._follow_forever, name="listing-index-follow", daemon=True
                    )
                    self.thread.start()
        return self.index

    def _build(self) -> None:
        reader = ChangeReader.from_now()
        base = facet_index.build()
        index = ListingIndex(base)
        # Edits made while it was being built: read again.
        self.index, self.reader = self._applied(index, reader), reader

    def _applied(self, index: ListingIndex, reader: ChangeReader) -> ListingIndex:
        ids = reader.read()
        if ids is EVERY_LISTING:
            self._merge_in_background()
            return index
        if ids:
            geo.forget_places()  # places include the listings' own towns and postcodes
            index = index.with_changes(ids)
            if len(index.changed) > max(MERGE_AT_LEAST, MERGE_SHARE * index.base.providers):
                self._merge_in_background()
        return index

    def follow(self) -> None:
        """Apply the edits logged since the last look."""
        with self.lock:
            if self.index is not None:
                self.index = self._applied(self.index, self.reader)

    def _follow_forever(self) -> None:
        period = getattr(settings, "LISTING_INDEX_FOLLOW_SECONDS", 0.5)
        while not self.stopping.wait(period):
            try:
                close_old_connections()
                before = self.index
                self.follow()
                if self.index is not before:
                    memory_release()
            except Exception:
                # The database away for a moment: the pages go on from the index as it
                # is, and the next look catches up from the log.
                logger.exception("Could not apply listing changes")
                connection.close()
        connection.close()

    def _merge_in_background(self) -> None:
        if self.merging is not None and self.merging.is_alive():
            return
        self.merging = threading.Thread(target=self._merge, name="listing-index-merge", daemon=True)
        self.merging.start()

    def _merge(self) -> None:
        try:
            reader = ChangeReader.from_now()
            fresh = ListingIndex(facet_index.build())
            with self.lock:
                # The edits since the build began, and any the old index had that the
                # new one may have missed, applied before anyone sees it.
                self.index = self._applied(fresh, reader)
                self.reader = reader
            memory_release()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()


_follower = _Follower()


def _mode() -> str:
    return getattr(settings, "LISTING_INDEX_FOLLOW", "thread")


def current_index() -> ListingIndex:
    """This process's listing index, as of the latest edits it has applied."""
    return _follower.current()


def warm() -> None:
    """Build the index now (gunicorn calls this before it starts its workers)."""
    with _follower.lock:
        _follower._build()  # and no thread: it would not survive the fork
    # The workers are forked from this process: none of its connections, nor the pool
    # holding them, may be shared with them.
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()


def merge_now() -> None:
    """Build a new full index and wait for it (tests, and after bulk loads)."""
    _follower.current()
    _follower._merge()


def forget() -> None:
    """Drop this process's index (tests)."""
    global _follower
    _follower.stop()
    _follower = _Follower()
    gc.collect()
