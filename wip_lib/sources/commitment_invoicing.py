"""Invoiced to date on each commitment at a period end, in one place.

The reconciliation's invoiced-to-date comparison (:mod:`wip_lib.reconcile.commitments`) and the
forecast's invoiced against commitments where the ERP's cost rows name no commitment
(:mod:`wip_lib.accounting.forecast`) both use these rules; the exports' ``invoiced`` columns hold
today's figure, so each is cut off at the end of the period by the documents dated after it.

- **Procore** (:func:`procore_invoiced`): G702 line 4 (``total_completed_to_date``) of the
  commitment's latest requisition approved (``approved`` or ``approved_as_noted``) by the period
  end, latest by approval date (else billing date), then application number; 0 when it has
  requisitions but none approved by then. A commitment with no requisition at all (a purchase order
  invoiced in the ERP, its figure synced back to Procore) takes Procore's ``invoiced`` less the
  ERP's AP invoices on it of periods after the period.
- **ERP** (:func:`erp_invoiced`): the ERP commitment's ``invoiced`` less its AP invoices of periods
  after the period.

Commitment numbers are compared trimmed; money is int64 cents.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.periods import check_period, period_end

KEY = ["job_id", "commitment_number"]
APPROVED_REQUISITIONS = ("approved", "approved_as_noted")
BASIS_REQUISITION = "latest requisition approved by then, G702 line 4"
BASIS_INVOICED = "commitment's invoiced less later AP"


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def _cents(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").fillna(0).astype("int64")


def _col(df: pd.DataFrame, name: str, default=None) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(default, index=df.index, dtype=object)


def _later_ap(ap_invoices: pd.DataFrame, period: str) -> pd.DataFrame:
    """AP invoice amounts per commitment of periods after ``period``: ``_later_ap``."""
    ap = pd.DataFrame({"job_id": _text(ap_invoices["job_id"]),
                       "commitment_number": _text(_col(ap_invoices, "commitment_number", "")),
                       "period": _text(ap_invoices["period"]),
                       "amount": _cents(ap_invoices["amount"])})
    later = ap.loc[(ap["period"] > period).to_numpy(bool) & (ap["commitment_number"] != "")
                   .to_numpy(bool)]
    out = later.groupby(KEY, as_index=False)["amount"].sum().rename(columns={"amount": "_later_ap"})
    out["_later_ap"] = out["_later_ap"].astype("int64")
    return out


def procore_invoiced(commitments: pd.DataFrame, requisitions: pd.DataFrame,
                     ap_invoices: pd.DataFrame, period: str) -> pd.DataFrame:
    """``job_id, commitment_number, invoiced, basis``: Procore's invoiced to date at the end of
    ``period`` for every commitment of ``commitments`` (rule in the module docstring)."""
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
              .drop_duplicates(KEY, keep="last")[[*KEY, "line4"]])
    m = (com.merge(with_req, on=KEY, how="left").merge(latest, on=KEY, how="left")
         .merge(_later_ap(ap_invoices, period), on=KEY, how="left"))
    has_req = m["_has_req"].fillna(False).astype(bool)
    later = m["_later_ap"].fillna(0).astype("int64")
    m["invoiced"] = m["line4"].fillna(0).astype("int64").where(has_req, m["_today"] - later)
    m["basis"] = pd.Series(BASIS_REQUISITION, index=m.index, dtype="string").mask(
        ~has_req, BASIS_INVOICED)
    return m[[*KEY, "invoiced", "basis"]].reset_index(drop=True)


def erp_invoiced(erp_commitments: pd.DataFrame, ap_invoices: pd.DataFrame,
                 period: str) -> pd.DataFrame:
    """``job_id, commitment_number, invoiced``: the ERP's invoiced to date at the end of
    ``period`` for every commitment of ``erp_commitments`` (rule in the module docstring)."""
    check_period(period)
    com = pd.DataFrame({"job_id": _text(erp_commitments["job_id"]),
                        "commitment_number": _text(erp_commitments["commitment_number"]),
                        "_today": _cents(_col(erp_commitments, "invoiced", 0))})
    m = com.merge(_later_ap(ap_invoices, period), on=KEY, how="left")
    m["invoiced"] = m["_today"] - m["_later_ap"].fillna(0).astype("int64")
    return m[[*KEY, "invoiced"]].reset_index(drop=True)
