"""Scale generator: a company folder of a chosen size, in the export formats of ``data/sample``.

``python -m benchmarks.scale --jobs 2000 --lines 5000000 --out benchmarks/data/scale-2000``

The sample generator (:mod:`wip_lib.sample.generate`) models each job in Python, one row at a time;
that is right for 30 jobs and far too slow for thousands. This module builds the same canonical
tables with numpy arrays over all jobs at once (jobs x cost codes x months), from the sample's
catalogs (:mod:`wip_lib.sample.catalog`), and writes them with the same writers
(:mod:`wip_lib.sources.export_writer`: Procore CSVs with ``$1,234.56`` money and ``MM/DD/YYYY`` dates, a totals
row closing each budget export; Sage 300 CRE CSVs per ``wip_lib/profiles/sage300.yaml``), so the
folder reads back through :func:`wip_lib.sources.readers.read_company` like a user's downloads.

The model (per job, all vectorised):

- a start month, a duration (8 to 30 months) and an S-curve of cost; jobs whose end falls before the
  current period are complete;
- ``codes`` cost codes per job drawn from the sample catalog widened to ~220 codes (each CSI
  section split into areas: ``03-300``, ``03-301``, ...), each with the sample's cost type and trade;
- a prime contract (lognormal $0.35M-$42M), 1-4 prime change orders, a budget at 83-93% of the
  contract, a final cost that overruns on about 4% of jobs (loss jobs) and under-runs slightly
  elsewhere, PM forecasts that learn the final cost as work proceeds;
- subcontracts (cost type S) and purchase orders (M) per job and trade, one schedule-of-values
  line per cost code, a change order per line bringing it to its final cost, monthly pay
  applications (10% retainage on subcontracts) booked to ERP AP and job cost line by line;
- payroll (L) split into several time entries a month (the count is what reaches ``lines``),
  equipment (E) as an internal EQ charge plus a rental invoice, other costs (O) as Procore direct
  costs exported to ERP job cost;
- owner pay applications each month that lead or lag earned revenue, booked to ERP AR;
- the WIP GL balances (1250 / 2150 / 2160) of every closed period;
- a handful of labour-burden entries on the ERP catch-all code ``99-999`` (1% of active jobs), so
  the reconciliation has something to report.

Budget snapshots (``procore/budget/JOB/YYYY-MM.csv``): a snapshot every month for every job would
be ``jobs x months`` files (48,000 at 2,000 jobs x 24 months). By default a job has one at its first
month, at every ``snapshot_every``-th calendar month (June and December with 6), every month of
the last ``recent_snapshots`` periods (3) and at its last month; any period is then costed from the
latest snapshot on or before it, exactly as the workbook does for a missing month. Both are
parameters (``--snapshot-every 1`` gives every month).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from wip_lib.core import schema
from wip_lib.sample.catalog import (
    COST_CODES,
    DEFAULT_ERP_CODE,
    ERP_CODE_DIFFERENCES,
    OWNERS,
    PMS,
    PROJECT_NAMES,
    VENDORS,
)
from wip_lib.sample.generate import SampleSpec, company_settings
from wip_lib.sources.controls import control_totals
from wip_lib.sources.export_writer import (
    PROCORE_MONEY,
    budget_text,
    money_text,
    write_company_yaml,
    write_erp_table,
    write_procore_table,
)
from wip_lib.sources.formats import CO_STATUS_FAMILY, COMMITMENT_STATUS_FAMILY, PROCORE_EXPORTS
from wip_lib.sources.readers.erp import load_profile

DATA = Path(__file__).resolve().parent / "data"
SPEC_FILE = "scale.json"


@dataclass(frozen=True)
class ScaleSpec:
    jobs: int = 2000
    lines: int = 5_000_000       # ERP job-cost (cost) transactions to aim for
    codes: int = 150             # cost codes per job
    months: int = 24             # months of history, ending at ``current``
    current: str = "2026-10"
    seed: int = 11
    recent_snapshots: int = 3    # every month for the last R periods
    snapshot_every: int = 6      # before that, months whose number is a multiple of K
    name: str = "Cascade Scale Builders, Inc."

    def folder(self) -> Path:
        return DATA / f"scale-{self.jobs}j-{self.lines}l-{self.codes}c-{self.months}m"


# -- catalog ------------------------------------------------------------------------------------

def catalog(codes_per_job: int) -> pd.DataFrame:
    """The sample's 28 cost codes, each section split into areas (``03-300``, ``03-301``, ...)
    so a job can carry ~150 codes; columns code, erp_code, erp_raw, description, cost_type, trade."""
    variants = int(np.clip(np.ceil(codes_per_job * 1.5 / len(COST_CODES)), 1, 10))
    rows = []
    for code, desc, ctype, trade in COST_CODES:
        div, sec = code.split("-")
        for k in range(variants):
            c = f"{div}-{int(sec) + k:03d}"
            erp = ERP_CODE_DIFFERENCES.get(c, c)
            rows.append((c, erp, erp.replace("-", ""), desc if k == 0 else f"{desc} - Area {k + 1}",
                         ctype, trade or ""))
    cat = pd.DataFrame(rows, columns=["code", "erp_code", "erp_raw", "description", "cost_type",
                                      "trade"])
    if codes_per_job > len(cat):
        raise SystemExit(f"--codes {codes_per_job}: the catalog has {len(cat)} codes at most")
    return cat


def _s(values, idx) -> pd.Series:
    """``values[idx]`` as a string Series (a pyarrow take: no Python loop)."""
    arr = pa.array(np.asarray(values, dtype=object), type=pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(arr.take(pa.array(np.asarray(idx, dtype=np.int64)))))


def _num(prefix: str, n: np.ndarray, width: int) -> pd.Series:
    return prefix + pd.Series(np.asarray(n, dtype=np.int64)).astype("string").str.zfill(width)


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _split_exact(total: np.ndarray, weights: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Split each group's ``total`` (given on every row of the group) over its rows in proportion
    to ``weights``, exactly: the last row of a group takes the remainder."""
    wsum = np.add.reduceat(weights, group_start)
    sizes = np.diff(np.append(group_start, len(weights)))
    g = np.repeat(np.arange(len(group_start)), sizes)
    total = np.asarray(total, dtype=np.int64)
    parts = np.floor(total * (weights / wsum[g])).astype(np.int64)
    last = np.append(group_start[1:], len(weights)) - 1
    parts[last] += total[last] - np.add.reduceat(parts, group_start)
    return parts


