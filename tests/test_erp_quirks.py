"""Each declared quirk of an ERP profile, on a fixture in that ERP's documented shape
(tests/fixtures/erp/<erp>/, written by hand from docs/erp-profiles.md), read through the built-in
profile; every expected figure is worked from the fixture's lines by hand.

| quirk | fixture | expected |
|---|---|---|
| right-justified, space-padded key (raw kept) | Vista JCCM `   12.345.`, Spectrum `     00123` | `12345` / `00123`, raw as exported |
| masked job number | Vista mask `##.###.` | `12.345.` -> `12345`; `12.3456` refused (row 3) |
| Sage 100 decimal cost code, missing leading zero | jobcst `3300.000` | `03-300` (raw `3300.000`) |
| Sage 100 numeric cost types 1-5 | csttyp 1..5 | M, L, E, O (5), S (4) |
| status codes | Sage 100 status 2, Vista OE/PF/SL, ARTransType P | excluded, with the reason |
| release of retainage | Vista ARTransType R 4,000; QBO positive Retainage line 4,000 | billed 0, retainage -4,000 |
| QuickBooks Customer:Job, Class, Item | QBD report | job 00123 / 00456, class -> L/S, item -> code |
| report CSV: title rows, blank leading column, Total rows | QBD job cost, QBO sales | 3 cost rows; 7 and 5 layout rows |
| sign conventions | Intacct TR_TYPE -1; Spectrum Debit/Credit | -150.00; 1,000.00 and -250.00 |
| period fields | Sage 100 postyr 2027 / actprd 4, FYE June; Acumatica FinPeriod 10-2026 | 2026-10 |
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.core.errors import InputError
from wip_lib.core.settings import Settings
from wip_lib.sources.readers.erp import load_profile, read_erp_table_all
from wip_lib.sources.readers.transforms import (
    fiscal_to_period,
    period_to_fiscal,
    read_column,
    write_column,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "erp"


def company(tmp_path: Path, erp: str) -> Path:
    shutil.copytree(FIXTURES / erp, tmp_path / "erp")
    return tmp_path


def read(root: Path, profile: str, *names: str, fye: int = 12, period: str = "2026-10"):
    """The tables asked for (in order, so lookups find their table), their problems and the
    report of each table's first file."""
    prof = load_profile(profile)
    settings = Settings(name="t", current_period=period, fiscal_year_end_month=fye)
    tables, problems, reports = {}, [], {}
    for n in names:
        df, probs, reps = read_erp_table_all(root, n, prof["tables"][n], settings,
                                             prof["date_formats"], tables, prof["title"])
        tables[n] = df
        problems += probs
        reports[n] = reps[0] if reps else None
    return tables, problems, reports


def errors(problems):
    return [str(p) for p in problems if p.severity == "error"]


# -- keys -----------------------------------------------------------------------------------------

def test_vista_masked_right_justified_job_is_trimmed_and_unmasked_raw_kept(tmp_path):
    tables, problems, reports = read(company(tmp_path, "vista"), "vista", "erp_jobs")
    jobs = tables["erp_jobs"]
    assert jobs["job_id"].tolist() == ["12345"]
    assert jobs["job_id_raw"].tolist() == ["   12.345."]
    assert jobs.loc[0, "approved_change_orders"] == 5_000_000  # 1,050,000.00 - 1,000,000.00
    # The second contract does not fit the mask: refused, naming file, row and column.
    assert errors(problems) == [
        "erp/JCCM.csv, row 3, column 'Contract': does not fit the mask '##.###.' "
        "(value: '  12.3456'). Fix: correct the value or the transform of 'job_id' in the "
        "profile"]
    assert reports["erp_jobs"].rows_reported == 1 and reports["erp_jobs"].ties()


def test_spectrum_space_padded_job_number(tmp_path):
    tables, problems, _ = read(company(tmp_path, "spectrum"), "spectrum", "erp_jobs")
    jobs = tables["erp_jobs"]
    assert errors(problems) == []
    assert jobs["job_id"].tolist() == ["00123", "0456"]
    assert jobs["job_id_raw"].tolist() == ["     00123", "      0456"]
    assert jobs["status"].tolist() == ["open", "closed"]
    assert (jobs["revised_contract"] == jobs["original_contract"]).all()


