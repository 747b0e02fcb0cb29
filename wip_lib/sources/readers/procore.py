"""Procore exports (CSV or XLSX, as a user downloads them) into canonical tables."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from wip_lib.core import codes, schema
from wip_lib.core.settings import Settings
from wip_lib.sources.formats import (COMMITMENT_STATUS_FAMILY, CO_STATUS_FAMILY, CROSSWALK,
                             PROCORE_EXPORTS, UNINSTALLED, ExportFormat)
from wip_lib.core.money import parse_cents
from wip_lib.core.errors import Problem
from wip_lib.sources.readers.tabular import (TOTALS, Collector, FileReport, blank_rows, convert,
                                     read_text_arrow, read_text_table, resolve_headers,
                                     take_rows, totals_row)

REQUIRED_FILES = {"jobs", "prime_contracts"}
READ_THREADS = 4  # budget snapshots read at once (pyarrow reads release the GIL)
_NO_ROWS = pd.DataFrame()  # the rows of a file read straight into the stacked frame
BUDGET_DIR = "procore/budget"
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def find_file(root: Path, stem: str) -> Path | None:
    for ext in (".csv", ".xlsx", ".CSV", ".XLSX"):
        p = root / f"{stem}{ext}"
        if p.exists():
            return p
    return None


def _family(status: pd.Series, families: dict[str, str], labels: dict[str, str]) -> pd.Series:
    s = status.astype("string").fillna("").str.strip()
    base = s.map(lambda v: labels.get(v, labels.get(v.casefold(), v))).astype("string")
    return base.str.casefold().map(families).astype("string")


@dataclass
class RawFile:
    """One export read as text, its headers resolved to canonical names (``_row`` kept)."""

    rel: str
    raw: pd.DataFrame
    report: FileReport
    labels: dict[str, str]  # canonical column -> the header this file used
    has_totals: bool


def _load_raw(root: Path, fmt: ExportFormat, path: Path, fixed: dict, source: str | None,
              out: Collector) -> RawFile | None:
    """Read one file as text and resolve its headers; None when it cannot be used at all."""
    rel = path.relative_to(root).as_posix()
    report = FileReport(rel, fmt.table)
    got = read_text_table(path, rel, out)
    if got is None:
        return RawFile(rel, pd.DataFrame(), report, {}, False)
    raw, report.encoding = got
    report.rows_in = len(raw)
    headers = [h for h in raw.columns if h != "_row"]
    colmap, report.unrecognised, ok = _resolve(fmt, headers, fixed, source, out, rel)
    if not ok:
        report.rows_reported = len(raw)
        return RawFile(rel, pd.DataFrame(), report, colmap, False)
    canon = raw[["_row", *colmap.values()]].copy()
    canon.columns = ["_row", *colmap.keys()]
    return RawFile(rel, canon, report, colmap, totals_row(canon))


def _resolve(fmt: ExportFormat, headers: list[str], fixed: dict, source: str | None,
             out: Collector, rel: str) -> tuple[dict[str, str], list[str], bool]:
    """Canonical column -> the file's header, the headers not understood, and whether the file
    can be used (no header error)."""
    table = schema.get(fmt.table)
    spec = {k: v for k, v in fmt.headers.items() if k not in fixed}
    required = {c.name for c in table.columns if c.required and c.name in spec}
    if fmt.table == "budget":
        required = required - {"cost_code", "cost_code_raw"}
        if not any(t in spec for t in ("cost_code_tier_1", "cost_code_tier_2")) or not any(
                _present(headers, spec[t]) for t in ("cost_code_tier_1", "cost_code_tier_2",
                                                     "cost_code_tier_3") if t in spec):
            required |= {"budget_code"}
    errors_before = sum(p.severity == "error" for p in out.problems)
    colmap = resolve_headers(headers, spec, required, out, source or fmt.path)
    unrecognised = [h for h in headers if h not in colmap.values()]
    if unrecognised:
        out.add(f"column(s) not understood and ignored: {', '.join(unrecognised)}",
                "nothing to do if they are not needed; otherwise see docs/data-model.md for the "
                "headers each export may carry", severity="warning", file=rel)
    return colmap, unrecognised, sum(p.severity == "error" for p in out.problems) == errors_before


def _present(headers: list[str], aliases: list[str]) -> bool:
    norm = {" ".join(str(h).split()).casefold() for h in headers}
    return any(" ".join(a.split()).casefold() in norm for a in aliases)


def _finish(files: list[RawFile], fmt: ExportFormat, settings: Settings, fixed_cols: dict,
            out: Collector, raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """Convert the text of one or more files of the same export at once (the expensive part is
    per column, not per file: hundreds of budget snapshots convert as fast as one).

    ``raw``, when given, is the files' rows already stacked (with ``_file`` and ``_row``)."""
    table = schema.get(fmt.table)
    if raw is None:
        usable = [f for f in files if not f.raw.empty]
        if not usable:
            return table.empty()
        raw = pd.concat([f.raw.assign(_file=f.rel) for f in usable], ignore_index=True)
    else:
        usable = list(files)
        if raw.empty:
            return table.empty()
    for name, per_file in fixed_cols.items():
        if name not in raw.columns:
            raw[name] = raw["_file"].map(per_file)
    raw["_file"] = raw["_file"].astype("string")
    for c in table.names:
        if c not in raw.columns and any(c in f.labels for f in usable):
            raw[c] = ""
    for c in raw.columns:
        if c not in ("_row", "_file"):
            raw[c] = raw[c].astype("string").fillna("")
    by_file = {f.rel: f for f in usable}
    # A totals row closes a file: set it aside after checking it against the lines above it.
    # (The last row of all compares with nothing: NA, which must count as a file's last row.)
    last = raw["_file"].ne(raw["_file"].shift(-1)).fillna(True).astype(bool)
    is_total = pd.Series(False, index=raw.index)
    is_total[last] = raw.loc[last, "_file"].map({r: f.has_totals for r, f in by_file.items()}
                                                ).astype(bool).to_numpy()
    blank = blank_rows(raw.drop(columns=list(fixed_cols))) & ~is_total
    for rel, n in raw.loc[blank, "_file"].value_counts().items():
        by_file[rel].report.rows_blank = int(n)
    for rel, n in raw.loc[is_total, "_file"].value_counts().items():
        by_file[rel].report.rows_totals = int(n)
    money = [c.name for c in table.columns if c.kind == "money" and c.name in raw.columns]
    totals = raw[is_total]
    raw = take_rows(raw, (~blank & ~is_total).to_numpy())
    out.row_files = raw["_file"]
    labels = {}
    for f in usable:
        for k, v in f.labels.items():
            labels.setdefault(k, v)
    if fmt.table == "budget":
        raw = _budget_codes(raw)
    colmap = {c: c for c in table.names if c in raw.columns}
    if fmt.table == "budget":
        colmap["cost_code"] = "__cost_code"
    frame, bad = convert(raw, table, colmap, out, settings.procore_locale,
                         defaults=None, labels=labels)
    if not totals.empty:
        _check_totals(totals, raw, frame, bad, money, labels, out)
    labels_status = dict(settings.status_labels)
    if "status_family" in table.names:
        families = COMMITMENT_STATUS_FAMILY if fmt.table == "commitments" else CO_STATUS_FAMILY
        fam = _family(frame["status"], families, labels_status)
        unknown = fam.isna() & ~bad
        out.rows(unknown, raw["_row"], frame["status"], "status not recognised",
                 "map this status to a Procore base status (approved, pending, draft, void, ...) "
                 "under status_labels in company.yaml", labels.get("status", "Status"))
        bad |= unknown
        frame["status_family"] = fam
    if fmt.table == "commitments":
        t = frame["commitment_type"].str.casefold().str.replace(r"[\s_]+", "_", regex=True)
        t = t.replace({"work_order_contract": "subcontract", "purchase_order_contract":
                       "purchase_order", "po": "purchase_order", "sc": "subcontract"})
        badt = ~t.isin(["subcontract", "purchase_order"]) & ~bad
        out.rows(badt, raw["_row"], frame["commitment_type"], "commitment type not recognised",
                 "write Subcontract or Purchase Order", labels.get("commitment_type", "Type"))
        bad |= badt
        frame["commitment_type"] = t.astype("string")
    frame = frame.assign(_file=raw["_file"].to_numpy(), _row=raw["_row"].to_numpy())
    frame["_file"] = frame["_file"].astype("string")
    reported = raw.loc[bad.to_numpy(), "_file"].value_counts()
    kept = raw["_file"].value_counts()
    for rel, f in by_file.items():
        f.report.rows_reported = int(reported.get(rel, 0))
        f.report.rows_accepted = int(kept.get(rel, 0)) - f.report.rows_reported
    out.row_files = None
    frame = frame[~bad.to_numpy()].reset_index(drop=True)
    frame.attrs["labels"] = labels  # the file's own headers, for the cross-file rules' messages
    return frame


