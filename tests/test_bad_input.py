"""Bad input never costs a dollar (issue #21): one test per class of mistake, each asserting the
message a controller reads (file, row and column where there is one), never a traceback.

The company is the two-job folder cut out of data/sample (``test_readers.mini_company``: job
00529, active, and 00883, completed in 2026-06; current period 2026-10). Figures quoted in the
expected messages are read off the files themselves (row numbers as a spreadsheet shows them,
header = row 1): e.g. job 00883 starts on 12/04/2025 in procore/projects.csv, so the company's
first month of data is 2025-12.
"""
from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import CELL_TIMEOUT, KERNEL_MANAGER
from test_readers import JCT, SAMPLE, load, mini_company, save

from wip_lib.cli.main import main
from wip_lib.core import schema
from wip_lib.core.errors import InputError, PeriodError, file_system_problem
from wip_lib.core.identifiers import job_number, path_inside, unsafe_reason
from wip_lib.core.period_range import check_in_data, first_data_period
from wip_lib.core.settings import Company, Settings
from wip_lib.sources import validate as rules

FIRST = "2025-12"  # job 00883's start date, 12/04/2025, in procore/projects.csv
CURRENT = "2026-10"  # company.yaml


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return mini_company(tmp_path_factory.mktemp("bad") / "base")


