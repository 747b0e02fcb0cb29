"""The sample company: a deterministic, fictional general contractor's Procore and ERP exports.

``generate(spec)`` builds the canonical tables in memory from a seeded model of each job (S-curve
cost by cost code, estimates that learn the final cost as work proceeds, billings that lead or lag
earned revenue, subcontracts billed monthly with retainage, owner pay applications); then plants
the situations a controller must find, listing each in the answer key. ``write_sample`` writes them
in the real export formats (Procore CSV exports; the ERP side as Sage 300 CRE exports, or through
any built-in ERP profile's export shapes with ``erp=``), with ``control_totals.csv``
computed from the tables before writing, so ``wip validate`` can prove that what it reads back is
what was written, to the cent.

The model computes its own WIP figures (for the GL balances of closed periods and the answer key)
with plain integer arithmetic, independent of :mod:`wip_lib.accounting.recognition`, so the two check each
other.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wip_lib.core import codes, schema
from wip_lib.core.money import parse_cents
from wip_lib.sample.billing_documents import add_billing_documents
from wip_lib.sample.catalog import (
    COST_CODES,
    DEFAULT_ERP_CODE,
    ERP_CODE_DIFFERENCES,
    OWNERS,
    PMS,
    PROJECT_NAMES,
    VENDORS,
)
from wip_lib.sources.controls import control_totals
from wip_lib.sources.export_writer import (
    write_company_yaml,
    write_erp_export,
    write_erp_table,
    write_procore_table,
)
from wip_lib.sources.formats import CO_STATUS_FAMILY, COMMITMENT_STATUS_FAMILY, PROCORE_EXPORTS
from wip_lib.sources.lien_waivers import write_lien_waivers
from wip_lib.sources.readers.erp import load_profile

ANSWER_COLUMNS = ["situation", "job_id", "cost_code", "reference", "amount", "found_by"]
PROCORE_ONLY_VENDOR = "Summit Glazing LLC"


@dataclass(frozen=True)
class SampleSpec:
    seed: int = 7
    n_jobs: int = 30
    current: str = "2026-10"
    history_start: str = "2024-07"
    n_completed: int = 5
    codes_per_job: tuple[int, int] = (9, 16)
    name: str = "Harbor Ridge Builders, Inc."


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _split(total: int, k: int, rng) -> np.ndarray:
    """``total`` cents in ``k`` positive-ish parts that sum exactly."""
    if k <= 1 or abs(total) < 100 * k:
        return np.array([total], dtype=np.int64)
    w = rng.dirichlet(np.full(k, 3.0))
    parts = np.floor(w * total).astype(np.int64)
    parts[-1] += total - parts.sum()
    return parts


def _c(x: float) -> int:
    return int(round(x))


class _Builder:
    def __init__(self, spec: SampleSpec):
        self.spec = spec
        self.rng = np.random.default_rng(spec.seed)
        self.months = pd.period_range(spec.history_start, spec.current, freq="M")
        self.T = len(self.months)
        self.ends = self.months.to_timestamp(how="end").normalize()
        self.cur = self.T - 1
        self.rows: dict[str, list[dict]] = {n: [] for n in schema.TABLES}
        self.answers: list[dict] = []
        self.not_cost: list[dict] = []
        self.jct_seq = 0
        self.vendor_ids: dict[str, str] = {}
        self.gl_rows: list[dict] = []
        self.invoice_numbers: dict[str, set[str]] = {}
        self._month_cache: dict[int, tuple] = {}

    # -- helpers -----------------------------------------------------------------------------
    def vendor(self, trade: str) -> str:
        names = VENDORS[trade]
        v = names[int(self.rng.integers(len(names)))]
        self.vendor_ids.setdefault(v, f"V{len(self.vendor_ids) + 101:04d}")
        return v

    def unique_invoice(self, vendor: str, number: str) -> str:
        """A vendor's invoice number once only (no ERP takes the same number twice from one
        vendor): a number drawn again gets a letter."""
        seen = self.invoice_numbers.setdefault(vendor, set())
        out, k = number, 0
        while out in seen:
            k += 1
            out = f"{number}{chr(64 + k)}"
        seen.add(out)
        return out

    # Month m's period, its text, end and first day are asked for thousands of times over a
    # handful of months; pandas' Period arithmetic costs tens of microseconds a call.
    def _month(self, m: int) -> tuple[pd.Period, str, pd.Timestamp, pd.Timestamp]:
        m = int(m)
        got = self._month_cache.get(m)
        if got is None:
            p = self.months[0] + m
            got = self._month_cache[m] = (p, str(p), p.to_timestamp(how="end").normalize(),
                                          p.start_time)
        return got

    def _p(self, m: int) -> pd.Period:
        return self._month(m)[0]

    def period(self, m: int) -> str:
        return self._month(m)[1]

    def end(self, m: int) -> pd.Timestamp:
        return self._month(m)[2]

    def day(self, m: int, d: int) -> pd.Timestamp:
        return self._month(m)[3] + pd.Timedelta(days=d - 1)

    def jct(self, **row) -> str:
        self.jct_seq += 1
        rid = f"JCT{self.jct_seq:07d}"
        self.rows["erp_job_cost"].append({"row_id": rid, "sub_job": "", **row})
        return rid

    def answer(self, situation, job, code, ref, amount_cents, found_by):
        self.answers.append({"situation": situation, "job_id": job, "cost_code": code,
                             "reference": ref, "amount": f"{amount_cents / 100:.2f}",
                             "found_by": found_by})

    # -- the company -------------------------------------------------------------------------
    def build(self):
        spec, rng = self.spec, self.rng
        n = spec.n_jobs
        roles = {0: "loss", 1: "fade", 2: "underbilled", 3: "overbilled", 4: "stale",
                 5: "commit_over", 6: "prime_co_missing", 7: "cco_not_exported",
                 8: "default_code", 9: "sub_invoice_missing", 10: "owner_invoice_diff",
                 11: "direct_cost_dup", 12: "paid_unpaid", 13: "timing"}
        completed = set(range(n - spec.n_completed, n))
        numbers = sorted(rng.choice(np.arange(100, 999), size=n, replace=False))
        for j in range(n):
            role = roles.get(j, "clean")
            job_id = f"00{numbers[j]}"
            self.job(j, job_id, role, j in completed)
        self.vendors()

    def job(self, j: int, job_id: str, role: str, completed: bool):
        rng, cur = self.rng, self.cur
        if completed:
            e = 18 + (j * 3) % 10 if j != self.spec.n_jobs - 1 else cur  # 2026, last one in 10
            d = int(rng.integers(6, 16))
            s = max(0, e - d + 1)
        else:
            d = int(rng.integers(10, 27))
            frac = float(rng.uniform(0.25, 0.85)) if role == "clean" else {
                "loss": 0.55, "fade": 0.7, "underbilled": 0.6, "overbilled": 0.4, "stale": 0.65,
                "commit_over": 0.5}.get(role, float(rng.uniform(0.35, 0.8)))
            done = max(2, int(round(frac * d)))
            s = cur - done + 1
            if s < 1:
                s, d = 1, max(d, cur + 3)
            e = s + d - 1
            if e <= cur:
                e = cur + 2
                d = e - s + 1
        big = role in ("loss", "fade")
        lo, hi = (np.log(3e6), np.log(2.4e7)) if big else (np.log(3.5e5), np.log(4.2e7))
        contract = _c(np.exp(rng.uniform(lo, hi)) * 100 / 1000) * 1000  # whole $10
        margin = {"loss": 0.06, "fade": 0.145}.get(role, float(rng.uniform(0.07, 0.17)))
        est_total = _c(contract * (1 - margin))
        k = int(rng.integers(*self.spec.codes_per_job))
        must = [0, 1, 2]  # PM, temporary facilities, equipment
        pick = sorted(set(must) | set(rng.choice(np.arange(3, len(COST_CODES)), size=k,
                                                 replace=False).tolist()))
        if role == "direct_cost_dup" and 11 not in pick:
            pick = sorted(set(pick) | {11})
        cc = [COST_CODES[i] for i in pick]
        w = rng.dirichlet(np.full(len(cc), 2.0))
        budget0 = np.floor(w * est_total).astype(np.int64)
        budget0[-1] += est_total - budget0.sum()
        name = PROJECT_NAMES[j % len(PROJECT_NAMES)]
        owner = OWNERS[j % len(OWNERS)]
        job = dict(job_id=job_id, name=name, owner=owner, s=s, e=e, d=d, contract=contract,
                   margin=margin, cc=cc, budget0=budget0, role=role, completed=completed)
        self.emit_job(j, job)

    def emit_job(self, j, job):
        rng, cur, T = self.rng, self.cur, self.T
        s, e, role = job["s"], job["e"], job["role"]
        mths = np.arange(T)
        # S-curve: cumulative share of the job's cost at each month end.
        cum_share = _smooth((mths - s + 1) / job["d"])
        cum_share[mths < s] = 0.0
        cum_share[mths >= e] = 1.0
        ncc = len(job["cc"])
        # Prime change orders (approved ones also carry cost, booked to a budget line).
        pcos = self.prime_change_orders(job)
        co_cost = np.zeros((ncc, T), dtype=np.int64)  # approved CO cost by code, cumulative
        for co in pcos:
            if co["status_family"] == "approved" and co["approved_m"] <= cur:
                i = int(rng.integers(ncc))
                co_cost[i, co["approved_m"]:] += _c(co["amount"] * (1 - job["margin"]))
        budget = job["budget0"][:, None] + co_cost  # revised budget by code and month
        final_budget = budget[:, -1]
        over = {"loss": (0.16, 0.26), "fade": (0.12, 0.16)}.get(role, (-0.03, 0.0))
        f = rng.uniform(*over, size=ncc)
        final = np.round(final_budget * (1 + f)).astype(np.int64)  # final cost by code
        cum = np.round(final[:, None] * cum_share[None, :]).astype(np.int64)
        know = np.minimum(1.0, cum_share * (2.2 if role == "loss" else 1.5))
        eac = np.round(budget + (final[:, None] - budget) * know[None, :]).astype(np.int64)
        eac = np.maximum(eac, cum)
        etc = eac - cum
        etc[:, mths >= e] = 0
        stale_code = None
        if role == "stale":
            i = int(np.argmax(np.where([c[2] == "S" for c in job["cc"]], final, -1)))
            stale_code = i
            etc[i, cur - 3:cur + 1] = etc[i, cur - 4]
        job.update(budget=budget, final=final, cum=cum, etc=etc, cum_share=cum_share, pcos=pcos)
        self.emit_master(job)
        self.emit_costs(job)
        self.emit_billing(job)
        self.emit_budget(job)
        self.emit_gl(job)
        self.plant(job, stale_code)

    # -- prime contract and its change orders ------------------------------------------------
    def prime_change_orders(self, job) -> list[dict]:
        rng, cur = self.rng, self.cur
        s, last = job["s"], min(job["e"], self.cur)
        out = []
        k = int(rng.integers(1, 5))
        statuses = ["approved"] * 6 + ["pending", "pricing", "draft", "rejected", "void"]
        for i in range(k):
            status = statuses[int(rng.integers(len(statuses)))] if i else "approved"
            m = int(rng.integers(s, last + 1))
            amt = _c(job["contract"] * rng.uniform(0.01, 0.06) / 100) * 100
            if status == "rejected" or rng.random() < 0.15:
                amt = -abs(amt) if status == "approved" and rng.random() < 0.5 else amt
            out.append(dict(co_number=f"{i + 1:03d}", status=status,
                            status_family=CO_STATUS_FAMILY[status], amount=amt, approved_m=m,
                            approved_date=self.day(m, int(rng.integers(3, 26)))
                            if status == "approved" else pd.NaT,
                            created_date=self.day(max(s, m - 1), int(rng.integers(1, 20))),
                            title=rng.choice(["Owner-requested scope change",
                                              "Unforeseen site condition", "Design revision ASI",
                                              "Allowance reconciliation", "Added alternates"])))
        if job["role"] == "prime_co_missing":
            out.append(dict(co_number=f"{k + 1:03d}", status="approved", status_family="approved",
                            amount=18_500_000, approved_m=cur,
                            approved_date=self.day(cur, 14), created_date=self.day(cur, 2),
                            title="Added generator and switchgear", planted="missing"))
        if job["role"] == "timing":
            out.append(dict(co_number=f"{k + 1:03d}", status="approved", status_family="approved",
                            amount=9_240_000, approved_m=cur + 1,
                            approved_date=pd.Timestamp(self.end(cur)) + pd.Timedelta(days=3),
                            created_date=self.day(cur, 20), title="Revised canopy steel",
                            planted="after_period"))
        return out

    def emit_master(self, job):
        rng = self.rng
        jid, s, e = job["job_id"], job["s"], job["e"]
        complete = job["completed"]
        self.rows["jobs"].append(dict(
            job_id=jid, job_name=job["name"], status="complete" if complete else "active",
            start_date=self.day(s, 1 + int(rng.integers(0, 10))),
            completion_date=self.end(e) - pd.Timedelta(days=int(rng.integers(0, 9))),
            customer=job["owner"], project_manager=PMS[int(rng.integers(len(PMS)))],
            procore_project_id=5_000_000 + int(jid), erp_status="synced"))
        rule_pick = int(rng.integers(3))
        rate, rule = [(0.10, "flat"), (0.05, "flat"), (0.10, "sliding:10>5@50")][rule_pick]
        job["retainage"] = (rate, rule)
        approved = [c for c in job["pcos"] if c["status_family"] == "approved"]
        pending = [c for c in job["pcos"] if c["status_family"] == "pending"]
        self.rows["prime_contracts"].append(dict(
            job_id=jid, contract_number="1", title=f"{job['name']} - Prime Contract",
            owner=job["owner"], status="Complete" if complete else "Approved", executed=True,
            original_amount=job["contract"],
            approved_change_orders=sum(c["amount"] for c in approved),
            pending_change_orders=sum(c["amount"] for c in pending),
            retainage_percent=rate, retainage_rule=rule, erp_status="synced",
            origin_id=f"JCM-{jid}"))
        booked = 0
        for c in job["pcos"]:
            planted = c.get("planted")
            in_erp = c["status_family"] == "approved" and not planted
            self.rows["prime_change_orders"].append(dict(
                job_id=jid, contract_number="1", co_number=c["co_number"], title=c["title"],
                status=c["status"].title() if c["status"] != "pricing" else "Pricing",
                status_family=c["status_family"], amount=c["amount"],
                created_date=c["created_date"], approved_date=c["approved_date"],
                erp_status="synced" if in_erp else ("ready_to_export" if planted else "not_in_erp"),
                erp_status_date=(c["approved_date"] + pd.Timedelta(days=1 if in_erp else 0))
                if c["status_family"] == "approved" else pd.NaT,
                origin_id=f"CO-{jid}-{c['co_number']}" if in_erp else None))
            if in_erp:
                posted = c["approved_date"] + pd.Timedelta(days=2)
                if posted > self.end(self.cur):
                    posted = self.end(self.cur)
                booked += c["amount"]
                self.rows["erp_contract_change_orders"].append(dict(
                    job_id=jid, co_number=c["co_number"], amount=c["amount"],
                    posted_date=posted, period=str(posted.to_period("M"))))
        self.rows["erp_jobs"].append(dict(
            job_id=jid, job_id_raw=f"{jid}   ", job_name=job["name"][:30],
            status="closed" if complete else "open", original_contract=job["contract"],
            approved_change_orders=booked, revised_contract=job["contract"] + booked))
        job["tp"] = np.array([job["contract"] + sum(
            c["amount"] for c in approved if c["approved_date"] <= self.end(m))
            for m in range(self.T)], dtype=np.int64)

    # -- cost: commitments, invoices, job-cost transactions -----------------------------------
    def emit_costs(self, job):
        rng, cur = self.rng, self.cur
        jid = job["job_id"]
        job["commitments"] = {}
        sc_n = po_n = 0
        for i, (code, desc, ctype, trade) in enumerate(job["cc"]):
            monthly = np.diff(np.concatenate([[0], job["cum"][i]]))
            erp_code = ERP_CODE_DIFFERENCES.get(code, code)
            erp_raw = erp_code.replace("-", "")  # Sage masks the code without a separator
            final = int(job["final"][i])
            commitment = None
            if ctype == "S" or (ctype == "M" and trade and rng.random() < 0.7):
                vendor = self.vendor(trade)
                if ctype == "S":
                    sc_n += 1
                    num, ctyp = f"SC-{sc_n:03d}", "subcontract"
                else:
                    po_n += 1
                    num, ctyp = f"PO-{po_n:03d}", "purchase_order"
                started = np.flatnonzero(monthly > 0)
                first_m = int(started[0]) if len(started) else job["s"]
                commitment = self.commitment(job, i, num, ctyp, vendor, final, first_m)
            for m in np.flatnonzero(monthly[: cur + 1]):
                amt = int(monthly[m])
                per = self.period(m)
                if ctype == "S" and commitment:
                    self.sub_invoice(job, commitment, m, amt, code, erp_code, erp_raw, ctype)
                elif ctype == "M":
                    vendor = commitment["vendor_name"] if commitment else self.vendor("supplies")
                    for p in _split(amt, int(rng.integers(1, 3)), rng):
                        inv = self.unique_invoice(vendor, f"{int(rng.integers(10000, 99999))}")
                        d = self.day(m, int(rng.integers(2, 26)))
                        paid = d + pd.Timedelta(days=30)
                        rid = self.jct(job_id=jid, cost_code=erp_code, cost_code_raw=erp_raw,
                                       cost_type=ctype, source="AP", transaction_date=d,
                                       accounting_date=self.end(m), period=per,
                                       vendor_name=vendor, document_number=inv,
                                       description=f"{desc} materials", amount=int(p), hours=0.0,
                                       commitment_number=commitment["commitment_number"]
                                       if commitment else "")
                        self.rows["erp_ap_invoices"].append(dict(
                            job_id=jid, vendor_name=vendor, invoice_number=inv,
                            commitment_number=commitment["commitment_number"] if commitment else "",
                            invoice_date=d, period=per, amount=int(p), retainage_held=0,
                            amount_paid=int(p) if paid <= self.end(cur) else 0,
                            paid_date=paid if paid <= self.end(cur) else pd.NaT))
                        job.setdefault("ap_rows", []).append((rid, vendor, inv, int(p), code, m))
                        if commitment:  # PO invoices reach Procore's commitment through the sync
                            commitment["invoiced"] += int(p)
                            commitment["_erp_invoiced"] = commitment.get("_erp_invoiced", 0) + int(p)
                elif ctype == "L":
                    for p in _split(amt, int(rng.integers(2, 5)), rng):
                        self.jct(job_id=jid, cost_code=erp_code, cost_code_raw=erp_raw,
                                 cost_type=ctype, source="PR",
                                 transaction_date=self.day(m, int(rng.integers(1, 28))),
                                 accounting_date=self.end(m), period=per, vendor_name="",
                                 document_number=f"PR{per.replace('-', '')}{int(rng.integers(10, 99))}",
                                 description="Payroll", amount=int(p),
                                 hours=round(int(p) / 100 / 68.5, 2), commitment_number="")
                elif ctype == "E":
                    parts = _split(amt, 2, rng)
                    for q, p in enumerate(parts):
                        src = "EQ" if q == 0 else "AP"
                        self.jct(job_id=jid, cost_code=erp_code, cost_code_raw=erp_raw,
                                 cost_type=ctype, source=src,
                                 transaction_date=self.day(m, 20), accounting_date=self.end(m),
                                 period=per, vendor_name="" if src == "EQ" else self.vendor(
                                     "equipment"),
                                 document_number=f"EQ{per.replace('-', '')}" if src == "EQ"
                                 else f"R{int(rng.integers(100000, 999999))}",
                                 description="Equipment usage" if src == "EQ" else "Rental",
                                 amount=int(p), hours=round(int(p) / 100 / 95.0, 2)
                                 if src == "EQ" else 0.0, commitment_number="")
                else:  # O: entered in Procore as direct costs, exported to the ERP as JC entries
                    dc = f"DC-{jid}-{m:02d}{i:02d}"
                    d = self.day(m, 15)
                    self.rows["direct_costs"].append(dict(
                        job_id=jid, direct_cost_id=dc, line_number=1, direct_cost_type="expense",
                        status="approved", direct_cost_date=d, vendor_name="",
                        invoice_number="", description=f"{desc} - monthly", cost_code=code,
                        cost_code_raw=code, cost_type=ctype, amount=amt, origin_id=None))
                    self.jct(job_id=jid, cost_code=erp_code, cost_code_raw=erp_raw,
                             cost_type=ctype, source="JC", transaction_date=d,
                             accounting_date=self.end(m), period=per, vendor_name="",
                             document_number=dc, description=f"{desc} - monthly", amount=amt,
                             hours=0.0, commitment_number="")
            # The ERP's own budget lines share the export; they are not cost.
            self.not_cost.append(dict(job_id=jid, cost_code=erp_raw, cost_type=ctype,
                                      transaction_type="Original estimate",
                                      transaction_date=self.day(job["s"], 1).strftime("%m/%d/%Y"),
                                      accounting_date=self.end(job["s"]).strftime("%m/%d/%Y"),
                                      amount=f"{int(job['budget0'][i]) / 100:.2f}",
                                      description="Original estimate"))

    def commitment(self, job, i, num, ctyp, vendor, final, first_m) -> dict:
        rng, cur = self.rng, self.cur
        jid = job["job_id"]
        code, desc, ctype, trade = job["cc"][i]
        original = int(round(final * rng.uniform(0.92, 0.99) / 100)) * 100
        cco = final - original
        approved_m = max(job["s"], first_m - 1)
        complete = job["completed"]
        status = ("Complete" if ctyp == "subcontract" else "Closed") if complete else "Approved"
        if job["role"] == "commit_over" and i == int(np.argmax(job["final"] * np.array(
                [c[2] == "S" for c in job["cc"]]))):
            original = int(round(int(job["budget"][i, cur]) * 1.12 / 100)) * 100
            cco = 0
            job["over_commit"] = (num, code, original - int(job["budget"][i, cur]))
        c = dict(job_id=jid, commitment_number=num, commitment_type=ctyp, vendor_name=vendor,
                 title=f"{desc} - {vendor}", status=status,
                 status_family=COMMITMENT_STATUS_FAMILY[status.lower()], executed=True,
                 original_amount=original, approved_change_orders=0, revised_amount=original,
                 pending_change_orders=0, draft_change_orders=0, invoiced=0, payments_issued=0,
                 remaining_balance=0, retainage_percent=0.10 if ctyp == "subcontract" else 0.0,
                 approved_date=self.day(approved_m, 5), erp_status="synced",
                 erp_status_date=self.day(approved_m, 6), origin_id=f"SCM-{jid}-{num}",
                 _code=code, _ctype=ctype, _i=i)
        cos = []
        if cco > 0:
            cm = min(cur, max(approved_m, first_m + 2))
            cos.append(dict(co_number="001", status="Approved", amount=cco, m=cm))
        if not complete and rng.random() < 0.35:
            cos.append(dict(co_number=f"{len(cos) + 1:03d}", status=["Pending", "Draft", "Void",
                                                                     "Rejected"][int(rng.integers(4))],
                            amount=int(round(final * rng.uniform(0.005, 0.02) / 100)) * 100,
                            m=cur))
        if job["role"] == "cco_not_exported" and ctyp == "subcontract" and not job.get("cco_planted"):
            cos.append(dict(co_number=f"{len(cos) + 1:03d}", status="Approved", amount=4_315_000,
                            m=cur - 1, planted=True))
            job["cco_planted"] = (num, code, f"{num} CO {len(cos):03d}", 4_315_000)
        erp_approved = 0
        for co in cos:
            fam = CO_STATUS_FAMILY[co["status"].lower()]
            planted = co.get("planted")
            synced = fam == "approved" and not planted
            approved_date = self.day(co["m"], 20) if fam == "approved" else pd.NaT
            self.rows["commitment_change_orders"].append(dict(
                job_id=jid, commitment_number=num, co_number=co["co_number"],
                title="Scope adjustment" if not planted else "Added embeds per RFI 112",
                status=co["status"], status_family=fam, cost_code=code, cost_code_raw=code,
                cost_type=ctype, amount=co["amount"], created_date=self.day(co["m"], 8),
                approved_date=approved_date,
                erp_status="synced" if synced else ("failed_to_export" if planted else
                                                    "not_in_erp"),
                erp_status_date=approved_date + pd.Timedelta(days=1) if fam == "approved"
                else pd.NaT,
                origin_id=f"CCO-{jid}-{num}-{co['co_number']}" if synced else None))
            if fam == "approved":
                c["approved_change_orders"] += co["amount"]
                if synced:
                    erp_approved += co["amount"]
            elif fam == "pending":
                c["pending_change_orders"] += co["amount"]
            elif co["status"] == "Draft":
                c["draft_change_orders"] += co["amount"]
        c["revised_amount"] = c["original_amount"] + c["approved_change_orders"]
        c["_erp_approved"] = erp_approved
        c["_cos"] = cos
        job["commitments"][num] = c
        return c

    def sub_invoice(self, job, c, m, amt, code, erp_code, erp_raw, ctype):
        rng, cur = self.rng, self.cur
        jid = job["job_id"]
        c.setdefault("_apps", [])
        n = len(c["_apps"]) + 1
        rate = c["retainage_percent"]
        ret = int(round(amt * rate))
        prior = c["_apps"][-1] if c["_apps"] else None
        billing = self.day(m, 25)
        inv = f"{c['vendor_name'][:3].upper()}-{jid[-3:]}{c['commitment_number'][-2:]}{n:02d}"
        paid_on = billing + pd.Timedelta(days=int(rng.integers(30, 50)))
        paid = paid_on <= self.end(cur)
        app = dict(job_id=jid, commitment_number=c["commitment_number"],
                   vendor_name=c["vendor_name"], invoice_number=inv, application_number=n,
                   billing_date=billing, period_start=self.day(m, 1), period_end=self.end(m),
                   status="approved", approved_date=billing + pd.Timedelta(days=3),
                   work_completed_this_period=amt,
                   total_completed_to_date=(prior["total_completed_to_date"] if prior else 0) + amt,
                   retainage_this_period=ret,
                   retainage_to_date=(prior["retainage_to_date"] if prior else 0) + ret,
                   amount_due=amt - ret, payment_status="paid" if paid else "unpaid",
                   erp_status="synced", erp_status_date=billing + pd.Timedelta(days=4),
                   origin_id=f"APM-{inv}")
        c["_apps"].append(app)
        self.rows["subcontractor_invoices"].append(app)
        planted_missing = (job["role"] == "sub_invoice_missing" and m == cur
                           and not job.get("missing_ap"))
        if planted_missing:
            app.update(erp_status="ready_to_export", origin_id=None,
                       erp_status_date=app["approved_date"])
            job["missing_ap"] = (inv, code, amt)
            return
        rid = self.jct(job_id=jid, cost_code=erp_code, cost_code_raw=erp_raw, cost_type=ctype,
                       source="AP", transaction_date=billing, accounting_date=self.end(m),
                       period=self.period(m), vendor_name=c["vendor_name"], document_number=inv,
                       description=f"Pay app {n}", amount=amt, hours=0.0,
                       commitment_number=c["commitment_number"])
        self.rows["erp_ap_invoices"].append(dict(
            job_id=jid, vendor_name=c["vendor_name"], invoice_number=inv,
            commitment_number=c["commitment_number"], invoice_date=billing, period=self.period(m),
            amount=amt, retainage_held=ret, amount_paid=amt - ret if paid else 0,
            paid_date=paid_on if paid else pd.NaT))
        c["invoiced"] += amt
        c["_erp_invoiced"] = c.get("_erp_invoiced", 0) + amt
        if paid:
            c["payments_issued"] += amt - ret
        del rid

    # -- billing -----------------------------------------------------------------------------
    def emit_billing(self, job):
        rng, cur, T = self.rng, self.cur, self.T
        jid, s, e = job["job_id"], job["s"], job["e"]
        ctd = job["cum"].sum(axis=0)
        eac = ctd + job["etc"].sum(axis=0)
        tp = job["tp"]
        er = np.where(eac > 0, [(int(tp[m]) * int(ctd[m]) * 2 + int(eac[m])) // (2 * int(eac[m]))
                                if eac[m] else 0 for m in range(T)], 0).astype(np.int64)
        bias = {"underbilled": -0.24, "overbilled": 0.16}.get(job["role"],
                                                              float(rng.uniform(-0.02, 0.045)))
        billed = np.zeros(T, dtype=np.int64)
        prev = 0
        for m in range(s, min(e, cur) + 1):
            target = int(round(int(er[m]) * (1 + bias) / 100)) * 100
            target = min(max(target, prev), int(tp[m]))
            if m >= e:
                target = int(tp[m])
            billed[m] = target
            prev = target
        billed[min(e, cur) + 1:] = prev if e > cur else billed[min(e, cur) + 1:]
        for m in range(min(e, cur) + 1, T):
            billed[m] = billed[m - 1]
        job["billed"] = billed
        rate, rule = job["retainage"]
        ret_total = 0
        n = 0
        for m in range(s, min(e, cur) + 1):
            work = int(billed[m] - (billed[m - 1] if m else 0))
            if work <= 0:
                continue
            n += 1
            pct_billed = billed[m - 1] / tp[m] if m else 0
            r = 0.05 if rule.startswith("sliding") and pct_billed >= 0.5 else rate
            ret = int(round(work * r))
            ret_total += ret
            inv = f"{jid}-{n:03d}"
            billing = self.day(m, 25)
            paid = billing + pd.Timedelta(days=45) <= self.end(cur)
            row = dict(job_id=jid, contract_number="1", invoice_number=inv, application_number=n,
                       billing_date=billing, period_start=self.day(m, 1), period_end=self.end(m),
                       status="approved", work_completed_this_period=work,
                       total_completed_to_date=int(billed[m]), retainage_this_period=ret,
                       retainage_to_date=ret_total, amount_due=work - ret, erp_status="synced",
                       erp_status_date=billing + pd.Timedelta(days=2), origin_id=f"ART-{inv}")
            self.rows["owner_invoices"].append(row)
            self.rows["erp_ar_billings"].append(dict(
                job_id=jid, invoice_number=inv, invoice_date=billing, period=self.period(m),
                amount_billed=work, retainage=ret, amount_paid=work - ret if paid else 0,
                description=f"Pay application {n}"))
            job["last_owner_invoice"] = row
        job["retainage_to_date"] = ret_total
        job["er"] = er

    # -- budget snapshots --------------------------------------------------------------------
    def emit_budget(self, job):
        cur = self.cur
        jid, s, e = job["job_id"], job["s"], job["e"]
        directs: dict[str, list] = {}
        for r in self.rows["direct_costs"]:
            if r["job_id"] == jid:
                directs.setdefault(r["cost_code"], []).append(r)
        for m in range(s, min(e, cur) + 1):
            end = self.end(m)
            for i, (code, desc, ctype, trade) in enumerate(job["cc"]):
                committed = pending = 0
                for c in job["commitments"].values():
                    if c["_i"] != i or c["approved_date"] > end:
                        continue
                    committed += c["original_amount"] + sum(
                        co["amount"] for co in c["_cos"] if co["status"] == "Approved"
                        and self.day(co["m"], 20) <= end)
                    pending += sum(co["amount"] for co in c["_cos"] if co["status"] == "Pending"
                                   and self.day(co["m"], 8) <= end)
                direct = sum(r["amount"] for r in directs.get(code, ())
                             if r["direct_cost_date"] <= end) if ctype == "O" else 0
                jtd = int(job["cum"][i, m])
                # The PM's estimated cost at completion of the line: the ERP's cost so far plus
                # what is still to come (the company's estimate the WIP figures are built on).
                ecac = jtd + int(job["etc"][i, m])
                if job.get("missing_ap") and job["missing_ap"][1] == code and m == cur:
                    jtd -= job["missing_ap"][2]  # the connector has not seen it yet
                orig = int(job["budget0"][i])
                revised = int(job["budget"][i, m])
                projected_costs = committed + direct + pending
                # Procore: Forecast To Complete is what the PM expects beyond Projected Costs,
                # so that ECAC = Projected Costs + FTC; it is not ECAC - Job to Date Costs.
                ftc = ecac - projected_costs
                self.rows["budget"].append(dict(
                    job_id=jid, period=self.period(m), sub_job="", cost_code=code,
                    cost_code_raw=code, cost_type=ctype, description=desc, original_budget=orig,
                    budget_modifications=0, approved_cos=revised - orig, revised_budget=revised,
                    pending_budget_changes=0, projected_budget=revised, committed_costs=committed,
                    direct_costs=direct, job_to_date_costs=jtd, pending_cost_changes=pending,
                    projected_costs=projected_costs, forecast_to_complete=ftc,
                    estimated_cost_at_completion=ecac,
                    projected_over_under=revised - ecac))

    # -- WIP figures the GL holds for closed periods ------------------------------------------
    def wip_figures(self, job, m):
        ctd = int(job["cum"][:, m].sum())
        etc = int(job["etc"][:, m].sum())
        # ERP cost on the default code is real cost in the books: the closed WIP included it
        # (at its cost: Procore's budget has no line for it, so nothing more is to come).
        ctd += sum(a for mm, a in job.get("default_cost_by_m", {}).items() if mm <= m)
        eac = ctd + etc
        tp = int(job["tp"][m])
        b = int(job["billed"][m])
        er = (2 * tp * ctd + eac) // (2 * eac) if eac else 0
        prov = max(0, (er - ctd) - (tp - eac)) if eac > tp else 0
        return dict(tp=tp, ctd=ctd, etc=etc, eac=eac, er=er, b=b, prov=prov)

    def emit_gl(self, job):
        pass  # written after planting (planted cost changes the closed figures)

    def gl(self, job):
        jid, s, e = job["job_id"], job["s"], job["e"]
        for m in range(s, self.cur):
            f = self.wip_figures(job, m)
            if m >= e:
                f.update(er=f["tp"], prov=0, b=f["tp"])
            ob = f["b"] - f["er"]
            for acct, name, bal in (("1250", "Costs and estimated earnings in excess of billings",
                                     max(-ob, 0)),
                                    ("2150", "Billings in excess of costs and estimated earnings",
                                     -max(ob, 0)),
                                    ("2160", "Accrued loss on contracts", -f["prov"])):
                self.gl_rows.append(dict(period=self.period(m), account=acct, account_name=name,
                                         job_id=jid, balance=bal))

    # -- planted situations ------------------------------------------------------------------
    def plant(self, job, stale_code):
        cur = self.cur
        jid, role = job["job_id"], job["role"]
        if role == "default_code":
            # Three labour-burden entries posted to the ERP's catch-all code, from 2026-08 on.
            total = 0
            for m, amt in ((cur - 2, 612_450), (cur - 1, 598_300), (cur, 613_300)):
                self.jct(job_id=jid, cost_code="99-999", cost_code_raw="99999", cost_type="L",
                         source="JC", transaction_date=self.day(m, 28),
                         accounting_date=self.end(m), period=self.period(m), vendor_name="",
                         document_number=f"JE{self.period(m).replace('-', '')}-14",
                         description="Labor burden allocation", amount=amt, hours=0.0,
                         commitment_number="")
                total += amt
            job["default_cost_by_m"] = {cur - 2: 612_450, cur - 1: 598_300, cur: 613_300}
            self.answer("ERP cost posted to an unmapped or default cost code", jid, "99-999",
                        "99-999 Unassigned", total, "reconcile")
        if role == "direct_cost_dup" and job.get("ap_rows"):
            rid, vendor, inv, amt, code, m = job["ap_rows"][-1]
            self.rows["direct_costs"].append(dict(
                job_id=jid, direct_cost_id=f"DC-{jid}-ERP1", line_number=1,
                direct_cost_type="invoice", status="approved",
                direct_cost_date=self.day(m, 27), vendor_name=vendor, invoice_number=inv,
                description="Imported from ERP", cost_code=code, cost_code_raw=code,
                cost_type="M", amount=amt, origin_id=rid))
            self.answer("Procore direct cost duplicates an ERP transaction", jid, code, inv, amt,
                        "reconcile")
        if role == "paid_unpaid":
            apps = [a for c in job["commitments"].values() for a in c.get("_apps", [])
                    if a["payment_status"] == "paid"]
            a = max(apps, key=lambda x: (x["billing_date"], x["invoice_number"]))
            a["payment_status"] = "unpaid"
            self.answer("ERP paid an invoice that Procore shows unpaid", jid, "", a["invoice_number"],
                        a["amount_due"], "reconcile")
        if role == "owner_invoice_diff":
            row = job["last_owner_invoice"]
            row["work_completed_this_period"] += 1_425_000
            row["total_completed_to_date"] += 1_425_000
            row["amount_due"] += 1_425_000
            self.answer("Procore owner invoice differs from ERP AR", jid, "", row["invoice_number"],
                        1_425_000, "reconcile")
        if role == "sub_invoice_missing" and job.get("missing_ap"):
            inv, code, amt = job["missing_ap"]
            self.answer("Subcontractor invoice approved in Procore, not in AP at period end", jid,
                        code, inv, amt, "reconcile")
        if role == "prime_co_missing":
            co = next(c for c in job["pcos"] if c.get("planted") == "missing")
            self.answer("Prime change order approved in Procore, absent in the ERP", jid, "",
                        co["co_number"], co["amount"], "reconcile")
        if job.get("cco_planted"):
            num, code, ref, amt = job["cco_planted"]
            co_number = ref.split(" CO ")[1]
            self.answer("Commitment change order approved but never exported", jid, code,
                        f"{num}/{co_number}", amt, "reconcile")
        if job.get("over_commit"):
            num, code, excess = job["over_commit"]
            self.answer("Commitment above its budget line", jid, code, num, excess, "forecast")
        if stale_code is not None:
            code = job["cc"][stale_code][0]
            rise = int(job["cum"][stale_code, cur] - job["cum"][stale_code, cur - 4])
            self.answer("Stale forecast: unchanged for 4 periods while cost rose", jid, code,
                        "forecast to complete", rise, "forecast")
        self.finish_commitments(job)
        self.gl(job)
        f = self.wip_figures(job, cur)
        if role == "loss":
            self.answer("Loss job: full anticipated loss", jid, "", "", f["tp"] - f["eac"],
                        "schedule")
        if role == "fade":
            bid = job["contract"] - int(job["budget0"].sum())
            self.answer("Margin fade from double-digit to low single digits", jid, "", "",
                        (f["tp"] - f["eac"]) - bid, "schedule")
        if role == "underbilled":
            self.answer("Heavily underbilled job", jid, "", "", f["er"] - f["b"], "schedule")
        if role == "overbilled":
            self.answer("Overbilled job", jid, "", "", f["b"] - f["er"], "schedule")

    def finish_commitments(self, job):
        jid = job["job_id"]
        for c in job["commitments"].values():
            c["remaining_balance"] = c["revised_amount"] - c["payments_issued"]
            row = {k: v for k, v in c.items() if not k.startswith("_")}
            self.rows["commitments"].append(row)
            self.rows["commitment_lines"].append(dict(
                job_id=jid, commitment_number=c["commitment_number"], line_number=1,
                cost_code=c["_code"], cost_code_raw=c["_code"], cost_type=c["_ctype"],
                description=c["title"], amount=c["revised_amount"]))
            # Closed POs are out of Procore's committed costs but still in the ERP (closed there).
            if c["status_family"] == "committed" or c["status"] == "Closed":
                erp_rev = c["original_amount"] + c["_erp_approved"]
                self.rows["erp_commitments"].append(dict(
                    job_id=jid, commitment_number=c["commitment_number"],
                    commitment_type=c["commitment_type"], vendor_name=c["vendor_name"],
                    status="closed" if job["completed"] else "open",
                    original_amount=c["original_amount"], approved_change_orders=c["_erp_approved"],
                    revised_amount=erp_rev, invoiced=c.get("_erp_invoiced", 0)))

    def vendors(self):
        for name, vid in sorted(self.vendor_ids.items(), key=lambda kv: kv[1]):
            self.rows["erp_vendors"].append(dict(vendor_id=vid, vendor_name=name, status="active"))
            self.rows["procore_vendors"].append(dict(vendor_name=name,
                                                     procore_vendor_id=8_000_000 + int(vid[1:]),
                                                     erp_vendor_id=vid, is_active=True))
        self.rows["procore_vendors"].append(dict(vendor_name=PROCORE_ONLY_VENDOR,
                                                 procore_vendor_id=8_009_999, erp_vendor_id="",
                                                 is_active=True))
        self.answer("Vendor present in one system only", "", "", PROCORE_ONLY_VENDOR, 0, "reconcile")
        for code, desc, ctype, trade in COST_CODES:
            erp = ERP_CODE_DIFFERENCES.get(code, code)
            self.rows["erp_cost_codes"].append(dict(cost_code=erp, cost_code_raw=erp.replace("-", ""),
                                                    description=desc, is_active=True,
                                                    is_default=False))
        self.rows["erp_cost_codes"].append(dict(cost_code=DEFAULT_ERP_CODE[0],
                                                cost_code_raw=DEFAULT_ERP_CODE[0].replace("-", ""),
                                                description=DEFAULT_ERP_CODE[1], is_active=True,
                                                is_default=False))
        for p, e in ERP_CODE_DIFFERENCES.items():
            self.rows["cost_code_crosswalk"].append(dict(procore_cost_code=p, erp_cost_code=e,
                                                         job_id=""))


def canonical_frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts of canonical values) as the canonical table ``name``: every column of the data
    model, typed, a missing column filled with its default."""
    t = schema.get(name)
    if not rows:
        return t.empty()
    df = pd.DataFrame(rows)
    out = {}
    for c in t.columns:
        if c.name not in df.columns:
            s = pd.Series([c.default] * len(df))
        else:
            s = df[c.name]
        if c.kind == "date":
            out[c.name] = pd.to_datetime(s).astype("datetime64[us]")
        elif c.kind == "money":
            out[c.name] = s.fillna(0).astype("int64")
        else:
            out[c.name] = s.astype(c.dtype)
    return pd.DataFrame(out)