def test_transforms_round_trip():
    text = pd.Series(["00123", "99999", ""], dtype="string")
    ops = [{"justify": "right", "width": 10}, {"mask": "##.###."}]
    written = write_column(ops, text)
    assert written.tolist() == ["   00.123.", "   99.999.", "          "]
    back, bad, _ = read_column(ops, written)
    assert back.tolist() == ["00123", "99999", ""] and not bad.any()
    sage = [{"decimal": 3}, {"zfill": 5}]
    assert write_column(sage, pd.Series(["03300", "99999"])).tolist() == ["3300.000",
                                                                          "99999.000"]
    got, _, _ = read_column(sage, pd.Series(["3300.000", "2010.500", "120"]))
    assert got.tolist() == ["03300", "2010.5", "00120"]
    path = [{"path": ":", "take": "last"}, {"extract": r"^(\S+)"}]
    got, bad, why = read_column(path, pd.Series(["Acme Corp:00123 Library Annex", "Acme Corp"]))
    assert got.tolist() == ["00123", "Acme"] and not bad.any()
    got, bad, why = read_column([{"extract": r"^(\d+)"}], pd.Series(["1250 WIP", "Cash"]))
    assert bad.tolist() == [False, True] and why == "does not match the pattern '^(\\d+)'"


# -- Sage 100 Contractor ----------------------------------------------------------------------------