@pytest.fixture
def company(base, tmp_path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "co"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def problem_lines(err: str) -> list[str]:
    return [line[4:] for line in err.splitlines() if line.startswith("  - ")]


def append_row(path: Path, row: list[str]) -> int:
    """Append a row; return its row number (header = 1)."""
    header, rows = load(path)
    save(path, header, [*rows, row])
    return len(rows) + 2


# -- duplicates: every table with a document or transaction id -------------------------------------

@pytest.mark.parametrize("name", [n for n, t in schema.TABLES.items() if t.key])
def test_every_keyed_table_rejects_a_second_row_with_the_same_key(name):
    """The rule covers every canonical table with a key, job cost included: two identical rows
    (file and rows as a reader tags them) -> the second (row 3) is reported, the first kept."""
    t = schema.get(name)
    one = {c.name: pd.Series(["2026-10" if c.kind == "period" else "K1"], dtype=c.dtype)
           if c.kind in ("text", "code", "period") else t.empty()[c.name].reindex([0])
           for c in t.columns}
    df = pd.concat([pd.DataFrame(one)] * 2, ignore_index=True)
    df["_file"], df["_row"] = "x.csv", [2, 3]
    found = rules.duplicate_keys({name: df}, Settings(name="T", current_period=CURRENT))
    problems, mask = found[name]
    assert mask.tolist() == [False, True]
    assert [(p.file, p.row) for p in problems] == [("x.csv", 3)]
    assert "the same key appears on an earlier row" in problems[0].message


def test_duplicate_job_cost_transaction_is_not_counted_twice(company, capsys):
    header, rows = load(company / JCT)
    first = rows[0]
    assert first[13] == "JCT0002877" and first[7] == "151.67"  # Transaction_ID, Amount
    row = append_row(company / JCT, list(first))
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert problem_lines(err) == [
        f"{JCT}, row {row}, column 'Transaction_ID': duplicate Transaction_ID: the same key "
        "appears on an earlier row (value: 'JCT0002877'). Fix: remove the duplicate line or "
        "correct its number"]


@pytest.mark.parametrize("file,key", [
    ("procore/commitments.csv", "#"),
    ("procore/budget/00529/2026-10.csv", "Cost Type"),
    ("erp/ART_CURRENT__TRANSACTION.csv", "Invoice"),
    ("erp/APM_MASTER__INVOICE.csv", "Invoice"),
])
def test_duplicate_document_in_each_kind_of_export(company, capsys, file, key):
    path = company / file
    header, rows = load(path)
    data = [r for r in rows if not r[0].startswith("Total")]
    save(path, header, [*data, list(data[0]), *[r for r in rows if r[0].startswith("Total")]])
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    lines = [x for x in problem_lines(err) if x.startswith(f"{file}, row {len(data) + 2}, ")]
    assert len(lines) == 1 and "duplicate" in lines[0] and f"column '{key}'" in lines[0], err


# -- names built from data -------------------------------------------------------------------------

@pytest.mark.parametrize("name,reason", [
    ("../../../x", "it holds '/', which a file name cannot"),
    ("a\\b", "it holds '\\\\', which a file name cannot"),
    ("..", "it starts with '.'"),
    (".hidden", "it starts with '.'"),
    ("00104 ", "it ends with a space or '.'"),
    ("CON", "it is a name Windows reserves for a device"),
    ("lpt1.html", "it is a name Windows reserves for a device"),
    ("x\x00y", "it holds a control character (code 0), which a file name cannot"),
    ("", "blank"),
    ("9" * 121, "longer than 120 characters"),
    ("00104", None), ("2026-10", None), ("A-17 (phase 2)", None), ("Ünïcode Öffice", None),
])
def test_the_safe_name_rule(name, reason):
    assert unsafe_reason(name) == reason


def test_path_inside_refuses_names_and_links_that_leave_the_folder(tmp_path):
    base = tmp_path / "reports"
    (base / "projects").mkdir(parents=True)
    assert path_inside(base / "projects", "00104", suffix=".html") == \
        base / "projects" / "00104.html"
    with pytest.raises(InputError) as e:
        path_inside(base / "projects", "../../../x", suffix=".html", what="job number",
                    source="--jobs")
    assert str(e.value.problems[0]) == (
        "--jobs: the job number '../../../x' cannot name a file: it holds '/', which a file name "
        "cannot (value: '../../../x'). Fix: correct the job number: leave out / \\ : * ? \" < > | "
        "and control characters, do not start it with '.' or end it with a space or '.'")
    (tmp_path / "elsewhere").mkdir()
    (base / "projects" / "link").symlink_to(tmp_path / "elsewhere")  # a safe name, a way out
    with pytest.raises(InputError, match="leads outside"):
        path_inside(base / "projects", "link", "x", suffix=".html")


def test_month_end_jobs_option_is_never_a_path(company, tmp_path, capsys):
    out = tmp_path / "reports"
    code, _, err = run(capsys, "month-end", company, "--out", out, "--jobs", "00529,../../../x",
                       "--no-progress")
    assert code == 2
    assert problem_lines(err) == [
        "--jobs: the job number '../../../x' cannot name a file: it holds '/', which a file name "
        "cannot (value: '../../../x'). Fix: correct the job number: leave out / \\ : * ? \" < > | "
        "and control characters, do not start it with '.' or end it with a space or '.'"]
    assert not out.exists()  # refused before anything was computed or written
    assert not list(tmp_path.rglob("x.*"))


def test_job_number_that_cannot_name_a_file_is_reported_where_it_is_read(company, capsys):
    path = company / "procore/projects.csv"
    header, rows = load(path)
    bad = list(rows[0])
    bad[0] = "../../x"
    row = append_row(path, bad)
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert problem_lines(err) == [
        f"procore/projects.csv, row {row}, column 'Project Number': the job number cannot name "
        "a file (it holds a path separator or another character a file name cannot, or starts "
        "with '.') (value: '../../x'). Fix: correct the job number: leave out / \\ : * ? \" < > | "
        "and control characters, do not start it with '.' or end it with a space or '.'"]


def test_budget_folder_written_from_pulled_data_is_a_safe_name(base, tmp_path):
    from wip_lib.sources.export_writer import _write_budgets
    from wip_lib.sources.readers import load_company

    budget = load_company(base)["budget"]  # any budget lines will do
    lines = budget[budget["job_id"] == "00529"].head(2).copy()
    lines["job_id"] = "../../escaped"
    with pytest.raises(InputError, match="the job number or period '../../escaped' cannot "
                       "name a file"):
        _write_budgets(tmp_path / "co", lines)
    assert not list(tmp_path.rglob("*.csv"))


# -- required exports with no rows -----------------------------------------------------------------

def test_job_cost_export_with_only_its_header_is_an_error(company, capsys):
    header, _ = load(company / JCT)
    save(company / JCT, header, [])
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert problem_lines(err) == [
        f"{JCT}: the export has a header but no rows. Fix: export it again with the company's "
        "job-cost transactions included; if there truly are none yet, add `empty_exports: "
        "[erp_job_cost]` to company.yaml"]


def test_empty_export_declared_in_company_yaml_is_read_as_none(company, capsys):
    header, _ = load(company / JCT)
    save(company / JCT, header, [])
    with (company / "company.yaml").open("a", encoding="utf-8") as fh:
        fh.write("empty_exports: [erp_job_cost]\n")
    code, out, err = run(capsys, "validate", company)
    assert code == 0, err
    assert "warning" not in out and "OK: the company folder is valid." in out


def test_optional_export_with_only_its_header_is_a_warning(company, capsys):
    p = company / "procore/commitment_change_orders.csv"
    header, _ = load(p)
    save(p, header, [])
    code, out, err = run(capsys, "validate", company)
    assert code == 0, err
    assert ("warning: procore/commitment_change_orders.csv: the export has a header but no rows: "
            "read as none. Fix: export it again if it should hold commitment change orders; if "
            "there truly are none, add `empty_exports: [commitment_change_orders]` to "
            "company.yaml (or remove the file)") in out


def test_budget_snapshot_without_lines_is_an_error(company, capsys):
    p = company / "procore/budget/00529/2026-10.csv"
    header, _ = load(p)
    save(p, header, [])
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/budget/00529/2026-10.csv: the budget snapshot has a header but no lines. Fix: "
        "export the job's budget again at that month end (every job has budget lines), or "
        "delete the file if no snapshot was taken that month"]


