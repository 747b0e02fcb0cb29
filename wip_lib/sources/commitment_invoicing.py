"""Invoiced to date on each commitment, and on each of its lines, at a period end, in one place.

The reconciliation compares Procore's and the ERP's invoiced to date per commitment
(:mod:`wip_lib.reconcile.commitments`: :func:`procore_invoiced` against :func:`erp_invoiced`); the
forecast's invoiced against commitments is each line's figure (:func:`invoiced_by_line`, called by
:mod:`wip_lib.accounting.forecast`). The exports' ``invoiced`` columns hold today's figure, so
each is cut off at the end of the period by the documents dated after it.

Which figure a rule takes is decided by what the exports carry, declared per ERP profile
(:data:`wip_lib.core.settings.ERP_FACTS`, ``Company.carries``), never by the amounts: the same
company read through any ERP profile gets the same figure wherever its ERP carries the data, and
the documented fallback where it does not.

- **Procore** (:func:`procore_invoiced`): G702 line 4 (``total_completed_to_date``) of the
  commitment's latest requisition approved (``approved`` or ``approved_as_noted``) by the period
  end, latest by approval date (else billing date), then application number; 0 when it has
  requisitions but none approved by then. A commitment with no requisition at all (a purchase order
  invoiced in the ERP, its figure synced back to Procore) takes Procore's ``invoiced`` less the
  ERP's AP invoices on it of periods after the period.
- **ERP** (:func:`erp_invoiced`): where the ERP's commitments export carries invoiced to date
  (fact ``commitments_have_invoiced``), the ERP commitment's ``invoiced`` less its AP invoices of
  periods after the period; otherwise (QuickBooks' purchase orders carry none) the sum of the ERP's
  AP invoices naming the commitment of periods through the period (every profile reads the
  commitment on AP invoices).
- **Per line** (:func:`invoiced_by_line`; "a line": a commitment's SOV lines summed by cost code
  and cost type):

  1. Where the ERP's job-cost export carries the commitment (fact ``job_cost_has_commitment``),
     a commitment named by job-cost rows of periods through the period takes those rows, their
     codes translated to Procore's as for cost to date (:func:`wip_lib.core.codes.erp_to_procore`):
     a row goes to the commitment's line of its cost code and cost type, else to the commitment's
     only line of its cost code, else (the ERP's coding names no line) its amount is spread over
     the commitment's lines pro rata to their amounts.
  2. Every other commitment (the export does not carry the commitment on its cost rows, or no row
     names this one: a purchase order on Vista, whose profile reads SL, a subcontract on Spectrum,
     whose rows carry Po_Number) takes Procore's invoiced to date at the period end
     (:func:`procore_invoiced`) spread over its lines in proportion to the G703 column G (total
     completed and stored to date) of the requisition that figure comes from, its lines matched
     to the commitment's by budget code (``[SUB.]CODE.TYPE``, code normalised); without such
     G703 lines, pro rata to the lines' amounts.

  Spreads are cumulative half-up rounding (:func:`wip_lib.core.money.allocate`), so a
  commitment's lines add back to its figure to the cent; a commitment whose weights total zero
  has nothing to spread over and gets no spread share.

Commitment numbers are compared trimmed; money is int64 cents.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.codes import erp_to_procore, normalise
from wip_lib.core.money import allocate
from wip_lib.core.periods import check_period, period_end

KEY = ["job_id", "commitment_number"]
LINE = [*KEY, "cost_code", "cost_type"]
APPROVED_REQUISITIONS = ("approved", "approved_as_noted")
BASIS_REQUISITION = "latest requisition approved by then, G702 line 4"
BASIS_INVOICED = "commitment's invoiced less later AP"


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def _cents(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").fillna(0).astype("int64")


def _col(df: pd.DataFrame, name: str, default=None) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(default, index=df.index, dtype=object)


def _ap(ap_invoices: pd.DataFrame) -> pd.DataFrame:
    """AP invoices that name a commitment: job_id, commitment_number, period, amount."""
    ap = pd.DataFrame({"job_id": _text(ap_invoices["job_id"]),
                       "commitment_number": _text(_col(ap_invoices, "commitment_number", "")),
                       "period": _text(ap_invoices["period"]),
                       "amount": _cents(ap_invoices["amount"])})
    return ap.loc[(ap["commitment_number"] != "").to_numpy(bool)]


def _ap_sum(ap_invoices: pd.DataFrame, keep, name: str) -> pd.DataFrame:
    """AP invoice amounts per commitment of the periods ``keep(period)`` selects: ``name``."""
    ap = _ap(ap_invoices)
    out = (ap.loc[keep(ap["period"]).to_numpy(bool)].groupby(KEY, as_index=False)["amount"].sum()
           .rename(columns={"amount": name}))
    out[name] = out[name].astype("int64")
    return out


def _later_ap(ap_invoices: pd.DataFrame, period: str) -> pd.DataFrame:
    """AP invoice amounts per commitment of periods after ``period``: ``_later_ap``."""
    return _ap_sum(ap_invoices, lambda p: p > period, "_later_ap")


def procore_invoiced(commitments: pd.DataFrame, requisitions: pd.DataFrame,
                     ap_invoices: pd.DataFrame, period: str) -> pd.DataFrame:
    """``job_id, commitment_number, invoiced, basis, application_number``: Procore's invoiced to
    date at the end of ``period`` for every commitment of ``commitments`` (rule in the module
    docstring); ``application_number`` is the requisition the figure comes from (<NA>: none)."""
    end = period_end(check_period(period))
    com = pd.DataFrame({"job_id": _text(commitments["job_id"]),
                        "commitment_number": _text(commitments["commitment_number"]),
                        "_today": _cents(_col(commitments, "invoiced", 0))})
    req = pd.DataFrame({
        "job_id": _text(requisitions["job_id"]),
        "commitment_number": _text(requisitions["commitment_number"]),
        "status": _text(requisitions["status"]).str.lower(),
        "when": pd.to_datetime(_col(requisitions, "approved_date")).fillna(
            pd.to_datetime(requisitions["billing_date"])),
        "application_number": pd.to_numeric(requisitions["application_number"],
                                             errors="coerce"),
        "line4": _cents(requisitions["total_completed_to_date"])})
    with_req = req[KEY].drop_duplicates().assign(_has_req=True)
    ok = req["status"].isin(APPROVED_REQUISITIONS) & (req["when"].isna() | (req["when"] <= end))
    latest = (req.loc[ok.to_numpy(bool)]
              .sort_values([*KEY, "when", "application_number"], kind="stable", na_position="first")
              .drop_duplicates(KEY, keep="last")[[*KEY, "line4", "application_number"]])
    m = (com.merge(with_req, on=KEY, how="left").merge(latest, on=KEY, how="left")
         .merge(_later_ap(ap_invoices, period), on=KEY, how="left"))
    has_req = m["_has_req"].fillna(False).astype(bool)
    later = m["_later_ap"].fillna(0).astype("int64")
    m["invoiced"] = m["line4"].fillna(0).astype("int64").where(has_req, m["_today"] - later)
    m["basis"] = pd.Series(BASIS_REQUISITION, index=m.index, dtype="string").mask(
        ~has_req, BASIS_INVOICED)
    m["application_number"] = m["application_number"].astype("Int64")
    return m[[*KEY, "invoiced", "basis", "application_number"]].reset_index(drop=True)


def erp_invoiced(erp_commitments: pd.DataFrame, ap_invoices: pd.DataFrame, period: str, *,
                 has_invoiced: bool = True) -> pd.DataFrame:
    """``job_id, commitment_number, invoiced``: the ERP's invoiced to date at the end of
    ``period`` for every commitment of ``erp_commitments`` (rule in the module docstring;
    ``has_invoiced``: the export carries the commitments' invoiced to date)."""
    check_period(period)
    com = pd.DataFrame({"job_id": _text(erp_commitments["job_id"]),
                        "commitment_number": _text(erp_commitments["commitment_number"]),
                        "_today": _cents(_col(erp_commitments, "invoiced", 0))})
    if has_invoiced:
        m = com.merge(_later_ap(ap_invoices, period), on=KEY, how="left")
        m["invoiced"] = m["_today"] - m["_later_ap"].fillna(0).astype("int64")
    else:
        m = com.merge(_ap_sum(ap_invoices, lambda p: p <= period, "_to_date"), on=KEY,
                      how="left")
        m["invoiced"] = m["_to_date"].fillna(0).astype("int64")
    return m[[*KEY, "invoiced"]].reset_index(drop=True)


def _erp_rows(company, period: str) -> pd.DataFrame:
    """The ERP's job-cost rows of periods through ``period`` that name a commitment, in Procore
    codes, summed by commitment line: job_id, commitment_number, cost_code, cost_type, amount
    (none when the export does not carry the commitment)."""
    cost = company["erp_job_cost"]
    if not company.carries("job_cost_has_commitment") or "commitment_number" not in cost.columns:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in LINE}).assign(
            amount=pd.Series(dtype="int64"))
    number = _text(cost["commitment_number"])
    keep = ((_text(cost["period"]) <= period) & (number != "")).to_numpy(bool)
    cost = cost[keep]
    rows = pd.DataFrame({
        "job_id": _text(cost["job_id"]), "commitment_number": number[keep],
        "cost_code": erp_to_procore(company["cost_code_crosswalk"], cost),
        "cost_type": _text(cost["cost_type"]), "amount": _cents(cost["amount"])})
    return rows.groupby(LINE, as_index=False, sort=False)["amount"].sum()


