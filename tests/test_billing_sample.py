"""The sample company's planted billing and pay-app errors: the billing review and the pay-app
review find each one with its amount and report nothing else above materiality.

The in-memory test runs on ``wip_lib.sample.generate`` (with its lien waiver log); the CLI tests
read ``data/sample`` through the readers (``lien_waivers.csv`` included), as a controller runs
``wip billing`` and ``wip payapps``. Amounts come from the answer key, never from this code."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from wip_lib.cli.main import main
from wip_lib.core.money import parse_cents

PERIOD = "2026-10"
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
COLUMNS = ["job_id", "reference", "line", "check", "expected", "actual", "difference",
           "severity", "action"]


def assert_matches(findings: pd.DataFrame, answers: pd.DataFrame, found_by: str) -> None:
    """Every planted error of ``found_by`` is a finding of that job and document with the
    planted amount as its difference (error or warning); every finding above materiality is
    one of them (same job, document and amount)."""
    planted = answers.loc[answers["found_by"] == found_by].fillna("")
    assert len(planted) >= 3, planted
    f = findings.assign(job_id=findings["job_id"].astype(str),
                        reference=findings["reference"].astype(str))
    amounts = parse_cents(planted["amount"].astype(str))[0].astype("int64")
    keys = set()
    for (_, a), cents in zip(planted.iterrows(), amounts):
        cand = f[(f["job_id"] == a["job_id"]) & (f["reference"] == a["reference"])]
        hit = cand[cand["difference"].abs() == int(cents)]
        assert len(hit), f"not found: {a['situation']} ({a['job_id']} {a['reference']} " \
                         f"{a['amount']})\n{cand.to_string()}"
        assert hit["severity"].isin(["error", "warning"]).all(), hit.to_string()
        if a["cost_code"]:
            assert (hit["cost_code"] == a["cost_code"]).any(), hit.to_string()
        keys.add((a["job_id"], a["reference"], int(cents)))
    loud = f[f["severity"] != "info"]
    other = loud[[(j, r, abs(int(d))) not in keys for j, r, d in
                  zip(loud["job_id"], loud["reference"], loud["difference"].fillna(0))]]
    assert other.empty, other.to_string()


@pytest.fixture(scope="module")
def generated():
    from wip_lib.close.billing import compute_billing, compute_payapps
    from wip_lib.close.period import compute_period
    from wip_lib.core.settings import Company, Settings
    from wip_lib.sample.generate import SampleSpec, company_settings, generate

    spec = SampleSpec()
    tables, answers, extras = generate(spec)
    company = Company.from_tables(Settings.from_mapping(company_settings(spec)), tables)
    billing = compute_billing(company, PERIOD, compute_period(company, PERIOD))
    payapps, problems = compute_payapps(company, PERIOD, extras["billing"].waivers)
    return {"billing": billing, "payapps": payapps, "problems": problems, "answers": answers,
            "tables": tables}


def test_generated_billing_errors_found(generated):
    b = generated["billing"]
    assert b.problems == []
    assert_matches(b.review, generated["answers"], "billing")


def test_generated_payapp_errors_found(generated):
    assert generated["problems"] == []
    assert_matches(generated["payapps"], generated["answers"], "payapps")


def test_generated_drafts_tie_to_the_pay_applications(generated):
    """With progress ``procore`` each draft bills what the period's pay application bills (line
    4) on the contract sum to date (line 3 = the G703's column C), and its line 7 is the
    previous application's line 4 - line 5 as Procore holds them."""
    t = generated["tables"]
    apps = t["owner_invoices"].sort_values(["job_id", "application_number"])
    drafts = generated["billing"].drafts
    assert len(drafts) >= 20
    for d in drafts:
        mine = apps[apps["job_id"] == d.job_id].set_index("application_number")
        g702 = d.g702
        assert g702["line_4"] == mine.loc[d.application_number, "total_completed_to_date"]
        assert g702["line_3"] == int(d.lines["scheduled_value"].sum())
        prev = mine.loc[d.previous_application]
        assert g702["line_7"] == prev["total_completed_to_date"] - prev["retainage_to_date"]


def test_sample_has_stored_materials_a_step_down_and_one_missing_waiver(generated):
    t = generated["tables"]
    assert (t["owner_invoice_lines"]["materials_stored"] > 0).sum() >= 10
    pc = t["prime_contracts"]
    assert (pc["retainage_rule"] == "sliding:10>5@50").sum() >= 3
    oi = t["owner_invoices"]
    stepped = (oi["retainage_this_period"] * 20 == oi["work_completed_this_period"]).sum()
    assert stepped >= 5  # applications at 5% after the step-down
    key = generated["answers"]
    assert key["situation"].str.contains("Lien waiver").sum() == 1


def _csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in ("expected", "actual", "difference"):
        df[c] = parse_cents(df[c])[0]
    return df


def test_cli_payapps_on_data_sample(tmp_path, capsys):
    rc = main(["payapps", str(SAMPLE), "--period", PERIOD, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1, out  # planted errors above materiality
    found = _csv(tmp_path / "payapp_findings.csv")
    assert list(found.columns[:len(COLUMNS)]) == COLUMNS
    answers = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    assert_matches(found, answers, "payapps")
    assert "Wrote " in out and "lien_waivers.csv" not in out  # the log was read


def test_cli_billing_on_data_sample(tmp_path, capsys):
    rc = main(["billing", str(SAMPLE), "--period", PERIOD, "--out", str(tmp_path), "--no-pdf"])
    out = capsys.readouterr().out
    assert rc == 1, out
    found = _csv(tmp_path / "billing_review.csv")
    assert list(found.columns[:len(COLUMNS)]) == COLUMNS
    answers = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    assert_matches(found, answers, "billing")
    books = sorted(p.name for p in (tmp_path / "billing").glob("*_G703.xlsx"))
    pages = sorted(p.name for p in (tmp_path / "billing").glob("*_G702_G703.html"))
    assert len(books) == len(pages) >= 20 and not list((tmp_path / "billing").glob("*.pdf"))


@pytest.mark.parametrize("command", ["billing", "payapps"])
def test_cli_refuses_a_period_the_data_does_not_cover(tmp_path, capsys, command):
    """The period is checked as every command checks it: 2031-01 is after company.yaml's
    current_period 2026-10, so nothing is written and the message says what to give."""
    rc = main([command, str(SAMPLE), "--period", "2031-01", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc != 0
    assert "2031-01 is after the company's current period 2026-10" in err
    assert "Give a period from 2025-01 to 2026-10" in err
    assert not any(tmp_path.iterdir())