@pytest.mark.parametrize("value", ["jobs", "budget", "no_such_table"])
def test_empty_exports_key_accepts_only_tables_that_can_be_empty(value):
    with pytest.raises(InputError) as e:
        Settings.from_mapping({"name": "A", "current_period": CURRENT, "empty_exports": [value]})
    assert str(e.value.problems[0]).startswith(
        f"company.yaml, column 'empty_exports': empty_exports names {value!r}, which cannot be "
        "declared empty")


# -- headers that are near misses -------------------------------------------------------------------

@pytest.mark.parametrize("file,right,wrong", [
    ("procore/commitments.csv", "Invoiced", "Invoced"),
    ("procore/budget/00529/2026-10.csv", "Committed Costs", "Comitted Costs"),
    (JCT, "Units", "Unts"),
])
def test_header_that_is_a_near_miss_is_an_error_naming_both_spellings(company, capsys, file,
                                                                      right, wrong):
    header, rows = load(company / file)
    header[header.index(right)] = wrong
    save(company / file, header, rows)
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert problem_lines(err) == [
        f"{file}, row 1, column '{wrong}': column '{wrong}' is not a header this export has; it "
        f"looks like a misspelling of '{right}', which would otherwise be read as absent (0 or "
        f"blank on every row) (value: '{wrong}'). Fix: rename the header '{wrong}' to '{right}'"]


# -- periods outside the data ---------------------------------------------------------------------

def _tables_company(start: str, periods: list[str], current: str) -> Company:
    jobs = schema.get("jobs").empty().reindex([0])
    jobs["job_id"] = pd.Series(["J1"], dtype="string")
    jobs["start_date"] = pd.Series([pd.Timestamp(start)], dtype="datetime64[us]")
    jc = pd.DataFrame({"period": pd.Series(periods, dtype="string")})
    jc = pd.concat([schema.get("erp_job_cost").empty(), jc], ignore_index=True)
    return Company.from_tables(Settings(name="T", current_period=current),
                               {"jobs": jobs, "erp_job_cost": jc})


def test_first_month_of_data_is_the_earliest_start_or_dated_row():
    assert first_data_period(_tables_company("2026-03-09", ["2026-02", "2026-05"], "2026-10")) \
        == "2026-02"  # a cost booked before the start date counts
    assert first_data_period(_tables_company("2025-12-04", ["2026-02"], "2026-10")) == "2025-12"
    c = _tables_company("2026-03-09", [], "2026-10")
    assert [check_in_data(c, p) for p in ("2026-03", "2026-10")] == ["2026-03", "2026-10"]
    with pytest.raises(PeriodError, match="before the company's first month of data 2026-03"):
        check_in_data(c, "2026-02")
    with pytest.raises(PeriodError, match="after the company's current period 2026-10"):
        check_in_data(c, "2026-11")


