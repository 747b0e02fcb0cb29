"""The WIP schedule for every job and every period, three ways, with the same rules.

- :func:`ours`: the workbook: ``wip_lib.accounting.schedule.recognise_all_periods`` when the package has it
  (one jobs x periods inputs frame built with groupby / cumulative sums, then
  :func:`wip_lib.accounting.recognition.recognize` once over it), else :func:`inputs_frame` here (the same
  construction) and ``recognize``.
- :func:`duckdb_sql`: the same aggregation and recognition formulas as one DuckDB SQL query over
  the same in-memory canonical tables (the reference for what the hardware allows).
- :func:`python_loop`: what an analyst would write: for each job, for each period, filter that
  job's rows and sum them with pandas, then the recognition arithmetic in Python integers.

Rules (those of :func:`wip_lib.accounting.schedule.job_inputs`, default policies): a job is in period P's
schedule when it started by P's end and was not completed before P's fiscal year began; it is
complete at P when its Procore stage is complete and its completion date is on or before P's end.
TP = prime contracts (not Draft / Out For Signature) + change orders approved by P's end; CTD =
ERP job cost with period <= P; billed = ERP AR with period <= P; ETC = forecast to complete of
the job's latest budget snapshot on or before P (missing when it has none). Recognition: cost to
cost, ER = round half up(TP * CTD / EAC), full loss provision, complete jobs ER = TP.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COMPARE = ["contract_revised", "cost_to_date", "billed_to_date", "est_total_cost",
           "earned_revenue", "loss_provision", "gross_profit_to_date", "over_under"]


def period_grid(company, first: str, last: str) -> pd.DataFrame:
    periods = pd.period_range(first, last, freq="M")
    return pd.DataFrame({
        "period": pd.Series([str(p) for p in periods], dtype="string"),
        "period_end": [p.end_time.normalize() for p in periods],
        "fy_start": [pd.Period(company.settings.fiscal_year_start(str(p)), freq="M").start_time
                     for p in periods]})


def span(company) -> tuple[str, str]:
    """First period with ERP cost and the company's current period."""
    first = str(company["erp_job_cost"]["period"].min())
    return first, company.settings.current_period


# -- ours ---------------------------------------------------------------------------------------

