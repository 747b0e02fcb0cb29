"""A pull written as a company folder, merged with what the folder already holds.

Rules:

- Files are written with :mod:`wip_lib.sources.export_writer` in the export layout of :mod:`wip_lib.sources.formats`, so
  the folder reads back through the same readers as downloaded exports (``wip validate``).
- Rows of projects not in this pull are kept; a pulled project's rows are replaced. In an
  incremental pull, tables pulled only in part (``PullResult.partial``) replace rows by key
  (vendors by Procore id or name), and the schedule-of-values lines of unchanged commitments are
  kept.
- Columns the API does not carry in a documented shape (:data:`CARRIED`: the retainage rule of
  a prime contract or a commitment, set once by a controller) keep the folder's value for the
  same key; a new contract starts with the data model's default.
- Budget: one file per job and period, (re)written only for the periods pulled.
- ``company.yaml`` is written when absent (company name, ``current_period`` = the period pulled,
  the tenant's change order status labels, the ``budget_view`` and ``time_zone`` the pull used).
  An existing one is never rewritten: labels it lacks are reported as warnings, to be added by
  hand, and a budget view other than its ``budget_view`` is a warning too.
- ``.procore_pull.json`` records the company, when the pull started, the budget view asked for
  and which budget files came from the live view, so an incremental pull fetches those again once
  the month is frozen, and fetches every month again when the view changed.
- A folder whose Procore files cannot be read cleanly is not merged into (their unreadable rows
  would be lost): fix them, or pull into a new folder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from wip_lib.core import schema
from wip_lib.core.errors import InputError, Problem
from wip_lib.core.settings import Settings
from wip_lib.sources.export_writer import write_company_yaml, write_procore_table
from wip_lib.sources.formats import PROCORE_EXPORTS
from wip_lib.sources.procore_api.pull import TABLES, PullResult
from wip_lib.sources.readers.procore import BUDGET_DIR, PERIOD_RE, read_export, view_key

STATE = ".procore_pull.json"
CARRIED = {"prime_contracts": ("retainage_rule",), "commitments": ("retainage_rule",)}


@dataclass(frozen=True)
class FolderState:
    """What the last pull into a folder recorded."""

    company_id: str | None = None
    pulled_at: datetime | None = None
    live_budgets: frozenset[tuple[str, str]] = frozenset()
    budget_view: str | None = None  # the view the folder's budget files are snapshots of

    @classmethod
    def load(cls, root: Path) -> "FolderState":
        path = Path(root) / STATE
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data.get("company_id") or "") or None,
                       datetime.fromisoformat(data["pulled_at"]) if data.get("pulled_at")
                       else None,
                       frozenset((str(j), str(p)) for j, p in data.get("live_budgets", [])),
                       data.get("budget_view"))
        except (ValueError, KeyError, TypeError):
            return cls()  # unreadable state: the next pull is a full one

    def save(self, root: Path) -> Path:
        path = Path(root) / STATE
        path.write_text(json.dumps({
            "company_id": self.company_id,
            "pulled_at": self.pulled_at.isoformat() if self.pulled_at else None,
            "live_budgets": sorted(map(list, self.live_budgets)),
            "budget_view": self.budget_view}, indent=2) + "\n",
            encoding="utf-8")
        return path


def frozen_budgets(root: Path, state: FolderState, budget_view: str | None = None
                   ) -> frozenset[tuple[str, str]]:
    """(job, period) budget files in the folder that came from snapshots (not the live view) of
    ``budget_view``; none when the folder's files are another view's."""
    base = Path(root) / BUDGET_DIR
    if not base.is_dir() or view_key(state.budget_view) != view_key(budget_view):
        return frozenset()
    have = {(f.parent.name, f.stem) for f in base.glob("*/*.csv") if PERIOD_RE.fullmatch(f.stem)}
    return frozenset(have - state.live_budgets)


def _settings(root: Path, result: PullResult) -> Settings:
    path = root / "company.yaml"
    if path.is_file():
        return Settings.load(path)
    return Settings(name=result.company_name, current_period=result.period)


def existing_tables(root: Path, settings: Settings) -> dict[str, pd.DataFrame]:
    """The folder's Procore tables (budget aside), without provenance columns."""
    out: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in TABLES:
        if name == "budget":
            continue
        df, probs, _ = read_export(root, PROCORE_EXPORTS[name], settings)
        problems += [p for p in probs if p.severity == "error"]
        out[name] = df.drop(columns=[c for c in ("_file", "_row") if c in df.columns])
    if problems:
        raise InputError([*problems, Problem(str(root), "the folder's Procore files have "
                                             "problems, so a pull cannot merge into it",
                                             "fix the files listed, or pull into a new folder")])
    return out


