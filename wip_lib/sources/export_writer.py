"""Canonical tables -> a company folder in the real export formats (the readers' inverse).

Used by the sample generator, the benchmark's scale generator and the Procore connector, so a
folder written here reads back through the same readers a user's downloads go through.
Procore files carry en-US headers (the first alias of each column), ``$1,234.56`` money with
negatives in parentheses, ``MM/DD/YYYY`` dates and a totals row at the end of each budget export.
ERP files follow the profile's first header per column, plain ``1234.56`` money.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wip_lib.core import schema
from wip_lib.sources.formats import CROSSWALK, PROCORE_EXPORTS

PROCORE_MONEY = "procore"
PLAIN_MONEY = "plain"


def money_text(cents: pd.Series, style: str) -> pd.Series:
    c = cents.astype("int64").to_numpy()
    neg = c < 0
    a = np.abs(c)
    whole = a // 100
    frac = a % 100
    if style == PROCORE_MONEY:
        w = pd.Series(whole).map("{:,}".format)
        body = "$" + w + "." + pd.Series(frac).map("{:02d}".format)
        return pd.Series(np.where(neg, "(" + body + ")", body), index=cents.index, dtype="string")
    body = pd.Series(whole).astype(str) + "." + pd.Series(frac).map("{:02d}".format)
    return pd.Series(np.where(neg, "-" + body, body), index=cents.index, dtype="string")


def _format(df: pd.DataFrame, table: schema.Table, style: str, date_fmt: str) -> pd.DataFrame:
    out = {}
    for c in table.columns:
        if c.name not in df.columns:
            continue
        s = df[c.name]
        if c.kind == "money":
            out[c.name] = money_text(s, style)
        elif c.kind == "date":
            out[c.name] = pd.to_datetime(s).dt.strftime(date_fmt).astype("string").fillna("")
        elif c.kind == "flag":
            out[c.name] = s.map({True: "Yes", False: "No"}).astype("string").fillna("")
        elif c.kind == "rate":
            out[c.name] = (s.astype("float64") * 100).map("{:.2f}%".format).astype("string")
        elif c.kind in ("int",):
            out[c.name] = s.astype("Int64").astype("string").fillna("")
        elif c.kind == "float":
            out[c.name] = s.astype("float64").map("{:.2f}".format).astype("string")
        else:
            out[c.name] = s.astype("string").fillna("")
    return pd.DataFrame(out, index=df.index)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


def write_procore_table(root: Path, name: str, df: pd.DataFrame,
                        facts: dict | None = None) -> list[Path]:
    """Write one canonical Procore table; budget goes to one file per job and period, invoice
    lines to one file per pay application (``facts``: see :func:`_write_invoice_lines`)."""
    fmt = PROCORE_EXPORTS[name] if name != "cost_code_crosswalk" else CROSSWALK
    table = schema.get(name)
    style = PROCORE_MONEY if name != "cost_code_crosswalk" else PLAIN_MONEY
    if name == "budget":
        return _write_budgets(root, df)
    if name.endswith("_invoice_lines"):
        return _write_invoice_lines(root, name, df, facts)
    text = _format(df, table, style, "%m/%d/%Y")
    if name in ("commitments",):
        text["commitment_type"] = df["commitment_type"].map(
            {"subcontract": "Subcontract", "purchase_order": "Purchase Order"}).astype("string")
    cols = [c for c in fmt.headers if c in text.columns]
    out = text[cols].rename(columns={c: fmt.headers[c][0] for c in cols})
    path = root / f"{fmt.path}.csv"
    _write_csv(out, path)
    return [path]


def _tiers(code: pd.Series, desc: pd.Series) -> tuple[pd.Series, pd.Series]:
    div = code.str.slice(0, 2)
    return div + " - Division " + div, code + " - " + desc


def budget_text(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Budget lines as Procore's budget export writes them: the text of every cell (cost code
    tiers, ``[SUBJOB.]03-300.L`` budget codes, ``$1,234.56`` money), the export's columns in
    order, and which of them are money (the totals row sums those)."""
    fmt = PROCORE_EXPORTS["budget"]
    table = schema.get("budget")
    text = _format(df, table, PROCORE_MONEY, "%m/%d/%Y")
    t1, t2 = _tiers(df["cost_code"].astype("string"), df["description"].astype("string"))
    text["cost_code_tier_1"] = t1
    text["cost_code_tier_2"] = t2
    text["cost_code_tier_3"] = ""
    text["budget_code"] = df["cost_code_raw"].astype("string") + "." + df["cost_type"].astype("string")
    sub = df["sub_job"].astype("string").fillna("")
    text["budget_code"] = text["budget_code"].mask(sub != "", sub + "." + text["budget_code"])
    cols = [c for c in fmt.headers if c in text.columns]
    money = [c.name for c in table.columns if c.kind == "money" and c.name in cols]
    return text, cols, money