def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def inputs_frame(company, first: str, last: str) -> pd.DataFrame:
    """Jobs x periods recognition inputs with groupby and cumulative sums (no per-period calls)."""
    grid = period_grid(company, first, last)
    P = len(grid)
    jobs = company["jobs"]
    ids = pd.Index(jobs["job_id"].astype("string").unique())
    J = len(ids)

    def by_period(df, value, period_col="period") -> np.ndarray:
        """Cumulative J x P sums of ``value`` through each period (earlier periods in the first)."""
        j = ids.get_indexer(df["job_id"].astype("string"))
        per = _text(df[period_col])
        p = np.searchsorted(grid["period"].to_numpy(dtype=object), per.to_numpy(dtype=object),
                            side="left")
        p = np.where(per.to_numpy(dtype=object) > grid["period"].iloc[-1], P, p)
        ok = (j >= 0) & (p < P)
        out = np.zeros((J, P), dtype=np.int64)
        np.add.at(out, (j[ok], p[ok]), df[value].to_numpy(dtype=np.int64)[ok])
        return np.cumsum(out, axis=1)

    ctd = by_period(company["erp_job_cost"], "amount")
    ar = company["erp_ar_billings"]
    billed = by_period(ar, "amount_billed")
    retain = by_period(ar, "retainage")
    pc = company["prime_contracts"]
    pc = pc[~_text(pc["status"]).str.lower().isin(["draft", "out for signature"])]
    orig = pc.groupby(pc["job_id"].astype("string"))["original_amount"].sum()
    co = company["prime_change_orders"].merge(pc[["job_id", "contract_number"]],
                                              on=["job_id", "contract_number"], how="inner")
    fam = _text(co["status_family"]).str.lower()
    appr = co[(fam == "approved").to_numpy(bool)]
    appr = appr.assign(_p=pd.to_datetime(appr["approved_date"]).dt.strftime("%Y-%m")
                       .fillna(first).astype("string"))
    coa = by_period(appr, "amount", "_p")
    # Latest budget snapshot on or before each period: ETC and original budget.
    b = company["budget"]
    snap = b.groupby([b["job_id"].astype("string"), _text(b["period"])], sort=True)[
        ["estimated_cost_at_completion", "original_budget"]].sum().reset_index()
    sj = ids.get_indexer(snap["job_id"])
    sp = np.searchsorted(grid["period"].to_numpy(dtype=object), snap["period"].to_numpy(dtype=object))
    etc = np.zeros((J, P), dtype=np.int64)
    ecb = np.zeros((J, P), dtype=np.int64)
    have = np.zeros((J, P), dtype=bool)
    ok = (sj >= 0) & (sp < P)
    etc[sj[ok], sp[ok]] = snap["estimated_cost_at_completion"].to_numpy(np.int64)[ok]
    ecb[sj[ok], sp[ok]] = snap["original_budget"].to_numpy(np.int64)[ok]
    have[sj[ok], sp[ok]] = True
    # Forward fill along periods: index of the latest snapshot column at or before each period.
    col = np.where(have, np.arange(P)[None, :], -1)
    last_col = np.maximum.accumulate(col, axis=1)
    rows = np.arange(J)[:, None]
    has = last_col >= 0
    etc_f = np.where(has, etc[rows, np.maximum(last_col, 0)], 0)
    ecb_f = np.where(has, ecb[rows, np.maximum(last_col, 0)], 0)

    jj = jobs.drop_duplicates("job_id").set_index(jobs.drop_duplicates("job_id")["job_id"]
                                                   .astype("string")).reindex(ids)
    start = pd.to_datetime(jj["start_date"]).to_numpy()
    done = pd.to_datetime(jj["completion_date"]).to_numpy()
    stage = _text(jj["status"]).str.lower().isin(["complete", "completed", "closed"]).to_numpy()
    ends = grid["period_end"].to_numpy()
    fy = grid["fy_start"].to_numpy()
    started = np.isnat(start)[:, None] | (start[:, None] <= ends[None, :])
    complete = stage[:, None] & ~np.isnat(done)[:, None] & (done[:, None] <= ends[None, :])
    gone = complete & (done[:, None] < fy[None, :])
    keep = started & ~gone
    r, c = np.nonzero(keep)
    out = pd.DataFrame({
        "job_id": ids[r], "period": grid["period"].to_numpy()[c],
        "status": np.where(complete[r, c], "complete", "open"),
        "contract_original": orig.reindex(ids).fillna(0).astype("int64").to_numpy()[r],
        "change_orders_approved": coa[r, c], "cost_to_date": ctd[r, c],
        "billed_to_date": billed[r, c], "retainage_receivable": retain[r, c],
        # ETC = the snapshot's sum of ECAC less cost to date (docs/procore-forecast.md).
        "est_cost_to_complete": pd.array(np.where(has[r, c], etc_f[r, c] - ctd[r, c], 0),
                                         dtype="Int64"),
        "est_cost_original": pd.array(np.where(has[r, c], ecb_f[r, c], 0), dtype="Int64"),
    })
    out.loc[~has[r, c], ["est_cost_to_complete", "est_cost_original"]] = pd.NA
    return out


def ours(company, first: str | None = None, last: str | None = None) -> pd.DataFrame:
    from wip_lib.accounting import schedule
    from wip_lib.accounting.recognition import Policy, recognize

    if first is None:
        first, last = span(company)
    fn = getattr(schedule, "recognise_all_periods", None)
    if fn is not None:
        return fn(company, first, last)
    return recognize(inputs_frame(company, first, last),
                     Policy.from_settings(company.settings.policies))


def ours_name() -> str:
    from wip_lib.accounting import schedule

    return ("wip_lib.accounting.schedule.recognise_all_periods" if hasattr(schedule, "recognise_all_periods")
            else "benchmarks inputs_frame + wip_lib.accounting.recognition.recognize")


# -- DuckDB -------------------------------------------------------------------------------------

