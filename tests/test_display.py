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
