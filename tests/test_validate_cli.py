"""``wip validate DATA_DIR`` on bad input: one message per problem naming the file, the row, the
column, the bad value and the fix; exit 2 (InputError), never a traceback; and for every file,
rows in = rows accepted + rows reported (+ totals, blank and not-cost rows).

Each case edits one file of a two-job folder cut out of data/sample (helpers in test_readers.py)
and asserts the exact message line a controller reads.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_readers import JCT, column, dollars, load, mini_company, save, set_cell

import wip_lib.sources.readers as readers
from wip_lib.cli.main import main

WIP = Path(sys.executable).parent / "wip"


# Optional exports no case here edits: left out so that each of the many runs stays quick
# (test_readers.py reads them all).
UNUSED = ["procore/commitment_change_orders.csv", "procore/direct_costs.csv",
          "procore/owner_invoices.csv", "erp/APM_MASTER__INVOICE.csv",
          "erp/APM_MASTER__VENDOR.csv", "erp/JCM_CONTRACT__CHANGE_ORDER.csv",
          "erp/SCM_MASTER__COMMITMENT.csv", "erp/GLT_CURRENT__BALANCE.csv"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = mini_company(tmp_path_factory.mktemp("validate") / "base")
    for f in UNUSED:
        (root / f).unlink()
    return root


@pytest.fixture
def company(base, tmp_path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "co"))


@pytest.fixture
def validate(capsys, monkeypatch):
    """Run ``wip validate`` in-process; return (exit code, stdout, stderr, the ReadResult the
    command worked from), asserting no traceback and that every file's rows tie."""
    def run(root: Path, *extra: str):
        seen = []
        real = readers.read_company

        def spy(path):
            seen.append(real(path))
            return seen[-1]

        monkeypatch.setattr(readers, "read_company", spy)
        code = main(["validate", str(root), *extra])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        assert len(seen) == 1
        untied = [r for r in seen[0].reports if not r.ties()]
        assert not untied, untied
        return code, out, err, seen[0]
    return run


def problem_lines(err: str) -> list[str]:
    return [line[4:] for line in err.splitlines() if line.startswith("  - ")]


def report(result, file: str):
    return next(r for r in result.reports if r.file == file)


# -- the clean folder -----------------------------------------------------------------------------

def test_clean_folder_exits_0_with_counts_and_totals(company, validate, tmp_path):
    code, out, err, result = validate(company, "--totals-csv", str(tmp_path / "totals.csv"))
    assert code == 0 and err == ""
    assert "OK: the company folder is valid." in out
    # Per file: rows in, accepted, reported, totals rows, other (blank / not-cost) rows.
    assert re.search(r"^procore/prime_contracts\.csv +prime_contracts +2 +2 +0 +0 +0$", out,
                     re.M)
    assert re.search(r"^erp/JCT_CURRENT__TRANSACTION\.csv +erp_job_cost +348 +319 +0 +0 +29$",
                     out, re.M)
    # Budget snapshots summed per job folder: 8 snapshots of 14 rows, each with a totals row.
    assert re.search(r"^procore/budget/00529/ \(8 snapshots 2026-03\.\.2026-10\) +budget +112 +104 "
                     r"+0 +8 +0$", out, re.M)
    assert "    original_amount 1,182,360.00, approved_change_orders 142,502.00" in out
    n_in = sum(r.rows_in for r in result.reports)
    assert f"{len(result.reports)} files: {n_in} rows in = " in out
    totals = pd.read_csv(tmp_path / "totals.csv", dtype=str)
    pc = totals[totals["file"] == "procore/prime_contracts.csv"].set_index("measure")["value"]
    assert pc["rows"] == "2" and pc["original_amount"] == "1182360.00"


def test_control_totals_file_catches_an_edited_figure(company, validate):
    code, out, err, _ = validate(company, "--totals-csv", str(company / "control_totals.csv"))
    assert code == 0 and (company / "control_totals.csv").is_file()
    p = company / "procore/prime_change_orders.csv"
    total = sum(dollars(v) for v in column(p, "Amount"))
    assert set_cell(p, 2, "Amount", "$9,948.00") == "$9,947.00"
    code, out, err, _ = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        "control_totals.csv: control total differs for procore/prime_change_orders.csv amount: "
        f"expected {total:.2f}, read {total + 1:.2f}. Fix: find the row that was edited, added "
        "or removed since the totals were taken"]


def test_windows_1252_file_is_read_not_rejected(company, validate):
    p = company / "procore/vendors.csv"
    header, rows = load(p)
    rows[0][0] = "Béton Québec Ltée"
    save(p, header, rows, encoding="cp1252")
    code, out, err, result = validate(company)
    assert code == 0, err
    assert ("warning: procore/vendors.csv: read as Windows-1252 (not UTF-8). Fix: nothing to do; "
            "saving as UTF-8 avoids surprises with accented vendor names") in out
    assert "Béton Québec Ltée" in set(result.company["procore_vendors"]["vendor_name"])


