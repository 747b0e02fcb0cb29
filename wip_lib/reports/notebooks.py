"""Execute parameterised notebooks in parallel with Papermill, and publish them as offline HTML.

One notebook run is a :class:`NotebookRun`; its outcome a :class:`RunResult`. A failure in one run
is caught in its worker and reported with its error, so the others finish. HTML pages hide code
and carry plotly.js inside the page (``plotly_src=INLINE_PLOTLY``, the month-end's default: an
emailed page shows its charts) or load it from the report's own ``assets/`` folder (the
shared-asset layout for large batches); never from a CDN, so a report opens offline, on a
surety's laptop on a plane. Pages are rendered with nbconvert's ``basic`` template inside a page
shell of ours (``templates/page.html``), so no third-party script or style is ever referenced.
"""
from __future__ import annotations

import multiprocessing
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Callable, Iterable, Mapping

from wip_lib.reports.html import render

PLOTLY_ASSET = "assets/plotly.min.js"
#: ``plotly_src`` value that puts plotly.js itself into the page, once (a self-contained page).
INLINE_PLOTLY = "inline"
#: Cells tagged so run (tests and nbval read them) but are left off the report pages: the plain
#: text checks that repeat what the page's tables show.
HIDE_ON_PAGE = "hide-on-page"


@dataclass(frozen=True, slots=True)
class NotebookRun:
    key: str  # job id, or "portfolio"
    notebook: Path
    output_ipynb: Path
    output_html: Path
    parameters: Mapping[str, object] = field(default_factory=dict)
    title: str = ""


@dataclass(frozen=True, slots=True)
class RunResult:
    key: str
    ok: bool
    seconds: float
    output_ipynb: str
    output_html: str
    error: str | None = None


def page(title: str, body: str, *, plotly_src: str | None, subtitle: str = "",
         back_link: str | None = None) -> str:
    """Wrap rendered notebook HTML (``body``, trusted: nbconvert's rendering of our own notebook)
    in the report's page shell, ``templates/page.html``; ``title`` and ``subtitle`` are escaped
    there. ``plotly_src``: :data:`INLINE_PLOTLY` (plotly.js inside the page), a path to the
    shared file, or none."""
    if plotly_src == INLINE_PLOTLY and "Plotly.newPlot" not in body:
        plotly_src = None  # a page without a chart carries no plotly.js
    return render("page.html", title=title, body=body, subtitle=subtitle, back_link=back_link,
                  **plotly_context(plotly_src))


def plotly_context(plotly_src: str | None) -> dict:
    """The page shell's plotly.js: ``plotly_js`` (the library's text, from the installed plotly
    package) for :data:`INLINE_PLOTLY`, else ``plotly_src`` (a file the page loads)."""
    if plotly_src == INLINE_PLOTLY:
        return {"plotly_js": plotly_js(), "plotly_src": None}
    return {"plotly_js": None, "plotly_src": plotly_src}


@cache
def plotly_js() -> str:
    """plotly.js as shipped inside the plotly package (no download)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def notebook_to_html(ipynb: Path, out: Path, *, title: str, subtitle: str,
                     plotly_src: str | None, back_link: str | None = None) -> None:
    """Render an executed notebook without its code, offline."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(ipynb), as_version=4)
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {HIDE_ON_PAGE}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(config=config, template_name="basic", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True,
                            exclude_anchor_links=True)
    body, _ = exporter.from_notebook_node(nb)
    out.write_text(page(title, body, plotly_src=plotly_src, subtitle=subtitle,
                        back_link=back_link), encoding="utf-8")


def execute(run: NotebookRun, *, cwd: Path, plotly_src: str | None, subtitle: str = "",
            back_link: str | None = None) -> RunResult:
    """Execute one notebook with Papermill and publish it; never raises."""
    import papermill as pm

    started = time.perf_counter()
    run.output_ipynb.parent.mkdir(parents=True, exist_ok=True)
    run.output_html.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(str(run.notebook), str(run.output_ipynb),
                            parameters=dict(run.parameters), kernel_name="python3",
                            progress_bar=False, cwd=str(cwd), log_output=False)
        notebook_to_html(run.output_ipynb, run.output_html, title=run.title or run.key,
                         subtitle=subtitle, plotly_src=plotly_src, back_link=back_link)
        return RunResult(run.key, True, time.perf_counter() - started, str(run.output_ipynb),
                         str(run.output_html))
    except Exception as exc:  # one project's failure must never stop the batch
        message = _error_text(exc)
        return RunResult(run.key, False, time.perf_counter() - started, str(run.output_ipynb),
                         str(run.output_html), message)


def _error_text(exc: BaseException) -> str:
    # papermill's PapermillExecutionError carries the kernel's exception name and value.
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _quiet_worker(log: str | None) -> None:
    """Kernels inherit the worker's stderr and print start-up chatter there; send it to a log
    file so the progress bar stays readable (errors are reported through RunResult)."""
    import os

    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)


def _execute_star(args: tuple) -> RunResult:
    run, kwargs = args
    return execute(run, **kwargs)


def run_batch(runs: Iterable[NotebookRun], *, workers: int, cwd: Path,
              plotly_src_for: Callable[[NotebookRun], str | None],
              subtitle: str = "", back_link_for: Callable[[NotebookRun], str | None] = lambda r: None,
              progress: bool = True, log: Path | None = None) -> list[RunResult]:
    """Execute ``runs`` on ``workers`` processes; results in the order given. Kernel chatter
    goes to ``log`` when given."""
    runs = list(runs)
    args = [(r, {"cwd": cwd, "plotly_src": plotly_src_for(r), "subtitle": subtitle,
                 "back_link": back_link_for(r)}) for r in runs]
    results: dict[str, RunResult] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(runs), desc="notebooks", unit="nb")
    if workers <= 1:
        for a in args:
            res = _execute_star(a)
            results[res.key] = res
            if bar:
                bar.update(1)
    else:
        ctx = multiprocessing.get_context("spawn")
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_quiet_worker,
                                 initargs=(str(log) if log else None,)) as pool:
            futures = [pool.submit(_execute_star, a) for a in args]
            for fut in as_completed(futures):
                res = fut.result()
                results[res.key] = res
                if bar:
                    bar.update(1)
                    if not res.ok:
                        bar.write(f"FAILED {res.key}: {res.error}")
    if bar:
        bar.close()
    return [results[r.key] for r in runs]


def write_plotly_asset(report_dir: Path) -> Path:
    """Copy plotly.js (shipped inside the plotly package) into the report, once."""
    target = report_dir / PLOTLY_ASSET
    target.parent.mkdir(parents=True, exist_ok=True)
    js = plotly_js()
    if not target.exists() or target.stat().st_size != len(js.encode("utf-8")):
        target.write_text(js, encoding="utf-8")
    return target
