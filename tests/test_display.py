"""Text from Procore or the ERP is escaped wherever a page shows it; money shows to the cent."""
from __future__ import annotations

import pandas as pd

from wip_lib.close.bundle import Bundle
from wip_lib.reports.html import dollars, headline, html_table, percent
from wip_lib.reports.index_page import write_index as _index
from wip_lib.reports.notebooks import page

EVIL = '<img src=x onerror="alert(1)">'


def test_money_and_percent_text():
    assert dollars(123456) == "1,234.56"
    assert dollars(-5) == "(0.05)"
    assert dollars(-123450, whole=True) == "(1,235)"  # half up from exact cents
    assert dollars(None) == ""
    assert percent(0.14687) == "14.7%"


def test_tables_escape_vendor_and_job_names():
    df = pd.DataFrame({"vendor": [EVIL], "amount": pd.array([-123456], dtype="int64")})
    text = html_table(df, money=["amount"], total_row=True)
    assert EVIL not in text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert '<td class="neg">(1,234.56)</td>' in text
    assert EVIL not in headline([("Job", EVIL)])
    assert EVIL not in page(EVIL, "<p>body</p>", plotly_src="assets/plotly.min.js")


def test_a_table_is_written_whole_as_the_page_shows_it():
    """Every part of a money table in one: the group row, a text label and a right-aligned
    money label, a flagged row, a drill-down link (its text and URL escaped), a negative amount,
    the total row (exact cents summed over every row, not only the shown ones) and the rows left
    out by max_rows."""
    df = pd.DataFrame({"job_id": ["00001", "A&B", "00003"],
                       "amount": pd.array([1_000_00, -250_50, 5], dtype="int64")})
    text = html_table(df, money=["amount"], total_row=True, max_rows=2, sticky=True,
                      highlight=pd.Series([False, True, True]), groups=[("Jobs", 2)],
                      links={"job_id": "projects/{}.html"})
    assert text == (
        '<div class="tbl"><table class="sticky"><thead>'
        '<tr class="groups"><th colspan="2">Jobs</th></tr>'
        '<tr><th class="t">Job</th><th>Amount</th></tr></thead><tbody>'
        '<tr><td class="t"><a href="projects/00001.html">00001</a></td><td>1,000.00</td></tr>'
        '<tr class="flag"><td class="t"><a href="projects/A&amp;B.html">A&amp;B</a></td>'
        '<td class="neg">(250.50)</td></tr>'
        '<tr class="total"><td>Total</td><td>749.55</td></tr>'
        "</tbody></table></div><p>1 more rows not shown.</p>")


def test_index_escapes_job_names(tmp_path):
    s = pd.DataFrame({"job_id": ["00001"], "job_name": [EVIL], "status": ["open"],
                      "contract_revised": [100_000], "pct_complete": [0.5],
                      "est_gp_pct": [0.1], "underbillings": [0], "overbillings": [500],
                      "loss_provision": [0], "flag": [""]})
    b = Bundle("Co <b>", "2026-10", "as of", {"schedule": s})
    target = _index(b, tmp_path, {"00001": {"ok": True, "error": None}})
    text = target.read_text()
    assert EVIL not in text and "Co <b>" not in text
    assert 'href="projects/00001.html"' in text


AWKWARD = ["", " lead", "trail ", "tab\there", "two\nlines", "cr\rhere", "é", "日本", EVIL,
           "x" * 120, r"\t as typed"]


def test_plain_tables_are_laid_out_as_pandas_to_string_lays_them_out(sample_bundle_dir):
    # The text/plain form nbval compares is written without pandas; it must stay byte for byte
    # what DataFrame.to_string(index=False) gives for the same cells, on every table a dashboard
    # shows of the sample and on awkward text.
    from wip_lib.close import bundle as bundles
    from wip_lib.reports.html import fixed_width, plain_table, table_rows

    def pandas_text(header, rows):
        return pd.DataFrame(rows, columns=header, dtype="object").to_string(index=False)

    b = bundles.load(sample_bundle_dir)
    checked = 0
    for name in ("schedule", "forecast", "flags", "findings", "retention", "history"):
        frame = b[name]
        rows = table_rows(frame)
        assert fixed_width(list(frame.columns), rows) == pandas_text(list(frame.columns), rows)
        checked += len(rows)
    assert checked > 1000
    for i in range(len(AWKWARD)):
        header = [AWKWARD[i], "Amount", AWKWARD[-1 - i]]
        rows = [[AWKWARD[(i + k) % len(AWKWARD)], str(k * 1001), AWKWARD[k % len(AWKWARD)]]
                for k in range(5)]
        assert fixed_width(header, rows) == pandas_text(header, rows), (header, rows)
    money = pd.DataFrame({"vendor": AWKWARD, "amount": range(len(AWKWARD))})
    assert plain_table(money, money=["amount"]) == pandas_text(
        ["Vendor", "Amount"], table_rows(money, money=["amount"]))
    assert plain_table(money.iloc[:0]) == "(no rows)"
