"""A computed period on disk (``reports/PERIOD/data/*.parquet`` + ``meta.json``).

The month-end computes a period once (:func:`wip_lib.close.period.compute_period`) and saves it here;
each project notebook then loads the bundle in a fraction of a second instead of re-reading every
export. Interactively, :func:`load_or_compute` computes the same bundle from the company folder.
Parquet keeps the dtypes exactly (int64 cents, strings, nullable integers).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wip_lib.core.memory import release_unused

FRAMES = ("schedule", "in_progress", "completed", "journal", "journal_summary", "forecast",
          "flags", "ranking", "findings", "tieout", "history", "budget_history",
          "override_audit", "jobs", "retention")


@dataclass
class Bundle:
    company_name: str
    period: str
    prior_source: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    @property
    def job_ids(self) -> list[str]:
        return [str(j) for j in self.frames["schedule"]["job_id"]]

    def job_name(self, job_id: str) -> str:
        s = self.frames["schedule"]
        names = s.loc[s["job_id"] == job_id, "job_name"]
        return str(names.iloc[0]) if len(names) else ""


def from_result(result) -> Bundle:
    """The bundle of a computed period (:func:`wip_lib.close.period.compute_period`)."""
    w = result.wip
    frames = {"schedule": w.schedule, "in_progress": w.in_progress, "completed": w.completed,
              "journal": w.journal, "journal_summary": w.journal_summary,
              "forecast": result.forecast, "flags": result.flags, "ranking": result.ranking,
              "findings": result.findings, "tieout": result.tieout, "history": result.history,
              "budget_history": result.budget_history, "override_audit": result.override_audit,
              "jobs": result.jobs, "retention": result.retention}
    return Bundle(result.company_name, result.period, w.prior_source, frames, list(w.notes))


def save(bundle: Bundle, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in bundle.frames.items():
        df.reset_index(drop=True).to_parquet(folder / f"{name}.parquet", index=False)
    meta = {"company_name": bundle.company_name, "period": bundle.period,
            "prior_source": bundle.prior_source, "notes": bundle.notes,
            "frames": sorted(bundle.frames)}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return folder


def load(folder: Path) -> Bundle:
    """The bundle saved in ``folder``.

    A process that loads the same saved bundle again (a warm kernel running one project
    dashboard after another: at thousands of jobs the bundle is millions of rows) reads it once:
    the frames are kept with the files' sizes and modification times, and handed out as
    copy-on-write copies (a notebook that changes a frame changes its own copy). A file written
    since gives a fresh read."""
    folder = Path(folder)
    meta_text = (folder / "meta.json").read_text(encoding="utf-8")
    meta = json.loads(meta_text)
    paths = [folder / f"{n}.parquet" for n in meta["frames"]]
    stamp = (meta_text, tuple((p.name, st.st_mtime_ns, st.st_size)
                              for p in paths for st in (p.stat(),)))
    key = str(folder.resolve())
    cached = _LOADED.get(key)
    if cached is None or cached[0] != stamp:
        _LOADED.clear()  # one bundle kept: the one being worked on
        frames = {n: one_chunk(pd.read_parquet(p)) for n, p in zip(meta["frames"], paths)}
        _LOADED[key] = cached = (stamp, frames)
        # the chunks read, joined and freed: not kept by a warm kernel
        release_unused(sum(len(df) for df in frames.values()))
    frames = {n: df.copy(deep=False) for n, df in cached[1].items()}
    return Bundle(meta["company_name"], meta["period"], meta["prior_source"], frames,
                  meta.get("notes", []))


_LOADED: dict[str, tuple[tuple, dict[str, pd.DataFrame]]] = {}


def one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each Arrow-backed column held as one contiguous array (same values, same
    dtype). A large parquet file reads as several row groups, so its text columns come back in
    chunks, and Arrow's ``take`` of a chunked column joins the chunks first on every call: a
    job's rows of the 2,000-job company's budget snapshots (1.5 million rows, 12 chunks) cost
    5.8 ms a dashboard call chunked against 0.2 ms joined once here."""
    joined = {}
    for name, values in frame.items():
        array = values.array
        arrow = _column_data(array)
        if arrow is not array and arrow.num_chunks > 1:
            joined[name] = pd.array(arrow.combine_chunks(), dtype=values.dtype)
    if not joined:
        return frame
    out = frame.copy(deep=False)
    for name, values in joined.items():
        out[name] = values
    return out


#: Below this many rows a table's job is found by comparing every row (cheaper than an index).
INDEXED_ROWS = 20_000

#: The job index of each large table's ``job_id`` column: id of the column's data -> (that data,
#: positions by job). The data is kept so that its id cannot be reused while the entry lives.
_BY_JOB: dict[int, tuple[object, dict]] = {}


