"""Report CSVs: exact money, and vendor text that cannot run as a formula in Excel."""
import pandas as pd
import pytest

from wip_lib.reports.csvfiles import neutralise, write_report_csv


@pytest.mark.parametrize("raw,shown", [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+1-555", "'+1-555"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("Acme Concrete", "Acme Concrete"), ("O'Neil & Sons <b>", "O'Neil & Sons <b>"),
])
def test_neutralise(raw, shown):
    assert neutralise(pd.Series([raw], dtype="string")).iloc[0] == shown


def test_money_stays_numeric_text_and_exact(tmp_path):
    df = pd.DataFrame({"vendor": pd.Series(["=1+1", "Bob"], dtype="string"),
                       "amount": pd.Series([-123456, 7], dtype="int64"),
                       "pct": [0.1234567, 1.0]})
    p = write_report_csv(df, tmp_path / "r.csv", money=["amount"], decimals={"pct": 6})
    assert p.read_text() == "vendor,amount,pct\n'=1+1,-1234.56,0.123457\nBob,0.07,1.000000\n"