def _check_totals(totals: pd.DataFrame, raw: pd.DataFrame, frame: pd.DataFrame, bad: pd.Series,
                  money: list[str], labels: dict, out: Collector) -> None:
    files = totals["_file"].to_numpy()
    sums = frame[money].groupby(raw["_file"].to_numpy()).sum().reindex(files, fill_value=0)
    clean = ~np.isin(files, raw.loc[bad.to_numpy(), "_file"].unique())
    for m in money:
        cells = totals[m].str.strip()
        parsed, bad_t = parse_cents(cells)
        wrong = (clean & (cells != "").to_numpy(bool) & ~bad_t.to_numpy(bool)
                 & (parsed.fillna(0).to_numpy("int64") != sums[m].to_numpy("int64")))
        for i in np.flatnonzero(wrong):
            s = int(sums[m].iloc[i])
            out.add(f"the totals row says {cells.iloc[i]} but the lines above it sum to "
                    f"{s / 100:,.2f}", "export the file again; a line is missing or was "
                    "edited after the export", row=int(totals["_row"].iloc[i]),
                    column=labels.get(m, m), value=cells.iloc[i], file=str(files[i]))


def read_export(root: Path, fmt: ExportFormat, settings: Settings, path: Path | None = None,
                fixed: dict[str, object] | None = None, source: str | None = None
                ) -> tuple[pd.DataFrame, list, FileReport | None]:
    """One Procore export into its canonical table (with ``_file``/``_row``)."""
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
    frame = _finish([f], fmt, settings, {k: {rel: v} for k, v in fixed.items()}, out)
    return frame, out.problems, f.report


