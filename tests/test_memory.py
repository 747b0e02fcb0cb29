"""Freed memory goes back to the system (:func:`wip_lib.core.memory.release_unused`): what Arrow's
pool and malloc keep after a large table is dropped is returned, not held beside the month-end's
other processes. Measured in a fresh process: its resident set, from ``/proc``."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
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


def test_memory_freed_by_a_large_table_is_given_back():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True).stdout.split()
    freed, released = map(int, out)
    assert freed - released >= 150, (freed, released)  # kept by the allocators until released
