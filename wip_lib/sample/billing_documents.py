"""The sample company's progress billing documents: an additive step after the company is built.

:func:`add_billing_documents` reads the tables the builder made (owner and subcontractor pay
applications, prime contracts and change orders, commitments, budget snapshots) and adds, without
changing any of them:

- ``prime_contract_lines``: each prime contract's schedule of values, one line per budget line,
  the original contract sum spread over the original budget (exact cents);
- the G703 of the period's pay applications and of the one before each (owner and
  subcontractor), as Procore exports one CSV per application: the lines add up to the
  application's own G702 figures (line 4 and line 5) to the cent. Owner lines bill each budget
  line about as far as its cost progress (budget snapshot: job-to-date cost / (job-to-date cost +
  forecast to complete)), shifted by one common amount so the lines add up to what the pay
  application bills; stored materials on the largest materials line; approved change orders as
  lines of their own. Subcontractor lines spread what each application bills over the base
  contract and its approved change orders in proportion to what is left on each;
- pay applications under review at the period end that exist only as their G703 file (so the
  list exports and the books are untouched), and ``lien_waivers.csv``: a conditional waiver for
  every subcontractor application and an unconditional one for every application paid;
- the planted billing errors, each in the answer key (found_by ``billing`` or ``payapps``): a
  G703 line billed over 100%; a G703 whose work from the previous application is not that
  application's D + E; an owner pay application under review withholding retainage at the wrong
  rate of a retainage step-down; subcontractor pay applications under review that bill past the
  commitment, withhold the wrong retainage, state a payment due that does not foot; one previous
  payment with no lien waiver on file; and any owner pay application whose retainage does not
  follow its contract's rule (an amount added to a pay application without its retainage).

The rules it follows are worked here with plain integer arithmetic, independent of
:mod:`wip_lib.accounting`, so the review and this generator check each other. It draws from its
own random generator (seed + 24): the company the builder made is the same with or without it.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wip_lib.sources.procore_forecast import line_ecac

BILLING_SEED_OFFSET = 24
UNDER_REVIEW = "under_review"
STORED_SHARE = 0.4  # of a materials line's work this period, left stored on site


@dataclass
class BillingDocuments:
    rows: dict[str, list[dict]] = field(default_factory=dict)  # table -> rows to add
    folder_only: dict[str, set] = field(default_factory=dict)  # table -> {(job, contract, app)}
    facts: dict[tuple, list[tuple[str, str]]] = field(default_factory=dict)  # Label,Value lines
    waivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    answers: list[dict] = field(default_factory=list)


def _half_up(num: int, den: int) -> int:
    """round_half_up(num / den) for integers (den > 0), away from zero for negatives."""
    q = (2 * abs(num) + den) // (2 * den)
    return q if num >= 0 else -q


def _spread(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` over ``weights`` exactly (cumulative half-up rounding); zeros when they sum to
    nothing."""
    w = np.asarray(weights, dtype=object)
    s = int(sum(w))
    if s == 0:
        out = np.zeros(len(w), dtype=np.int64)
        if len(w):
            out[0] = total
        return out
    cum = np.cumsum(w)
    shares = [_half_up(int(total * c), s) for c in cum]
    return np.diff(np.array([0, *shares], dtype=object)).astype(np.int64)