_BUDGET_CODE_INPUTS = ("budget_code", "cost_type", "sub_job", "cost_code_tier_1",
                       "cost_code_tier_2", "cost_code_tier_3")


def _budget_codes(raw: pd.DataFrame) -> pd.DataFrame:
    """Procore budget codes read ``[SUBJOB.]03-300.L``: the cost code is what remains when the
    sub job and the cost type are taken off. Without a budget code, the lowest cost code tier
    (``03-300 - Cast-in-Place``) gives it.

    Worked out once per distinct combination of those columns (thousands of snapshots repeat
    the same few hundred budget lines; the string splits run in Python per value)."""
    cols = [c for c in _BUDGET_CODE_INPUTS if c in raw.columns]
    if not cols or raw.empty:
        return raw.assign(__cost_code=_budget_code_of(raw))
    keys = raw[cols].astype("string").fillna("")
    group = keys.groupby(cols, sort=False).ngroup().to_numpy()
    first = np.unique(group, return_index=True)[1]  # one row per combination, in group order
    code = _budget_code_of(keys.iloc[first].reset_index(drop=True))
    return raw.assign(__cost_code=pd.Series(code.array.take(group), index=raw.index,
                                            dtype="string"))


def _budget_code_of(raw: pd.DataFrame) -> pd.Series:
    def col(name: str) -> pd.Series:
        if name in raw.columns:
            return raw[name].astype("string").fillna("").str.strip()
        return pd.Series("", index=raw.index, dtype="string")

    code, ctype, sub = col("budget_code"), col("cost_type"), col("sub_job")
    dotted = code.str.contains(".", regex=False)
    last = code.str.rsplit(".", n=1).str[-1]
    has_suffix = dotted & (ctype != "") & (last.str.upper() == ctype.str.upper())
    code = code.mask(has_suffix, code.str.rsplit(".", n=1).str[0])
    first = code.str.split(".", n=1).str[0]
    has_prefix = (sub != "") & code.str.contains(".", regex=False) & (first == sub)
    code = code.mask(has_prefix, code.str.split(".", n=1).str[1])
    for tier in ("cost_code_tier_3", "cost_code_tier_2", "cost_code_tier_1"):
        if tier in raw.columns:
            t = col(tier).str.split(" - ", n=1).str[0].str.strip()
            code = code.mask(code == "", t)
    return code


