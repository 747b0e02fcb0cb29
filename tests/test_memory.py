"""Freed memory goes back to the system (:func:`wip_lib.core.memory.release_unused`): what Arrow's
pool and malloc keep after a large table is dropped is returned, not held beside the month-end's
other processes. Measured in a fresh process: its resident set, from ``/proc``. A step over
fewer rows than :data:`~wip_lib.core.memory.WORTH_RELEASING_ROWS` is not worth the collection."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the resident set from /proc")

SCRIPT = textwrap.dedent("""
    import numpy as np, pyarrow as pa, pyarrow.compute as pc
    from wip_lib.core.memory import release_unused

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    # about 800 MB in column-sized buffers, as a large export's columns are read and dropped
    numbers = [pa.array(np.arange(200_000, dtype="int64")) for _ in range(400)]
    text = [pc.cast(a, pa.string()) for a in numbers[:100]]
    del numbers, text
    freed = rss_mb()
    release_unused()
    print(round(freed), round(rss_mb()))
""")


@linux_only
def test_memory_freed_by_a_large_table_is_given_back():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True).stdout.split()
    freed, released = map(int, out)
    assert freed - released >= 150, (freed, released)  # kept by the allocators until released


def _collections(rows: int) -> list[int]:
    """The garbage collections ``release_unused(rows)`` runs (their generations); automatic
    ones are off meanwhile, so only its own are counted."""
    import gc

    from wip_lib.core.memory import release_unused

    seen: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    was_enabled = gc.isenabled()
    gc.disable()
    gc.callbacks.append(count)
    try:
        release_unused(rows)
    finally:
        gc.callbacks.remove(count)
        if was_enabled:
            gc.enable()
    return seen


def test_a_step_over_fewer_rows_than_the_threshold_is_not_worth_a_collection():
    from wip_lib.core.memory import WORTH_RELEASING_ROWS

    assert _collections(WORTH_RELEASING_ROWS - 1) == []
    assert _collections(WORTH_RELEASING_ROWS) == [2]  # a full collection
    assert _collections(None) == [2]  # no size given: always


JEMALLOC_SCRIPT = textwrap.dedent("""
    import numpy as np, pyarrow as pa, pyarrow.compute as pc
    from wip_lib.core.memory import JEMALLOC_FROM_BYTES, reading_pool, release_unused

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    before = pa.default_memory_pool().backend_name
    with reading_pool(JEMALLOC_FROM_BYTES - 1):
        small = pa.default_memory_pool().backend_name
    with reading_pool(JEMALLOC_FROM_BYTES):
        inside = pa.default_memory_pool().backend_name
        numbers = [pa.array(np.arange(200_000, dtype="int64")) for _ in range(400)]
        text = pc.cast(numbers[7], pa.string())
        held = rss_mb()
    after = pa.default_memory_pool().backend_name
    # Allocated in the reading pool, used after it: still the same values.
    assert text.to_pylist()[:3] == ["0", "1", "2"] and int(pc.sum(numbers[399]).as_py()) > 0
    del numbers, text
    freed = rss_mb()
    release_unused()
    print(before, small, inside, after, round(held), round(rss_mb()))
""")


@linux_only
def test_the_reading_pool_is_jemalloc_its_arrays_outlive_it_and_its_memory_is_given_back():
    """A large company is read in Arrow's jemalloc pool (two threads' freed pages are shared, not
    kept per thread), a small one in the default pool (no page fault for every page freed and
    taken again); the default pool is back after it, and release_unused returns what the
    reading pool holds free."""
    out = subprocess.run([sys.executable, "-c", JEMALLOC_SCRIPT], capture_output=True,
                         text=True, check=True).stdout.split()
    before, small, inside, after = out[:4]
    held, released = map(int, out[4:])
    assert inside == "jemalloc" and before == small == after != "jemalloc", out
    assert held - released >= 500, (held, released)  # of the 640 MB the arrays held
