"""Timing and memory for benchmarks: medians over repeats, peak RSS measured in a fresh process.

Each benchmark function runs in its own child process (``multiprocessing`` spawn) so that its peak
resident memory (``ru_maxrss`` of that child) is its own and not the sum of everything before it.
"""
from __future__ import annotations

import json
import multiprocessing
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class Measure:
    median_s: float
    runs_s: tuple[float, ...]
    peak_rss_mb: float


def _child(fn: Callable[[], object], repeat: int, queue) -> None:
    try:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        queue.put(("ok", times, rss_kb / 1024))
    except BaseException as exc:  # report, never hang the parent
        queue.put(("error", repr(exc), 0.0))


def measure(fn: Callable[[], object], repeat: int) -> Measure:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, repeat, q))
    p.start()
    status, payload, rss = q.get()
    p.join()
    if status != "ok":
        raise RuntimeError(f"benchmark failed: {payload}")
    return Measure(statistics.median(payload), tuple(payload), rss)


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    median_s: float
    reference: str
    reference_median_s: float
    ratio: float  # ours / reference: below 1 is faster than the reference
    peak_rss_mb: float
    reference_peak_rss_mb: float
    detail: str = ""

    def emit(self) -> None:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                          for k, v in asdict(self).items()}), flush=True)


def compare(name: str, ours: Callable[[], object], reference_name: str,
            reference: Callable[[], object], repeat: int, detail: str = "") -> Line:
    a = measure(ours, repeat)
    b = measure(reference, repeat)
    line = Line(name, a.median_s, reference_name, b.median_s,
                a.median_s / b.median_s if b.median_s else float("inf"), a.peak_rss_mb,
                b.peak_rss_mb, detail)
    line.emit()
    return line


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