# -- one bad input at a time -----------------------------------------------------------------------

def drop_column(path: Path, name: str) -> None:
    header, rows = load(path)
    i = header.index(name)
    save(path, header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows])


def test_missing_column(company, validate):
    drop_column(company / "procore/prime_change_orders.csv", "Amount")
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/prime_change_orders.csv, row 1, column 'Amount': required column 'Amount' is "
        "missing. Fix: export the procore/prime_change_orders with the column 'Amount' (also "
        "accepted: Grand Total, Total Amount)"]
    rep = report(result, "procore/prime_change_orders.csv")
    assert (rep.rows_in, rep.rows_accepted, rep.rows_reported) == (7, 0, 7)


def test_misspelled_column_suggests_the_nearest_header(company, validate):
    p = company / "procore/prime_contracts.csv"
    header, rows = load(p)
    header[header.index("Original Contract Amount")] = "Orignal Contract Amount"
    save(p, header, rows)
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/prime_contracts.csv, row 1, column 'Original Contract Amount': required column "
        "'Original Contract Amount' is missing; 'Orignal Contract Amount' looks like a "
        "misspelling of it (value: 'Orignal Contract Amount'). Fix: rename the header 'Orignal "
        "Contract Amount' to 'Original Contract Amount'"]
    assert report(result, "procore/prime_contracts.csv").rows_reported == 2


def test_misspelled_optional_column_is_an_error_naming_both_spellings(company, validate):
    """Issue #21 turned this warning into an error: read as absent, the column was $0 on every
    line of the workbook."""
    p = company / "procore/prime_contracts.csv"
    header, rows = load(p)
    header[header.index("Approved Change Orders")] = "Aproved Change Orders"
    save(p, header, rows)
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/prime_contracts.csv, row 1, column 'Aproved Change Orders': column 'Aproved "
        "Change Orders' is not a header this export has; it looks like a misspelling of "
        "'Approved Change Orders', which would otherwise be read as absent (0 or blank on every "
        "row) (value: 'Aproved Change Orders'). Fix: rename the header 'Aproved Change Orders' to "
        "'Approved Change Orders'"]
    assert report(result, "procore/prime_contracts.csv").rows_reported == 2


@pytest.mark.parametrize("file,row,col,value,expected", [
    ("procore/commitments.csv", 3, "Original Contract Amount", "$12,3x4.00",
     "not an amount of money (value: '$12,3x4.00'). Fix: write an amount such as 1234.56, "
     "$1,234.56 or (1,234.56) for a negative"),
    (JCT, 5, "Amount", "88.155",
     "not an amount of money (value: '88.155'). Fix: write an amount such as 1234.56, "
     "$1,234.56 or (1,234.56) for a negative"),
], ids=["procore", "erp-fraction-of-a-cent"])
def test_unparseable_money(company, validate, file, row, col, value, expected):
    set_cell(company / file, row, col, value)
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [f"{file}, row {row}, column '{col}': {expected}"]
    rep = report(result, file)
    assert rep.rows_reported == 1 and rep.rows_accepted == rep.rows_in - 1 - rep.rows_excluded


@pytest.mark.parametrize("file,row,col,value", [
    ("procore/prime_change_orders.csv", 4, "Created Date", "31/02/2026"),
    ("procore/subcontractor_invoices.csv", 7, "Billing Date", "2026-02-30"),
])
def test_unparseable_date(company, validate, file, row, col, value):
    set_cell(company / file, row, col, value)
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        f"{file}, row {row}, column '{col}': not a date (value: '{value}'). Fix: write the date "
        "as MM/DD/YYYY or YYYY-MM-DD"]
    assert report(result, file).rows_reported == 1


def test_duplicate_keys(company, validate):
    p = company / "procore/prime_change_orders.csv"
    header, rows = load(p)
    save(p, header, [*rows, list(rows[0])])  # CO 001 of 00529 again, as row 9
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/prime_change_orders.csv, row 9, column 'Change Order #': duplicate Project "
        "Number, Contract #, Change Order #: the same key appears on an earlier row (value: "
        "'001'). Fix: remove the duplicate line or correct its number"]
    rep = report(result, "procore/prime_change_orders.csv")
    assert (rep.rows_in, rep.rows_accepted, rep.rows_reported) == (8, 7, 1)


@pytest.mark.parametrize("file,row,col,value,where", [
    ("procore/commitments.csv", 4, "Project Number", "529", "procore/projects.csv"),
    ("erp/ART_CURRENT__TRANSACTION.csv", 2, "Job", "00530", "the ERP job master"),
], ids=["procore-leading-zeros-dropped", "erp"])
def test_unknown_job(company, validate, file, row, col, value, where):
    assert set_cell(company / file, row, col, value) == "00529"
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        f"{file}, row {row}, column '{col}': job not found in {where} (value: '{value}'). Fix: "
        f"add the job to {where}, or correct the job number (leading zeros count)"]
    assert report(result, file).rows_reported == 1


