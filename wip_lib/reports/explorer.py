"""The interactive job explorer: adjust cost to complete by cost code and watch the WIP line move.

:func:`what_if` is pure (a job's schedule row + ETC by cost code -> the recognised row, by the
same :func:`~wip_lib.accounting.recognition.recognize` the schedule uses); :class:`Explorer` is the
ipywidgets front end for JupyterLab. Saving writes a controller override
(:func:`wip_lib.sources.overrides_file.write_override`) with who and why, one line per changed cost code, which
the next schedule run uses and the audit trail lists.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Mapping

import pandas as pd

from wip_lib.reports.html import dollars, percent, render
from wip_lib.accounting.recognition import Policy, recognize

INPUTS = ("job_id", "contract_original", "change_orders_approved", "change_orders_pending",
          "cost_to_date", "billed_to_date", "uninstalled_materials", "retainage_receivable",
          "est_cost_original", "status")


def what_if(row: pd.Series, forecast_rows: pd.DataFrame, etc_by_code: Mapping[tuple, int],
            policy: Policy = Policy()) -> pd.Series:
    """The job recognised with ``etc_used`` replaced for the given (cost_code, cost_type) keys.

    ``ETC = sum over the job's codes of (etc_by_code.get(key) or etc_used)``; every other input is
    the schedule's. With no adjustments the result equals the schedule row.
    """
    keys = list(zip(forecast_rows["cost_code"], forecast_rows["cost_type"]))
    etc = sum(int(etc_by_code.get(k, u)) for k, u in zip(keys, forecast_rows["etc_used"]))
    base = {c: row[c] for c in INPUTS if c in row.index}
    base["est_cost_to_complete"] = etc
    frame = pd.DataFrame([base])
    for c in INPUTS[1:-1]:
        if c in frame.columns:
            frame[c] = frame[c].astype("Int64")
    return recognize(frame, policy).iloc[0]


def summary_text(r: pd.Series) -> str:
    return (f"ETC {dollars(r['est_cost_to_complete'])} | EAC {dollars(r['est_total_cost'])} | "
            f"margin {percent(r['est_gp_pct'], 2)} | complete {percent(r['pct_complete'], 2)} | "
            f"earned {dollars(r['earned_revenue'])} | GP to date "
            f"{dollars(r['gross_profit_to_date'])} | over(under) billed "
            f"{dollars(r['overbillings'] - r['underbillings'])}")


#: The before/after panel: (label, column, kind) with kind money or pct.
PANEL = [("Cost to complete", "est_cost_to_complete", "money"),
         ("Estimated total cost", "est_total_cost", "money"),
         ("Estimated gross profit", "est_gross_profit", "money"),
         ("Estimated margin", "est_gp_pct", "pct"),
         ("Percent complete", "pct_complete", "pct"),
         ("Earned revenue", "earned_revenue", "money"),
         ("Gross profit to date", "gross_profit_to_date", "money"),
         ("Loss provision", "loss_provision", "money"),
         ("Over (under) billed", "over_under", "money")]


def _value(r: pd.Series, col: str):
    if col == "over_under":  # B - ER: positive overbilled, negative underbilled
        return int(r["overbillings"]) - int(r["underbillings"])
    v = r[col]
    return None if pd.isna(v) else v


def before_after(job_id: str, job_name: str, before: pd.Series, after: pd.Series) -> str:
    """The before/after panel (``templates/explorer.html``): each figure of :data:`PANEL` as the
    schedule has it, with the adjusted cost to complete, and the change; text escaped."""
    rows = []
    for label, col, kind in PANEL:
        b, a = _value(before, col), _value(after, col)
        if kind == "pct":
            fmt = lambda x: percent(x, 2)  # noqa: E731
            change = None if a is None or b is None else f"{(a - b) * 100:+.2f} pts"
        else:
            fmt = dollars
            change = None if a is None or b is None else dollars(int(a) - int(b))
        rows.append({"label": label, "before": fmt(b), "after": fmt(a), "change": change or "",
                     "moved": a != b, "neg": kind == "money" and a is not None and a < 0})
    return render("explorer.html", job_id=job_id, job_name=job_name, rows=rows)


def _cents(text: str) -> int | None:
    try:
        d = Decimal(str(text).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return None
    return int((d * 100).to_integral_value()) if d >= 0 else None


class Explorer:
    """ipywidgets: job and period pickers, one ETC box per cost code, live figures, save."""

    def __init__(self, data_dir: Path | str, period: str, job_id: str, periods: int = 12):
        from wip_lib.close import bundle
        from wip_lib.core.settings import Settings

        self.data_dir = bundle.resolve_data_dir(data_dir)
        self.settings = Settings.load(self.data_dir / "company.yaml")
        self.policy = Policy.from_settings(self.settings.policies)
        last = pd.Period(period, freq="M")
        self.periods = [str(last - i) for i in range(periods)]
        self.period = period
        self.job_id = job_id
        #: Computed periods kept in memory: switching back to a period takes no time; a period
        #: computed once (by this explorer, a notebook or the month-end) comes from the disk
        #: cache of :func:`wip_lib.close.bundle.load_or_compute` in about a second.
        self._bundles: dict = {}
        self._locks: dict = {}
        self._load(period)

    def _get(self, period: str):
        """The period's bundle: from memory, else loaded or computed once (one lock per period,
        so a switch to a period being prefetched waits for it instead of computing it twice)."""
        import threading
        from wip_lib.close import bundle

        lock = self._locks.setdefault(period, threading.Lock())
        with lock:
            if period not in self._bundles:
                self._bundles[period] = bundle.load_or_compute(self.data_dir, period)
        return self._bundles[period]

    def _load(self, period: str) -> None:
        self.bundle = self._get(period)
        self.period = period

    def prefetch(self, periods: list[str] | None = None):
        """Compute the earlier periods in a background thread (default: the two before the one
        shown), so switching to them later takes a moment. Returns the thread."""
        import threading

        wanted = [p for p in (periods if periods is not None else self.periods[1:3])
                  if p not in self._bundles]

        def work():
            for p in wanted:
                try:
                    self._get(p)
                except Exception:  # shown when the period is picked, with its message
                    pass

        thread = threading.Thread(target=work, name="wip-explorer-prefetch", daemon=True)
        thread.start()
        return thread

    def rows(self) -> tuple[pd.Series, pd.DataFrame]:
        s = self.bundle["schedule"]
        f = self.bundle["forecast"]
        return (s[s["job_id"] == self.job_id].iloc[0],
                f[f["job_id"] == self.job_id].reset_index(drop=True))

    def widget(self):
        import ipywidgets as w
        from IPython.display import HTML, display

        job = w.Dropdown(options=self.bundle.job_ids, value=self.job_id, description="Job")
        per = w.Dropdown(options=self.periods, value=self.period, description="Period")
        who = w.Text(description="Who")
        why = w.Text(description="Why", layout=w.Layout(width="40em"))
        save = w.Button(description="Save as override", button_style="warning")
        busy = w.HTML(value="")
        out = w.Output()
        msg = w.Output()
        boxes: dict[tuple, w.Text] = {}
        grid = w.VBox()

        def refresh(*_):
            row, f = self.rows()
            adj = {k: c for k, b in boxes.items() if (c := _cents(b.value)) is not None}
            r = what_if(row, f, adj, self.policy)
            out.clear_output()
            with out:
                display(HTML(before_after(self.job_id, str(row["job_name"]), row, r)))

        def build(*_):
            _, f = self.rows()
            boxes.clear()
            items = []
            for rec in f.itertuples():
                b = w.Text(value=f"{rec.etc_used / 100:.2f}", description=f"{rec.cost_code} "
                           f"{rec.cost_type}", layout=w.Layout(width="22em"),
                           tooltip=str(rec.description))
                b.observe(refresh, names="value")
                boxes[(rec.cost_code, rec.cost_type)] = b
                items.append(w.HBox([b, w.Label(f"PM {dollars(rec.pm_forecast)} · budget "
                                                f"{dollars(rec.revised_budget)}")]))
            grid.children = items
            refresh()

        def on_job(change):
            self.job_id = change["new"]
            build()

        def on_period(change):
            import time

            started = time.perf_counter()
            cached = change["new"] in self._bundles
            busy.value = "" if cached else render("busy.html", period=change["new"])
            job.disabled = per.disabled = save.disabled = True
            try:
                self._load(change["new"])
                if self.job_id not in self.bundle.job_ids:
                    self.job_id = self.bundle.job_ids[0]
                job.options = self.bundle.job_ids
                job.value = self.job_id
                build()
            finally:
                job.disabled = per.disabled = save.disabled = False
            busy.value = render("busy.html", period=change["new"],
                                seconds=time.perf_counter() - started)

        def on_save(_):
            from wip_lib.sources.overrides_file import write_override

            _, f = self.rows()
            msg.clear_output()
            with msg:
                saved = 0
                for rec in f.itertuples():
                    c = _cents(boxes[(rec.cost_code, rec.cost_type)].value)
                    if c is None or c == rec.etc_used:
                        continue
                    write_override(self.data_dir, self.period, {
                        "job_id": self.job_id, "cost_code": rec.cost_code,
                        "cost_type": rec.cost_type, "etc_amount": Decimal(c) / 100,
                        "who": who.value, "why": why.value})
                    saved += 1
                print(f"Saved {saved} override(s) to overrides/{self.period}.csv")

        job.observe(on_job, names="value")
        per.observe(on_period, names="value")
        save.on_click(on_save)
        build()
        self.prefetch()
        return w.VBox([w.HBox([job, per, busy]), grid, out, w.HBox([who, why, save]), msg])
