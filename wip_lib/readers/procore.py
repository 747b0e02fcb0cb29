"""Procore exports (CSV or XLSX, as a user downloads them) into canonical tables."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from wip_lib import codes, schema
from wip_lib.company import Settings
from wip_lib.formats import (COMMITMENT_STATUS_FAMILY, CO_STATUS_FAMILY, CROSSWALK,
                             PROCORE_EXPORTS, ExportFormat)
from wip_lib.readers.tabular import (Collector, FileReport, convert, read_text_table,
                                     resolve_headers, split_totals)

REQUIRED_FILES = {"jobs", "prime_contracts"}
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


def read_export(root: Path, fmt: ExportFormat, settings: Settings, path: Path | None = None,
                fixed: dict[str, object] | None = None, source: str | None = None
                ) -> tuple[pd.DataFrame, list, FileReport | None]:
    """One Procore export into its canonical table (with ``_file``/``_row``)."""
    table = schema.get(fmt.table)
    path = path or find_file(root, fmt.path)
    if path is None:
        return table.empty(), [], None
    rel = path.relative_to(root).as_posix()
    out = Collector(rel)
    report = FileReport(rel, fmt.table)
    got = read_text_table(path, rel, out)
    if got is None:
        return table.empty(), out.problems, report
    raw, report.encoding = got
    report.rows_in = len(raw)
    blank = raw.drop(columns="_row").apply(lambda c: c.str.strip() == "").all(axis=1)
    report.rows_blank = int(blank.sum())
    raw = raw[~blank]
    fixed = fixed or {}
    spec = {k: v for k, v in fmt.headers.items() if k not in fixed}
    required = {c.name for c in table.columns if c.required and c.name in spec}
    if fmt.table == "budget":
        required = (required - {"cost_code", "cost_code_raw"}) | {"budget_code"}
    colmap = resolve_headers(list(raw.columns), spec, required, out, source or fmt.path)
    report.unrecognised = [h for h in raw.columns if h != "_row" and h not in colmap.values()]
    if report.unrecognised:
        out.add(f"column(s) not understood and ignored: {', '.join(report.unrecognised)}",
                "nothing to do if they are not needed; otherwise see docs/data-model.md for the "
                "headers each export may carry", severity="warning")
    if out.has_errors:
        report.rows_reported = len(raw)
        return table.empty(), out.problems, report
    money_headers = [colmap[c.name] for c in table.columns if c.kind == "money" and c.name in colmap]
    raw, report.rows_totals = split_totals(raw, money_headers, out)
    if fmt.table == "budget":
        raw = _budget_codes(raw, colmap)
        colmap = {**colmap, "cost_code": "__cost_code"}
    frame, bad = convert(raw, table, colmap, out, settings.procore_locale, defaults=fixed)
    labels = dict(settings.status_labels)
    if "status_family" in table.names:
        families = COMMITMENT_STATUS_FAMILY if fmt.table == "commitments" else CO_STATUS_FAMILY
        fam = _family(frame["status"], families, labels)
        unknown = fam.isna() & ~bad
        out.rows(unknown, raw["_row"], frame["status"], "status not recognised",
                 "map this status to a Procore base status (approved, pending, draft, void, ...) "
                 "under status_labels in company.yaml", colmap.get("status", "Status"))
        bad |= unknown
        frame["status_family"] = fam
    if fmt.table == "commitments":
        t = frame["commitment_type"].str.casefold().str.replace(r"[\s_]+", "_", regex=True)
        t = t.replace({"work_order_contract": "subcontract", "purchase_order_contract":
                       "purchase_order", "po": "purchase_order", "sc": "subcontract"})
        badt = ~t.isin(["subcontract", "purchase_order"]) & ~bad
        out.rows(badt, raw["_row"], frame["commitment_type"], "commitment type not recognised",
                 "write Subcontract or Purchase Order", colmap["commitment_type"])
        bad |= badt
        frame["commitment_type"] = t.astype("string")
    frame = frame.assign(_file=rel, _row=raw["_row"].to_numpy())
    frame["_file"] = frame["_file"].astype("string")
    report.rows_reported = int(bad.sum())
    report.rows_accepted = len(frame) - report.rows_reported
    return frame[~bad.to_numpy()].reset_index(drop=True), out.problems, report


def _budget_codes(raw: pd.DataFrame, colmap: dict[str, str]) -> pd.DataFrame:
    """Procore budget codes read ``[SUBJOB.]03-300.L``: the cost code is what remains when the
    sub job and the cost type are taken off. Without a budget code, the lowest cost code tier
    (``03-300 - Cast-in-Place``) gives it."""
    code = raw[colmap["budget_code"]].astype("string").fillna("").str.strip() \
        if "budget_code" in colmap else pd.Series("", index=raw.index, dtype="string")
    ctype = raw[colmap["cost_type"]].astype("string").fillna("").str.strip() \
        if "cost_type" in colmap else pd.Series("", index=raw.index, dtype="string")
    sub = raw[colmap["sub_job"]].astype("string").fillna("").str.strip() \
        if "sub_job" in colmap else pd.Series("", index=raw.index, dtype="string")
    dotted = code.str.contains(".", regex=False)
    last = code.str.rsplit(".", n=1).str[-1]
    has_suffix = dotted & (ctype != "") & (last.str.upper() == ctype.str.upper())
    code = code.mask(has_suffix, code.str.rsplit(".", n=1).str[0])
    first = code.str.split(".", n=1).str[0]
    has_prefix = (sub != "") & code.str.contains(".", regex=False) & (first == sub)
    code = code.mask(has_prefix, code.str.split(".", n=1).str[1])
    for tier in ("cost_code_tier_3", "cost_code_tier_2", "cost_code_tier_1"):
        if tier in colmap:
            t = raw[colmap[tier]].astype("string").fillna("").str.split(" - ", n=1).str[0].str.strip()
            code = code.mask(code == "", t)
    return raw.assign(__cost_code=code)


def read_budgets(root: Path, settings: Settings) -> tuple[pd.DataFrame, list, list[FileReport]]:
    """Every budget snapshot: ``procore/budget/JOB/YYYY-MM.csv`` (job and period from the path)."""
    from wip_lib.errors import Problem

    base = root / BUDGET_DIR
    frames, problems, reports = [], [], []
    if not base.is_dir():
        return schema.get("budget").empty(), problems, reports
    fmt = PROCORE_EXPORTS["budget"]
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
            df, probs, rep = read_export(root, fmt, settings, path=f,
                                         fixed={"job_id": job_dir.name, "period": f.stem},
                                         source="budget export")
            frames.append(df)
            problems += probs
            if rep:
                reports.append(rep)
    if not frames:
        return schema.get("budget").empty(), problems, reports
    return pd.concat(frames, ignore_index=True), problems, reports


def read_procore(root: Path, settings: Settings) -> tuple[dict, list, list[FileReport]]:
    from wip_lib.errors import Problem

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
            probs = [*probs, Problem(rep.file, "the export has a header but no rows",
                                     "export it again with the company's projects included")]
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
    return tables, problems, reports
