"""Values a process keeps for a while: read on every results page, changed rarely.

The default cache (per process) pickles what it holds, so each read of the taxonomies
or the synonyms unpickled them again, a dozen times a page. A Memo keeps the value
itself. Staff edits call forget() in the process that saved them; other processes see
the change when the value expires, as they did with the cache.
"""

import threading
import time
from collections.abc import Callable


class Memo:
    _all: list = []  # every Memo and KeyedMemo, for forget_all()

    def __init__(self, compute: Callable[[], object], seconds: float):
        self.compute, self.seconds = compute, seconds
        self._kept: tuple[float, object] | None = None
        self._lock = threading.Lock()
        Memo._all.append(self)

    def get(self):
        kept = self._kept
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
        with self._lock:
            value = self.compute()
            self._kept = (time.monotonic() + self.seconds, value)
        return value

    def forget(self) -> None:
        self._kept = None

    @classmethod
    def forget_all(cls) -> None:
        """Tests start from nothing remembered."""
        for memo in cls._all:
            memo.forget()


class KeyedMemo:
    """Like Memo, for values that depend on a key: the most recently used `size` of them."""

    def __init__(self, compute: Callable[[object], object], seconds: float, size: int):
        self.compute, self.seconds, self.size = compute, seconds, size
        self._kept: dict = {}
        self._lock = threading.Lock()
        Memo._all.append(self)

    def get(self, key):
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
        value = self.compute(key)
        with self._lock:
            if len(self._kept) >= self.size:
                # Dicts keep insertion order: the oldest entry goes first.
                del self._kept[next(iter(self._kept))]
            self._kept[key] = (time.monotonic() + self.seconds, value)
        return value

    def forget(self) -> None:
        self._kept = {}
