"""The month-end package a CFO signs and a surety accepts: one PDF, printed by headless Chromium
from an HTML page rendered with the report templates (``templates/package.html`` extends the
page shell, whose print CSS lays it out on landscape letter pages).

Contents, in order: key figures; the WIP schedule of contracts in progress (estimate and earned
to date; billing, backlog and the period, each with totals); completed contracts; over and under
billings; the WIP journal entry; the cost to complete summary by job; the reconciliation summary;
notes with the recognition policies and where the figures came from; a prepared-by / reviewed-by
/ approved sign-off block.

Every figure is the computed period's (:func:`wip_lib.close.period.compute_period`); the package
only selects, sums into totals and formats (:mod:`wip_lib.reports.html`).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from wip_lib.close.bundle import from_result
from wip_lib.core.errors import InputError, Problem, WipError
from wip_lib.core.money import report_amount
from wip_lib.reports import dashboard as d
from wip_lib.reports.html import headline, html_table, percent, render

#: Chromium's names on Debian and elsewhere, tried in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Each recognition policy of ``company.yaml`` in words (value shown beside it).
POLICY_TEXT = {
    "include_pending_co_revenue": "Revenue of pending (unapproved) change orders included in the "
                                  "contract (ASC 606-10-32-11, constrained estimate)",
    "start_threshold": "Start-of-job threshold: below this percent complete revenue equals cost "
                       "(zero margin); losses are never deferred",
    "net_loss_provision": "Loss provision netted into over/under billings (surety view)",
    "stale_forecast_periods": "A PM forecast unchanged for this many periods is flagged stale",
    "fade_threshold_points": "Margin fade flagged from this many points",
}

SIGNERS = ("Prepared by", "Reviewed by", "Approved by")


def _policy_value(name: str, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in ("start_threshold", "fade_threshold_points"):
        return percent(float(value))
    return str(value)


def sections(result) -> dict:
    """The package's parts as HTML tables and texts (escaped), from the computed period."""
    b = from_result(result)
    ip = b["in_progress"]
    estimate, est_opts = d.portfolio_table(b, d.ESTIMATE_VIEW)
    billing, bill_opts = d.portfolio_table(b, d.BILLING_VIEW)
    ou = ip[(ip["underbillings"] != 0) | (ip["overbillings"] != 0)]
    over_under = ou[["job_id", "job_name", "contract_revised", "earned_revenue",
                     "billed_to_date", "underbillings", "overbillings"]].reset_index(drop=True)
    completed = b["completed"]
    ctc = ip[["job_id", "job_name", "contract_revised", "cost_to_date", "est_cost_to_complete",
              "est_total_cost", "est_gross_profit", "est_gp_pct", "etc_source"]]
    fc = result.forecast
    by_job = fc.groupby("job_id")[["revised_budget", "pm_forecast"]].sum()
    ctc = ctc.assign(revised_budget=ctc["job_id"].map(by_job["revised_budget"]).astype("Int64"),
                     pm_forecast=ctc["job_id"].map(by_job["pm_forecast"]).astype("Int64"))
    ctc = ctc[["job_id", "job_name", "contract_revised", "revised_budget", "cost_to_date",
               "pm_forecast", "est_cost_to_complete", "est_total_cost", "est_gross_profit",
               "est_gp_pct", "etc_source"]].reset_index(drop=True)
    tie = b["tieout"]
    unexplained = int(tie["unexplained"].sum()) if len(tie) else 0
    policies = [(POLICY_TEXT.get(k, k.replace("_", " ")), _policy_value(k, v))
                for k, v in (getattr(result.settings, "policies", None) or {}).items()]
    audit = result.override_audit
    applied = int((audit["status"] == "applied").sum()) if len(audit) else 0
    money_ctc = ["contract_revised", "revised_budget", "cost_to_date", "pm_forecast",
                 "est_cost_to_complete", "est_total_cost", "est_gross_profit"]
    totals = result.wip.totals()
    return {
        "headline": headline(d.portfolio_headline(b)),
        "estimate": html_table(estimate, **est_opts),
        "billing": html_table(billing, **bill_opts),
        "completed": html_table(completed, money=[c for c in completed.columns if c not in (
            "job_id", "job_name", "completion_date")], total_row=True, whole_dollars=True)
        if len(completed) else "",
        "over_under": html_table(over_under, money=list(over_under.columns[2:]),
                                 total_row=True, whole_dollars=True),
        "over_under_net": report_amount(totals["overbillings"] - totals["underbillings"]),
        "journal": html_table(b["journal_summary"], money=["debit", "credit", "net"],
                              total_row=True),
        "ctc": html_table(ctc, money=money_ctc, pct=["est_gp_pct"], total_row=True,
                          whole_dollars=True,
                          labels={"est_cost_to_complete": "ETC used",
                                  "pm_forecast": "PM forecast to complete",
                                  "etc_source": "ETC source"}),
        "findings": html_table(d.findings_by_check(b), money=["difference"], total_row=True),
        "findings_count": len(b["findings"]),
        "unexplained": report_amount(unexplained),
        "policies": policies,
        "notes": list(b.notes),
        "sources": [("Contract", "Procore: prime contract + change orders approved by period "
                     "end"), ("Cost to date", "ERP: job-cost transactions through the period"),
                    ("Cost to complete", "Procore: the PM's forecast to complete of the period's "
                     "budget snapshot, unless a controller override is recorded"),
                    ("Billed to date", "ERP: AR billings through the period, gross of "
                     "retainage")],
        "overrides": applied,
    }


