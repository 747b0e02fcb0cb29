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

from wip_lib.reports.html import dollars, percent
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
        self._load(period)

    def _load(self, period: str) -> None:
        from wip_lib.close import bundle

        self.bundle = bundle.load_or_compute(self.data_dir, period)
        self.period = period

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
                display(HTML(f"<p><b>{self.job_id}</b> {summary_text(r).replace('|', '&middot;')}"
                             "</p>"))

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
            self._load(change["new"])
            job.options = self.bundle.job_ids
            build()

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
        return w.VBox([w.HBox([job, per]), grid, out, w.HBox([who, why, save]), msg])