def _carry_over(name: str, old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``new`` with the :data:`CARRIED` columns taken from ``old`` rows of the same key."""
    cols = CARRIED.get(name)
    if not cols or old.empty or new.empty:
        return new
    key = list(schema.get(name).key)
    prior = old[[*key, *cols]].drop_duplicates(key).astype({k: "string" for k in key})
    m = new[key].astype("string").merge(prior, on=key, how="left")
    out = new.copy()
    for c in cols:
        out[c] = m[c].where(m[c].notna(), new[c]).astype(new[c].dtype).to_numpy()
    return out


def _merge(name: str, old: pd.DataFrame, new: pd.DataFrame, result: PullResult) -> pd.DataFrame:
    if old.empty:
        return new
    new = _carry_over(name, old, new)
    jobs = {p.job_id for p in result.projects}
    if name == "procore_vendors":
        if name not in result.partial:
            return new
        ids = old["procore_vendor_id"].isin(new["procore_vendor_id"].dropna())
        keep = old[~(ids.fillna(False) | old["vendor_name"].isin(new["vendor_name"]))]
    else:
        other = ~old["job_id"].isin(jobs)
        if name in result.partial:
            key = list(schema.get(name).key)
            pulled = pd.MultiIndex.from_frame(new[key].astype("string"))
            other |= ~pd.MultiIndex.from_frame(old[key].astype("string")).isin(pulled)
        if name == "commitment_lines" and result.kept_lines:
            pairs = pd.MultiIndex.from_arrays([old["job_id"], old["commitment_number"]])
            other |= pairs.isin(list(result.kept_lines))
        keep = old[other.to_numpy()]
    parts = [p for p in (keep, new) if len(p)]
    if not parts:
        return new
    merged = pd.concat(parts, ignore_index=True)
    key = list(schema.get(name).key)
    return merged.sort_values(key, kind="stable").reset_index(drop=True)


def write_pull(root: Path | str, result: PullResult, company_id: str, started: datetime
               ) -> tuple[list[Path], list[str]]:
    """Write ``result`` into the company folder ``root``; return (files written, warnings)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    yaml_path = root / "company.yaml"
    settings = _settings(root, result)
    old = existing_tables(root, settings) if (root / "procore").is_dir() else {}
    paths: list[Path] = []
    if not yaml_path.is_file():
        data: dict = {"name": result.company_name, "current_period": result.period,
                      "fiscal_year_end_month": 12, "procore_locale": "en-US",
                      "erp": {"profile": "sage300"}}
        if result.status_labels:
            data["status_labels"] = dict(sorted(result.status_labels.items()))
        if result.budget_view:
            data["budget_view"] = result.budget_view
        if result.time_zone:
            data["time_zone"] = result.time_zone
        paths.append(write_company_yaml(root, data))
    else:
        lacking = {k: v for k, v in result.status_labels.items()
                   if k not in settings.status_labels}
        if lacking:
            warnings.append("company.yaml lacks status labels Procore uses; add under "
                            "status_labels: " + ", ".join(f"{k!r}: {v}" for k, v in
                                                          sorted(lacking.items())))
        if view_key(result.budget_view) != view_key(settings.budget_view):
            warnings.append(f"the pull read budget view {result.budget_view or 'Standard'!r} "
                            f"but company.yaml says budget_view: {settings.budget_view!r}; set "
                            "the one the schedule should read")
    for name in TABLES:
        df = result.tables[name]
        if name == "budget":
            if len(df):
                paths += write_procore_table(root, name, df)
            continue
        merged = _merge(name, old.get(name, schema.get(name).empty()), df, result)
        paths += write_procore_table(root, name, merged)
    before = FolderState.load(root)
    b = result.tables["budget"]
    frozen = set(zip(b["job_id"].astype(str), b["period"].astype(str))) - set(result.live_budgets)
    live = (set(before.live_budgets) - frozen) | set(result.live_budgets)
    paths.append(FolderState(company_id, started, frozenset(live), result.budget_view).save(root))
    return paths, warnings
