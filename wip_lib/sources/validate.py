"""Cross-file rules every company folder must meet before any figure is computed.

Each rule is a small function ``rule(tables, settings) -> (bad_rows, problems)`` over the
canonical tables (beancount's plugin shape): duplicate keys, unknown jobs, unknown cost codes,
negative contract amounts. Rows a rule rejects are reported (file, row, column, value, fix) and
counted, never dropped silently.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wip_lib.core import schema
from wip_lib.core.arrow_strings import combination_codes, large_text, one_array
from wip_lib.core.errors import Problem
from wip_lib.core.identifiers import SAFE_FIX, unsafe_mask
from wip_lib.core.settings import Settings
from wip_lib.sources.formats import PROCORE_EXPORTS
from wip_lib.sources.procore_forecast import ecac_basis, ecac_exported
from wip_lib.sources.readers.tabular import MAX_LISTED

Rule = Callable[[dict, Settings], list[Problem]]

PROCORE_JOB_TABLES = ["prime_contracts", "prime_contract_lines", "prime_change_orders", "budget",
                      "commitments",
                      "commitment_lines", "commitment_change_orders", "direct_costs",
                      "subcontractor_invoices", "owner_invoices", "uninstalled_materials"]
ERP_JOB_TABLES = ["erp_job_cost", "erp_ar_billings", "erp_ap_invoices", "erp_commitments",
                  "erp_contract_change_orders"]
NON_NEGATIVE = {"prime_contracts": ["original_amount"], "commitments": ["original_amount"],
                "erp_jobs": ["original_contract"], "uninstalled_materials": ["amount"]}


def _header(df: pd.DataFrame, table: str, column: str) -> str:
    """The header the user's file carries for a canonical column (the reader records it in
    ``df.attrs['labels']``), else the en-US Procore header, else the canonical name."""
    labels = df.attrs.get("labels") or {}
    if column in labels:
        return str(labels[column])
    fmt = PROCORE_EXPORTS.get(table)
    if fmt is not None and column in fmt.headers:
        return fmt.headers[column][0]
    return column


def _shown(df: pd.DataFrame, table: str, column: str) -> pd.Series:
    """Each row's value as the user wrote it: the raw code, money in dollars."""
    if f"{column}_raw" in df.columns:
        return df[f"{column}_raw"].astype("string")
    t = schema.TABLES.get(table)
    if t is not None and column in t.names and t.column(column).kind == "money":
        return df[column].map(lambda c: f"{c / 100:,.2f}").astype("string")
    return df[column].astype("string")


def _problems(df: pd.DataFrame, mask: pd.Series, column: str, message: str, fix: str,
              table: str) -> tuple[list[Problem], pd.Series]:
    bad = df[mask.to_numpy()]
    header = _header(df, table, column)
    shown = _shown(bad, table, column)
    out = []
    for f, r, v in zip(bad["_file"].head(MAX_LISTED), bad["_row"].head(MAX_LISTED),
                       shown.head(MAX_LISTED)):
        out.append(Problem(str(f), message, fix, int(r), header, None if pd.isna(v) else str(v)))
    if len(bad) > MAX_LISTED:
        out.append(Problem(str(bad["_file"].iloc[0]), f"{message}: {len(bad) - MAX_LISTED} more "
                           "row(s) not listed", fix, None, header))
    return out, mask


def duplicate_keys(tables: dict, settings: Settings) -> dict[str, tuple[list, pd.Series]]:
    """Every table with a key (each document, line or transaction id of the canonical schema,
    ``schema.TABLES[...].key``) holds each key once: a second row with the same key is reported,
    never counted twice. Job cost is keyed by its transaction id (``row_id``); where the export
    carries none the reader gives each row ``FILE:ROW``, which cannot repeat."""
    res = {}
    for name, t in schema.TABLES.items():
        df = tables.get(name)
        if df is None or df.empty or not t.key or "_file" not in df.columns:
            continue
        key = [k for k in t.key if k in df.columns]
        dup = repeated_keys(df, key)
        if dup.any():
            names = ", ".join(_header(df, name, k) for k in key)
            res[name] = _problems(df, dup, key[-1], f"duplicate {names}: the same key "
                                  "appears on an earlier row", "remove the duplicate line or "
                                  "correct its number", name)
    return res


LARGE = 1_000_000  # rows from which DuckDB finds a one-column key's repeats (repeated_keys)


