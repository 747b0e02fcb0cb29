"""``wip schedule``: a job-status CSV to wip_schedule.csv, figures worked by hand from the
reference; bad files exit 2 with every problem named (file, row, column, value, fix)."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.accounting.status_schedule import build_schedule
from wip_lib.cli.main import main
from wip_lib.core.errors import InputError
from wip_lib.sources.job_status import read_job_status

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
WIP = Path(sys.executable).parent / "wip"


def run_main(capsys, *argv):
    code = main(["schedule", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_out(out_dir: Path) -> pd.DataFrame:
    return pd.read_csv(out_dir / "wip_schedule.csv", dtype=str, keep_default_na=False)


@pytest.fixture
def good(tmp_path, capsys):
    code, out, err = run_main(capsys, FIX / "job_status_good.csv", "--out", tmp_path)
    assert code == 0, err
    return read_out(tmp_path), out


# (job_id, period_end) -> expected text for some columns (worked by hand; see test ids)
EXPECTED = {
    # TP 1,000,000 (950,000 + CO 50,000), CTD 200,000 of EAC 800,000: p 25%, ER 250,000
    ("0101", "2026-09-30"): dict(contract_revised="1000000.00", est_total_cost="800000.00",
                                 pct_complete="0.25000000", earned_revenue="250000.00",
                                 gross_profit_to_date="50000.00", underbillings="20000.00",
                                 overbillings="0.00", revenue_period="250000.00", flag=""),
    # CTD 450,000, ETC 350,000 -> p .5625, ER 562,500, GP 112,500, billed 600,000 -> over 37,500
    ("0101", "2026-10-31"): dict(pct_complete="0.56250000", earned_revenue="562500.00",
                                 gross_profit_to_date="112500.00", overbillings="37500.00",
                                 underbillings="0.00", backlog="437500.00",
                                 revenue_period="312500.00", cost_period="250000.00",
                                 gross_profit_period="62500.00", fade="0.00"),
    ("0202", "2026-08-31"): dict(earned_revenue="125000.00", underbillings="5000.00"),
    # Turns into a loss: EAC 550,000 > TP 500,000 -> provision 22,727.27, GP -50,000
    ("0202", "2026-09-30"): dict(est_cost_to_complete="250000.00", est_gross_profit="-50000.00",
                                 pct_complete="0.54545455", earned_revenue="272727.27",
                                 loss_provision="22727.27", gross_profit_to_date="-50000.00",
                                 overbillings="57272.73", overbillings_net="80000.00",
                                 revenue_period="147727.27", cost_period="222727.27",
                                 gross_profit_period="-75000.00", fade="-150000.00",
                                 flag="loss"),
    # Completes at 560,000: ER = TP, provision unwinds, over/under = B - TP = 0
    ("0202", "2026-10-31"): dict(status="complete", earned_revenue="500000.00",
                                 loss_provision="0.00", gross_profit_to_date="-60000.00",
                                 underbillings="0.00", overbillings="0.00",
                                 revenue_period="227272.73", cost_period="237272.73",
                                 gross_profit_period="-10000.00", fade="-10000.00"),
    # Uninstalled materials 20,000 at zero margin; pending CO 10,000 included in TP
    ("0303", "2026-10-31"): dict(contract_revised="200000.00",
                                 change_orders_pending_included="10000.00",
                                 pct_complete="0.28571429", earned_revenue="71428.57",
                                 gross_profit_to_date="11428.57", underbillings="21428.57"),
    ("0404", "2026-10-31"): dict(est_total_cost="", earned_revenue="10000.00",
                                 underbillings="10000.00", flag="no_estimate"),
}


def test_good_file_figures(good):
    df, out = good
    assert list(zip(df["job_id"], df["period_end"])) == [
        ("0101", "2026-09-30"), ("0202", "2026-08-31"), ("0101", "2026-10-31"),
        ("0202", "2026-09-30"), ("0202", "2026-10-31"), ("0303", "2026-10-31"),
        ("0404", "2026-10-31")]  # input order, leading zeros kept
    rows = df.set_index(["job_id", "period_end"])
    for key, cols in EXPECTED.items():
        for col, want in cols.items():
            assert rows.loc[key, col] == want, (key, col)
    assert "project_manager" not in df.columns  # extra columns ignored
    assert rows.loc[("0202", "2026-09-30"), "flag_reason"].startswith("Anticipated loss")
    assert "4 jobs, 3 period ends" in out and "621,201.30" in out


def test_required_columns_present(good):
    df, _ = good
    for col in ("job_id", "period_end", "contract_revised", "est_total_cost", "est_gross_profit",
                "est_gp_pct", "cost_to_date", "est_cost_to_complete", "pct_complete",
                "earned_revenue", "gross_profit_to_date", "loss_provision", "billed_to_date",
                "underbillings", "overbillings", "backlog", "revenue_period", "cost_period",
                "gross_profit_period", "fade", "flag", "flag_reason"):
        assert col in df.columns


def test_net_loss_provision_and_threshold(tmp_path, capsys):
    code, out, _ = run_main(capsys, FIX / "job_status_good.csv", "--out", tmp_path,
                            "--net-loss-provision", "--threshold", "0.30")
    assert code == 0 and "net of loss provisions" in out
    rows = read_out(tmp_path).set_index(["job_id", "period_end"])
    loss = rows.loc[("0202", "2026-09-30")]
    assert (loss["overbillings"], loss["overbillings_gross"]) == ("80000.00", "57272.73")
    first = rows.loc[("0101", "2026-09-30")]  # p 25% < 30%: revenue = cost
    assert (first["earned_revenue"], first["flag"]) == ("200000.00", "below_start_threshold")
    assert rows.loc[("0101", "2026-10-31"), "revenue_period"] == "362500.00"


def test_bad_threshold(tmp_path, capsys):
    code, _, err = run_main(capsys, FIX / "job_status_good.csv", "--out", tmp_path,
                            "--threshold", "1.5")
    assert code == 1 and "start_threshold" in err


def test_cp1252_file(tmp_path, capsys):
    code, _, err = run_main(capsys, FIX / "job_status_cp1252.csv", "--out", tmp_path)
    assert code == 0, err
    r = read_out(tmp_path).iloc[0]
    assert r["job_id"] == "0007" and r["job_name"] == "Café Röstiría – phase 2"
    assert (r["est_cost_to_complete"], r["earned_revenue"]) == ("55000.00", "31250.00")


def test_missing_columns_suggest_the_nearest(tmp_path, capsys):
    code, out, err = run_main(capsys, FIX / "job_status_bad_missing_column.csv",
                              "--out", tmp_path)
    assert code == 2 and "Traceback" not in err
    assert "2 problem(s)" in err
    assert "required column 'cost_to_date' is missing" in err
    assert "rename the column 'cost_to_dat' to 'cost_to_date'" in err
    assert "rename the column 'billed' to 'billed_to_date'" in err
    assert not (tmp_path / "wip_schedule.csv").exists()


def test_bad_values_all_reported(capsys, tmp_path):
    code, _, err = run_main(capsys, FIX / "job_status_bad_values.csv", "--out", tmp_path)
    assert code == 2
    expected = [
        "row 3, column 'contract_original': contract_original is not an amount (value: '12.5x')",
        "row 4, column 'period_end': period_end is not a date as YYYY-MM-DD "
        "(value: '10/31/2026'). Fix: write the period end as YYYY-MM-DD",
        "row 5, column 'est_total_cost': est_total_cost is not cost_to_date + "
        "est_cost_to_complete (40,000.00 + 40,000.00 = 80,000.00) (value: '90000')",
        "row 6, column 'period_end': job 1001 has period_end 2026-10-31 twice (rows 2 and 6)",
        "row 7, column 'cost_to_date': cost_to_date is blank",
        "row 7, column 'status': status is not open or complete (value: 'closed')",
    ]
    for text in expected:
        assert text in err
    assert "6 problem(s)" in err and "job_status_bad_values.csv" in err


@pytest.mark.parametrize("body,message", [
    ("", "the file is empty"),
    ("job_id,period_end,contract_original,cost_to_date,est_total_cost,billed_to_date\n",
     "no rows"),
    ("job_id,period_end,contract_original,cost_to_date,billed_to_date\n1,2026-10-31,1,1,1\n",
     "no estimate column"),
    ("job_id,period_end,contract_original,cost_to_date,est_total_cost,billed_to_date\n"
     "1,2026-02-30,1,1,1,1\n", "period_end is not a date"),
    ("job_id,period_end,contract_original,cost_to_date,est_total_cost,billed_to_date,"
     "uninstalled_materials\n1,2026-10-31,100,10,50,1,20\n", "uninstalled materials exceed"),
    ("job_id,period_end,contract_original,cost_to_date,est_total_cost,billed_to_date\n"
     ",2026-10-31,1,1,1,-5\n", "job_id is blank"),
])
def test_other_problems(tmp_path, body, message):
    p = tmp_path / "job_status.csv"
    p.write_text(body)
    with pytest.raises(InputError, match=message):
        read_job_status(p)


def test_blank_lines_keep_spreadsheet_row_numbers(tmp_path):
    p = tmp_path / "job_status.csv"
    p.write_text("Job ID,Period End,Contract Original,Cost To Date,Est Total Cost,"
                 "Billed To Date\n1,2026-10-31,100,10,50,1\n\n2,2026-10-31,abc,10,50,1\n")
    with pytest.raises(InputError) as exc:
        read_job_status(p)
    assert exc.value.problems[0].row == 4


def test_est_total_cost_below_cost_flags_stale_estimate(tmp_path):
    p = tmp_path / "job_status.csv"
    p.write_text("job_id,period_end,contract_original,cost_to_date,est_total_cost,"
                 "billed_to_date\nA,2026-10-31,500000,420000,400000,450000\n")
    s = build_schedule(read_job_status(p)).iloc[0]
    assert s["flag"] == "cost_over_estimate"
    assert (s["est_total_cost"], s["earned_revenue"]) == (42_000_000, 50_000_000)


def test_subprocess_good_and_bad(tmp_path):
    ok = subprocess.run([str(WIP), "schedule", str(FIX / "job_status_good.csv"), "--out",
                         str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "wip schedule: 4 jobs" in ok.stdout
    df = read_out(tmp_path).set_index(["job_id", "period_end"])
    assert df.loc[("0101", "2026-10-31"), "earned_revenue"] == "562500.00"
    assert df.loc[("0101", "2026-10-31"), "overbillings"] == "37500.00"
    bad = subprocess.run([str(WIP), "schedule", str(FIX / "job_status_bad_values.csv"), "--out",
                          str(tmp_path / "b")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "contract_original is not an amount" in bad.stderr
    assert "twice (rows 2 and 6)" in bad.stderr