@pytest.mark.parametrize("file,row,col,value,message", [
    ("procore/commitment_lines.csv", 2, "Cost Code", "08 70 00",
     "cost code not in the job's Procore budget (value: '08 70 00'). Fix: add the cost code to "
     "the job's budget in Procore, or correct the code"),
    (JCT, 3, "Cost_Code", "55555",
     "cost code not in the ERP's cost code master (value: '55555'). Fix: add the code to the "
     "ERP's cost code master and export it again, or correct the transaction"),
], ids=["procore", "erp"])
def test_unknown_cost_code(company, validate, file, row, col, value, message):
    set_cell(company / file, row, col, value)
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [f"{file}, row {row}, column '{col}': {message}"]
    assert report(result, file).rows_reported == 1


def test_negative_contract_amount(company, validate):
    p = company / "procore/prime_contracts.csv"
    assert set_cell(p, 3, "Original Contract Amount", "($789,020.00)") == "$789,020.00"
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/prime_contracts.csv, row 3, column 'Original Contract Amount': a contract amount "
        "cannot be negative (value: '-789,020.00'). Fix: enter the contract sum as a positive "
        "amount; deducts belong in change orders"]
    rep = report(result, "procore/prime_contracts.csv")
    assert (rep.rows_in, rep.rows_accepted, rep.rows_reported) == (2, 1, 1)


def test_negative_contract_amount_en_gb_header_is_named(company, validate):
    p = company / "procore/prime_contracts.csv"
    set_cell(p, 2, "Original Contract Amount", "-1.00")
    header, rows = load(p)
    header[header.index("Original Contract Amount")] = "Original Head Contract Amount"
    save(p, header, rows)
    code, out, err, _ = validate(company)
    assert code == 2
    assert problem_lines(err)[0].startswith(
        "procore/prime_contracts.csv, row 2, column 'Original Head Contract Amount': a contract "
        "amount cannot be negative (value: '-1.00').")


def test_empty_file(company, validate):
    (company / "procore/commitments.csv").write_bytes(b"")
    code, out, err, result = validate(company)
    assert code == 2
    assert problem_lines(err) == [
        "procore/commitments.csv: the file is empty. Fix: export it again from the source "
        "system; an export always has a header row"]
    rep = report(result, "procore/commitments.csv")
    assert (rep.rows_in, rep.rows_accepted, rep.rows_reported) == (0, 0, 0)


@pytest.mark.parametrize("file,what", [("procore/projects.csv", "projects"),
                                       ("procore/prime_contracts.csv", "prime contracts")])
def test_header_only_where_rows_are_required(company, validate, file, what):
    header, rows = load(company / file)
    save(company / file, header, [])
    code, out, err, result = validate(company)
    assert code == 2
    assert (f"{file}: the export has a header but no rows. Fix: export it again with the "
            f"company's {what} included") in problem_lines(err)
    assert report(result, file).rows_in == 0


def test_required_export_not_found(company, validate):
    (company / "procore/projects.csv").unlink()
    code, out, err, _ = validate(company)
    assert code == 2
    assert ("procore/projects.csv: required export not found. Fix: download it from Procore and "
            "save it as procore/projects.csv (or .xlsx)") in problem_lines(err)


def test_every_problem_listed_in_one_run(company, validate):
    set_cell(company / "procore/commitments.csv", 3, "Original Contract Amount", "TBD")
    set_cell(company / "procore/prime_change_orders.csv", 4, "Created Date", "yesterday")
    set_cell(company / JCT, 3, "Cost_Code", "55555")
    code, out, err, result = validate(company)
    assert code == 2
    assert err.startswith("wip validate: 3 problem(s) in the input:\n")
    lines = problem_lines(err)
    assert len(lines) == 3
    assert {line.split(",")[0] for line in lines} == {
        "procore/commitments.csv", "procore/prime_change_orders.csv", JCT}
    # The rejected rows are counted, not dropped.
    assert sum(r.rows_reported for r in result.reports) == 3


def test_console_script_exits_2_without_traceback(company):
    set_cell(company / "procore/commitments.csv", 3, "Original Contract Amount", "$12,3x4.00")
    done = subprocess.run([str(WIP), "validate", str(company)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert ("procore/commitments.csv, row 3, column 'Original Contract Amount': not an amount of "
            "money (value: '$12,3x4.00')") in done.stderr
    assert column(company / "procore/commitments.csv", "Original Contract Amount")[1] == \
        "$12,3x4.00"


def test_printed_totals_are_exact_past_fifteen_digits():
    # A float holds about 15 significant digits: a total of hundreds of trillions of cents
    # printed through one would lose its cents.
    from wip_lib.cli.commands.validate import _dollars

    assert _dollars("123456789012345678.91") == "123,456,789,012,345,678.91"
    assert _dollars("-0.07") == "-0.07" and _dollars("") == ""
