"""Execute parameterised notebooks on warm kernels, and publish them as offline HTML.

One notebook run is a :class:`NotebookRun`; its outcome a :class:`RunResult`. A failure in one run
is caught and reported with its error, so the others finish. HTML pages hide code and carry
plotly.js inside the page (``plotly_src=INLINE_PLOTLY``, the month-end's default: an emailed page
shows its charts) or load it from the report's own ``assets/`` folder (the shared-asset layout for
large batches); never from a CDN, so a report opens offline, on a surety's laptop on a plane. Pages
are rendered with nbconvert's ``basic`` template inside a page shell of ours
(``templates/page.html``), so no third-party script or style is ever referenced.

Warm kernels. Starting a kernel and importing pandas, plotly and ``wip_lib`` costs seconds; running
a dashboard on a warm kernel costs a fraction of one. :func:`run_batch` therefore keeps ``workers``
kernels (:class:`WarmKernel`, one per worker thread) for the whole batch:

- each notebook is executed by Papermill itself, through a Papermill engine (``wip-warm``,
  :class:`WarmEngine`) that runs nbclient on the worker's kernel instead of starting one, so the
  ``parameters`` cell, the injected-parameters cell and Papermill's metadata are exactly those of a
  one-off ``papermill`` run;
- before each notebook the kernel's namespace is reset (IPython's ``reset(new_session=True)``:
  every name gone, execution counts from 1, the working directory and warning registries as at
  start), while imported modules stay loaded;
- a kernel that dies, or a cell that runs past ``timeout`` seconds, fails that notebook alone: the
  kernel is shut down and a fresh one takes its place for the next notebook;
- one nbconvert ``HTMLExporter`` renders every page (building one costs more than rendering a
  page).

``warm=False`` runs each notebook on a kernel of its own (a plain ``papermill.execute_notebook``),
the one-off behaviour the warm pool must reproduce (``tests/test_warm_kernels.py``).
"""
from __future__ import annotations

import atexit
import queue
import re
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Callable, Iterable, Mapping

from wip_lib.core import import_costs  # noqa: F401  (before nbformat: see the module)
from wip_lib.reports.html import render

PLOTLY_ASSET = "assets/plotly.min.js"
ENGINE = "wip-warm"
KERNEL = "python3"
#: seconds one cell may run before its kernel counts as hung (``wip month-end --timeout``)
DEFAULT_TIMEOUT = 600.0
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
    head, tail = _page_parts(title, body, plotly_src=plotly_src, subtitle=subtitle,
                             back_link=back_link)
    return head if tail is None else head + plotly_js() + tail


#: Where plotly.js goes in a page rendered around it (a private-use character; the script sits
#: in the page's head, before any text of the page's own).
_JS_HERE = "\ue000plotly.js\ue000"


def _page_parts(title: str, body: str, *, plotly_src: str | None, subtitle: str,
                back_link: str | None) -> tuple[str, str | None]:
    """:func:`page` as ``(head, tail)`` around plotly.js when the page carries it inline, else
    ``(page, None)``."""
    if plotly_src == INLINE_PLOTLY and "Plotly.newPlot" not in body:
        plotly_src = None  # a page without a chart carries no plotly.js
    args = dict(title=title, body=body, subtitle=subtitle, back_link=back_link)
    if plotly_src != INLINE_PLOTLY:
        return render("page.html", **args, **plotly_context(plotly_src)), None
    head, tail = render("page.html", **args, plotly_js=_JS_HERE, plotly_src=None).split(
        _JS_HERE, 1)
    return head, tail


def write_page(out: Path, title: str, body: str, *, plotly_src: str | None, subtitle: str = "",
               back_link: str | None = None) -> None:
    """:func:`page` written to ``out`` as UTF-8, the same bytes, with plotly.js's 4.8 MB (held
    as two-byte text: it has a non-Latin character) encoded once per process, not joined into
    and encoded with every page: a fifth of a dashboard page's rendering."""
    head, tail = _page_parts(title, body, plotly_src=plotly_src, subtitle=subtitle,
                             back_link=back_link)
    with open(out, "wb") as fh:
        fh.write(head.encode("utf-8"))
        if tail is not None:
            fh.write(_plotly_js_utf8())
            fh.write(tail.encode("utf-8"))