def test_sage100_codes_types_void_source_and_fiscal_period(tmp_path):
    # Fiscal year ending June: postyr 2027 period 4 is October 2026.
    tables, problems, reports = read(company(tmp_path, "sage100"), "sage100", "erp_vendors",
                                     "erp_job_cost", fye=6)
    jc = tables["erp_job_cost"]
    assert errors(problems) == []
    assert jc["job_id"].tolist() == ["00123"] * 4              # jobnum 123, width 5
    assert jc["cost_code"].tolist() == ["03-300", "02-010", "02-010", "02-010"]
    assert jc["cost_code_raw"].tolist() == ["3300.000", "2010.000", "2010.000", "2010.000"]
    assert jc["cost_type"].tolist() == ["M", "L", "E", "O"]
    assert jc["source"].tolist() == ["AP", "PR", "EQ", "JC"]
    assert jc["vendor_name"].tolist() == ["Apex Concrete", "", "", ""]
    assert set(jc["period"]) == {"2026-10"}
    assert jc["accounting_date"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2026-10-31"]
    assert int(jc["amount"].sum()) == 120_000 + 80_000 + 30_000 + 5_000
    rep = reports["erp_job_cost"]
    assert rep.excluded == {"void (status 2): voided records stay in jobcst": 1}
    assert rep.rows_in == 5 and rep.rows_accepted == 4 and rep.ties()


def test_fiscal_periods_by_hand():
    per, bad = fiscal_to_period(pd.Series(["2027", "2027", "2026", "26"]),
                                pd.Series(["1", "6", "12", "13"]), 6)
    assert per.tolist()[:3] == ["2026-07", "2026-12", "2026-06"] and bad.tolist()[3]
    fy, fp = period_to_fiscal(pd.Series(["2026-07", "2026-06"]), 6)
    assert fy.tolist() == [2027, 2026] and fp.tolist() == [1, 12]


# -- Vista --------------------------------------------------------------------------------------------

def test_vista_job_cost_keeps_actual_cost_only(tmp_path):
    tables, problems, reports = read(company(tmp_path, "vista"), "vista", "erp_vendors",
                                     "erp_job_cost")
    jc = tables["erp_job_cost"]
    assert errors(problems) == []
    assert jc["row_id"].tolist() == ["501", "502", "506"]
    assert jc["amount"].tolist() == [150_000, 96_000, -20_000]   # a reversal stays negative
    assert jc["source"].tolist() == ["AP", "PR", "AP"]
    assert jc["cost_type"].tolist() == ["M", "L", "M"]
    assert jc["period"].tolist() == ["2026-10", "2026-10", "2026-11"]
    assert jc["vendor_name"].tolist() == ["Pacific Rebar Supply", "", "Pacific Rebar Supply"]
    rep = reports["erp_job_cost"]
    assert rep.excluded == {"not cost (OE, CO, PF, PE, RU)": 2,
                            "estimate, projection or commitment bucket (ActualCost 0)": 1}
    assert rep.ties()


def test_vista_ar_payment_excluded_release_is_not_billing(tmp_path):
    tables, problems, reports = read(company(tmp_path, "vista"), "vista", "erp_ar_billings")
    ar = tables["erp_ar_billings"]
    assert errors(problems) == []
    assert ar["invoice_number"].tolist() == ["INV-1", "INV-1R"]
    assert ar["amount_billed"].tolist() == [10_000_000, 0]
    assert ar["retainage"].tolist() == [1_000_000, -400_000]
    assert int(ar["retainage"].sum()) == 600_000                # 10,000 withheld - 4,000 released
    assert list(reports["erp_ar_billings"].excluded.values()) == [1]


# -- Spectrum ---------------------------------------------------------------------------------------

def test_spectrum_ap_debit_credit_and_retention_lines(tmp_path):
    tables, problems, _ = read(company(tmp_path, "spectrum"), "spectrum", "erp_vendors",
                               "erp_ap_invoices")
    ap = tables["erp_ap_invoices"].set_index("invoice_number")
    assert errors(problems) == []
    assert ap.loc["A-1", "amount"] == 100_000 and ap.loc["A-1", "retainage_held"] == 10_000
    assert ap.loc["A-1", "amount_paid"] == 90_000
    assert ap.loc["A-1", "paid_date"] == pd.Timestamp("2026-10-20")
    assert ap.loc["A-2", "amount"] == -25_000 and ap.loc["A-2", "amount_paid"] == 0
    assert ap["vendor_name"].unique().tolist() == ["Apex Concrete"]
    assert ap["period"].tolist() == ["2026-09", "2026-10"]


# -- QuickBooks ---------------------------------------------------------------------------------------

def test_quickbooks_desktop_report_csv_customer_job_class_item(tmp_path):
    tables, problems, reports = read(company(tmp_path, "qbd"), "quickbooks_desktop",
                                     "erp_job_cost")
    jc = tables["erp_job_cost"]
    assert errors(problems) == []
    assert jc["job_id"].tolist() == ["00123", "00123", "00456"]
    assert jc["cost_code"].tolist() == ["03-300", "01-310", "01-310"]
    assert jc["cost_type"].tolist() == ["S", "L", "L"]
    assert jc["source"].tolist() == ["AP", "PR", "JC"]
    assert jc["amount"].tolist() == [120_000, 80_000, -2_500]
    assert jc["hours"].tolist() == [0.0, 12.5, 0.0]
    assert jc["_row"].tolist() == [7, 8, 13]        # the line as a spreadsheet shows it
    rep = reports["erp_job_cost"]
    # 11 lines under the header: 3 cost, 1 estimate, 3 group and 4 total rows.
    assert (rep.rows_in, rep.rows_accepted, rep.rows_excluded, rep.rows_totals) == (11, 3, 1, 7)
    assert rep.ties()


def test_quickbooks_report_saved_as_xlsx_reads_the_same(tmp_path):
    import csv

    import openpyxl

    (tmp_path / "erp").mkdir()
    wb = openpyxl.Workbook()
    with (FIXTURES / "qbd" / "job_cost_detail.csv").open(newline="") as fh:
        for row in csv.reader(fh):  # a dozen lines of a fixture
            wb.active.append([float(c) if c[:1] in "-123456789" and c.replace(".", "", 1)
                              .lstrip("-").isdigit() and "/" not in c else c for c in row])
    wb.save(tmp_path / "erp" / "job_cost_detail.xlsx")
    tables, problems, reports = read(tmp_path, "quickbooks_desktop", "erp_job_cost")
    jc = tables["erp_job_cost"]
    assert errors(problems) == []
    assert jc["job_id"].tolist() == ["00123", "00123", "00456"]
    assert jc["amount"].tolist() == [120_000, 80_000, -2_500]
    assert jc["_row"].tolist() == [7, 8, 13]
    assert reports["erp_job_cost"].ties()


def test_quickbooks_online_retainage_lines_and_release(tmp_path):
    tables, problems, reports = read(company(tmp_path, "qbo"), "quickbooks_online",
                                     "erp_ar_billings")
    ar = tables["erp_ar_billings"]
    assert errors(problems) == []
    assert ar["invoice_number"].tolist() == ["1001", "1002"]
    assert ar["amount_billed"].tolist() == [10_000_000, 0]
    assert ar["retainage"].tolist() == [1_000_000, -400_000]
    rep = reports["erp_ar_billings"]
    assert (rep.rows_in, rep.rows_accepted, rep.rows_excluded, rep.rows_totals) == (9, 3, 1, 5)


# -- Intacct, Acumatica -------------------------------------------------------------------------------

def test_intacct_tr_type_signs_the_amount(tmp_path):
    tables, problems, _ = read(company(tmp_path, "intacct"), "intacct", "erp_vendors",
                               "erp_job_cost")
    jc = tables["erp_job_cost"]
    assert errors(problems) == []
    assert jc["amount"].tolist() == [120_000, -15_000, 8_000]
    assert jc["source"].tolist() == ["AP", "AP", "JC"]
    assert jc["cost_type"].tolist() == ["S", "S", "L"]


def test_acumatica_released_expense_rows_only_period_from_fin_period(tmp_path):
    tables, problems, reports = read(company(tmp_path, "acumatica"), "acumatica",
                                     "erp_vendors", "erp_job_cost")
    jc = tables["erp_job_cost"]
    assert errors(problems) == []
    assert jc["row_id"].tolist() == ["31"]
    assert jc["period"].tolist() == ["2026-10"]          # dated 09/28, posted to 10-2026
    assert jc["vendor_name"].tolist() == ["Apex Concrete"]
    assert reports["erp_job_cost"].excluded == {
        "not released (not in the project balance)": 1,
        "not an expense account group (revenue, asset, liability or off-balance)": 1}


# -- a wrong export, a wrong profile --------------------------------------------------------------------

def test_vista_export_handed_to_the_spectrum_profile_is_refused(tmp_path):
    (tmp_path / "erp").mkdir()
    shutil.copy(FIXTURES / "vista" / "JCCD.csv", tmp_path / "erp" / "JC_TRANSACTION_HISTORY_MC.csv")
    tables, problems, reports = read(tmp_path, "spectrum", "erp_job_cost")
    assert tables["erp_job_cost"].empty
    errs = errors(problems)
    assert len(errs) == 1
    msg = errs[0]
    assert msg.startswith("erp/JC_TRANSACTION_HISTORY_MC.csv, row 1: this file does not have "
                          "the shape of the Trimble Spectrum erp_job_cost export: columns that "
                          "do not fit: JCCo, Mth, CostTrans, Job, PhaseGroup, Phase, CostType")
    for missing in ("Job_Number", "Phase_Code", "Tran_Amount", "Tran_Type_Code"):
        assert missing in msg
    assert "its columns fit the Viewpoint Vista (vista, erp_job_cost) profile" in msg
    assert reports["erp_job_cost"].rows_reported == 6 and reports["erp_job_cost"].ties()


def test_profile_typos_and_unquoted_yes_no_are_refused(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("name: mine\ntables:\n  erp_jobs:\n    file: erp/jobs\n    colums: {}\n"
                   "    columns: {job_id: [Job]}\n  erp_commitments:\n    file: erp/c\n"
                   "    columns: {status: [Closed]}\n    values: {status: {No: open}}\n")
    with pytest.raises(InputError) as exc:
        load_profile(str(bad))
    text = str(exc.value)
    assert "table 'erp_jobs': unknown key(s) colums" in text
    assert "values of 'status' has the key False" in text and 'quote it' in text


def test_profile_facts_declared_checked_and_read():
    """What the exports carry (``facts:``): each built-in profile declares all three with a
    source and a trust tag; a fact declared true needs its column read; an undeclared fact holds
    when the profile reads its column."""
    from wip_lib.core.settings import ERP_FACTS
    from wip_lib.sources.readers.erp import builtin_profiles, check_profile, profile_facts

    carried = {n: profile_facts(load_profile(n)) for n in builtin_profiles()}
    for n in builtin_profiles():
        declared = load_profile(n)["facts"]
        assert set(declared) == set(ERP_FACTS), n
        assert all(d["source"] and d["confidence"] for d in declared.values()), n
    # Job-cost rows name the commitment in Sage 300 CRE (Commitment), Vista (JCCD SL) and
    # Spectrum (Po_Number) only; QuickBooks' purchase orders carry no invoiced to date; AR
    # collections are not read for Spectrum, QuickBooks and Acumatica.
    assert {n for n, f in carried.items() if f["job_cost_has_commitment"]} == {
        "sage300", "vista", "spectrum"}
    assert {n for n, f in carried.items() if not f["commitments_have_invoiced"]} == {
        "quickbooks_desktop", "quickbooks_online"}
    assert {n for n, f in carried.items() if not f["ar_has_collections"]} == {
        "spectrum", "quickbooks_desktop", "quickbooks_online", "acumatica"}
    # Undeclared: read off the column map.
    mine = {"tables": {"erp_job_cost": {"file": "erp/jc", "columns": {
        "job_id": ["Job"], "commitment_number": ["PO"]}}}}
    assert profile_facts(mine) == {"job_cost_has_commitment": True,
                                   "commitments_have_invoiced": False,
                                   "ar_has_collections": False}
    assert check_profile(mine, "mine.yaml") == []
    # Declared true without the column, an unknown fact, no source: each refused, named.
    bad = {**mine, "facts": {
        "ar_has_collections": {"value": True, "source": "x", "confidence": "guess"},
        "job_cost_has_commitment": {"value": False},
        "gl_has_jobs": {"value": True, "source": "x", "confidence": "guess"}}}
    text = " | ".join(p.message for p in check_profile(bad, "mine.yaml"))
    assert "fact 'ar_has_collections' is declared true but table 'erp_ar_billings' does not " \
           "read 'amount_paid'" in text
    assert "fact 'job_cost_has_commitment' needs a `source:` and a `confidence:`" in text
    assert "unknown fact 'gl_has_jobs'" in text
    assert profile_facts(bad)["job_cost_has_commitment"] is False  # declared beats the map