def generate(spec: SampleSpec = SampleSpec()) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict]:
    """Canonical tables, the answer key, and extras (the ERP's not-cost rows, GL balances, the
    billing documents of :mod:`wip_lib.sample.billing_documents`)."""
    b = _Builder(spec)
    b.build()
    b.rows["gl_balances"] = b.gl_rows
    billing = add_billing_documents(b.rows, spec.current, spec.seed)  # additive: new rows only
    for name, extra in billing.rows.items():
        b.rows[name] = b.rows[name] + extra
    tables = {name: canonical_frame(name, rows) for name, rows in b.rows.items()}
    sort_keys = {"erp_job_cost": ["row_id"], "budget": ["job_id", "period", "cost_code", "cost_type"],
                 "gl_balances": ["period", "job_id", "account"]}
    for name, t in schema.TABLES.items():
        keys = sort_keys.get(name, list(t.key))
        if keys and len(tables[name]):
            tables[name] = tables[name].sort_values(keys, kind="stable").reset_index(drop=True)
    answers = pd.DataFrame(b.answers + billing.answers, columns=ANSWER_COLUMNS)
    return tables, answers, {"not_cost": pd.DataFrame(b.not_cost), "billing": billing}


def company_settings(spec: SampleSpec) -> dict:
    return {
        "name": spec.name,
        "current_period": spec.current,
        "fiscal_year_end_month": 12,
        "procore_locale": "en-US",
        "erp": {"profile": "sage300"},
        "default_cost_codes": [DEFAULT_ERP_CODE[0]],
        "policies": {"include_pending_co_revenue": False, "start_threshold": 0.0,
                     "net_loss_provision": False, "stale_forecast_periods": 3,
                     "fade_threshold_points": 0.03},
        "materiality": {"amount_cents": 100_000, "pct": 0.005},
    }


