"""The notebook stage on a Dask distributed cluster (``wip month-end ... --cluster ADDRESS``).

An accounting firm closing the month for many client companies, or a contractor with thousands of
jobs, runs the notebooks on the machines of an existing cluster. Each notebook is one task:
:func:`wip_lib.reports.notebooks.execute_warm` on the worker thread that takes it, so every worker
thread keeps one warm kernel (started on its first notebook, reset between notebooks, replaced
when it dies or hangs, kept for later batches) and one HTML exporter per worker process. The task
returns the same :class:`~wip_lib.reports.notebooks.RunResult` a local run returns, and writes the
same executed notebook and page, so the month-end's index page and ``run_summary.json`` are built
from them exactly as from a local run.

What a worker needs: this package installed (the same version), and the company folder and the
reports folder reachable at the same paths as on the machine that runs ``wip month-end`` (a shared
or network file system). The notebooks themselves travel with the tasks. A task whose worker died
(``KilledWorker``) or that could not run is that notebook's failure, reported with its error; the
others finish. A worker's kernels are its child processes: they end with it (a kernel exits when
its parent does). ``docs/cluster.md`` has the scheduler and worker commands.

``address`` is a scheduler address (``tcp://HOST:8786``) or ``local``: a
:class:`distributed.LocalCluster` of ``workers`` processes with one thread each, on this machine,
for the length of the batch.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from wip_lib.reports.notebooks import (
    DEFAULT_TIMEOUT,
    NotebookRun,
    RunResult,
    _error_text,
    collect,
    execute_warm,
)

LOCAL = "local"


def connect(address: str, workers: int):
    """A :class:`distributed.Client` on the scheduler at ``address``, or on a new local cluster
    (``local``); closing the client closes a local cluster too. A missing ``distributed`` or an
    unreachable scheduler raises :class:`~wip_lib.core.errors.InputError` (a message, not a
    traceback)."""
    from wip_lib.core.errors import InputError, Problem

    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError([Problem("--cluster", "Dask distributed is not installed",
                                  "pip install 'wip-workbook[cluster]' (or distributed and dask)",
                                  value=address)]) from None
    try:
        if address == LOCAL:
            # Quiet: a worker that takes long to exit on a loaded machine is killed by its
            # nanny with a warning that is no concern of the month-end's.
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
            client._wip_cluster = cluster  # closed with the client (see close())
        else:
            client = Client(address, timeout=30)
        return client
    except (OSError, TimeoutError) as exc:
        raise InputError([Problem("--cluster", f"cannot reach the Dask scheduler: {exc}",
                                  "start it with `dask scheduler` and give its address, "
                                  "tcp://HOST:8786, or use --cluster local",
                                  value=address)]) from None


def close(client) -> None:
    """Disconnect; a local cluster is shut down with its workers, their kernels first (a shared
    cluster's workers keep their warm kernels for the next batch)."""
    from wip_lib.reports.notebooks import shutdown_kernels

    cluster = getattr(client, "_wip_cluster", None)
    if cluster is not None:
        try:
            client.run(shutdown_kernels)
        except Exception:  # a worker already gone: its kernels went with it
            pass
    client.close()
    if cluster is not None:
        cluster.close()


def _warm(cwd: Path, preload: tuple[str, ...]) -> bool:
    """A worker thread's kernel started (and its imports loaded), so its first notebook does not
    wait for it."""
    from wip_lib.reports.notebooks import prepare_driver, thread_kernel

    k = thread_kernel(cwd, kernel_log(), preload)
    if k.km is None:
        k.start()
    prepare_driver(exporter=False)
    return True


def warm_up(client, *, cwd: Path, preload: Iterable[str] = ()) -> list:
    """Start a warm kernel on every worker thread now (one task per thread, each held to its
    worker), while the caller computes the period; returns the futures (nothing waits for
    them: the notebooks queue behind them)."""
    futures = []
    for address, info in client.scheduler_info(n_workers=-1)["workers"].items():
        for i in range(int(info.get("nthreads", 1))):
            futures.append(client.submit(_warm, Path(cwd).resolve(), tuple(preload),
                                         key=f"wip-warm-{uuid.uuid4().hex[:8]}-{i}",
                                         workers=[address], allow_other_workers=False,
                                         pure=False))
    return futures


def kernel_log() -> Path:
    """Where a worker's kernels write their start-up chatter: a file per worker process in its
    machine's temporary folder (the worker's own log stays readable)."""
    import os
    import tempfile

    return Path(tempfile.gettempdir()) / "wip-kernels" / f"worker-{os.getpid()}.log"


def _execute(run: NotebookRun, **kwargs) -> RunResult:
    """One notebook on this worker thread's warm kernel (the task)."""
    return execute_warm(run, log=kernel_log(), **kwargs)


def _notebook_text(path: Path, cache: dict[Path, str]) -> str:
    if path not in cache:
        cache[path] = path.read_text(encoding="utf-8")
    return cache[path]


def run_on_cluster(client, runs: Iterable[NotebookRun], *, cwd: Path,
                   plotly_src_for: Callable[[NotebookRun], str | None], subtitle: str = "",
                   back_link_for: Callable[[NotebookRun], str | None] = lambda r: None,
                   progress: bool = True, timeout: float | None = DEFAULT_TIMEOUT,
                   preload: Iterable[str] = ()) -> list[RunResult]:
    """Execute ``runs`` as tasks on ``client``'s cluster; results in the order given (as
    :func:`wip_lib.reports.notebooks.run_batch`)."""
    from distributed import as_completed

    runs = list(runs)
    texts: dict[Path, str] = {}
    batch = uuid.uuid4().hex[:8]
    futures = {}
    for r in runs:
        # Absolute paths: a worker's own working directory is not this one.
        there = replace(r, notebook=Path(r.notebook).resolve(),
                        output_ipynb=Path(r.output_ipynb).resolve(),
                        output_html=Path(r.output_html).resolve())
        fut = client.submit(
            _execute, there, cwd=Path(cwd).resolve(), plotly_src=plotly_src_for(r),
            subtitle=subtitle, back_link=back_link_for(r), timeout=timeout, preload=tuple(preload),
            source=_notebook_text(Path(r.notebook), texts),
            key=f"wip-notebook-{r.key}-{batch}", pure=False, retries=0)
        futures[fut] = (r, time.perf_counter())
    def finished():
        for fut in as_completed(list(futures)):
            r, t0 = futures[fut]
            try:
                # The result names the paths as the caller gave them.
                yield replace(fut.result(), output_ipynb=str(r.output_ipynb),
                              output_html=str(r.output_html))
            except Exception as exc:  # the worker died or the task never ran: this one fails
                yield RunResult(r.key, False, time.perf_counter() - t0, str(r.output_ipynb),
                                str(r.output_html), f"on the cluster: {_error_text(exc)}")

    return collect(runs, finished(), progress)