def _fill(total: int, cap: np.ndarray, target: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Whole cents ``g`` with ``lower <= g <= cap`` adding up to ``total``, each as close to
    ``target + d * cap`` as the bounds allow for one common ``d`` (found by bisection)."""
    cap = cap.astype(np.float64)
    lower_f = lower.astype(np.float64)
    if total <= lower.sum():
        return lower.copy()
    if total >= cap.sum():
        g = cap.astype(np.int64).copy()
        if len(g):
            g[int(np.argmax(cap))] += total - int(g.sum())
        return g
    lo, hi = -2.0, 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.clip(target + mid * cap, lower_f, cap).sum() < total:
            lo = mid
        else:
            hi = mid
    x = np.clip(target + hi * cap, lower_f, cap)
    g = np.maximum(np.floor(x).astype(np.int64), lower)
    rest = int(total - g.sum())
    order = np.argsort(-(x - np.floor(x)), kind="stable")
    while rest != 0:
        moved = False
        for i in order:
            if rest > 0 and g[i] < cap[i]:
                g[i] += 1
                rest -= 1
                moved = True
            elif rest < 0 and g[i] > lower[i]:
                g[i] -= 1
                rest += 1
                moved = True
            if rest == 0:
                break
        if not moved:
            break
    return g


#: A commitment change order as :meth:`_Maker.sub_lines` reads it.
_SubCO = namedtuple("_SubCO", "approved_date co_number title amount")


_LINE_FIELDS = ("Index item_number description scheduled_value from_previous_application "
                "this_period materials_stored total_completed_to_date balance_to_finish "
                "retainage")
_OwnerLine = namedtuple("_OwnerLine", _LINE_FIELDS)  # an owner's G703 line
_Line = namedtuple("_Line", _LINE_FIELDS + " budget_code")  # a subcontractor's


def _records(lines: pd.DataFrame) -> list:
    """``lines.itertuples()`` for the fields the documents' rows are written from: the same
    values (Python scalars, ``Index`` the row's label) for a fraction of the cost on the
    hundreds of small frames of a sample."""
    kind = _Line if "budget_code" in lines.columns else _OwnerLine
    return list(map(kind._make, zip(lines.index.tolist(),
                                    *(lines[c].tolist() for c in kind._fields[1:]))))


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows) if rows else pd.DataFrame()


def _rate(rule: str, rate: float, prev_billed: int, contract_sum: int) -> tuple[int, int]:
    """The contract's rate for an application as (numerator, 100): flat, or sliding A>B@P on
    the previous billing against the contract sum (the step applies once P% is billed)."""
    rule = str(rule or "flat").strip().lower()
    if rule.startswith("sliding:"):
        a, rest = rule[8:].split(">")
        b, p = rest.split("@")
        stepped = contract_sum > 0 and prev_billed * 100 >= int(p) * contract_sum
        return (int(b) if stepped else int(a)), 100
    return int(round(rate * 100)), 100


def _answer(out: BillingDocuments, situation: str, job: str, code: str, ref: str, cents: int,
            found_by: str) -> None:
    out.answers.append({"situation": situation, "job_id": job, "cost_code": code,
                        "reference": ref, "amount": f"{abs(int(cents)) / 100:.2f}",
                        "found_by": found_by})


def _money(cents: int) -> str:
    c = int(cents)
    text = f"${abs(c) // 100:,}.{abs(c) % 100:02d}"
    return f"({text})" if c < 0 else text


def _date(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%m/%d/%Y}"


def _facts(app) -> list[tuple[str, str]]:
    """The application's own facts as ``Label,Value`` lines above its G703, as Procore's
    per-invoice export carries them (so the file reads alone, without the list)."""
    out = [("Invoice #", str(app["invoice_number"]))]
    if "vendor_name" in app and isinstance(app["vendor_name"], str):
        out.append(("Contract Company", app["vendor_name"]))
    out += [("Billing Date", _date(app["billing_date"])),
            ("Period Start", _date(app["period_start"])),
            ("Period End", _date(app["period_end"])), ("Status", str(app["status"]))]
    if "approved_date" in app and _date(app.get("approved_date")):
        out.append(("Approved Date", _date(app["approved_date"])))
    if "payment_status" in app and isinstance(app.get("payment_status"), str):
        out.append(("Payment Status", app["payment_status"]))
    out += [("Work Completed This Period", _money(app["work_completed_this_period"])),
            ("Retainage This Period", _money(app["retainage_this_period"])),
            ("Current Payment Due", _money(app["amount_due"]))]
    return out


def _ends(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.to_period("M").dt.to_timestamp(how="end").dt.normalize()


class _Maker:
    def __init__(self, rows: dict[str, list[dict]], current: str, seed: int):
        self.rows = rows
        self.current = current
        self.cur_end = pd.Period(current, freq="M").end_time.normalize()
        self.rng = np.random.default_rng(seed + BILLING_SEED_OFFSET)
        self.out = BillingDocuments(rows={"prime_contract_lines": [], "owner_invoice_lines": [],
                                          "subcontractor_invoice_lines": [],
                                          "owner_invoices": [], "subcontractor_invoices": []},
                                    folder_only={"owner_invoices": set(),
                                                 "subcontractor_invoices": set()})

    def day(self, d: int) -> pd.Timestamp:
        return pd.Period(self.current, freq="M").start_time + pd.Timedelta(days=d - 1)

    # -- owner side -----------------------------------------------------------------------------
    def sov(self) -> dict[str, pd.DataFrame]:
        """Each job's schedule of values (contract "1"): budget lines of its first snapshot."""
        pc = _frame(self.rows["prime_contracts"])
        b = _frame(self.rows["budget"])
        first = b.sort_values(["job_id", "period"]).groupby("job_id")["period"].transform("min")
        b = b[b["period"] == first].sort_values(["job_id", "cost_code", "cost_type"])
        out = {}
        for r in pc.itertuples():
            lines = b[b["job_id"] == r.job_id]
            amounts = _spread(int(r.original_amount), lines["original_budget"].to_numpy())
            sov = pd.DataFrame({"line_number": np.arange(1, len(lines) + 1),
                                "cost_code": lines["cost_code"].to_numpy(),
                                "cost_type": lines["cost_type"].to_numpy(),
                                "description": lines["description"].to_numpy(),
                                "amount": amounts})
            out[r.job_id] = sov
            for s in sov.itertuples():
                self.out.rows["prime_contract_lines"].append(dict(
                    job_id=r.job_id, contract_number=r.contract_number,
                    line_number=int(s.line_number), cost_code=s.cost_code,
                    cost_code_raw=s.cost_code, cost_type=s.cost_type, description=s.description,
                    amount=int(s.amount)))
        return out

    def progress(self) -> pd.DataFrame:
        """Cost progress per job, period and cost code from the budget snapshots: job-to-date
        cost over the line's Estimated Cost at Completion (Procore's estimate rule)."""
        b = _frame(self.rows["budget"])
        jtd = b["job_to_date_costs"].astype("int64")
        eac = line_ecac(b)
        p = np.where(eac > 0, jtd / eac.where(eac > 0, 1), 0.0)
        return pd.DataFrame({"job_id": b["job_id"], "period": b["period"],
                             "cost_code": b["cost_code"], "p": np.clip(p, 0, 1),
                             "jtd": jtd, "eac": eac})

    def owner(self) -> None:
        sov = self.sov()
        prog = self.progress()
        apps = _frame(self.rows["owner_invoices"])
        apps["period"] = pd.to_datetime(apps["billing_date"]).dt.strftime("%Y-%m")
        apps["_end"] = _ends(apps["billing_date"])
        co = _frame(self.rows["prime_change_orders"])
        co = co[co["status_family"] == "approved"]
        prog = dict(tuple(prog.groupby("job_id")))
        co = dict(tuple(co.assign(_approved=pd.to_datetime(co["approved_date"])).groupby(
            "job_id")))
        self.owner_docs = {}
        for job, a in apps.sort_values(["job_id", "application_number"]).groupby("job_id"):
            a = a.reset_index(drop=True)
            cur = a.index[a["period"] == self.current]
            if not len(cur) or job not in sov:
                continue
            k = int(cur[-1])
            chain = [i for i in (k - 2, k - 1, k) if i >= 0]
            prev_g = None
            prev_f = None
            docs = []
            for i in chain:
                app = a.loc[i]
                lines = self.owner_lines(sov[job], co.get(job), prog.get(job), app)
                lines = self.owner_progress(lines, app, prev_g, prev_f)
                prev_g = dict(zip(lines["item_number"], lines["total_completed_to_date"]))
                prev_f = dict(zip(lines["item_number"], lines["materials_stored"]))
                docs.append((app, lines))
            self.owner_docs[job] = docs[-2:]  # the period's application and the one before

    def owner_lines(self, sov, co, prog, app) -> pd.DataFrame:
        """The application's lines (the schedule of values, then the change orders approved by
        its period end) and each line's progress ``p``: its cost code's at the job's latest
        period up to the application's, else the job's. Built from plain lists at once: this
        runs per application, and each pandas step costs a millisecond."""
        pcode, pjob = {}, 0.0
        if prog is not None:
            period = prog["period"].to_numpy(dtype=object)
            upto = period <= app["period"]
            if upto.any():
                at = period == period[upto].max()
                pcode = dict(zip(prog["cost_code"].to_numpy(dtype=object)[at],
                                 prog["p"].to_numpy()[at]))
                jtd, eac = prog["jtd"].to_numpy()[at].sum(), prog["eac"].to_numpy()[at].sum()
                pjob = float(jtd / eac) if eac > 0 else 0.0
        if co is None:
            mine = {"co_number": [], "title": [], "amount": []}
        else:
            m = co[(co["_approved"] <= app["_end"]).to_numpy(dtype=bool)].sort_values(
                "co_number")
            mine = {"co_number": m["co_number"].astype(str).tolist(),
                    "title": m["title"].astype(str).tolist(), "amount": m["amount"].tolist()}
        n = len(mine["co_number"])
        codes = sov["cost_code"].tolist()
        return pd.DataFrame({
            "item_number": sov["line_number"].astype(str).tolist()
            + [f"CO-{k}" for k in mine["co_number"]],
            "description": sov["description"].tolist()
            + [f"Change Order {k} - {t}" for k, t in zip(mine["co_number"], mine["title"])],
            "cost_code": codes + [""] * n,
            "cost_type": sov["cost_type"].tolist() + [""] * n,
            "scheduled_value": np.array(sov["amount"].tolist() + mine["amount"], dtype=np.int64),
            "p": np.array([pcode.get(c, pjob) for c in codes] + [pjob] * n, dtype=np.float64)})

    def owner_progress(self, lines: pd.DataFrame, app, prev_g: dict | None,
                       prev_f: dict | None) -> pd.DataFrame:
        """D, E, F and G of each line (module docstring); I spread over G."""
        c = lines["scheduled_value"].to_numpy(dtype=np.int64)
        pg = np.array([(prev_g or {}).get(i, 0) for i in lines["item_number"]], dtype=np.int64)
        pf = np.array([(prev_f or {}).get(i, 0) for i in lines["item_number"]], dtype=np.int64)
        neg = c < 0
        g = np.zeros(len(c), dtype=np.int64)
        pr = lines["p"].to_numpy(dtype=np.float64)
        g[neg] = np.minimum(pg[neg], np.round(c[neg] * pr[neg]).astype(np.int64))
        total = int(app["total_completed_to_date"]) - int(g[neg].sum())
        pos = ~neg
        g[pos] = _fill(total, c[pos], c[pos] * pr[pos], pg[pos])
        d = pg - pf  # the previous application's D + E
        f = np.zeros(len(c), dtype=np.int64)
        m = np.flatnonzero((lines["cost_type"].to_numpy() == "M") & pos)
        if len(m):
            s = m[int(np.argmax(c[m]))]
            f[s] = (int(g[s] - d[s]) * 4 // 10) // 100 * 100 if g[s] > d[s] else 0
        e = g - d - f
        # One frame at once: a column assigned at a time costs a pandas step each.
        return pd.DataFrame({**{k: lines[k] for k in lines.columns if k != "p"},
                             "from_previous_application": d, "this_period": e,
                             "materials_stored": f, "total_completed_to_date": g,
                             "balance_to_finish": c - g,
                             "retainage": _spread(int(app["retainage_to_date"]), g), "_p": pr})

    def plant_owner(self) -> None:
        pc = _frame(self.rows["prime_contracts"]).set_index("job_id")
        co = _frame(self.rows["prime_change_orders"])
        co = co[co["status_family"] == "approved"]
        jobs = sorted(self.owner_docs)
        used: set[str] = set()

        # 1. A line billed over 100%: a finished budget line, 5% beyond its scheduled value.
        best = None
        for job in jobs:
            app, lines = self.owner_docs[job][-1]
            ok = (lines["_p"] >= 0.999) & (lines["scheduled_value"] >= 4_000_000) \
                & (lines["materials_stored"] == 0) & (lines["item_number"].str.isdigit())
            for i in np.flatnonzero(ok.to_numpy()):
                c = int(lines["scheduled_value"].iloc[i])
                if best is None or c > best[2]:
                    best = (job, i, c)
        if best is not None:
            job, i, c = best
            app, lines = self.owner_docs[job][-1]
            over = (c * 5 // 100) // 100 * 100
            delta = c + over - int(lines["total_completed_to_date"].iloc[i])
            e = lines["this_period"].to_numpy().copy()
            e[i] = -1
            j = int(np.argmax(e))
            if e[j] >= delta:
                for col in ("this_period", "total_completed_to_date"):
                    lines.iloc[i, lines.columns.get_loc(col)] += delta
                    lines.iloc[j, lines.columns.get_loc(col)] -= delta
                lines["balance_to_finish"] = lines["scheduled_value"] - lines[
                    "total_completed_to_date"]
                lines["retainage"] = _spread(int(app["retainage_to_date"]),
                                             lines["total_completed_to_date"].to_numpy())
                _answer(self.out, "G703 line billed over 100% of its scheduled value", job,
                        str(lines["cost_code"].iloc[i]), str(app["invoice_number"]), over,
                        "billing")
                used.add(job)

        # 2. A G703 whose work from the previous application is not that application's D + E.
        for job in jobs:
            docs = self.owner_docs[job]
            if job in used or len(docs) < 2:
                continue
            app, lines = docs[-1]
            was_stored = set(docs[-2][1].loc[docs[-2][1]["materials_stored"] > 0, "item_number"])
            e = lines["this_period"].where((lines["materials_stored"] == 0)
                                           & ~lines["item_number"].isin(was_stored), 0)
            i = int(np.argmax(e.to_numpy()))
            if int(e.iloc[i]) < 4_000_000:
                continue
            moved = (int(e.iloc[i]) // 2) // 100 * 100
            lines.iloc[i, lines.columns.get_loc("from_previous_application")] += moved
            lines.iloc[i, lines.columns.get_loc("this_period")] -= moved
            _answer(self.out, "G703 does not foot: work from the previous application is not "
                    "the previous application's D + E", job, str(lines["cost_code"].iloc[i]),
                    str(app["invoice_number"]), moved, "billing")
            used.add(job)
            break

        # 3. A pay application under review withholding the wrong rate of its retainage rule.
        cands = []
        for job in jobs:
            if job in used:
                continue
            app, lines = self.owner_docs[job][-1]
            csum = int(pc.loc[job, "original_amount"]) + int(co.loc[
                (co["job_id"] == job) & (pd.to_datetime(co["approved_date"]) <= self.cur_end),
                "amount"].sum())
            rule = str(pc.loc[job, "retainage_rule"])
            g = int(app["total_completed_to_date"])
            room = (lines["scheduled_value"] - lines["total_completed_to_date"]).where(
                lines["item_number"].str.isdigit(), 0)
            sliding = rule.startswith("sliding") and g * 100 >= 55 * csum
            cands.append((0 if sliding else 1, -int(room.max()), job, csum, rule))
        if cands:
            _, _, job, csum, rule = min(cands)
            app, lines = self.owner_docs[job][-1]
            new = lines.copy()
            room = (new["scheduled_value"] - new["total_completed_to_date"]).where(
                new["item_number"].str.isdigit(), 0)
            i = int(np.argmax(room.to_numpy()))
            stored = min(int(room.iloc[i]) // 2, csum * 3 // 100) // 100 * 100
            num, den = _rate(rule, float(pc.loc[job, "retainage_percent"]),
                             int(app["total_completed_to_date"]), csum)
            wrong = 10 if num == 5 else 5
            held = _half_up(stored * wrong, 100)
            new["from_previous_application"] = lines["from_previous_application"] + lines[
                "this_period"]
            new["this_period"] = 0
            new.iloc[i, new.columns.get_loc("materials_stored")] += stored
            new["total_completed_to_date"] = (new["from_previous_application"]
                                              + new["materials_stored"])
            new["balance_to_finish"] = new["scheduled_value"] - new["total_completed_to_date"]
            new.iloc[i, new.columns.get_loc("retainage")] += held
            n = int(app["application_number"]) + 1
            inv = f"{job}-{n:03d}"
            sup = dict(job_id=job, contract_number=str(app["contract_number"]),
                       invoice_number=inv, application_number=n, billing_date=self.day(28),
                       period_start=self.day(1), period_end=self.cur_end, status=UNDER_REVIEW,
                       work_completed_this_period=stored,
                       total_completed_to_date=int(app["total_completed_to_date"]) + stored,
                       retainage_this_period=held,
                       retainage_to_date=int(app["retainage_to_date"]) + held,
                       amount_due=stored - held, erp_status="not_integrated")
            self.out.rows["owner_invoices"].append(sup)
            self.out.folder_only["owner_invoices"].add((job, sup["contract_number"], n))
            self.owner_docs[job].append((pd.Series(sup), new))
            expected = _half_up(stored * num, den)
            _answer(self.out, "Owner pay application withholds retainage at the wrong rate of "
                    "its retainage step-down (stored materials)", job, "", inv, held - expected,
                    "billing")

    def owner_retainage_answers(self) -> None:
        """Any owner pay application of the period whose retainage does not follow its
        contract's rule (e.g. an amount added to it without its retainage)."""
        apps = _frame(self.rows["owner_invoices"]).sort_values(["job_id", "application_number"])
        pc = _frame(self.rows["prime_contracts"]).set_index("job_id")
        co = _frame(self.rows["prime_change_orders"])
        co = co[co["status_family"] == "approved"]
        for job, a in apps.groupby("job_id"):
            prev = a["total_completed_to_date"].shift(1).fillna(0).astype("int64")
            for app, g_prev in zip(a.itertuples(), prev):
                if pd.Timestamp(app.billing_date).strftime("%Y-%m") != self.current:
                    continue
                end = pd.Period(self.current, freq="M").end_time.normalize()
                csum = int(pc.loc[job, "original_amount"]) + int(co.loc[
                    (co["job_id"] == job) & (pd.to_datetime(co["approved_date"]) <= end),
                    "amount"].sum())
                num, den = _rate(str(pc.loc[job, "retainage_rule"]),
                                 float(pc.loc[job, "retainage_percent"]), int(g_prev), csum)
                work = int(app.total_completed_to_date) - int(g_prev)
                diff = int(app.retainage_this_period) - _half_up(work * num, den)
                n_lines = len(self.owner_docs[job][-1][1]) if job in self.owner_docs else 1
                if abs(diff) > max(n_lines, 1):
                    _answer(self.out, "Owner pay application retainage does not follow the "
                            "contract's rate (an amount billed without its retainage)", job, "",
                            str(app.invoice_number), diff, "billing")

    def emit_owner(self) -> None:
        for job, docs in self.owner_docs.items():
            for app, lines in docs:
                self.out.facts[("owner_invoices", job, str(app["contract_number"]),
                                int(app["application_number"]))] = _facts(app)
                for r in _records(lines):
                    self.out.rows["owner_invoice_lines"].append(dict(
                        job_id=job, contract_number=str(app["contract_number"]),
                        application_number=int(app["application_number"]),
                        line_number=r.Index + 1, item_number=r.item_number, budget_code="",
                        description=r.description, scheduled_value=int(r.scheduled_value),
                        from_previous_application=int(r.from_previous_application),
                        this_period=int(r.this_period), materials_stored=int(r.materials_stored),
                        total_completed_to_date=int(r.total_completed_to_date),
                        balance_to_finish=int(r.balance_to_finish), retainage=int(r.retainage)))

    # -- subcontractor side ---------------------------------------------------------------------
    def sub(self) -> None:
        apps = _frame(self.rows["subcontractor_invoices"])
        apps["period"] = pd.to_datetime(apps["billing_date"]).dt.strftime("%Y-%m")
        apps["_end"] = _ends(apps["billing_date"])
        cm = _frame(self.rows["commitments"]).set_index(["job_id", "commitment_number"])
        cl = _frame(self.rows["commitment_lines"]).drop_duplicates(
            ["job_id", "commitment_number"]).set_index(["job_id", "commitment_number"])
        cco = _frame(self.rows["commitment_change_orders"])
        cco = cco[cco["status_family"] == "approved"]
        self.sub_docs = {}
        # The fields sub_lines reads, per commitment (itertuples of every column cost ms each).
        cco_by = {k: list(map(_SubCO, g["approved_date"], g["co_number"], g["title"],
                              g["amount"]))
                  for k, g in ((k, g.sort_values("co_number")) for k, g in
                               cco.groupby(["job_id", "commitment_number"]))}
        # Looked up per commitment (hundreds): dicts, not a pandas lookup each.
        codes = dict(zip(zip(cl.index.get_level_values(0), cl.index.get_level_values(1)),
                         (f"{c}.{t}" for c, t in zip(cl["cost_code"], cl["cost_type"]))))
        current = apps.loc[apps["period"] == self.current, ["job_id", "commitment_number"]]
        wanted = set(map(tuple, current.drop_duplicates().to_numpy().tolist()))
        apps = apps[[k in wanted for k in zip(apps["job_id"], apps["commitment_number"])]]
        for key, a in apps.sort_values(["job_id", "commitment_number", "application_number"]
                                       ).groupby(["job_id", "commitment_number"]):
            a = a.reset_index(drop=True)
            cur = np.flatnonzero(a["period"].to_numpy() == self.current)
            if not len(cur) or key not in cm.index:
                continue
            k = int(cur[-1])
            c = cm.loc[key]
            code = codes.get(key, "")
            mine = cco_by.get(key, [])
            prev: dict = {}
            docs = []
            chain = [i for i in (k - 2, k - 1, k) if i >= 0]
            for n, i in enumerate(chain):
                app = a.loc[i]
                items, descs, c_ = self.sub_lines(c, mine, app["_end"])
                pg = np.array([prev.get(x, 0) for x in items], dtype=np.int64)
                g = pg + self.sub_added(int(app["total_completed_to_date"]) - int(pg.sum()),
                                        c_, pg)
                if n >= len(chain) - 2:  # the period's application and the one before
                    docs.append((app, pd.DataFrame({
                        "item_number": items, "budget_code": code, "description": descs,
                        "scheduled_value": c_, "from_previous_application": pg,
                        "this_period": g - pg, "materials_stored": 0,
                        "total_completed_to_date": g, "balance_to_finish": c_ - g,
                        "retainage": _spread(int(app["retainage_to_date"]), g)})))
                prev = dict(zip(items, g))
            self.sub_docs[key] = docs

    @staticmethod
    def sub_lines(c, cos: list, end) -> tuple[list, list, np.ndarray]:
        """Items, descriptions and scheduled values: the base contract and the commitment's
        change orders approved by ``end``."""
        items, descs, amounts = ["1"], [str(c["title"])], [int(c["original_amount"])]
        for co in cos:  # a commitment's handful of change orders
            if pd.Timestamp(co.approved_date) <= end:
                items.append(f"CO-{co.co_number}")
                descs.append(f"Change Order {co.co_number} - {co.title}")
                amounts.append(int(co.amount))
        return items, descs, np.array(amounts, dtype=np.int64)

    @staticmethod
    def sub_added(work: int, c: np.ndarray, pg: np.ndarray) -> np.ndarray:
        """This period's work spread over what is left on each line (over the scheduled values
        when it bills past them)."""
        room = np.maximum(c - pg, 0)
        return _spread(work, room) if room.sum() >= work else _spread(work, np.maximum(c, 0))

    def plant_sub(self) -> None:
        cm = _frame(self.rows["commitments"]).set_index(["job_id", "commitment_number"])
        keys = sorted(self.sub_docs)
        jobs_used: set[str] = set()
        planted = set()

        def room(key):
            app, lines = self.sub_docs[key][-1]
            return int((lines["scheduled_value"] - lines["total_completed_to_date"]).sum())

        def next_app(key, work_lines: np.ndarray, extra: tuple | None, rate: int,
                     stated_due_extra: int = 0) -> tuple[str, int, int]:
            app, lines = self.sub_docs[key][-1]
            new = lines.copy()
            new["from_previous_application"] = lines["total_completed_to_date"]
            new["this_period"] = work_lines
            if extra is not None:
                desc, amount = extra
                new = pd.concat([new, pd.DataFrame({
                    "item_number": ["2"], "budget_code": [lines["budget_code"].iloc[0]],
                    "description": [desc], "scheduled_value": [amount],
                    "from_previous_application": [0], "this_period": [amount],
                    "materials_stored": [0], "total_completed_to_date": [0],
                    "balance_to_finish": [0], "retainage": [0]})], ignore_index=True)
            new["materials_stored"] = 0
            new["total_completed_to_date"] = new["from_previous_application"] + new["this_period"]
            new["balance_to_finish"] = new["scheduled_value"] - new["total_completed_to_date"]
            work = int(new["this_period"].sum())
            held = _half_up(work * rate, 100)
            prev_i = np.r_[lines["retainage"].to_numpy(),
                           np.zeros(len(new) - len(lines), dtype=np.int64)]
            new["retainage"] = prev_i + _spread(held, new["this_period"].to_numpy())
            n = int(app["application_number"]) + 1
            c = cm.loc[key]
            inv = f"{str(c['vendor_name'])[:3].upper()}-{key[0][-3:]}{key[1][-2:]}{n:02d}"
            row = dict(job_id=key[0], commitment_number=key[1], vendor_name=c["vendor_name"],
                       invoice_number=inv, application_number=n, billing_date=self.day(28),
                       period_start=self.day(1), period_end=self.cur_end, status=UNDER_REVIEW,
                       work_completed_this_period=work,
                       total_completed_to_date=int(app["total_completed_to_date"]) + work,
                       retainage_this_period=held,
                       retainage_to_date=int(app["retainage_to_date"]) + held,
                       amount_due=work - held + stated_due_extra, payment_status="unpaid",
                       erp_status="not_integrated")
            self.out.rows["subcontractor_invoices"].append(row)
            self.out.folder_only["subcontractor_invoices"].add((key[0], key[1], n))
            self.sub_docs[key].append((pd.Series(row), new))
            return inv, work, held

        def pick(need_room: int, min_ratio: float = 0.0):
            best = None
            for key in keys:
                if key in planted or key[0] in jobs_used:
                    continue
                c = cm.loc[key]
                if c["commitment_type"] != "subcontract" or c["status"] != "Approved":
                    continue
                app, lines = self.sub_docs[key][-1]
                total = int(lines["scheduled_value"].sum())
                r = room(key)
                billed = int(lines["total_completed_to_date"].sum())
                if r < need_room or (min_ratio and billed < min_ratio * total):
                    continue
                score = (billed / total if min_ratio else r)
                if best is None or score > best[0]:
                    best = (score, key)
            return None if best is None else best[1]

        # 1. Billing past the commitment: the rest of the contract and an unapproved extra.
        key = pick(0, 0.85)
        if key is not None:
            app, lines = self.sub_docs[key][-1]
            rest = (lines["scheduled_value"] - lines["total_completed_to_date"]).to_numpy()
            extra = max(1_500_000, int(lines["scheduled_value"].sum()) // 20 // 100 * 100)
            inv, _, _ = next_app(key, rest, ("Added scope per field directive (change order not "
                                             "approved)", extra), 10)
            _answer(self.out, "Subcontractor pay application bills past its commitment and "
                    "approved change orders", key[0], "", inv, extra, "payapps")
            planted.add(key)
            jobs_used.add(key[0])

        # 2. Retainage withheld at 5% where the subcontract says 10%.
        key = pick(6_000_000)
        if key is not None:
            app, lines = self.sub_docs[key][-1]
            work = min(room(key) // 2, 20_000_000) // 100 * 100
            rest = (lines["scheduled_value"] - lines["total_completed_to_date"]).to_numpy()
            inv, w, held = next_app(key, _spread(work, rest), None, 5)
            _answer(self.out, "Subcontractor pay application withholds retainage below the "
                    "subcontract's rate", key[0], "", inv, _half_up(w * 10, 100) - held,
                    "payapps")
            planted.add(key)
            jobs_used.add(key[0])

        # 3. A payment due that does not foot (line 8 is not line 6 - line 7).
        key = pick(3_000_000)
        if key is not None:
            app, lines = self.sub_docs[key][-1]
            work = min(room(key) // 2, 15_000_000) // 100 * 100
            rest = (lines["scheduled_value"] - lines["total_completed_to_date"]).to_numpy()
            inv, _, _ = next_app(key, _spread(work, rest), None, 10, stated_due_extra=250_000)
            _answer(self.out, "Subcontractor pay application does not foot: the current payment "
                    "due is not line 6 less line 7", key[0], "", inv, 250_000, "payapps")
            planted.add(key)
            jobs_used.add(key[0])
        self.planted_subs = planted
        self.sub_jobs_used = jobs_used

    def emit_sub(self) -> None:
        for key, docs in self.sub_docs.items():
            for app, lines in docs:
                self.out.facts[("subcontractor_invoices", key[0], key[1],
                                int(app["application_number"]))] = _facts(app)
                n = int(app["application_number"])
                for r in _records(lines):
                    self.out.rows["subcontractor_invoice_lines"].append(dict(
                        job_id=key[0], commitment_number=key[1], application_number=n,
                        line_number=r.Index + 1, item_number=r.item_number,
                        budget_code=r.budget_code, description=r.description,
                        scheduled_value=int(r.scheduled_value),
                        from_previous_application=int(r.from_previous_application),
                        this_period=int(r.this_period), materials_stored=int(r.materials_stored),
                        total_completed_to_date=int(r.total_completed_to_date),
                        balance_to_finish=int(r.balance_to_finish), retainage=int(r.retainage)))

    def waivers(self) -> None:
        """A conditional waiver for every subcontractor application (through its period end, for
        its payment due) and an unconditional one for every application paid; then one previous
        payment's waivers left out (planted)."""
        apps = _frame(self.rows["subcontractor_invoices"])
        apps = apps.sort_values(["job_id", "commitment_number", "application_number"])
        ends = _ends(apps["period_end"])
        rows = []
        for a, end in zip(apps.itertuples(), ends):
            for kind in ("conditional", "unconditional"):
                if kind == "unconditional" and a.payment_status != "paid":
                    continue
                rows.append(dict(job_id=a.job_id, commitment_number=a.commitment_number,
                                 vendor=a.vendor_name, through_date=end, waiver_type=kind,
                                 amount=int(a.amount_due)))
        w = pd.DataFrame(rows)
        # The planted gap: a reviewed application whose previous payment (paid) has no waiver.
        cur = apps[(pd.to_datetime(apps["billing_date"]).dt.strftime("%Y-%m") == self.current)
                   & apps["status"].eq("approved")]
        prev = apps.assign(_next=apps["application_number"] + 1)
        m = cur.merge(prev[["job_id", "commitment_number", "_next", "application_number",
                            "payment_status", "amount_due", "period_end"]],
                      left_on=["job_id", "commitment_number", "application_number"],
                      right_on=["job_id", "commitment_number", "_next"], suffixes=("", "_prev"))
        m = m[(m["payment_status_prev"] == "paid") & ~m["job_id"].isin(self.sub_jobs_used)]
        m = m.sort_values(["amount_due_prev", "job_id", "commitment_number"], ascending=[False,
                                                                                   True, True])
        if len(m):
            r = m.iloc[0]
            end = _ends(pd.Series([r["period_end_prev"]])).iloc[0]
            gone = (w["job_id"] == r["job_id"]) & (w["commitment_number"] == r[
                "commitment_number"]) & (w["through_date"] == end)
            w = w[~gone.to_numpy()]
            _answer(self.out, "Lien waiver for the previous payment not on file", r["job_id"],
                    "", str(r["invoice_number"]), int(r["amount_due_prev"]), "payapps")
        self.out.waivers = w.reset_index(drop=True)


def add_billing_documents(rows: dict[str, list[dict]], current: str,
                          seed: int) -> BillingDocuments:
    """The billing documents of the sample company built in ``rows`` (module docstring)."""
    m = _Maker(rows, current, seed)
    m.owner()
    m.plant_owner()
    m.owner_retainage_answers()
    m.emit_owner()
    m.sub()
    m.plant_sub()
    m.emit_sub()
    m.waivers()
    return m.out