def package_html(result, *, generated: datetime | None = None) -> str:
    """The package page (``templates/package.html``) of a computed period."""
    return render_package(result.company_name, result.period, sections(result),
                          generated=generated)


def render_package(company: str, period: str, parts: dict, *,
                   generated: datetime | None = None) -> str:
    """``templates/package.html`` for ``company`` and ``period`` with the parts of
    :func:`sections` (text escaped; the tables escaped where html_table rendered them)."""
    when = (generated or datetime.now(timezone.utc).astimezone()).replace(microsecond=0)
    try:
        end = pd.Period(period, freq="M").end_time.date().isoformat()
    except ValueError:
        end = period
    return render("package.html", title=f"{company}: WIP schedule and month-end package",
                  subtitle=f"Period ended {end} ({period}) · generated {when.isoformat()}",
                  plotly_js=None, plotly_src=None, back_link=None, period=period,
                  period_end=end, company=company, signers=SIGNERS, **parts)


def browser() -> str:
    """The headless Chromium to print with, or an error naming how to install it."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise InputError([Problem("chromium", "no Chromium to print the PDF with",
                              "install Debian's chromium package (apt-get install chromium)")])


#: A forced new page in our templates (``.pagebreak`` in ``page.html``): where a long page is
#: cut into parts printed one after another (:func:`print_pdf`).
PAGE_BREAK = '<div class="pagebreak"></div>'
#: The most HTML printed by one Chromium unless a single part between page breaks is longer.
#: Chromium holds every page of a print in memory until the PDF is written: 2 to 3 MB per
#: kilobyte of our tables (the 2,000-job package, 1.6 MB, took 3.4 GB printed whole and 1.3 GB
#: in parts). The sample's package (40 kB) is one part.
PART_CHARS = 256_000
_TITLE_BLOCK = re.compile(r'<header class="wip">.*?</header>', re.S)


def print_pdf(html_file: Path, pdf_file: Path, *, timeout: float = 180) -> Path:
    """Print ``html_file`` to ``pdf_file`` with headless Chromium (the page's print CSS sets the
    paper); no header or footer lines. A page longer than :data:`PART_CHARS` is printed in parts
    cut at its page breaks (:func:`page_parts`) and the PDFs joined in order, so Chromium's
    memory follows the largest part, not the whole. Chromium fits a print to the paper by its
    widest table: each part is fitted on its own, so a narrow schedule is no longer shrunk to
    the widest one's scale (the 2,000-job package: 254 pages in parts, 131 whole)."""
    html_file, pdf_file = Path(html_file), Path(pdf_file)
    text = html_file.read_text(encoding="utf-8")
    parts = page_parts(text, PART_CHARS) if len(text) > PART_CHARS else [text]
    if len(parts) == 1:
        return _print_one(html_file, pdf_file, timeout)
    # beside the page, so any relative link in it means the same
    stem = html_file.parent / f".{html_file.stem}.part"
    printed: list[Path] = []
    try:
        for i, part in enumerate(parts):
            page = Path(f"{stem}{i}.html")
            page.write_text(part, encoding="utf-8")
            printed.append(page)
            printed.append(_print_one(page, Path(f"{stem}{i}.pdf"), timeout, html_file))
        return join_pdfs(printed[1::2], pdf_file)
    finally:
        for f in printed:
            f.unlink(missing_ok=True)