def job_rows(frame: pd.DataFrame, job_id: str) -> pd.DataFrame:
    """The rows of ``frame`` for one job, in their order, index kept: ``frame[frame["job_id"] ==
    job_id]``.

    A large table's rows are found through an index of positions by job, built once per
    ``job_id`` column and kept while that column is (a warm kernel runs every dashboard of the
    month-end on the same bundle: at 2,000 jobs the history and budget snapshots are millions of
    rows, compared in full about eight times per dashboard). The index is keyed by the column's
    data: its Arrow array (immutable, and the same object in every shallow copy that
    :func:`load` hands out) or, for other storage, the pandas array itself, which copy-on-write
    never changes in place. A frame filtered, sorted, edited or given new job numbers has new data
    and gets a new index."""
    if len(frame) < INDEXED_ROWS:
        return frame[frame["job_id"] == job_id]
    owner = _column_data(frame["job_id"].array)
    hit = _BY_JOB.get(id(owner))
    if hit is None or hit[0] is not owner:
        if len(_BY_JOB) >= 32:  # the frames of the bundle being worked on, and a few more
            _BY_JOB.clear()
        hit = _BY_JOB[id(owner)] = (owner, _runs(frame.groupby("job_id", sort=False).indices))
    positions = hit[1].get(job_id)
    if positions is None:
        return frame.iloc[:0]
    return frame.iloc[positions] if isinstance(positions, slice) else frame.take(positions)


def _runs(indices: dict[str, np.ndarray]) -> dict[str, np.ndarray | slice]:
    """Each job's positions as a slice where they are one run of rows (a table written job by
    job, as every table of the bundle is): a slice of a frame shares its data, where a take
    copies every column (the forecast's 35 columns and the budget snapshots' rows for each of
    a dashboard's calls); positions as they are otherwise."""
    return {job: slice(int(p[0]), int(p[-1]) + 1) if len(p) and p[-1] - p[0] + 1 == len(p)
            else p for job, p in indices.items()}


def _column_data(values) -> object:
    """The object that holds a column's data: an Arrow-backed array's ``pyarrow.ChunkedArray``
    (the ``__arrow_array__`` protocol hands out the array itself, which pyarrow never changes),
    else the pandas array (a shallow copy of a frame may wrap the same data in a new one)."""
    if getattr(values.dtype, "storage", None) == "pyarrow":
        return values.__arrow_array__()
    return values


def compute(data_dir: Path | str, period: str | None = None, *, store=None) -> Bundle:
    """Read the company folder and compute the period's bundle (what the month-end saves)."""
    from wip_lib.close.period import compute_period
    from wip_lib.sources.readers import load_company

    company = load_company(Path(data_dir))
    return from_result(compute_period(company, period, store=store))


REPO = Path(__file__).resolve().parents[2]


def resolve_data_dir(data_dir: Path | str) -> Path:
    """A company folder as given, else relative to the repository (notebooks run from
    ``notebooks/``; their default ``data/sample`` means the repository's sample company)."""
    p = Path(data_dir)
    if p.is_dir() or p.is_absolute():
        return p
    return REPO / p if (REPO / p).is_dir() else p


def _cache_key(data_dir: Path, period: str) -> str:
    """Inputs, closes and code: any changed export, setting, close or module gives a new key."""
    h = hashlib.sha256(period.encode())
    h.update(_store_state(data_dir).encode())
    for base in (data_dir, REPO / "wip_lib"):
        for f in sorted(base.rglob("*")):
            if f.is_file() and f.suffix in (".csv", ".xlsx", ".yaml", ".py") and \
                    "__pycache__" not in f.parts:
                h.update(f.relative_to(base).as_posix().encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:24]


def _store_state(data_dir: Path) -> str:
    """The company store's closes (which periods are closed, by which close), so a close or a
    reopen gives the cached bundle a new key: prior figures come from closed periods."""
    from wip_lib.close.store import PeriodStore, store_path

    path = store_path(data_dir)
    if not path.is_file():
        return ""
    with PeriodStore(path, read_only=True) as store:
        return store.active().to_csv(index=False)


def load_or_compute(data_dir: Path | str, period: str, bundle_dir: Path | str = "") -> Bundle:
    """The saved bundle when ``bundle_dir`` holds one for ``period``; else the bundle cached for
    exactly these inputs and this code (``WIP_CACHE_DIR``, default ``~/.cache/wip-workbook``);
    else computed afresh and cached."""
    if bundle_dir and (Path(bundle_dir) / "meta.json").is_file():
        b = load(Path(bundle_dir))
        if b.period == period:
            return b
    data = resolve_data_dir(data_dir)
    cache = Path(os.environ.get("WIP_CACHE_DIR") or Path.home() / ".cache" / "wip-workbook")
    folder = cache / _cache_key(data, period)
    if (folder / "meta.json").is_file():
        return load(folder)
    b = compute(data, period)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    save(b, tmp)
    try:
        os.replace(tmp, folder)  # atomic: a concurrent run either sees all of it or none
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return b
