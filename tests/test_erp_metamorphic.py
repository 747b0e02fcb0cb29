"""The same company through any ERP profile gives the same month.

A small sample company (14 jobs, so every planted reconciliation situation is there; a few cost
codes each) is generated once, written through the Sage 300 CRE profile and through each other
built-in profile's export shapes (``wip sample --erp``), read back and computed for 2026-10.
Identity that must hold: the WIP schedule, the journal entry, the cost-to-complete forecast, the
overrun flags, the reconciliation findings and the tie-out equal the Sage 300 CRE reading to the
cent (the ERP side differs only in shape: padded and masked keys, numeric codes, report layouts,
header/line files, by-account GL balances). Where the ERP keeps its WIP accounts by account only
(Sage 100, Vista, Acumatica, Intacct, Foundation), the entry is worked against the prior
period's schedule and the GL ties to it with no difference.
"""
from __future__ import annotations

import pandas as pd
import pytest

from wip_lib.close.period import compute_period
from wip_lib.sample.generate import SampleSpec, generate, write_sample
from wip_lib.sources.readers import load_company, read_company

PERIOD = "2026-10"
SPEC = SampleSpec(n_jobs=14, n_completed=1, codes_per_job=(3, 5), history_start="2025-10")
OTHERS = ["sage100", "vista", "spectrum", "quickbooks_online", "quickbooks_desktop", "acumatica",
          "intacct", "foundation"]
BY_ACCOUNT = {"sage100", "vista", "acumatica", "intacct", "foundation"}


@pytest.fixture(scope="session")
def small_company():
    return generate(SPEC)


@pytest.fixture(scope="session")
def sage300_root(small_company, tmp_path_factory):
    root = tmp_path_factory.mktemp("meta") / "sage300"
    write_sample(root, SPEC, "sage300", generated=small_company)
    return root


@pytest.fixture(scope="session")
def sage300_month(sage300_root):
    return compute_period(load_company(sage300_root), PERIOD)


def _same(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    assert len(a) > 0, what
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                  check_dtype=False, obj=what)


@pytest.mark.parametrize("erp", OTHERS)
def test_same_company_same_month(erp, small_company, sage300_root, sage300_month, tmp_path):
    root = tmp_path / erp
    # The Procore side is the Sage 300 folder's, copied: the ERP side is written in the ERP's
    # shapes, with its control totals, and must read back to them.
    write_sample(root, SPEC, erp, generated=small_company, procore_from=sage300_root)
    result = read_company(root)
    assert result.ok, [str(p) for p in result.problems if p.severity == "error"][:5]
    assert all(r.ties() for r in result.reports)
    from wip_lib.cli.commands.validate import company_control_totals, compare_expected

    assert compare_expected(company_control_totals(result.company),
                            root / "control_totals.csv") == []
    assert result.company.settings.erp_profile == erp
    month = compute_period(result.company, PERIOD)
    base = sage300_month
    _same(month.wip.schedule, base.wip.schedule, "WIP schedule")
    _same(month.wip.completed, base.wip.completed, "completed contracts")
    _same(month.wip.journal, base.wip.journal, "journal entry")
    _same(month.forecast, base.forecast, "forecast")
    _same(month.flags, base.flags, "overrun flags")
    _same(month.findings, base.findings, "reconciliation findings")
    _same(month.tieout, base.tieout, "tie-out")
    tie = month.wip.gl_tie
    if erp in BY_ACCOUNT:
        # Every WIP account held by account only, tied to the prior schedule with no difference.
        assert sorted(tie["account"]) == ["1250", "2150", "2160"]
        assert (tie["difference"] == 0).all() and (tie["gl_balance"] != 0).any()
        assert sum("kept by account only" in n for n in month.wip.notes) == 3
    else:
        assert tie.empty