@cache
def _plotly_js_utf8() -> bytes:
    return plotly_js().encode("utf-8")


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


_EXPORTER = None
_EXPORTER_LOCK = threading.Lock()


def _exporter():
    """The process's one ``HTMLExporter`` (building one costs more than rendering a page);
    callers hold ``_EXPORTER_LOCK``."""
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        config = Config()  # cells tagged HIDE_ON_PAGE run but stay off the page
        config.TagRemovePreprocessor.remove_cell_tags = {HIDE_ON_PAGE}
        config.TagRemovePreprocessor.enabled = True
        # The notebook checked against its schema once, after the preprocessors, not after each
        # of them (a dozen): a page's preprocessors only drop cells and set metadata.
        config.Exporter.optimistic_validation = True
        _EXPORTER = _page_exporter_class(HTMLExporter)(
            config=config, template_name="basic", exclude_input=True, exclude_input_prompt=True,
            exclude_output_prompt=True, exclude_anchor_links=True)
    return _EXPORTER


#: What nbconvert's closing pass adds for accessibility, done on the text: alternative text on
#: every image without any. (Its other addition, ``tabindex`` on the cells of a
#: ``.jp-Notebook``, never applies to the "basic" template the pages use: it has none.)
_IMG_NO_ALT = re.compile(r"<img(?![^>]*\balt=)")
NO_ALT = "No description has been provided for this image"