def repeated_keys(df: pd.DataFrame, key: list[str]) -> pd.Series:
    """``df.duplicated(key, keep="first")``: True on each row whose key an earlier row has.

    A key of one column on a large table (job cost's transaction ids: 5 million at 2,000 jobs)
    is grouped by DuckDB on every core, about three times pandas' hashing of the same strings;
    pandas then orders the few rows whose key repeats, so the first of each is kept exactly as
    ``duplicated`` keeps it. A key with a null, of several columns or on a smaller table takes
    the other way.

    That way, each row's key is numbered by Arrow's hashing (:func:`combination_codes`: by
    first appearance, a null one key), so a row repeats an earlier key exactly when its number
    is not above every number before it (pandas' ``duplicated`` over text keys cost a
    millisecond or more a table on the smallest company)."""
    if len(df) < LARGE or len(key) != 1 or df[key[0]].isna().any():
        codes = combination_codes([one_array(df[k].array) for k in key])
        dup = np.zeros(len(df), dtype=bool)
        dup[1:] = codes[1:] <= np.maximum.accumulate(codes)[:-1]
        return pd.Series(dup, index=df.index)
    import duckdb  # here only: a small company never needs it to read its files

    with duckdb.connect() as con:
        con.register("keys", pa.Table.from_pandas(df[key], preserve_index=False))
        # The column's name is the canonical schema's, never the file's header.
        repeats = con.sql(f'SELECT "{key[0]}" FROM keys GROUP BY 1 HAVING count(*) > 1'
                          ).to_arrow_table()
    mask = np.zeros(len(df), dtype=bool)
    if repeats.num_rows:
        among = np.flatnonzero(df[key[0]].isin(repeats.column(0).to_pylist()).to_numpy())
        mask[among[df[key].iloc[among].duplicated(keep="first").to_numpy()]] = True
    return pd.Series(mask, index=df.index)


def _large_text(values: pd.Series) -> pa.Array:
    """A column as one Arrow large-string array (its missing cells null)."""
    return large_text(one_array(values.astype(schema.STRING).array))


def _texts(values: set) -> pa.Array:
    """The text values of a set, as an Arrow value set (a missing job number, read as NaN, is
    not a job: a row without one is unknown)."""
    return pa.array(sorted(v for v in values if isinstance(v, str)), pa.large_string())


def unknown_jobs(tables: dict, settings: Settings) -> dict[str, tuple[list, pd.Series]]:
    res = {}
    jobs = set(tables["jobs"]["job_id"].astype(str))
    erp_jobs = set(tables["erp_jobs"]["job_id"].astype(str))
    for names, known, where in ((PROCORE_JOB_TABLES, jobs, "procore/projects.csv"),
                                (ERP_JOB_TABLES, erp_jobs, "the ERP job master")):
        if not known:
            continue
        for name in names:
            df = tables.get(name)
            if df is None or df.empty:
                continue
            unknown = pd.Series(~pc.is_in(one_array(df["job_id"].astype(schema.STRING).array),
                                          value_set=_texts(known)
                                          ).to_numpy(zero_copy_only=False), index=df.index)
            if unknown.any():
                res[name] = _problems(df, unknown, "job_id", f"job not found in {where}",
                                      f"add the job to {where}, or correct the job number "
                                      "(leading zeros count)", name)
    return res


def unknown_cost_codes(tables: dict, settings: Settings) -> dict[str, tuple[list, pd.Series]]:
    """Commitment lines and change orders must use a code of the job's budget; ERP cost must use
    a code of the ERP's cost code master (when the master was exported)."""
    res = {}
    budget = tables["budget"]
    names = [n for n in ("commitment_lines", "commitment_change_orders", "direct_costs")
             if tables.get(n) is not None and not tables[n].empty]
    if not budget.empty and names:
        # Every table's (job, code) pairs numbered with the budget's at once (Arrow's hashing;
        # a missing value is a value, as a merge matches it): a pair is unknown when its number
        # is none of the budget's.
        frames = [budget, *(tables[n] for n in names)]
        pairs = combination_codes([pa.concat_arrays([_large_text(f[c]) for f in frames])
                                   for c in ("job_id", "cost_code")])
        known = np.zeros(int(pairs.max()) + 1, dtype=bool)
        known[pairs[:len(budget)]] = True
        start = len(budget)
        for name in names:
            df = tables[name]
            unknown = pd.Series(~known[pairs[start:start + len(df)]], index=df.index)
            start += len(df)
            if unknown.any():
                res[name] = _problems(df, unknown, "cost_code", "cost code not in the job's "
                                      "Procore budget", "add the cost code to the job's budget in "
                                      "Procore, or correct the code", name)
    master = tables["erp_cost_codes"]
    jc = tables["erp_job_cost"]
    if not master.empty and not jc.empty:
        # Arrow's hashing, as unknown_jobs: pandas' isin cost twice as much on 59,000 rows
        unknown = pd.Series(~pc.is_in(_large_text(jc["cost_code"]),
                                      value_set=_large_text(master["cost_code"])
                                      ).to_numpy(zero_copy_only=False), index=jc.index)
        if unknown.any():
            res["erp_job_cost"] = _problems(jc, unknown, "cost_code", "cost code not in the "
                                            "ERP's cost code master", "add the code to the ERP's "
                                            "cost code master and export it again, or correct "
                                            "the transaction", "erp_job_cost")
    return res


