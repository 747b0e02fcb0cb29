"""Procore's own export layouts (tests/fixtures/procore_layouts, each file's source in its
README): the Standard budget view's Cost Code / Cost Type columns and the newer single Description
column, a snapshot of another budget view, the Contracts tab of Commitments, the change order
tables, and a folder of per-invoice CSVs (AIA G703) for subcontractor and owner invoices.

Every expected figure is worked by hand from the fixture's cells (written out in each test).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.core.settings import Settings
from wip_lib.sources.readers.procore import read_procore

FIXTURE = Path(__file__).parent / "fixtures" / "procore_layouts"
JOB = "24-017"


def read(root: Path = FIXTURE):
    tables, problems, reports = read_procore(root, Settings.load(root / "company.yaml"))
    return tables, problems, {r.file: r for r in reports}


def errors(problems):
    return [p for p in problems if p.severity == "error"]


@pytest.fixture(scope="module")
def fixture_read():
    return read()


@pytest.fixture()
def copy(tmp_path) -> Path:
    dst = tmp_path / "co"
    shutil.copytree(FIXTURE, dst)
    return dst


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def line(df: pd.DataFrame, **where) -> pd.Series:
    hit = df
    for k, v in where.items():
        hit = hit[hit[k] == v]
    assert len(hit) == 1, where
    return hit.iloc[0]


def test_the_fixture_company_reads_without_an_error(fixture_read):
    _, problems, reports = fixture_read
    assert errors(problems) == []
    # the only warning: the other budget view's snapshot, left out
    assert [p.file for p in problems] == ["procore/budget/24-017/2026-10 Forecast View.csv"]
    assert all(r.ties() for r in reports.values())
    assert all(r.unrecognised == [] for r in reports.values())  # % Paid, Revision, % ...: known


def test_standard_view_budget_with_cost_code_and_cost_type(fixture_read):
    """2026-10.csv: Cost Code "01-310 - Project Management" -> 01-310, its description after
    " - "; Cost Type "L - Labor" -> L, "Materials" (Procore's default name) -> M; Budget Changes
    -> budget modifications; en-CA Pending Budget -> pending budget changes; the Grand Total row
    checked and set aside."""
    tables, _, reports = fixture_read
    b = tables["budget"][tables["budget"]["period"] == "2026-10"]
    assert sorted(zip(b["cost_code"], b["cost_type"])) == [("01-310", "L"), ("03-300", "M"),
                                                          ("03-300", "S")]
    pm = line(b, cost_code="01-310")
    assert pm["description"] == "Project Management"
    assert pm["budget_modifications"] == 5_000_00 and pm["revised_budget"] == 105_000_00
    s = line(b, cost_code="03-300", cost_type="S")
    assert s["pending_budget_changes"] == 10_000_00 and s["projected_budget"] == 535_000_00
    # ECAC = projected costs + FTC on each line: 40,000 + 60,000; 492,000 + 30,000; 20,000 + 25,000
    assert list(b.sort_values(["cost_code", "cost_type"])["estimated_cost_at_completion"]) == [
        100_000_00, 45_000_00, 522_000_00]
    assert b["forecast_to_complete"].sum() == 115_000_00  # = the Grand Total row
    rep = reports["procore/budget/24-017/2026-10.csv"]
    assert (rep.rows_in, rep.rows_accepted, rep.rows_totals) == (4, 3, 1)


def test_newer_layout_with_one_description_column(fixture_read):
    """2026-09.csv: "03-300.S - Cast-in-Place Concrete" -> cost code 03-300, cost type S (the
    budget code's last part), description after " - "."""
    tables, _, _ = fixture_read
    b = tables["budget"][tables["budget"]["period"] == "2026-09"]
    assert sorted(zip(b["cost_code"], b["cost_type"], b["description"])) == [
        ("01-310", "L", "Project Management"), ("03-300", "M", "Cast-in-Place Concrete"),
        ("03-300", "S", "Cast-in-Place Concrete")]
    assert line(b, cost_code="03-300", cost_type="S")["job_to_date_costs"] == 200_000_00
    assert b["forecast_to_complete"].sum() == (70_000_00 + 40_000_00 + 35_000_00)


@pytest.mark.parametrize("cells, want", [
    ({"budget_code": "03-300.L"}, ("03-300", "L", "")),                # type from the code
    ({"budget_code": "03-300.L", "cost_type": "L - Labor"}, ("03-300", "L", "")),
    ({"budget_code": "03-300.m", "cost_type": "Materials"}, ("03-300", "M", "")),  # any case
    ({"budget_code": "01.03-300.S", "sub_job": "01", "cost_type": "Subcontract"},
     ("03-300", "S", "")),                                             # the sub job's prefix
    ({"description": "03 30 00.L Cast-in-Place"}, ("03 30 00", "L", "Cast-in-Place")),
    ({"description": "03-300.L - Cast-in-Place"}, ("03-300", "L", "Cast-in-Place")),
    ({"description": "General conditions"}, ("", "", "General conditions")),  # no digit: text
    ({"cost_code_tier_2": "03-300 - Cast-in-Place", "cost_code_tier_1": "03 - Concrete",
      "cost_type": "Labor"}, ("03-300", "L", "Cast-in-Place")),        # the deepest tier
])
def test_a_budget_lines_code_type_and_description_by_its_layout(cells, want):
    """Each of Procore's budget code layouts (the module rules), worked by hand: the budget
    code with its cost type as a suffix, a sub job's prefix, the newer Description column, the
    tier columns."""
    from wip_lib.sources.readers.procore import _BUDGET_CODE_INPUTS, _budget_code_row

    assert _budget_code_row({c: cells.get(c, "") for c in _BUDGET_CODE_INPUTS}) == want


def test_a_status_family_by_the_companys_label_then_procores_base_status():
    """``status_family``, the one rule of the exports and the API's pull: the company's label
    as written, else case-folded on both sides, names a base status; else the status itself
    (case-folded) is one; trimmed; unknown or missing is NA."""
    from wip_lib.sources.formats import CO_STATUS_FAMILY
    from wip_lib.sources.readers.procore import status_family

    labels = {"Signed Off": "approved", "en revue": "pending"}
    got = status_family(pd.Series(["Approved", " approved ", "Signed Off", "SIGNED OFF",
                                   "En Revue", "Pending - In Review", "Mystery", None, ""],
                                  dtype="string"), CO_STATUS_FAMILY, labels)
    assert got.iloc[:6].tolist() == ["approved", "approved", "approved", "approved", "pending",
                                     "pending"]
    assert got.dtype == "string" and got.iloc[6:].isna().all()


@pytest.mark.parametrize("written, read", [
    ("Subcontract", "subcontract"), ("Work Order Contract", "subcontract"), ("SC", "subcontract"),
    ("Purchase Order", "purchase_order"), ("purchase_order_contract", "purchase_order"),
    ("PO", "purchase_order"), (" Purchase\u00a0 Order", "_purchase_order"), ("Lease", "lease"),
])
def test_a_commitment_type_in_any_case_spacing_or_underscores(written, read):
    """``commitment_type``: Procore's names and abbreviations of the two types, in any case,
    spaces or underscores; anything else (a leading space included: the reader trims first)
    is kept folded, for the caller to report."""
    from wip_lib.sources.readers.procore import commitment_type

    assert commitment_type(pd.Series([written], dtype="string")).tolist() == [read]


def test_a_snapshot_of_another_view_never_stands_in(copy):
    """Without ``budget_view`` the schedule reads the plain files; naming the other view reads
    its snapshot instead, and a plain file of the same month is then a second snapshot."""
    tables, problems, _ = read(copy)
    assert set(tables["budget"]["period"]) == {"2026-09", "2026-10"}
    assert not (tables["budget"]["forecast_to_complete"] == 99_000_00).any()
    warn = problems[0]
    assert warn.severity == "warning" and "budget view 'Forecast View'" in warn.message
    assert "budget_view: Forecast View" in warn.fix
    with (copy / "company.yaml").open("a") as fh:
        fh.write("budget_view: forecast view\n")
    tables, problems, _ = read(copy)
    oct_ = tables["budget"][tables["budget"]["period"] == "2026-10"]
    assert list(oct_["forecast_to_complete"]) == [99_000_00]  # the Forecast View's one line
    assert [(p.file, p.severity) for p in errors(problems)] == [
        ("procore/budget/24-017/2026-10.csv", "error")]
    assert "a second budget snapshot of 24-017 for 2026-10" in errors(problems)[0].message


def test_contracts_tab_commitments(fixture_read):
    """No Type column: PO-... is a purchase order, SC-... a subcontract; Payments Received is the
    payments figure; a PO Received is a pending cost change and a Closed one is out of the
    budget."""
    tables, _, _ = fixture_read
    c = tables["commitments"].set_index("commitment_number")
    assert dict(c["commitment_type"]) == {"SC-001": "subcontract", "PO-001": "purchase_order",
                                          "PO-002": "purchase_order"}
    assert dict(c["status_family"]) == {"SC-001": "committed", "PO-001": "pending",
                                        "PO-002": "excluded"}
    assert c.loc["SC-001", "payments_issued"] == 270_000_00
    assert c.loc["SC-001", "invoiced"] == 300_000_00


def test_en_gb_commitments_say_issued(copy):
    path = copy / "procore" / "commitments.csv"
    edit(path, ",Invoiced,", ",Issued,")
    edit(path, ",Approved Change Orders,", ",Approved Variations,")
    tables, problems, _ = read(copy)
    assert errors(problems) == []
    c = tables["commitments"].set_index("commitment_number")
    assert c.loc["SC-001", "invoiced"] == 300_000_00
    assert c.loc["SC-001", "approved_change_orders"] == 25_000_00


def test_a_commitment_whose_number_does_not_say_its_type_is_reported(copy):
    edit(copy / "procore" / "commitments.csv", "24-017,PO-002,", "24-017,X-9,")
    _, problems, _ = read(copy)
    bad = errors(problems)
    assert [(p.file, p.row, p.column, p.value) for p in bad] == [
        ("procore/commitments.csv", 4, "#", "X-9")]
    assert "add a Type column" in bad[0].fix


def test_change_orders_date_initiated_and_review_date(fixture_read):
    """Date Initiated is the created date; Review Date is the approved date of approved change
    orders only (002 was rejected on 10/05); 001's review, 2026-11-01T02:30:00Z, is 8:30 pm on
    Oct 31 in the project's zone (Mountain Time), although the company's is UTC."""
    tables, _, _ = fixture_read
    co = tables["prime_change_orders"].set_index("co_number")
    assert co.loc["001", "created_date"] == pd.Timestamp("2026-09-02")
    assert co.loc["001", "approved_date"] == pd.Timestamp("2026-10-31")
    assert pd.isna(co.loc["002", "approved_date"]) and co.loc["002", "status_family"] == "excluded"
    assert pd.isna(co.loc["003", "approved_date"]) and co.loc["003", "status_family"] == "pending"
    cco = tables["commitment_change_orders"].set_index("co_number")
    assert cco.loc["001", "approved_date"] == pd.Timestamp("2026-09-10")
    assert cco.loc["002", "created_date"] == pd.Timestamp("2026-10-12")


def test_without_the_project_zone_the_company_zone_decides(copy):
    projects = copy / "procore" / "projects.csv"
    edit(projects, ",Time Zone\n", "\n")
    edit(projects, ",Mountain Time (US & Canada)\n", "\n")
    tables, _, _ = read(copy)
    co = tables["prime_change_orders"].set_index("co_number")
    assert co.loc["001", "approved_date"] == pd.Timestamp("2026-11-01")  # UTC, the company's


def test_subcontractor_invoices_from_their_g703_csvs(fixture_read):
    """SC-001 application 1: G = 120,000 + 40,000 = 160,000; retainage 12,000 + 4,000 = 16,000;
    this period = all of it; due = 160,000 - 16,000 = 144,000. Application 2: G = 220,000 +
    80,000 = 300,000; retainage 22,000 + 8,000 = 30,000; this period 300,000 - 160,000 =
    140,000; retainage this period 30,000 - 16,000 = 14,000; due (300,000 - 30,000) - (160,000
    - 16,000) = 126,000. The vendor is the commitment's; application 2's approval timestamp is
    Oct 31 in Denver."""
    tables, _, reports = fixture_read
    si = tables["subcontractor_invoices"].set_index("application_number")
    assert list(si["total_completed_to_date"]) == [160_000_00, 300_000_00]
    assert list(si["retainage_to_date"]) == [16_000_00, 30_000_00]
    assert list(si["work_completed_this_period"]) == [160_000_00, 140_000_00]
    assert list(si["retainage_this_period"]) == [16_000_00, 14_000_00]
    assert list(si["amount_due"]) == [144_000_00, 126_000_00]
    assert list(si["vendor_name"]) == ["Apex Concrete"] * 2
    assert list(si["invoice_number"]) == ["APX-2026-09", "APX-2026-10"]
    assert si.loc[2, "period_end"] == pd.Timestamp("2026-10-31")
    assert si.loc[2, "approved_date"] == pd.Timestamp("2026-10-31")
    assert list(si["payment_status"]) == ["paid", "unpaid"]  # application 2 does not say
    lines = tables["subcontractor_invoice_lines"]
    assert len(lines) == 4 and set(lines["budget_code"]) == {"03-300.S"}
    first = line(lines, application_number=2, line_number=2)
    assert (first["from_previous_application"], first["this_period"], first["materials_stored"],
            first["total_completed_to_date"], first["balance_to_finish"]) == (
        30_000_00, 40_000_00, 10_000_00, 80_000_00, 100_000_00)
    rep = reports["procore/subcontractor_invoices/24-017/SC-001/2.csv"]
    assert (rep.rows_in, rep.rows_accepted, rep.rows_totals) == (3, 2, 1)


def test_owner_invoice_headers_with_column_letters_and_brackets(fixture_read):
    """"G Total Completed and Stored to Date (D+E+F)" reads by its text. G = 45,000 + 300,000 +
    0 = 345,000; retainage 4,500 + 30,000 = 34,500; due 345,000 - 34,500 = 310,500."""
    tables, _, _ = fixture_read
    oi = tables["owner_invoices"]
    assert len(oi) == 1
    r = oi.iloc[0]
    assert (r["contract_number"], r["application_number"], r["invoice_number"]) == ("1", 1,
                                                                                   "FL-001")
    assert (r["total_completed_to_date"], r["retainage_to_date"], r["amount_due"],
            r["work_completed_this_period"]) == (345_000_00, 34_500_00, 310_500_00, 345_000_00)
    lines = tables["owner_invoice_lines"]
    assert list(lines["scheduled_value"]) == [150_000_00, 750_000_00, 25_000_00]
    assert list(lines["materials_stored"]) == [0, 20_000_00, 0]


def test_a_g703_line_that_does_not_add_up_is_reported(copy):
    path = copy / "procore" / "subcontractor_invoices" / JOB / "SC-001" / "2.csv"
    edit(path, '"$30,000.00","$40,000.00","$10,000.00","$80,000.00"',
         '"$30,000.00","$40,000.00","$10,000.00","$85,000.00"')
    _, problems, _ = read(copy)
    bad = [p for p in errors(problems) if "does not add up" in p.message]
    assert [(p.file, p.row, p.column) for p in bad] == [
        ("procore/subcontractor_invoices/24-017/SC-001/2.csv", 10,
         "Total Completed and Stored to Date")]
    assert bad[0].value == "85,000.00 but D + E + F = 80,000.00"


def test_an_invoice_in_the_list_and_the_folder_must_agree(copy):
    (copy / "procore" / "owner_invoices.csv").write_text(
        "Project Number,Contract #,Invoice #,Application #,Billing Date,Period Start,Period End,"
        "Status,Work Completed This Period,Total Completed and Stored to Date,"
        "Retainage This Period,Total Retainage,Current Payment Due\n"
        '24-017,1,FL-001,1,09/30/2026,09/01/2026,09/30/2026,approved,"$340,000.00",'
        '"$340,000.00","$34,500.00","$34,500.00","$305,500.00"\n', encoding="utf-8")
    tables, problems, _ = read(copy)
    bad = errors(problems)
    assert [(p.file, p.row, p.column, p.value) for p in bad] == [
        ("procore/owner_invoices.csv", 2, "Total Completed and Stored to Date", "340,000.00")]
    assert "lines sum to 345,000.00" in bad[0].message
    assert len(tables["owner_invoices"]) == 1  # the list's row stands, once


def test_an_application_without_its_predecessor_is_reported(copy):
    (copy / "procore" / "subcontractor_invoices" / JOB / "SC-001" / "1.csv").unlink()
    tables, problems, _ = read(copy)
    bad = errors(problems)
    assert [p.file for p in bad] == ["procore/subcontractor_invoices/24-017/SC-001/2.csv"]
    assert "previous application is in neither the folder nor the list" in bad[0].message
    assert tables["subcontractor_invoices"].empty


def test_an_invoice_without_its_facts_is_reported(copy):
    path = copy / "procore" / "owner_invoices" / JOB / "1" / "1.csv"
    edit(path, "Billing Date,09/30/2026\n", "")
    _, problems, _ = read(copy)
    bad = errors(problems)
    assert [(p.file, p.column, p.message) for p in bad] == [
        ("procore/owner_invoices/24-017/1/1.csv", "Billing Date", "the date is blank")]


def test_an_invoice_file_named_otherwise_is_reported(copy):
    base = copy / "procore" / "subcontractor_invoices" / JOB / "SC-001"
    (base / "2.csv").rename(base / "October.csv")
    _, problems, _ = read(copy)
    assert [(p.file, p.message) for p in errors(problems)] == [
        ("procore/subcontractor_invoices/24-017/SC-001/October.csv",
         "an invoice's file must be named by its application number")]


def test_invoice_lines_written_as_procore_exports_them_read_back(fixture_read, tmp_path):
    """The export writer puts each invoice's G703 lines in its own CSV of the folder layout; with
    the invoices' list beside them, the folder reads back the same tables."""
    from wip_lib.sources.export_writer import write_company_yaml, write_procore_table

    tables, _, _ = fixture_read
    root = tmp_path / "co"
    write_company_yaml(root, {"name": "Foothills Builders", "current_period": "2026-10"})
    written = []
    for name in ("jobs", "prime_contracts", "commitments", "subcontractor_invoices",
                 "subcontractor_invoice_lines", "owner_invoices", "owner_invoice_lines"):
        written += write_procore_table(root, name, tables[name].drop(columns=["_file", "_row"]))
    rel = sorted(p.relative_to(root).as_posix() for p in written)
    assert "procore/subcontractor_invoices/24-017/SC-001/2.csv" in rel
    assert "procore/owner_invoices/24-017/1/1.csv" in rel
    back, problems, _ = read(root)
    assert errors(problems) == []
    for name in ("subcontractor_invoices", "subcontractor_invoice_lines", "owner_invoices",
                 "owner_invoice_lines"):
        key = ["job_id", "application_number"]
        pd.testing.assert_frame_equal(
            back[name].drop(columns=["_file", "_row"]).sort_values(key, kind="stable")
            .reset_index(drop=True),
            tables[name].drop(columns=["_file", "_row"]).sort_values(key, kind="stable")
            .reset_index(drop=True), check_like=False)


def test_this_period_is_the_change_since_the_previous_application():
    """``this_period`` against its definition written plainly in pandas (sort the applications,
    shift within each job and contract, subtract), over 300 drawn sets of applications: out of
    order, with gaps, a job left blank (its rows count as first applications), any index; and
    several to-date columns at once equal to each alone. By hand, job A's applications 1, 2, 3
    to date 100, 250, 250 give 100, 150, 0."""
    import numpy as np

    from wip_lib.sources.readers.procore import this_period

    def plain(frame, to_date):
        order = frame.assign(_td=to_date.to_numpy()).sort_values(
            ["job_id", "contract_number", "application_number"], kind="stable")
        prev = order.groupby(["job_id", "contract_number"], sort=False)["_td"].shift(1)
        return (order["_td"] - prev.fillna(0).astype("int64")).reindex(frame.index)

    by_hand = pd.DataFrame({"job_id": pd.Series(["A", "A", "A"], dtype="string"),
                            "contract_number": pd.Series(["1", "1", "1"], dtype="string"),
                            "application_number": [3, 1, 2]})
    got = this_period(by_hand, "contract_number", pd.Series([250, 100, 250]))
    assert got.tolist() == [0, 100, 150]
    rng = np.random.default_rng(7)
    for draw in range(300):
        n = int(rng.integers(0, 40))
        frame = pd.DataFrame({
            "job_id": pd.Series(rng.choice(["00104", "00007", None], n), dtype="string"),
            "contract_number": pd.Series(rng.choice(["PC-1", "PC-2"], n), dtype="string"),
            "application_number": pd.Series(rng.integers(1, 6, n), dtype="Int64")},
            index=pd.Index(rng.permutation(np.arange(100, 100 + n))) if draw % 2 else None)
        td = pd.Series(rng.integers(-10**6, 10**9, n), index=frame.index, dtype="int64")
        one = this_period(frame, "contract_number", td)
        assert one.index.equals(frame.index)
        assert one.tolist() == plain(frame, td).tolist(), draw
        both = this_period(frame, "contract_number", pd.DataFrame({"td": td, "twice": td * 2}))
        assert both["td"].tolist() == one.tolist()
        assert both["twice"].tolist() == plain(frame, td * 2).tolist(), draw
