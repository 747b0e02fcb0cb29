"""Timing and memory for benchmarks: medians over repeats, peak RSS measured in a fresh process.

Each benchmark function runs in its own child process (``multiprocessing`` spawn) so that its peak
resident memory (:func:`own_peak_mb`) is its own and not the sum of everything before it.
"""
from __future__ import annotations

import json
import multiprocessing
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable


@dataclass(frozen=True, slots=True)
class Measure:
    median_s: float
    runs_s: tuple[float, ...]
    peak_rss_mb: float
    cpu_s: float = float("nan")  # median CPU time (user + system, all threads) of the runs


def own_peak_mb() -> float:
    """This process's peak resident memory in MB: Linux's ``VmHWM``, the high-water mark of the
    process's own memory. Not ``ru_maxrss`` there: a process started by ``spawn`` (fork, then
    exec) inherits in it the peak of the process it was forked from, so a child of a runner
    that had just generated a large company reported the runner's gigabytes as its own."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux and BSD


def _child(fn: Callable[..., object], repeat: int, queue, setup=None) -> None:
    try:
        state = setup() if setup is not None else None
        times, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            fn(state) if setup is not None else fn()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        queue.put(("ok", times, own_peak_mb(), statistics.median(cpu)))
    except BaseException:  # report, never hang the parent
        import traceback

        queue.put(("error", traceback.format_exc(), 0.0, 0.0))


def measure(fn: Callable[..., object], repeat: int,
            setup: Callable[[], object] | None = None) -> Measure:
    """Median of ``repeat`` timed calls of ``fn`` in a fresh process, and that process's peak RSS.

    With ``setup``, the child first calls ``setup()`` (untimed: loading the data a benchmark
    works on) and then times ``fn(state)``; the peak RSS includes what setup holds, since the
    benchmark needs it in memory."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, repeat, q, setup))
    p.start()
    status, payload, rss, cpu = q.get()
    p.join()
    if status != "ok":
        raise RuntimeError(f"benchmark failed: {payload}")
    return Measure(statistics.median(payload), tuple(payload), rss, cpu)


def _pair_child(a: Callable[..., object], b: Callable[..., object], repeat: int, queue,
                setup=None) -> None:
    try:
        state = setup() if setup is not None else None
        times: dict[str, list[float]] = {"a": [], "b": []}
        cpu: dict[str, list[float]] = {"a": [], "b": []}
        for _ in range(repeat):
            for key, fn in (("a", a), ("b", b)):
                t0, c0 = time.perf_counter(), time.process_time()
                fn(state) if setup is not None else fn()
                times[key].append(time.perf_counter() - t0)
                cpu[key].append(time.process_time() - c0)
        queue.put(("ok", times, cpu))
    except BaseException:  # report, never hang the parent
        import traceback

        queue.put(("error", traceback.format_exc(), None))


def measure_pair(a: Callable[..., object], b: Callable[..., object], repeat: int,
                 setup: Callable[[], object] | None = None) -> tuple[Measure, Measure]:
    """``a`` and ``b`` timed turn about in one fresh process (a, b, a, b, ...): on a machine whose
    speed drifts (a shared VM), the ratio of the two medians is then taken under the same
    conditions. Peak memory is measured separately, each in its own process (:func:`measure`)."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_pair_child, args=(a, b, repeat, q, setup))
    p.start()
    status, times, cpu = q.get()
    p.join()
    if status != "ok":
        raise RuntimeError(f"benchmark failed: {times}")
    ra = measure(a, 1, setup).peak_rss_mb
    rb = measure(b, 1, setup).peak_rss_mb
    return (Measure(statistics.median(times["a"]), tuple(times["a"]), ra,
                    statistics.median(cpu["a"])),
            Measure(statistics.median(times["b"]), tuple(times["b"]), rb,
                    statistics.median(cpu["b"])))


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
    cpu_s: float | None = None            # median CPU seconds (load-independent-ish)
    reference_cpu_s: float | None = None
    load_avg: float | None = None         # 1-minute load average when the line was measured
    extra: dict = field(default_factory=dict)  # a benchmark's own fields, printed beside these

    def emit(self) -> None:
        d = asdict(self)
        d.update(d.pop("extra"))
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                          for k, v in d.items()}), flush=True)


def compare(name: str, ours: Callable[[], object], reference_name: str,
            reference: Callable[[], object], repeat: int, detail: str = "") -> Line:
    a = measure(ours, repeat)
    b = measure(reference, repeat)
    line = Line(name, a.median_s, reference_name, b.median_s,
                a.median_s / b.median_s if b.median_s else float("inf"), a.peak_rss_mb,
                b.peak_rss_mb, detail, a.cpu_s, b.cpu_s, load_avg())
    line.emit()
    return line


def measure_commands(commands: Callable[[], list[list[str]]] | list[list[str]], repeat: int,
                     cwd=None, env=None, before: Callable[[], None] | None = None,
                     interval: float = 0.5) -> Measure:
    """Wall time of running ``commands`` one after another (median of ``repeat`` runs) and the
    peak memory of the whole process tree they start (sampled every ``interval`` s with psutil:
    a batch that runs notebooks on two workers holds several processes at once).

    The memory is the sum of each process's proportional set size (PSS, where the kernel keeps
    it): a page two processes share counts half in each. Summed RSS would count twice the
    pages the month-end's forked reports process shares with the batch. Reading PSS walks a
    process's memory map (1.5 ms for a 5 GB array, more for a fragmented heap), so the tree is
    sampled every half second rather than every 50 ms."""
    import subprocess
    import threading

    import psutil

    times: list[float] = []
    peak = 0
    for _ in range(repeat):
        if before is not None:
            before()
        cmds = commands() if callable(commands) else commands
        t0 = time.perf_counter()
        for cmd in cmds:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            done = threading.Event()
            seen = [0]

            def sample(pid=proc.pid):
                try:
                    root = psutil.Process(pid)
                except psutil.Error:
                    return
                while not done.is_set():
                    total = 0
                    try:
                        for p in [root, *root.children(recursive=True)]:
                            try:
                                total += _resident(p)
                            except psutil.Error:
                                pass
                    except psutil.Error:
                        pass
                    seen[0] = max(seen[0], total)
                    done.wait(interval)

            th = threading.Thread(target=sample, daemon=True)
            th.start()
            _, err = proc.communicate()
            done.set()
            th.join()
            peak = max(peak, seen[0])
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(map(str, cmd[:3]))} ... failed "
                                   f"({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
        times.append(time.perf_counter() - t0)
    return Measure(statistics.median(times), tuple(times), peak / 2**20)


def _resident(p) -> int:
    """A process's proportional set size in bytes, or its RSS where the platform has no PSS."""
    full = p.memory_full_info()
    return getattr(full, "pss", full.rss)


def load_avg() -> float:
    import os

    return round(os.getloadavg()[0], 2)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