SQL = """
WITH grid AS (
    SELECT j.job_id, g.period, g.period_end, g.fy_start, j.start_date, j.completion_date,
           lower(trim(j.status)) IN ('complete', 'completed', 'closed')
             AND j.completion_date IS NOT NULL AND j.completion_date <= g.period_end AS complete
    FROM (SELECT DISTINCT ON (job_id) job_id, status, start_date, completion_date FROM jobs) j
    CROSS JOIN periods g
),
pc AS (
    SELECT job_id, contract_number, original_amount FROM prime_contracts
    WHERE lower(trim(status)) NOT IN ('draft', 'out for signature')
),
contract AS (SELECT job_id, sum(original_amount)::BIGINT AS contract_original FROM pc GROUP BY 1),
co AS (
    SELECT c.job_id, greatest(coalesce(strftime(c.approved_date, '%Y-%m'), $first), $first) AS p,
           c.amount
    FROM prime_change_orders c JOIN pc USING (job_id, contract_number)
    WHERE lower(trim(c.status_family)) = 'approved'
),
monthly AS (
    SELECT job_id, greatest(period, $first) AS p, sum(amount) AS cost, 0::BIGINT AS billed,
           0::BIGINT AS ret, 0::BIGINT AS coa
    FROM erp_job_cost GROUP BY ALL
    UNION ALL
    SELECT job_id, greatest(period, $first), 0, sum(amount_billed), sum(retainage), 0
    FROM erp_ar_billings GROUP BY ALL
    UNION ALL
    SELECT job_id, p, 0, 0, 0, sum(amount) FROM co GROUP BY ALL
),
per AS (
    SELECT job_id, p, sum(cost) AS cost, sum(billed) AS billed, sum(ret) AS ret,
           sum(coa) AS coa
    FROM monthly GROUP BY ALL
),
cum AS (
    SELECT g.job_id, g.period,
           sum(coalesce(per.cost, 0)) OVER w AS ctd,
           sum(coalesce(per.billed, 0)) OVER w AS billed,
           sum(coalesce(per.ret, 0)) OVER w AS ret,
           sum(coalesce(per.coa, 0)) OVER w AS coa
    FROM grid g LEFT JOIN per ON per.job_id = g.job_id AND per.p = g.period
    WINDOW w AS (PARTITION BY g.job_id ORDER BY g.period
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
snap AS (
    SELECT job_id, period, sum(estimated_cost_at_completion) AS eac, sum(original_budget) AS ecb
    FROM budget GROUP BY ALL
),
inputs AS (
    SELECT g.job_id, g.period, g.complete,
           coalesce(k.contract_original, 0) AS co, c.coa, c.ctd, c.billed, c.ret,
           s.eac - c.ctd AS etc, s.ecb
    FROM grid g
    JOIN cum c USING (job_id, period)
    LEFT JOIN contract k USING (job_id)
    ASOF LEFT JOIN snap s ON s.job_id = g.job_id AND g.period >= s.period
    WHERE (g.start_date IS NULL OR g.start_date <= g.period_end)
      AND NOT (g.complete AND g.completion_date < g.fy_start)
),
r1 AS (
    SELECT *, (co + coa)::BIGINT AS tp,
           etc IS NULL AND NOT complete AS no_est,
           etc IS NULL AND NOT complete AND ctd > co + coa AS no_est_loss
    FROM inputs
),
r2 AS (
    SELECT *,
           CASE WHEN complete THEN ctd WHEN no_est_loss THEN ctd WHEN no_est THEN NULL
                ELSE ctd + greatest(etc, 0) END AS eac
    FROM r1
),
r3 AS (
    SELECT *,
           CASE WHEN complete THEN tp
                WHEN eac IS NOT NULL AND eac > 0 THEN
                    (sign(tp::HUGEINT * ctd) * ((2 * abs(tp::HUGEINT * ctd) + eac) // (2 * eac)))::BIGINT
                ELSE ctd END AS er0
    FROM r2
),
r4 AS (
    SELECT *,
           CASE WHEN eac IS NOT NULL AND eac > tp THEN (er0 - ctd) - (tp - eac) ELSE 0 END AS prov0
    FROM r3
)
SELECT job_id, period, CASE WHEN complete THEN 'complete' ELSE 'open' END AS status,
       tp AS contract_revised, ctd AS cost_to_date, billed AS billed_to_date,
       ret AS retainage_receivable, eac AS est_total_cost,
       CASE WHEN prov0 < 0 THEN ctd + tp - eac ELSE er0 END AS earned_revenue,
       greatest(prov0, 0) AS loss_provision,
       CASE WHEN prov0 < 0 THEN ctd + tp - eac ELSE er0 END - ctd - greatest(prov0, 0)
           AS gross_profit_to_date,
       billed - CASE WHEN prov0 < 0 THEN ctd + tp - eac ELSE er0 END AS over_under
FROM r4
ORDER BY period, job_id
"""


def duckdb_sql(company, first: str | None = None, last: str | None = None,
               threads: int | None = None) -> pd.DataFrame:
    import duckdb

    if first is None:
        first, last = span(company)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    grid = period_grid(company, first, last)
    for name in ("jobs", "prime_contracts", "prime_change_orders", "erp_job_cost",
                 "erp_ar_billings", "budget"):
        con.register(name, company[name])
    con.register("periods", grid)
    out = con.execute(SQL.replace("$first", f"'{first}'")).df()
    con.close()
    return out


# -- the analyst's loop -------------------------------------------------------------------------

def _round_half_up_div(n: int, d: int) -> int:
    q = (2 * abs(n) + abs(d)) // (2 * abs(d))
    return q if (n < 0) == (d < 0) else -q