def _write_budgets(root: Path, df: pd.DataFrame) -> list[Path]:
    fmt = PROCORE_EXPORTS["budget"]
    text, cols, money = budget_text(df)
    paths = []
    keys = df[["job_id", "period"]].astype(str)
    sums = df[money].astype("int64").groupby([keys["job_id"], keys["period"]], sort=True).sum()
    sums_text = pd.DataFrame({m: money_text(sums[m], PROCORE_MONEY) for m in money},
                             index=sums.index)
    for (job, period), idx in keys.groupby(["job_id", "period"], sort=True).groups.items():
        part = text.loc[idx, cols]
        totals = {c: "" for c in cols}
        totals[cols[0]] = "Total"
        totals.update(sums_text.loc[(job, period)].to_dict())
        part = pd.concat([part, pd.DataFrame([totals])], ignore_index=True)
        part = part.rename(columns={c: fmt.headers[c][0] for c in cols})
        path = root / "procore" / "budget" / job / f"{period}.csv"
        _write_csv(part, path)
        paths.append(path)
    return paths


def _write_invoice_lines(root: Path, name: str, df: pd.DataFrame,
                         facts: dict | None = None) -> list[Path]:
    """G703 lines as Procore exports them: one CSV per invoice, in the folder
    ``JOB/CONTRACT/APPLICATION.csv`` of :mod:`wip_lib.sources.formats` (none for no lines).
    ``facts``: ``(job, contract, application) -> [(label, value)]``, the invoice's own facts
    written as ``Label,Value`` lines above the G703 (then a blank line), as Procore's export
    carries them."""
    if df.empty:
        return []
    fmt = PROCORE_EXPORTS[name]
    table = schema.get(name)
    contract = "commitment_number" if name.startswith("subcontractor") else "contract_number"
    text = _format(df, table, PROCORE_MONEY, "%m/%d/%Y")
    cols = [c for c in fmt.headers if c in text.columns]
    base = root / fmt.path.split("/JOB/")[0]
    paths = []
    keys = df[["job_id", contract, "application_number"]].astype(str)
    for (job, con, app), idx in keys.groupby(list(keys.columns), sort=True).groups.items():
        part = text.loc[idx, cols].rename(columns={c: fmt.headers[c][0] for c in cols})
        path = base / job / con / f"{app}.csv"
        above = (facts or {}).get((job, con, int(app)))
        if above:
            import csv
            import io

            head = io.StringIO()
            writer = csv.writer(head, lineterminator="\n")
            writer.writerows([*above, []])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(head.getvalue() + part.to_csv(index=False, lineterminator="\n"),
                            encoding="utf-8")
        else:
            _write_csv(part, path)
        paths.append(path)
    return paths


def write_erp_table(root: Path, name: str, df: pd.DataFrame, profile: dict,
                    extra_rows: pd.DataFrame | None = None) -> Path:
    """Write one canonical ERP table in the profile's format (first header per column)."""
    spec = profile["tables"][name]
    table = schema.get(name)
    text = _format(df, table, PLAIN_MONEY, "%m/%d/%Y")
    columns = spec["columns"]
    if "job_id_raw" in df.columns and "job_id" in columns:
        text["job_id"] = df["job_id_raw"].astype("string")
    if "cost_code_raw" in df.columns and "cost_code" in columns:
        text["cost_code"] = df["cost_code_raw"].astype("string")
    if spec.get("source_from"):
        back = {v: k for k, v in spec["sources"].items()}
        text[spec["source_from"]] = df["source"].map(back).astype("string")
    for column, mapping in (spec.get("values") or {}).items():
        back = {str(v): str(k) for k, v in mapping.items()}
        if column in text.columns:
            text[column] = text[column].replace(back)
    if "accounting_date" in columns and "accounting_date" not in text.columns and "period" in df:
        # Tables keyed by period carry the accounting date the period is read from.
        text["accounting_date"] = (pd.PeriodIndex(df["period"].astype(str), freq="M")
                                   .to_timestamp(how="end").strftime("%m/%d/%Y"))
    if extra_rows is not None and len(extra_rows):
        text = pd.concat([text, extra_rows], ignore_index=True)
    cols = [c for c in columns if c in text.columns]
    out = text[cols].rename(columns={c: columns[c][0] for c in cols})
    path = root / f"{spec['file']}.csv"
    _write_csv(out, path)
    return path


def write_company_yaml(root: Path, data: dict) -> Path:
    path = root / "company.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
