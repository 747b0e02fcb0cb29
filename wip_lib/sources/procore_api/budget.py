"""Budget view detail rows (live and snapshots) -> the canonical ``budget`` table.

Rules:

- A few fields of a detail row are fixed by Procore: ``original_budget_amount``,
  ``budget_modifications``, ``budget_forecast.amount`` (the PM's forecast to complete),
  ``cost_code``, ``category`` (cost type), ``wbs_code.flat_code``. Every other figure is keyed by
  the column's display name as the customer configured the view, typos included. They are found
  through ``GET /budget_views/{id}/budget_detail_columns`` and the same header alias map the
  budget export reader uses (``PROCORE_EXPORTS["budget"].headers``); a name that matches no alias
  is accepted when it is the close :mod:`difflib` match of one (``Commited Costs``), and the pull
  says so. A row keyed by column id rather than name is read too.
- A view without a Revised Budget column cannot fill the data model: that is an error naming the
  view and its columns. Other missing columns read 0, as a missing export column does.
- Snapshot period: ``YYYY-MM`` (or ``October 2026``) in the snapshot's name; otherwise the month of
  ``created_at`` in the project's zone, or the month before when the snapshot was taken in the first
  :data:`GRACE_DAYS` days of a month (a close snapshot taken on the 2nd belongs to the month that
  ended). Several snapshots for one period: the latest wins.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

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
DISPLAY = {c: PROCORE_EXPORTS["budget"].headers[c] for c in MONEY if c not in FIXED}
REQUIRED_DISPLAY = ("revised_budget",)
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
    """The view's display-named columns matched to canonical ones (see the module rules)."""
    named = [(str(c.get("name") or "").strip(), str(c.get("id") or "")) for c in columns
             if isinstance(c, dict)]
    names = [n for n, _ in named if n]
    ids = dict(named)
    found, guessed = match_names(names, DISPLAY)
    missing = [c for c in REQUIRED_DISPLAY if c not in found]
    if missing:
        want = ", ".join(DISPLAY[c][0] for c in missing)
        raise ResponseShapeError(
            f"budget view '{view}' has no {want} column (its columns: {', '.join(names) or 'none'}"
            f"). Add the column to the view in Procore (Budget > Configure views) or pull another "
            f"view with --budget-view.", "budget_detail_columns")
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
    missing = [c for c, (n, i) in cols.columns.items() if n not in flat.columns
               and (not i or i not in flat.columns)]
    if missing:  # the view changed since this snapshot: match its own keys instead
        keys = [k for k in flat.columns if "." not in k and k not in ("id", "cost_code",
                                                                        "category")]
        found, guessed = match_names(keys, DISPLAY)
        local = ViewColumns(cols.view, {**cols.columns, **{c: (found[c], "") for c in missing
                                                           if c in found}},
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
                descriptions: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Detail rows of :func:`detail_rows` (any number of views, snapshots and projects) as budget
    lines in text (see :func:`~.frames.text_frame`). A fixed field wins over a display column of
    the same figure; ``descriptions`` ((job, cost code) -> name, from /cost_codes) fills a line
    Procore sent without one."""
    if flat.empty:
        return pd.DataFrame()
    flat = flat.reset_index(drop=True)
    idx = flat.index
    sub = first_text(flat, ("sub_job.code", "sub_job.name", "sub_job"))
    code, kind = code_and_type(flat, types, sub)
    desc = first_text(flat, ("wbs_code.description", "description"))
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
    return text_frame(out, flat["_endpoint"], flat.get("id"))
