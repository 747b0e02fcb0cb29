"""Giving memory back to the system once a large step has freed it.

Freed memory is not returned by itself: Arrow's allocator (mimalloc in pyarrow's wheels) keeps
freed pages for reuse, and glibc's ``malloc`` keeps its free heap. After reading the 2,000-job
company a process held 3.3 GB resident of which Arrow had 1.5 GB in use; after the company and
the period were dropped, 2.4 GB, where 0.7 GB was in use. In the month-end the processes that
hold such memory run beside each other (the batch, the reports, the kernels, Chromium), so what
one keeps is memory the others cannot have.
"""
from __future__ import annotations

import ctypes
import gc
import sys

#: Rows below which a step frees too little to be worth giving back: a full collection walks
#: every object the process holds (0.12 s in a process holding the sample company and its
#: period) to free a few megabytes. The 2,000-job company reads 8.2 million rows, the 300-job
#: one 1.0 million, the sample 22 thousand.
WORTH_RELEASING_ROWS = 1_000_000


def release_unused(rows: int | None = None) -> None:
    """Collect unreachable objects, then hand the free memory the allocators keep back to the
    system: Arrow's default pool (``release_unused``) and, on glibc, ``malloc_trim(0)``.

    ``rows``: how many rows the step just freed held; below :data:`WORTH_RELEASING_ROWS`
    nothing is done. Memory still in use is untouched; the next allocation costs a page fault
    more at most."""
    if rows is not None and rows < WORTH_RELEASING_ROWS:
        return
    gc.collect()
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