def _page_exporter_class(html_exporter):
    """nbconvert's ``HTMLExporter`` without its closing pass through BeautifulSoup, which parses
    and re-serialises the whole page to add ``alt`` to images (and ``tabindex`` in the lab
    template): two thirds of a page's rendering on a dashboard's tables. The alternative text is
    added on the text (``_IMG_NO_ALT``); the rest is ``HTMLExporter.from_notebook_node``
    (nbconvert 7) as it stands. ``tests/test_page_exporter.py`` holds the pages to what
    nbconvert gives, as an HTML parser reads both."""
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(html_exporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _IMG_NO_ALT.sub(f'<img alt="{NO_ALT}"', html), resources

    return PageExporter


def _export_body(nb) -> str:
    """The notebook rendered without its code (a lock keeps threads from sharing the exporter
    mid-render)."""
    with _EXPORTER_LOCK:
        exporter = _exporter()
        body, _ = exporter.from_notebook_node(_page_view(nb, _shown(exporter)))
    return body


@cache
def _shown(exporter) -> tuple[str, ...]:
    """The output forms the exporter can put on a page: its display priority, as the filter
    that picks an output's form reads it."""
    from nbconvert.utils.base import NbConvertBase

    return tuple(NbConvertBase(parent=exporter).display_data_priority)


def _page_view(nb, shown: Iterable[str]):
    """``nb`` with each output's data cut to the forms a page can show (``shown``, the
    exporter's display priority): what the page is made from is unchanged, and the exporter's
    deep copies and schema checks no longer walk the rest. A chart's plotly JSON (for JupyterLab;
    the page uses its HTML form) is four fifths of a dashboard's nodes. ``nb`` itself is left as
    it is: the exporter copies before it changes anything."""
    from nbformat import NotebookNode

    shown = frozenset(shown)

    def cut(output):
        data = output.get("data")
        if not data or shown.issuperset(data):
            return output
        return NotebookNode({**output, "data": NotebookNode(
            {k: v for k, v in data.items() if k in shown})})

    cells = [NotebookNode({**c, "outputs": [cut(o) for o in c["outputs"]]})
             if c.get("outputs") else c for c in nb.cells]
    return NotebookNode({**nb, "cells": cells})


def notebook_to_html(ipynb, out: Path, *, title: str, subtitle: str,
                     plotly_src: str | None, back_link: str | None = None) -> None:
    """Render an executed notebook (a path, or the notebook itself) without its code, offline."""
    import nbformat

    nb = ipynb if isinstance(ipynb, nbformat.NotebookNode) else \
        nbformat.read(str(ipynb), as_version=4)
    write_page(Path(out), title, _export_body(nb), plotly_src=plotly_src, subtitle=subtitle,
               back_link=back_link)


# -- warm kernels --------------------------------------------------------------------------------

#: Run silently before each notebook: the user namespace, output cache and execution count as a
#: new kernel has them (modules stay imported), the start directory, and the warning registries
#: invalidated so a warning shows again in this notebook as it would on a fresh kernel.
_RESET = """\
get_ipython().reset(new_session=True)
import os as _os, warnings as _warnings
_os.chdir({cwd!r})
with _warnings.catch_warnings():
    pass
del _os, _warnings
"""


#: Run once when a kernel starts: the modules the notebooks import (a module that fails to import
#: is left for the notebook to report), then every object alive so far moved out of the garbage
#: collector's sight (``gc.freeze``): the loaded libraries are never garbage, and each reset's
#: collection then scans only what the last notebook made.
_PRELOAD = """\
import importlib as _importlib, gc as _gc
for _m in {modules!r}:
    try:
        _importlib.import_module(_m)
    except Exception:
        pass
del _importlib, _m
_gc.collect()
_gc.freeze()
del _gc
"""

#: Run silently after each notebook: its page rendered from the executed notebook's file.
_RENDER = """\
__import__("wip_lib.reports.notebooks", fromlist=["notebook_to_html"]).notebook_to_html(**{args!r})
"""

_KERNELS: set = set()  # every running WarmKernel of this process (shut down at exit)
_KERNELS_LOCK = threading.Lock()


class WarmKernel:
    """One Jupyter kernel kept for many notebooks: a kernel manager and its client, both made and
    used in one thread (the client's sockets belong to that thread's event loop)."""

    def __init__(self, cwd: Path, *, kernel_name: str = KERNEL, log: Path | None = None,
                 startup_timeout: float = 60, preload: Iterable[str] = ()):
        self.cwd = Path(cwd)
        self.kernel_name = kernel_name
        self.log = log
        self.startup_timeout = startup_timeout
        self.preload = tuple(preload)
        self.km = None
        self.kc = None
        self.started = 0  # kernels started (1 + replacements)
        self._thread: threading.Thread | None = None

    @property
    def workdir(self) -> Path:
        """The kernel's working directory: ``cwd``, or where this process runs when ``cwd`` is
        not on this machine (a cluster worker; the notebooks take absolute paths)."""
        return self.cwd if self.cwd.is_dir() else Path.cwd()

    def start(self) -> None:
        from jupyter_core.utils import run_sync

        from wip_lib.reports.kernel_client import SteadyKernelManager

        km = SteadyKernelManager(kernel_name=self.kernel_name)
        kw: dict = {"cwd": str(self.workdir)}
        if self.log is not None:
            # Kernel start-up chatter goes to the log, not the progress bar; errors reach the
            # notebook's outputs and the RunResult.
            self.log.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.log, "ab")
            kw.update(stdout=fh, stderr=fh)
        try:
            # As nbclient starts its own kernels: history in memory, not in ~/.ipython.
            run_sync(km.start_kernel)(
                extra_arguments=["--HistoryManager.hist_file=:memory:"], **kw)
        finally:
            if self.log is not None:
                fh.close()
        kc = km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=self.startup_timeout)
        except BaseException:
            kc.stop_channels()
            run_sync(km.shutdown_kernel)(now=True)
            raise
        kc.allow_stdin = False
        self.km, self.kc = km, kc
        self._thread = threading.current_thread()
        self.started += 1
        with _KERNELS_LOCK:
            _KERNELS.add(self)
        # The page renderer first, so the preload's gc.freeze() covers it too.
        self._silent('__import__("wip_lib.reports.notebooks", fromlist=["prepare_render"])'
                     '.prepare_render()')
        self._silent(_PRELOAD.format(modules=list(self.preload)))

    def _silent(self, code: str, timeout: float = 120) -> dict:
        """Run ``code`` without output or history (the execution count does not move)."""
        from jupyter_core.utils import run_sync

        msg_id = self.kc.execute(code, silent=True, store_history=False)
        return run_sync(self._reply)(msg_id, timeout)

    def render(self, ipynb: Path, out: Path, **page_args) -> None:
        """:func:`notebook_to_html` of the executed notebook file ``ipynb``, run in the kernel:
        a page costs the process that renders it about 0.1 s of CPU under its GIL (a deep copy
        of the notebook, nbconvert's templates, the page shell), which in the batch's own
        process its threads would queue for; each kernel is a process of its own."""
        args = {"ipynb": str(Path(ipynb).resolve()), "out": str(Path(out).resolve()),
                **page_args}
        reply = self._silent(_RENDER.format(args=args))
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"the page could not be rendered: {content.get('ename')}: "
                               f"{content.get('evalue')}")

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def reset(self) -> None:
        """The namespace as a fresh kernel's (see ``_RESET``); starts the kernel if none."""
        if self.km is None or not self.alive():
            self.replace()
        reply = self._silent(_RESET.format(cwd=str(self.workdir)), 60)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the kernel could not be reset: {reply['content']}")

    async def _reply(self, msg_id: str, timeout: float) -> dict:
        while True:
            msg = await self.kc.get_shell_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def shutdown(self) -> None:
        """Stop the kernel. From the thread that started it, as nbclient does; from any other
        thread (at exit, or a cluster worker closing) by killing its process directly: the
        client's sockets belong to the starting thread's event loop."""
        from jupyter_core.utils import run_sync

        with _KERNELS_LOCK:
            _KERNELS.discard(self)
        km, kc, self.km, self.kc = self.km, self.kc, None, None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:
                pass
        if km is None:
            return
        if threading.current_thread() is self._thread:
            try:
                run_sync(km.shutdown_kernel)(now=True)
                return
            except Exception:
                pass
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None:
            try:
                process.kill()
                process.wait(timeout=10)
            except Exception:
                pass
        try:  # as the manager's own cleanup: control socket, connection file, zmq context
            km._close_control_socket()
            km.cleanup_connection_file()
            if km._created_context and not km.context.closed:
                km.context.destroy(linger=100)
        except Exception:
            pass

    def replace(self) -> None:
        """Shut this kernel down (dead, hung or never started) and start a fresh one."""
        self.shutdown()
        self.start()


