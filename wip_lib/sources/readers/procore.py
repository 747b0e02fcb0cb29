"""Procore exports (CSV or XLSX, as a user downloads them) into canonical tables.

Rules beyond reading each file by its headers (:mod:`wip_lib.sources.formats`):

- Budget code columns, in any of Procore's layouts: ``Budget Code`` (``[SUBJOB.]03-300.L``), the
  tiers ``Cost Code Tier 1..3``, the Standard view's ``Cost Code`` + ``Cost Type``
  (``03-300 - Cast-in-Place`` + ``L - Labor``), or the newer single ``Description`` column holding
  the budget code and its description (``03-300.L - Cast-in-Place``). The cost code is the code
  without its sub job and cost type; the cost type is the ``Cost Type`` column's code (a Procore
  default name such as ``Labor`` reads as its code,
  :data:`~wip_lib.sources.formats.PROCORE_COST_TYPES`), else the budget code's last part. A
  description left blank takes the text after the code.
- Budget views: ``procore/budget/JOB/YYYY-MM.csv`` is the schedule's view; a file named
  ``YYYY-MM VIEW NAME.csv`` is a snapshot of that view, read only when ``company.yaml:
  budget_view`` names it; any other view is left out with a warning (it never stands in).
- Commitments without a ``Type`` column (Procore's Contracts tab has none) take the type from the
  number: ``PO...`` is a purchase order, ``SC...`` / ``SUB...`` / ``WO...`` a subcontract; any
  other number is reported.
- A change order's ``Review Date`` (also set when a change order is rejected) is its approved date
  only when its status is approved.
- Timestamps with a time (``2026-11-01T02:30:00Z``) become dates in the project's time zone (the
  projects export's ``Time Zone`` column), else the company's (``time_zone``), else UTC
  (:mod:`wip_lib.core.time_zones`); plain dates are read as they are.
- Subcontractor and owner invoices: see "Invoices" below (a folder of per-invoice CSVs).
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import io
import os
import re
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wip_lib.core import schema
from wip_lib.core.arrow_strings import (
    chunks,
    combination_codes,
    dictionary_codes,
    offsets_and_bytes,
    one_array,
)
from wip_lib.core.attrs import frozen
from wip_lib.core.errors import Problem, file_system_problem
from wip_lib.core.money import cents_of_text, cents_to_text
from wip_lib.core.periods import PERIOD_PATTERN
from wip_lib.core.settings import NEVER_EMPTY, Settings
from wip_lib.core.time_zones import is_stamp, local_dates, zone
from wip_lib.sources.formats import (
    CO_STATUS_FAMILY,
    COMMITMENT_STATUS_FAMILY,
    CROSSWALK,
    G703,
    PROCORE_COST_TYPES,
    PROCORE_EXPORTS,
    UNINSTALLED,
    ExportFormat,
)
from wip_lib.sources.readers.tabular import (
    TEXT,
    TOTALS,
    Collector,
    FileReport,
    _cell_text,
    blank_in,
    convert,
    is_totals,
    no_rows,
    read_text_arrow,
    read_text_table,
    read_texts_arrow,
    repeated_headers,
    resolve_headers,
    text_array,
    text_cells,
    totals_differ,
    totals_row,
    trim,
)

REQUIRED_FILES = {"jobs", "prime_contracts"}
# invoices (the list, optional) -> their per-invoice G703 lines (a folder), read together
INVOICES = {"subcontractor_invoices": "subcontractor_invoice_lines",
            "owner_invoices": "owner_invoice_lines"}
WHAT = {"jobs": "projects", "procore_vendors": "vendors"}  # what a file holds, in messages
READ_THREADS = 4  # budget snapshots the batch cannot vouch for, read alone at once
_NO_ROWS = pa.table({})  # a file with no rows to take, or read straight into the stack
BUDGET_DIR = "procore/budget"
PERIOD_RE = re.compile(PERIOD_PATTERN)  # a budget snapshot's name: fullmatch
# A snapshot of a named budget view: "2026-10 Forecast View" (the view after the period).
VIEW_RE = re.compile(rf"^({PERIOD_PATTERN})[ _]+(\S.*)$")
CODE_COLUMNS = ("budget_code", "cost_code_tier_1", "cost_code_tier_2", "cost_code_tier_3",
                "standard_cost_code")
PURCHASE_ORDER_RE = r"^\s*P\.?O\b|^\s*PO[-_ #]?\d"
SUBCONTRACT_RE = r"^\s*(?:SC|SUB|WO)\b|^\s*(?:SC|SUB|WO)[-_ #]?\d"
REVIEW_HEADERS = {"review date", "reviewed at"}


def find_file(root: Path, stem: str) -> Path | None:
    for ext in (".csv", ".xlsx", ".CSV", ".XLSX"):
        p = root / f"{stem}{ext}"
        if p.exists():
            return p
    return None


def status_family(status: pd.Series, families: Mapping[str, str],
                  labels: Mapping[str, str]) -> pd.Series:
    """The status family of each row (approved, pending, excluded, committed, ...; NA when
    unknown): the company's label for the status (as written, else case-folded on both sides:
    ``Signed Off`` in company.yaml names ``SIGNED OFF`` too) or the status itself, case-folded,
    looked up in ``families`` (Procore's base statuses). The one rule for the exports and the
    API's pull; worked out once per distinct status (a few), then spread over the rows by
    Arrow."""
    folded = {str(k).casefold(): v for k, v in labels.items()}
    distinct, codes = dictionary_codes(trim(text_array(status))[0])
    fam = [families.get(str(labels.get(v) or folded.get(v.casefold()) or v).casefold())
           for v in distinct.to_pylist()] + [None]  # the last: a missing status
    return pd.Series(pd.arrays.ArrowStringArray(pa.array(fam, pa.large_string()).take(
        pa.array(codes))), index=status.index, dtype="string")


@dataclass
class RawFile:
    """One export read as text, its headers resolved to canonical names (``_row`` kept)."""

    rel: str
    raw: pa.Table  # ``_row`` and the columns taken, renamed to their canonical names, as text
    report: FileReport
    labels: dict[str, str]  # canonical column -> the header this file used
    has_totals: bool


def _load_raw(root: Path, fmt: ExportFormat, path: Path, fixed: dict, source: str | None,
              out: Collector) -> RawFile | None:
    """Read one file as text and resolve its headers; None when it cannot be used at all."""
    rel = path.relative_to(root).as_posix()
    report = FileReport(rel, fmt.table)
    if path.suffix.lower() != ".xlsx":
        # A CSV's columns chosen and renamed in Arrow, then one frame of only those (a frame
        # of every column, then a selection of it, cost a few milliseconds an export).
        got = read_text_arrow(path, out)
        if got is None:
            return RawFile(rel, _NO_ROWS, report, {}, False)
        table, names, report.encoding = got
        n = table.num_rows
    else:
        got = read_text_table(path, rel, out)
        if got is None:
            return RawFile(rel, _NO_ROWS, report, {}, False)
        raw, report.encoding = got
        names, n = list(raw.columns[1:]), len(raw)  # the headers after ``_row``
    report.rows_in = n
    colmap, report.unrecognised, ok = _resolve(fmt, names, fixed, source, out, rel)
    if not ok or repeated_headers(names, set(colmap.values()), out):
        report.rows_reported = n
        return RawFile(rel, _NO_ROWS, report, colmap, False)
    at = {h: i for i, h in enumerate(names)}  # a header that repeats is not one taken
    if path.suffix.lower() != ".xlsx":
        chosen = table.select([at[h] for h in colmap.values()]).rename_columns(list(colmap))
        # The last row's cells from Arrow (a pandas row costs a Series of every column).
        last = chosen.slice(n - 1).to_pylist()[0] if n and chosen.num_columns else {}
        chosen = chosen.add_column(0, "_row", pa.array(np.arange(2, n + 2, dtype="int64")))
        return RawFile(rel, chosen, report, colmap, is_totals(list(last.values())))
    canon = raw.iloc[:, [0, *(at[h] + 1 for h in colmap.values())]]
    canon.columns = ["_row", *colmap.keys()]
    return RawFile(rel, pa.Table.from_pandas(canon, preserve_index=False), report, colmap,
                   totals_row(canon))


def _resolve(fmt: ExportFormat, headers: list[str], fixed: dict, source: str | None,
             out: Collector, rel: str) -> tuple[dict[str, str], list[str], bool]:
    """Canonical column -> the file's header, the headers not understood, and whether the file
    can be used (no header error)."""
    table = schema.get(fmt.table)
    spec = {k: v for k, v in fmt.headers.items() if k not in fixed}
    required = {c.name for c in table.columns if c.required and c.name in spec}
    has = lambda t: t in spec and _present(headers, spec[t])  # noqa: E731
    if fmt.table == "budget":
        required = required - {"cost_code", "cost_code_raw"}
        codes_given = any(has(t) for t in CODE_COLUMNS)
        if not codes_given and not has("description"):
            required |= {"budget_code"}
        if not has("cost_type") and (has("budget_code") or not codes_given):
            required -= {"cost_type"}  # the budget code's last part
    if fmt.table == "commitments" and not has("commitment_type"):
        required -= {"commitment_type"}  # told from the number (see the module rules)
    errors_before = sum(p.severity == "error" for p in out.problems)
    colmap = resolve_headers(headers, spec, required, out, source or fmt.path)
    known = {" ".join(h.split()).casefold() for h in fmt.ignored}
    unrecognised = [h for h in headers if h not in colmap.values()
                    and " ".join(str(h).split()).casefold() not in known]
    if unrecognised:
        out.add(f"column(s) not understood and ignored: {', '.join(unrecognised)}",
                "nothing to do if they are not needed; otherwise see docs/data-model.md for the "
                "headers each export may carry", severity="warning", file=rel)
    return colmap, unrecognised, sum(p.severity == "error" for p in out.problems) == errors_before


def _present(headers: list[str], aliases: list[str]) -> bool:
    norm = {" ".join(str(h).split()).casefold() for h in headers}
    return any(" ".join(a.split()).casefold() in norm for a in aliases)


def _finish(files: list[RawFile], fmt: ExportFormat, settings: Settings, fixed_cols: dict,
            out: Collector, raw: pa.Table | None = None,
            zones: dict[str, str] | None = None, totals: TotalsRows | None = None
            ) -> pd.DataFrame:
    """Convert the text of one or more files of the same export at once (the expensive part is
    per column, not per file: hundreds of budget snapshots convert as fast as one).

    ``raw``, when given, is the files' rows already stacked (with ``_row``, and ``_file``: each
    row's file as its position in ``files``), and ``totals`` their totals rows, already set
    aside. ``zones``: job -> IANA time zone of its project, for timestamps (see the module
    rules).

    The text stays in Arrow until :func:`~wip_lib.sources.readers.tabular.convert` builds the
    one typed frame: a pandas frame of the text, its columns fetched, added and filtered one by
    one, cost more than the conversion on the exports most companies have."""
    table = schema.get(fmt.table)
    if raw is None:
        usable = [f for f in files if f.raw.num_rows]
        if not usable:
            return table.empty()
        raw = usable[0].raw if len(usable) == 1 else pa.concat_tables(
            [f.raw for f in usable], promote_options="permissive")
        file_no = np.repeat(np.arange(len(usable)), [f.raw.num_rows for f in usable])
    else:
        usable = list(files)
        if raw.num_rows == 0:
            if totals is not None:  # files of a totals row alone: checked against no lines
                empty = table.empty()
                _check_totals(totals, np.zeros(0, np.int64), [], empty,
                              np.zeros(0, dtype=bool), {}, out)
            return table.empty()
        file_no = raw.column("_file").to_numpy().astype(np.int64)
        raw = raw.drop_columns(["_file"])
    # Each row's file as a number (a position in ``rels``): the counts per file below are
    # numpy's, not a pandas value_counts per count.
    rels = [f.rel for f in usable]
    n = raw.num_rows
    cols = dict(zip(raw.column_names, raw.columns))
    del raw  # each column let go below as soon as its rows are filtered
    rows = cols.pop("_row").to_numpy()
    for name, per_file in fixed_cols.items():
        if name not in cols:
            cols[name] = _spread([per_file.get(r) for r in rels], file_no)
    for c in table.names:
        if c not in cols and any(c in f.labels for f in usable):
            cols[c] = text_cells("", n)
    for c, v in cols.items():  # text, '' for a missing cell (a column a file lacks, a blank)
        if v.type != TEXT:
            v = v.cast(TEXT)
        cols[c] = pc.fill_null(v, "") if v.null_count else v
    by_file = {f.rel: f for f in usable}
    # A totals row closes a file (a file's rows are consecutive): set it aside after checking it
    # against the lines above it.
    last = np.append(file_no[1:] != file_no[:-1], True)
    is_total = last & np.array([bool(f.has_totals) for f in usable], dtype=bool)[file_no]
    blank = blank_in(cols, n, skip=tuple(fixed_cols)) & ~is_total
    for rel, k in _per_file(rels, file_no[blank]).items():
        by_file[rel].report.rows_blank = k
    for rel, k in _per_file(rels, file_no[is_total]).items():
        by_file[rel].report.rows_totals = k
    money = [c.name for c in table.columns if c.kind == "money" and c.name in cols]
    if is_total.any():  # the totals rows' money cells and where they are, before the rows go
        at = pa.array(np.flatnonzero(is_total))
        totals = TotalsRows([rels[i] for i in file_no[is_total]], rows[is_total],
                            {m: one_array(cols[m]).take(at) for m in money})
    keep = ~blank & ~is_total
    if not keep.all():
        mask = pa.array(keep)
        for c in list(cols):
            cols[c] = cols[c].filter(mask)
        rows, file_no, n = rows[keep], file_no[keep], int(keep.sum())
    file_cats = file_categories(file_no, rels)
    # Each row's file, for the messages: none needed when they are one file's, named by ``out``.
    out.row_files = None if rels == [out.file] else pd.Series(file_cats, copy=False)
    labels = {}
    for f in usable:
        for k, v in f.labels.items():
            labels.setdefault(k, v)
    if fmt.table == "budget":
        cols.update(_budget_codes(cols, n))
        where = next((labels[c] for c in (*CODE_COLUMNS, "description") if c in labels), "")
        labels.setdefault("cost_code", where)
        labels.setdefault("cost_type", where)
    _local_timestamps(cols, table, settings, zones, labels, out)
    colmap = {c: c for c in table.names if c in cols}
    if fmt.table == "budget":
        colmap.update(cost_code="__cost_code", cost_type="__cost_type",
                      description="__description")
    # a few names over many rows: a categorical (schema)
    frame, bad = convert(pa.table({"_row": rows, **cols}), table, colmap, out,
                         settings.procore_locale, defaults=None, labels=labels,
                         extra={"_file": file_cats, "_row": rows})
    # The masks below in numpy: a pandas step each cost more on a small export.
    bad = bad.to_numpy(dtype=bool, copy=True)
    if totals is not None:
        _check_totals(totals, file_no, rels, frame, bad, labels, out)
    labels_status = dict(settings.status_labels)
    if "status_family" in table.names:
        families = COMMITMENT_STATUS_FAMILY if fmt.table == "commitments" else CO_STATUS_FAMILY
        fam = status_family(frame["status"], families, labels_status)
        unknown = fam.isna().to_numpy() & ~bad
        out.rows(unknown, rows, frame["status"], "status not recognised",
                 "map this status to a Procore base status (approved, pending, draft, void, ...) "
                 "under status_labels in company.yaml", labels.get("status", "Status"))
        bad |= unknown
        frame["status_family"] = fam
        if "approved_date" in frame.columns and str(labels.get("approved_date", "")).casefold() \
                in REVIEW_HEADERS:
            # Procore's Review Date is also the date a change order was rejected.
            frame["approved_date"] = frame["approved_date"].where(fam == "approved")
    if fmt.table == "commitments" and "commitment_type" not in labels:
        frame["commitment_type"], untold = _type_from_number(frame["commitment_number"])
        untold = untold.to_numpy(dtype=bool)
        out.rows(untold & ~bad, rows, frame["commitment_number"],
                 "the export has no Type column and the number does not say whether this is a "
                 "subcontract or a purchase order", "add a Type column (Subcontract or Purchase "
                 "Order), or number purchase orders PO-... and subcontracts SC-...",
                 labels.get("commitment_number", "#"))
        bad |= untold
    if fmt.table == "commitments":
        t = commitment_type(frame["commitment_type"])
        badt = ~t.isin(["subcontract", "purchase_order"]).to_numpy(dtype=bool) & ~bad
        out.rows(badt, rows, frame["commitment_type"], "commitment type not recognised",
                 "write Subcontract or Purchase Order", labels.get("commitment_type", "Type"))
        bad |= badt
        frame["commitment_type"] = t
    # as dicts: a pandas lookup per file costs more than the count (hundreds of snapshots)
    reported = _per_file(rels, file_no[bad])
    kept = _per_file(rels, file_no)
    for rel, f in by_file.items():
        f.report.rows_reported = int(reported.get(rel, 0))
        f.report.rows_accepted = int(kept.get(rel, 0)) - f.report.rows_reported
    out.row_files = None
    time_zones = None
    if fmt.table == "jobs" and "time_zone" in cols:
        named = pd.Series(pd.arrays.ArrowStringArray(trim(cols["time_zone"])[0]))
        iana = named.map(zone).astype("string")
        unknown = (named != "") & iana.isna()
        out.rows(unknown, rows, named, "not a time zone Procore or IANA knows; the "
                 "company's time_zone is used for this project", "write an IANA name such as "
                 "America/Denver, or the name Procore shows", labels.get("time_zone", "Time Zone"),
                 severity="warning")
        keep = iana.notna().to_numpy() & ~bad
        time_zones = dict(zip(frame.loc[keep, "job_id"], iana[keep]))
    if bad.any():  # a filter copies every column: only when there is a row to set aside
        frame = frame[~bad].reset_index(drop=True)
    # the file's own headers, for the cross-file rules' messages
    frame.attrs["labels"] = frozen(labels)
    if time_zones is not None:
        frame.attrs["time_zones"] = frozen(time_zones)  # job -> its project's IANA zone
    return frame


def file_categories(file_no: np.ndarray, rels: list[str]) -> pd.Categorical:
    """Each row's file (``file_no``: a position in ``rels``) as the categorical the schema gives
    ``_file``: the files that have rows, sorted (what ``astype("category")`` of the names gives),
    built from the positions with no pass over the names."""
    present = np.flatnonzero(np.bincount(file_no, minlength=len(rels)))
    names = [rels[i] for i in present]
    cats = sorted(names)
    at = {name: i for i, name in enumerate(cats)}
    remap = np.full(len(rels), -1, dtype=np.int64)
    remap[present] = [at[name] for name in names]
    return pd.Categorical.from_codes(remap[file_no], categories=pd.Index(cats, dtype=schema.STRING))


def _spread(per_file: list[str | None], file_no) -> pa.Array:
    """A text column of one value per file (``per_file``, by file position) spread over the rows
    (``file_no``: each row's file position, numpy or Arrow), as the path gives a snapshot's job
    and period."""
    return pa.array(per_file, TEXT).take(file_no)


def _per_file(rels: list[str], file_no: np.ndarray) -> dict[str, int]:
    """Rows per file, for the files with any (``file_no``: each row's file, a position in
    ``rels``)."""
    n = np.bincount(file_no, minlength=len(rels))
    return {rels[i]: int(n[i]) for i in np.flatnonzero(n)}


def _local_timestamps(cols: dict[str, pa.Array | pa.ChunkedArray], table: schema.Table,
                      settings: Settings, zones: dict[str, str] | None, labels: dict,
                      out: Collector) -> None:
    """Date columns' timestamps (``cols``: text columns) as dates in each row's project time
    zone, in place (see the module rules). Cheap when a file holds none: one test per distinct
    text."""
    dates = [c.name for c in table.columns if c.kind == "date" and c.name in cols]
    for c in dates:
        # Every timestamp has a time (HH:MM): a column without a colon holds none.
        if not any((offsets_and_bytes(a)[1] == ord(":")).any() for a in chunks(cols[c])):
            continue
        text = pd.Series(pd.arrays.ArrowStringArray(cols[c]))
        uniques = pd.Series(pd.unique(text), dtype=schema.STRING)
        if not is_stamp(uniques).any():
            continue
        company = settings.time_zone or ""
        if "job_id" in cols and zones:
            tz = pd.Series(pd.arrays.ArrowStringArray(trim(cols["job_id"])[0])).map(zones)
            tz = tz.astype(schema.STRING).fillna(company)
        else:
            tz = company
        if not company and not zones:
            out.add(f"timestamps in column '{labels.get(c, c)}' read as UTC dates: no time zone "
                    "is set", "set time_zone in company.yaml (e.g. `time_zone: America/Denver`) "
                    "so a timestamp late on the last day of a month stays in that month",
                    column=labels.get(c, c), severity="warning")
        cols[c] = text_array(local_dates(text, tz))


_TYPE_GAPS = re.compile(r"[\s_]+")
_TYPE_NAMES = {"work_order_contract": "subcontract", "purchase_order_contract": "purchase_order",
               "po": "purchase_order", "sc": "subcontract"}


def commitment_type(values: pd.Series) -> pd.Series:
    """A commitment's type as written -> ``subcontract`` or ``purchase_order`` (Procore's
    Subcontract / Work Order Contract / SC, Purchase Order / Purchase Order Contract / PO, in
    any case, spaces or underscores); any other text case-folded, its gaps one underscore (not
    a type: the caller reports it). Worked once per distinct text, spread by Arrow."""
    distinct, codes = dictionary_codes(one_array(values.astype("string").array))
    folded = [_TYPE_GAPS.sub("_", v.casefold()) for v in distinct.to_pylist()]
    named = [_TYPE_NAMES.get(v, v) for v in folded] + [None]  # the last: a missing type
    return pd.Series(pd.arrays.ArrowStringArray(pa.array(named, pa.large_string()).take(
        pa.array(codes))), index=values.index, dtype="string")


def _type_from_number(number: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(``Subcontract`` / ``Purchase Order`` told from a commitment number, rows it cannot tell)."""
    s = number.astype("string").fillna("")
    po = s.str.contains(PURCHASE_ORDER_RE, case=False, regex=True).fillna(False)
    sc = s.str.contains(SUBCONTRACT_RE, case=False, regex=True).fillna(False) & ~po
    kind = pd.Series(np.where(po, "Purchase Order", np.where(sc, "Subcontract", "")),
                     index=number.index, dtype="string")
    return kind, ~(po | sc)


@dataclass(frozen=True)
class TotalsRows:
    """The totals rows of the files of an export: each one's file, row number and money cells
    as written."""

    files: list[str]
    row: np.ndarray
    cells: dict[str, pa.Array]


def _check_totals(totals: TotalsRows, file_no: np.ndarray, rels: list[str], frame: pd.DataFrame,
                  bad: np.ndarray, labels: dict, out: Collector) -> None:
    """Each totals row's money cells against the sum of its file's lines (``file_no``: each
    line's file; ``frame``: the lines converted; a file with a line in error is not checked:
    its sum is not the file's). A blank cell is not checked; a cell that is not an amount is
    left alone (the lines' own checks speak for the file)."""
    money = list(totals.cells)
    if not money:
        return
    # A file with no line but its totals row: a position past the files with lines (sum 0).
    at = {rel: i for i, rel in enumerate(rels)}
    of = np.array([at.setdefault(rel, len(at)) for rel in totals.files], dtype=np.int64)
    n_files = len(at)
    clean = (np.bincount(file_no[bad], minlength=n_files) == 0)[of]
    sums = np.zeros((n_files, len(money)), dtype=np.int64)  # exact: integer cents, no float
    np.add.at(sums, file_no, frame[money].to_numpy(dtype=np.int64))
    sums = sums[of]
    k = len(of)
    # Every money column's totals cells parsed at once (one parse, not one per column).
    text, blank = trim(pa.concat_arrays([totals.cells[m] for m in money]))
    cents, _, not_money = cents_of_text(text)
    text = text.to_pylist()
    for j, m in enumerate(money):
        part = slice(j * k, (j + 1) * k)
        wrong = clean & ~blank[part] & ~not_money[part] & (cents[part] != sums[:, j])
        for i in np.flatnonzero(wrong):
            totals_differ(out, text[j * k + i], int(sums[i, j]), int(totals.row[i]),
                          labels.get(m, m), file=totals.files[i])


def read_export(root: Path, fmt: ExportFormat, settings: Settings, path: Path | None = None,
                fixed: dict[str, object] | None = None, source: str | None = None,
                zones: dict[str, str] | None = None
                ) -> tuple[pd.DataFrame, list, FileReport | None]:
    """One Procore export into its canonical table (with ``_file``/``_row``); ``zones``: job ->
    its project's time zone (the projects export's, for timestamps)."""
    table = schema.get(fmt.table)
    path = path or find_file(root, fmt.path)
    if path is None:
        return table.empty(), [], None
    fixed = fixed or {}
    rel = path.relative_to(root).as_posix()
    out = Collector(rel)
    f = _load_raw(root, fmt, path, fixed, source, out)
    if out.has_errors:
        return table.empty(), out.problems, f.report
    frame = _finish([f], fmt, settings, {k: {rel: v} for k, v in fixed.items()}, out,
                    zones=zones)
    return frame, out.problems, f.report


_BUDGET_CODE_INPUTS = ("budget_code", "cost_type", "sub_job", "cost_code_tier_1",
                       "cost_code_tier_2", "cost_code_tier_3", "standard_cost_code", "description")


def _budget_codes(cols: dict[str, pa.Array | pa.ChunkedArray], n: int
                  ) -> dict[str, pa.Array]:
    """The cost code, cost type and description of each budget line (``cols``: the lines' text
    columns, ``n`` of them), from whichever of Procore's code layouts the file has (see the
    module rules), as the text columns ``__cost_code``, ``__cost_type``, ``__description``.

    Worked out once per distinct combination of those columns (thousands of snapshots repeat
    the same few hundred budget lines; the string splits run per value, not per row)."""
    names = ("__cost_code", "__cost_type", "__description")
    present = [c for c in _BUDGET_CODE_INPUTS if c in cols]
    if not present or not n:  # no code columns: every line's code, type and description blank
        return dict.fromkeys(names, text_cells("", n))
    keys = [one_array(cols[c]) for c in present]
    group = combination_codes(keys)
    first = pa.array(np.unique(group, return_index=True)[1])  # a row per combination, in order
    derived = _budget_code_of({c: k.take(first) for c, k in zip(present, keys)}, len(first))
    spread = pa.array(group)
    return {name: pa.array(values, TEXT).take(spread) for name, values in zip(names, derived)}


def cost_type_code(text: str) -> str:
    """A cost type as Procore writes it (trimmed) -> its code: ``L - Labor`` reads ``L``; one of
    Procore's default names (``Labor``, :data:`~wip_lib.sources.formats.PROCORE_COST_TYPES`)
    reads its code; anything else as written."""
    return PROCORE_COST_TYPES.get(text.casefold()) or text.split(" - ", 1)[0].strip()


#: The newer Description column's code: its leading words that hold a digit, then the rest.
_CODE_WORDS = re.compile(r"^(\S*\d\S*(?:\s+\S*\d\S*)*)\s+(\S.*)$")
_DIGIT = re.compile(r"\d")


def _split_code(text: str, words: bool = False) -> tuple[str, str]:
    """``03-300 - Cast-in-Place`` (trimmed) -> (``03-300``, ``Cast-in-Place``); a text without
    " - " is all code. With ``words`` (the newer Description column, ``03 30 00.L Cast-in-Place``)
    a text without " - " splits after its leading words that hold a digit."""
    code, _, rest = text.partition(" - ")
    code, rest = code.strip(), rest.strip()
    if words and not rest:
        m = _CODE_WORDS.match(text)
        if m is not None:
            return m.group(1), m.group(2)
    return code, rest


def _budget_code_row(cell: dict[str, str]) -> tuple[str, str, str]:
    """One budget line's cost code, cost type and description from its code columns (``cell``:
    column -> trimmed text, '' where blank or absent), by whichever of Procore's layouts the
    line has (see the module rules)."""
    code, ctype, sub = cell["budget_code"], cost_type_code(cell["cost_type"]), cell["sub_job"]
    desc = cell["description"]
    # The newer layout: the Description column holds "BUDGET CODE - description".
    if desc and not any(cell[c] for c in CODE_COLUMNS):
        c_code, c_desc = _split_code(desc, words=True)
        if _DIGIT.search(c_code):
            code, desc = c_code, c_desc
    if "." in code:
        last = code.rsplit(".", 1)[-1]
        ctype = ctype or last  # the budget code's last part
        if ctype and last.casefold() == ctype.casefold():  # case ignored, Unicode's way
            code = code.rsplit(".", 1)[0]
    if sub and "." in code and code.split(".", 1)[0] == sub:
        code = code.split(".", 1)[1]
    for tier in ("standard_cost_code", "cost_code_tier_3", "cost_code_tier_2",
                 "cost_code_tier_1"):
        t_code, t_desc = _split_code(cell[tier])
        if not code and t_code:
            code, desc = t_code, desc or t_desc
    return code, ctype, desc


def _budget_code_of(given: dict[str, pa.Array], n: int) -> list[list[str]]:
    """:func:`_budget_code_row` of each of ``n`` rows (``given``: the code columns the file has,
    as text: the distinct combinations, a few hundred however many lines share them): their
    cost codes, cost types and descriptions."""
    # Trimmed by Arrow, as every text column is read (utf8_trim_whitespace)
    cells = {c: trim(v)[0].to_pylist() for c, v in given.items()}
    empty = [""] * n
    rows = [_budget_code_row({c: cells.get(c, empty)[i] for c in _BUDGET_CODE_INPUTS})
            for i in range(n)]
    return [[r[k] for r in rows] for k in range(3)]


def read_budgets(root: Path, settings: Settings) -> tuple[pd.DataFrame, list, list[FileReport]]:
    """Every budget snapshot: ``procore/budget/JOB/YYYY-MM.csv`` (job and period from the path;
    ``YYYY-MM VIEW NAME.csv``: a snapshot of a named view, see the module rules).

    A large company has tens of thousands of snapshots of a few hundred lines each, so the cost is
    per file, not per row: the CSVs of one header row are parsed into Arrow text columns together
    (:func:`~wip_lib.sources.readers.tabular.read_texts_arrow`), headers are resolved once per
    distinct header row, the files of one header are stacked and renamed at once, and the whole
    is converted to pandas once. XLSX snapshots
    and files that are not plain UTF-8 take the general path of one export."""
    base = root / BUDGET_DIR
    problems: list[Problem] = []
    reports: list[FileReport] = []
    if not base.is_dir():
        if base.exists():  # a file where the folder of budget snapshots should be
            problems.append(Problem(BUDGET_DIR, "a file where the folder of budget snapshots "
                                    "should be", "put the snapshots in the folder "
                                    "procore/budget/JOB/YYYY-MM.csv (move the file aside)"))
        return schema.get("budget").empty(), problems, reports
    fmt = PROCORE_EXPORTS["budget"]
    fixed = {"job_id": "", "period": ""}
    entries: list[tuple[str, Path, str, str]] = []
    try:
        job_dirs = sorted(base.iterdir())
    except OSError as exc:
        return schema.get("budget").empty(), [file_system_problem(exc, BUDGET_DIR)], reports
    for job_dir in job_dirs:
        rel_dir = job_dir.relative_to(root).as_posix()
        if not job_dir.is_dir():
            if job_dir.suffix.lower() in (".csv", ".xlsx"):  # a snapshot one folder too high
                problems.append(Problem(rel_dir, "a file where a job's folder of budget "
                                        "snapshots should be", "move it to procore/budget/JOB/"
                                        "YYYY-MM.csv, in the folder named by its job number",
                                        value=job_dir.name))
            continue
        try:
            files = sorted(job_dir.iterdir())
        except OSError as exc:
            problems.append(file_system_problem(exc, rel_dir))
            continue
        taken: dict[str, str] = {}
        for f in files:
            if f.suffix.lower() not in (".csv", ".xlsx"):
                continue
            rel = f.relative_to(root).as_posix()
            period = _snapshot_of_view(f.stem, rel, settings, problems)
            if period is None:
                continue
            if period in taken:
                problems.append(Problem(rel, f"a second budget snapshot of {job_dir.name} for "
                                        f"{period} (the other: {taken[period]})",
                                        "keep one file per job and month-end",
                                        value=f.name))
                continue
            taken[period] = rel
            entries.append((rel, f, job_dir.name, period))

    saids = [Collector(rel) for rel, *_ in entries]
    csvs = [k for k, (_, f, _, _) in enumerate(entries) if f.suffix.lower() == ".csv"]
    texts: list = [None] * len(entries)
    for k, got in zip(csvs, read_texts_arrow([entries[k][1] for k in csvs],
                                             [saids[k] for k in csvs], READ_THREADS)):
        if got is not None and (got[2] not in ("utf-8", "utf-8-sig")
                                or len(set(got[1])) != len(got[1])):
            got = None  # Windows-1252 or repeated headers: the general path
        texts[k] = got
    results = list(zip(texts, saids))

    loaded: list[RawFile] = []
    fixed_cols: dict[str, dict[str, str]] = {"job_id": {}, "period": {}}
    seen: dict[tuple[str, ...], tuple[dict[str, str], list[str], bool, list[Problem]]] = {}
    same_header: dict[tuple[str, ...], list[tuple[pa.Table, int]]] = {}
    general: list[pa.Table] = []
    for (rel, f, job, period), (got, said) in zip(entries, results):
        if got is not None:
            t, names, encoding = got
            report = FileReport(rel, fmt.table, rows_in=t.num_rows, encoding=encoding)
            key = tuple(names)
            if key not in seen:
                probe = Collector(rel)
                colmap, unrec, ok = _resolve(fmt, names, fixed, "budget export", probe, rel)
                seen[key] = (colmap, unrec, ok, probe.problems)
            colmap, report.unrecognised, ok, header_said = seen[key]
            problems += said.problems + [replace(q, file=rel) for q in header_said]
            reports.append(report)
            if not ok:
                report.rows_reported = t.num_rows
                continue
            same_header.setdefault(key, []).append((t, len(loaded)))
            loaded.append(RawFile(rel, _NO_ROWS, report, colmap, False))
        else:
            file_out = Collector(rel)  # the general path reads and reports the file again
            raw = _load_raw(root, fmt, f, fixed, "budget export", file_out)
            problems += file_out.problems
            reports.append(raw.report)
            if file_out.has_errors or not raw.raw.num_rows:
                continue
            t = raw.raw
            general.append(t.append_column("_file", pa.array(np.full(t.num_rows, len(loaded)),
                                                             pa.int32())))
            loaded.append(raw)
        fixed_cols["job_id"][rel] = job
        fixed_cols["period"][rel] = period
    if not loaded:
        return schema.get("budget").empty(), problems, reports
    # The path gives each row its job and period: per file, spread over its rows once here.
    fixed_rows = {c: [fixed_cols[c][f.rel] for f in loaded] for c in fixed_cols}
    raw, totals = _stack(same_header, seen, general, loaded, fixed_rows)  # _finish frees it
    del results, same_header, general
    out = Collector(BUDGET_DIR)
    frame = _finish(loaded, fmt, settings, fixed_cols, out, raw=raw.pop(), totals=totals)
    problems += out.problems
    for r in reports:  # a snapshot without lines would read as a job without a budget
        empty = no_rows(r, "budget", problems, required=True)
        if empty:
            problems.append(empty)
    return frame, problems, reports


def view_key(name: str | None) -> str:
    """A budget view's name (or id) as compared: blanks folded, case ignored."""
    return " ".join(str(name or "").replace("_", " ").split()).casefold()


def _snapshot_of_view(stem: str, rel: str, settings: Settings, problems: list[Problem]
                      ) -> str | None:
    """The period a budget file holds for the schedule's view; None (said why) when the file is
    misnamed or is a snapshot of another view."""
    if PERIOD_RE.fullmatch(stem):
        return stem
    m = VIEW_RE.match(stem)
    if m is None:
        problems.append(Problem(rel, "a budget snapshot must be named by its period",
                                "rename it YYYY-MM.csv (the month-end it was taken at), or "
                                "'YYYY-MM VIEW NAME.csv' for a snapshot of a named budget view",
                                value=stem))
        return None
    period, view = m.group(1), m.group(2)
    if settings.budget_view is not None and view_key(view) == view_key(settings.budget_view):
        return period
    reads = (f"budget view '{settings.budget_view}'" if settings.budget_view is not None
             else "the Procore Standard Budget View (files named YYYY-MM.csv)")
    problems.append(Problem(rel, f"a snapshot of budget view '{view}', but the schedule reads "
                            f"{reads}: left out (another view's snapshot never stands in)",
                            f"set `budget_view: {view}` in company.yaml to read this view "
                            "instead, or move the file out of procore/budget", value=stem,
                            severity="warning"))
    return None


def _stack(same_header: dict, seen: dict, general: list[pa.Table], loaded: list[RawFile],
           fixed_rows: dict[str, list[str]]) -> tuple[list[pa.Table], TotalsRows | None]:
    """The files' rows as one text table with ``_row`` and ``_file`` (each row's file, its
    position in ``loaded``), in file order (in a list, so the caller can hand it on without
    keeping it alive), and the files' totals rows, set aside (:func:`_totals_last_rows`; counted
    in each file's report) as the columns are copied whole, not in a second copy of the table
    without them."""
    stacks = []
    for key, files in same_header.items():
        colmap = seen[key][0]
        t = pa.concat_tables([t for t, _ in files])
        at = {h: i for i, h in enumerate(key)}
        t = t.select([at[h] for h in colmap.values()]).rename_columns(list(colmap))
        n = np.array([x.num_rows for x, _ in files])
        starts = np.repeat(np.cumsum(n) - n, n)
        t = t.append_column("_row", pa.array(np.arange(int(n.sum())) - starts + 2))
        stacks.append(t.append_column("_file", pa.array(
            np.repeat(np.array([i for _, i in files], dtype=np.int32), n))))
    stacked = pa.concat_tables(stacks + general, promote_options="permissive")
    del stacks
    # Each column as one array before any row is picked from it: the totals rows' cells taken
    # from a column of hundreds of chunks (a file's rows each) cost 0.65 ms a column on the
    # 30-job company, from the one array a tenth of that. Column by column, so each column's
    # chunks are let go as soon as it is whole.
    columns = {name: stacked.column(name) for name in stacked.column_names}
    del stacked
    for name in list(columns):
        columns[name] = columns[name].combine_chunks()
    stacked = pa.table(columns) if columns else pa.table({})
    file_of = stacked["_file"].to_numpy() if stacked.num_columns else np.zeros(0, np.int32)
    order = None
    if stacked.num_columns and len(same_header) + len(general) > 1:
        # Back in file order, each file's rows together.
        order = np.lexsort((stacked["_row"].to_numpy(), file_of))
    in_order = file_of if order is None else file_of[order]
    ends = np.flatnonzero(np.append(in_order[1:] != in_order[:-1], True)) if len(in_order) \
        else np.zeros(0, dtype=np.int64)
    last = ends if order is None else order[ends]  # each file's last row, in ``stacked``
    is_total = _totals_last_rows(stacked, last) | np.array(
        [loaded[i].has_totals for i in file_of[last]], dtype=bool)
    totals = None
    if is_total.any():
        at = pa.array(last[is_total])
        money = [c.name for c in schema.get("budget").columns
                 if c.kind == "money" and c.name in stacked.column_names]
        totals = TotalsRows([loaded[i].rel for i in file_of[last[is_total]]],
                            stacked["_row"].take(at).to_numpy().astype(np.int64),
                            {m: one_array(pc.fill_null(stacked[m].take(at), ""))
                             for m in money})
        for i in file_of[last[is_total]]:
            loaded[i].report.rows_totals = 1
        keep = np.ones(stacked.num_rows, dtype=bool)
        keep[last[is_total]] = False
        order = np.flatnonzero(keep) if order is None else order[keep[order]]
    for f in loaded:  # set aside here: the rows left end with a line
        f.has_totals = False
    del stacked
    if order is not None:  # one copy of each column at a time, in file order, no totals rows
        take = pa.array(order)
        for name in list(columns):
            columns[name] = columns[name].take(take)
    for name, per_file in fixed_rows.items():
        columns[name] = _spread(per_file, columns["_file"])
    return [pa.table(columns)], totals


def _totals_last_rows(stacked: pa.Table, last: np.ndarray) -> np.ndarray:
    """Which of the rows ``last`` (each file's last, positions in ``stacked``) are totals rows:
    the first non-blank cell, in the budget's canonical column order, is 'Total', 'Totals' or
    'Grand Total' (:data:`TOTALS`)."""
    first: list[str | None] = [None] * len(last)
    todo = set(range(len(last)))
    at = pa.array(last)
    for c in PROCORE_EXPORTS["budget"].headers:
        if not todo:
            break  # every last row has its first cell: the later columns cannot change it
        if c not in stacked.column_names:
            continue
        cells = stacked[c].take(at).to_pylist()  # a file's last row each: a few hundred cells
        for i in list(todo):
            if (cells[i] or "").strip():
                first[i] = cells[i]
                todo.discard(i)
    return np.array([v is not None and TOTALS.match(v) is not None for v in first], dtype=bool)


#: Exports no other step of :func:`read_procore` reads (the projects export gives the others
#: their time zones, the commitments the subcontractor invoices their vendors): with a second
#: thread at hand they are handed to it, to read after the ERP's exports, while this thread
#: reads the budget snapshots; those it has not started when this thread is done are read
#: here. At 30 jobs the ERP's side otherwise ended 45-50 ms before Procore's; a read took
#: 8-15 ms less (24 reads each way, three times, 2026-12-02).
BESIDE = ("prime_contracts", "prime_contract_lines", "prime_change_orders", "commitment_lines",
          "commitment_change_orders", "direct_costs", "procore_vendors")


def _read_listed(root: Path, name: str, fmt: ExportFormat, settings: Settings,
                 zones: dict[str, str]) -> tuple[pd.DataFrame, list, FileReport | None]:
    """One of Procore's list exports (:data:`PROCORE_EXPORTS`), a required one missing or an
    export without rows reported."""
    df, probs, rep = read_export(root, fmt, settings, zones=zones)
    if rep is None and name in REQUIRED_FILES:
        probs = [*probs, Problem(f"{fmt.path}.csv", "required export not found",
                                 f"download it from Procore and save it as {fmt.path}.csv "
                                 "(or .xlsx)")]
    elif rep is not None:
        empty = no_rows(rep, name, probs, required=name in REQUIRED_FILES,
                        declared=settings.empty_exports, what=WHAT.get(name, ""),
                        never_empty=NEVER_EMPTY)
        probs = [*probs, empty] if empty else probs
    return df, probs, rep


def read_procore(root: Path, settings: Settings, pool: Executor | None = None
                 ) -> tuple[dict, list, list[FileReport]]:
    """Every Procore export of the company folder: ``(tables, problems, reports)``, in the
    order of :data:`PROCORE_EXPORTS` whichever thread read them. ``pool``: a second thread's
    executor, which reads the exports of :data:`BESIDE` it is free for before this thread is."""
    tables, problems, reports = {}, [], []
    zones: dict[str, str] = {}
    listed: dict[str, tuple | Future] = {}
    for name, fmt in PROCORE_EXPORTS.items():
        if name == "budget" or name in INVOICES or name in INVOICES.values():
            continue
        if pool is not None and name in BESIDE:
            listed[name] = pool.submit(_read_listed, root, name, fmt, settings, zones)
            continue
        listed[name] = _read_listed(root, name, fmt, settings, zones)
        if name == "jobs":  # read first: the exports after it are read with its zones
            zones = dict(listed[name][0].attrs.get("time_zones") or {})
    later: dict[str, pd.DataFrame] = {}
    later_problems: list[Problem] = []
    later_reports: list[FileReport] = []
    later["budget"], probs, reps = read_budgets(root, settings)
    later_problems += probs
    later_reports += reps
    commitments = listed["commitments"][0] if "commitments" in listed else None
    for invoices, lines in INVOICES.items():
        later[invoices], later[lines], probs, reps = read_invoices(
            root, invoices, settings, zones, commitments)
        later_problems += probs
        later_reports += reps
    cw, probs, rep = read_export(root, CROSSWALK, settings, source="cost code crosswalk")
    if rep is not None:
        empty = no_rows(rep, "cost_code_crosswalk", probs, required=False,
                        declared=settings.empty_exports, what="crosswalk rows")
        probs = [*probs, empty] if empty else probs
    later["cost_code_crosswalk"] = cw
    later_problems += probs
    if rep:
        later_reports.append(rep)
    um, probs, rep = read_export(root, UNINSTALLED, settings, source="uninstalled materials")
    later["uninstalled_materials"] = um
    later_problems += probs
    if rep:
        later_reports.append(rep)
    # Those the second thread has not started yet are read here: it may still be on the ERP's
    # side (a company whose ERP exports outweigh its Procore ones; at 30 and at 2,000 jobs the
    # ERP's side ended first). Taken back from the last: the other thread takes them from the
    # first.
    taken_back = [name for name, got in reversed(listed.items())
                  if isinstance(got, Future) and got.cancel()]
    for name in reversed(taken_back):
        listed[name] = _read_listed(root, name, PROCORE_EXPORTS[name], settings, zones)
    for name, got in listed.items():  # the list exports first, as read on one thread
        df, probs, rep = got.result() if isinstance(got, Future) else got
        tables[name] = df
        problems += probs
        if rep:
            reports.append(rep)
    tables.update(later)
    return tables, problems + later_problems, reports + later_reports


# == Invoices ====================================================================================
# Subcontractor and owner invoices: Procore's per-invoice CSVs (their AIA G703 lines) and an
# optional list with one row per invoice.
#
# What Procore gives [procore-checked.md, section E]: the Subcontractor Invoicing and Owner
# Invoicing list pages export to PDF only; each invoice (requisition, payment application) exports
# its own CSV, its G703 schedule of values. So a company folder keeps
#
#     procore/subcontractor_invoices/JOB/CONTRACT/APPLICATION.csv   (or .xlsx), one per invoice
#     procore/owner_invoices/JOB/CONTRACT/APPLICATION.csv
#     procore/subcontractor_invoices.csv, procore/owner_invoices.csv
#                                   (optional: one row per invoice, as the API pull writes them)
#
# The folder names the job, the contract (the subcontract or PO #, or the prime contract #) and
# the application number (the file's name, a whole number).
#
# Rules:
#
# - A file: optional ``Label,Value`` lines above the G703 header row hold the invoice's own facts
#   under the list's headers (``Invoice #``, ``Billing Date``, ``Period Start``, ``Period End``,
#   ``Status``, ``Contract Company``, ``Approved Date``, ...). The header row is the first row
#   that names both ``Scheduled Value`` and ``Total Completed and Stored to Date``; columns are
#   matched by their text (:data:`~wip_lib.sources.formats.G703`; words in brackets such as
#   ``(D+E+F)`` and a leading column letter are ignored), never by position. Then one row per line
#   and, optionally, a totals row, checked against the lines and set aside.
# - Each line must add up: G = D + E + F (total completed and stored to date = from previous
#   application + this period + materials presently stored) and, where the file has the column, H
#   = C - G (balance to finish = scheduled value - G). A line that does not is reported.
# - The invoice's G702 figures from its lines: line 4, total completed and stored to date = sum of
#   G; line 5, total retainage = sum of I. This period's work, this period's retainage and line 8,
#   current payment due (= (line 4 - line 5) less the previous certificate's), are the change
#   since the previous application of the same contract (:func:`this_period`), unless the file
#   states them (``Work Completed This Period``, ``Retainage This Period``, ``Current Payment
#   Due``). An application after the first whose predecessor is in neither the folder nor the
#   list, and whose file does not state them, is reported: its this-period figures cannot be
#   known.
# - An invoice both in the list and in the folder: the list row stands, and its line 4 and line 5
#   must equal the sums of the file's lines (reported otherwise). An invoice only in the folder
#   takes its facts from the file; a subcontractor invoice's vendor is its commitment's when the
#   file does not name it; a fact the data model requires that neither gives is reported, naming
#   the file.

CONTRACT = {"subcontractor_invoices": "commitment_number", "owner_invoices": "contract_number"}
LINES = {"subcontractor_invoices": "subcontractor_invoice_lines",
         "owner_invoices": "owner_invoice_lines"}
# figures an invoice's file may state; else worked out from the applications in sequence
STATED = ("work_completed_this_period", "retainage_this_period", "amount_due")
APP_RE = re.compile(r"^0*(\d{1,6})$")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LETTER = re.compile(r"^[A-I][.:)]?\s+(?=\S)")


@functools.lru_cache(maxsize=4096)  # headers and labels repeat from invoice to invoice
def clean_header(h: str) -> str:
    """A G703 header as matched: words in brackets and a leading column letter dropped
    (``G. Total Completed and Stored to Date (D+E+F)`` reads ``Total Completed and Stored to
    Date``)."""
    text = _BRACKETS.sub(" ", str(h)).strip()
    text = _LETTER.sub("", text)
    return " ".join(text.rstrip(":").split())


_BLANKS = re.compile(r"[\s_]+")


@functools.lru_cache(maxsize=4096)
def _norm(h: str) -> str:
    return _BLANKS.sub(" ", str(h)).strip().casefold()


@functools.cache
def _g703_headers() -> dict[str, frozenset[str]]:
    """The aliases that make a row the G703 header row, as compared."""
    return {k: frozenset(_norm(a) for a in G703[k])
            for k in ("scheduled_value", "total_completed_to_date")}


@functools.cache
def _fact_labels(table: str) -> dict[str, str]:
    """An invoice fact's label, as compared -> the ``table``'s canonical column."""
    return {_norm(a): k for k, aliases in PROCORE_EXPORTS[table].headers.items()
            for a in aliases}


def this_period(frame: pd.DataFrame, contract: str, to_date: pd.Series | pd.DataFrame
                ) -> pd.Series | pd.DataFrame:
    """This period's figure as the change in a to-date figure since the previous application of
    the same job and contract (the first application: its to-date figure). ``to_date`` (integer
    cents; a frame: each of its columns) is aligned with ``frame``; the result is too.

    The applications are put in order once, for every column."""
    keys = ["job_id", contract, "application_number"]
    order = frame[keys].reset_index(drop=True).sort_values(keys, kind="stable")
    at = order.index.to_numpy()  # each application's row (its position), in sequence
    before = pd.Series(at, index=order.index).groupby(
        [order["job_id"], order[contract]], sort=False).shift(1)
    first = before.isna().to_numpy()
    prev = before.fillna(0).to_numpy(dtype="int64")  # a first application's is never read

    def change(values: pd.Series) -> pd.Series:
        v = values.to_numpy(dtype="int64")
        out = np.empty(len(v), dtype="int64")
        out[at] = v[at] - np.where(first, 0, v[prev])
        return pd.Series(out, index=frame.index, name=values.name)

    if isinstance(to_date, pd.DataFrame):
        return pd.DataFrame({c: change(to_date[c]) for c in to_date.columns}, index=frame.index)
    return change(to_date)


# -- one file -----------------------------------------------------------------------------------

def _cells(path: Path, rel: str, out: Collector) -> list[list[str]] | None:
    """Every row of the file as text cells (CSV: UTF-8, BOM or Windows-1252; XLSX: first sheet)."""
    if path.suffix.lower() == ".xlsx":
        if not path.stat().st_size:
            out.add("the file is empty", "export the invoice again from Procore")
            return None
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            out.add(f"not a readable XLSX workbook ({exc})", "open it in Excel and save it again")
            return None
        rows = [[_cell_text(v) for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        return rows
    data = path.read_bytes()
    if not data:
        out.add("the file is empty", "export the invoice again from Procore")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        out.add("read as Windows-1252 (not UTF-8)", "nothing to do; saving as UTF-8 avoids "
                "surprises with accented names", severity="warning")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        out.add(f"not a readable CSV file ({exc})", "save it as CSV and try again")
        return None


def _header_row(rows: list[list[str]]) -> int | None:
    """Index of the G703 header row: the first naming Scheduled Value and Total Completed and
    Stored to Date."""
    want = _g703_headers()
    for i, row in enumerate(rows):
        names = {_norm(clean_header(c)) for c in row}
        if all(names & aliases for aliases in want.values()):
            return i
    return None


def _facts(rows: list[list[str]], table: str) -> dict[str, tuple[str, int]]:
    """``Label,Value`` lines above the header: canonical column of ``table`` -> (value, row)."""
    by_alias = _fact_labels(table)
    found: dict[str, tuple[str, int]] = {}
    for i, row in enumerate(rows):
        cells = [c.strip() for c in row if str(c).strip()]
        if len(cells) < 2:
            continue
        key = by_alias.get(_norm(cells[0].rstrip(":")))
        if key is not None and key not in found:
            found[key] = (cells[1], i + 1)
    return found


@dataclasses.dataclass
class _File:
    rel: str
    job: str
    contract: str
    app: int
    raw: RawFile  # its ``raw`` table is empty: the lines are in ``cells``, stacked for all files
    facts: dict[str, tuple[str, int]]
    cells: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # column -> lines
    first_row: int = 0  # the file's row number of the first line
    n: int = 0  # lines


@dataclasses.dataclass(frozen=True)
class _Header:
    """What a G703 header row reads as: canonical column -> header, and the positions of the
    headers nobody asked for."""
    colmap: dict[str, str]
    unknown_at: tuple[int, ...]


@functools.cache
def _ignored(table: str) -> frozenset[str]:
    return frozenset(_norm(clean_header(x)) for x in PROCORE_EXPORTS[LINES[table]].ignored)


def _read_file(root: Path, path: Path, job: str, contract: str, app: int, table: str,
               out: Collector, headers: dict[tuple[str, ...], _Header] | None = None
               ) -> _File | None:
    """One invoice's G703 as text cells per canonical column; the frame is built once for all
    files (:func:`_stack_lines`), a frame per file costing more than reading the file.

    ``headers``: the header rows already read cleanly by the files before (a folder's invoices
    share a few), reused instead of resolved again; a header with a problem is resolved in each
    file, so that each file reports it."""
    rel = path.relative_to(root).as_posix()
    fmt = PROCORE_EXPORTS[LINES[table]]
    report = FileReport(rel, fmt.table)
    rows = _cells(path, rel, out)
    if rows is None:
        return _File(rel, job, contract, app, RawFile(rel, _NO_ROWS, report, {}, False), {})
    h = _header_row(rows)
    if h is None:
        out.add("no G703 header row: no row names both 'Scheduled Value' and 'Total Completed "
                "and Stored to Date'", "export the invoice again from Procore (Export > CSV on "
                "the invoice); its schedule of values carries those columns", file=rel)
        return _File(rel, job, contract, app, RawFile(rel, _NO_ROWS, report, {}, False), {})
    header = [clean_header(c) for c in rows[h]]
    body = [(list(r) + [""] * len(header))[:len(header)] for r in rows[h + 1:]]
    report.rows_in = len(body)
    facts = _facts(rows[:h], table)
    read = None if headers is None else headers.get(tuple(header))
    if read is None:
        before = len(out.problems)
        colmap = resolve_headers(header, fmt.headers,
                                 {"scheduled_value", "total_completed_to_date"}, out,
                                 "invoice's CSV")
        known = _ignored(table)
        read = _Header(colmap, tuple(i for i, x in enumerate(header) if x and x not in
                                     colmap.values() and _norm(x) not in known))
        if headers is not None and len(out.problems) == before:
            headers[tuple(header)] = read
    colmap = read.colmap
    if repeated_headers(header, set(colmap.values()), out, row=h + 1, file=rel):
        report.rows_reported = len(body)
        return _File(rel, job, contract, app, RawFile(rel, _NO_ROWS, report, {}, False), {})
    unknown = [rows[h][i] for i in read.unknown_at]
    report.unrecognised = unknown
    if unknown:
        out.add(f"column(s) not understood and ignored: {', '.join(unknown)}",
                "nothing to do if they are not needed; see docs/data-model.md for the G703 "
                "columns read", severity="warning", file=rel)
    at = {x: i for i, x in enumerate(header)}
    labels = {k: rows[h][at[v]] for k, v in colmap.items()}
    cells = {k: [r[at[v]] for r in body] for k, v in colmap.items()}
    has_totals = bool(body) and is_totals([col[-1] for col in cells.values()])
    return _File(rel, job, contract, app, RawFile(rel, _NO_ROWS, report, labels, has_totals),
                 facts, cells, h + 2, len(body))


def _stack_lines(files: list[_File]) -> pa.Table:
    """The G703 lines of every file as one text table (``_row``, the columns any file has, a
    column a file lacks null on its lines, ``line_number`` 1.. per file, ``_file``: each line's
    file, its position in ``files``)."""
    columns = list(dict.fromkeys(k for f in files for k in f.cells))
    data: dict[str, object] = {"_row": np.concatenate(
        [np.arange(f.first_row, f.first_row + f.n, dtype="int64") for f in files])}
    for c in columns:
        values: list[str | None] = []
        for f in files:
            values.extend(f.cells.get(c) or [None] * f.n)
        data[c] = pa.array(values, TEXT)
    data["line_number"] = pa.array([str(i) for f in files for i in range(1, f.n + 1)], TEXT)
    data["_file"] = np.repeat(np.arange(len(files), dtype=np.int32), [f.n for f in files])
    return pa.table(data)


def _walk(root: Path, base: Path, problems: list[Problem]) -> list[tuple[Path, str, str, int]]:
    """(file, job, contract, application) for every invoice file under ``base``."""
    found = []
    top = base.relative_to(root).as_posix()
    where = f"{top}/JOB/CONTRACT/APPLICATION.csv"
    # os.walk: each folder's entries with their kinds, no stat of each file (a company's
    # invoices are hundreds to thousands of small files); in the order of their paths' parts
    # (as sorted Paths are).
    files = []
    for folder, _, names in os.walk(base):
        under = Path(folder).relative_to(base).parts
        files += [(*under, n) for n in names if Path(n).suffix.lower() in (".csv", ".xlsx")]
    for parts in sorted(files):
        p = base.joinpath(*parts)
        rel = "/".join((top, *parts))
        if len(parts) != 3:
            problems.append(Problem(rel, "an invoice's CSV is not where its job and contract can "
                                    "be told", f"save each invoice as {where}", value=p.name))
            continue
        m = APP_RE.match(p.stem.strip())
        if m is None:
            problems.append(Problem(rel, "an invoice's file must be named by its application "
                                    "number", f"rename it to the application # (e.g. 3.csv): "
                                    f"{where}", value=p.name))
            continue
        found.append((p, parts[0], parts[1], int(m.group(1))))
    return found


# -- the whole folder -------------------------------------------------------------------------

def read_invoices(root: Path, table: str, settings: Settings, zones: dict[str, str],
                  commitments: pd.DataFrame | None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem], list[FileReport]]:
    """(invoices, their G703 lines, problems, reports) for ``subcontractor_invoices`` or
    ``owner_invoices`` (see the module rules)."""
    fmt = PROCORE_EXPORTS[table]
    lines_fmt = PROCORE_EXPORTS[LINES[table]]
    contract = CONTRACT[table]
    listed, problems, rep = read_export(root, fmt, settings, zones=zones)
    reports = [rep] if rep is not None else []
    base = root / lines_fmt.path.split("/JOB/")[0]
    lines_table = schema.get(lines_fmt.table)
    if not base.is_dir():
        return listed, lines_table.empty(), problems, reports
    files: list[_File] = []
    headers: dict[tuple[str, ...], _Header] = {}
    for path, job, con, app in _walk(root, base, problems):
        out = Collector(path.relative_to(root).as_posix())
        f = _read_file(root, path, job, con, app, table, out, headers)
        problems += out.problems
        reports.append(f.raw.report)
        if out.has_errors:
            f.raw.report.rows_reported = f.raw.report.rows_in
            continue
        files.append(f)
    if not files:
        return listed, lines_table.empty(), problems, reports
    out = Collector(base.relative_to(root).as_posix())
    fixed = {"job_id": {f.rel: f.job for f in files}, contract: {f.rel: f.contract for f in files},
             "application_number": {f.rel: str(f.app) for f in files}, "line_number": {}}
    with_lines = [f for f in files if f.n]
    lines = (_finish([f.raw for f in with_lines], lines_fmt, settings, fixed, out,
                     raw=_stack_lines(with_lines)) if with_lines else lines_table.empty())
    for c in lines_table.columns:  # a column no file has: the data model's default
        if c.name not in lines.columns:
            lines[c.name] = pd.Series(c.default, index=lines.index).astype(c.dtype)
    lines = _check_lines(lines, [f.raw for f in files], out)
    problems += out.problems
    invoices, more = _invoices(root, table, settings, files, lines, listed, commitments, zones)
    problems += more
    lines = lines.drop(columns=["_file", "_row"]).assign(
        _file=lines["_file"], _row=lines["_row"])  # provenance last, as every reader gives it
    return invoices, lines, problems, reports


def _check_lines(lines: pd.DataFrame, files: list[RawFile], out: Collector) -> pd.DataFrame:
    """Rows whose G and H do not add up (see the module rules) reported and set aside."""
    if lines.empty:
        return lines
    labels = lines.attrs.get("labels") or {}
    g = lines["total_completed_to_date"]
    dfe = lines["from_previous_application"] + lines["this_period"] + lines["materials_stored"]
    out.row_files = lines["_file"]
    label = labels.get("total_completed_to_date", "Total Completed and Stored to Date")
    bad_g = g != dfe
    if bad_g.any():  # the figures as text only for a file with a line that does not add up
        shown = (g / 100).map("{:,.2f}".format) + " but D + E + F = " + (dfe / 100).map(
            "{:,.2f}".format)
        out.rows(bad_g, lines["_row"], shown, "the line does not add up: Total Completed and "
                 "Stored to Date must equal From Previous Application + This Period + Materials "
                 "Presently Stored", "export the invoice again from Procore; if it still "
                 "differs, correct the invoice in Procore", label)
    with_h = {f.rel for f in files if "balance_to_finish" in f.labels}
    h = lines["balance_to_finish"]
    cg = lines["scheduled_value"] - g
    bad_h = lines["_file"].isin(with_h).to_numpy() & (h != cg).to_numpy() & ~bad_g.to_numpy()
    bad_h = pd.Series(bad_h, index=lines.index)
    if bad_h.any():
        shown = (h / 100).map("{:,.2f}".format) + " but C - G = " + (cg / 100).map(
            "{:,.2f}".format)
        out.rows(bad_h, lines["_row"], shown, "the line does not add up: Balance to Finish must "
                 "equal Scheduled Value - Total Completed and Stored to Date", "export the "
                 "invoice again from Procore", labels.get("balance_to_finish",
                                                          "Balance to Finish"))
    out.row_files = None
    bad = (bad_g | bad_h).to_numpy()
    by_rel = {f.rel: f for f in files}
    for rel, n in lines.loc[bad, "_file"].value_counts().items():
        by_rel[rel].report.rows_reported += int(n)
        by_rel[rel].report.rows_accepted -= int(n)
    kept = lines[~bad].reset_index(drop=True)
    kept.attrs["labels"] = frozen(labels)
    return kept


def _default_text(c: schema.Column) -> str:
    """A fact the file does not give, as text: the data model's default for text (``unpaid``,
    ``not_integrated``), else blank (the conversion reports a required one)."""
    return str(c.default) if c.kind == "text" and c.default is not None else ""


def _invoices(root: Path, table: str, settings: Settings, files: list[_File],
              lines: pd.DataFrame, listed: pd.DataFrame, commitments: pd.DataFrame | None,
              zones: dict[str, str]) -> tuple[pd.DataFrame, list[Problem]]:
    """The invoices: the list's rows, plus one row per invoice only in the folder, built from
    its file (see the module rules)."""
    t = schema.get(table)
    contract = CONTRACT[table]
    key = ["job_id", contract, "application_number"]
    problems: list[Problem] = []
    sums = (lines.groupby(key, sort=False)[["total_completed_to_date", "retainage"]].sum()
            if len(lines) else pd.DataFrame(columns=["total_completed_to_date", "retainage"]))
    have = pd.MultiIndex.from_frame(listed[key].astype({"application_number": "int64"})) \
        if len(listed) else pd.MultiIndex.from_tuples([], names=key)
    listed_labels = listed.attrs.get("labels") or {}

    # 1. Invoices in the list and the folder: the list's to-date figures against the lines'.
    if len(listed) and len(sums):
        idx = pd.MultiIndex.from_frame(listed[key].astype({"application_number": "int64"}))
        got = sums.reindex(idx)
        for col, line_col in (("total_completed_to_date", "total_completed_to_date"),
                              ("retainage_to_date", "retainage")):
            line_sum = got[line_col].to_numpy()
            diff = ~np.isnan(line_sum.astype("float64")) & (
                listed[col].to_numpy("int64") != np.nan_to_num(line_sum).astype("int64"))
            for i in np.flatnonzero(diff):
                r = listed.iloc[i]
                problems.append(Problem(
                    str(r["_file"]), f"the list says {r[col] / 100:,.2f} but the invoice's G703 "
                    f"lines sum to {line_sum[i] / 100:,.2f}", "export the list and the invoice "
                    "again from Procore; one of them is out of date", int(r["_row"]),
                    listed_labels.get(col, PROCORE_EXPORTS[table].headers[col][0]),
                    f"{r[col] / 100:,.2f}"))

    # 2. Invoices only in the folder: their facts from the file, their figures from the lines.
    new = [f for f in files if (f.job, f.contract, f.app) not in have]
    if not new:
        return listed, problems
    headers = PROCORE_EXPORTS[table].headers
    facts = [c.name for c in t.columns if c.name in headers and c.name not in (
        "job_id", contract, "application_number", "total_completed_to_date",
        "retainage_to_date")]
    raw = pd.DataFrame({
        "_row": np.ones(len(new), dtype="int64"),
        "job_id": [f.job for f in new], contract: [f.contract for f in new],
        "application_number": [str(f.app) for f in new],
        **{c: [f.facts.get(c, (_default_text(t.column(c)), 0))[0] for f in new]
           for c in facts}}, dtype="string")
    raw["_row"] = raw["_row"].astype("int64")
    rels = pd.Series([f.rel for f in new], dtype="string")
    k = pd.MultiIndex.from_arrays([raw["job_id"], raw[contract],
                                   raw["application_number"].astype("int64")], names=key)
    got = sums.reindex(k)
    raw["total_completed_to_date"] = cents_to_text(
        got["total_completed_to_date"].fillna(0)).to_numpy()
    raw["retainage_to_date"] = cents_to_text(got["retainage"].fillna(0)).to_numpy()
    if table == "subcontractor_invoices" and commitments is not None and len(commitments):
        vendor = commitments.drop_duplicates(["job_id", "commitment_number"]).set_index(
            ["job_id", "commitment_number"])["vendor_name"]
        their = pd.Series(vendor.reindex(pd.MultiIndex.from_arrays(
            [raw["job_id"], raw[contract]])).to_numpy(), dtype="string").fillna("")
        raw["vendor_name"] = raw["vendor_name"].mask(raw["vendor_name"].str.strip() == "", their)
    stated = {c: (raw[c].str.strip() != "").to_numpy() for c in STATED}
    relaxed = dataclasses.replace(t, columns=tuple(
        dataclasses.replace(c, required=False) if c.name in STATED else c for c in t.columns))
    out = Collector(rels.iloc[0], row_files=rels)
    labels = {c: headers[c][0] for c in headers}
    cols = {c: text_array(raw[c]) for c in raw.columns if c != "_row"}
    _local_timestamps(cols, relaxed, settings, zones, labels, out)
    frame, bad = convert(pa.table({"_row": raw["_row"].to_numpy(), **cols}), relaxed,
                         {c: c for c in cols}, out, settings.procore_locale, labels=labels)
    # a fact's problem names the row its label is on in that file (none when it is missing)
    at = {(f.rel, headers[c][0]): row for f in new for c, (_, row) in f.facts.items()}
    problems += [dataclasses.replace(p, row=at.get((p.file, p.column))) for p in out.problems]
    frame = frame.assign(_file=rels.to_numpy(), _row=np.ones(len(new), dtype="int64"))
    frame = frame[~bad.to_numpy()]

    # 3. This period's figures the files do not state: from the applications in sequence.
    both = pd.concat([listed, frame], ignore_index=True) if len(listed) else \
        frame.reset_index(drop=True)
    mine = np.r_[np.zeros(len(listed), dtype=bool), np.ones(len(frame), dtype=bool)]
    kept = {c: np.r_[np.ones(len(listed), dtype=bool), stated[c][~bad.to_numpy()]]
            for c in STATED}
    td, ret = both["total_completed_to_date"], both["retainage_to_date"]
    derived = this_period(both, contract, pd.DataFrame(
        {"work_completed_this_period": td, "retainage_this_period": ret, "amount_due": td - ret}))
    need = mine & ~np.logical_and.reduce([kept[c] for c in STATED])
    for c in STATED:
        both[c] = np.where(kept[c], both[c].to_numpy(), derived[c].to_numpy())
    apps = pd.MultiIndex.from_frame(both[key].astype({"application_number": "int64"}))
    before = pd.MultiIndex.from_arrays([both["job_id"], both[contract],
                                        both["application_number"].astype("int64") - 1])
    orphan = need & (both["application_number"].astype("int64") > 1).to_numpy() \
        & ~before.isin(apps)
    for i in np.flatnonzero(orphan):
        r = both.iloc[i]
        problems.append(Problem(
            str(r["_file"]), f"application {r['application_number']} of {r[contract]}: the "
            f"previous application is in neither the folder nor the list, so this period's "
            "figures cannot be worked out from the G703 lines",
            f"add application {int(r['application_number']) - 1}'s CSV to the folder, or state "
            "'Work Completed This Period', 'Retainage This Period' and 'Current Payment Due' as "
            "Label,Value lines above the G703 table"))
    both = both[~orphan].reset_index(drop=True)
    for c in t.columns:
        both[c.name] = both[c.name].astype(c.dtype) if c.kind != "date" else both[c.name]
    both.attrs["labels"] = frozen({**labels, **listed_labels})
    return both, problems
