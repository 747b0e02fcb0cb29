"""The PM's estimated cost at completion from Procore's budget, and the estimate to complete.

Procore's forecast columns (Standard budget view, per budget line = cost code x cost type):

- Projected Costs = Committed Costs + Direct Costs + Pending Cost Changes;
- Forecast To Complete (FTC) = what is still expected *beyond* Projected Costs (in automatic mode
  ``max(Projected Budget - Projected Costs, 0)``; a PM may type any value). It is **not** the
  cost remaining after job-to-date cost;
- Estimated Cost at Completion (ECAC) = Projected Costs + FTC.

The rule (the reference's "Procore's forecast columns"):

- a line's ECAC is the exported Estimated Cost at Completion; where the export has no such
  column, ``ECAC = Projected Costs + FTC`` (``budget_forecast: standard``, the default) or, for a
  tenant whose view is redefined so, ``ECAC = Job to Date Costs + FTC``
  (``budget_forecast: job_to_date`` in ``company.yaml``);
- a job's estimated total cost at a period is the sum of its lines' ECAC in the period's budget
  snapshot: ``EAC = sum(ECAC)``, and ``ETC = EAC - CTD`` with CTD the ERP's cost to date;
- ``EAC`` is never below the ERP's cost to date: where ``sum(ECAC) < CTD`` the recognition
  raises EAC to CTD (ETC 0) and flags ``cost_over_estimate``
  (:func:`wip_lib.accounting.recognition.recognize`);
- per line, the PM's estimate to complete beside the other methods is ``ECAC - cost to date`` of
  the line (ERP cost in Procore codes), negative where the line has already cost more than its
  ECAC: the lines add up to the job's ``ETC``.

Procore's Job to Date Costs column is the ERP's cost synced into Procore and may lag the ERP; it
enters no estimate under the standard rule. A line whose exported ECAC, Projected Costs and FTC do
not add up under the company's rule is an input error
(:func:`wip_lib.sources.validate.budget_forecast_adds_up`).
"""
from __future__ import annotations

import pandas as pd

#: Column whose absence from every budget export means "no ECAC column" (reader's header labels).
ECAC = "estimated_cost_at_completion"


def ecac_exported(budget: pd.DataFrame) -> bool:
    """Whether the budget exports carried an Estimated Cost at Completion column (the reader
    records the headers it found in ``attrs['labels']``). A frame built in memory carries every
    canonical column, absent ones at their default of 0: there, an ECAC of 0 on every line means
    none was given."""
    labels = budget.attrs.get("labels")
    if labels is not None:
        return ECAC in labels
    return ECAC in budget.columns and bool((budget[ECAC] != 0).any())


def line_ecac(budget: pd.DataFrame, rule: str = "standard", *,
              exported: bool | None = None) -> pd.Series:
    """Each budget line's Estimated Cost at Completion (int64 cents): the exported column, else
    built by ``rule`` (module docstring)."""
    if exported is None:
        exported = ecac_exported(budget)
    if exported:
        return budget[ECAC].astype("int64")
    base = budget["projected_costs"] if rule == "standard" else budget["job_to_date_costs"]
    return (base.astype("int64") + budget["forecast_to_complete"].astype("int64")).rename(ECAC)


def ecac_basis(rule: str) -> tuple[str, str]:
    """``(column, label)`` the rule adds to FTC: Projected Costs, or Job to Date Costs."""
    return (("projected_costs", "Projected Costs") if rule == "standard"
            else ("job_to_date_costs", "Job to Date Costs"))


def with_ecac(budget: pd.DataFrame, rule: str = "standard") -> pd.DataFrame:
    """``budget`` with its ``estimated_cost_at_completion`` column holding each line's ECAC."""
    return budget.assign(**{ECAC: line_ecac(budget, rule).to_numpy()})