def _warm_engine():
    """The Papermill engine ``wip-warm``: Papermill's own nbclient engine, on a kernel that is
    already running (``warm_kernel=``) and stays running when the notebook is done."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, warm_kernel=None,
                                     input_path_shown=None, **kwargs):
            # As NBClientEngine.execute_managed_notebook, with the kernel handed over.
            if input_path_shown:  # read from a local copy; recorded as the original
                nb_man.nb.metadata.papermill["input_path"] = input_path_shown
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs, timeout=execution_timeout if execution_timeout else
                kwargs.get("timeout"), startup_timeout=start_timeout, kernel_name=kernel_name,
                log=logger, log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, km=warm_kernel.km, **final_kwargs)
            client.kc = warm_kernel.kc
            return client.execute(cleanup_kc=False)

    try:
        papermill_engines.get_engine(ENGINE)
    except Exception:
        papermill_engines.register(ENGINE, WarmEngine)
    return papermill_engines.get_engine(ENGINE)


_LOCAL = threading.local()


def thread_kernel(cwd: Path, log: Path | None = None, preload: Iterable[str] = ()) -> WarmKernel:
    """This thread's warm kernel, kept from one call to the next (a cluster worker's threads keep
    theirs for as long as the worker runs)."""
    k = getattr(_LOCAL, "kernel", None)
    if k is None or k.cwd != Path(cwd):
        if k is not None:
            k.shutdown()
        k = _LOCAL.kernel = WarmKernel(Path(cwd), log=log, preload=preload)
    k.log = log
    return k


def shutdown_kernels() -> None:
    """Shut down every warm kernel of this process still running (at exit, or interrupted)."""
    with _KERNELS_LOCK:
        kernels = list(_KERNELS)
    for k in kernels:
        k.shutdown()


atexit.register(shutdown_kernels)


def execute(run: NotebookRun, *, cwd: Path, plotly_src: str | None, subtitle: str = "",
            back_link: str | None = None, kernel: WarmKernel | None = None,
            timeout: float | None = None, source: str | None = None) -> RunResult:
    """Execute one notebook with Papermill and publish it; never raises.

    With ``kernel``, on that warm kernel (reset first; replaced if it died or hung); without, on
    a kernel of its own that Papermill starts and stops. ``source``: the notebook's text, for a
    machine where ``run.notebook`` is not (a cluster worker): it runs from a local copy and its
    metadata names ``run.notebook`` as a local run's does."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from wip_lib.reports.kernel_client import KERNEL_MANAGER

    started = time.perf_counter()
    run.output_ipynb.parent.mkdir(parents=True, exist_ok=True)
    run.output_html.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kernel is None:
            nb = pm.execute_notebook(str(run.notebook), str(run.output_ipynb),
                                     parameters=dict(run.parameters), kernel_name=KERNEL,
                                     progress_bar=False, cwd=str(cwd), log_output=False,
                                     execution_timeout=timeout,
                                     kernel_manager_class=KERNEL_MANAGER)
        else:
            kernel.reset()
            path, shown = _local_notebook(Path(run.notebook), source)
            _execute_warm(path, Path(run.output_ipynb), dict(run.parameters), kernel, timeout,
                          shown)
        page_args = dict(title=run.title or run.key, subtitle=subtitle, plotly_src=plotly_src,
                         back_link=back_link)
        if kernel is None:
            notebook_to_html(nb, run.output_html, **page_args)
        else:
            kernel.render(run.output_ipynb, run.output_html, **page_args)
        return RunResult(run.key, True, time.perf_counter() - started, str(run.output_ipynb),
                         str(run.output_html))
    except Exception as exc:  # one project's failure must never stop the batch
        message = _error_text(exc)
        if kernel is not None and not isinstance(exc, PapermillExecutionError):
            # Not an error inside a cell: the kernel died, hung or never started. The next
            # notebook gets a fresh one.
            _replace_quietly(kernel)
        return RunResult(run.key, False, time.perf_counter() - started, str(run.output_ipynb),
                         str(run.output_html), message)