# -- the model -----------------------------------------------------------------------------------

class Model:
    def __init__(self, spec: ScaleSpec):
        self.spec = spec
        self.rng = np.random.default_rng(spec.seed)
        cur = pd.Period(spec.current, freq="M")
        self.months = pd.period_range(cur - (spec.months - 1), cur, freq="M")
        self.T = T = len(self.months)
        self.cur = T - 1
        self.periods = np.array([str(p) for p in self.months], dtype=object)
        self.m0 = np.datetime64(str(self.months[0]), "M")
        self.month_no = np.array([p.month for p in self.months])
        self.cat = catalog(spec.codes)
        self.tables: dict[str, pd.DataFrame] = {}
        self.extras: dict[str, pd.DataFrame] = {}

    def day(self, m, d) -> np.ndarray:
        """Day ``d`` of month index ``m`` (0 = first month of history; any m, also beyond)."""
        start = (self.m0 + np.asarray(m, dtype=np.int64)).astype("datetime64[D]")
        return (start + (np.asarray(d, dtype=np.int64) - 1)).astype("datetime64[us]")

    def end(self, m) -> np.ndarray:
        """Last day of month index ``m``."""
        nxt = (self.m0 + np.asarray(m, dtype=np.int64) + 1).astype("datetime64[D]")
        return (nxt - 1).astype("datetime64[us]")

    # ---------------------------------------------------------------------------------- jobs
    def jobs(self):
        rng, T, cur, J = self.rng, self.T, self.cur, self.spec.jobs
        s = rng.integers(0, max(1, T - 2), J)
        d = rng.integers(8, 31, J)
        e = s + d - 1
        completed = e < cur
        contract = (np.exp(rng.uniform(np.log(3.5e5), np.log(4.2e7), J)) / 10).round() * 1000
        contract = contract.astype(np.int64)  # cents, whole $10
        role = rng.random(J)
        loss = role < 0.04
        margin = np.where(loss, rng.uniform(0.03, 0.07, J), rng.uniform(0.07, 0.17, J))
        ids = np.array([f"{j + 1:05d}" for j in range(J)], dtype=object)
        self.J, self.ids, self.s, self.d, self.e = J, ids, s, d, e
        self.completed, self.contract, self.loss, self.margin = completed, contract, loss, margin
        # S-curve: cumulative share of each job's cost at each month end (J x T).
        m = np.arange(T)[None, :]
        share = _smooth((m - s[:, None] + 1) / d[:, None])
        share = np.where(m < s[:, None], 0.0, share)
        share = np.where(m >= e[:, None], 1.0, share)
        self.share = share
        names = np.array(PROJECT_NAMES, dtype=object)
        self.names = np.array([f"{names[j % len(names)]} #{j + 1}" for j in range(J)], dtype=object)
        self.owners = np.array(OWNERS, dtype=object)[np.arange(J) % len(OWNERS)]

    # --------------------------------------------------------------------------------- lines
    def lines(self):
        """Jobs x cost codes: budget, change-order cost, final cost, cost and ETC by month."""
        rng, T, J, K = self.rng, self.T, self.J, self.spec.codes
        C = len(self.cat)
        pick = np.sort(np.argsort(rng.random((J, C)), axis=1)[:, :K], axis=1)
        lj = np.repeat(np.arange(J), K)
        lc = pick.ravel()
        L = J * K
        start = np.arange(J) * K
        est_total = np.round(self.contract * (1 - self.margin)).astype(np.int64)
        w = rng.gamma(2.0, 1.0, L)
        budget0 = _split_exact(est_total[lj], w, start)
        # Prime change orders (1-4 a job); approved ones carry cost on a random line of the job.
        n_co = rng.integers(1, 5, J)
        cj = np.repeat(np.arange(J), n_co)
        ci = np.concatenate([np.arange(n) for n in n_co])
        statuses = np.array(["approved"] * 6 + ["pending", "pricing", "draft", "rejected", "void"],
                            dtype=object)
        status = np.where(ci == 0, "approved", statuses[rng.integers(0, len(statuses), len(cj))])
        last = np.minimum(self.e, self.cur)
        cm = self.s[cj] + np.floor(rng.random(len(cj)) * (last[cj] - self.s[cj] + 1)).astype(int)
        amount = (np.round(self.contract[cj] * rng.uniform(0.01, 0.06, len(cj)) / 10000) * 10000
                  ).astype(np.int64)
        approved = status == "approved"
        fam = np.array([CO_STATUS_FAMILY[x] for x in status], dtype=object)
        self.pco = dict(j=cj, i=ci, status=status, fam=fam, m=cm, amount=amount,
                        approved_day=rng.integers(3, 26, len(cj)),
                        created_day=rng.integers(1, 20, len(cj)))
        co_line = start[cj] + rng.integers(0, K, len(cj))
        co_cost = np.round(amount * (1 - self.margin[cj])).astype(np.int64)
        delta = np.zeros((L, T), dtype=np.int64)
        np.add.at(delta, (co_line[approved], cm[approved]), co_cost[approved])
        budget = budget0[:, None] + np.cumsum(delta, axis=1)
        # TP by job and month: contract + approved change orders approved by that month end.
        tpd = np.zeros((J, T), dtype=np.int64)
        np.add.at(tpd, (cj[approved], cm[approved]), amount[approved])
        self.tp = self.contract[:, None] + np.cumsum(tpd, axis=1)
        f = np.where(self.loss[lj], rng.uniform(0.10, 0.25, L), rng.uniform(-0.03, 0.005, L))
        final = np.round(budget[:, -1] * (1 + f)).astype(np.int64)
        cum = np.round(final[:, None] * self.share[lj]).astype(np.int64)
        know = np.minimum(1.0, self.share[lj] * 1.5)
        eac = np.round(budget + (final[:, None] - budget) * know).astype(np.int64)
        eac = np.maximum(eac, cum)
        etc = eac - cum
        etc[np.arange(T)[None, :] >= self.e[lj][:, None]] = 0
        self.L, self.lj, self.lc, self.lstart = L, lj, lc, start
        self.budget0, self.budget, self.final, self.cum, self.etc = budget0, budget, final, cum, etc
        self.monthly = np.diff(cum, axis=1, prepend=0)
        self.ltype = self.cat["cost_type"].to_numpy()[lc]
        self.ltrade = self.cat["trade"].to_numpy()[lc]

    # --------------------------------------------------------------------------- commitments
    def commitments(self):
        """One subcontract (S) or purchase order (M) per job and trade; one SOV line per code."""
        rng, cur = self.rng, self.cur
        has = np.isin(self.ltype, ["S", "M"]) & (self.ltrade != "")
        li = np.flatnonzero(has)
        key = pd.DataFrame({"j": self.lj[li], "type": self.ltype[li], "trade": self.ltrade[li]})
        grp = key.groupby(["j", "type", "trade"], sort=True).ngroup().to_numpy()
        heads = key.assign(g=grp).drop_duplicates("g").sort_values("g").reset_index(drop=True)
        heads["n"] = heads.groupby(["j", "type"]).cumcount() + 1
        Cn = len(heads)
        cj = heads["j"].to_numpy()
        sub = heads["type"].to_numpy() == "S"
        number = (pd.Series(np.where(sub, "SC-", "PO-")) + heads["n"].astype(str).str.zfill(3)
                  ).to_numpy(dtype=object)
        vendor = np.array([VENDORS[t][int(r * len(VENDORS[t]))] for t, r in
                           zip(heads["trade"], rng.random(Cn))], dtype=object)
        line_c = np.full(self.L, -1, dtype=np.int64)
        line_c[li] = grp
        self.line_c = line_c
        # Line amounts: original a little under the final cost, a change order for the rest.
        final = self.final[li]
        original = (np.round(final * rng.uniform(0.92, 0.99, len(li)) / 100) * 100).astype(np.int64)
        cco = final - original
        approved_m = self.s[cj]
        co_m = np.minimum(cur, approved_m + 2)
        self.com = dict(j=cj, sub=sub, number=number, vendor=vendor, approved_m=approved_m,
                        co_m=co_m, n=Cn)
        self.sov = dict(li=li, c=grp, original=original, cco=cco)
        # Monthly billing of each commitment (C x T) and the pay-app number of each billing month.
        cmon = np.zeros((Cn, self.T), dtype=np.int64)
        np.add.at(cmon, grp, self.monthly[li])
        billed = cmon > 0
        self.cmon, self.capp = cmon, np.cumsum(billed, axis=1) * billed
        self.com["original"] = np.bincount(grp, weights=original, minlength=Cn).astype(np.int64)
        self.com["cco"] = np.bincount(grp, weights=cco, minlength=Cn).astype(np.int64)
        # Pending commitment change orders on 35% of open commitments (first line), this month.
        self.pending_c = ~self.completed[cj] & (rng.random(Cn) < 0.35)
        self.com["pending"] = np.where(self.pending_c, np.round(self.com["original"] * 0.01 / 100)
                                       * 100, 0).astype(np.int64)
        # Each commitment's first SOV line (position in the sov arrays).
        self.com["first"] = pd.Series(np.arange(len(li))).groupby(grp).min().to_numpy()

    # ------------------------------------------------------------------------------- tables
    def build(self):
        self.jobs()
        self.lines()
        self.commitments()
        self.job_tables()
        self.commitment_tables()
        self.cost_tables()
        self.billing_tables()
        self.budget_table()
        self.gl_table()
        self.master_tables()

    def job_tables(self):
        J, rng, ids = self.J, self.rng, self.ids
        j = np.arange(J)
        complete = self.completed
        self.tables["jobs"] = pd.DataFrame({
            "job_id": _s(ids, j), "job_name": _s(self.names, j),
            "status": np.where(complete, "complete", "active"),
            "start_date": self.day(self.s, rng.integers(1, 11, J)),
            "completion_date": self.end(self.e) - rng.integers(0, 9, J).astype("timedelta64[D]"),
            "customer": _s(self.owners, j),
            "project_manager": _s(np.array(PMS, dtype=object), rng.integers(0, len(PMS), J)),
            "procore_project_id": 5_000_000 + j + 1, "erp_status": "synced"})
        p = self.pco
        ap = p["fam"] == "approved"
        pend = p["fam"] == "pending"
        appr_sum = np.bincount(p["j"][ap], weights=p["amount"][ap], minlength=J).astype(np.int64)
        pend_sum = np.bincount(p["j"][pend], weights=p["amount"][pend], minlength=J).astype(np.int64)
        self.tables["prime_contracts"] = pd.DataFrame({
            "job_id": _s(ids, j), "contract_number": "1",
            "title": _s(self.names, j) + " - Prime Contract", "owner": _s(self.owners, j),
            "status": np.where(complete, "Complete", "Approved"), "executed": True,
            "original_amount": self.contract, "approved_change_orders": appr_sum,
            "pending_change_orders": pend_sum, "retainage_percent": 0.10, "retainage_rule": "flat",
            "erp_status": "synced", "origin_id": "JCM-" + _s(ids, j)})
        approved_date = np.where(ap, self.day(p["m"], p["approved_day"]), np.datetime64("NaT"))
        created = self.day(np.maximum(self.s[p["j"]], p["m"] - 1), p["created_day"])
        co_no = pd.Series(p["i"] + 1).astype("string").str.zfill(3)
        title = np.array(["Owner-requested scope change", "Unforeseen site condition",
                          "Design revision ASI", "Allowance reconciliation", "Added alternates"],
                         dtype=object)[p["i"] % 5]
        label = pd.Series(p["status"]).str.title().to_numpy()
        jid = _s(ids, p["j"])
        self.tables["prime_change_orders"] = pd.DataFrame({
            "job_id": jid, "contract_number": "1", "co_number": co_no, "title": title,
            "status": label, "status_family": p["fam"], "amount": p["amount"],
            "created_date": created, "approved_date": approved_date,
            "erp_status": np.where(ap, "synced", "not_in_erp"),
            "erp_status_date": np.where(ap, approved_date + np.timedelta64(1, "D"),
                                        np.datetime64("NaT")),
            "origin_id": pd.Series("CO-" + jid + "-" + co_no).where(ap, None)})
        posted = np.minimum(approved_date[ap] + np.timedelta64(2, "D"), self.end(self.cur))
        posted_period = pd.Series(posted).dt.strftime("%Y-%m")
        self.tables["erp_contract_change_orders"] = pd.DataFrame({
            "job_id": jid[ap].to_numpy(), "co_number": co_no[ap].to_numpy(),
            "amount": p["amount"][ap], "posted_date": posted, "period": posted_period.to_numpy()})
        self.tables["erp_jobs"] = pd.DataFrame({
            "job_id": _s(ids, j), "job_id_raw": _s(ids, j) + "   ",
            "job_name": _s(self.names, j).str.slice(0, 30),
            "status": np.where(complete, "closed", "open"), "original_contract": self.contract,
            "approved_change_orders": appr_sum, "revised_contract": self.contract + appr_sum})

    def commitment_tables(self):
        c, sov, cur, ids = self.com, self.sov, self.cur, self.ids
        Cn = c["n"]
        cj = c["j"]
        complete = self.completed[cj]
        status = np.where(complete, np.where(c["sub"], "Complete", "Closed"), "Approved")
        fam = np.array([COMMITMENT_STATUS_FAMILY[x.lower()] for x in status], dtype=object)
        original, cco, pending_amt = c["original"], c["cco"], c["pending"]
        # Pay apps / PO invoices: one per commitment and billing month.
        bc, bm = np.nonzero(self.cmon > 0)
        work = self.cmon[bc, bm]
        rate = np.where(c["sub"][bc], 0.10, 0.0)
        ret = np.round(work * rate).astype(np.int64)
        billing = self.day(bm, 25)
        pay_days = self.rng.integers(30, 50, len(bc)).astype("timedelta64[D]")
        paid_on = billing + pay_days
        paid = paid_on <= self.end(cur)
        invoiced = np.bincount(bc, weights=work, minlength=Cn).astype(np.int64)
        payments = np.bincount(bc, weights=np.where(paid, work - ret, 0), minlength=Cn
                               ).astype(np.int64)
        jid = _s(ids, cj)
        number = pd.Series(c["number"], dtype="string")
        vendor = pd.Series(c["vendor"], dtype="string")
        desc = self.cat["description"].to_numpy()[self.lc[sov["li"]]]
        first_line = c["first"]
        title = pd.Series(desc[first_line], dtype="string") + " - " + vendor
        revised = original + cco
        self.tables["commitments"] = pd.DataFrame({
            "job_id": jid, "commitment_number": number,
            "commitment_type": np.where(c["sub"], "subcontract", "purchase_order"),
            "vendor_name": vendor, "title": title, "status": status, "status_family": fam,
            "executed": True, "original_amount": original, "approved_change_orders": cco,
            "revised_amount": revised, "pending_change_orders": pending_amt,
            "draft_change_orders": 0, "invoiced": invoiced, "payments_issued": payments,
            "remaining_balance": revised - payments,
            "retainage_percent": np.where(c["sub"], 0.10, 0.0),
            "approved_date": self.day(c["approved_m"], 5), "erp_status": "synced",
            "erp_status_date": self.day(c["approved_m"], 6),
            "origin_id": "SCM-" + jid + "-" + number})
        li = sov["li"]
        code = self.cat["code"].to_numpy()[self.lc[li]]
        lno = pd.Series(sov["c"]).groupby(sov["c"]).cumcount().to_numpy() + 1
        ljid = _s(ids, self.lj[li])
        lnum = number.iloc[sov["c"]].reset_index(drop=True)
        self.tables["commitment_lines"] = pd.DataFrame({
            "job_id": ljid, "commitment_number": lnum, "line_number": lno,
            "cost_code": code, "cost_code_raw": code, "cost_type": self.ltype[li],
            "description": desc, "amount": sov["original"] + sov["cco"]})
        # One approved change order per SOV line that needs one; a pending one on 35% of open
        # commitments (on their first line).
        has = sov["cco"] > 0
        co_m = c["co_m"][sov["c"]]
        co_no = pd.Series(lno).astype("string").str.zfill(3)
        ad = self.day(co_m, 20)
        appr = pd.DataFrame({
            "job_id": ljid, "commitment_number": lnum, "co_number": co_no,
            "title": "Scope adjustment", "status": "Approved", "status_family": "approved",
            "cost_code": code, "cost_code_raw": code, "cost_type": self.ltype[li],
            "amount": sov["cco"], "created_date": self.day(co_m, 8), "approved_date": ad,
            "erp_status": "synced", "erp_status_date": ad + np.timedelta64(1, "D"),
            "origin_id": "CCO-" + ljid + "-" + lnum + "-" + co_no})[has]
        pc = np.flatnonzero(self.pending_c)
        fl = first_line[pc]
        pend = pd.DataFrame({
            "job_id": jid.iloc[pc].to_numpy(), "commitment_number": number.iloc[pc].to_numpy(),
            "co_number": "P01", "title": "Scope adjustment", "status": "Pending",
            "status_family": "pending", "cost_code": code[fl], "cost_code_raw": code[fl],
            "cost_type": self.ltype[li][fl], "amount": pending_amt[pc],
            "created_date": self.day(np.full(len(pc), cur), 8), "approved_date": pd.NaT,
            "erp_status": "not_in_erp", "erp_status_date": pd.NaT, "origin_id": None})
        self.tables["commitment_change_orders"] = pd.concat([appr, pend], ignore_index=True)
        committed = fam == "committed"
        self.tables["erp_commitments"] = pd.DataFrame({
            "job_id": jid, "commitment_number": number,
            "commitment_type": np.where(c["sub"], "subcontract", "purchase_order"),
            "vendor_name": vendor, "status": np.where(complete, "closed", "open"),
            "original_amount": original, "approved_change_orders": cco,
            "revised_amount": revised, "invoiced": invoiced})[committed]
        # Procore requisitions (subcontracts) and ERP AP invoices (both), one per billing month.
        inv = (jid.iloc[bc].reset_index(drop=True) + "-" + number.iloc[bc].reset_index(drop=True)
               + "-" + pd.Series(self.capp[bc, bm]).astype("string").str.zfill(3))
        self.bill = dict(c=bc, m=bm, inv=inv)
        bj = _s(ids, cj[bc])
        bnum = number.iloc[bc].reset_index(drop=True)
        bven = vendor.iloc[bc].reset_index(drop=True)
        is_sub = c["sub"][bc]
        todate = pd.Series(work).groupby(bc).cumsum().to_numpy()
        ret_todate = pd.Series(ret).groupby(bc).cumsum().to_numpy()
        si = pd.DataFrame({
            "job_id": bj, "commitment_number": bnum, "vendor_name": bven, "invoice_number": inv,
            "application_number": self.capp[bc, bm], "billing_date": billing,
            "period_start": self.day(bm, 1), "period_end": self.end(bm), "status": "approved",
            "approved_date": billing + np.timedelta64(3, "D"),
            "work_completed_this_period": work, "total_completed_to_date": todate,
            "retainage_this_period": ret, "retainage_to_date": ret_todate, "amount_due": work - ret,
            "payment_status": np.where(paid, "paid", "unpaid"), "erp_status": "synced",
            "erp_status_date": billing + np.timedelta64(4, "D"), "origin_id": "APM-" + inv})
        self.tables["subcontractor_invoices"] = si[is_sub].reset_index(drop=True)
        self.tables["erp_ap_invoices"] = pd.DataFrame({
            "job_id": bj, "vendor_name": bven, "invoice_number": inv, "commitment_number": bnum,
            "invoice_date": billing, "period": self.periods[bm], "amount": work,
            "retainage_held": ret, "amount_paid": np.where(paid, work - ret, 0),
            "paid_date": np.where(paid, paid_on, np.datetime64("NaT"))})

    def cost_tables(self):
        """ERP job-cost transactions (and the Procore direct costs behind the O lines)."""
        rng, spec, cur = self.rng, self.spec, self.cur
        ll, mm = np.nonzero(self.monthly > 0)  # cells: line x month with cost (row-major)
        amt = self.monthly[ll, mm]
        typ = self.ltype[ll]
        n = np.ones(len(ll), dtype=np.int64)
        n[typ == "E"] = 2
        is_l = typ == "L"
        extra = max(0, spec.lines - int(n.sum()))
        if is_l.any() and extra:
            per = extra / is_l.sum()
            n[is_l] += int(per) + (rng.random(is_l.sum()) < per - int(per))
        cell = np.repeat(np.arange(len(ll)), n)
        first = np.concatenate([[0], np.cumsum(n)[:-1]])
        k = np.arange(len(cell)) - first[cell]  # part number within the cell
        parts = _split_exact(amt[cell], rng.uniform(0.5, 1.5, len(cell)), first)
        # Cells whose amount is too small to split leave zero parts: keep the lines (a zero
        # time entry is real), they still count.
        l_, m_ = ll[cell], mm[cell]
        t_ = typ[cell]
        N = len(cell)
        cat = self.cat
        ids = self.ids
        jid = _s(ids, self.lj[l_])
        erp_code = _s(cat["erp_code"].to_numpy(), self.lc[l_])
        erp_raw = _s(cat["erp_raw"].to_numpy(), self.lc[l_])
        desc = cat["description"].to_numpy()
        per = _s(self.periods, m_)
        ym = per.str.replace("-", "", regex=False)
        source = np.select([t_ == "L", (t_ == "E") & (k == 0), t_ == "O"], ["PR", "EQ", "JC"], "AP")
        day = np.select([t_ == "L", t_ == "E", t_ == "O", t_ == "M"],
                        [rng.integers(1, 29, N), np.full(N, 20), np.full(N, 15),
                         rng.integers(2, 27, N)], 25)
        c_idx = self.line_c[l_]
        has_c = c_idx >= 0
        vend = np.full(N, "", dtype=object)
        com_no = np.full(N, "", dtype=object)
        doc = np.full(N, "", dtype=object)
        descr = np.full(N, "", dtype=object)
        # S / M lines: the commitment's monthly invoice, line by line.
        w = np.flatnonzero(has_c)
        if len(w):
            bill = pd.DataFrame({"c": self.bill["c"], "m": self.bill["m"],
                                 "inv": self.bill["inv"].to_numpy()})
            look = pd.DataFrame({"c": c_idx[w], "m": m_[w]}).merge(bill, on=["c", "m"], how="left")
            vend[w] = self.com["vendor"][c_idx[w]]
            com_no[w] = self.com["number"][c_idx[w]]
            doc[w] = look["inv"].to_numpy(dtype=object)
            app = pd.Series(self.capp[c_idx[w], m_[w]]).astype("string")
            descr[w] = np.where(t_[w] == "S", ("Pay app " + app).to_numpy(dtype=object),
                                (pd.Series(desc[self.lc[l_[w]]]) + " materials").to_numpy(dtype=object))
        pr = np.flatnonzero(t_ == "L")
        doc[pr] = ("PR" + ym.iloc[pr] + pd.Series(k[pr] + 10, index=pr).astype("string")
                   ).to_numpy(dtype=object)
        descr[pr] = "Payroll"
        eq = np.flatnonzero((t_ == "E") & (k == 0))
        doc[eq] = ("EQ" + ym.iloc[eq]).to_numpy(dtype=object)
        descr[eq] = "Equipment usage"
        rent = np.flatnonzero((t_ == "E") & (k == 1))
        eqv = np.array(VENDORS["equipment"], dtype=object)
        vend[rent] = eqv[rng.integers(0, len(eqv), len(rent))]
        doc[rent] = _num("R", rng.integers(100000, 999999, len(rent)), 6).to_numpy(dtype=object)
        descr[rent] = "Rental"
        oo = np.flatnonzero(t_ == "O")
        dc_id = ("DC-" + jid.iloc[oo] + "-" + pd.Series(m_[oo], index=oo).astype("string").str.zfill(2)
                 + pd.Series(self.lc[l_[oo]], index=oo).astype("string").str.zfill(3))
        doc[oo] = dc_id.to_numpy(dtype=object)
        descr[oo] = (pd.Series(desc[self.lc[l_[oo]]], index=oo) + " - monthly").to_numpy(dtype=object)
        hours = np.where(t_ == "L", np.round(parts / 100 / 68.5, 2),
                         np.where(source == "EQ", np.round(parts / 100 / 95.0, 2), 0.0))
        jc = pd.DataFrame({
            "job_id": jid, "sub_job": "", "cost_code": erp_code, "cost_code_raw": erp_raw,
            "cost_type": t_, "source": source, "transaction_date": self.day(m_, day),
            "accounting_date": self.end(m_), "period": per,
            "vendor_name": pd.array(vend, dtype="string"),
            "document_number": pd.array(doc, dtype="string"),
            "description": pd.array(descr, dtype="string"), "amount": parts, "hours": hours,
            "commitment_number": pd.array(com_no, dtype="string")})
        # Labour burden on the catch-all code for 1% of active jobs, this period.
        active = np.flatnonzero(~self.completed)
        planted = active[rng.random(len(active)) < 0.01]
        if len(planted):
            pj = _s(ids, planted)
            jc = pd.concat([jc, pd.DataFrame({
                "job_id": pj, "sub_job": "", "cost_code": DEFAULT_ERP_CODE[0],
                "cost_code_raw": DEFAULT_ERP_CODE[0].replace("-", ""), "cost_type": "L",
                "source": "JC", "transaction_date": self.day(np.full(len(planted), cur), 28),
                "accounting_date": self.end(np.full(len(planted), cur)),
                "period": self.periods[cur], "vendor_name": "",
                "document_number": "JE" + self.periods[cur].replace("-", "") + "-14",
                "description": "Labor burden allocation",
                "amount": rng.integers(300_000, 900_000, len(planted)), "hours": 0.0,
                "commitment_number": ""})], ignore_index=True)
        jc["row_id"] = _num("JCT", np.arange(1, len(jc) + 1), 8)
        self.tables["erp_job_cost"] = jc
        self.cost_lines = len(jc)
        dcm = jc.iloc[oo]
        self.tables["direct_costs"] = pd.DataFrame({
            "job_id": dcm["job_id"].to_numpy(), "direct_cost_id": dc_id.to_numpy(),
            "line_number": 1, "direct_cost_type": "expense", "status": "approved",
            "direct_cost_date": dcm["transaction_date"].to_numpy(), "vendor_name": "",
            "invoice_number": "", "description": dcm["description"].to_numpy(),
            "cost_code": self.cat["code"].to_numpy()[self.lc[l_[oo]]],
            "cost_code_raw": self.cat["code"].to_numpy()[self.lc[l_[oo]]], "cost_type": "O",
            "amount": parts[oo], "origin_id": None})
        # The ERP's own estimate lines share the export; they are not cost (read as excluded).
        L = np.arange(self.L)
        s_m = self.s[self.lj]
        self.extras["not_cost"] = pd.DataFrame({
            "job_id": _s(ids, self.lj), "cost_code": _s(cat["erp_raw"].to_numpy(), self.lc[L]),
            "cost_type": self.ltype, "transaction_type": "Original estimate",
            "transaction_date": pd.Series(self.day(s_m, 1)).dt.strftime("%m/%d/%Y"),
            "accounting_date": pd.Series(self.end(s_m)).dt.strftime("%m/%d/%Y"),
            "amount": money_text(pd.Series(self.budget0), "plain"),
            "description": "Original estimate"})

    def _job_figures(self):
        """Per job and month (J x T): cost to date, estimate to complete, earned revenue."""
        J, T = self.J, self.T
        K = self.spec.codes
        ctd = self.cum.reshape(J, K, T).sum(axis=1)
        etc = self.etc.reshape(J, K, T).sum(axis=1)
        eac = ctd + etc
        tp = self.tp
        num = 2 * tp.astype(object) * ctd.astype(object) + eac.astype(object)
        den = np.where(eac > 0, 2 * eac, 1).astype(object)
        er = np.where(eac > 0, (num // den), 0).astype(np.int64)
        return ctd, etc, eac, er

    def billing_tables(self):
        rng, J, T, cur, ids = self.rng, self.J, self.T, self.cur, self.ids
        ctd, etc, eac, er = self._job_figures()
        self.fig = (ctd, etc, eac, er)
        bias = np.where(rng.random(J) < 0.1, rng.uniform(-0.2, 0.15, J), rng.uniform(-0.02, 0.045, J))
        target = (np.round(er * (1 + bias[:, None]) / 10000) * 10000).astype(np.int64)
        target = np.minimum(target, self.tp)
        m = np.arange(T)[None, :]
        target = np.where(m >= self.e[:, None], self.tp, target)
        target = np.where(m < self.s[:, None], 0, target)
        billed = np.maximum.accumulate(target, axis=1)
        self.billed = billed
        work = np.diff(billed, axis=1, prepend=0)
        bj, bm = np.nonzero(work > 0)
        w = work[bj, bm]
        ret = np.round(w * 0.10).astype(np.int64)
        n = pd.Series(np.ones(len(bj), dtype=np.int64)).groupby(bj).cumsum().to_numpy()
        jid = _s(ids, bj)
        inv = jid + "-" + pd.Series(n).astype("string").str.zfill(3)
        billing = self.day(bm, 25)
        paid = billing + np.timedelta64(45, "D") <= self.end(cur)
        self.tables["owner_invoices"] = pd.DataFrame({
            "job_id": jid, "contract_number": "1", "invoice_number": inv, "application_number": n,
            "billing_date": billing, "period_start": self.day(bm, 1), "period_end": self.end(bm),
            "status": "approved", "work_completed_this_period": w,
            "total_completed_to_date": billed[bj, bm], "retainage_this_period": ret,
            "retainage_to_date": pd.Series(ret).groupby(bj).cumsum().to_numpy(),
            "amount_due": w - ret, "erp_status": "synced",
            "erp_status_date": billing + np.timedelta64(2, "D"), "origin_id": "ART-" + inv})
        self.tables["erp_ar_billings"] = pd.DataFrame({
            "job_id": jid, "invoice_number": inv, "invoice_date": billing,
            "period": self.periods[bm], "amount_billed": w, "retainage": ret,
            "amount_paid": np.where(paid, w - ret, 0),
            "description": "Pay application " + pd.Series(n).astype("string")})

    def snapshot_mask(self) -> np.ndarray:
        """Job x month: True where the job has a budget snapshot."""
        spec, T, cur = self.spec, self.T, self.cur
        m = np.arange(T)[None, :]
        s, last = self.s[:, None], np.minimum(self.e, cur)[:, None]
        every = max(1, spec.snapshot_every)
        on = ((self.month_no % every) == 0)[None, :] | (m > cur - spec.recent_snapshots) | (m == s) \
            | (m == last)
        return on & (m >= s) & (m <= last)

    def budget_table(self):
        snap = self.snapshot_mask()
        sj, sm = np.nonzero(snap)
        K = self.spec.codes
        # Every line of the job at each of its snapshot months.
        rl = (self.lstart[sj][:, None] + np.arange(K)[None, :]).ravel()
        rm = np.repeat(sm, K)
        cat = self.cat
        code = cat["code"].to_numpy()[self.lc[rl]]
        orig = self.budget0[rl]
        revised = self.budget[rl, rm]
        # Committed: the line's SOV (original + the approved CO once approved).
        li_pos = np.full(self.L, -1, dtype=np.int64)
        li_pos[self.sov["li"]] = np.arange(len(self.sov["li"]))
        pos = li_pos[rl]
        has = pos >= 0
        committed = np.zeros(len(rl), dtype=np.int64)
        cidx = self.sov["c"][pos[has]]
        co_in = self.com["co_m"][cidx] <= rm[has]
        committed[has] = self.sov["original"][pos[has]] + np.where(co_in, self.sov["cco"][pos[has]], 0)
        pend_map = np.zeros(self.L, dtype=np.int64)
        pend_map[self.sov["li"][self.com["first"]]] = self.com["pending"]
        pending = np.where(rm >= self.cur, pend_map[rl], 0)
        typ = self.ltype[rl]
        jtd = self.cum[rl, rm]
        direct = np.where(typ == "O", jtd, 0)
        projected_costs = committed + direct + pending
        # Procore's relations: ECAC = the estimate (cost so far + still to come) and FTC what is
        # expected beyond Projected Costs (docs/procore-forecast.md).
        ecac = jtd + self.etc[rl, rm]
        ftc = ecac - projected_costs
        self.tables["budget"] = pd.DataFrame({
            "job_id": _s(self.ids, self.lj[rl]), "period": _s(self.periods, rm), "sub_job": "",
            "cost_code": code, "cost_code_raw": code, "cost_type": typ,
            "description": cat["description"].to_numpy()[self.lc[rl]], "original_budget": orig,
            "budget_modifications": 0, "approved_cos": revised - orig, "revised_budget": revised,
            "pending_budget_changes": 0, "projected_budget": revised,
            "committed_costs": committed, "direct_costs": direct, "job_to_date_costs": jtd,
            "pending_cost_changes": pending, "projected_costs": projected_costs,
            "forecast_to_complete": ftc, "estimated_cost_at_completion": ecac,
            "projected_over_under": revised - ecac})
        self.snapshots = int(snap.sum())

    def gl_table(self):
        ctd, etc, eac, er = self.fig
        tp, billed = self.tp, self.billed
        T, cur = self.T, self.cur
        m = np.arange(T)[None, :]
        closed = (m >= self.s[:, None]) & (m < cur)
        gj, gm = np.nonzero(closed)
        done = gm >= self.e[gj]
        er_ = np.where(done, tp[gj, gm], er[gj, gm])
        prov = np.where(~done & (eac[gj, gm] > tp[gj, gm]),
                        np.maximum(0, (er_ - ctd[gj, gm]) - (tp[gj, gm] - eac[gj, gm])), 0)
        b = np.where(done, tp[gj, gm], billed[gj, gm])
        ob = b - er_
        jid = _s(self.ids, gj)
        per = _s(self.periods, gm)
        parts = []
        for acct, name, bal in (("1250", "Costs and estimated earnings in excess of billings",
                                 np.maximum(-ob, 0)),
                                ("2150", "Billings in excess of costs and estimated earnings",
                                 -np.maximum(ob, 0)),
                                ("2160", "Accrued loss on contracts", -prov)):
            parts.append(pd.DataFrame({"period": per, "account": acct, "account_name": name,
                                       "job_id": jid, "balance": bal}))
        self.tables["gl_balances"] = pd.concat(parts, ignore_index=True)

    def master_tables(self):
        names = sorted({v for vs in VENDORS.values() for v in vs})
        vid = [f"V{i + 101:04d}" for i in range(len(names))]
        self.tables["erp_vendors"] = pd.DataFrame({"vendor_id": vid, "vendor_name": names,
                                                   "status": "active"})
        self.tables["procore_vendors"] = pd.DataFrame({
            "vendor_name": names, "procore_vendor_id": [8_000_000 + int(v[1:]) for v in vid],
            "erp_vendor_id": vid, "is_active": True})
        cat = self.cat
        codes = pd.DataFrame({"cost_code": cat["erp_code"], "cost_code_raw": cat["erp_raw"],
                              "description": cat["description"], "is_active": True,
                              "is_default": False})
        default = pd.DataFrame({"cost_code": [DEFAULT_ERP_CODE[0]],
                                "cost_code_raw": [DEFAULT_ERP_CODE[0].replace("-", "")],
                                "description": [DEFAULT_ERP_CODE[1]], "is_active": [True],
                                "is_default": [False]})
        self.tables["erp_cost_codes"] = pd.concat([codes, default], ignore_index=True)
        self.tables["cost_code_crosswalk"] = pd.DataFrame({
            "procore_cost_code": list(ERP_CODE_DIFFERENCES),
            "erp_cost_code": list(ERP_CODE_DIFFERENCES.values()), "job_id": ""})


def _typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The canonical column set and dtypes (as the sample generator's ``_frame``)."""
    t = schema.get(name)
    out = {}
    for c in t.columns:
        s = df[c.name] if c.name in df.columns else pd.Series([c.default] * len(df), index=df.index)
        if c.kind == "date":
            out[c.name] = pd.to_datetime(s).astype("datetime64[us]")
        elif c.kind == "money":
            out[c.name] = pd.Series(s).fillna(0).astype("int64")
        else:
            out[c.name] = pd.Series(s).astype(c.dtype)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


# -- writing -----------------------------------------------------------------------------------

def write_budgets(root: Path, df: pd.DataFrame) -> int:
    """Budget snapshots in the exact format of :func:`wip_lib.sources.export_writer.write_procore_table` (same
    columns, formatting and totals row), rendered as CSV text once for all files and then cut
    into ``procore/budget/JOB/PERIOD.csv`` files: per-file pandas work is what made the writer
    slow at tens of thousands of files."""
    fmt = PROCORE_EXPORTS["budget"]
    df = df.sort_values(["job_id", "period", "cost_code", "cost_type"], kind="stable"
                        ).reset_index(drop=True)
    text, cols, money = budget_text(df)
    keys = df["job_id"].astype(str) + "/" + df["period"].astype(str)
    starts = np.flatnonzero(np.r_[True, keys.to_numpy()[1:] != keys.to_numpy()[:-1]])
    ends = np.r_[starts[1:], len(df)]
    sums = pd.DataFrame({m: np.add.reduceat(df[m].to_numpy(np.int64), starts) for m in money})
    totals = pd.DataFrame({c: "" for c in cols}, index=range(len(starts)))
    totals[cols[0]] = "Total"
    for m in money:
        totals[m] = money_text(sums[m], PROCORE_MONEY)
    header = text[cols].head(0).rename(columns={c: fmt.headers[c][0] for c in cols}).to_csv(
        index=False, lineterminator="\n")
    body = text[cols].to_csv(index=False, header=False, lineterminator="\n").split("\n")
    tot = totals[cols].to_csv(index=False, header=False, lineterminator="\n").split("\n")
    names = keys.to_numpy()[starts]
    for i, (a, b) in enumerate(zip(starts, ends)):
        path = root / "procore" / "budget" / f"{names[i]}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + "\n".join(body[a:b]) + "\n" + tot[i] + "\n", encoding="utf-8")
    return len(starts)


def generate(spec: ScaleSpec) -> tuple[dict[str, pd.DataFrame], dict, Model]:
    m = Model(spec)
    m.build()
    tables = {}
    for name, df in m.tables.items():
        t = _typed(name, df)
        keys = [k for k in schema.get(name).key if k in t.columns]
        if name not in ("erp_job_cost", "budget") and keys:  # those two are generated in order
            t = t.sort_values(keys, kind="stable").reset_index(drop=True)
        tables[name] = t
    return tables, m.extras, m


def write_company(out: Path, spec: ScaleSpec, log=print) -> dict:
    """Generate and write the company folder; returns what was written (also in scale.json)."""
    t0 = time.perf_counter()
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    tables, extras, model = generate(spec)
    log(f"  model built in {time.perf_counter() - t0:.1f} s")
    settings = company_settings(SampleSpec(current=spec.current, name=spec.name))
    write_company_yaml(out, settings)
    profile = load_profile("sage300")
    totals = []
    files = 0
    for name, df in tables.items():
        t1 = time.perf_counter()
        t = schema.get(name)
        if name == "budget":
            files += write_budgets(out, df)
            rel = "procore/budget/" + df["job_id"].astype(str) + "/" + df["period"].astype(str) + ".csv"
        elif t.system == "procore" or name == "cost_code_crosswalk":
            files += len(write_procore_table(out, name, df))
            fmt = PROCORE_EXPORTS.get(name)
            rel = f"{fmt.path}.csv" if fmt else "crosswalk.csv"
        else:
            path = write_erp_table(out, name, df, profile,
                                   extra_rows=extras["not_cost"] if name == "erp_job_cost" else None)
            files += 1
            rel = path.relative_to(out).as_posix()
        totals.append(control_totals(df.assign(_file=rel), name))
        log(f"  {name}: {len(df):,} rows in {time.perf_counter() - t1:.1f} s")
    ct = pd.concat([t for t in totals if len(t)], ignore_index=True).sort_values(
        ["file", "table"], kind="stable")
    ct.to_csv(out / "control_totals.csv", index=False, lineterminator="\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    info = {"spec": asdict(spec), "files": files, "bytes": size,
            "rows": {n: int(len(d)) for n, d in tables.items()},
            "erp_cost_lines": int(len(tables["erp_job_cost"])),
            "budget_snapshots": model.snapshots,
            "seconds": round(time.perf_counter() - t0, 1)}
    (out / SPEC_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")
    return info


def ensure(spec: ScaleSpec, log=print, regenerate: bool = False) -> tuple[Path, dict]:
    """The company folder for ``spec``, generated unless it exists with the same spec."""
    out = spec.folder()
    marker = out / SPEC_FILE
    if marker.exists() and not regenerate:
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("spec") == asdict(spec):
            return out, info
    log(f"generating {out} ...")
    return out, write_company(out, spec, log=log)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n")[0])
    d = ScaleSpec()
    ap.add_argument("--jobs", type=int, default=d.jobs)
    ap.add_argument("--lines", type=int, default=d.lines, help="ERP job-cost lines to aim for")
    ap.add_argument("--codes", type=int, default=d.codes, help="cost codes per job")
    ap.add_argument("--months", type=int, default=d.months)
    ap.add_argument("--current", default=d.current)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--recent-snapshots", type=int, default=d.recent_snapshots)
    ap.add_argument("--snapshot-every", type=int, default=d.snapshot_every)
    ap.add_argument("--out", type=Path, help="folder (default benchmarks/data/scale-...)")
    a = ap.parse_args(argv)
    spec = ScaleSpec(jobs=a.jobs, lines=a.lines, codes=a.codes, months=a.months, current=a.current,
                     seed=a.seed, recent_snapshots=a.recent_snapshots,
                     snapshot_every=a.snapshot_every)
    out = a.out or spec.folder()
    info = write_company(out, spec, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps({"folder": str(out), **{k: v for k, v in info.items() if k != "spec"}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
