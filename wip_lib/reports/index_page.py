"""The month-end's front page, ``index.html``: links to the other outputs (the PDF package when it
was written), every project of the schedule with its key figures (PM and percent billed where the
bundle holds them) and the state of its dashboard (linked when it rendered: the drill-down), then
the portfolio dashboard's own content, inside the report's page shell (``templates/index.html``
extends ``templates/page.html``; text escaped by :func:`wip_lib.reports.html.render`).

A row is marked ``flag`` when the job carries a loss provision (``loss_provision > 0``). Its flags
column names every flag kind of the job, as the job's facts carry them
(:func:`wip_lib.reports.dashboard.with_job_facts`, ``flag_kinds``): the schedule's recognition
flags (``loss``, ...) then the kinds of the period's overrun and billing flags
(:mod:`wip_lib.accounting.flags`, in their order), each once.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from wip_lib.reports.dashboard import with_job_facts
from wip_lib.reports.html import render
from wip_lib.reports.notebooks import PLOTLY_ASSET, plotly_context

PROJECT_COLUMNS = ["job_id", "job_name", "status", "contract_revised", "pct_complete",
                   "est_gp_pct", "underbillings", "overbillings", "flag"]


def dashboard_state(result: Mapping | None) -> str:
    """``ok``, ``FAILED: <error>`` or ``not run`` for one project's notebook result."""
    if not result:
        return "not run"
    return "ok" if result["ok"] else "FAILED: " + (result["error"] or "")


def portfolio_main(portfolio_html: Path) -> str:
    """The ``<main>`` content of the rendered portfolio page, or empty when it was not written."""
    if not portfolio_html.exists():
        return ""
    text = portfolio_html.read_text(encoding="utf-8")
    start, end = text.find("<main>"), text.rfind("</main>")
    return text[start + 6:end] if start >= 0 and end > start else ""


OPTIONAL_COLUMNS = ["project_manager", "pct_billed", "backlog"]


def write_index(bundle, out: Path, results: Mapping[str, Mapping], *,
                plotly_src: str | None = PLOTLY_ASSET) -> Path:
    """Write ``out/index.html`` for ``bundle`` given the notebook ``results`` by key (each with
    ``ok`` and ``error``); returns its path. ``plotly_src``: see
    :func:`wip_lib.reports.notebooks.page` (the month-end passes ``INLINE_PLOTLY`` unless asked
    for shared assets)."""
    s = with_job_facts(bundle, bundle["schedule"])
    for c in OPTIONAL_COLUMNS:
        if c not in s.columns:
            s[c] = None
    s["project_manager"] = s["project_manager"].astype(object).where(
        s["project_manager"].notna(), None)
    projects = []
    for r in s[PROJECT_COLUMNS + OPTIONAL_COLUMNS + ["loss_provision", "flag_kinds"]].to_dict(
            "records"):
        res = results.get(r["job_id"])
        projects.append({**r, "flag": r["flag_kinds"], "loss": r["loss_provision"] > 0,
                         "linked": bool(res and res["ok"]), "state": dashboard_state(res)})
    target = out / "index.html"
    target.write_text(render("index.html", title=f"{bundle.company_name}: WIP {bundle.period}",
                             subtitle=f"Month-end reports for {bundle.period}",
                             back_link=None, projects=projects,
                             package=(out / "wip_package.pdf").is_file(),
                             billing=(out / "billing_review.csv").is_file(),
                             billing_pdf=(out / "billing" / "G702_G703_all.pdf").is_file(),
                             payapps=(out / "payapp_findings.csv").is_file(),
                             portfolio=portfolio_main(out / "portfolio.html"),
                             **plotly_context(plotly_src)),
                      encoding="utf-8")
    return target