def _from_erp_rows(rows: pd.DataFrame, lines: pd.DataFrame) -> pd.Series:
    """Rule 1 of the module docstring: the ERP rows' amounts on ``lines``."""
    keyed = lines[LINE].reset_index()
    out = pd.Series(0, index=lines.index, dtype="int64")
    # a. The row's commitment, code and type is a line.
    exact = keyed.merge(rows, on=LINE)
    out.loc[exact["index"].to_numpy()] += exact["amount"].to_numpy(dtype="int64")
    rest = rows.merge(lines[LINE].assign(_line=True), on=LINE, how="left")
    rest = rest[rest["_line"].isna().to_numpy(bool)].drop(columns="_line")
    # b. Else the commitment's only line with the row's code.
    code = [*KEY, "cost_code"]
    single = keyed[~keyed.duplicated(code, keep=False).to_numpy(bool)]
    by_code = rest.merge(single[[*code, "index"]], on=code)
    out.loc[by_code["index"].to_numpy()] += by_code["amount"].to_numpy(dtype="int64")
    rest = rest.merge(single[code].assign(_single=True), on=code, how="left")
    rest = rest[rest["_single"].isna().to_numpy(bool)]
    # c. Else spread over the commitment's lines pro rata to their amounts.
    remainder = rest.groupby(KEY, as_index=False)["amount"].sum().rename(
        columns={"amount": "_rest"})
    spread = lines[[*KEY, "amount"]].merge(remainder, on=KEY, how="left")
    out += allocate(spread["_rest"].fillna(0).astype("int64"), spread["amount"],
                    [spread["job_id"], spread["commitment_number"]]).to_numpy()
    return out


