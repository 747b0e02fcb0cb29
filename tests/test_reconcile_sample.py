"""The sample company's planted discrepancies: reconciliation finds each one with its amount and
reports nothing above materiality anywhere else.

The in-memory test runs on ``wip_lib.sample.generate``; the CLI test reads ``data/sample`` (made
by ``wip sample``) through the readers, as a controller would run it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from wip_lib.core.money import parse_cents

PERIOD = "2026-10"
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def assert_matches_answer_key(findings: pd.DataFrame, answers: pd.DataFrame) -> None:
    planted = answers.loc[answers["found_by"] == "reconcile"].fillna("")
    assert len(planted), "the answer key plants no reconciliation discrepancy"
    f = findings.copy()
    f["job_id"] = f["job_id"].fillna("").astype(str)
    f["reference"] = f["reference"].fillna("").astype(str)
    amounts = parse_cents(planted["amount"].astype(str))[0]
    for (_, a), cents in zip(planted.iterrows(), amounts):
        job = str(a["job_id"]).strip()
        ref = str(a["reference"]).strip()
        cand = f.loc[(f["job_id"] == job) & (f["reference"] == ref)]
        assert len(cand), f"not found: {a['situation']} ({job} {ref})\n{findings.to_string()}"
        if int(cents):
            money = cand[["procore_amount", "erp_amount", "difference"]].abs()
            hit = (money == int(cents)).any(axis=1)
            assert hit.any(), f"wrong amount for {a['situation']}: {cand.to_string()}"
            assert (cand.loc[hit, "severity"] == "error").any() or \
                (cand.loc[hit, "severity"] == "warning").any()
        if str(a["cost_code"]).strip():
            assert (cand["cost_code"] == str(a["cost_code"]).strip()).any(), cand.to_string()
    # Nothing above materiality for any job (or vendor) without a planted discrepancy.
    planted_jobs = set(planted["job_id"].astype(str).str.strip())
    planted_refs = set(planted["reference"].astype(str).str.strip())
    loud = f.loc[f["severity"] != "info"]
    other = loud.loc[~loud["job_id"].isin(planted_jobs)
                     | ((loud["job_id"] == "") & ~loud["reference"].isin(planted_refs))]
    assert other.empty, other.to_string()


def test_generated_sample_planted_discrepancies_found():
    from wip_lib.core.settings import Company, Settings
    from wip_lib.reconcile import coverage, reconcile
    from wip_lib.sample.generate import SampleSpec, company_settings, generate

    spec = SampleSpec()
    tables, answers, _ = generate(spec)
    company = Company.from_tables(Settings.from_mapping(company_settings(spec)), tables)
    findings, summary = reconcile(company, PERIOD)
    assert_matches_answer_key(findings, answers)
    assert (summary["unexplained"] == 0).all()
    assert coverage(company, PERIOD, findings)["foots"].all()


def test_cli_reconcile_sample(tmp_path, capsys):
    from wip_lib.cli import main as cli

    rc = cli.main(["reconcile", str(SAMPLE), "--period", PERIOD, "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "Time:" in text
    findings = pd.read_csv(tmp_path / "reconciliation.csv", dtype=str, keep_default_na=False)
    for c in ("procore_amount", "erp_amount", "difference"):
        findings[c] = parse_cents(findings[c])[0]
    answers = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    assert_matches_answer_key(findings, answers)
    summary = pd.read_csv(tmp_path / "reconciliation_summary.csv", dtype=str)
    assert (parse_cents(summary["unexplained"])[0] == 0).all()
