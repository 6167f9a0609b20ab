"""Reading the log of listing changes (models.ListingChange) in order, without missing one.

Sequence numbers are handed out when a row is inserted, but rows become visible when
their transaction commits: on PostgreSQL, change 41 can appear after 42 was read. The
numbers skipped are kept as gaps and looked for again until GAP_SECONDS have passed (a
rolled-back change leaves a gap for good).
"""

import time

from django.db import connections, router

from services.models import ListingChange

# Every listing may have changed (a change with no provider): build everything again.
EVERY_LISTING = object()

# Longer than any transaction that writes listings is expected to stay open.
GAP_SECONDS = 60

_TABLE = ListingChange._meta.db_table


def _cursor():
    """On the database the listings are read from (a replica, if there is one)."""
    return connections[router.db_for_read(ListingChange)].cursor()


_AFTER_SQL = f"SELECT id, provider_id FROM {_TABLE} WHERE id > %s ORDER BY id"
_LAST_SQL = f"SELECT MAX(id) FROM {_TABLE}"


class ChangeReader:
    def __init__(self, last: int):
        self.last = last
        # Numbers skipped, as ranges (first, last, when first missed): a rolled-back import
        # skips thousands at once. And those of them read since, so as not to twice.
        self.gaps: list[tuple[int, int, float]] = []
        self.late: set[int] = set()

    @classmethod
    def from_now(cls) -> "ChangeReader":
        """A reader of the changes after the latest one committed."""
        with _cursor() as cursor:
            cursor.execute(_LAST_SQL)
            return cls(cursor.fetchone()[0] or 0)

    def read(self):
        """The ids of the listings changed since the last read (a set), or EVERY_LISTING."""
        now = time.monotonic()
        self.gaps = [gap for gap in self.gaps if now - gap[2] < GAP_SECONDS]
        if not self.gaps:
            self.late.clear()
        after = min((first for first, _last, _when in self.gaps), default=self.last + 1) - 1
        with _cursor() as cursor:
            cursor.execute(_AFTER_SQL, [after])
            rows = cursor.fetchall()
        changed = set()
        for number, provider_id in rows:
            if number <= self.last:
                if number in self.late or not self._missed(number):
                    continue  # read before
                self.late.add(number)
            else:
                if number > self.last + 1:
                    self.gaps.append((self.last + 1, number - 1, now))
                self.last = number
            if provider_id is None:
                return self._every()
            changed.add(provider_id)
        return changed

    def _missed(self, number: int) -> bool:
        return any(first <= number <= last for first, last, _when in self.gaps)

    def _every(self):
        # Whatever else is logged is in the full build that follows.
        self.gaps.clear()
        self.late.clear()
        self.from_latest()
        return EVERY_LISTING

    def from_latest(self) -> None:
        with _cursor() as cursor:
            cursor.execute(_LAST_SQL)
            self.last = max(self.last, cursor.fetchone()[0] or 0)
