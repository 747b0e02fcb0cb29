"""``wip profile check`` and ``wip sample --erp``: what a controller sees."""
from __future__ import annotations

import shutil
from pathlib import Path

from wip_lib.cli.main import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "erp"


def test_profile_check_lists_columns_exclusions_and_fits(tmp_path, capsys):
    shutil.copytree(FIXTURES / "sage100", tmp_path / "erp")
    (tmp_path / "erp" / "actrec.csv").write_text(
        "recnum,jobnme,status,cntrct\n123,Lakeside Library,4,1000000.00\n")
    rc = main(["profile", "check", "sage100", str(tmp_path), "--period", "2026-10"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "erp_job_cost: ok" in out
    assert "  file: erp/jobcst.csv: 5 rows in, 4 accepted, 0 reported, 1 excluded" in out
    assert "    found:    row_id=recnum, job_id=jobnum," in out
    assert "    excluded: 1 row(s): void (status 2): voided records stay in jobcst" in out
    assert "erp_jobs: ok" in out and "    missing:  client (clnnum/Client) optional" in out
    assert "erp_ar_billings: not found" in out
    assert out.rstrip().endswith("Every table fits the profile.")


def test_profile_check_refuses_another_erps_export(tmp_path, capsys):
    (tmp_path / "erp").mkdir()
    shutil.copy(FIXTURES / "vista" / "JCCD.csv",
                tmp_path / "erp" / "JC_TRANSACTION_HISTORY_MC.csv")
    shutil.copy(FIXTURES / "vista" / "JCCM.csv", tmp_path / "erp" / "JCCM.csv")
    rc = main(["profile", "check", "spectrum", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 2
    assert "erp_job_cost: ERRORS" in out
    assert ("error: erp/JC_TRANSACTION_HISTORY_MC.csv, row 1: this file does not have the shape "
            "of the Trimble Spectrum erp_job_cost export: columns that do not fit: JCCo, Mth"
            in out)
    assert "(its columns fit the Viewpoint Vista (vista, erp_job_cost) profile)" in out
    assert "erp_jobs: not found" in out and "- required" in out
    assert "  JCCM.csv: its columns fit Viewpoint Vista (vista, erp_jobs)" in out


def test_profile_check_of_an_unknown_profile(tmp_path, capsys):
    (tmp_path / "erp").mkdir()
    assert main(["profile", "check", "sage50", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "ERP profile 'sage50' not found" in err and "vista" in err


def test_sample_refuses_an_unknown_erp(tmp_path, capsys):
    assert main(["sample", "--erp", "sage50", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "no built-in ERP profile 'sage50'" in err and "quickbooks_online" in err
    assert not (tmp_path / "s").exists()
