"""The WIP journal entry of the period read back line by line: which WIP account each change
adjusts, and by how much. The over-under sheet shows the GL balance before the entry per job and
account; the journal-entry sheet writes each line as a formula over that sheet's change.

:func:`wip_lib.accounting.journal.wip_journal_entry` writes every change as two lines, the WIP
account first and its offset second, with one memo naming the change (``"Job 00541:
underbillings increase"``). The WIP account of a line is found by its number in the company's GL
accounts, else by the memo's words.
"""
from __future__ import annotations

import re
from typing import Mapping

import pandas as pd

from wip_lib.reports.excel import cells as xl

#: The three WIP accounts the entry moves to the schedule's figures.
ROLES = ("underbillings", "overbillings", "accrued_loss")
#: Natural balance of each WIP account: +1 debit (asset), -1 credit (liability).
ROLE_SIGN = {"underbillings": 1, "overbillings": -1, "accrued_loss": -1}
#: Memo words (after ``"Job N: "``, before ``increase``/``decrease``) -> WIP account role.
ROLE_WORDS = {"underbillings": "underbillings", "overbillings": "overbillings",
              "loss provision": "accrued_loss"}


def journal_pairs(journal: pd.DataFrame, accounts: Mapping[str, str] | None
                  ) -> list[tuple[str, str, int, int]]:
    """The entry as ``(role, job, WIP line index, offset line index)``, in entry order.

    Raises ValueError on a line that is not half of a two-line change or whose WIP account
    cannot be told."""
    pairs = []
    rows = xl.records(journal.reset_index(drop=True))
    by_number = {v: k for k, v in (accounts or {}).items() if k in ROLES}
    i = 0
    while i < len(rows):
        a, b = rows[i], rows[i + 1] if i + 1 < len(rows) else None
        if b is None or str(a["job_id"]) != str(b["job_id"]) or str(a["memo"]) != str(b["memo"]):
            raise ValueError(f"journal line {i + 1} is not part of a two-line change")
        role = by_number.get(str(a["account"]))
        if role is None:
            words = re.sub(r"\s+(increase|decrease)$", "", str(a["memo"]).split(": ", 1)[-1])
            role = ROLE_WORDS.get(words)
        if role is None:
            raise ValueError(f"journal line {i + 1}: cannot tell which WIP account it adjusts")
        pairs.append((role, str(a["job_id"]), i, i + 1))
        i += 2
    return pairs


def changes(journal: pd.DataFrame, accounts: Mapping[str, str] | None
            ) -> dict[tuple[str, str], int]:
    """``(job, role) -> change`` the entry posts to that WIP account, debit positive (cents)."""
    journal = journal.reset_index(drop=True)
    lines = xl.records(journal)
    out: dict[tuple[str, str], int] = {}
    for role, job, li, _ in journal_pairs(journal, accounts):
        line = lines[li]
        out[(job, role)] = out.get((job, role), 0) + int(line["debit"]) - int(line["credit"])
    return out
