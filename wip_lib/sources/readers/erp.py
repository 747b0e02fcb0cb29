"""ERP exports through a profile: a YAML column map per canonical table (``sources/profiles``).

A profile names each table's file and, for each canonical column, the headers that mean it. Nine
profiles ship (Sage 300 CRE, Sage 100 Contractor, Vista, Spectrum, QuickBooks Online and Desktop,
Acumatica, Sage Intacct, Foundation); any other ERP is read by copying one and changing names and
declared transforms, no code. Every key a table may carry:

- ``file`` (or ``parts``: several files that fill the table, each ``{file, set: {column: value}}``,
  e.g. subcontracts and purchase orders), ``columns`` (canonical column or helper -> headers;
  a helper is any other name, read as text for the rules below; all helpers are required unless
  listed under ``optional``), ``layout: report`` (a report CSV: title rows, indent columns,
  group rows and ``Total`` rows; the group names are column ``(group)``).
- ``joins``: ``[{file, key: {name: [headers]}, columns: {name: [headers]}}]``: columns taken from a
  header file by a key (Vista's AP lines take the vendor from ``APTH``).
- ``transforms``, ``exclude`` (``[{when, reason}]``: rows that share the export but are not this
  table's, counted as excluded with the reason), ``values`` (per column, export value ->
  canonical value), ``lookups`` (``{column: {from, table, key, value}}``: a canonical value found
  in another table of the profile, as a vendor name from a vendor number).
- ``source_from`` + ``sources`` + ``not_cost`` (the cost source from a transaction type column),
  or ``source_rules`` (``[{when, source}, ..., {source: JC}]``, the first that holds).
- ``amounts``: a money column worked from others: ``{plus: [..], minus: [..]}`` (debit minus
  credit), ``{value: C, sign: S}`` (an unsigned amount and a 1/-1 column, Intacct's TR_TYPE), or
  ``{value: C, negate_when: {...}}``.
- ``period`` (see :mod:`wip_lib.sources.readers.transforms`) or ``period_from`` (a date column;
  default: accounting_date, else the table's first date column); ``dates: {column: period_end}``
  (a date the export does not carry: the last day of the row's period).
- ``release`` (AR): ``{when, amount}``: retainage-release documents. They bill retainage already
  withheld, so they are not new billing: ``amount_billed = 0`` and ``retainage = -|amount|``.
- ``lines``: ``{by: [columns], split: {when, from, into, negate}}``: lines summed into one row per
  ``by`` key (money added, the first line's text kept); a split moves a line's amount to another
  column first (QuickBooks' negative retainage item line -> retainage).
- ``balance`` (GL): ``{activity: true}`` (monthly activity or transactions: the balance at each
  period is the running sum per account and job) or ``{opening: C, periods: [C1..C12]}`` (a row
  per account with an opening balance and one activity column per fiscal period, unpivoted).
  ``kept_by: account``: the ERP keeps the WIP accounts by account only (no job column); the
  journal entry then works per job against the prior period's schedule.
- ``sample``: hints for ``wip sample --erp`` only (how to write what the reader does not need).

Beside ``tables``, a profile declares what its exports carry that a rule depends on
(:data:`wip_lib.core.settings.ERP_FACTS`): ``facts: {name: {value: true|false, source: ...,
confidence: official|spec|3rd-party|derived|guess}}``, the source and trust as in
``docs/erp-profiles.md``. A fact declared true needs its column read by the profile; a fact a
profile does not declare holds when the profile reads its column (:func:`profile_facts`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wip_lib.core import schema, yaml_text
from wip_lib.core.arrow_strings import dictionary_codes, one_array
from wip_lib.core.attrs import frozen
from wip_lib.core.errors import InputError, Problem
from wip_lib.core.grouping import aggregate
from wip_lib.core.money import parse_cents
from wip_lib.core.settings import ERP_FACTS, NEVER_EMPTY, Settings
from wip_lib.sources.readers.procore import find_file
from wip_lib.sources.readers.tabular import (
    Collector,
    FileReport,
    _norm_header,
    convert,
    empty_cells,
    first_columns,
    month_text,
    no_rows,
    parse_dates,
    read_report_table,
    read_text_columns,
    read_text_table,
    repeated_headers,
    resolve_headers,
    split_totals,
    take_rows,
    text_array,
    text_frame,
)
from wip_lib.sources.readers.transforms import (
    ProfileError,
    columns_of,
    condition,
    fiscal_to_period,
    parse_fiscal_text,
    read_column,
)

PROFILES = Path(__file__).resolve().parent.parent / "profiles"
REQUIRED_FILES = {"erp_job_cost", "erp_jobs"}
WHAT = {"erp_job_cost": "job-cost transactions", "erp_jobs": "jobs",
        "erp_ar_billings": "AR billings", "erp_ap_invoices": "AP invoices",
        "erp_vendors": "vendors", "erp_commitments": "commitments",
        "erp_cost_codes": "cost codes", "gl_balances": "GL balances",
        "erp_contract_change_orders": "contract change orders"}  # in messages
DERIVED = {"cost_code_raw", "job_id_raw", "period", "row_id", "source"}
GROUP = "(group)"
TABLE_KEYS = {"file", "parts", "columns", "optional", "layout", "joins", "transforms", "exclude",
              "values", "lookups", "source_from", "sources", "not_cost", "source_rules",
              "amounts", "period", "period_from", "dates", "release", "lines", "balance",
              "kept_by", "sample"}


def load_profile(name_or_path: str, root: Path | None = None) -> dict:
    candidates = [Path(name_or_path)]
    if root is not None:
        candidates.insert(0, root / name_or_path)
    candidates.append(PROFILES / f"{name_or_path}.yaml")
    for p in candidates:
        if p.is_file():
            try:
                data = yaml_text.load(p.read_text(encoding="utf-8-sig"))
            except yaml_text.YAMLError as exc:
                raise InputError([Problem(str(p), f"not valid YAML: {exc}".replace("\n", " "),
                                          "fix the YAML syntax at the line shown")]) from None
            if not isinstance(data, dict) or "tables" not in data:
                raise InputError([Problem(str(p), "an ERP profile needs a `tables:` map",
                                          "copy wip_lib/sources/profiles/sage300.yaml and edit it")])
            problems = check_profile(data, str(p))
            if problems:
                raise InputError(problems)
            return data
    known = ", ".join(builtin_profiles())
    raise InputError([Problem("company.yaml", f"ERP profile {name_or_path!r} not found",
                              f"use one of {known}, or a path to your own profile YAML",
                              column="erp.profile", value=name_or_path)])


def builtin_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.yaml"))


CONFIDENCE = ("official", "spec", "3rd-party", "derived", "guess")


def read_columns(profile: dict, name: str) -> set[str]:
    """The canonical columns of table ``name`` the profile reads from its export (mapped from a
    header, or worked out from the export's own columns); empty when the profile has no such
    table."""
    spec = (profile.get("tables") or {}).get(name)
    if not isinstance(spec, dict):
        return set()
    out = set(spec.get("columns") or {}) | derived_columns(name, spec)
    for part in spec.get("parts") or []:
        out |= set(part.get("columns") or {})
    return out


def profile_facts(profile: dict) -> dict[str, bool]:
    """What the profile's exports carry (:data:`~wip_lib.core.settings.ERP_FACTS`): each fact as
    the profile declares it, else whether the profile reads the fact's column."""
    declared = profile.get("facts") or {}
    out = {}
    for fact, (table, column, _) in ERP_FACTS.items():
        d = declared.get(fact)
        out[fact] = (bool(d["value"]) if isinstance(d, dict) and "value" in d
                     else column in read_columns(profile, table))
    return out


def _check_facts(profile: dict, file: str) -> list[Problem]:
    facts = profile.get("facts")
    if facts is None:
        return []
    if not isinstance(facts, dict):
        return [Problem(file, "`facts:` must be a map of fact -> {value, source, confidence}",
                        "copy the facts of a built-in profile and edit them", column="facts")]
    out = []
    for fact, d in facts.items():
        where = f"facts.{fact}"
        if fact not in ERP_FACTS:
            out.append(Problem(file, f"unknown fact {fact!r}", f"use only "
                               f"{', '.join(ERP_FACTS)}", column=where))
            continue
        table, column, meaning = ERP_FACTS[fact]
        if not isinstance(d, dict) or not isinstance(d.get("value"), bool):
            out.append(Problem(file, f"fact {fact!r} ({meaning}) needs `value: true` or "
                               "`value: false`", "state whether the export carries it",
                               column=where))
            continue
        if not str(d.get("source") or "").strip() or d.get("confidence") not in CONFIDENCE:
            out.append(Problem(file, f"fact {fact!r} needs a `source:` and a `confidence:` (one "
                               f"of {', '.join(CONFIDENCE)})", "say where the fact comes from, "
                               "as docs/erp-profiles.md does", column=where))
        if d["value"] and column not in read_columns(profile, table):
            out.append(Problem(file, f"fact {fact!r} is declared true but table {table!r} does "
                               f"not read {column!r}", f"map {column} in tables.{table}.columns,"
                               " or declare the fact false", column=where))
    return out


def check_profile(profile: dict, file: str) -> list[Problem]:
    """Mistakes in a profile's own keys (a typo would silently read nothing otherwise)."""
    out = _check_facts(profile, file)
    for name, spec in (profile.get("tables") or {}).items():
        if not isinstance(spec, dict) or "columns" not in spec or not (
                "file" in spec or "parts" in spec):
            out.append(Problem(file, f"table {name!r} needs `file:` (or `parts:`) and "
                               "`columns:`", "copy a table of a built-in profile and edit it",
                               column=f"tables.{name}"))
            continue
        for c, mapping in (spec.get("values") or {}).items():
            bad = [k for k in (mapping or {}) if isinstance(k, bool) or k is None]
            if bad:  # YAML reads Yes/No/On/Off unquoted as true/false
                out.append(Problem(file, f"table {name!r}: values of {c!r} has the key {bad[0]!r}"
                                   ", which YAML read as a true/false or empty value",
                                   'quote it, e.g. "Yes": closed', column=f"tables.{name}"))
        unknown = sorted(set(spec) - TABLE_KEYS)
        if unknown:
            out.append(Problem(file, f"table {name!r}: unknown key(s) {', '.join(unknown)}",
                               f"use only {', '.join(sorted(TABLE_KEYS))}",
                               column=f"tables.{name}"))
    return out


def _aliases(v) -> list[str]:
    return [str(a) for a in v] if isinstance(v, list) else [str(v)]


def derived_columns(name: str, spec: dict) -> set[str]:
    """Canonical columns the profile works out rather than reads from a header."""
    out = set(DERIVED)
    out |= set(spec.get("amounts") or {}) | set(spec.get("dates") or {})
    out |= set(spec.get("lookups") or {})
    for part in spec.get("parts") or []:
        out |= set(part.get("set") or {})
    if spec.get("balance"):
        out.add("balance")
    for j in (spec.get("joins") or []) + [j for p in spec.get("parts") or [] for j in
                                          p.get("joins") or []]:
        out |= set(j.get("columns") or {})
    if name == "gl_balances" and spec.get("kept_by") == "account":
        out.add("job_id")
    return out


def used_names(spec: dict) -> set[str]:
    """Every name the profile's rules, derivations and joins read from the file (a helper they
    read must be in the file; a helper nobody reads is optional)."""
    used: set[str] = set()
    whens = [r.get("when") for r in (spec.get("exclude") or []) + (spec.get("source_rules") or [])]
    whens += [(spec.get("release") or {}).get("when"),
              ((spec.get("lines") or {}).get("split") or {}).get("when")]
    for a in (spec.get("amounts") or {}).values():
        if isinstance(a, dict):
            whens += [a.get("negate_when"), a.get("when")]
            used |= {a[k] for k in ("value", "sign") if k in a}
            used |= set(a.get("plus") or []) | set(a.get("minus") or [])
    for w in whens:
        used |= columns_of(w) if w else set()
    p = spec.get("period")
    if isinstance(p, dict):
        used |= {v for k, v in p.items() if k in ("date", "fiscal", "fiscal_period",
                                                  "fiscal_year") and v != "current"}
    if spec.get("period_from"):
        used.add(spec["period_from"])
    used |= {lk["from"] for lk in (spec.get("lookups") or {}).values()}
    bal = spec.get("balance") or {}
    if isinstance(bal, dict):
        used |= ({bal["opening"]} if bal.get("opening") else set()) | set(bal.get("periods") or [])
    joined = set()
    for j in (spec.get("joins") or []) + [j for p in spec.get("parts") or [] for j in
                                          p.get("joins") or []]:
        used |= set(j.get("key") or {})
        joined |= set(j.get("columns") or {})
    return used - joined


def _shape_problem(rel: str, name: str, present: list[str], columns: dict, required: set[str],
                   title: str) -> Problem | None:
    """One problem for an export of another shape (another ERP's, another table's): most of
    the required headers absent. Names the file, the headers that do not fit and those missing,
    and the built-in profile whose export it looks like."""
    norm = {_norm_header(h) for h in present}
    missing = [c for c in sorted(required) if not any(_norm_header(a) in norm
                                                      for a in _aliases(columns[c]))]
    if len(missing) < 2 or len(missing) * 2 < len(required):
        return None
    known = {_norm_header(a) for v in columns.values() for a in _aliases(v)}
    foreign = [h for h in present if h != "_row" and _norm_header(h) not in known]
    looks = _looks_like(present)
    fix = (f"export the {name} table from {title} with its own columns, or set erp.profile in "
           "company.yaml to the ERP that wrote this file")
    if looks:
        fix += f" (its columns fit the {looks} profile)"
    return Problem(rel, f"this file does not have the shape of the {title} {name} export: "
                   f"columns that do not fit: {', '.join(foreign[:12]) or 'none'}"
                   f"{' ...' if len(foreign) > 12 else ''}; missing: "
                   f"{', '.join(_aliases(columns[c])[0] for c in missing)}", fix, row=1)


def _looks_like(present: list[str]) -> str | None:
    """The built-in profile and table whose required headers the file holds best (>= 80%)."""
    norm = {_norm_header(h) for h in present}
    best, score = None, 0.0
    for stem in builtin_profiles():
        try:
            prof = yaml_text.load((PROFILES / f"{stem}.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml_text.YAMLError):
            continue
        for tname, spec in (prof.get("tables") or {}).items():
            cols = spec.get("columns") or {}
            req = [c for c in cols if c not in (spec.get("optional") or [])]
            if len(req) < 3:
                continue
            hit = sum(any(_norm_header(a) in norm for a in _aliases(cols[c])) for c in req)
            if hit / len(req) > score:
                best, score = f"{prof.get('title', stem)} ({stem}, {tname})", hit / len(req)
    return best if score >= 0.8 else None


def _flag_rows(out: Collector, raw: pd.DataFrame, mask, values: pd.Series, message: str,
               fix: str, column: str) -> None:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():  # the rows' files named only for a row to report
        return
    out.row_files = _files_of(raw, out.part_files)
    out.rows(mask, raw["_row"], values, message, fix, column)


def _files_of(raw: pd.DataFrame, files: dict[int, str]) -> pd.Series:
    """Each row's file (path relative to the company folder), from its part number: a
    categorical, so millions of rows hold a few names."""
    names = [files.get(k, "") for k in range(max(files, default=-1) + 1)]
    return pd.Series(pd.Categorical.from_codes(raw["_part"].to_numpy(), categories=names),
                     index=raw.index)


def _read_part(root: Path, name: str, spec: dict, part: dict, k: int, columns: dict,
               required: set[str], missing_map: set[str], title: str):
    """One file of a table: text read, headers resolved, columns renamed to the profile's names.
    Returns (frame or None, problems, report or None, labels)."""
    path = find_file(root, part["file"])
    if path is None:
        return None, [], None, {}
    rel = path.relative_to(root).as_posix()
    out = Collector(rel)
    report = FileReport(rel, name)
    layout_rows = 0
    # The file's cells as Arrow text columns by position (a header may name two columns) and
    # each row's number; a frame is built once, of the columns the profile takes.
    if spec.get("layout") == "report":
        wanted = {_norm_header(a) for c in required for a in _aliases(columns[c])}
        got = read_report_table(path, rel, out, wanted)
        if got is None:
            return None, out.problems, report, {}
        frame, report.encoding, layout_rows = got
        names = [str(h) for h in frame.columns[1:]]
        rows = frame["_row"].to_numpy(dtype=np.int64)
        cells = [text_array(frame.iloc[:, i + 1]) for i in range(len(names))]
        del frame
    else:
        got = read_text_columns(path, rel, out)
        if got is None:
            return None, out.problems, report, {}
        table, names, report.encoding = got
        rows = np.arange(2, table.num_rows + 2, dtype=np.int64)
        cells = list(table.columns)
        del table
    del got
    report.rows_in = len(rows) + layout_rows
    report.rows_totals = layout_rows
    blank = np.ones(len(rows), dtype=bool) if cells else np.zeros(len(rows), dtype=bool)
    for c in cells:  # column by column, until no row can be blank
        blank &= empty_cells(c)
        if not blank.any():
            break
    report.rows_blank = int(blank.sum())
    if report.rows_blank:  # a filter copies every column: only when there is something to drop
        keep = pa.array(~blank)
        cells = [c.filter(keep) for c in cells]
        rows = rows[~blank]
    for m in sorted(missing_map):
        out.add(f"the ERP profile maps no column to '{m}'", f"add `{m}: [Header]` under "
                f"tables.{name}.columns in the profile", column=m)
    headers = ["_row", *names]
    shape = _shape_problem(rel, name, headers, columns, required, title)
    if shape is not None:
        out.problems.append(shape)
        colmap = {}
    else:
        colmap = resolve_headers(headers, columns, required, out, f"ERP {name} export")
        if spec.get("layout") != "report":  # a report's are checked as its header is found
            repeated_headers(names, set(colmap.values()), out)
    report.columns_found = dict(colmap)
    report.columns_missing = [c for c in columns if c not in colmap]
    report.unrecognised = [h for h in headers if h not in ("_row", GROUP)
                           and h not in colmap.values()]
    if report.unrecognised and shape is None:
        out.add(f"column(s) not understood and ignored: {', '.join(report.unrecognised)}",
                "nothing to do if they are not needed; otherwise map them in the ERP profile",
                severity="warning")
    if out.has_errors:
        report.rows_reported = len(rows)
        return None, out.problems, report, {}
    table = schema.get(name)
    if spec.get("layout") != "report":
        money = [colmap[c.name] for c in table.columns if c.kind == "money" and c.name in colmap]
        totals = split_totals(cells, names, money, int(rows[-1]) if len(rows) else 0, out)
        report.rows_totals = int(totals)
        if totals:
            cells = [c.slice(0, len(rows) - 1) for c in cells]
            rows = rows[:-1]
    at = first_columns(names)
    renamed = text_frame(pa.table({**{c: cells[at[h]] for c, h in colmap.items()},
                                   "_part": np.full(len(rows), k, dtype=np.int64)}), rows)
    for col, value in (part.get("set") or {}).items():
        renamed[col] = pd.Series(str(value), index=renamed.index, dtype="string")
    return renamed, out.problems, report, dict(colmap)


def _join(root: Path, raw: pd.DataFrame, join: dict, out: Collector, problems: list
          ) -> tuple[pd.DataFrame, np.ndarray]:
    """Columns from a header file by key (many rows to one). Rows without a match are bad."""
    path = find_file(root, join["file"])
    n = len(raw)
    if path is None:
        problems.append(Problem(f"{join['file']}.csv", "file not found: the profile takes "
                                f"{', '.join(join['columns'])} from it",
                                f"export {Path(join['file']).name} beside the other ERP exports"))
        return raw, np.ones(n, dtype=bool)
    rel = path.relative_to(root).as_posix()
    jout = Collector(rel)
    got = read_text_table(path, rel, jout)
    if got is None:
        problems.extend(jout.problems)
        return raw, np.ones(n, dtype=bool)
    jraw = got[0]
    spec = {**{k: _aliases(v) for k, v in join["key"].items()},
            **{k: _aliases(v) for k, v in join["columns"].items()}}
    colmap = resolve_headers(list(jraw.columns), spec, set(spec), jout, f"ERP {rel} export")
    problems.extend(jout.problems)
    if jout.has_errors:
        return raw, np.ones(n, dtype=bool)
    right = pd.DataFrame({k: jraw[h].astype("string").str.strip() for k, h in colmap.items()})
    keys = list(join["key"])
    if join.get("aggregate") in ("first", "last"):  # many rows per key: the first or last one
        right = right.drop_duplicates(keys, keep=join["aggregate"])
    dup = right.duplicated(keys, keep="first")
    if dup.any():
        problems.append(Problem(rel, f"{', '.join(colmap[k] for k in keys)} repeats on "
                                f"{int(dup.sum())} row(s): a header file holds each key once",
                                "export the header table again", row=int(jraw.loc[dup.to_numpy(),
                                                                                  "_row"].iloc[0])))
        right = right[~dup.to_numpy()]
    right = right.rename(columns={k: f"__key_{k}" for k in keys})
    left = pd.DataFrame({f"__key_{k}": raw[k].astype("string").str.strip() for k in keys},
                        index=raw.index)
    merged = left.merge(right, on=[f"__key_{k}" for k in keys], how="left", indicator=True)
    found = (merged["_merge"] == "both").to_numpy()
    take = [c for c in join["columns"] if c not in raw.columns]
    raw = raw.assign(**{c: pd.Series(merged[c].to_numpy(), index=raw.index, dtype="string")
                        .fillna("") for c in take})
    if join.get("match") == "optional":  # rows without a match take blanks (e.g. unpaid)
        return raw, np.zeros(n, dtype=bool)
    _flag_rows(out, raw, ~found, raw[keys[0]], f"no row in {rel} with this "
               f"{', '.join(keys)}", f"export {rel} again with every header of these lines",
               keys[0])
    return raw, ~found


def _unpivot(raw: pd.DataFrame, bal: dict) -> pd.DataFrame:
    """One row per account and fiscal period from a row per account with one activity column
    per period (Sage 100's lgract ``actpr1..actp12``)."""
    cols = [c for c in bal["periods"] if c in raw.columns]
    keep = [c for c in raw.columns if c not in cols]
    long = raw[keep].loc[raw.index.repeat(len(cols))].reset_index(drop=True)
    long["__fiscal_period"] = pd.Series(np.tile(np.arange(1, len(cols) + 1), len(raw)),
                                        dtype="int64").astype("string")
    long["__activity"] = pd.Series(np.concatenate([raw[cols].to_numpy(dtype=object)]).ravel(),
                                   dtype="string")
    return long


def read_erp_table(root: Path, name: str, spec: dict, settings: Settings, date_formats: list[str],
                   tables: dict | None = None, title: str = "the ERP"
                   ) -> tuple[pd.DataFrame, list, FileReport | None]:
    """One canonical table from its export(s): ``(frame, problems, report)``; the report is the
    first file's (see :func:`read_erp_table_all` for every file's)."""
    frame, problems, reports = read_erp_table_all(root, name, spec, settings, date_formats,
                                                  tables, title)
    return frame, problems, (reports[0] if reports else None)


def read_erp_table_all(root: Path, name: str, spec: dict, settings: Settings,
                       date_formats: list[str], tables: dict | None = None,
                       title: str = "the ERP") -> tuple[pd.DataFrame, list, list[FileReport]]:
    table = schema.get(name)
    canon = set(table.names)
    columns = {k: _aliases(v) for k, v in spec["columns"].items()}
    derived = derived_columns(name, spec)
    req_canon = {c.name for c in table.columns if c.required and c.name not in derived}
    missing_map = req_canon - set(columns)
    helpers = [c for c in columns if c not in canon]
    optional = set(spec.get("optional") or [])
    required = (req_canon & set(columns)) | ((used_names(spec) & set(helpers)) - optional
                                             - {GROUP})
    if spec.get("source_from"):
        required.add(spec["source_from"])
    problems: list[Problem] = []
    reports: list[FileReport] = []
    raws, labels = [], {}
    files: dict[int, str] = {}
    failed = False
    for k, part in enumerate(spec.get("parts") or [{"file": spec["file"]}]):
        cols_k = {**columns, **{c: _aliases(v) for c, v in (part.get("columns") or {}).items()}}
        raw_k, probs, rep, colmap = _read_part(root, name, spec, part, k, cols_k, required,
                                               missing_map, title)
        problems += probs
        if rep is not None:
            reports.append(rep)
            files[k] = rep.file
        if rep is not None and raw_k is None:
            failed = True
        if raw_k is not None and part.get("joins"):
            jout = Collector(rep.file)
            jout.part_files = {k: rep.file}
            jbad = np.zeros(len(raw_k), dtype=bool)
            for join in part["joins"]:
                raw_k, no_match = _join(root, raw_k, join, jout, problems)
                jbad |= no_match
            problems += jout.problems
            raw_k = raw_k.assign(_joinbad=jbad)
        if raw_k is not None:
            raws.append(raw_k)
            for c, h in colmap.items():
                labels.setdefault(c, h)
    if failed or not raws:
        return table.empty(), problems, reports
    raw = raws[0] if len(raws) == 1 else pd.concat(raws, ignore_index=True)
    del raws
    out = Collector(reports[0].file)
    out.part_files = files
    bad = np.zeros(len(raw), dtype=bool)
    if "_joinbad" in raw.columns:
        bad |= raw["_joinbad"].fillna(False).to_numpy(dtype=bool)
        raw = raw.drop(columns="_joinbad")

    def col(c: str) -> pd.Series:
        if c in raw.columns:
            return raw[c]
        return pd.Series("", index=raw.index, dtype="string")

    for join in spec.get("joins") or []:
        raw, no_match = _join(root, raw, join, out, problems)
        bad |= no_match
    if (spec.get("balance") or {}).get("periods"):
        width = len([c for c in spec["balance"]["periods"] if c in raw.columns])
        raw = _unpivot(raw, spec["balance"])
        bad = np.repeat(bad, width)
    # Rows that share the export but are not this table's (estimates in a cost export).
    keep = np.ones(len(raw), dtype=bool)
    reasons: dict[str, np.ndarray] = {}
    source = None
    unknown = np.zeros(len(raw), dtype=bool)
    try:
        if spec.get("source_from"):
            sf = spec["source_from"]
            # A few transaction types over millions of rows: each named once below, spread by
            # Arrow (trimmed as pandas' str.strip trims: utf8_trim_whitespace).
            trimmed = pc.utf8_trim_whitespace(one_array(raw[sf].astype("string").array))
            vals = pd.Series(pd.arrays.ArrowStringArray(trimmed), index=raw.index)
            distinct, codes = dictionary_codes(trimmed)
            types = distinct.to_pylist()
            listed = {str(v) for v in spec.get("not_cost", [])}
            not_cost = np.array([v in listed for v in types] + [False])[codes]  # last: a null
            if not_cost.any():
                reasons["not cost (" + ", ".join(str(v) for v in spec.get("not_cost", [])) + ")"] \
                    = not_cost
            keep &= ~not_cost
        for rule in spec.get("exclude") or []:
            hit = condition(rule["when"], col, len(raw)) & keep
            if hit.any():
                reasons[str(rule.get("reason", "excluded by the profile"))] = hit
            keep &= ~hit
        if spec.get("source_from"):
            sources = {str(k): v for k, v in spec.get("sources", {}).items()}
            named = [sources.get(v) for v in types] + [None]  # last: a null
            named = pa.array([None if v is None else str(v) for v in named], pa.large_string())
            source = pd.Series(pd.arrays.ArrowStringArray(named.take(pa.array(codes))),
                               index=vals.index)
            unknown = keep & source.isna().to_numpy(bool)
            _flag_rows(out, raw, unknown, vals, "transaction type not recognised",
                       f"add it to `sources` (cost) or `not_cost` under tables.{name} in the "
                       "ERP profile", labels.get(sf, sf))
    except ProfileError as exc:
        return table.empty(), problems + [Problem(title, str(exc), "correct the profile",
                                                  column=f"tables.{name}")], reports
    parts_all = raw["_part"].to_numpy()
    if not keep.all():
        raw = take_rows(raw, keep, consume=True)
        bad = bad[keep]
        unknown = unknown[keep]
        if source is not None:
            source = source[keep]
    # Column transforms on the text; the text as exported is kept for the *_raw twins.
    originals = {}
    for c, ops in (spec.get("transforms") or {}).items():
        if c not in raw.columns:
            continue
        originals[c] = raw[c]
        try:
            text, b, why = read_column(ops, raw[c])
        except ProfileError as exc:
            return table.empty(), problems + [Problem(title, str(exc), "correct the profile",
                                                      column=f"tables.{name}.transforms")], reports
        _flag_rows(out, raw, b.to_numpy(bool), raw[c], why, "correct the value or the "
                   f"transform of '{c}' in the profile", labels.get(c, c))
        bad |= b.to_numpy(bool)
        raw = raw.assign(**{c: text})
    for c, mapping in (spec.get("values") or {}).items():
        if c in raw.columns:
            raw = raw.assign(**{c: raw[c].astype("string").str.strip().replace(
                {str(k): str(v) for k, v in mapping.items()})})
    for c, lk in (spec.get("lookups") or {}).items():
        src = col(lk["from"]).astype("string").str.strip()
        src = src.mask(src.str.fullmatch(r"0+(\.0+)?").fillna(False), "")  # 0: none
        target = (tables or {}).get(lk["table"])
        if target is None or target.empty:
            mapping = pd.Series(dtype="string")
        else:
            t = target.assign(_k=target[lk["key"]].astype("string").str.strip())
            mapping = t.drop_duplicates("_k").set_index("_k")[lk["value"]].astype("string")
        got = src.map(mapping).astype("string")
        miss = (got.isna() & (src != "")).to_numpy(bool)
        where = lk["table"]
        _flag_rows(out, raw, miss, src, f"not found in the {where} export",
                   f"export {where} with this {lk['key'].replace('_', ' ')}, or correct the row",
                   labels.get(lk["from"], lk["from"]))
        bad |= miss
        raw = raw.assign(**{c: got.fillna("")})
        labels.setdefault(c, labels.get(lk["from"], lk["from"]))
    typed_map = {c: c for c in canon if c in raw.columns}
    row_files = out.row_files = _files_of(raw, files)  # raw's rows stay as they are till the end
    frame, badc = convert(raw, table, typed_map, out, settings.procore_locale, date_formats,
                          labels=labels)
    bad |= badc.to_numpy(bool)
    for c, text in originals.items():
        if f"{c}_raw" in canon:
            frame[f"{c}_raw"] = text.astype("string").fillna("")
    if source is not None:
        frame["source"] = source.astype("string")
        bad |= unknown
    if "job_id_raw" in canon and "job_id" in raw.columns:
        frame["job_id_raw"] = originals.get("job_id", raw["job_id"]).astype("string")
    try:
        for c, a in (spec.get("amounts") or {}).items():
            cents, b = _amount(a, col, len(raw))
            _flag_rows(out, raw, b, col((a.get("plus") or [a.get("value")])[0] or ""),
                       "not an amount of money", "write an amount such as 1234.56",
                       labels.get(c, c))
            bad |= b
            frame[c] = cents.to_numpy()
        if spec.get("source_rules"):
            frame["source"] = _source_rules(spec["source_rules"], col, len(raw), frame.index)
    except ProfileError as exc:
        return table.empty(), problems + [Problem(title, str(exc), "correct the profile",
                                                  column=f"tables.{name}")], reports
    if (spec.get("balance") or {}).get("periods"):  # the unpivoted activity of each period
        act, b = parse_cents(raw["__activity"].astype("string"))
        _flag_rows(out, raw, b.to_numpy(bool), raw["__activity"], "not an amount of money",
                   "write an amount such as 1234.56", "period activity")
        bad |= b.to_numpy(bool)
        frame["balance"] = act.fillna(0).astype("int64").to_numpy()
    if "period" in canon and "period" not in raw.columns:
        per, b = _period(spec, raw, frame, table, settings, date_formats, out, labels)
        frame["period"] = per
        bad |= b
    for c, how in (spec.get("dates") or {}).items():
        if how == "period_end" and c not in raw.columns:
            ends = pd.PeriodIndex(frame["period"].fillna("1900-01").to_numpy(dtype=object),
                                  freq="M").to_timestamp(how="end").normalize()
            frame[c] = pd.Series(ends, index=frame.index).astype("datetime64[us]").where(
                frame["period"].notna())
    if spec.get("release"):
        rel_rule = spec["release"]
        try:
            hit = condition(rel_rule["when"], col, len(raw))
        except ProfileError as exc:
            return table.empty(), problems + [Problem(title, str(exc), "correct the profile",
                                                      column=f"tables.{name}.release")], reports
        amount = rel_rule.get("amount", "amount_billed")
        released = frame[amount].abs()
        frame["retainage"] = frame["retainage"].where(~hit, -released)
        frame["amount_billed"] = frame["amount_billed"].where(~hit, 0)
    if name == "gl_balances" and spec.get("kept_by") == "account":
        frame["job_id"] = pd.Series("", index=frame.index, dtype="string")
    if "row_id" in canon:
        rid = (frame["row_id"] if "row_id" in raw.columns else pd.Series("", index=frame.index)
               ).astype("string")
        none = (rid.fillna("") == "").to_numpy(bool)
        if none.any():  # FILE:ROW for rows the export gives no id of their own
            rid = rid.copy()
            at = np.flatnonzero(none)
            rid.iloc[at] = (row_files.iloc[at].astype("string") + ":"
                            + raw["_row"].iloc[at].astype("string")).to_numpy()
        frame["row_id"] = rid
    # The table's columns in order, then each row's file and row: one frame built (a selection
    # and then an assign cost a few milliseconds a table).
    frame = pd.DataFrame({**{c: frame[c].array for c in table.names},
                          "_file": row_files.array, "_row": raw["_row"].to_numpy()},
                         index=frame.index, copy=False)
    # The counts of each file: rows in = accepted + reported + totals + blank + excluded.
    _count_rows(reports, spec, parts_all, reasons, raw["_part"].to_numpy()[bad])
    if bad.any():
        frame = frame[~bad]
        raw = take_rows(raw, ~bad, consume=True)
    frame = frame.reset_index(drop=True)
    raw = raw.reset_index(drop=True)
    if spec.get("lines"):
        try:
            frame = _combine_lines(frame, raw, spec["lines"], table)
        except ProfileError as exc:
            return table.empty(), problems + [Problem(title, str(exc), "correct the profile",
                                                      column=f"tables.{name}.lines")], reports
    if spec.get("balance"):
        frame = _running_balance(frame, spec["balance"], raw)
    frame.attrs["labels"] = frozen(labels)  # the file's own headers, for the rules' messages
    problems += out.problems
    return frame, problems, reports


def _count_rows(reports, spec, parts_all, reasons, bad_parts) -> None:
    """Per file: rows excluded (and why) and rows reported; the rest are accepted. With a
    ``balance.periods`` unpivot one file row stands for a row per period: counted once."""
    files = [p["file"] for p in (spec.get("parts") or [{"file": spec["file"]}])]
    width = len((spec.get("balance") or {}).get("periods") or [None])
    n = len(files)
    reported = np.bincount(bad_parts, minlength=n)
    for r in reports:
        stem = r.file.rsplit(".", 1)[0]
        if stem not in files:
            continue
        k = files.index(stem)
        r.excluded = {}
        for why, m in reasons.items():
            got = int(np.bincount(parts_all[m], minlength=n)[k]) // width
            if got:
                r.excluded[why] = got
        r.rows_excluded = sum(r.excluded.values())
        r.rows_reported = -(-int(reported[k]) // width)
        r.rows_accepted = (r.rows_in - r.rows_reported - r.rows_totals - r.rows_blank
                           - r.rows_excluded)


def _amount(a: dict, col, n: int) -> tuple[pd.Series, np.ndarray]:
    """Cents of a declared money column (see the module docstring) and the bad rows."""
    if not isinstance(a, dict):
        raise ProfileError(f"an amount must be a mapping, not {a!r}")
    total = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)

    def cents(c):
        v, b = parse_cents(col(c).astype("string"))
        return v.fillna(0).astype("int64").to_numpy(), b.to_numpy(bool)

    if "value" in a:
        v, b = cents(a["value"])
        bad |= b
        if "sign" in a:
            s = pd.to_numeric(col(a["sign"]).astype("string").str.strip(), errors="coerce")
            bad |= ~s.isin([1, -1]).to_numpy(bool)
            v = v * np.sign(s.fillna(1).to_numpy()).astype(np.int64)
        if "negate_when" in a:
            v = np.where(condition(a["negate_when"], col, n), -v, v)
        total += v
    for sign, key in ((1, "plus"), (-1, "minus")):
        for c in a.get(key) or []:
            v, b = cents(c)
            total += sign * v
            bad |= b
    if "when" in a:  # counted only on the rows the condition holds for
        total = np.where(condition(a["when"], col, n), total, 0)
    if not ({"value", "plus", "minus"} & set(a)):
        raise ProfileError(f"amount {a!r}: give value (with sign or negate_when) or plus/minus")
    return pd.Series(total, dtype="int64"), bad


def _source_rules(rules: list, col, n: int, index) -> pd.Series:
    """The first rule that holds gives the source; a rule without ``when`` always holds."""
    conds, values = [], []
    for r in rules:
        conds.append(condition(r["when"], col, n) if "when" in r else np.ones(n, dtype=bool))
        values.append(str(r["source"]))
    got = np.select(conds, values, default="") if conds else np.full(n, "")
    return pd.Series(got, index=index, dtype="string")


def _period(spec, raw, frame, table, settings, date_formats, out, labels):
    """The accounting period (YYYY-MM) of each row, as the profile says where it comes from."""
    p = spec.get("period")
    bad = np.zeros(len(raw), dtype=bool)
    if isinstance(p, dict) and ({"fiscal_period", "fiscal", "fiscal_year"} & set(p)):
        fye = settings.fiscal_year_end_month
        if "fiscal" in p:
            year, fper = parse_fiscal_text(raw[p["fiscal"]], p.get("format", "YYYYPP"))
            shown, column = raw[p["fiscal"]], p["fiscal"]
        else:
            fp = "__fiscal_period" if (spec.get("balance") or {}).get("periods") else p[
                "fiscal_period"]
            fper = raw[fp]
            if p.get("fiscal_year") == "current":
                from wip_lib.sources.readers.transforms import period_to_fiscal

                fy, _ = period_to_fiscal(pd.Series([settings.current_period]), fye)
                year = pd.Series(str(int(fy.iloc[0])), index=raw.index, dtype="string")
            else:
                year = raw[p["fiscal_year"]]
            shown, column = fper, p.get("fiscal_period", "period")
        per, b = fiscal_to_period(year.fillna(""), fper.fillna(""), fye)
        _flag_rows(out, raw, b.to_numpy(bool), shown, "not a fiscal year and period",
                   "write the fiscal year (YYYY) and period (1-12)", labels.get(column, column))
        return per.astype("string"), b.to_numpy(bool)
    src = (p or {}).get("date") if isinstance(p, dict) else None
    src = src or spec.get("period_from") or ("accounting_date" if "accounting_date" in raw.columns
                                             else None)
    if src and src in raw.columns and src not in frame.columns:
        dates, bad_d = parse_dates(raw[src], settings.procore_locale, date_formats)
        _flag_rows(out, raw, bad_d.to_numpy(bool), raw[src], "not a date",
                   "write the date as MM/DD/YYYY or YYYY-MM-DD", labels.get(src, src))
        bad |= bad_d.to_numpy(bool)
    else:
        first_date = src or next(c.name for c in table.columns if c.kind == "date")
        dates = frame[first_date]
    return month_text(dates), bad


def _combine_lines(frame: pd.DataFrame, raw: pd.DataFrame, lines: dict, table) -> pd.DataFrame:
    """Lines summed into one row per key; a split moves matching lines' amounts first."""
    split = lines.get("split")
    if split:
        def col(c):
            return raw[c] if c in raw.columns else pd.Series("", index=raw.index, dtype="string")
        hit = condition(split["when"], col, len(raw))
        moved = frame[split["from"]].where(hit, 0)
        if split.get("negate"):
            moved = -moved
        frame = frame.assign(**{split["into"]: frame[split["into"]] + moved.astype("int64"),
                                split["from"]: frame[split["from"]].where(~hit, 0)})
    by = list(lines.get("by") or table.key)
    money = [c.name for c in table.columns if c.kind == "money"]
    once = set(lines.get("first") or [])  # an amount every line repeats (from a header)
    agg = {c: ("sum" if c in money and c not in once else "first") for c in frame.columns
           if c not in by}
    out = frame.groupby(by, sort=False, as_index=False, dropna=False).agg(agg)
    for c in money:
        out[c] = out[c].astype("int64")
    for c in frame.columns:
        if c not in money and c in out.columns and c != "_row":
            out[c] = out[c].astype(frame[c].dtype)
    return out[list(frame.columns)]


def _running_balance(frame: pd.DataFrame, bal: dict, raw: pd.DataFrame) -> pd.DataFrame:
    """Balances at each period: activity summed per account, job and period, then run along
    the periods per account and job, starting from the opening balance where one is given."""
    keys = ["account", "job_id"]
    f = frame.copy()
    if bal.get("opening"):
        opening, _ = parse_cents(raw[bal["opening"]].astype("string"))
        f["_open"] = opening.fillna(0).astype("int64").to_numpy()
    else:
        f["_open"] = np.int64(0)
    g = aggregate(f, [*keys, "period"], sort=True, as_index=False, balance=("balance", "sum"),
                  _open=("_open", "first"), account_name=("account_name", "first"),
                  _file=("_file", "first"), _row=("_row", "first"))
    first_open = g.groupby(keys)["_open"].transform("first")
    g["balance"] = (g.groupby(keys)["balance"].cumsum() + first_open).astype("int64")
    g = g.drop(columns="_open")
    for c in ("period", "account", "account_name", "job_id"):
        g[c] = g[c].astype("string")
    cols = [c for c in frame.columns]
    return g[cols].reset_index(drop=True)


def _order(profile: dict) -> list[str]:
    """Tables in reading order: those another table looks values up in come first."""
    names = list(profile["tables"])
    needed = {lk["table"] for spec in profile["tables"].values()
              for lk in (spec.get("lookups") or {}).values()}
    return [n for n in names if n in needed] + [n for n in names if n not in needed]


def read_erp(root: Path, settings: Settings
             ) -> tuple[dict, list, list[FileReport], dict[str, bool]]:
    """The ERP's canonical tables through the company's profile, the problems and per-file
    reports, and what the exports carry (:func:`profile_facts`)."""
    profile = load_profile(settings.erp_profile, root)
    formats = list(profile.get("date_formats") or [])
    title = profile.get("title", "the ERP")
    tables, problems, reports = {}, [], []
    for name in _order(profile):
        spec = profile["tables"][name]
        if name not in schema.TABLES:
            problems.append(Problem(settings.erp_profile, f"unknown canonical table {name!r}",
                                    f"use one of {', '.join(t for t in schema.TABLES if t.startswith(('erp', 'gl')))}"))
            continue
        df, probs, reps = read_erp_table_all(root, name, spec, settings, formats, tables, title)
        if not reps and name in REQUIRED_FILES:
            first = (spec.get("parts") or [spec])[0]["file"]
            probs = [*probs, Problem(f"{first}.csv", "required ERP export not found",
                                     f"export it from {title} and save it as {first}.csv "
                                     "(or .xlsx)")]
        for rep in reps:
            empty = no_rows(rep, name, probs, required=name in REQUIRED_FILES,
                            declared=settings.empty_exports, what=WHAT.get(name, ""),
                            never_empty=NEVER_EMPTY)
            probs = [*probs, empty] if empty else probs
        tables[name] = df
        problems += probs
        reports += reps
    return tables, problems, reports, profile_facts(profile)
