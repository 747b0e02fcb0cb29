"""The progress billing and pay-app review outputs: what ``wip billing`` and ``wip payapps``
(and the month-end) write.

- ``billing_review.csv`` and ``payapp_findings.csv``: the findings (job_id, reference, line,
  check, expected, actual, difference, severity, action, cost code, contract, application,
  detail), money as plain decimal text, text neutralised against formula injection
  (:mod:`wip_lib.reports.csvfiles`).
- ``billing/JOB_CONTRACT_G703.xlsx``: each draft's G702/G703 with live formulas
  (:mod:`wip_lib.reports.excel.g703`);
- ``billing/JOB_CONTRACT_G702_G703.html`` and ``.pdf``: the same draft as a page
  (``templates/g702_g703.html``), printed by headless Chromium (:func:`print_pdf`), several at
  once; or ``billing/G702_G703_all.pdf``, every draft in one PDF printed in one Chromium run
  (what the month-end writes).

Figures are the drafts' and the reviews' (:mod:`wip_lib.close.billing`); nothing is recomputed.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from wip_lib.accounting.progress_billing import G702_TEXT, Draft
from wip_lib.accounting.review_findings import MONEY
from wip_lib.reports.csvfiles import write_report_csv
from wip_lib.reports.excel.g703 import PROGRESS_TEXT, write_g703_workbook
from wip_lib.reports.html import dollars, html_table, render
from wip_lib.reports.package import print_pdf

BILLING_REVIEW = "billing_review.csv"
PAYAPP_FINDINGS = "payapp_findings.csv"
FOLDER = "billing"
G703_LABELS = {
    "item_number": "A Item No.", "description": "B Description of work",
    "scheduled_value": "C Scheduled value",
    "from_previous_application": "D From previous application (D + E)",
    "this_period": "E This period", "materials_stored": "F Materials presently stored",
    "total_completed_to_date": "G Completed and stored to date (D + E + F)",
    "pct": "% (G / C)", "balance_to_finish": "H Balance to finish (C - G)",
    "retainage": "I Retainage"}
G703_MONEY = ["scheduled_value", "from_previous_application", "this_period", "materials_stored",
              "total_completed_to_date", "balance_to_finish", "retainage"]


def write_findings(findings: pd.DataFrame, path: Path) -> Path:
    """A review's findings as CSV (module docstring)."""
    return write_report_csv(findings, path, money=MONEY, keep=["check", "severity"])


def safe_name(text: str) -> str:
    """A job or contract number as part of a file name (anything but letters, digits, ``.``,
    ``-`` and ``_`` becomes ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._") or "_"


def stem(d: Draft) -> str:
    return f"{safe_name(d.job_id)}_{safe_name(d.contract)}"


def _draft_part(d: Draft, owner: str, job_name: str) -> dict:
    g = d.g702
    bold = {"line_3", "line_6", "line_8"}
    lines = d.lines[list(G703_LABELS)]
    facts = [("Job", f"{d.job_id} {job_name}".strip()), ("Prime contract", d.contract),
             ("Owner", owner),
             ("Application", f"{d.application_number}" + (
                 f" (Procore invoice {d.invoice_number})" if d.invoice_number else " (new)")),
             ("Period to", f"{d.period_end:%Y-%m-%d}"),
             ("Progress billed", PROGRESS_TEXT.get(d.progress, d.progress)),
             ("Lines from", d.sov_source)]
    return {"heading": f"Job {d.job_id} {job_name}, prime contract {d.contract}: application "
                       f"{d.application_number}",
            "facts": facts, "rate": f"{d.rate_ppm / 10_000:g}%",
            "g702": [(G702_TEXT[k], dollars(g[k]), k in bold) for k in G702_TEXT],
            "g703": html_table(lines, money=G703_MONEY, pct=["pct"], total_row=True,
                               labels=G703_LABELS)}


def drafts_html(drafts: list[Draft], billing, title: str) -> str:
    """Drafts as one page (``templates/g702_g703.html``; a page break between them), every
    text escaped."""
    parts = [_draft_part(d, billing.owners.get((d.job_id, d.contract), ""),
                         billing.job_names.get(d.job_id, "")) for d in drafts]
    notes = [f"Draft prepared from the company's data for {billing.period}; review it against "
             "the billing review (billing_review.csv) before it goes out."]
    return render("g702_g703.html", title=f"{billing.company_name}: {title}",
                  subtitle=f"Draft AIA G702/G703, period {billing.period}", plotly_js=None,
                  plotly_src=None, back_link=None, drafts=parts, notes=notes)


#: The PDF of all drafts together (the month-end prints this one, in one Chromium run).
ALL_DRAFTS = "G702_G703_all"


def write_billing(billing, out: Path, *, pdf: str | None = "jobs",
                  printer=print_pdf) -> dict[str, list[Path]]:
    """Write ``out/billing_review.csv`` and under ``out/billing/`` each draft's workbook and page
    for a :class:`wip_lib.close.billing.BillingResult`, then the PDFs: ``pdf="jobs"`` one per
    draft (printed in parallel), ``"combined"`` one of all drafts (``G702_G703_all.pdf``)
    printed by ``printer`` (:func:`print_pdf`, or a
    :class:`~wip_lib.reports.package.BackgroundPrinter`), ``None`` none."""
    out = Path(out)
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {"review": [write_findings(billing.review,
                                                              out / BILLING_REVIEW)],
                                    "xlsx": [], "html": [], "pdf": []}
    for d in billing.drafts:
        owner = billing.owners.get((d.job_id, d.contract), "")
        name = billing.job_names.get(d.job_id, "")
        files["xlsx"].append(write_g703_workbook(d, folder / f"{stem(d)}_G703.xlsx",
                                                 billing.company_name, owner, name))
        page = folder / f"{stem(d)}_G702_G703.html"
        page.write_text(drafts_html([d], billing, f"G702/G703 {d.job_id} contract {d.contract}"),
                        encoding="utf-8")
        files["html"].append(page)
    if pdf == "jobs" and files["html"]:
        with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
            files["pdf"] = list(pool.map(lambda p: print_pdf(p, p.with_suffix(".pdf")),
                                         files["html"]))
    elif pdf == "combined" and billing.drafts:
        page = folder / f"{ALL_DRAFTS}.html"
        page.write_text(drafts_html(billing.drafts, billing, "draft G702/G703 of every job"),
                        encoding="utf-8")
        files["html"].append(page)
        files["pdf"].append(printer(page, page.with_suffix(".pdf")))
    return files