def _local_notebook(path: Path, source: str | None) -> tuple[Path, str | None]:
    """``path`` when it holds ``source`` (or no source is given); else a copy of ``source`` in this
    machine's temporary folder, and the original path to record in the notebook's metadata."""
    if source is None:
        return path, None
    try:
        if path.read_text(encoding="utf-8") == source:
            return path, None
    except OSError:
        pass
    import hashlib
    import tempfile

    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    copy = Path(tempfile.gettempdir()) / "wip-notebooks" / digest / path.name
    if not copy.is_file():
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_name(f"{copy.name}.{uuid.uuid4().hex}")
        tmp.write_text(source, encoding="utf-8")
        tmp.replace(copy)  # atomic: threads of one worker may race here
    return copy, str(path)


def prepare_driver(*, exporter: bool = True) -> None:
    """Papermill imported and the warm engine registered, and (``exporter``: pages rendered in
    this process, not in warm kernels) the exporter built, ahead of the first notebook."""
    _warm_engine()
    if exporter:
        with _EXPORTER_LOCK:
            _exporter()


def prepare_render() -> None:
    """In a warm kernel: the exporter built and plotly.js read ahead of the first page."""
    with _EXPORTER_LOCK:
        _exporter()
    _plotly_js_utf8()


def _execute_warm(path: Path, output: Path, parameters: dict, kernel: WarmKernel,
                  timeout: float | None, shown: str | None) -> None:
    """``papermill.execute_notebook`` on a warm kernel, its steps in its order (parameters
    injected, papermill's metadata, the engine, its error cell on a failure), the executed
    notebook written once by :func:`write_notebook`.

    Papermill's own final write (``nbformat.writes``: a deep copy and a JSON-schema check of the
    whole executed notebook, figures and tables included) ran in the batch's process, which
    shares the two cores with the kernels: about a tenth of the notebook stage's CPU at 2,000
    jobs. cwd is the kernel's own (set at start and by the reset): no process-wide chdir from a
    worker thread."""
    from papermill.engines import papermill_engines
    from papermill.execute import (
        prepare_notebook_metadata,
        raise_for_execution_errors,
        remove_error_markers,
    )
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    engine = _warm_engine_name()
    nb = load_notebook_node(str(path))
    if parameters:
        nb = parameterize_notebook(nb, parameters, False, kernel_name=KERNEL,
                                   engine_name=engine)
    nb = remove_error_markers(prepare_notebook_metadata(nb, str(path), str(output), False))
    nb = papermill_engines.execute_notebook_with_engine(
        engine, nb, input_path=str(path), output_path=None, kernel_name=KERNEL,
        progress_bar=False, log_output=False, start_timeout=60, stdout_file=None,
        stderr_file=None, warm_kernel=kernel, execution_timeout=timeout,
        input_path_shown=shown)
    raise_for_execution_errors(nb, str(output))  # writes the notebook with its error cell
    write_notebook(nb, output)