def _g703_weights(company, lines: pd.DataFrame, procore: pd.DataFrame) -> pd.Series:
    """Per row of ``lines``: column G of the G703 lines of the requisition Procore's figure comes
    from whose budget code names the line (0 where none does)."""
    g = company["subcontractor_invoice_lines"]
    out = pd.Series(0, index=lines.index, dtype="int64")
    apps = procore.dropna(subset=["application_number"])
    if g.empty or apps.empty:
        return out
    g = pd.DataFrame({"job_id": _text(g["job_id"]),
                      "commitment_number": _text(g["commitment_number"]),
                      "application_number": pd.to_numeric(g["application_number"],
                                                           errors="coerce").astype("Int64"),
                      "budget_code": _text(_col(g, "budget_code", "")),
                      "g": _cents(g["total_completed_to_date"])})
    g = g.merge(apps[[*KEY, "application_number"]], on=[*KEY, "application_number"])
    parts = g["budget_code"].str.rsplit(".", n=1)
    g["cost_type"] = parts.str[-1].astype("string").str.upper()
    code = parts.str[0].astype("string").where(parts.str.len() > 1, "")
    keyed = lines[LINE].reset_index().assign(cost_type=lambda d: _text(d["cost_type"]).str.upper())
    taken = pd.Series(False, index=g.index)
    # The budget code's code as it stands, else without a leading sub job ("SUB.CODE").
    for candidate in (code, code.str.split(".", n=1).str[1].astype("string").fillna("")):
        m = (g.assign(cost_code=normalise(candidate), _row=g.index)[~taken.to_numpy(bool)]
             .merge(keyed, on=LINE))
        m = m[m["cost_code"] != ""]
        if len(m):
            out = out.add(m.groupby("index")["g"].sum(), fill_value=0).astype("int64")
            taken.loc[m["_row"].unique()] = True
    return out


def _from_procore(company, period: str, lines: pd.DataFrame) -> pd.Series:
    """Rule 2 of the module docstring: Procore's invoiced to date spread over ``lines``."""
    procore = procore_invoiced(company["commitments"], company["subcontractor_invoices"],
                               company["erp_ap_invoices"], period)
    m = lines[[*KEY, "amount"]].merge(procore[[*KEY, "invoiced"]], on=KEY, how="left")
    g703 = _g703_weights(company, lines, procore).to_numpy()
    has_g703 = pd.Series(g703, index=m.index).groupby(
        [m["job_id"], m["commitment_number"]], sort=False).transform("sum") != 0
    weights = pd.Series(g703, index=m.index).where(has_g703, m["amount"])
    share = allocate(m["invoiced"].fillna(0).astype("int64"), weights,
                     [m["job_id"], m["commitment_number"]])
    return pd.Series(share.to_numpy(), index=lines.index, dtype="int64")


def invoiced_by_line(company, period: str, lines: pd.DataFrame) -> pd.Series:
    """Invoiced to date at the end of ``period`` on each line of ``lines`` (job_id,
    commitment_number, cost_code, cost_type, amount; one row per line, a commitment's lines
    together, in their order), int64 cents aligned with ``lines`` (rule in the module
    docstring)."""
    check_period(period)
    lines = lines.assign(**{c: _text(lines[c]) for c in LINE},
                         amount=lines["amount"].astype("int64"))
    rows = _erp_rows(company, period)
    named = lines[KEY].merge(rows[KEY].drop_duplicates().assign(_named=True), on=KEY,
                             how="left")["_named"].notna().to_numpy(bool)
    out = pd.Series(0, index=lines.index, dtype="int64")
    if named.any():
        out[named] = _from_erp_rows(rows, lines[named]).to_numpy()
    if (~named).any():
        out[~named] = _from_procore(company, period, lines[~named]).to_numpy()
    return out
