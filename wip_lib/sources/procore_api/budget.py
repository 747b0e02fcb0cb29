"""Budget view detail rows (live and snapshots) -> the canonical ``budget`` table.

Rules (sources: ``../shared/domain/procore-checked.md`` sections C and D):

- A few fields of a detail row are fixed by Procore: ``original_budget_amount``,
  ``budget_modifications``, ``budget_forecast.amount`` (the PM's forecast to complete),
  ``cost_code``, ``category`` (cost type), ``wbs_code.flat_code``, ``biller`` / ``biller_type``.
  Every other figure is keyed by the column's display name as the customer configured the view,
  typos included ("an additional key for each visible source and formula column").
- The display names are matched to canonical columns through the header alias map of the budget
  export reader (``PROCORE_EXPORTS["budget"].headers``), first among the names
  ``GET /budget_views/{id}/budget_detail_columns`` lists (a hint: that endpoint describes a Budget
  Detail report and leaves out calculated columns such as Revised Budget, Projected Costs and
  Estimated Cost at Completion), then among the detail rows' own keys, which carry every visible
  column. A name that matches no alias is accepted when it is the close :mod:`difflib` match of
  one (``Commited Costs``), and the pull says so. A row keyed by column id is read too.
- Budget Changes companies: a ``Budget Changes`` column is added to the fixed
  ``budget_modifications`` (which those companies leave at 0): both are the changes between the
  original and the revised budget.
- A view with no Revised Budget key at all: revised = original + budget modifications (or
  changes) + approved COs, the Standard view's own formula, and the pull says so. Other missing
  columns read 0, as a missing export column does.
- Sub jobs: a row whose ``biller_type`` is ``SubJob`` belongs to the sub job ``biller`` (its code,
  the part before " - "); the sub job's segment is taken off the budget code as the export reader
  does.
- Descriptions: ``wbs_code.description`` carries the cost type's name after a dot (``Project
  Manager.Labor``); it is taken off.
- Snapshot period: ``YYYY-MM`` (or ``October 2026``) in the snapshot's name; otherwise the month of
  ``created_at`` in the project's zone, or the month before when the snapshot was taken in the first
  :data:`GRACE_DAYS` days of a month (a close snapshot taken on the 2nd belongs to the month that
  ended). Several snapshots for one period: the latest wins. Only snapshots whose ``budget_view.id``
  is the view read count (see :mod:`.pull`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from wip_lib.core.money import parse_cents
from wip_lib.sources.formats import PROCORE_EXPORTS
from wip_lib.core.schema import get as get_table
from wip_lib.sources.procore_api.errors import ResponseShapeError
from wip_lib.sources.procore_api.frames import (code_and_type, first_text, flatten, match_names, pick,
                                        text, text_frame)

GRACE_DAYS = 10
BUDGET = get_table("budget")
FIXED = {
    "original_budget": ("original_budget_amount",),
    "budget_modifications": ("budget_modifications",),
    "forecast_to_complete": ("budget_forecast.amount",),
}
MONEY = [c.name for c in BUDGET.columns if c.kind == "money"]
DISPLAY = {**{c: PROCORE_EXPORTS["budget"].headers[c] for c in MONEY if c not in FIXED},
           "budget_changes": ["Budget Changes", "Budget Change"]}
# detail-row keys that are Procore's own fields, never a view's column
OWN_KEYS = {"id", "cost_code", "category", "biller", "biller_id", "biller_type", "description",
            "original_budget_amount", "budget_modifications", "sub_job", "position",
            "budget_row_type", "line_item_type", "unit_of_measure"}
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


@dataclass(frozen=True)
class ViewColumns:
    """Canonical money column -> (display name, column id) in one budget view."""

    view: str
    columns: dict[str, tuple[str, str]]
    guessed: dict[str, str]  # canonical -> the misspelt display name accepted for it

    def notes(self) -> list[str]:
        return [f"budget view '{self.view}': column '{name}' read as "
                f"'{DISPLAY[c][0]}' (closest match)" for c, name in self.guessed.items()]


def resolve_columns(view: str, columns: list[dict]) -> ViewColumns:
    """The columns ``budget_detail_columns`` lists, matched to canonical ones: a hint only (see
    the module rules); the detail rows' own keys complete it."""
    named = [(str(c.get("name") or "").strip(), str(c.get("id") or "")) for c in columns
             if isinstance(c, dict)]
    names = [n for n, _ in named if n]
    ids = dict(named)
    found, guessed = match_names(names, DISPLAY)
    return ViewColumns(view, {c: (n, ids.get(n, "")) for c, n in found.items()}, guessed)


def snapshot_period(name: str | None, created_local: str | None) -> str | None:
    """The period a budget snapshot freezes (see the module rules); None when it cannot tell."""
    s = str(name or "")
    m = re.search(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)", s)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    m = re.search(r"\b([A-Za-z]{3})[a-z]*\.?\s+(\d{4})\b", s)
    if m and m.group(1).casefold() in _MONTHS:
        return f"{m.group(2)}-{_MONTHS[m.group(1).casefold()]:02d}"
    if not created_local:
        return None
    day = pd.Timestamp(str(created_local)[:10])
    p = day.to_period("M")
    return str(p - 1 if day.day <= GRACE_DAYS else p)