def _invoice_folder_rows(name: str, df: pd.DataFrame, folder_only: dict) -> pd.Series:
    """Rows of an invoice list that exist only as their G703 file (pay applications under
    review): left out of the list export."""
    keys = folder_only.get(name)
    if not keys or df.empty:
        return pd.Series(False, index=df.index)
    contract = "commitment_number" if name.startswith("subcontractor") else "contract_number"
    at = list(zip(df["job_id"].astype(str), df[contract].astype(str),
                  df["application_number"].astype(int)))
    return pd.Series([k in keys for k in at], index=df.index)


def _invoice_facts(name: str, facts: dict) -> dict | None:
    """The Label,Value lines above the G703 of each pay application that has no list row."""
    if not name.endswith("_invoice_lines"):
        return None
    table = "owner_invoices" if name.startswith("owner") else "subcontractor_invoices"
    return {k[1:]: v for k, v in facts.items() if k[0] == table}


def _invoice_files(name: str, df: pd.DataFrame, folder: pd.Series) -> pd.Series:
    """The file each row is read from: its pay application's G703 file, or the list."""
    base = "procore/owner_invoices" if name.startswith("owner") else \
        "procore/subcontractor_invoices"
    contract = "commitment_number" if name.startswith("subcontractor") else "contract_number"
    per_file = (base + "/" + df["job_id"].astype(str) + "/" + df[contract].astype(str) + "/"
                + df["application_number"].astype(int).astype(str) + ".csv")
    if name.endswith("_invoice_lines"):
        return per_file
    return per_file.where(folder.to_numpy(), f"{base}.csv")