def read_budgets(root: Path, settings: Settings) -> tuple[pd.DataFrame, list, list[FileReport]]:
    """Every budget snapshot: ``procore/budget/JOB/YYYY-MM.csv`` (job and period from the path).

    A large company has tens of thousands of snapshots of a few hundred lines each, so the cost is
    per file, not per row: the CSVs are read into Arrow text columns on a few threads (the reads
    release the GIL), headers are resolved once per distinct header row, the files of one header
    are stacked and renamed at once, and the whole is converted to pandas once. XLSX snapshots
    and files that are not plain UTF-8 take the general path of one export."""
    base = root / BUDGET_DIR
    problems: list[Problem] = []
    reports: list[FileReport] = []
    if not base.is_dir():
        return schema.get("budget").empty(), problems, reports
    fmt = PROCORE_EXPORTS["budget"]
    fixed = {"job_id": "", "period": ""}
    entries: list[tuple[str, Path, str]] = []
    for job_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for f in sorted(job_dir.iterdir()):
            if f.suffix.lower() not in (".csv", ".xlsx"):
                continue
            rel = f.relative_to(root).as_posix()
            if not PERIOD_RE.match(f.stem):
                problems.append(Problem(rel, "a budget snapshot must be named by its period",
                                        "rename it YYYY-MM.csv (the month-end it was taken at)",
                                        value=f.name))
                continue
            entries.append((rel, f, job_dir.name))

    def read_one(entry):
        rel, f, _ = entry
        said = Collector(rel)
        got = read_text_arrow(f, said) if f.suffix.lower() == ".csv" else None
        if got is not None and (got[2] not in ("utf-8", "utf-8-sig")
                                or len(set(got[1])) != len(got[1])):
            got = None  # Windows-1252 or repeated headers: the general path
        return got, said

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        results = list(pool.map(read_one, entries))

    loaded: list[RawFile] = []
    fixed_cols: dict[str, dict[str, str]] = {"job_id": {}, "period": {}}
    seen: dict[tuple[str, ...], tuple[dict[str, str], list[str], bool, list[Problem]]] = {}
    same_header: dict[tuple[str, ...], list[tuple[pa.Table, int]]] = {}
    general: list[pa.Table] = []
    for (rel, f, job), (got, said) in zip(entries, results):
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
            if file_out.has_errors or raw.raw.empty:
                continue
            t = pa.Table.from_pandas(raw.raw, preserve_index=False)
            general.append(t.append_column("_file", pa.array(np.full(t.num_rows, len(loaded)),
                                                             pa.int32())))
            loaded.append(raw)
        fixed_cols["job_id"][rel] = job
        fixed_cols["period"][rel] = f.stem
    if not loaded:
        return schema.get("budget").empty(), problems, reports
    # The path gives each row its job and period: per file, spread over its rows once here.
    fixed_rows = {c: [fixed_cols[c][f.rel] for f in loaded] for c in fixed_cols}
    raw = _stack(same_header, seen, general, loaded, fixed_rows)  # _finish frees it
    del results, same_header, general
    out = Collector(BUDGET_DIR)
    frame = _finish(loaded, fmt, settings, fixed_cols, out, raw=raw.pop())
    return frame, problems + out.problems, reports


