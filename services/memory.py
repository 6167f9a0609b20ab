"""Giving freed memory back to the system."""

import ctypes
import ctypes.util
import gc

_libc_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_libc_name) if _libc_name else None


def memory_release() -> None:
    """Collect the old index's arrays now and return the pages glibc keeps to itself.

    numpy's large arrays are mmapped and go back at once, but the many small objects
    of an index (names, postings) stay in the heap: without malloc_trim a worker grew
    by the size of each index it replaced.
    """
    gc.collect()
    if _libc is not None and hasattr(_libc, "malloc_trim"):
        _libc.malloc_trim(0)