def not_cost_rows(extras: dict) -> pd.DataFrame:
    """The generator's not-cost job-cost rows (original estimates) as canonical columns, for an
    ERP profile to write in its own form (an estimate line, a voided record)."""
    nc = extras.get("not_cost")
    if nc is None or nc.empty:
        return schema.get("erp_job_cost").empty()
    acct = pd.to_datetime(nc["accounting_date"], format="%m/%d/%Y")
    amount, _ = parse_cents(nc["amount"].astype("string"))
    raw = nc["cost_code"].astype("string")
    return canonical_frame("erp_job_cost", [dict(
        job_id=j, cost_code=c, cost_code_raw=r, cost_type=t, source="",
        transaction_date=pd.to_datetime(d, format="%m/%d/%Y"), accounting_date=a,
        period=str(a.to_period("M")), amount=int(m), description=desc, row_id="", sub_job="")
        for j, c, r, t, d, a, m, desc in zip(
            nc["job_id"], codes.normalise(raw), raw, nc["cost_type"], nc["transaction_date"],
            acct, amount.fillna(0), nc["description"])])


def _write_procore(out: Path, name: str, df: pd.DataFrame, billing=None):
    """Write one Procore table (or the crosswalk) as Procore exports it: (paths, control totals).
    ``billing``: the sample's billing documents (pay applications under review exist only as
    their G703 file, with its Label,Value lines)."""
    folder_only = billing.folder_only if billing is not None else {}
    folder = _invoice_folder_rows(name, df, folder_only)
    paths = write_procore_table(out, name, df[~folder.to_numpy()],
                                facts=_invoice_facts(name, billing.facts) if billing is not None
                                else None)
    if name == "budget":
        rel = ("procore/budget/" + df["job_id"].astype(str) + "/" + df["period"].astype(str)
               + ".csv")
    elif name.endswith("_invoice_lines") or folder.any():
        rel = _invoice_files(name, df, folder)
    else:
        fmt = PROCORE_EXPORTS.get(name)
        rel = f"{fmt.path}.csv" if fmt else "crosswalk.csv"
    return paths, control_totals(df.assign(_file=rel), name)


