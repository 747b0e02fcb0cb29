"""ERP exports through a profile: a YAML column map per canonical table (``wip_lib/profiles``).

A profile names each table's file and, for each canonical column, the headers that mean it. The
Sage 300 CRE profile ships; any other ERP is read by copying it and changing names, no code.
Optional per-table keys:

- ``source_from`` + ``sources``: the column whose values give the cost source (AP, PR, JC, EQ),
  and the map from the export's values; ``not_cost`` lists values that share the export but are
  not cost (estimates, billings) and are counted as excluded, never read as cost.
- ``values``: per column, a map from the export's values to canonical ones.
- ``period_from``: the date column the accounting period is taken from (default: accounting_date,
  else the table's first date column).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wip_lib.core import schema
from wip_lib.core.settings import Settings
from wip_lib.core.errors import InputError, Problem
from wip_lib.sources.readers.procore import find_file
from wip_lib.sources.readers.tabular import (Collector, FileReport, convert, month_text, read_text_table,
                                     resolve_headers, split_totals, take_rows)

PROFILES = Path(__file__).resolve().parent.parent / "profiles"
REQUIRED_FILES = {"erp_job_cost", "erp_jobs"}
DERIVED = {"cost_code_raw", "job_id_raw", "period", "row_id", "source"}


def load_profile(name_or_path: str, root: Path | None = None) -> dict:
    candidates = [Path(name_or_path)]
    if root is not None:
        candidates.insert(0, root / name_or_path)
    candidates.append(PROFILES / f"{name_or_path}.yaml")
    for p in candidates:
        if p.is_file():
            try:
                data = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
            except yaml.YAMLError as exc:
                raise InputError([Problem(str(p), f"not valid YAML: {exc}".replace("\n", " "),
                                          "fix the YAML syntax at the line shown")]) from None
            if not isinstance(data, dict) or "tables" not in data:
                raise InputError([Problem(str(p), "an ERP profile needs a `tables:` map",
                                          "copy wip_lib/sources/profiles/sage300.yaml and edit it")])
            return data
    known = ", ".join(sorted(p.stem for p in PROFILES.glob("*.yaml")))
    raise InputError([Problem("company.yaml", f"ERP profile {name_or_path!r} not found",
                              f"use one of {known}, or a path to your own profile YAML",
                              column="erp.profile", value=name_or_path)])


def read_erp_table(root: Path, name: str, spec: dict, settings: Settings, date_formats: list[str]
                   ) -> tuple[pd.DataFrame, list, FileReport | None]:
    table = schema.get(name)
    path = find_file(root, spec["file"])
    if path is None:
        return table.empty(), [], None
    rel = path.relative_to(root).as_posix()
    out = Collector(rel)
    report = FileReport(rel, name)
    got = read_text_table(path, rel, out)
    if got is None:
        return table.empty(), out.problems, report
    raw, report.encoding = got
    del got  # the text frame is replaced as rows are set aside: hold no second reference
    report.rows_in = len(raw)
    blank = np.ones(len(raw), dtype=bool) if len(raw.columns) > 1 else np.zeros(len(raw), bool)
    for c in raw.columns.drop("_row"):  # column by column, stopping once no row can be blank
        blank &= (raw[c] == "").to_numpy(dtype=bool, na_value=True)
        if not blank.any():
            break
    blank = pd.Series(blank, index=raw.index)
    report.rows_blank = int(blank.sum())
    if report.rows_blank:  # a filter copies every column: only when there is something to drop
        raw = take_rows(raw, ~blank.to_numpy())
    columns = {k: list(v) for k, v in spec["columns"].items()}
    canon = set(table.names)
    required = {c.name for c in table.columns if c.required and c.name not in DERIVED}
    required &= set(columns)
    if spec.get("source_from"):
        required.add(spec["source_from"])
    missing_map = {c.name for c in table.columns if c.required and c.name not in DERIVED} - set(columns)
    for m in sorted(missing_map):
        out.add(f"the ERP profile maps no column to '{m}'", f"add `{m}: [Header]` under "
                f"tables.{name}.columns in the profile", column=m)
    colmap = resolve_headers(list(raw.columns), columns, required, out, f"ERP {name} export")
    report.unrecognised = [h for h in raw.columns if h != "_row" and h not in colmap.values()]
    if report.unrecognised:
        out.add(f"column(s) not understood and ignored: {', '.join(report.unrecognised)}",
                "nothing to do if they are not needed; otherwise map them in the ERP profile",
                severity="warning")
    if out.has_errors:
        report.rows_reported = len(raw)
        return table.empty(), out.problems, report
    money = [colmap[c.name] for c in table.columns if c.kind == "money" and c.name in colmap]
    raw, report.rows_totals = split_totals(raw, money, out)
    # Rows that share the export but are not this table's (estimates in a cost export).
    keep = pd.Series(True, index=raw.index)
    source = None
    if spec.get("source_from"):
        col = colmap[spec["source_from"]]
        vals = raw[col].astype("string").str.strip()
        not_cost = vals.isin([str(v) for v in spec.get("not_cost", [])])
        keep = ~not_cost
        report.rows_excluded = int(not_cost.sum())
        codes, uniq = pd.factorize(vals)  # a few transaction types over millions of rows
        named = pd.Series(uniq, dtype="string").map(
            {str(k): v for k, v in spec.get("sources", {}).items()}).astype("string")
        source = pd.Series(pd.array(np.append(named.to_numpy(dtype=object), None)[codes],
                                    dtype="string"), index=vals.index)
        unknown = keep & source.isna()
        out.rows(unknown, raw["_row"], vals, "transaction type not recognised",
                 f"add it to `sources` (cost) or `not_cost` under tables.{name} in the ERP profile",
                 col)
        if not keep.all():
            raw = take_rows(raw, keep.to_numpy())
            source = source[keep.to_numpy()]
            unknown = unknown[keep.to_numpy()]
    for column, mapping in (spec.get("values") or {}).items():
        if column in colmap:
            h = colmap[column]
            raw = raw.assign(**{h: raw[h].astype("string").str.strip().replace(
                {str(k): str(v) for k, v in mapping.items()})})
    typed_map = {k: v for k, v in colmap.items() if k in canon}
    frame, bad = convert(raw, table, typed_map, out, settings.procore_locale, date_formats)
    if source is not None:
        frame["source"] = source.astype("string")
        bad |= unknown
    if "job_id_raw" in canon and "job_id" in colmap:
        frame["job_id_raw"] = raw[colmap["job_id"]].astype("string")
    if "period" in canon and "period" not in colmap:
        src = spec.get("period_from") or ("accounting_date" if "accounting_date" in colmap else None)
        if src and src in colmap and src not in frame.columns:
            dates, bad_d = _dates(raw[colmap[src]], settings, date_formats)
            out.rows(bad_d, raw["_row"], raw[colmap[src]], "not a date", "write the date as "
                     "MM/DD/YYYY or YYYY-MM-DD", colmap[src])
            bad |= bad_d
        else:
            first_date = src or next(c.name for c in table.columns if c.kind == "date")
            dates = frame[first_date]
        frame["period"] = month_text(dates)
    if "row_id" in canon:
        rid = (frame["row_id"] if "row_id" in colmap else pd.Series("", index=frame.index)
               ).astype("string")
        none = (rid.fillna("") == "").to_numpy(bool)
        if none.any():  # FILE:ROW for rows the export gives no id of their own
            rid = rid.copy()
            rid.iloc[np.flatnonzero(none)] = (rel + ":" + raw["_row"].iloc[np.flatnonzero(none)]
                                              .astype("string")).to_numpy()
        frame["row_id"] = rid
    frame = frame[table.names]
    frame = frame.assign(_file=pd.Series(rel, index=frame.index, dtype="string"),
                         _row=raw["_row"].to_numpy())
    report.rows_reported = int(bad.sum())
    report.rows_accepted = len(frame) - report.rows_reported
    if report.rows_reported:
        frame = frame[~bad.to_numpy()]
    frame = frame.reset_index(drop=True)
    frame.attrs["labels"] = dict(colmap)  # the file's own headers, for the rules' messages
    return frame, out.problems, report


def _dates(text, settings, formats):
    from wip_lib.sources.readers.tabular import parse_dates

    return parse_dates(text, settings.procore_locale, formats)


def read_erp(root: Path, settings: Settings) -> tuple[dict, list, list[FileReport]]:
    profile = load_profile(settings.erp_profile, root)
    formats = list(profile.get("date_formats") or [])
    tables, problems, reports = {}, [], []
    for name, spec in profile["tables"].items():
        if name not in schema.TABLES:
            problems.append(Problem(settings.erp_profile, f"unknown canonical table {name!r}",
                                    f"use one of {', '.join(t for t in schema.TABLES if t.startswith(('erp', 'gl')))}"))
            continue
        df, probs, rep = read_erp_table(root, name, spec, settings, formats)
        if rep is None and name in REQUIRED_FILES:
            probs = [*probs, Problem(f"{spec['file']}.csv", "required ERP export not found",
                                     f"export it from {profile.get('title', 'the ERP')} and save it "
                                     f"as {spec['file']}.csv (or .xlsx)")]
        tables[name] = df
        problems += probs
        if rep:
            reports.append(rep)
    return tables, problems, reports