def _stack(same_header: dict, seen: dict, general: list[pa.Table], loaded: list[RawFile],
           fixed_rows: dict[str, list[str]]) -> list[pd.DataFrame]:
    """The files' rows as one text frame with ``_file`` and ``_row``, in file order (in a list,
    so the caller can hand it on without keeping it alive)."""
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
    if stacked.num_columns and len(same_header) + len(general) > 1:
        # Back in file order, each file's rows together.
        stacked = stacked.take(np.lexsort((stacked["_row"].to_numpy(),
                                           stacked["_file"].to_numpy())))
    # Column by column, so the many small chunks of a column are freed as soon as it is whole.
    columns = {name: stacked.column(name) for name in stacked.column_names}
    del stacked
    text = lambda t: pd.StringDtype() if (  # noqa: E731
        pa.types.is_string(t) or pa.types.is_large_string(t)) else None
    raw = pd.DataFrame({name: columns.pop(name).combine_chunks().to_pandas(types_mapper=text)
                        for name in list(columns)})
    index = pa.array(raw["_file"].to_numpy())
    for name, per_file in {"_file": [f.rel for f in loaded], **fixed_rows}.items():
        raw[name] = pa.DictionaryArray.from_arrays(index, pa.array(per_file)).cast(
            pa.large_string()).to_pandas(types_mapper=text)
    raw["_row"] = raw["_row"].astype("int64")
    _mark_totals(raw, loaded)
    return [raw]


def _mark_totals(raw: pd.DataFrame, files: list[RawFile]) -> None:
    """Set ``has_totals`` on each file whose last row is a totals row (first non-blank cell,
    in canonical column order, 'Total' / 'Totals' / 'Grand Total'), for all files at once."""
    last = raw["_file"].ne(raw["_file"].shift(-1)).fillna(True).to_numpy(bool)
    tail = raw.loc[last]
    first = pd.Series("", index=tail.index, dtype="string")
    for c in PROCORE_EXPORTS["budget"].headers:
        if c in tail.columns:
            cell = tail[c].astype("string").fillna("")
            first = first.mask((first == "") & (cell.str.strip() != ""), cell)
    is_total = first.str.match(TOTALS.pattern, case=False).fillna(False).to_numpy(bool)
    by_rel = {f.rel: f for f in files}
    for rel in tail.loc[is_total, "_file"]:
        by_rel[rel].has_totals = True


def read_procore(root: Path, settings: Settings) -> tuple[dict, list, list[FileReport]]:
    from wip_lib.core.errors import Problem

    tables, problems, reports = {}, [], []
    for name, fmt in PROCORE_EXPORTS.items():
        if name == "budget":
            continue
        df, probs, rep = read_export(root, fmt, settings)
        if rep is None and name in REQUIRED_FILES:
            probs = [*probs, Problem(f"{fmt.path}.csv", "required export not found",
                                     f"download it from Procore and save it as {fmt.path}.csv "
                                     "(or .xlsx)")]
        elif rep is not None and name in REQUIRED_FILES and rep.rows_in == 0:
            what = {"jobs": "projects"}.get(name, name.replace("_", " "))
            probs = [*probs, Problem(rep.file, "the export has a header but no rows",
                                     f"export it again with the company's {what} included")]
        tables[name] = df
        problems += probs
        if rep:
            reports.append(rep)
    tables["budget"], probs, reps = read_budgets(root, settings)
    problems += probs
    reports += reps
    cw, probs, rep = read_export(root, CROSSWALK, settings, source="cost code crosswalk")
    tables["cost_code_crosswalk"] = cw
    problems += probs
    if rep:
        reports.append(rep)
    um, probs, rep = read_export(root, UNINSTALLED, settings, source="uninstalled materials")
    tables["uninstalled_materials"] = um
    problems += probs
    if rep:
        reports.append(rep)
    return tables, problems, reports
