"""Each process's listing index, kept current by applying edits in place.

As in Lucene's near-real-time search: a large index of every published listing, built at
start (services/search/facet_index.py), which never changes; then a small index (a
segment) for the listings changed in each look at the change log, and masks that hide a
changed listing's older rows. An edit reads only the listings it changed, so its cost
grows with them, not with the directory. Past MOST_SEGMENTS, a thread reads the newer
segments' listings again as one; once the changed listings pass MERGE_SHARE of the
directory, it builds a new large index. Meanwhile the pages are answered from the index
as it was, and the new one is swapped in.

Every process learns of edits from the database, the only truth: ListingChange is a log
with a sequence number (models.listings_changed() writes it in the edit's transaction).
A thread reads it every LISTING_INDEX_FOLLOW_SECONDS, on any host, on PostgreSQL or
SQLite alike. With LISTING_INDEX_FOLLOW = "inline" (the tests), each request reads it.
"""

import gc
import logging
import operator
import os
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connections

from services import geo
from services.memory import memory_release
from services.search import facet_index
from services.search.listing_changes import EVERY_LISTING, ChangeReader

logger = logging.getLogger(__name__)

# A merge starts when the changed listings pass this share of the directory (and
# MERGE_AT_LEAST): their segments cost about that share more per search.
MERGE_SHARE = 0.02
MERGE_AT_LEAST = 500
# More segments than this are combined into one, in the background: each costs a little
# on every search, and reading many listings again at once costs less a listing.
MOST_SEGMENTS = 6


@dataclass(frozen=True, eq=False)
class Segment:
    """The listings changed in one look at the log (or several, combined), as they were
    read then: their own small index."""

    index: facet_index.FacetIndex
    ids: frozenset

    @classmethod
    def read(cls, ids) -> "Segment":
        ids = frozenset(ids)
        return cls(facet_index.build(ids=ids), ids)


class ListingIndex:
    """A full index and the segments of the listings changed since it was built, newest
    last. Each part hides the rows of the listings a later one holds again."""

    def __init__(self, base: facet_index.FacetIndex, segments: tuple = ()):
        self.base, self.segments = base, segments
        self.changed = frozenset().union(*(segment.ids for segment in segments))
        self.parts = []
        later: set = set()
        for index, ids in [*((s.index, s.ids) for s in reversed(segments)), (base, None)]:
            # The index's listings, but for those a later part holds again.
            alive = (
                ~facet_index.positions_mask(sorted(later), index.provider_ids) if later else None
            )
            # The full index always (a search of an empty directory is still a search).
            if index is base or index.providers and (alive is None or alive.any()):
                self.parts.append((index, alive))
            if ids is not None:
                later |= ids
        self.parts.reverse()

    @property
    def providers(self) -> int:
        return sum(
            index.providers if alive is None else int(alive.sum()) for index, alive in self.parts
        )

    def with_changes(self, ids) -> "ListingIndex":
        """This index with these listings read again from the database."""
        return ListingIndex(self.base, (*self.segments, Segment.read(ids)))

    def combined(self, segments: tuple, segment: Segment) -> "ListingIndex":
        """This index with `segments` (a run of its own, still there) replaced by `segment`,
        which holds their listings read again; None if they are not all there now."""
        for start in range(len(self.segments) - len(segments) + 1):
            run = self.segments[start : start + len(segments)]
            if all(map(operator.is_, run, segments)):
                kept = self.segments
                return ListingIndex(
                    self.base, (*kept[:start], segment, *kept[start + len(segments) :])
                )
        return None

    def to_combine(self) -> tuple:
        """The segments to read again as one: the newer ones, while the oldest holds more
        than twice their listings (so that each listing is read again a few times at most,
        as in Lucene's tiered merges); else all of them."""
        oldest, newer = self.segments[0], self.segments[1:]
        if len(oldest.ids) > 2 * sum(len(segment.ids) for segment in newer):
            return newer
        return self.segments


class _Follower:
    """This process's index and its place in the change log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.index: ListingIndex | None = None
        self.reader: ChangeReader | None = None
        self.merging: threading.Thread | None = None
        self.merge_wanted = False
        self.scheduling = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()
        self.stopping = threading.Event()

    def current(self) -> ListingIndex:
        if self.pid != os.getpid():
            # A forked worker (gunicorn builds the index before it forks): the index is
            # shared, copy-on-write; the threads are not, so they start again here.
            self.pid, self.thread, self.merging = os.getpid(), None, None
            self.stopping, self.scheduling = threading.Event(), threading.Lock()
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
            if len(index.changed | ids) > max(MERGE_AT_LEAST, MERGE_SHARE * index.base.providers):
                # Many (an import): a new full index costs less than their segment, and
                # the pages are answered from this one until it is ready.
                self._merge_in_background()
                return index
            index = index.with_changes(ids)
            if len(index.segments) > MOST_SEGMENTS:
                self._merge_in_background(combine=index.to_combine())
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
                connections.close_all()
        connections.close_all()

    def _merge_in_background(self, combine: tuple | None = None) -> None:
        """A full build (or, with `combine`, those segments read again as one) in a
        thread. A full build asked for while that thread works runs before it ends: the
        edits that asked for it are in the database it will read."""
        with self.scheduling:
            if combine is None:
                self.merge_wanted = True
            if self.merging is not None:
                return
            self.merging = threading.Thread(
                target=self._in_background,
                args=(combine,),
                name="listing-index-merge",
                daemon=True,
            )
            self.merging.start()

    def _in_background(self, combine: tuple | None) -> None:
        try:
            if combine is not None:
                self._combine(combine)
            while True:
                with self.scheduling:
                    if not self.merge_wanted:
                        return
                self._merge()
        finally:
            with self.scheduling:
                self.merging = None
            memory_release()
            # The thread's own connections: closed, not left to the pool's timeout.
            connections.close_all()

    def wait(self) -> None:
        """Until the background work under way is done (tests)."""
        thread = self.merging
        if thread is not None:
            thread.join(timeout=60)

    def _combine(self, segments: tuple) -> None:
        """These segments read again as one; any later ones stay as they are."""
        combined = Segment.read(frozenset().union(*(s.ids for s in segments)))
        with self.lock:
            # None after a full merge, which read them again already.
            self.index = self.index.combined(segments, combined) or self.index

    def _merge(self) -> None:
        self.merge_wanted = False
        reader = ChangeReader.from_now()
        fresh = ListingIndex(facet_index.build())
        with self.lock:
            # The edits since the build began, applied before anyone sees it (many of
            # them ask for another full build).
            self.index = self._applied(fresh, reader)
            self.reader = reader

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
    # The workers are forked from this process: none of its connections, nor the pools
    # holding them, may be shared with them.
    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def forget() -> None:
    """Drop this process's index (tests)."""
    global _follower
    _follower.stop()
    _follower = _Follower()
    gc.collect()
