"""Control totals: rows and dollars per source file."""
import pandas as pd

from wip_lib.sources.controls import control_totals


def test_control_totals_by_file():
    df = pd.DataFrame({
        "_file": ["b.csv", "a.csv", "a.csv"],
        "invoice_number": ["1", "2", "3"],
        "amount_billed": pd.Series([100_00, 250_55, -50_05], dtype="int64"),
        "retainage": pd.Series([10_00, 25_06, 0], dtype="int64"),
        "amount_paid": pd.Series([0, 0, 0], dtype="int64"),
    })
    out = control_totals(df, "erp_ar_billings")
    got = {(r.file, r.measure): r.value for r in out.itertuples()}
    assert got[("a.csv", "rows")] == "2"
    assert got[("a.csv", "amount_billed")] == "200.50"
    assert got[("a.csv", "retainage")] == "25.06"
    assert got[("b.csv", "amount_billed")] == "100.00"
    assert list(out["file"]) == sorted(out["file"])