AFTER = (f"--period 2027-06 is after the company's current period {CURRENT} (company.yaml, "
         f"current_period): the exports hold nothing later, so a report for 2027-06 would show "
         f"{CURRENT}'s figures under a later date. Give a period from {FIRST} to {CURRENT}, or "
         "move current_period forward in company.yaml once that month is open and exported.")
BEFORE = (f"--period 2025-11 is before the company's first month of data {FIRST} (the earliest "
          f"job start or dated export row): nothing had happened yet, so a report would be "
          f"empty. Give a period from {FIRST} to {CURRENT}.")


@pytest.mark.parametrize("command", [
    ["excel", "--out", "{tmp}/x"], ["forecast", "--out", "{tmp}/x"],
    ["reconcile", "--out", "{tmp}/x"], ["month-end", "--out", "{tmp}/x", "--no-progress"],
    ["close"]])
@pytest.mark.parametrize("period,message", [("2027-06", AFTER), ("2025-11", BEFORE)],
                         ids=["after-current", "before-data"])
def test_every_command_refuses_a_period_outside_the_data(company, tmp_path, capsys, command,
                                                         period, message):
    argv = [command[0], company, "--period", period,
            *[a.format(tmp=tmp_path) for a in command[1:]]]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err == f"wip {command[0]}: {message}\n"
    assert not (tmp_path / "x").exists()


def test_close_through_and_from_are_checked_too(company, capsys):
    code, _, err = run(capsys, "close", company, "--through", "2027-01")
    assert code == 1 and "--through 2027-01 is after the company's current period" in err
    code, _, err = run(capsys, "close", company, "--from", "2024-01", "--through", "2025-12")
    assert code == 1 and "--from 2024-01 is before the company's first month of data 2025-12" \
        in err


# -- file-system errors -----------------------------------------------------------------------------

FOLDER = ("a folder where a file should be. Fix: put the file itself at this path (move the "
          "folder aside), or give the file's own path")


@pytest.mark.parametrize("file", ["procore/commitments.csv", JCT,
                                  "procore/budget/00529/2026-10.csv"])
def test_a_folder_where_an_export_should_be(company, capsys, file):
    (company / file).unlink()
    (company / file).mkdir()
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert f"{file}: {FOLDER}" in problem_lines(err)


def test_a_folder_named_company_yaml(company, capsys):
    (company / "company.yaml").unlink()
    (company / "company.yaml").mkdir()
    code, out, err = run(capsys, "validate", company)
    assert code == 2 and problem_lines(err) == [f"{company / 'company.yaml'}: {FOLDER}"]


def test_files_where_the_budget_folders_should_be(company, capsys):
    shutil.move(company / "procore/budget/00529/2026-10.csv", company / "procore/budget/x.csv")
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert ("procore/budget/x.csv: a file where a job's folder of budget snapshots should be "
            "(value: 'x.csv'). Fix: move it to procore/budget/JOB/YYYY-MM.csv, in the folder "
            "named by its job number") in problem_lines(err)
    shutil.rmtree(company / "procore/budget")
    (company / "procore/budget").write_text("not a folder")
    code, out, err = run(capsys, "validate", company)
    assert ("procore/budget: a file where the folder of budget snapshots should be. Fix: put the "
            "snapshots in the folder procore/budget/JOB/YYYY-MM.csv (move the file aside)") in \
        problem_lines(err)


def test_permission_denied_is_named(company, capsys, monkeypatch):
    real = Path.open

    def refuse(self, *a, **k):
        if self.name == "commitments.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "open", refuse)
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert ("procore/commitments.csv: permission denied. Fix: give your user permission to read "
            "it (and to write, for an output), or close the program that holds it open") in \
        problem_lines(err)


