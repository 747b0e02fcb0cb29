"""Canonical tables -> a company folder in the real export formats (the readers' inverse).

Used by the sample generator, the benchmark's scale generator and the Procore connector, so a
folder written here reads back through the same readers a user's downloads go through.
Procore files carry en-US headers (the first alias of each column), ``$1,234.56`` money with
negatives in parentheses, ``MM/DD/YYYY`` dates and a totals row at the end of each budget export.
ERP files follow the profile's first header per column, plain ``1234.56`` money.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wip_lib.core import schema
from wip_lib.core.grouping import aggregate
from wip_lib.core.identifiers import path_inside
from wip_lib.core.money import parse_cents
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


def _cells(text: pd.DataFrame) -> np.ndarray:
    """A frame of text as a 2-D array of ``str``, a missing cell blank: the cells
    ``DataFrame.to_csv`` writes, taken once for a table written as many files."""
    return text.fillna("").to_numpy(dtype=object)


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    """``rows`` written as ``DataFrame.to_csv(index=False, lineterminator="\\n")`` writes them
    (Python's csv module, minimal quoting): the same bytes without a frame and a pandas writer
    per file, which cost milliseconds each over thousands of snapshots."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


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
    absent = set(table.absent(df))  # optional columns the data leaves empty: not exported
    cols = [c for c in fmt.headers if c in text.columns and c not in absent]
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
    sums_text = {m: dict(zip(sums.index, money_text(sums[m], PROCORE_MONEY))) for m in money}
    at = {m: cols.index(m) for m in money}
    header = [fmt.headers[c][0] for c in cols]
    cells = _cells(text[cols])
    groups = keys.groupby(["job_id", "period"], sort=True).indices
    for key in sorted(groups):
        job, period = key
        totals = [""] * len(cols)
        totals[0] = "Total"
        for m, i in at.items():
            totals[i] = sums_text[m][key]
        # Job and period come from the data (Procore's project numbers): one rule for names.
        path = path_inside(root / "procore" / "budget", job, period, suffix=".csv",
                           what="job number or period", source="budget snapshot")
        _write_rows(path, [header, *cells[groups[key]].tolist(), totals])
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
    header = [fmt.headers[c][0] for c in cols]
    cells = _cells(text[cols])
    keys = df[["job_id", contract, "application_number"]].astype(str)
    groups = keys.groupby(list(keys.columns), sort=True).indices
    for key in sorted(groups):
        job, con, app = key
        path = base / job / con / f"{app}.csv"
        above = (facts or {}).get((job, con, int(app)))
        head = [*above, []] if above else []  # the pay app's facts, a blank line, the table
        _write_rows(path, [*head, header, *cells[groups[key]].tolist()])
        paths.append(path)
    return paths


def write_erp_table(root: Path, name: str, df: pd.DataFrame, profile: dict,
                    extra_rows: pd.DataFrame | None = None) -> Path:
    """Write one canonical ERP table in a plain profile's format (first header per column);
    returns the file's path. :func:`write_erp_export` writes any profile's shape."""
    got = write_erp_export(root, name, df, profile, extra_rows=extra_rows)
    return got[0][0]


def _aliases(v) -> list[str]:
    return [str(a) for a in v] if isinstance(v, list) else [str(v)]


def _first_key_back(mapping: dict) -> dict[str, str]:
    """Canonical value -> the first export value that maps to it."""
    back: dict[str, str] = {}
    for k, v in mapping.items():
        back.setdefault(str(v), str(k))
    return back


def _cents_text(cents: pd.Series) -> pd.Series:
    return money_text(cents.fillna(0).astype("int64"), PLAIN_MONEY)


def write_erp_export(root: Path, name: str, df: pd.DataFrame, profile: dict, *,
                     extra_rows: pd.DataFrame | None = None, tables: dict | None = None,
                     not_cost: pd.DataFrame | None = None, context: dict | None = None
                     ) -> list[tuple[Path, pd.DataFrame]]:
    """Write one canonical ERP table in the shape the profile reads (the inverse of
    :func:`wip_lib.sources.readers.erp.read_erp_table`): each declared transform undone
    (:mod:`wip_lib.sources.readers.transforms`), header files of ``joins`` and the files of
    ``parts`` written beside the main one, report layouts with their title, group and total
    rows, GL balances as the activity or the by-account balances the ERP keeps, and the
    profile's not-cost rows (``not_cost``, e.g. original estimates) in the ERP's own form.

    ``tables`` are all the canonical tables (for lookups and ``sample.format`` fields such as
    the job's customer); ``context`` gives ``company``, ``period`` (the current period) and
    ``fiscal_year_end_month``. Returns ``[(path, rows as the reader gives them back)]`` per file
    that holds rows of the table, for the control totals."""
    from wip_lib.sources.readers import transforms as tf

    spec = profile["tables"][name]
    table = schema.get(name)
    hints = spec.get("sample") or {}
    context = context or {}
    tables = tables or {}
    date_fmt = (profile.get("date_formats") or ["%m/%d/%Y"])[0]
    columns = {k: _aliases(v) for k, v in spec["columns"].items()}
    df = df.reset_index(drop=True)
    expected = df
    if name == "gl_balances" and (spec.get("balance") or spec.get("kept_by") == "account"):
        df, expected = _gl_shape(df, spec, context)
    expected = _as_read_back(expected, spec, table)
    split = (spec.get("lines") or {}).get("split")
    is_split = np.zeros(len(df), dtype=bool)
    if split:  # a line of its own beside each row (QuickBooks' negative retainage item)
        moved = df[split["into"]].fillna(0).astype("int64")
        has = (moved != 0).to_numpy(dtype=bool)
        extra = df[has].copy()
        money = [c.name for c in table.columns if c.kind == "money" and c.name in df.columns]
        for c in money:
            if c not in (split.get("keep") or []):
                extra[c] = 0
        extra[split["from"]] = -moved[has] if split.get("negate") else moved[has]
        df = df.assign(**{split["into"]: 0})
        order = np.concatenate([np.arange(len(df)), np.flatnonzero(has) + 0.5])
        df = pd.concat([df, extra], ignore_index=True)
        is_split = np.concatenate([np.zeros(len(order) - len(extra), bool),
                                   np.ones(len(extra), bool)])
        pos = np.argsort(order, kind="stable")
        df = df.iloc[pos].reset_index(drop=True)
        is_split = is_split[pos]
    n_data = len(df)
    if not_cost is not None and len(not_cost) and "not_cost" in hints:
        df = pd.concat([df, not_cost.reindex(columns=df.columns)], ignore_index=True)
    is_nc = np.arange(len(df)) >= n_data
    is_split = np.concatenate([is_split, np.zeros(len(df) - len(is_split), bool)])
    date_fmt = hints.get("date_format", date_fmt)
    text = _format(df, table, PLAIN_MONEY, date_fmt)
    # Keys as the ERP writes them: a declared transform undone, else the raw twin as exported.
    ops_of = spec.get("transforms") or {}
    for c in ("job_id", "cost_code"):
        if c in columns and f"{c}_raw" in df.columns and c not in ops_of:
            text[c] = df[f"{c}_raw"].astype("string")
    plain = (not any(k in spec for k in ("transforms", "lookups", "amounts", "period", "parts",
                                        "joins", "layout", "lines", "balance", "source_rules",
                                        "sample", "exclude", "kept_by")))
    if spec.get("source_from"):
        back = ({v: k for k, v in spec["sources"].items()} if plain
                else {**_first_key_back(spec["sources"]), **(hints.get("sources") or {})})
        text[spec["source_from"]] = df["source"].map(back).astype("string")
    for c, mapping in (spec.get("values") or {}).items():
        back = ({str(v): str(k) for k, v in mapping.items()} if plain
                else _first_key_back(mapping))
        if c in text.columns:
            text[c] = text[c].replace(back)
    if "accounting_date" in columns and "accounting_date" not in df.columns and "period" in df:
        # Tables keyed by period carry the accounting date the period is read from.
        text["accounting_date"] = (pd.PeriodIndex(df["period"].astype(str), freq="M")
                                   .to_timestamp(how="end").strftime(date_fmt))
    if not plain:
        for c in table.names:
            if c not in text.columns:
                text[c] = pd.Series("", index=df.index, dtype="string")
        text = _undo_declared(text, df, spec, table, columns, hints, tables, context, date_fmt,
                              is_nc, tf)
        if split and is_split.any():
            col = next(iter(tf.columns_of(split["when"])))
            text.loc[is_split, col] = tf.first_value(split["when"]) or ""
            for c, v in (split.get("sample") or {}).items():
                text.loc[is_split, c] = str(v)
    if extra_rows is not None and len(extra_rows):
        text = pd.concat([text, extra_rows], ignore_index=True)
    parts = spec.get("parts") or [{"file": spec["file"]}]
    written = []
    for k, part in enumerate(parts):
        rows = np.ones(len(text), dtype=bool)
        for c, v in (part.get("set") or {}).items():
            rows &= (df[c].astype("string") == str(v)).to_numpy(dtype=bool, na_value=False)
        if len(parts) > 1 and not rows.any():
            continue
        sub = text[rows].reset_index(drop=True)
        for j in (spec.get("joins") or []) + (part.get("joins") or []):
            _write_join(root, sub, j, k, parts)
        path = root / f"{part['file']}.csv"
        cols_k = {**columns, **{c: _aliases(v) for c, v in (part.get("columns") or {}).items()}}
        out = _header_frame(sub, cols_k, {c for c in (part.get("set") or {})}, plain)
        if spec.get("layout") == "report":
            _write_report(out, sub, cols_k, spec, hints, context, path)
        else:
            _write_csv(out, path)
        exp = expected
        if len(parts) > 1:
            keep = np.ones(len(expected), dtype=bool)
            for c, v in (part.get("set") or {}).items():
                keep &= (expected[c].astype("string") == str(v)).to_numpy(dtype=bool,
                                                                          na_value=False)
            exp = expected[keep]
        written.append((path, exp))
    return written


def _as_read_back(df: pd.DataFrame, spec: dict, table) -> pd.DataFrame:
    """The money a reader gets back from the export: a column the profile neither maps nor
    works out reads as 0; one worked from canonical columns only (Sage 100's revised contract =
    its Contract box) as the profile works it."""
    mapped = set(spec["columns"])
    for j in (spec.get("joins") or []) + [j for p in spec.get("parts") or []
                                          for j in p.get("joins") or []]:
        mapped |= set(j.get("columns") or {})
    split = (spec.get("lines") or {}).get("split") or {}
    mapped |= {split[k] for k in ("from", "into") if k in split}
    amounts = spec.get("amounts") or {}
    out = df
    for c in table.columns:
        if c.kind != "money" or c.name not in df.columns or c.name in mapped:
            continue
        a = amounts.get(c.name)
        if a is None:
            if not (c.name == "balance" and spec.get("balance")):
                out = out.assign(**{c.name: np.int64(0)})
            continue
        names = list(a.get("plus") or []) + list(a.get("minus") or [])
        if names and all(n in table.names for n in names):
            v = sum(df[n].astype("int64") for n in a.get("plus") or []) - sum(
                df[n].astype("int64") for n in a.get("minus") or [])
            out = out.assign(**{c.name: pd.Series(v, index=df.index).astype("int64")})
    return out


def _header_frame(text: pd.DataFrame, columns: dict, constant: set[str], plain: bool = False
                  ) -> pd.DataFrame:
    """The export's columns (first header of each name, once; a name a part sets as a constant
    is not a column of the file; a plain profile writes only the columns it has values for)."""
    seen, cols, heads = set(), [], []
    for c, aliases in columns.items():
        h = aliases[0]
        if h in seen or c in constant or h == "(group)" or (plain and c not in text.columns):
            continue
        seen.add(h)
        cols.append(c)
        heads.append(h)
    out = text.reindex(columns=cols).astype("string").fillna("")
    out.columns = heads
    return out


def _undo_declared(text, df, spec, table, columns, hints, tables, context, date_fmt, is_nc, tf):
    """The inverse of every declared derivation and transform, column by column."""
    idx = text.index
    fye = int(context.get("fiscal_year_end_month", 12))
    blank = pd.Series("", index=idx, dtype="string")

    def jobs_field(field: str) -> pd.Series:
        """A field for a ``format``: the job's own (customer, name) from Procore's project
        list, so every file names a job alike; else the row's canonical value."""
        jobs = tables.get("jobs")
        if field in ("customer", "job_name") and jobs is not None and "job_id" in df.columns:
            m = jobs.drop_duplicates("job_id").set_index(jobs.drop_duplicates("job_id")[
                "job_id"].astype("string"))[field].astype("string")
            return df["job_id"].astype("string").map(m).astype("string").fillna("")
        if field in text.columns and field in table.names:
            return df[field].astype("string") if field in df.columns else text[field]
        if jobs is not None and field in jobs.columns:
            m = jobs.drop_duplicates("job_id").set_index(jobs.drop_duplicates("job_id")[
                "job_id"].astype("string"))[field].astype("string")
            return df["job_id"].astype("string").map(m).astype("string").fillna("")
        if field in text.columns:
            return text[field]
        return blank

    # Lookups: the key of the canonical value in the other table (vendor name -> number).
    for c, lk in (spec.get("lookups") or {}).items():
        target = tables.get(lk["table"])
        if target is None or c not in df.columns:
            text[lk["from"]] = blank
            continue
        back = target.drop_duplicates(lk["value"]).set_index(
            target.drop_duplicates(lk["value"])[lk["value"]].astype("string"))[lk["key"]]
        text[lk["from"]] = df[c].astype("string").map(back.astype("string")).astype(
            "string").fillna("")
    # Money worked from other columns: written into them.
    split_sign = set(hints.get("sign_split") or [])
    for c, a in (spec.get("amounts") or {}).items():
        if c not in df.columns:
            continue
        x = df[c].fillna(0).astype("int64")
        if "value" in a:
            if a["value"] not in table.names:
                text[a["value"]] = _cents_text(x.abs() if "sign" in a else x)
            if "sign" in a:
                text[a["sign"]] = pd.Series(np.where(x < 0, "-1", "1"), index=idx,
                                            dtype="string")
            if "when" in a:
                col = next(iter(tf.columns_of(a["when"])))
                v = tf.first_value(a["when"])
                if v is None and a["when"].get("nonblank"):
                    v = str((hints.get("fill") or {}).get(col, "1"))
                if v is not None and col not in table.names:
                    other = str((hints.get("otherwise") or {}).get(col, ""))
                    text[col] = pd.Series(np.where(x != 0, v, other), index=idx,
                                          dtype="string")
            continue
        plus, minus = list(a.get("plus") or []), list(a.get("minus") or [])
        if all(h in table.names for h in plus + minus):
            continue  # read from canonical columns written anyway
        if c in split_sign and plus and minus:
            text[plus[0]] = _cents_text(x.clip(lower=0))
            text[minus[0]] = _cents_text((-x).clip(lower=0))
            rest = plus[1:] + minus[1:]
        else:
            text[plus[0] if plus else minus[0]] = _cents_text(x if plus else -x)
            rest = plus[1:] + minus[(0 if plus else 1):]
        for h in rest:
            if h not in table.names:
                text[h] = _cents_text(pd.Series(0, index=idx))
    bal = spec.get("balance") or {}
    if bal.get("periods"):  # a row per account: the opening and each fiscal period's activity
        text[bal["opening"]] = _cents_text(df["opening"])
        for i, c in enumerate(bal["periods"]):
            text[c] = _cents_text(df[f"__p{i + 1}"])
    # The period where the export carries it in its own fields.
    p = spec.get("period")
    if isinstance(p, dict) and "period" in df.columns:
        per = df["period"].astype("string").fillna(context.get("period", "1900-01"))
        if "date" in p and p["date"] not in table.names:
            day = hints.get("period_day", "first")
            d = pd.PeriodIndex(per.to_numpy(dtype=object), freq="M").to_timestamp(
                how="start" if day == "first" else "end").normalize()
            text[p["date"]] = pd.Series(d.strftime(date_fmt), index=idx, dtype="string")
        elif "fiscal" in p:
            fy, fp = tf.period_to_fiscal(per, fye)
            text[p["fiscal"]] = tf.format_fiscal_text(fy.astype("string"), fp.astype("string"),
                                                      p.get("format", "YYYYPP"))
        elif "fiscal_period" in p and p.get("fiscal_year") != "current":
            fy, fp = tf.period_to_fiscal(per, fye)
            text[p["fiscal_year"]] = fy.astype("string")
            text[p["fiscal_period"]] = fp.astype("string")
    # The cost source where rules derive it: the column each rule reads set for its rows.
    fill = hints.get("fill") or {}
    if spec.get("source_rules") and "source" in df.columns:
        src = df["source"].astype("string").fillna("")
        for rule in spec["source_rules"]:
            w = rule.get("when")
            if not w or "column" not in w:
                continue
            col = w["column"]
            mine = (src == str(rule["source"])).to_numpy(dtype=bool)
            cur = text[col] if col in text.columns else blank
            empty = (cur.fillna("").str.strip().isin(["", "0"])).to_numpy(dtype=bool)
            v = tf.first_value(w) if "in" in w else str(fill.get(col, "1"))
            text[col] = cur.mask(pd.Series(mine & (empty | ("in" in w)), index=idx), v)
    for c, v in (hints.get("constants") or {}).items():
        text[c] = pd.Series(str(v), index=idx, dtype="string")
    for c, v in (hints.get("sequence") or {}).items():
        keys = df[list(v)].astype("string").fillna("")
        codes_, _ = pd.factorize(pd.MultiIndex.from_frame(keys))
        text[c] = pd.Series(codes_ + 1, index=idx).astype("string")
    for c, template in (hints.get("format") or {}).items():
        text[c] = tf.format_column(template, jobs_field, idx)
    # Not-cost rows in the ERP's form (an estimate line, a voided entry).
    nc = hints.get("not_cost") or {}
    if is_nc.any():
        for c, v in (nc.get("set") or {}).items():
            text.loc[is_nc, c] = str(v)
        if nc.get("amount_to"):
            amt = text["amount"].copy()
            text[nc["amount_to"]] = text.get(nc["amount_to"], blank).where(~is_nc, amt)
            text.loc[is_nc, "amount"] = "0.00"
    # Values and transforms undone, canonical columns and helpers alike.
    for c, mapping in (spec.get("values") or {}).items():
        if c in text.columns and c not in table.names:
            text[c] = text[c].replace(_first_key_back(mapping))
    for c, ops in (spec.get("transforms") or {}).items():
        if c in (hints.get("format") or {}):
            continue
        if c in text.columns:
            base = df[f"{c}_raw"].astype("string").str.strip() if f"{c}_raw" in df.columns \
                else text[c]
            text[c] = tf.write_column(ops, base.fillna(""))
    return text


def _gl_shape(gl: pd.DataFrame, spec: dict, context: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GL balances as the ERP keeps them, and what the reader gives back from them.

    By account only (``kept_by: account``): the jobs' balances summed per account and period.
    ``balance: {activity}``: each period's change per account (and job) written where it is not
    zero; the reader runs them back into balances. ``balance: {periods}``: the current fiscal
    year as a row per account, the opening balance and one activity column per period."""
    from wip_lib.sources.readers import transforms as tf

    g = gl.copy()
    g["period"] = g["period"].astype("string")
    by_account = spec.get("kept_by") == "account"
    if by_account:
        g = aggregate(g, ["period", "account"], sort=True, as_index=False,
                      account_name=("account_name", "first"), balance=("balance", "sum"))
        g["job_id"] = ""
    keys = ["account", "job_id"]
    g = g.sort_values([*keys, "period"], kind="stable").reset_index(drop=True)
    for c in ("period", "account", "account_name", "job_id"):
        g[c] = g[c].astype("string")
    g["balance"] = g["balance"].astype("int64")
    bal = spec.get("balance") or {}
    if not bal:
        return g, g
    if bal.get("periods"):
        fye = int(context.get("fiscal_year_end_month", 12))
        cur = str(context.get("period"))
        fy, _ = tf.period_to_fiscal(pd.Series([cur]), fye)
        fy = int(fy.iloc[0])
        months = [str(pd.Period(f"{fy}-{fye:02d}", freq="M") - 11 + i) for i in range(12)]
        before = str(pd.Period(months[0], freq="M") - 1)
        accounts = g.drop_duplicates(keys)[[*keys, "account_name"]]
        grid = accounts.merge(pd.DataFrame({"period": months}), how="cross")
        hist = g[g["period"] <= months[-1]]
        at = pd.concat([hist, grid.assign(balance=pd.NA)], ignore_index=True)
        at = at.sort_values([*keys, "period"], kind="stable")
        at["balance"] = at.groupby(keys)["balance"].ffill()
        at = at.drop_duplicates([*keys, "period"], keep="first")
        opening = (hist[hist["period"] <= before].sort_values("period")
                   .groupby(keys)["balance"].last())
        year = at[at["period"].isin(months)].copy()
        year["balance"] = year["balance"].fillna(0).astype("int64")
        year["_open"] = pd.MultiIndex.from_frame(year[keys]).map(opening).fillna(0).astype(
            "int64")
        year["activity"] = (year.groupby(keys)["balance"].diff()
                            .fillna(year["balance"] - year["_open"]).astype("int64"))
        wide = year.pivot(index=keys, columns="period", values="activity")[months]
        out = accounts.set_index(keys).join(wide).reset_index()
        out["opening"] = pd.MultiIndex.from_frame(out[keys]).map(opening).fillna(0).astype(
            "int64")
        for i, m in enumerate(months):
            out[f"__p{i + 1}"] = out[m].fillna(0).astype("int64")
        expected = year[["period", "account", "account_name", "job_id", "balance"]]
        return out, expected.reset_index(drop=True)
    # Activity: the change of each balance from the period before (first row: the balance).
    g["activity"] = g.groupby(keys)["balance"].diff().fillna(g["balance"]).astype("int64")
    moved = g[g["activity"] != 0].reset_index(drop=True)
    expected = moved[["period", "account", "account_name", "job_id", "balance"]]
    return moved.assign(balance=moved["activity"]), expected


def _write_join(root: Path, text: pd.DataFrame, join: dict, k: int, parts: list) -> None:
    """A header file of a join: one row per key, the joined columns under their headers."""
    on = list(join["key"])
    cols = list(join["columns"])
    frame = text.reindex(columns=[*on, *cols]).fillna("")
    if join.get("match") == "optional":
        some = np.zeros(len(frame), dtype=bool)
        for c in cols:
            some |= (frame[c].astype("string").str.strip() != "").to_numpy(dtype=bool)
        frame = frame[some]
    frame = frame.drop_duplicates(on)
    for c, v in (join.get("sample") or {}).items():
        frame[c] = str(v)
    heads = {c: _aliases(v)[0] for c, v in {**join["key"], **join["columns"]}.items()}
    for c in (join.get("sample") or {}):
        heads.setdefault(c, c)
    out = frame.rename(columns=heads)
    path = root / f"{join['file']}.csv"
    if k and path.exists():  # several parts share a header file: add to it
        out = pd.concat([pd.read_csv(path, dtype="string", keep_default_na=False), out],
                        ignore_index=True).drop_duplicates([heads[c] for c in on])
    _write_csv(out, path)


def _write_report(out: pd.DataFrame, text: pd.DataFrame, columns: dict, spec: dict, hints: dict,
                  context: dict, path: Path) -> None:
    """A report CSV as QuickBooks writes one: title lines, a blank-headed indent column per
    group level, a header row per group and a ``Total`` row after it, a ``TOTAL`` row last."""
    group_of = next((c for c, a in columns.items() if "(group)" in a), None)
    money = [h for h in out.columns if h in set(hints.get("totals") or [])]
    groups = (text[group_of].astype("string").fillna("") if group_of else
              pd.Series("", index=text.index, dtype="string"))
    paths = groups.str.split(":", regex=False)
    depth = int(paths.str.len().max()) if len(groups) and group_of else 0
    indent = [f"__i{i}" for i in range(max(depth, 1))]
    body = out.copy()
    for c in indent:
        body.insert(0 if c == indent[0] else list(body.columns).index(indent[indent.index(c) - 1]) + 1,
                    c, "")
    body["__g"] = groups.to_numpy()
    body = body.sort_values("__g", kind="stable").reset_index(drop=True)
    frames = []
    order = pd.Series(range(len(body)), dtype="int64")
    rows = body.assign(__o=order * 3 + 1)
    frames.append(rows)
    cents = {h: parse_cents(body[h].astype("string"))[0].fillna(0).astype("int64") for h in money}
    if group_of:
        bodyg = body["__g"].astype("string")
        for lvl in range(depth):  # header and total rows of each group, level by level
            prefix = bodyg.str.split(":", regex=False).str[:lvl + 1].str.join(":")
            first = ~prefix.duplicated(keep="first")
            last = ~prefix.duplicated(keep="last")
            name = bodyg.str.split(":", regex=False).str[lvl].fillna("")
            has = (bodyg.str.split(":", regex=False).str.len() > lvl).to_numpy()
            head = pd.DataFrame("", index=body.index[first & has], columns=body.columns)
            head[indent[lvl]] = name[first & has]
            head["__o"] = order[first & has] * 3 - (depth - lvl)
            tot = pd.DataFrame("", index=body.index[last & has], columns=body.columns)
            tot[indent[lvl]] = "Total " + name[last & has]
            for h in money:
                s = cents[h].groupby(prefix).transform("sum")
                tot[h] = money_text(s[last & has], PLAIN_MONEY)
            tot["__o"] = order[last & has] * 3 + 2 + (depth - lvl)
            frames += [head, tot]
    grand = pd.DataFrame([[""] * len(body.columns)], columns=body.columns)
    grand[indent[0]] = "TOTAL"
    for h in money:
        grand[h] = money_text(pd.Series([int(cents[h].sum())]), PLAIN_MONEY).iloc[0]
    grand["__o"] = len(body) * 3 + 10 ** 6
    allr = pd.concat(frames + [grand], ignore_index=True).sort_values("__o", kind="stable")
    allr = allr.drop(columns=["__o", "__g"])
    width = len(allr.columns)
    titles = [str(t).format(**{k: str(v) for k, v in context.items()})
              for t in (hints.get("title") or [])]
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ["" if c in indent else c for c in allr.columns]
    import csv as _csv
    import io

    buf = io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    for t in titles:
        w.writerow([t] + [""] * (width - 1))
    w.writerow(header)
    allr.to_csv(buf, index=False, header=False, lineterminator="\n")
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_company_yaml(root: Path, data: dict) -> Path:
    path = root / "company.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