def write_notebook(nb, path: Path) -> None:
    """The bytes ``nbformat.writes`` gives for ``nb`` (v4: lines split, transient metadata
    dropped, keys sorted, indent 1), written to ``path`` without its deep copy of the notebook
    and its schema check: for an executed notebook the batch is done with, changed in place.
    ``tests/test_warm_kernels.py`` compares the bytes with nbformat's."""
    import json

    from nbformat.v4.nbjson import BytesEncoder
    from nbformat.v4.rwbase import split_lines, strip_transient

    text = json.dumps(strip_transient(split_lines(nb)), cls=BytesEncoder, indent=1,
                      sort_keys=True, separators=(",", ": "), ensure_ascii=False)
    Path(path).write_text(text, encoding="utf-8")


def _warm_engine_name() -> str:
    _warm_engine()
    return ENGINE


def _replace_quietly(kernel: WarmKernel) -> None:
    try:
        kernel.replace()
    except Exception:  # could not start one now: reset() tries again before the next notebook
        kernel.shutdown()


def _error_text(exc: BaseException) -> str:
    # papermill's PapermillExecutionError carries the kernel's exception name and value.
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if type(exc).__name__ == "CellTimeoutError":
        text = "the kernel was replaced after a cell ran past the timeout: " + text
    elif type(exc).__name__ == "DeadKernelError":
        text = "the kernel died (it was replaced for the next notebook): " + text
    return text


def execute_warm(run: NotebookRun, *, cwd: Path, plotly_src: str | None, subtitle: str = "",
                 back_link: str | None = None, timeout: float | None = None,
                 log: Path | None = None, preload: Iterable[str] = (),
                 source: str | None = None) -> RunResult:
    """:func:`execute` on the calling thread's warm kernel (:func:`thread_kernel`): what a
    cluster worker's thread runs for each notebook."""
    return execute(run, cwd=cwd, plotly_src=plotly_src, subtitle=subtitle, back_link=back_link,
                   kernel=thread_kernel(cwd, log, preload), timeout=timeout, source=source)


def collect(runs: list[NotebookRun], finished: Iterable[RunResult],
            progress: bool = True) -> list[RunResult]:
    """The results of ``runs`` as they finish (``finished`` yields one per run, in any order),
    with a progress bar naming each failure; returned in the order of ``runs`` (the local pool
    and the cluster alike)."""
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(runs), desc="notebooks", unit="nb")
    results: dict[str, RunResult] = {}
    try:
        for res in finished:
            results[res.key] = res
            if bar:
                bar.update(1)
                if not res.ok:
                    bar.write(f"FAILED {res.key}: {res.error}")
    finally:
        if bar:
            bar.close()
    return [results[r.key] for r in runs]


#: Notebooks one warm kernel runs before a second kernel pays for its start. Measured with the
#: sample's month-end on 2 cores (2026-12-02, two runs each): with 3, 8 and 16 notebooks one
#: kernel finished 1.5-2.5 s sooner than two (a second kernel's start competes with the period's
#: computation, and its notebooks with the reports, workbook and PDFs written beside them); with
#: 32, the sample's whole month-end, two kernels finished 1.6-2.2 s sooner.
NOTEBOOKS_PER_KERNEL = 24


