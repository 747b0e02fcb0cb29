"""The month-end batch on the sample company: reports written, a failing project isolated and
re-run with --only-failed, pages rendered in headless Chromium without errors, text escaped."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import require_tool

from wip_lib.core.money import parse_cents

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PERIOD = "2026-10"
JOBS = ["00104", "00148", "00205"]
FAILING = "00148"


def _wip(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = ROOT / ".venv" / "bin" / "wip"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "wip_lib.cli.main"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=cwd, timeout=900)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One month-end of three projects where one project's notebook fails, then the re-run; in
    the shared-asset layout (one plotly.js for the batch; the default, self-contained pages, is
    tested in test_pages.py)."""
    tmp = tmp_path_factory.mktemp("month_end")
    broken = tmp / "broken_dashboard.ipynb"
    nb = nbformat.read(ROOT / "notebooks" / "project_dashboard.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        f'assert job_id != "{FAILING}", "injected failure for job {FAILING}"'))
    nbformat.write(nb, broken)
    out = tmp / "reports"
    first = _wip("month-end", str(SAMPLE), "--period", PERIOD, "--out", str(out), "--workers",
                 "2", "--jobs", ",".join(JOBS), "--project-notebook", str(broken),
                 "--no-progress", "--shared-assets")
    summary_first = json.loads((out / PERIOD / "run_summary.json").read_text())
    second = _wip("month-end", str(SAMPLE), "--period", PERIOD, "--out", str(out),
                  "--only-failed", "--no-progress", "--shared-assets")
    summary_second = json.loads((out / PERIOD / "run_summary.json").read_text())
    return {"out": out / PERIOD, "first": first, "second": second,
            "summary_first": summary_first, "summary_second": summary_second}


def test_failing_project_does_not_stop_the_others(batch):
    first, s = batch["first"], batch["summary_first"]
    assert first.returncode == 1, first.stdout + first.stderr
    assert "Traceback" not in first.stderr
    assert s["failed"] == [FAILING]
    assert "injected failure" in s["notebooks"][FAILING]["error"]
    for job in JOBS:
        if job != FAILING:
            assert s["notebooks"][job]["ok"]
    assert "--only-failed" in first.stdout


def test_only_failed_reruns_just_the_failed_one(batch):
    second, s = batch["second"], batch["summary_second"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert s["notebooks_run"] == 1
    assert s["failed"] == []
    assert all(v["ok"] for v in s["notebooks"].values())
    assert (batch["out"] / "projects" / f"{FAILING}.html").is_file()


def test_reports_folder_is_complete(batch):
    out = batch["out"]
    for name in ("index.html", "portfolio.html", "reconciliation.html", "wip_schedule.csv",
                 "completed_contracts.csv", "forecast.csv", "overrun_flags.csv",
                 "reconciliation.csv", "reconciliation_summary.csv", "journal_entry.csv",
                 "run_summary.json", "assets/plotly.min.js"):
        assert (out / name).is_file(), name
    for job in JOBS:
        assert (out / "projects" / f"{job}.html").is_file()
        assert (out / "notebooks" / "projects" / f"{job}.ipynb").is_file()


def test_reports_tie_to_the_planted_figures(batch):
    """The loss, underbilled and overbilled jobs of the answer key, to the cent, in the CSV."""
    sched = pd.read_csv(batch["out"] / "wip_schedule.csv", dtype=str, keep_default_na=False)
    key = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    cents = {c: dict(zip(sched["job_id"], parse_cents(sched[c])[0]))
             for c in ("est_gross_profit", "underbillings", "overbillings", "fade_vs_bid")}
    want = {"Loss job": "est_gross_profit", "Heavily underbilled": "underbillings",
            "Overbilled": "overbillings", "Margin fade": "fade_vs_bid"}
    checked = 0
    for rec in key.to_dict("records"):
        for prefix, col in want.items():
            if rec["situation"].startswith(prefix):
                amount = int(parse_cents(pd.Series([rec["amount"]]))[0].iloc[0])
                assert cents[col][rec["job_id"]] == amount, (rec, col)
                checked += 1
    assert checked == 4
    # Income statement: period revenue of in-progress plus completed jobs is in run_summary.
    done = pd.read_csv(batch["out"] / "completed_contracts.csv", dtype=str)
    assert len(done) == 5
    journal = pd.read_csv(batch["out"] / "journal_entry.csv", dtype=str)
    debit = parse_cents(journal["Debit"])[0].fillna(0).sum()
    credit = parse_cents(journal["Credit"])[0].fillna(0).sum()
    assert debit == credit > 0


def test_html_hides_code_and_loads_no_cdn(batch):
    page = (batch["out"] / "projects" / "00104.html").read_text()
    assert "load_or_compute" not in page  # code cells hidden
    assert "cdn." not in page and "https://" not in page.split("<main>")[0]
    assert '<script src="../assets/plotly.min.js">' in page


def test_pages_render_in_headless_chromium(batch):
    require_tool("chromedriver", "headless Chromium renders the pages")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1000"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if Path("/usr/bin/chromium").exists():
        opts.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        for page, min_charts in (("index.html", 3), ("projects/00104.html", 5)):
            driver.get((batch["out"] / page).as_uri())
            charts = driver.execute_script(
                "return document.querySelectorAll('.js-plotly-plot .main-svg').length")
            assert charts >= min_charts, (page, charts)
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], (page, errors)
            assert driver.execute_script("return typeof Plotly") == "object"
    finally:
        driver.quit()


def test_billing_outputs_written_and_linked(batch):
    """The month-end writes the billing review, the pay-app findings and the drafts (one PDF of
    them all), and the index links them."""
    out = batch["out"]
    for name in ("billing_review.csv", "payapp_findings.csv"):
        head = (out / name).read_text(encoding="utf-8").splitlines()[0].split(",")
        assert head[:9] == ["job_id", "reference", "line", "check", "expected", "actual",
                            "difference", "severity", "action"], name
    books = list((out / "billing").glob("*_G703.xlsx"))
    assert len(books) >= 20 and (out / "billing" / "G702_G703_all.pdf").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    for link in ('href="billing_review.csv"', 'href="payapp_findings.csv"',
                 'href="billing/G702_G703_all.pdf"'):
        assert link in index, link
    assert "Billing: " in batch["first"].stdout


def test_reports_are_written_beside_the_notebooks(batch):
    """The CSVs, the workbook, the package and the billing are written while the notebooks run;
    the month-end waits for them before the summary, which lists them and their times."""
    s, out = batch["summary_first"], batch["first"].stdout
    assert {"reports_s", "package_s", "billing_s", "publish_wait_s"} <= set(s["timings"])
    assert {"wip_schedule.csv", "wip_schedule.xlsx", "wip_package.html", "billing_review.csv",
            "payapp_findings.csv"} <= set(s["files"])
    # its messages come after the notebooks' line, never into their progress bar
    assert out.index("Executing") < out.index("Billing:")


def test_without_chromium_the_reports_are_written_and_the_pdfs_warned(tmp_path, monkeypatch):
    """No Chromium on the machine: the CSVs, workbook, package page and billing are written,
    no PDF, and one warning each for the package and the billing drafts."""
    import wip_lib.reports.package as package
    from wip_lib.cli.commands import month_end
    from wip_lib.close.period import compute_period
    from wip_lib.core.errors import InputError, Problem
    from wip_lib.sources.readers import load_company

    def no_browser():
        raise InputError([Problem("chromium", "no Chromium to print the PDF with",
                                  "install Debian's chromium package")])

    monkeypatch.setattr(package, "browser", no_browser)
    company = load_company(SAMPLE)
    result = compute_period(company, PERIOD)
    messages, took = month_end._publish(company.settings, result,
                                        month_end._billing_figures(company, result), tmp_path)
    assert [m.split(":")[1].strip() for m in messages if m.startswith("warning")] == [
        "wip_package.pdf not written", "billing PDFs not written"]
    assert {"wip_schedule.xlsx", "wip_package.html", "billing_review.csv",
            "payapp_findings.csv"} <= {p.name for p in tmp_path.iterdir()}
    assert not list(tmp_path.rglob("*.pdf"))
    assert set(took) == {"reports_s", "package_s", "billing_s"}


def _problem_in_the_billing(_):
    from wip_lib.core.errors import InputError, Problem

    raise InputError([Problem("lien_waivers.csv", "row 3: no such commitment", "fix the row",
                              row=3)])


def test_the_reports_process_returns_its_value_and_its_errors_cross_whole():
    """The work beside the notebooks runs in a forked process (on Linux): its value comes back,
    an input error comes back as the same error (problems and exit code, not a traceback), and
    a process that dies is an error saying so."""
    import os

    from wip_lib.cli.commands.month_end import _Beside
    from wip_lib.core.errors import InputError, WipError

    parent = os.getpid()
    beside = _Beside(lambda: (["Billing: 2 drafts"], {"reports_s": 1.5, "pid": os.getpid()}))
    messages, took = beside.result()
    assert messages == ["Billing: 2 drafts"] and took["reports_s"] == 1.5
    if not sys.platform.startswith("linux"):
        return
    assert took["pid"] != parent  # it ran in a process of its own
    with pytest.raises(InputError) as err:
        _Beside(_problem_in_the_billing, None).result()
    assert err.value.exit_code == 2
    assert [(p.file, p.row) for p in err.value.problems] == [("lien_waivers.csv", 3)]
    with pytest.raises(WipError, match="ended without finishing, exit code 9"):
        _Beside(lambda: os._exit(9)).result()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a forked process on Linux only")
def test_the_reports_process_steps_back_for_the_kernels():
    """The CSVs, workbook, package and billing run in a forked process at a lower priority, so
    the kernels keep their cores (docs/performance.md, the fifth round)."""
    import os

    from wip_lib.cli.commands.month_end import _BESIDE_NICENESS, _Beside

    assert _BESIDE_NICENESS > 0
    assert _Beside(os.nice, 0).result() == min(os.nice(0) + _BESIDE_NICENESS, 19)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a forked process on Linux only")
def test_the_reports_process_ends_when_its_work_is_done():
    """Its reply is taken as soon as it is sent, however long (thousands of billing warnings at
    2,000 jobs outgrow the pipe's buffer): the process, and the period it holds, are gone long
    before the notebooks end and the month-end asks for the reply."""
    import time

    from wip_lib.cli.commands.month_end import _Beside

    warnings = [f"warning: job {j:05d}: owner pay app not in ERP AR" for j in range(20_000)]
    beside = _Beside(lambda: (warnings, {"billing_s": 0.5}))
    deadline = time.monotonic() + 30
    while beside._process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not beside._process.is_alive() and beside._process.exitcode == 0
    messages, took = beside.result()
    assert messages == warnings and took == {"billing_s": 0.5}


def _exits_at_once():
    import os

    os._exit(3)


def _cut_short(text):
    from wip_lib.core.errors import InputError, Problem

    raise InputError([Problem("x.csv", text, "fix it")])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a forked process on Linux only")
def test_the_workbook_is_written_in_a_process_of_its_own(capfd):
    """Its memory goes back to the system when it is written: the process ends. Its value, its
    error and its warnings come back; a process that dies is an error naming what it wrote."""
    import os

    from wip_lib.cli.commands.month_end import _in_own_process
    from wip_lib.core.errors import InputError, WipError

    assert _in_own_process("a number", os.getpid) not in (os.getpid(), None)
    assert _in_own_process("a sum", sum, [1, 2, 3]) == 6
    with pytest.raises(InputError, match="a bad row"):
        _in_own_process("a check", _cut_short, "a bad row")
    with pytest.raises(WipError, match="the process writing the workbook ended without"):
        _in_own_process("the workbook", _exits_at_once)
    _in_own_process("a warning", print, "warning: shown")  # os._exit would drop it unflushed
    assert "warning: shown" in capfd.readouterr().out


def test_exports_bytes_is_the_size_of_the_procore_and_erp_files(tmp_path):
    """The rule that keeps a large company's kernels off the computation's peak
    (``EARLY_KERNELS_BYTES``) measures the export files only, from the listing."""
    from wip_lib.cli.commands import month_end as me

    sample = ROOT / "data" / "sample"
    by_hand = sum(f.stat().st_size for part in ("procore", "erp")
                  for f in (sample / part).rglob("*") if f.is_file())
    assert me.exports_bytes(sample) == by_hand
    assert 0 < by_hand <= me.EARLY_KERNELS_BYTES  # the sample starts its kernels beside
    company = tmp_path / "c"
    (company / "procore" / "budget" / "001").mkdir(parents=True)
    (company / "erp").mkdir()
    (company / "procore" / "budget" / "001" / "2026-10.csv").write_bytes(b"x" * 1000)
    (company / "erp" / "jc.csv").write_bytes(b"y" * 234)
    (company / "company.yaml").write_text("company_name: x\n" * 100)  # not an export
    assert me.exports_bytes(company) == 1234
    assert me.exports_bytes(tmp_path / "missing") == 0


@pytest.mark.parametrize("argv,starts", [
    (["--period", "2027-06"], False),           # refused: after the current period
    (["--jobs", "00529,../x"], False),          # refused: a job name that is a path
    (["--period", "2026-10", "--only-failed"], False),  # refused: no earlier run to re-run
    (["--period", "2026-10"], True),            # valid: the kernels start, then the period
])
def test_kernels_start_once_the_input_is_valid(tmp_path, monkeypatch, argv, starts):
    """A month-end the input stops starts no kernel; a valid one starts EARLY_KERNELS of them
    before the period is computed (a company under EARLY_KERNELS_BYTES), beside the
    computation."""
    from wip_lib.cli.commands import month_end as me
    from wip_lib.cli.main import main
    from wip_lib.reports import notebooks

    class Computing(Exception):
        pass

    def compute(*args):
        events.append("compute")
        raise Computing  # the order is what is checked: no need to compute the period

    events = []
    monkeypatch.setattr(notebooks.NotebookPool, "start",
                        lambda self, kernels=None: events.append(("start", kernels)))
    monkeypatch.setattr(me, "_compute", compute)
    command = ["month-end", str(SAMPLE), "--out", str(tmp_path / "r"), "--no-progress", *argv]
    if starts:
        with pytest.raises(Computing):
            main(command)
        assert events == [("start", me.EARLY_KERNELS), "compute"]  # one kernel, the rest later
    else:
        assert main(command) != 0
        assert events == []