def test_an_output_path_through_a_file_is_a_message(company, tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    target = tmp_path / "a_file" / "totals.csv"
    code, out, err = run(capsys, "validate", company, "--totals-csv", target)
    assert code == 2
    assert problem_lines(err)[0].startswith(f"{tmp_path / 'a_file'}: ")


@pytest.mark.parametrize("exc,text", [
    (IsADirectoryError(21, "Is a directory", "p"), "p: a folder where a file should be"),
    (NotADirectoryError(20, "Not a directory", "p"), "p: a file where a folder should be"),
    (PermissionError(13, "Permission denied", "p"), "p: permission denied"),
    (OSError(28, "No space left on device", "p"), "p: the disk is full"),
    (OSError(5, "Input/output error", "p"), "p: the file system refused: Input/output error"),
])
def test_file_system_errors_become_problems_naming_the_path(exc, text):
    assert str(file_system_problem(exc)).startswith(text + ". Fix: ")


# -- a cut row -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_cut_row_is_named_by_its_row(company, capsys, encoding):
    p = company / "procore/commitments.csv"
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = ",".join(lines[3].split(",")[:3]) + "\n"  # row 4 cut after 3 cells
    if encoding == "cp1252":
        lines[2] = lines[2].replace("Ironclad", "Ironclàd")  # not UTF-8 when saved
    p.write_text("".join(lines), encoding=encoding)
    code, out, err = run(capsys, "validate", company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/commitments.csv, row 4: the row cannot be read: it has 3 cell(s) where the "
        "header has 21. Fix: mend the row (a cell may be cut short or a quote left open) or "
        "export the file again"]


# -- missing budget snapshots -------------------------------------------------------------------------

def test_missing_snapshot_with_control_totals_says_the_file_is_missing(tmp_path, capsys):
    co = Path(shutil.copytree(SAMPLE, tmp_path / "sample",
                              ignore=shutil.ignore_patterns("wip_store.duckdb*")))
    (co / "procore/budget/00104/2026-10.csv").unlink()
    code, out, err = run(capsys, "validate", co)
    assert code == 2
    rows = [r for r in csv.DictReader((SAMPLE / "control_totals.csv").open())
            if r["file"] == "procore/budget/00104/2026-10.csv" and r["measure"] == "rows"]
    assert problem_lines(err) == [
        f"procore/budget/00104/2026-10.csv: the file is missing: control_totals.csv lists it with "
        f"{rows[0]['value']} rows. Fix: put the export back at procore/budget/00104/2026-10.csv "
        "(export it again from the source system for that month)"]
    assert "find the row that was edited" not in err


def test_missing_snapshot_is_a_warning_of_the_month_end_and_the_dashboards(company, tmp_path,
                                                                          capsys, monkeypatch):
    """00529 has snapshots 2026-03..2026-10: without 2026-10 its figures come from 2026-09.
    00883 completed 06/26/2026: it needs no snapshot after 2026-06."""
    import wip_lib.reports.notebooks as notebooks
    from wip_lib.close import bundle
    from wip_lib.reports import dashboard as d

    (company / "procore/budget/00529/2026-10.csv").unlink()
    warning = ("procore/budget/00529/2026-10.csv: budget snapshot missing: job 00529 has "
               "snapshots up to 2026-09 but none for 2026-10, so its budget, the PM's forecast "
               "and its cost to complete are 2026-09's. Fix: export job 00529's budget as at the "
               "2026-10 month end from Procore and save it as procore/budget/00529/2026-10.csv")
    monkeypatch.setattr(notebooks, "run_batch", lambda runs, **kw: [])  # the notebooks aside
    code, out, err = run(capsys, "month-end", company, "--out", tmp_path / "reports",
                         "--no-progress")
    assert code == 0, err
    assert out.count(f"warning: {warning}") == 2  # when found, and again in the summary
    b = bundle.load(tmp_path / "reports" / "2026-10" / "data")
    assert d.input_warnings(b) == [warning] and d.input_warnings(b, "00529") == [warning]
    assert d.input_warnings(b, "00883") == []
    assert "budget snapshot missing: job 00529" in d.warnings_html(d.input_warnings(b))


# -- a job with no budget snapshot at all -------------------------------------------------------------

@pytest.fixture(scope="module")
def no_budget(base, tmp_path_factory) -> Path:
    """00529 without any budget snapshot (and without the commitment lines, change orders and
    direct costs that would name its budget's codes)."""
    co = Path(shutil.copytree(base, tmp_path_factory.mktemp("nobudget") / "co"))
    shutil.rmtree(co / "procore/budget/00529")
    for f in ("commitment_lines", "commitment_change_orders", "direct_costs"):
        header, rows = load(co / f"procore/{f}.csv")
        save(co / f"procore/{f}.csv", header, [r for r in rows if r[0] != "00529"])
    return co


def test_dashboards_are_safe_on_a_job_without_estimates(no_budget, tmp_path, monkeypatch):
    from wip_lib.close import bundle
    from wip_lib.reports import dashboard as d

    monkeypatch.setenv("WIP_CACHE_DIR", str(tmp_path / "cache"))
    b = bundle.compute(no_budget, CURRENT)
    h = b["history"]
    assert h.loc[h["job_id"] == "00529", "est_gross_profit"].isna().any()  # no estimate
    for f in (d.key_figures, d.headline_items, d.movement, d.sources, d.cost_curve,
              d.progress_vs_billing, d.margin_trend, d.over_under_trend, d.cost_codes,
              d.cost_code_chart, d.job_flags, d.job_findings):
        f(b, "00529")
    for f in (d.portfolio_key_figures, d.schedule_table, d.over_under_chart, d.fade_chart,
              d.backlog_chart, d.findings_text):
        f(b)
    bars = d.margin_trend(b, "00529").data[0]
    assert d.GREY in bars.marker.color  # a missing estimate is a grey bar, not a crash
    assert d.input_warnings(b, "00529") == [
        "procore/budget/00529/2026-10.csv: budget snapshot missing: job 00529 has no budget "
        "snapshot on or before 2026-10, so it has no budget and no estimate of cost to complete "
        "(read as 0: its percent complete and revenue are not estimates). Fix: export job "
        "00529's budget as at the 2026-10 month end from Procore and save it as "
        "procore/budget/00529/2026-10.csv"]


def test_notebooks_run_on_a_job_without_estimates_with_a_numeric_job_id(no_budget, tmp_path,
                                                                        monkeypatch):
    """papermill -p job_id 00529 hands the notebook the integer 529."""
    import nbformat
    import papermill as pm
    from papermill.cli import _resolve_type

    assert _resolve_type("00529") == 529  # what papermill's -p does to a job number
    monkeypatch.setenv("WIP_CACHE_DIR", str(tmp_path / "cache"))
    nbs = Path(__file__).resolve().parents[1] / "notebooks"
    texts = {}
    for name, params in (("project_dashboard", {"job_id": 529}), ("portfolio_dashboard", {})):
        out = tmp_path / f"{name}.ipynb"
        pm.execute_notebook(str(nbs / f"{name}.ipynb"), str(out), kernel_name="python3",
                            parameters={"data_dir": str(no_budget), "period": CURRENT, **params},
                            progress_bar=False, cwd=str(nbs), execution_timeout=CELL_TIMEOUT,
                        kernel_manager_class=KERNEL_MANAGER)
        nb = nbformat.read(out, as_version=4)
        texts[name] = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get(
            "text/html", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Job 00529 Mill Creek Water Treatment Building at 2026-10" in texts["project_dashboard"]
    for text in texts.values():
        assert "budget snapshot missing: job 00529 has no budget snapshot" in text


# -- job numbers in notebooks ---------------------------------------------------------------------------

@pytest.mark.parametrize("value,known,expected", [
    (205, ["00104", "00205"], "00205"), (205.0, ["00205"], "00205"), ("00205", ["00205"], "00205"),
    (" 00205 ", ["00205"], "00205"), (104, ["104-A", "00104"], "00104"),
])
def test_job_number_recovers_the_text(value, known, expected):
    assert job_number(value, known) == expected


@pytest.mark.parametrize("value,known,message", [
    (205, ["205", "00205"], "job number 205 could be any of 205, 00205: the leading zeros were "
     "lost on the way in"),
    (206, ["00205"], "no job number spells 206"),
    ("205", ["00205"], "job '205' is not in the schedule"),
    (True, ["1"], "job 'True' is not in the schedule"),
])
def test_job_number_that_matches_no_job_or_several(value, known, message):
    with pytest.raises(InputError) as e:
        job_number(value, known)
    assert e.value.problems[0].message == message


# -- text cut to Excel's limit -------------------------------------------------------------------------

def test_text_cut_to_excels_limit_is_reported(company, tmp_path, capsys):
    p = company / "procore/budget/00529/2026-10.csv"
    header, rows = load(p)
    long = "x" * (1 << 20)  # 1 MiB
    rows[0][header.index("Budget Code Description")] = long
    save(p, header, rows)
    code, out, err = run(capsys, "excel", company, "--out", tmp_path)
    assert code == 0, err
    lines = [x for x in err.splitlines() if x.startswith("warning: wip_schedule.xlsx, ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("warning: wip_schedule.xlsx, sheet 'Cost to complete', cell ")
    assert "column 'Description'): text of 1,048,576 characters cut to Excel's limit of " \
        "32,767" in lines[0]
    import openpyxl

    from wip_lib.reports.excel.cells import EXCEL_TEXT_LIMIT

    cell = lines[0].split(", cell ")[1].split(" ")[0]
    ws = openpyxl.load_workbook(tmp_path / "wip_schedule.xlsx")["Cost to complete"]
    assert ws[cell].value == long[:EXCEL_TEXT_LIMIT]


# -- the explorer ----------------------------------------------------------------------------------------

def test_explorer_parse_shows_bad_boxes_instead_of_falling_back():
    from wip_lib.reports.explorer import parse_etc

    values, errors = parse_etc({("03-300", "L"): "12,345.67", ("05-100", "M"): "abc",
                                ("09-300", "S"): "", ("22-100", "S"): "-5", ("23-100", "L"): "0"})
    assert values == {("03-300", "L"): 1234567, ("23-100", "L"): 0}
    assert errors == [
        "05-100 M: 'abc' is not an amount of money (write e.g. 12,345.67)",
        "09-300 S: the cost to complete is blank (enter 0 if nothing is left)",
        "22-100 S: the cost to complete cannot be negative (-5)"]


def test_explorer_save_needs_who_and_why_and_saves_once(company, tmp_path, monkeypatch):
    from wip_lib.reports.explorer import Explorer
    from wip_lib.sources.overrides_file import read_overrides

    monkeypatch.setenv("WIP_CACHE_DIR", str(tmp_path / "cache"))
    ex = Explorer(company, CURRENT, 529)  # papermill's 529 is job 00529
    assert ex.job_id == "00529"
    _, f = ex.rows()
    boxes = {(r.cost_code, r.cost_type): f"{r.etc_used / 100:.2f}" for r in f.itertuples()}
    key = next(iter(boxes))
    boxes[key] = "1,000.00"
    with pytest.raises(InputError) as e:
        ex.save(boxes, who="", why="  ")
    assert [str(p) for p in e.value.problems] == [
        "overrides/2026-10.csv, column 'who': who is blank. Fix: fill in who makes the change "
        "and why (the audit trail needs both), then save again",
        "overrides/2026-10.csv, column 'why': why is blank. Fix: fill in who makes the change "
        "and why (the audit trail needs both), then save again"]
    assert not (company / "overrides").exists()
    with pytest.raises(InputError, match="'ten' is not an amount of money"):
        ex.save({**boxes, key: "ten"}, who="ana", why="re-estimate")
    assert ex.save(boxes, who="ana", why="re-estimate") == \
        "Saved 1 override(s) to overrides/2026-10.csv"
    assert ex.save(boxes, who="ana", why="re-estimate").startswith("Nothing to save")
    saved, problems = read_overrides(company, CURRENT)
    assert problems == [] and len(saved) == 1
    assert (saved.loc[0, "cost_code"], saved.loc[0, "cost_type"]) == key
    assert int(saved.loc[0, "etc_amount"]) == 100000


def test_explorer_notebook_takes_a_numeric_job_id(tmp_path):
    import nbformat
    import papermill as pm

    nbs = Path(__file__).resolve().parents[1] / "notebooks"
    out = tmp_path / "x.ipynb"
    pm.execute_notebook(str(nbs / "job_explorer.ipynb"), str(out), parameters={"job_id": 216},
                        kernel_name="python3", progress_bar=False, cwd=str(nbs),
                        execution_timeout=CELL_TIMEOUT,
                        kernel_manager_class=KERNEL_MANAGER)
    text = "\n".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells
                     if c.cell_type == "code" for o in c.outputs)
    assert "over(under) billed 214,542.40" in text  # job 00216, the planted overbilled job


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