def negative_amounts(tables: dict, settings: Settings) -> dict[str, tuple[list, pd.Series]]:
    res = {}
    for name, cols in NON_NEGATIVE.items():
        df = tables.get(name)
        if df is None or df.empty:
            continue
        for c in cols:
            neg = df[c] < 0
            if neg.any() and name == "uninstalled_materials":
                res[name] = _problems(df, neg, c, "uninstalled materials cannot be negative",
                                      "enter the cost of the materials on site at the period "
                                      "end (0 when none)", name)
            elif neg.any():
                res[name] = _problems(df, neg, c, "a contract amount cannot be negative",
                                      "enter the contract sum as a positive amount; deducts "
                                      "belong in change orders", name)
    return res


def unsafe_job_numbers(tables: dict, settings: Settings) -> dict[str, tuple[list, pd.Series]]:
    """A job number names files (its dashboard ``projects/JOB.html``, its budget folder), so it
    must be a safe file name (:func:`wip_lib.core.identifiers.unsafe_reason`): ``../../x`` is a
    bad job number, not a way out of the reports folder."""
    res = {}
    for name in ("jobs",):  # the schedule's jobs, whose numbers name the reports' files
        df = tables.get(name)
        if df is None or df.empty or "_file" not in df.columns:
            continue
        bad = unsafe_mask(df["job_id"])
        if bad.any():
            res[name] = _problems(df, bad, "job_id", "the job number cannot name a file (it "
                                  "holds a path separator or another character a file name "
                                  "cannot, or starts with '.')", f"correct the job number: "
                                  f"{SAFE_FIX}", name)
    return res


def budget_forecast_adds_up(tables: dict, settings: Settings) -> dict[str, tuple[list, pd.Series]]:
    """Procore's forecast columns must add up on every budget line that exports all three:
    ``Estimated Cost at Completion = Projected Costs + Forecast To Complete`` (or Job to Date
    Costs + FTC for ``budget_forecast: job_to_date``; :mod:`wip_lib.sources.procore_forecast`).
    A line that does not is a misread export or a view defined differently, and the estimate
    (the sum of ECAC) would be wrong without a word."""
    df = tables.get("budget")
    if df is None or df.empty or not ecac_exported(df):
        return {}
    basis, label = ecac_basis(settings.budget_forecast)
    if basis not in (df.attrs.get("labels") or {basis: basis}):
        return {}  # the basis column was not exported: nothing to add up
    expected = df[basis].astype("int64") + df["forecast_to_complete"].astype("int64")
    off = expected != df["estimated_cost_at_completion"].astype("int64")
    if not off.any():
        return {}
    other = "job_to_date" if settings.budget_forecast == "standard" else "standard"
    probs, mask = _problems(
        df, off, "estimated_cost_at_completion",
        f"Estimated Cost at Completion is not {label} + Forecast To Complete",
        "export the budget view again; if your company's view defines its forecast columns "
        f"differently, set `budget_forecast: {other}` in company.yaml "
        "(see docs/procore-forecast.md)", "budget")
    return {"budget": (probs, mask)}


RULES = [duplicate_keys, unknown_jobs, unknown_cost_codes, negative_amounts, unsafe_job_numbers,
         budget_forecast_adds_up]


def run_rules(tables: dict, settings: Settings) -> tuple[dict, list[Problem], dict[str, pd.Series]]:
    """Apply every rule; return tables without the rejected rows, the problems, and the rejected
    masks per table (for the row counts)."""
    problems: list[Problem] = []
    rejected: dict[str, pd.Series] = {}
    for rule in RULES:
        for name, (probs, mask) in rule(tables, settings).items():
            problems += probs
            prev = rejected.get(name)
            rejected[name] = mask if prev is None else (prev | mask)
    kept = {n: (df[~rejected[n].to_numpy()].reset_index(drop=True) if n in rejected else df)
            for n, df in tables.items()}
    return kept, problems, rejected
