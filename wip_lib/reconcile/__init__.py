"""Reconcile Procore to the ERP at a period end.

Each check is a pure function ``check(ctx) -> (findings, problems)`` registered in
:data:`CHECKS` (see :mod:`wip_lib.reconcile.core`); one module per family:

- :mod:`.job_cost`: ``job_cost``, ``unmapped_cost_code`` (these two explain the JTD variance)
- :mod:`.commitments`: ``commitments``, ``commitment_change_orders``
- :mod:`.contract`: ``prime_change_orders``, ``owner_invoices``
- :mod:`.payables`: ``subcontractor_invoices``, ``payments``
- :mod:`.masters`: ``vendors``, ``jobs``
- :mod:`.sync`: ``sync_state``
- :mod:`.double_counting`: ``double_counting``

:func:`reconcile` runs them and returns the findings and the per-job tie-out.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.errors import InputError
from wip_lib.reconcile import (  # noqa: F401
    commitments,
    contract,
    double_counting,
    job_cost,
    masters,
    payables,
    sync,
)
from wip_lib.reconcile.core import (
    CHECKS,
    FINDING_COLUMNS,
    MONEY_COLUMNS,
    Check,
    ReconContext,
    empty_findings,
    findings,
    make_context,
    register,
    run_checks,
)
from wip_lib.reconcile.tieout import COVERAGE_COLUMNS, TIE_OUT_COLUMNS, coverage, tie_out

__all__ = ["CHECKS", "Check", "COVERAGE_COLUMNS", "FINDING_COLUMNS", "MONEY_COLUMNS",
           "ReconContext", "TIE_OUT_COLUMNS", "coverage", "empty_findings", "findings",
           "make_context", "reconcile", "register", "run_checks", "tie_out"]


def reconcile(company, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every check at ``period`` (YYYY-MM): ``(findings, summary)``, summary being :func:`tie_out`.

    Raises :class:`~wip_lib.core.errors.InputError` when a check reports an input it cannot use.
    """
    ctx = make_context(company, period)
    found, problems = run_checks(ctx)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return found, tie_out(company, ctx, found)
