"""Giving memory back to the system once a large step has freed it.

Freed memory is not returned by itself: Arrow's allocator (mimalloc in pyarrow's wheels) keeps
freed pages for reuse, and glibc's ``malloc`` keeps its free heap. After reading the 2,000-job
company a process held 3.3 GB resident of which Arrow had 1.5 GB in use; after the company and
the period were dropped, 2.4 GB, where 0.7 GB was in use. In the month-end the processes that
hold such memory run beside each other (the batch, the reports, the kernels, Chromium), so what
one keeps is memory the others cannot have.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import sys
from collections.abc import Iterator

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
    jemalloc = _jemalloc()
    if jemalloc is not None:  # what reading_pool's reads left there
        jemalloc.release_unused()
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


#: Exports of at least this many bytes are read in Arrow's jemalloc pool (:func:`reading_pool`);
#: smaller ones in the default pool. Measured on 2 cores (2026-12-02), mimalloc against jemalloc
#: with decay 0: at 30 jobs (15 MB) 259-288 ms against 335-349 ms a read, at 300 jobs (147 MB)
#: 1.29 s against 1.93 s, peaking at 0.79 GB against 0.61 GB (about 5.4 times the exports'
#: bytes against 4.1); at 2,000 jobs (1.1 GB) mimalloc peaked at 3.96-4.07 GB against 3.51 GB
#: and read slower. Below this size the pool's memory is a gigabyte and a half at most.
JEMALLOC_FROM_BYTES = 256 * 2**20


@contextlib.contextmanager
def reading_pool(export_bytes: int) -> Iterator[None]:
    """Arrow allocates from its jemalloc pool while the block runs (a company's files read
    into tables, ``export_bytes`` of them), then from the pool it had before; below
    :data:`JEMALLOC_FROM_BYTES` the default pool stays.

    Reading runs Procore's and the ERP's exports on two threads. mimalloc, pyarrow's default,
    keeps each thread's freed pages for that thread: measured on the 2,000-job company, the two
    threads' reads peaked at 3.96-4.07 GB where jemalloc peaked at 3.51 GB and read in 14.5 s
    against 17.4 s. jemalloc gives freed pages back at once (decay 0, :func:`_jemalloc`), so a
    read that frees and allocates again takes a page fault for every page each time: 32,000 a
    read at 30 jobs, 310,000 at 300 jobs (mimalloc: 3,000 and 40,000), a fifth to a third of the
    read. Arrays allocated here stay valid after the pool is put back (each buffer knows its
    pool); :func:`release_unused` gives back what both pools hold free. Where pyarrow was built
    without jemalloc (its Windows wheels), the default pool stays."""
    import pyarrow as pa

    pool = _jemalloc() if export_bytes >= JEMALLOC_FROM_BYTES else None
    if pool is None:
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@functools.cache
def _jemalloc():
    """pyarrow's jemalloc pool, or None where the build has none.

    Its pages are given back as soon as they are freed (decay 0, set before its first arena is
    made): with jemalloc's default decay, the company's freed pages were only marked free
    (``MADV_FREE``), still counted resident, and purged at the next allocations, which a
    month-end's batch process, running notebooks, hardly makes: 1.5 GB more held beside the
    kernels at 2,000 jobs."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        return None
    pa.jemalloc_set_decay_ms(0)
    return pool