def detail_rows(rows: list[dict], cols: ViewColumns, job_id: str, period: str, endpoint: str,
                warnings: list[str]) -> pd.DataFrame:
    """One view's (or snapshot's) detail rows, flattened, with each display-named column renamed
    to its canonical name (``revised_budget``...) and ``_job_id``, ``_period``, ``_endpoint``
    added. Pages of every snapshot and project are then turned into budget lines at once
    (:func:`budget_text`)."""
    flat = flatten(rows)
    if flat.empty:
        return flat
    local = cols
    # Columns the hint lacks (calculated ones), or that changed since this snapshot: the rows'
    # own keys say them.
    missing = [c for c in DISPLAY if c not in cols.columns or (
        cols.columns[c][0] not in flat.columns and (not cols.columns[c][1]
                                                    or cols.columns[c][1] not in flat.columns))]
    if missing:
        taken = {n for c, (n, i) in cols.columns.items() if c not in missing}
        keys = [k for k in flat.columns if "." not in k and k not in OWN_KEYS and k not in taken]
        found, guessed = match_names(keys, {c: DISPLAY[c] for c in missing})
        local = ViewColumns(cols.view, {**{c: v for c, v in cols.columns.items()
                                           if c not in missing},
                                        **{c: (found[c], "") for c in missing if c in found}},
                            {c: n for c, n in guessed.items() if c in missing})
        warnings += [f"{endpoint}: {n}" for n in local.notes()]
    rename = {}
    for c, (name, cid) in local.columns.items():
        key = name if name in flat.columns else cid
        if key in flat.columns:
            rename[key] = f"={c}"
    flat = flat[[k for k in flat.columns if not k.startswith("=")]].rename(columns=rename)
    return flat.assign(_job_id=job_id, _period=period, _endpoint=endpoint)


def budget_text(flat: pd.DataFrame, types: dict[str, str],
                descriptions: dict[tuple[str, str], str],
                warnings: list[str] | None = None) -> pd.DataFrame:
    """Detail rows of :func:`detail_rows` (any number of views, snapshots and projects) as budget
    lines in text (see :func:`~.frames.text_frame`). A fixed field wins over a display column of
    the same figure; ``descriptions`` ((job, cost code) -> name, from /cost_codes) fills a line
    Procore sent without one."""
    if flat.empty:
        return pd.DataFrame()
    flat = flat.reset_index(drop=True)
    idx = flat.index
    sub = first_text(flat, ("sub_job.code", "sub_job.name", "sub_job"))
    is_sub = first_text(flat, ("biller_type",)).str.replace(r"[\s_]", "", regex=True) \
        .str.casefold() == "subjob"
    biller = first_text(flat, ("biller.code", "biller.name", "biller")).str.split(
        " - ", n=1).str[0].astype("string").fillna("").str.strip()
    sub = sub.mask((sub == "") & is_sub, biller)
    code, kind = code_and_type(flat, types, sub)
    desc = first_text(flat, ("wbs_code.description", "description"))
    category = first_text(flat, ("category.name", "category", "line_item_type.name"))
    tail = desc.str.rsplit(".", n=1).str[-1].astype("string").str.casefold()
    typed = ((category != "") & desc.str.contains(".", regex=False)
             & (tail == category.str.casefold())).fillna(False)
    desc = desc.mask(typed, desc.str.rsplit(".", n=1).str[0].astype("string"))
    named = first_text(flat, ("cost_code",)).str.split(" - ", n=1).str[1].astype("string")
    desc = desc.mask(desc == "", named.fillna(""))
    if descriptions:
        known = pd.Series(descriptions, dtype="string")
        keys = pd.MultiIndex.from_arrays([flat["_job_id"].astype(str), code.astype(str)])
        desc = desc.mask(desc == "", pd.Series(known.reindex(keys).to_numpy(), index=idx)
                         .astype("string").fillna(""))
    out = {"job_id": flat["_job_id"].astype("string"), "period": flat["_period"].astype("string"),
           "sub_job": sub, "cost_code": code, "cost_type": kind, "description": desc}
    for c in MONEY:
        fixed = pick(flat, FIXED.get(c, ()))
        shown = flat.get(f"={c}")
        if fixed is None and shown is None:
            continue
        out[c] = text(fixed if shown is None else (shown if fixed is None else
                                                   fixed.where(fixed.notna(), shown)), idx)
    changes = flat.get("=budget_changes")
    if changes is not None:  # Budget Changes companies (see the module rules)
        out["budget_modifications"] = _cents_text(
            _cents(out.get("budget_modifications", text(None, idx))) + _cents(text(changes, idx)))
    revised = out.get("revised_budget", text(None, idx))
    lacking = (revised.str.strip() == "").to_numpy()
    if lacking.any():
        calc = _cents_text(sum(_cents(out.get(c, text(None, idx))) for c in (
            "original_budget", "budget_modifications", "approved_cos")))
        out["revised_budget"] = revised.mask(lacking, calc)
        if warnings is not None:
            for ep in pd.unique(flat.loc[lacking, "_endpoint"]):
                warnings.append(f"{ep}: no Revised Budget column; revised budget = original + "
                                "budget modifications/changes + approved COs")
    return text_frame(out, flat["_endpoint"], flat.get("id"))


def _cents(values: pd.Series) -> pd.Series:
    """Money text (or Decimal) as integer cents, blank as 0; text that is not money is a
    :class:`~.errors.ResponseShapeError`."""
    cents, bad = parse_cents(values.astype("string").fillna(""))
    if bad.any():
        raise ResponseShapeError(f"budget detail rows: {values[bad].iloc[0]!r} is not an amount",
                                 "detail_rows")
    return cents.fillna(0).astype("int64")


def _cents_text(cents: pd.Series) -> pd.Series:
    """Integer cents as plain money text (``-1234.56``) for the table's one conversion."""
    c = cents.astype("int64")
    a = c.abs()
    return (c.lt(0).map({True: "-", False: ""}) + (a // 100).astype(str) + "."
            + (a % 100).map("{:02d}".format)).astype("string")