def write_sample(out: Path, spec: SampleSpec = SampleSpec(), erp: str = "sage300",
                 generated: tuple | None = None, procore_from: Path | None = None) -> dict:
    """Write the sample company folder, its ERP side through the ERP profile ``erp`` (any
    built-in profile: the same company in that ERP's export shapes); return {'files': n,
    'rows': n}. ``generated`` is :func:`generate`'s result for ``spec`` when already at hand;
    ``procore_from`` a sample folder of the same spec whose Procore side is copied rather than
    written again (the ERP side is what differs between ERPs)."""
    out = Path(out)
    tables, answers, extras = generated if generated is not None else generate(spec)
    settings = company_settings(spec)
    settings["erp"] = {"profile": erp}
    write_company_yaml(out, settings)
    profile = load_profile(erp)
    if erp != "sage300":
        return _write_other_erp(out, spec, tables, answers, extras, profile, settings,
                                procore_from)
    files = []
    totals = []
    billing = extras["billing"]
    for name, df in tables.items():
        t = schema.get(name)
        if t.system == "company" and name != "cost_code_crosswalk":
            continue  # the company's own optional inputs (uninstalled_materials.csv): none here
        if t.system == "procore" or name == "cost_code_crosswalk":
            paths, total = _write_procore(out, name, df, billing)
            files += paths
            totals.append(total)
        else:
            extra = None
            if name == "erp_job_cost":
                extra = extras["not_cost"]
            path = write_erp_table(out, name, df, profile, extra_rows=extra)
            files.append(path)
            totals.append(control_totals(df.assign(_file=path.relative_to(out).as_posix()), name))
    if len(billing.waivers):
        files.append(write_lien_waivers(out, billing.waivers))
    ct = pd.concat([t for t in totals if len(t)], ignore_index=True).sort_values(
        ["file", "table"], kind="stable")
    ct.to_csv(out / "control_totals.csv", index=False, lineterminator="\n")
    answers.to_csv(out / "answer_key.csv", index=False, lineterminator="\n")
    return {"files": len(files), "rows": int(sum(len(d) for d in tables.values()))}