def kernels_for(notebooks: int, workers: int) -> int:
    """Warm kernels for a batch of ``notebooks``: one per :data:`NOTEBOOKS_PER_KERNEL` begun,
    at least one, at most ``workers``."""
    return max(1, min(workers, -(-notebooks // NOTEBOOKS_PER_KERNEL)))


class NotebookPool:
    """``workers`` threads, each with a warm kernel of its own, started at once: the kernels start
    and load ``preload`` while the caller does other work (the month-end validates and computes
    the period meanwhile). :meth:`run` executes notebooks on them; :meth:`close` shuts them down.
    With ``start=False`` nothing starts until :meth:`start` (which may start only some) or the
    first :meth:`run`, which starts as many as its batch needs (:func:`kernels_for`; a kernel
    holds about 160 MB once its imports are loaded: a large company's month-end keeps that off
    its peak, the period's computation).

    Threads, not processes: the work is in the kernels (processes of their own); a thread only
    sends cells, collects outputs and renders pages. With ``warm=False`` each notebook gets a
    kernel of its own (plain Papermill)."""

    def __init__(self, workers: int, cwd: Path, *, preload: Iterable[str] = (),
                 log: Path | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                 warm: bool = True, start: bool = True):
        self.cwd = Path(cwd)
        self.timeout = timeout
        self.warm = warm
        self.preload = tuple(preload)
        self.log = log
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"notebook-{i}", daemon=True)
                         for i in range(max(1, workers))]
        self.started = False
        if start:
            self.start()

    def start(self, kernels: int | None = None) -> None:
        """Start the threads and their kernels, or the first ``kernels`` of them (:meth:`run`
        starts the rest its batch needs: :func:`kernels_for`)."""
        self.started = True
        for t in self._threads[:kernels]:
            if t.ident is None:  # not started yet
                t.start()

    def _work(self) -> None:
        kernel = (WarmKernel(self.cwd, log=self.log, preload=self.preload) if self.warm
                  else None)
        try:
            if kernel is not None:
                try:
                    kernel.start()
                except Exception:  # reset() starts it again before the first notebook, and
                    kernel.shutdown()  # that notebook reports the error if it fails again
            prepare_driver(exporter=kernel is None)
            while True:
                item = self._todo.get()
                if item is None:
                    return
                r, kwargs = item
                try:
                    res = execute(r, kernel=kernel, cwd=self.cwd, timeout=self.timeout, **kwargs)
                except BaseException as exc:  # execute never raises; never lose a notebook
                    res = RunResult(r.key, False, 0.0, str(r.output_ipynb), str(r.output_html),
                                    _error_text(exc))
                self._done.put(res)
        finally:
            if kernel is not None:
                kernel.shutdown()

    def run(self, runs: Iterable[NotebookRun], *,
            plotly_src_for: Callable[[NotebookRun], str | None], subtitle: str = "",
            back_link_for: Callable[[NotebookRun], str | None] = lambda r: None,
            progress: bool = True) -> list[RunResult]:
        """Execute ``runs``; results in the order given."""
        runs = list(runs)
        self.start(kernels_for(len(runs), len(self._threads)))
        for r in runs:
            self._todo.put((r, {"plotly_src": plotly_src_for(r), "subtitle": subtitle,
                                "back_link": back_link_for(r)}))
        return collect(runs, (self._done.get() for _ in runs), progress)

    def close(self) -> None:
        running = [t for t in self._threads if t.ident is not None]
        for _ in running:
            self._todo.put(None)
        for t in running:
            t.join()

    def __enter__(self) -> "NotebookPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_batch(runs: Iterable[NotebookRun], *, workers: int, cwd: Path,
              plotly_src_for: Callable[[NotebookRun], str | None],
              subtitle: str = "", back_link_for: Callable[[NotebookRun], str | None] = lambda r: None,
              progress: bool = True, log: Path | None = None, warm: bool = True,
              timeout: float | None = DEFAULT_TIMEOUT,
              preload: Iterable[str] = ()) -> list[RunResult]:
    """Execute ``runs`` on a :class:`NotebookPool` of ``workers`` warm kernels (``warm=False``: a
    kernel per notebook); results in the order given. Kernel chatter goes to ``log`` when
    given."""
    runs = list(runs)
    with NotebookPool(min(workers, len(runs)) or 1, cwd, preload=preload, log=log,
                      timeout=timeout, warm=warm) as pool:
        return pool.run(runs, plotly_src_for=plotly_src_for, subtitle=subtitle,
                        back_link_for=back_link_for, progress=progress)


def write_plotly_asset(report_dir: Path) -> Path:
    """Copy plotly.js (shipped inside the plotly package) into the report, once."""
    target = report_dir / PLOTLY_ASSET
    target.parent.mkdir(parents=True, exist_ok=True)
    js = plotly_js()
    if not target.exists() or target.stat().st_size != len(js.encode("utf-8")):
        target.write_text(js, encoding="utf-8")
    return target