def page_parts(html: str, limit: int = PART_CHARS) -> list[str]:
    """``html`` (a page of ``page.html``) as whole pages to print one after another: cut at its
    :data:`PAGE_BREAK` s, neighbouring pieces joined while a part stays within ``limit``
    characters. Each part is the page with that piece of its body; the title block heads the
    first part only, as it heads the first page only. A page without breaks is one part."""
    head, opened, rest = html.partition("<main>")
    body, closed, tail = rest.rpartition("</main>")
    if not (opened and closed) or PAGE_BREAK not in body:
        return [html]
    pieces = body.split(PAGE_BREAK)
    groups: list[list[str]] = [[pieces[0]]]
    for piece in pieces[1:]:
        if sum(map(len, groups[-1])) + len(piece) <= limit:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    bare = _TITLE_BLOCK.sub("", head, count=1)
    return [(head if i == 0 else bare) + opened + PAGE_BREAK.join(g) + closed + tail
            for i, g in enumerate(groups)]


def join_pdfs(parts: list[Path], pdf_file: Path) -> Path:
    """The PDFs ``parts`` as one, in order, at ``pdf_file`` (pypdf), with the first part's
    document properties (its title)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    info = PdfReader(str(parts[0])).metadata
    if info:
        writer.add_metadata({k: v for k, v in info.items() if isinstance(v, str)})
    tmp = pdf_file.with_name(f".{pdf_file.name}.tmp")
    with tmp.open("wb") as fh:
        writer.write(fh)
    os.replace(tmp, pdf_file)
    return pdf_file


def _print_one(html_file: Path, pdf_file: Path, timeout: float, shown: Path | None = None
               ) -> Path:
    """One Chromium print of ``html_file`` (a part of ``shown``, the page errors name); a
    throwaway profile keeps parallel runs apart."""
    exe = browser()
    pdf_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(pdf_file.parent / f".{pdf_file.name}.tmp")
    with tempfile.TemporaryDirectory(prefix="wip-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={tmp}",
               Path(html_file).resolve().as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            raise InputError([Problem(str(shown or html_file), "Chromium did not print the PDF "
                                      f"within {timeout:.0f} s", "run it again; if it persists, "
                                      "check that chromium starts (chromium --headless "
                                      "--version)")]) from None
    if run.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        detail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InputError([Problem(str(shown or html_file), f"Chromium could not print the PDF "
                                  f"(exit {run.returncode}: {detail[0]})",
                                  "check that chromium runs headless on this machine")])
    os.replace(tmp, pdf_file)
    return pdf_file


class BackgroundPrinter:
    """Prints pages to PDF (:func:`print_pdf`) on background threads: a Chromium print takes
    about 1.4 s, most of it Chromium starting, which the month-end spends executing notebooks
    instead of waiting. Called like :func:`print_pdf` (it returns the PDF's path at once);
    :meth:`wait` waits for every print and returns the problems of those that failed."""

    def __init__(self, workers: int = 2):
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wip-pdf")
        self._prints: list = []

    def __call__(self, html_file: Path, pdf_file: Path) -> Path:
        self._prints.append(self._pool.submit(print_pdf, html_file, pdf_file))
        return Path(pdf_file)

    def wait(self) -> list[WipError]:
        failed = []
        for f in self._prints:
            try:
                f.result()
            except WipError as exc:
                failed.append(exc)
        self._pool.shutdown()
        self._prints = []
        return failed


def write_package(result, pdf_file: Path, *, printer=print_pdf) -> Path:
    """Write ``wip_package.html`` beside ``pdf_file`` and print it to ``pdf_file`` with
    ``printer`` (:func:`print_pdf`, or a :class:`BackgroundPrinter`)."""
    pdf_file = Path(pdf_file)
    html_file = pdf_file.with_suffix(".html")
    html_file.parent.mkdir(parents=True, exist_ok=True)
    html_file.write_text(package_html(result), encoding="utf-8")
    return printer(html_file, pdf_file)
