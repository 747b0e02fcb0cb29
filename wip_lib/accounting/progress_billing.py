"""Progress billing: the owner's AIA G702/G703 application for a period, and the review of a pay
application's G703 before it goes out (or is approved).

G703, the continuation sheet (AIA G703-1992), one row per line (columns are read by their header
text, never their letter: :data:`wip_lib.sources.formats.G703`):

- ``C`` scheduled value; ``D`` work completed from the previous application (= the previous
  application's ``D + E`` on the same line); ``E`` work completed this period; ``F`` materials
  presently stored (not in D or E);
- ``G = D + E + F`` total completed and stored to date; ``% = G / C``; ``H = C - G`` balance to
  finish; ``I`` retainage to date on the line.

G702, the application and certificate for payment, from a G703 and its contract
(:func:`g702_table`; :func:`g702_lines` for one document):

1. original contract sum;  2. net change by change orders approved by the period end;
3. contract sum to date ``= 1 + 2``;  4. total completed and stored to date ``= sum(G)``;
5. retainage ``= sum(I)``: 5b on stored material ``= round_half_up(rate * sum(F))`` at the
   application's rate, 5a on completed work ``= 5 - 5b``;
6. total earned less retainage ``= 4 - 5``;  7. less previous certificates for payment (line 6 of
   the previous application);  8. current payment due ``= 6 - 7``;
9. balance to finish, including retainage ``= 3 - 6``.

The draft G703 of a period (:func:`draft`), one per job and prime contract
------------------------------------------------------------------------------
- Lines: the prime contract's schedule of values (``prime_contract_lines``), then one line per
  prime change order approved by the period end (item ``CO-<number>``, "Change Order <number> -
  <title>", its amount as the scheduled value). A contract without an exported schedule of values
  takes the lines of the period's pay application (or, failing that, the previous one) as they
  are, and says so (``sov_source``).
- The application drafted: the contract's latest pay application billed in the period (its
  "period application"); with ``progress: wip`` a contract of a job still in progress without one
  gets application ``last + 1``. Its previous application is the latest earlier one that is not
  draft, void, rejected or revise-and-resubmit (:data:`NOT_CERTIFIED`).
- Lines are matched across documents by item number (trimmed, any case), then by description.
- ``D`` = the previous application's ``D + E`` on the line (0 for a new line). Progress, the
  company's choice (``company.yaml: billing: progress``):
  ``procore``: work to date = the period application's ``G - F`` on the line (a line it does not
  bill: ``D``), ``F`` = its ``F``;
  ``wip``: work to date = ``round_half_up(C * p)``, ``p`` the line's cost progress
  (:func:`cost_progress`), ``F`` = the period application's ``F`` (stored materials are not
  cost progress).
  ``E = work to date - D`` (negative when the measure is behind what was billed: a credit);
  ``G = D + E + F``.
- ``I`` = the previous application's ``I`` on the line ``+ round_half_up(rate * (G - G_prev))``,
  the rate in force for the application (:mod:`wip_lib.accounting.retainage`). When the previous
  application has no G703 on file, its line 5 is spread over the lines in proportion to ``D``.
- G702 line 7 is the previous application's ``line 4 - line 5`` as Procore holds it.

Cost progress (:func:`cost_progress`): per job and cost code, ``p = cost to date / (cost to date +
ETC used)`` from the WIP model's forecast table, summed over cost types (0 with no cost; 1 when
the estimate is all spent); a line without a cost code uses the job's percent complete from the
WIP schedule.

Review of each pay application billed in the period (``(findings, problems)`` per check, like
the reconciliation's; :mod:`wip_lib.accounting.review_findings` for the columns)
-----------------------------------------------------------------------------------------------------
- ``line_over_100``: a line billed beyond its scheduled value: ``G > C`` (a deduct line:
  ``G < C``; a zero line: any ``G``). expected ``C``, actual ``G``.
- ``front_loading`` (owner applications): work billed on a line is ahead of its cost progress:
  ``(D + E) / C - p > front_loading_points``; expected ``round_half_up(C * p)``, actual ``D + E``.
- ``retainage``: retainage withheld this period not at the contract's rate: expected
  ``round_half_up(rate * W)``, actual the application's retainage this period, beyond the
  rounding tolerance; a release (negative retainage this period) is not a rate.
- ``does_not_foot``: the arithmetic: per line ``G = D + E + F``, ``H = C - G`` and ``D`` = the
  previous application's ``D + E`` (when its G703 is on file); per document G702 line 4 = ``sum(G)``
  and line 5 = ``sum(I)`` (when the G703 is on file), work this period = ``line 4 - previous
  line 4``, retainage this period = ``line 5 - previous line 5``, line 8 = ``line 6 - line 7``.
- ``stored_materials``: stored material that left storage must have been installed: on each
  line whose stored materials went down (``F < F_prev``), ``F >= F_prev - E`` (expected
  ``F_prev - E``, actual ``F``).
- ``contract_sum``: the G703's scheduled values add up to the contract sum to date at the
  application's period end (a line for an unapproved change order, a schedule of values that
  does not tie to the contract).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from wip_lib.accounting import retainage as rt
from wip_lib.accounting import review_findings as rf
from wip_lib.accounting.contract import contract_sum_at
from wip_lib.core.errors import Problem
from wip_lib.core.money import allocate, report_text
from wip_lib.core.periods import check_period, period_end

NOT_CERTIFIED = {"draft", "void", "rejected", "revise_and_resubmit"}
PROGRESS = ("procore", "wip")
LINE_MONEY = ["scheduled_value", "from_previous_application", "this_period", "materials_stored",
              "total_completed_to_date", "balance_to_finish", "retainage"]
G702_LINES = ["line_1", "line_2", "line_3", "line_4", "line_5a", "line_5b", "line_5", "line_6",
              "line_7", "line_8", "line_9"]
G702_TEXT = {
    "line_1": "1. Original contract sum",
    "line_2": "2. Net change by change orders",
    "line_3": "3. Contract sum to date (line 1 + 2)",
    "line_4": "4. Total completed and stored to date (column G)",
    "line_5a": "5a. Retainage on completed work (columns D + E)",
    "line_5b": "5b. Retainage on stored material (column F)",
    "line_5": "5. Total retainage (column I)",
    "line_6": "6. Total earned less retainage (line 4 - 5)",
    "line_7": "7. Less previous certificates for payment",
    "line_8": "8. Current payment due (line 6 - 7)",
    "line_9": "9. Balance to finish, including retainage (line 3 - 6)",
}
OWNER_CHECKS_ORDER = ["line_over_100", "over_commitment", "front_loading", "retainage",
                      "does_not_foot", "stored_materials", "contract_sum", "lien_waiver",
                      "missing_from_ar"]


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def _key(s: pd.Series) -> pd.Series:
    return _text(s).str.casefold().str.replace(r"\s+", " ", regex=True)


# == G702 ========================================================================================

def g702_table(g703: pd.DataFrame, documents: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """G702 lines 1-9 (module rules) of each document: ``g703`` holds the lines (``keys`` and
    the G703 money columns), ``documents`` one row per document with ``keys``, ``original``,
    ``change_orders``, ``previous_certificates`` and ``rate_ppm`` (for line 5b)."""
    sums = g703.groupby(keys, as_index=False, sort=False)[
        ["total_completed_to_date", "retainage", "materials_stored"]].sum()
    d = documents.merge(sums, on=keys, how="left")
    for c in ("total_completed_to_date", "retainage", "materials_stored"):
        d[c] = d[c].fillna(0).astype("int64")
    out = d[keys].copy()
    out["line_1"] = d["original"].astype("int64")
    out["line_2"] = d["change_orders"].astype("int64")
    out["line_3"] = out["line_1"] + out["line_2"]
    out["line_4"] = d["total_completed_to_date"]
    out["line_5"] = d["retainage"]
    out["line_5b"] = rt.withheld(d["materials_stored"], d["rate_ppm"]).to_numpy()
    out["line_5a"] = out["line_5"] - out["line_5b"]
    out["line_6"] = out["line_4"] - out["line_5"]
    out["line_7"] = d["previous_certificates"].astype("int64")
    out["line_8"] = out["line_6"] - out["line_7"]
    out["line_9"] = out["line_3"] - out["line_6"]
    return out[[*keys, *G702_LINES]]


def g702_lines(g703: pd.DataFrame, *, original: int, change_orders: int,
               previous_certificates: int, rate_ppm: int = 0) -> dict[str, int]:
    """G702 lines 1-9 of one G703 (see :func:`g702_table`): ``{'line_1': ..., 'line_9': ...}``."""
    lines = g703.assign(_doc=1)
    doc = pd.DataFrame({"_doc": [1], "original": [original], "change_orders": [change_orders],
                        "previous_certificates": [previous_certificates],
                        "rate_ppm": [rate_ppm]})
    row = g702_table(lines, doc, ["_doc"]).iloc[0]
    return {k: int(row[k]) for k in G702_LINES}


# == Pay applications and their lines =============================================================

def applications(invoices: pd.DataFrame, contract: str) -> pd.DataFrame:
    """Pay applications (``owner_invoices`` or ``subcontractor_invoices``) with the contract
    column named ``contract``, keys trimmed, ``status`` in lower case, ``reference`` (the invoice
    #, else ``application N``) and the previous certified application's figures
    (``prev_application``, ``prev_g``, ``prev_ret``; 0 for the first): module rules."""
    a = invoices.rename(columns={contract: "contract"}).copy()
    a["job_id"] = _text(a["job_id"])
    a["contract"] = _text(a["contract"])
    a["status"] = _text(a["status"]).str.lower()
    a["application_number"] = a["application_number"].astype("int64")
    inv = _text(a["invoice_number"])
    a["reference"] = inv.mask(inv == "", "application " + a["application_number"].astype(str))
    a["_pos"] = np.arange(len(a))
    certified = a.loc[~a["status"].isin(NOT_CERTIFIED).to_numpy(bool),
                      ["job_id", "contract", "application_number", "total_completed_to_date",
                       "retainage_to_date"]]
    certified = certified.rename(columns={"application_number": "prev_application",
                                          "total_completed_to_date": "prev_g",
                                          "retainage_to_date": "prev_ret"})
    left = a.sort_values("application_number", kind="stable")
    right = certified.sort_values("prev_application", kind="stable")
    m = pd.merge_asof(left, right, left_on="application_number", right_on="prev_application",
                      by=["job_id", "contract"], allow_exact_matches=False,
                      direction="backward")
    m = m.sort_values("_pos", kind="stable").reset_index(drop=True)
    m["prev_application"] = m["prev_application"].astype("Int64")
    for c in ("prev_g", "prev_ret"):
        m[c] = m[c].fillna(0).astype("int64")
    return m.drop(columns="_pos")


def g703_lines(lines: pd.DataFrame, contract: str) -> pd.DataFrame:
    """G703 lines with the contract column named ``contract`` and a matching key ``_item`` (the
    item number, else ``#`` and the line's position) and ``_desc``."""
    g = lines.rename(columns={contract: "contract"}).copy()
    g["job_id"] = _text(g["job_id"])
    g["contract"] = _text(g["contract"])
    g["application_number"] = g["application_number"].astype("int64")
    item = _key(g["item_number"])
    g["_item"] = item.mask(item == "", "#" + g["line_number"].astype("string"))
    g["_desc"] = _key(g["description"])
    return g


def match_lines(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> pd.Series:
    """For each row of ``left``, the index label of the ``right`` row of the same ``keys`` with
    the same item number, else the same description (one to one); <NA> when none."""
    out = pd.Series(pd.NA, index=left.index, dtype="Int64")
    if left.empty or right.empty:
        return out
    r = right.assign(_ri=right.index.to_numpy())
    l_ = left.assign(_li=left.index.to_numpy())
    taken: set = set()
    for col in ("_item", "_desc"):
        todo = l_[out.reindex(l_.index).isna().to_numpy()]
        avail = r[~r["_ri"].isin(taken)]
        avail = avail[avail[col] != ""].drop_duplicates([*keys, col], keep=False)
        todo = todo[todo[col] != ""].drop_duplicates([*keys, col], keep=False)
        m = todo[[*keys, col, "_li"]].merge(avail[[*keys, col, "_ri"]], on=[*keys, col])
        out.loc[m["_li"].to_numpy()] = m["_ri"].to_numpy()
        taken |= set(m["_ri"].tolist())
    return out


def code_of_budget_code(budget_code: pd.Series) -> pd.Series:
    """The cost code of a G703 line's budget code as Procore exports it (``[SUBJOB.]CODE.TYPE``;
    a bare code reads as itself)."""
    parts = _text(budget_code).str.split(".")
    n = parts.str.len().fillna(0).astype("int64")
    code = parts.str[-2].where(n >= 2, parts.str[0])
    return code.astype("string").fillna("")


def cost_progress(forecast: pd.DataFrame, schedule: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                            pd.DataFrame]:
    """``(per cost code, per job)`` progress ``p`` (module rules): ``job_id, cost_code, p`` from
    the forecast table and ``job_id, p`` from the WIP schedule's ``pct_complete``."""
    f = forecast.assign(job_id=_text(forecast["job_id"]), cost_code=_text(forecast["cost_code"]))
    by = f.groupby(["job_id", "cost_code"], as_index=False)[["cost_to_date", "eac_used"]].sum()
    ctd = by["cost_to_date"].astype("float64")
    eac = by["eac_used"].astype("float64")
    p = np.where(eac > 0, np.minimum(ctd / eac.where(eac > 0, 1.0), 1.0),
                 np.where(ctd > 0, 1.0, 0.0))
    codes = pd.DataFrame({"job_id": by["job_id"], "cost_code": by["cost_code"],
                          "p": np.clip(p, 0.0, 1.0)})
    s = schedule
    jobs = pd.DataFrame({"job_id": _text(s["job_id"]),
                         "p": pd.to_numeric(s["pct_complete"], errors="coerce")
                         .astype("float64").fillna(0.0).clip(0.0, 1.0).to_numpy()})
    return codes, jobs


def line_progress(lines: pd.DataFrame, codes: pd.DataFrame, jobs: pd.DataFrame) -> pd.Series:
    """Each line's ``p``: its cost code's, else its job's (0 when neither is known)."""
    by_code = lines[["job_id", "cost_code"]].merge(codes, on=["job_id", "cost_code"],
                                                   how="left")["p"]
    by_job = lines[["job_id"]].merge(jobs, on="job_id", how="left")["p"]
    p = by_code.where(lines["cost_code"].to_numpy() != "", np.nan).fillna(by_job).fillna(0.0)
    return pd.Series(p.to_numpy(dtype="float64"), index=lines.index)


def at_progress(scheduled: pd.Series, p: pd.Series) -> pd.Series:
    """``round_half_up(C * p)`` in cents, with ``p`` taken to 6 decimals (a millionth of a point;
    exact integer arithmetic from there)."""
    ppm = np.rint(p.to_numpy(dtype="float64") * rt.PPM).astype("int64")
    return rt.withheld(scheduled.astype("int64"), pd.Series(ppm, index=scheduled.index))


# == The review ====================================================================================

@dataclass(frozen=True, eq=False)
class Review:
    """What every check of a review sees: the pay applications billed in the period with their
    previous certified application and rate, their G703 lines with the previous application's
    figures on the same line, and the company's thresholds."""

    period: str
    direction: str  # "owner" or "subcontractor"
    apps: pd.DataFrame = field(repr=False)
    lines: pd.DataFrame = field(repr=False)
    materiality: Mapping = field(default_factory=dict)
    front_loading_points: float = 0.10
    #: per line ``p`` for the front-loading check (owner), aligned with ``lines``; None: skipped
    progress: pd.Series | None = field(default=None, repr=False)


Check = Callable[[Review], "tuple[pd.DataFrame, list[Problem]]"]


def prepare(period: str, direction: str, apps: pd.DataFrame, lines: pd.DataFrame,
            contract_sum: Callable[[pd.DataFrame], pd.Series], rules: pd.DataFrame,
            materiality: Mapping, front_loading_points: float = 0.10) -> Review:
    """The :class:`Review` of the applications of ``apps`` (from :func:`applications`) billed in
    ``period``: ``lines`` from :func:`g703_lines`; ``contract_sum(apps)`` gives each
    application's contract sum to date; ``rules`` (``job_id``, ``contract``, ``retainage_rule``,
    ``retainage_percent``) the contract's retainage rule."""
    period = check_period(period)
    end = period_end(period)
    start = pd.Period(period, freq="M").start_time
    billed = pd.to_datetime(apps["billing_date"])
    reviewed = apps[((billed >= start) & (billed <= end)).to_numpy(bool)].copy()
    reviewed["contract_sum"] = contract_sum(reviewed).to_numpy()
    r = reviewed[["job_id", "contract"]].merge(
        rules.drop_duplicates(["job_id", "contract"]), on=["job_id", "contract"], how="left")
    parsed = rt.parse_rules(r["retainage_rule"].fillna("flat"), r["retainage_percent"].fillna(0))
    reviewed["rule_understood"] = parsed["understood"].to_numpy()
    reviewed["rate_ppm"] = rt.application_rate(
        parsed, pd.Series(reviewed["prev_g"].to_numpy()), pd.Series(
            reviewed["contract_sum"].to_numpy())).to_numpy()
    keys = ["job_id", "contract", "application_number"]
    n = lines.groupby(keys).size().rename("n_lines").reset_index()
    reviewed = reviewed.merge(n, on=keys, how="left")
    reviewed["has_lines"] = reviewed["n_lines"].notna()
    reviewed["n_lines"] = reviewed["n_lines"].fillna(0).astype("int64")
    reviewed = reviewed.reset_index(drop=True)

    # The lines of the reviewed applications, with the previous application's on the same line.
    mine = lines.merge(reviewed[[*keys, "reference", "prev_application", "period_end"]],
                       on=keys, how="inner")
    prev_keys = reviewed[["job_id", "contract", "prev_application"]].dropna().astype(
        {"prev_application": "int64"}).rename(columns={"prev_application":
                                                      "application_number"})
    prev = lines.merge(prev_keys, on=keys, how="inner")
    mine = mine.reset_index(drop=True)
    mine["_prev_app"] = mine["prev_application"].fillna(-1).astype("int64")
    prev = prev.rename(columns={"application_number": "_prev_app"}).reset_index(drop=True)
    hit = match_lines(mine, prev, ["job_id", "contract", "_prev_app"])
    on_file = prev[["job_id", "contract", "_prev_app"]].drop_duplicates().assign(_on=True)
    mine["prev_on_file"] = mine[["job_id", "contract", "_prev_app"]].merge(
        on_file, how="left", on=["job_id", "contract", "_prev_app"])["_on"].fillna(
        False).astype(bool).to_numpy()
    for c, src in (("prev_d", "from_previous_application"), ("prev_e", "this_period"),
                   ("prev_f", "materials_stored"), ("prev_i", "retainage")):
        vals = prev[src].reindex(hit.fillna(-1).astype("int64").to_numpy())
        mine[c] = pd.Series(vals.to_numpy(), index=mine.index).fillna(0).astype("int64")
    mine["prev_matched"] = hit.notna().to_numpy()
    mine["cost_code"] = code_of_budget_code(mine["budget_code"])
    return Review(period, direction, reviewed, mine, dict(materiality), front_loading_points)


def _rows(df: pd.DataFrame, **cols) -> pd.DataFrame:
    base = {"job_id": df["job_id"], "reference": df["reference"], "contract": df["contract"],
            "application_number": df["application_number"]}
    base.update(cols)
    return pd.DataFrame(base, index=df.index)


def _what(review: Review) -> str:
    return "pay application" if review.direction == "owner" else "subcontractor pay application"


def line_over_100(review: Review):
    """A G703 line billed beyond its scheduled value (``G > C``; a deduct line ``G < C``)."""
    g = review.lines
    c, t = g["scheduled_value"], g["total_completed_to_date"]
    over = ((c > 0) & (t > c)) | ((c < 0) & (t < c)) | ((c == 0) & (t != 0))
    bad = g[over.to_numpy(bool)]
    if bad.empty:
        return rf.empty(), []
    pct = (bad["total_completed_to_date"] / bad["scheduled_value"].where(
        bad["scheduled_value"] != 0)).map(lambda v: "" if pd.isna(v) else f" ({v:.1%})")
    f = _rows(bad, line=bad["item_number"], cost_code=bad["cost_code"],
              expected=bad["scheduled_value"], actual=bad["total_completed_to_date"])
    f["action"] = ("Reduce line " + bad["item_number"] + " of " + _what(review) + " "
                   + bad["reference"] + " to its scheduled value "
                   + report_text(bad["scheduled_value"]) + ", or back the excess with an "
                   "approved change order.")
    f["detail"] = ("'" + bad["description"].astype("string") + "' billed "
                   + report_text(bad["total_completed_to_date"]) + " to date" + pct
                   + " against a scheduled value of " + report_text(bad["scheduled_value"]))
    return rf.finish("line_over_100", f, review.materiality), []


def front_loading(review: Review):
    """Work billed on a line ahead of the line's cost progress by more than the threshold."""
    if review.progress is None:
        return rf.empty(), []
    g = review.lines
    p = review.progress
    work = g["from_previous_application"] + g["this_period"]
    c = g["scheduled_value"]
    ahead = (c > 0) & ((work.astype("float64") / c.where(c > 0, 1).astype("float64")) - p
                       > review.front_loading_points + 1e-12)
    bad = g[ahead.to_numpy(bool)]
    if bad.empty:
        return rf.empty(), []
    earned = at_progress(bad["scheduled_value"], p[bad.index])
    billed = work[bad.index]
    f = _rows(bad, line=bad["item_number"], cost_code=bad["cost_code"], expected=earned,
              actual=billed)
    pts = (billed / bad["scheduled_value"] - p[bad.index]) * 100
    f["action"] = ("Hold line " + bad["item_number"] + " of " + bad["reference"] + " to its "
                   "cost progress (" + report_text(earned) + " to date), or document the "
                   "progress it bills; it bills " + report_text(billed - earned) + " ahead.")
    f["detail"] = ("Billed " + (billed / bad["scheduled_value"]).map("{:.1%}".format)
                   + " of the line, cost progress " + p[bad.index].map("{:.1%}".format) + " ("
                   + pts.map("{:.1f}".format) + " points ahead)")
    return rf.finish("front_loading", f, review.materiality, severity="warning"), []


def retainage(review: Review):
    """Retainage withheld this period not at the contract's rate (beyond the rounding)."""
    a = review.apps
    problems = []
    work = a["total_completed_to_date"] - a["prev_g"]
    expected = rt.withheld(work, a["rate_ppm"])
    actual = a["retainage_this_period"].astype("int64")
    tol = rt.rounding_tolerance(a["n_lines"])
    bad = ((actual - expected).abs() > tol) & (actual >= 0) & a["rule_understood"].astype(bool)
    b = a[bad.to_numpy(bool)]
    if b.empty:
        return rf.empty(), problems
    rate = (b["rate_ppm"] / rt.PPM).map(lambda v: f"{v:.2%}".replace(".00%", "%"))
    f = _rows(b, line="G702 line 5", expected=expected[b.index], actual=actual[b.index])
    f["action"] = ("Withhold " + report_text(expected[b.index]) + " (" + rate + " of "
                   + report_text(work[b.index]) + " billed this period) on " + b["reference"]
                   + " instead of " + report_text(actual[b.index]) + ".")
    f["detail"] = ("Rate in force " + rate + " (previous application billed "
                   + report_text(b["prev_g"]) + " of a contract sum of "
                   + report_text(b["contract_sum"]) + "); retainage to date "
                   + report_text(b["retainage_to_date"]))
    return rf.finish("retainage", f, review.materiality), problems


def does_not_foot(review: Review):
    """The arithmetic of the G703 and the G702 (module rules)."""
    out = []
    g = review.lines
    d, e, fm = g["from_previous_application"], g["this_period"], g["materials_stored"]
    checks = [
        ("G = D + E + F", g["total_completed_to_date"], d + e + fm, None),
        ("H = C - G", g["balance_to_finish"], g["scheduled_value"] - g["total_completed_to_date"],
         None),
        ("D = previous D + E", d, g["prev_d"] + g["prev_e"], g["prev_on_file"].astype(bool)),
    ]
    for rule, actual, expected, only in checks:
        bad = actual != expected
        if only is not None:
            bad &= only
        b = g[bad.to_numpy(bool)]
        if b.empty:
            continue
        f = _rows(b, line=b["item_number"], cost_code=b["cost_code"], expected=expected[b.index],
                  actual=actual[b.index])
        f["detail"] = f"{rule} on the G703 line: " + ("'" + b["description"] + "'")
        f["action"] = ("Correct line " + b["item_number"] + " of " + b["reference"] + ": "
                       + rule + " gives " + report_text(expected[b.index]) + ", the line says "
                       + report_text(actual[b.index]) + ".")
        out.append(rf.finish("does_not_foot", f, review.materiality))
    a = review.apps
    keys = ["job_id", "contract", "application_number"]
    sums = g.groupby(keys)[["total_completed_to_date", "retainage"]].sum()
    at = pd.MultiIndex.from_frame(a[keys])
    g4 = sums["total_completed_to_date"].reindex(at).to_numpy()
    g5 = sums["retainage"].reindex(at).to_numpy()
    has = a["has_lines"].to_numpy(bool)
    doc = [
        ("G702 line 4", "line 4 = sum of column G", a["total_completed_to_date"],
         pd.Series(np.nan_to_num(g4.astype("float64")).astype("int64"), index=a.index), has),
        ("G702 line 5", "line 5 = sum of column I", a["retainage_to_date"],
         pd.Series(np.nan_to_num(g5.astype("float64")).astype("int64"), index=a.index), has),
        ("work this period", "work this period = line 4 - previous line 4",
         a["work_completed_this_period"], a["total_completed_to_date"] - a["prev_g"], None),
        ("retainage this period", "retainage this period = line 5 - previous line 5",
         a["retainage_this_period"], a["retainage_to_date"] - a["prev_ret"], None),
        ("G702 line 8", "line 8 = line 6 - line 7 (previous certificates)", a["amount_due"],
         (a["total_completed_to_date"] - a["retainage_to_date"]) - (a["prev_g"] - a["prev_ret"]),
         None),
    ]
    for line, rule, actual, expected, only in doc:
        bad = (actual.astype("int64") != expected.astype("int64")).to_numpy(bool).copy()
        if only is not None:
            bad &= only
        b = a[bad]
        if b.empty:
            continue
        f = _rows(b, line=line, expected=expected[b.index], actual=actual[b.index])
        f["detail"] = f"{rule}; previous certified application: " + b["prev_application"].astype(
            "string").fillna("none")
        f["action"] = ("Correct " + line + " of " + b["reference"] + " to "
                       + report_text(expected[b.index]) + " (" + rule + "); it says "
                       + report_text(actual[b.index]) + ".")
        out.append(rf.finish("does_not_foot", f, review.materiality))
    return (pd.concat(out, ignore_index=True) if out else rf.empty()), []


def stored_materials(review: Review):
    """Stored material that left storage without being installed this period."""
    g = review.lines
    floor = g["prev_f"] - g["this_period"]
    bad = (g["prev_matched"].astype(bool) & (g["materials_stored"] < g["prev_f"])
           & (g["materials_stored"] < floor))
    b = g[bad.to_numpy(bool)]
    if b.empty:
        return rf.empty(), []
    f = _rows(b, line=b["item_number"], cost_code=b["cost_code"], expected=floor[b.index],
              actual=b["materials_stored"])
    f["detail"] = ("Stored on the previous application " + report_text(b["prev_f"])
                   + ", installed this period " + report_text(b["this_period"])
                   + ", still stored " + report_text(b["materials_stored"]))
    f["action"] = ("Ask where " + report_text(floor[b.index] - b["materials_stored"]) + " of "
                   "the materials stored on line " + b["item_number"] + " of " + b["reference"]
                   + " went: bill them as installed work or show them still stored.")
    return rf.finish("stored_materials", f, review.materiality), []


def contract_sum(review: Review):
    """The G703's scheduled values against the contract sum to date."""
    a = review.apps
    keys = ["job_id", "contract", "application_number"]
    sums = review.lines.groupby(keys)["scheduled_value"].sum()
    c = sums.reindex(pd.MultiIndex.from_frame(a[keys])).to_numpy()
    has = a["has_lines"].to_numpy(bool)
    total = pd.Series(np.nan_to_num(c.astype("float64")).astype("int64"), index=a.index)
    bad = has & (total != a["contract_sum"]).to_numpy(bool)
    b = a[bad]
    if b.empty:
        return rf.empty(), []
    what = "contract" if review.direction == "owner" else "commitment"
    f = _rows(b, line="column C", expected=b["contract_sum"], actual=total[b.index])
    f["detail"] = ("Scheduled values add up to " + report_text(total[b.index]) + "; the " + what
                   + " with its change orders approved by "
                   + pd.to_datetime(b["period_end"]).dt.strftime("%Y-%m-%d") + " is "
                   + report_text(b["contract_sum"]))
    f["action"] = ("Make the schedule of values of " + b["reference"] + " add up to the " + what
                   + " sum to date " + report_text(b["contract_sum"]) + ": remove lines for "
                   "change orders not approved, or approve them first.")
    return rf.finish("contract_sum", f, review.materiality), []


OWNER_CHECKS: list[Check] = [line_over_100, front_loading, retainage, does_not_foot,
                             stored_materials, contract_sum]


def run(review: Review, checks: list[Check]) -> tuple[pd.DataFrame, list[Problem]]:
    """Run ``checks`` on ``review``; the findings stacked and sorted."""
    frames, problems = [], []
    for check in checks:
        found, probs = check(review)
        frames.append(found)
        problems += probs
    return rf.stack(frames, OWNER_CHECKS_ORDER), problems


def owner_review(company, period: str, codes: pd.DataFrame | None = None,
                 jobs: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """The review of every owner pay application billed in ``period`` (module rules). ``codes``
    and ``jobs``: :func:`cost_progress` (without them the front-loading check is skipped)."""
    review = owner_review_context(company, period, codes, jobs)
    found, problems = run(review, OWNER_CHECKS)
    return found, problems + rule_problems(company)


def rule_problems(company) -> list[Problem]:
    pc = company["prime_contracts"]
    return rt.rule_problems(pc, rt.parse_rules(pc["retainage_rule"], pc["retainage_percent"]),
                            "procore/prime_contracts.csv")


def owner_review_context(company, period: str, codes: pd.DataFrame | None = None,
                         jobs: pd.DataFrame | None = None) -> Review:
    apps = applications(company["owner_invoices"], "contract_number")
    lines = g703_lines(company["owner_invoice_lines"], "contract_number")
    pc = company["prime_contracts"]
    rules = pd.DataFrame({"job_id": _text(pc["job_id"]), "contract": _text(pc["contract_number"]),
                          "retainage_rule": pc["retainage_rule"],
                          "retainage_percent": pc["retainage_percent"]})
    settings = company.settings
    billing = dict(getattr(settings, "billing", {}) or {})
    review = prepare(period, "owner", apps, lines,
                     lambda a: contract_sum_at(company, a.rename(
                         columns={"contract": "contract_number"})),
                     rules, settings.materiality, float(billing.get("front_loading_points",
                                                                    0.10)))
    if codes is not None and jobs is not None:
        g = review.lines.copy()
        sov = company["prime_contract_lines"]
        # a line without a budget code takes its cost code from the SOV line of its item number
        s = pd.DataFrame({"job_id": _text(sov["job_id"]), "contract": _text(sov["contract_number"]),
                          "_item": _key(sov["line_number"].astype("string")),
                          "_sov_code": _text(sov["cost_code"])}).drop_duplicates(
            ["job_id", "contract", "_item"])
        got = g[["job_id", "contract", "_item"]].merge(s, on=["job_id", "contract", "_item"],
                                                       how="left")["_sov_code"].fillna("")
        g["cost_code"] = g["cost_code"].mask(g["cost_code"] == "", got.to_numpy())
        review = Review(review.period, review.direction, review.apps, g, review.materiality,
                        review.front_loading_points, line_progress(g, codes, jobs))
    return review


# == The draft ====================================================================================

@dataclass
class Draft:
    """The draft G703/G702 of one job and prime contract (module rules)."""

    job_id: str
    contract: str
    application_number: int
    invoice_number: str  # the period application's, "" when drafting a new one
    period: str
    period_end: pd.Timestamp
    progress: str
    sov_source: str
    rate_ppm: int
    lines: pd.DataFrame  # item_number, description, cost_code + G703 money columns, pct
    g702: dict[str, int]
    previous_application: int | None = None


def draft(company, period: str, progress: str = "procore", codes: pd.DataFrame | None = None,
          jobs: pd.DataFrame | None = None) -> tuple[list[Draft], list[Problem]]:
    """The draft G703 and G702 of every job and prime contract for ``period`` (module rules)."""
    if progress not in PROGRESS:
        raise ValueError(f"progress must be one of {PROGRESS}")
    if progress == "wip" and (codes is None or jobs is None):
        raise ValueError("progress 'wip' needs the cost progress (cost_progress)")
    period = check_period(period)
    end = period_end(period)
    apps = applications(company["owner_invoices"], "contract_number")
    lines = g703_lines(company["owner_invoice_lines"], "contract_number")
    start = pd.Period(period, freq="M").start_time
    billed = pd.to_datetime(apps["billing_date"])
    in_period = apps[((billed >= start) & (billed <= end)).to_numpy(bool)]
    target = (in_period.sort_values("application_number", kind="stable")
              .groupby(["job_id", "contract"], as_index=False).last())
    target = target.assign(_new=False)
    pc = company["prime_contracts"]
    contracts = pd.DataFrame({"job_id": _text(pc["job_id"]),
                              "contract": _text(pc["contract_number"])}).drop_duplicates()
    if progress == "wip":
        j = company["jobs"]
        active = set(_text(j.loc[_text(j["status"]).str.lower() != "complete", "job_id"]))
        todo = contracts[contracts["job_id"].isin(active)]
        have = set(zip(target["job_id"], target["contract"]))
        todo = todo[[(a, b) not in have for a, b in zip(todo["job_id"], todo["contract"])]]
        upto = apps[(billed <= end).to_numpy(bool) & ~apps["status"].isin(NOT_CERTIFIED)]
        last = upto.groupby(["job_id", "contract"])["application_number"].max()
        new = todo.assign(application_number=[int(last.get((a, b), 0)) + 1 for a, b in
                                              zip(todo["job_id"], todo["contract"])],
                          invoice_number="", _new=True, period_end=end)
        prev = upto.drop(columns=["prev_application", "prev_g", "prev_ret"]).rename(
            columns={"application_number": "prev_application",
                                    "total_completed_to_date": "prev_g",
                                    "retainage_to_date": "prev_ret"})
        prev = prev.sort_values("prev_application").groupby(["job_id", "contract"],
                                                             as_index=False).last()
        new = new.merge(prev[["job_id", "contract", "prev_application", "prev_g", "prev_ret"]],
                        on=["job_id", "contract"], how="left")
        target = pd.concat([target, new], ignore_index=True)
    if target.empty:
        return [], []
    target = target.reset_index(drop=True)
    target["prev_g"] = target["prev_g"].fillna(0).astype("int64")
    target["prev_ret"] = target["prev_ret"].fillna(0).astype("int64")
    target["prev_application"] = target["prev_application"].astype("Int64")
    target["period_end"] = end
    target["_doc"] = np.arange(len(target))
    k = ["job_id", "contract"]

    # 1. The lines of each draft: the SOV and approved change orders, else an application's.
    sov = company["prime_contract_lines"]
    sov = pd.DataFrame({"job_id": _text(sov["job_id"]), "contract": _text(sov["contract_number"]),
                        "line_number": sov["line_number"].astype("int64"),
                        "item_number": sov["line_number"].astype("int64").astype("string"),
                        "description": _text(sov["description"]),
                        "cost_code": _text(sov["cost_code"]),
                        "scheduled_value": sov["amount"].astype("int64")})
    sov = sov.sort_values([*k, "line_number"], kind="stable")
    co = company["prime_change_orders"]
    co = co[(_text(co["status_family"]).str.lower() == "approved").to_numpy(bool)
            & (co["approved_date"].isna() | (co["approved_date"] <= end)).to_numpy(bool)]
    co = pd.DataFrame({"job_id": _text(co["job_id"]), "contract": _text(co["contract_number"]),
                       "line_number": 100_000 + np.arange(len(co)),
                       "item_number": "CO-" + _text(co["co_number"]),
                       "description": "Change Order " + _text(co["co_number"]) + " - "
                       + _text(co["title"]),
                       "cost_code": "", "scheduled_value": co["amount"].astype("int64")})
    co = co.sort_values([*k, "item_number"], kind="stable")
    with_sov = target[k].merge(sov[k].drop_duplicates(), on=k, how="inner")
    from_sov = pd.concat([sov, co], ignore_index=True).merge(target[[*k, "_doc"]], on=k)
    from_sov = from_sov.merge(with_sov, on=k)
    source = pd.Series("prime contract schedule of values and approved change orders",
                       index=target.index)
    # contracts without an SOV: the period application's lines, else the previous one's
    no_sov = target[~target.set_index(k).index.isin(with_sov.set_index(k).index)]
    fallback = []
    for col, label in (("application_number", "pay application"),
                       ("prev_application", "previous pay application")):
        need = no_sov[~no_sov["_doc"].isin([d for f in fallback for d in f["_doc"].unique()])]
        need = need.dropna(subset=[col])
        if need.empty:
            continue
        got = lines.merge(need[[*k, col, "_doc"]].rename(columns={col: "application_number"})
                          .astype({"application_number": "int64"}), on=[*k, "application_number"])
        got = got.assign(cost_code=code_of_budget_code(got["budget_code"]))
        if len(got):
            fallback.append(got[[*k, "line_number", "item_number", "description", "cost_code",
                                 "scheduled_value", "_doc"]])
            for doc, app in zip(need["_doc"], need[col]):
                if doc in set(got["_doc"]):
                    source[doc] = f"{label} {int(app)} (no prime contract SOV exported)"
    d = pd.concat([from_sov, *fallback], ignore_index=True) if fallback else from_sov
    problems: list[Problem] = []
    missing = target[~target["_doc"].isin(d["_doc"])]
    for r in missing.itertuples():
        problems.append(Problem("procore/prime_contract_lines.csv", f"job {r.job_id} contract "
                                f"{r.contract}: no schedule of values to draft the G703 from "
                                "(no SOV exported and no pay application with a G703 on file)",
                                "export the prime contract's schedule of values to "
                                "procore/prime_contract_lines.csv, or the pay application's "
                                "CSV to procore/owner_invoices/JOB/CONTRACT/APPLICATION.csv",
                                severity="warning"))
    if d.empty:
        return [], problems
    d = d.sort_values(["_doc", "line_number"], kind="stable").reset_index(drop=True)
    d["item_number"] = _text(d["item_number"])
    d["description"] = _text(d["description"])
    d["_item"] = _key(d["item_number"])
    d["_desc"] = _key(d["description"])
    d["application_number"] = d["_doc"].map(target["application_number"]).astype("int64")
    d["prev_application"] = d["_doc"].map(target["prev_application"]).astype("Int64")

    # 2. Match the draft's lines to the period application's and the previous one's.
    cur = lines.merge(target.loc[~target["_new"].astype(bool), [*k, "application_number",
                                                                "_doc"]],
                      on=[*k, "application_number"])
    hit = match_lines(d, cur.set_index(cur.index), ["_doc"])
    pl = lines.merge(target.dropna(subset=["prev_application"])[[*k, "prev_application", "_doc"]]
                     .astype({"prev_application": "int64"})
                     .rename(columns={"prev_application": "application_number"}),
                     on=[*k, "application_number"])
    phit = match_lines(d, pl, ["_doc"])
    prev_on_file = d["_doc"].isin(set(pl["_doc"]))

    def take(frame, idx, col):
        v = frame[col].reindex(idx.fillna(-1).astype("int64").to_numpy()).to_numpy()
        return pd.Series(v, index=d.index).fillna(0).astype("int64")

    c_d = take(cur, hit, "from_previous_application")
    c_g = take(cur, hit, "total_completed_to_date")
    c_f = take(cur, hit, "materials_stored")
    p_d, p_e = take(pl, phit, "from_previous_application"), take(pl, phit, "this_period")
    p_f, p_i = take(pl, phit, "materials_stored"), take(pl, phit, "retainage")
    c = d["scheduled_value"]
    # D: the previous application's D + E; without its G703, the period application's own D.
    dd = (p_d + p_e).where(prev_on_file, c_d)
    g_prev_line = (p_d + p_e + p_f).where(prev_on_file, c_d)
    if progress == "procore":
        work = (c_g - c_f).where(hit.notna(), dd)
    else:
        p = line_progress(d.assign(job_id=d["job_id"]), codes, jobs)
        work = at_progress(c, p)
    f_ = c_f.where(hit.notna(), 0)
    e = work - dd
    g = dd + e + f_
    # Retainage: the rate in force; the previous line's I (or line 5 spread over D).
    target["contract_sum"] = contract_sum_at(company, target.rename(
        columns={"contract": "contract_number"})).to_numpy()
    rules = pc.assign(job_id=_text(pc["job_id"]), contract=_text(pc["contract_number"]))
    rules = target[k].merge(rules.drop_duplicates(k), on=k, how="left")
    parsed = rt.parse_rules(rules["retainage_rule"].fillna("flat"),
                            rules["retainage_percent"].fillna(0))
    target["rate_ppm"] = rt.application_rate(parsed, target["prev_g"], target["contract_sum"])
    spread = allocate(d["_doc"].map(target["prev_ret"]).astype("int64"), dd, d["_doc"])
    prev_i = p_i.where(prev_on_file, spread)
    rate = d["_doc"].map(target["rate_ppm"]).astype("int64")
    i_ = prev_i + rt.withheld(g - g_prev_line, rate)
    out = pd.DataFrame({
        "_doc": d["_doc"], "job_id": d["job_id"], "contract": d["contract"],
        "item_number": d["item_number"], "description": d["description"],
        "cost_code": _text(d["cost_code"]), "scheduled_value": c.astype("int64"),
        "from_previous_application": dd, "this_period": e, "materials_stored": f_,
        "total_completed_to_date": g, "balance_to_finish": c - g, "retainage": i_})
    out["pct"] = (out["total_completed_to_date"] / out["scheduled_value"].where(
        out["scheduled_value"] != 0)).astype("float64")

    # 3. G702 of each draft.
    original = pc.assign(job_id=_text(pc["job_id"]), contract=_text(pc["contract_number"]))
    original = original.groupby(k)["original_amount"].sum()
    docs = target[[*k, "_doc", "contract_sum", "rate_ppm"]].copy()
    docs["original"] = original.reindex(pd.MultiIndex.from_frame(target[k])).fillna(0).astype(
        "int64").to_numpy()
    docs["change_orders"] = docs["contract_sum"] - docs["original"]
    docs["previous_certificates"] = (target["prev_g"] - target["prev_ret"]).to_numpy()
    table = g702_table(out, docs, ["_doc"]).set_index("_doc")
    drafts = []
    for doc, part in out.groupby("_doc", sort=True):
        t = target.loc[doc]
        drafts.append(Draft(
            job_id=str(t["job_id"]), contract=str(t["contract"]),
            application_number=int(t["application_number"]),
            invoice_number="" if bool(t["_new"]) else str(t["invoice_number"] or ""),
            period=period, period_end=end, progress=progress, sov_source=str(source[doc]),
            rate_ppm=int(t["rate_ppm"]),
            lines=part.drop(columns=["_doc"]).reset_index(drop=True),
            g702={kk: int(v) for kk, v in table.loc[doc].items()},
            previous_application=None if pd.isna(t["prev_application"])
            else int(t["prev_application"])))
    return drafts, problems