def _write_other_erp(out: Path, spec: SampleSpec, tables: dict, answers: pd.DataFrame,
                     extras: dict, profile: dict, settings: dict,
                     procore_from: Path | None = None) -> dict:
    """The Procore side as ever; the ERP side through the profile's export shapes."""
    import shutil

    files, totals = [], []
    context = {"company": spec.name, "period": spec.current,
               "fiscal_year_end_month": settings["fiscal_year_end_month"]}
    if procore_from is not None:
        procore_from = Path(procore_from)
        shutil.copytree(procore_from / "procore", out / "procore", dirs_exist_ok=True)
        shutil.copy(procore_from / "crosswalk.csv", out / "crosswalk.csv")
        files += [p for p in (out / "procore").rglob("*.csv")] + [out / "crosswalk.csv"]
        ct = pd.read_csv(procore_from / "control_totals.csv", dtype="string",
                         keep_default_na=False)
        totals.append(ct[ct["file"].str.startswith("procore/") | (ct["file"] == "crosswalk.csv")])
    for name, df in tables.items():
        t = schema.get(name)
        if procore_from is not None and (t.system == "procore" or name == "cost_code_crosswalk"):
            continue
        if t.system == "procore" or name == "cost_code_crosswalk":
            paths, total = _write_procore(out, name, df, extras["billing"])
            files += paths
            totals.append(total)
        elif name in profile["tables"]:
            nc = not_cost_rows(extras) if name == "erp_job_cost" else None
            for path, expected in write_erp_export(out, name, df, profile, tables=tables,
                                                   not_cost=nc, context=context):
                files.append(path)
                totals.append(control_totals(
                    expected.assign(_file=path.relative_to(out).as_posix()), name))
    if len(extras["billing"].waivers):
        files.append(write_lien_waivers(out, extras["billing"].waivers))
    ct = pd.concat([t for t in totals if len(t)], ignore_index=True).sort_values(
        ["file", "table"], kind="stable")
    ct.to_csv(out / "control_totals.csv", index=False, lineterminator="\n")
    answers.to_csv(out / "answer_key.csv", index=False, lineterminator="\n")
    return {"files": len(files), "rows": int(sum(len(d) for d in tables.values()))}