def python_loop(company, first: str | None = None, last: str | None = None) -> pd.DataFrame:
    """For each job and period: filter, sum, recognise (one pandas filter per figure)."""
    if first is None:
        first, last = span(company)
    settings = company.settings
    periods = [str(p) for p in pd.period_range(first, last, freq="M")]
    jc = company["erp_job_cost"]
    ar = company["erp_ar_billings"]
    budget = company["budget"]
    pc = company["prime_contracts"]
    pc = pc[~pc["status"].str.strip().str.lower().isin(["draft", "out for signature"])]
    co = company["prime_change_orders"].merge(pc[["job_id", "contract_number"]],
                                              on=["job_id", "contract_number"])
    # Split each table by job once (an analyst's groupby), then loop.
    by_job = {name: dict(tuple(df.groupby("job_id"))) for name, df in
              (("jc", jc), ("ar", ar), ("budget", budget), ("pc", pc), ("co", co))}
    empty = {name: df.iloc[0:0] for name, df in (("jc", jc), ("ar", ar), ("budget", budget),
                                                 ("pc", pc), ("co", co))}
    rows = []
    for job in company["jobs"].drop_duplicates("job_id").itertuples(index=False):
        j = {k: v.get(job.job_id, empty[k]) for k, v in by_job.items()}
        contract = int(j["pc"]["original_amount"].sum())
        stage_complete = str(job.status).strip().lower() in ("complete", "completed", "closed")
        for p in periods:
            end = pd.Period(p, freq="M").end_time.normalize()
            fy = pd.Period(settings.fiscal_year_start(p), freq="M").start_time
            if pd.notna(job.start_date) and job.start_date > end:
                continue
            complete = stage_complete and pd.notna(job.completion_date) and job.completion_date <= end
            if complete and job.completion_date < fy:
                continue
            c = j["co"]
            approved = c[(c["status_family"].str.strip().str.lower() == "approved")
                         & (c["approved_date"].isna() | (c["approved_date"] <= end))]
            tp = contract + int(approved["amount"].sum())
            ctd = int(j["jc"].loc[j["jc"]["period"] <= p, "amount"].sum())
            billed_rows = j["ar"][j["ar"]["period"] <= p]
            billed = int(billed_rows["amount_billed"].sum())
            b = j["budget"][j["budget"]["period"] <= p]
            etc = None
            if len(b):
                latest = b["period"].max()
                etc = int(b.loc[b["period"] == latest, "estimated_cost_at_completion"].sum()) - ctd
            if complete:
                eac = ctd
            elif etc is None:
                eac = ctd if ctd > tp else None
            else:
                eac = ctd + max(etc, 0)
            if complete:
                er = tp
            elif eac is not None and eac > 0:
                er = _round_half_up_div(tp * ctd, eac)
            else:
                er = ctd
            prov = (er - ctd) - (tp - eac) if eac is not None and eac > tp else 0
            if prov < 0:
                er, prov = ctd + tp - eac, 0
            rows.append((job.job_id, p, "complete" if complete else "open", tp, ctd, billed,
                         eac, er, prov, er - ctd - prov, billed - er))
    return pd.DataFrame(rows, columns=["job_id", "period", "status", "contract_revised",
                                       "cost_to_date", "billed_to_date", "est_total_cost",
                                       "earned_revenue", "loss_provision",
                                       "gross_profit_to_date", "over_under"])


def compare(a: pd.DataFrame, b: pd.DataFrame, columns=COMPARE) -> list[str]:
    """Differences between two schedules on (job_id, period) and the figures both carry."""
    key = ["job_id", "period"]
    x = a.assign(job_id=a["job_id"].astype(str), period=a["period"].astype(str)).set_index(key)
    y = b.assign(job_id=b["job_id"].astype(str), period=b["period"].astype(str)).set_index(key)
    problems = []
    if set(x.index) != set(y.index):
        problems.append(f"rows differ: {len(set(x.index) - set(y.index))} only in the first, "
                        f"{len(set(y.index) - set(x.index))} only in the second")
        return problems
    y = y.reindex(x.index)
    for c in columns:
        if c not in x.columns or c not in y.columns:
            continue
        u = pd.to_numeric(x[c], errors="coerce").astype("Float64")
        v = pd.to_numeric(y[c], errors="coerce").astype("Float64")
        diff = ~((u == v).fillna(False) | (u.isna() & v.isna()))
        if diff.any():
            problems.append(f"{c}: {int(diff.sum())} rows differ, e.g. "
                            f"{x.index[diff.to_numpy()][0]} {u[diff].iloc[0]} vs {v[diff].iloc[0]}")
    return problems
