"""The month-end's pages as a controller opens them, and the PDF package.

One month-end of the sample company (the loss job 00104's dashboard, the portfolio and the
reconciliation pages) in the default layout, where every page carries plotly.js inside it.
Then, in headless Chromium at 1,400 px wide: no table of the index, project or reconciliation
page runs off the page, no cell's text is clipped, a project page copied alone into another
folder draws its charts without a single request outside the file, and the pages show human
labels and dates without a time of day. The package PDF (``wip_package.pdf``, also from
``wip package``) holds the schedule's totals, worked from wip_schedule.csv here, and the
sign-off block (read back with pdftotext).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import require_tool

from wip_lib.core.money import parse_cents

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PERIOD = "2026-10"
LOSS_JOB = "00104"
WIDTH = 1400


def _wip(*args: str) -> subprocess.CompletedProcess:
    exe = ROOT / ".venv" / "bin" / "wip"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "wip_lib.cli.main"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pages") / "reports"
    run = _wip("month-end", str(SAMPLE), "--period", PERIOD, "--out", str(out), "--jobs",
               LOSS_JOB, "--no-progress")
    assert run.returncode == 0, run.stdout + run.stderr
    return out / PERIOD


def _whole_dollars(cents: int) -> str:
    """Whole dollars, half up from exact cents, as the tables print them: 123456789 -> 1,234,568."""
    d = (abs(cents) + 50) // 100
    return f"({d:,})" if cents < 0 else f"{d:,}"


def _schedule_totals(reports: Path) -> dict[str, str]:
    """Totals of the contracts in progress, summed here from the schedule CSV (exact cents)."""
    s = pd.read_csv(reports / "wip_schedule.csv", dtype=str, keep_default_na=False)
    s = s[s["status"] != "complete"]
    return {c: _whole_dollars(int(parse_cents(s[c])[0].sum()))
            for c in ("contract_revised", "earned_revenue", "billed_to_date", "underbillings",
                      "overbillings", "backlog")}


def _pdf_text(pdf: Path) -> str:
    exe = require_tool("pdftotext", "reads the package PDF back")
    return subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _assert_package(pdf: Path, totals: dict[str, str]) -> None:
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _pdf_text(pdf)
    total_lines = [line for line in text.splitlines() if line.strip().startswith("Total")]
    joined = "\n".join(total_lines)
    for column, amount in totals.items():
        assert amount in joined, (column, amount, total_lines)
    for words in ("WIP schedule", "Completed contracts", "Over and under billings",
                  "WIP journal entry", "Cost to complete by job", "Reconciliation summary",
                  "Notes", "Sign-off", "Prepared by", "Reviewed by", "Approved by", "Signature"):
        assert words in text, words


def test_month_end_writes_the_package(reports):
    require_tool("chromium", "prints the package PDF")
    _assert_package(reports / "wip_package.pdf", _schedule_totals(reports))
    assert 'href="wip_package.pdf"' in (reports / "index.html").read_text(encoding="utf-8")


def test_wip_package_command(reports, tmp_path):
    require_tool("chromium", "prints the package PDF")
    pdf = tmp_path / "elsewhere" / "package.pdf"
    run = _wip("package", str(SAMPLE), "--period", PERIOD, "--out", str(pdf))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "sign-off" in run.stdout
    _assert_package(pdf, _schedule_totals(reports))


def test_a_long_package_is_printed_in_parts_and_joined(reports, tmp_path, monkeypatch):
    """Chromium holds every page of a print in memory: a page longer than PART_CHARS is printed
    part by part, cut at its page breaks, and the PDFs joined in order (docs/performance.md)."""
    require_tool("chromium", "prints the package PDF")
    from pypdf import PdfReader

    from wip_lib.reports import package

    page = tmp_path / "wip_package.html"
    html = (reports / "wip_package.html").read_text(encoding="utf-8")
    page.write_text(html, encoding="utf-8")
    limit = len(html) // 2  # two or three parts: each print is a Chromium start
    monkeypatch.setattr(package, "PART_CHARS", limit)
    parts = package.page_parts(html, limit)
    assert 2 <= len(parts) <= 3 and html.count(package.PAGE_BREAK) == 4
    printed = []
    real = package._print_one
    monkeypatch.setattr(package, "_print_one",
                        lambda h, p, t, shown=None: printed.append(h.name) or real(h, p, t, shown))
    pdf = package.print_pdf(page, tmp_path / "wip_package.pdf")
    assert printed == [f".wip_package.part{i}.html" for i in range(len(parts))]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["wip_package.html", "wip_package.pdf"]
    _assert_package(pdf, _schedule_totals(reports))
    text = _pdf_text(pdf)
    order = [text.index(w) for w in ("WIP schedule: contracts in progress", "WIP schedule: "
                                     "billing", "Completed contracts", "Cost to complete by job",
                                     "Notes", "Sign-off")]
    assert order == sorted(order)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= len(parts) and reader.metadata.title.endswith("month-end package")
    assert text.count("WIP schedule and month-end package") == 1  # the title block: page 1 only


def test_page_parts_cut_at_page_breaks_within_the_limit():
    from wip_lib.reports.package import PAGE_BREAK, page_parts

    head = '<html><head><title>T</title></head><body><header class="wip"><h1>T</h1></header>'
    pieces = ["a" * 40, "b" * 30, "c" * 50, "d" * 10]
    page = head + "<main>" + PAGE_BREAK.join(pieces) + "</main></body></html>"
    assert page_parts(page, 10_000) == [page]  # all within the limit: one print, as before
    parts = page_parts(page, 80 + len(PAGE_BREAK))
    bodies = [p.partition("<main>")[2].rpartition("</main>")[0] for p in parts]
    assert bodies == [pieces[0] + PAGE_BREAK + pieces[1], pieces[2] + PAGE_BREAK + pieces[3]]
    assert parts[0].startswith(head) and '<header class="wip">' not in parts[1]
    assert all(p.endswith("</main></body></html>") for p in parts)
    assert page_parts("<main>no breaks</main>", 1) == ["<main>no breaks</main>"]
    assert page_parts(f"{PAGE_BREAK} outside main", 1) == [f"{PAGE_BREAK} outside main"]


def test_pages_carry_plotly_once_and_show_human_text(reports):
    for page in ("index.html", f"projects/{LOSS_JOB}.html", "portfolio.html"):
        text = (reports / page).read_text(encoding="utf-8")
        assert "assets/plotly.min.js" not in text and "<script src=" not in text, page
        assert text.count("<script>/**\n* plotly.js") <= 1, page
        shown = re.sub(r"<script.*?</script>", "", text, flags=re.S)  # text, not chart data
        assert "00:00:00" not in shown, page
        for raw in ("contract_revised", "est_gp_pct", "underbillings</th>"):
            assert f"<th>{raw}" not in text and f'class="t">{raw}' not in text, (page, raw)
    assert not (reports / "assets").exists()
    # a page without a chart carries no plotly.js at all
    assert "plotly.js" not in (reports / "reconciliation.html").read_text(encoding="utf-8")


def _driver():
    require_tool("chromedriver", "headless Chromium renders the pages")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--window-size={WIDTH},1000", "--hide-scrollbars"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if Path("/usr/bin/chromium").exists():
        opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


#: Per table: how far it runs past its box and past the window; per cell: text wider than it.
LAYOUT = """
const out = {tables: [], cells: []};
const width = document.documentElement.clientWidth;
for (const t of document.querySelectorAll('main table')) {
  const box = t.parentElement.getBoundingClientRect();
  const r = t.getBoundingClientRect();
  const over = Math.max(r.right - Math.min(box.right, width), t.scrollWidth - t.clientWidth);
  if (over > 1) out.tables.push([t.querySelector('th') ? t.querySelector('th').innerText : '',
                                 Math.round(over)]);
}
for (const c of document.querySelectorAll('main td, main th')) {
  if (c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1)
    out.cells.push([c.innerText.slice(0, 40), c.scrollWidth, c.clientWidth]);
}
out.width = width;
return out;
"""


def test_pages_fit_1400_px_and_travel_alone(reports, tmp_path):
    alone = tmp_path / "mail" / f"{LOSS_JOB}.html"
    alone.parent.mkdir()
    shutil.copy(reports / "projects" / f"{LOSS_JOB}.html", alone)
    shots = tmp_path / "shots"
    shots.mkdir()
    driver = _driver()
    try:
        for page, min_charts in (("index.html", 4), (f"projects/{LOSS_JOB}.html", 5),
                                 ("reconciliation.html", 0)):
            driver.get((reports / page).as_uri())
            charts = driver.execute_script(
                "return document.querySelectorAll('.js-plotly-plot .main-svg').length")
            assert charts >= min_charts, (page, charts)
            layout = driver.execute_script(LAYOUT)
            assert layout["width"] >= WIDTH - 20, layout["width"]
            assert layout["tables"] == [], (page, layout["tables"])
            assert layout["cells"] == [], (page, layout["cells"][:10])
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], (page, errors)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(WIDTH, min(height, 12000))
            driver.save_screenshot(str(shots / (Path(page).stem + ".png")))
            driver.set_window_size(WIDTH, 1000)

        # the project page alone in another folder: its charts draw, nothing is fetched
        driver.get(alone.as_uri())
        assert driver.execute_script("return typeof Plotly") == "object"
        charts = driver.execute_script(
            "return document.querySelectorAll('.js-plotly-plot .main-svg').length")
        assert charts >= 5, charts
        requests = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert requests == [], requests
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
    finally:
        driver.quit()
