"""Sheet *Over-under billings*: per job, the WIP schedule's under/overbillings against the GL
balances before this entry, and the change the entry posts.

Per job in progress: revised contract, earned revenue and billed to date (references to the
schedule), over (+) / under (-) billed ``= billed - earned``, the underbillings, overbillings and
loss provision to carry (references; net of the provision under the surety policy, when the accrued
loss target is 0), the GL balance of each WIP account before the entry (inputs; credit balances
shown positive), and the increase / (decrease) to post ``= target - GL``. A job that still carries a
WIP balance in the GL but is no longer in progress gets a row whose targets are zero.

The GL balance before the entry is read back from the entry itself: ``GL = target - change`` in
each account's natural sign (the entry moves the GL to the schedule's figure, see
:mod:`.wip_entry`). Below the totals, the balance-sheet identity
``cost to date + estimated earnings to date - billings = underbillings - overbillings``.
"""
from __future__ import annotations

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import LARGE_UNDERBILLING, Basis
from wip_lib.reports.excel.cells import UNDER_FILL, Check, Col
from wip_lib.reports.excel.layout import (BLOCK_ROW, FIRST_ROW, HEAD_ROW, Layout, Table,
                                          finish_sheet, start_sheet)
from wip_lib.reports.excel.sheet_names import OVER_UNDER_BILLINGS
from wip_lib.reports.excel.wip_entry import ROLE_SIGN, ROLES, changes

#: Formula columns written as values on a row of a job no longer in progress.
CLEARED_VALUES = frozenset({"contract_revised", "earned_revenue", "billed_to_date",
                            "t_underbillings", "t_overbillings", "t_accrued_loss",
                            "loss_provision"})


def _row(rec: dict, job: str, targets: dict[str, int], change: dict) -> dict:
    out = dict(rec)
    for role in ROLES:
        ch = change.get((job, role), 0)            # debit-positive change posted by the entry
        natural = ROLE_SIGN[role] * (ROLE_SIGN[role] * targets[role] - ch)
        out[f"gl_{role}"] = natural
        out[f"adj_{role}"] = targets[role] - natural  # = sign * change
        out[f"t_{role}"] = targets[role]
    out["over_under"] = rec.get("over_under")
    out.setdefault("note", "")
    return out


def rows(result, basis: Basis) -> list[dict]:
    """One record per job in progress (schedule order), then the jobs no longer in progress that
    the entry clears (job order)."""
    ip = result.wip.in_progress.reset_index(drop=True)
    change = changes(result.wip.journal, basis.gl_accounts)
    net = basis.net_loss_provision
    recs = []
    for rec in xl.records(ip):
        job = str(rec["job_id"])
        targets = {"underbillings": int(rec[basis.under_key]),
                   "overbillings": int(rec[basis.over_key]),
                   "accrued_loss": 0 if net else int(rec["loss_provision"])}
        recs.append(_row(rec, job, targets, change))
    names = {}
    for frame in (result.wip.schedule, result.wip.completed):
        if "job_name" in frame:
            names.update(dict(zip(frame["job_id"].astype("string"), frame["job_name"])))
    in_progress = {str(j) for j in ip["job_id"]}
    # Completed jobs keep their over/under until billed (ASC 606-10-45-3): a row with its figures
    # as values and its balances as targets.
    sched = result.wip.schedule
    done = sched[(sched["status"].astype("string") == "complete").to_numpy(bool)]
    carried = done[((done["underbillings"] != 0) | (done["overbillings"] != 0)).to_numpy(bool)
                   | done["job_id"].astype("string").isin({j for j, _ in change}).to_numpy(bool)]
    for rec in xl.records(carried.sort_values("job_id")):
        job = str(rec["job_id"])
        targets = {"underbillings": int(rec["underbillings"]),
                   "overbillings": int(rec["overbillings"]), "accrued_loss": 0}
        r = _row({k: rec.get(k) for k in ("job_id", "job_name", "contract_revised",
                                          "earned_revenue", "billed_to_date", "over_under",
                                          "loss_provision")}, job, targets, change)
        r["_values"] = CLEARED_VALUES
        r["note"] = "completed: over/under carried until billed"
        recs.append(r)
        in_progress.add(job)
    for job in sorted({job for job, _ in change} - in_progress):
        rec = {"job_id": job, "job_name": names.get(job, ""), "contract_revised": None,
               "earned_revenue": None, "billed_to_date": None, "over_under": None,
               "loss_provision": 0}
        r = _row(rec, job, {r: 0 for r in ROLES}, change)
        r["_values"] = CLEARED_VALUES
        r["_skip"] = {"over_under"}
        r["note"] = "no longer in progress: WIP balances cleared"
        recs.append(r)
    return recs


def columns(basis: Basis) -> list[Col]:
    net = basis.net_loss_provision
    P, G, C = "Per the WIP schedule", "Per the GL before this entry", \
        "WIP entry: increase / (decrease)"
    loss_head = "Loss provision (netted above)" if net else "Loss provision"
    return [
        Col("job_id", "Job", "text", width=9),
        Col("job_name", "Job name", "text", width=30),
        Col("contract_revised", "Revised contract", "money", "={ip_contract_revised}",
            total=True, block=P),
        Col("earned_revenue", "Earned revenue", "money", "={ip_earned_revenue}", total=True,
            block=P),
        Col("billed_to_date", "Billed to date", "money", "={ip_billed_to_date}", total=True,
            block=P),
        Col("over_under", "Over (+) / under (-) billed", "money",
            "={billed_to_date}-{earned_revenue}", total=True, block=P),
        Col("t_underbillings", "Underbillings" + (" (net)" if net else ""), "money",
            f"={{ip_{basis.under_key}}}", total=True, block=P),
        Col("t_overbillings", "Overbillings" + (" (net)" if net else ""), "money",
            f"={{ip_{basis.over_key}}}", total=True, block=P),
        Col("loss_provision", loss_head, "money", "={ip_loss_provision}", total=True, block=P),
        Col("t_accrued_loss", "Accrued loss target", "money",
            "=0" if net else "={loss_provision}", total=True, block=P),
        Col("gl_underbillings", "Underbillings (debit balance)", "money", total=True, block=G),
        Col("gl_overbillings", "Overbillings (credit balance)", "money", total=True, block=G),
        Col("gl_accrued_loss", "Accrued loss (credit balance)", "money", total=True, block=G),
        Col("adj_underbillings", "Underbillings", "money",
            "={t_underbillings}-{gl_underbillings}", total=True, block=C),
        Col("adj_overbillings", "Overbillings", "money", "={t_overbillings}-{gl_overbillings}",
            total=True, block=C),
        Col("adj_accrued_loss", "Accrued loss", "money", "={t_accrued_loss}-{gl_accrued_loss}",
            total=True, block=C),
        Col("note", "Note", "text", width=40),
    ]


def table(result, basis: Basis) -> Table:
    return Table.of(OVER_UNDER_BILLINGS, columns(basis),
                    [str(r["job_id"]) for r in rows(result, basis)])


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the over-under sheet and the balance-sheet identity below it."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Over/under billings and the WIP entry")
    ip = result.wip.in_progress
    schedule = layout.contracts_in_progress
    recs = rows(result, basis)
    cols = columns(basis)
    from_schedule = ("contract_revised", "earned_revenue", "billed_to_date", basis.under_key,
                     basis.over_key, "loss_provision")

    def refs(i, rec):
        job = str(rec["job_id"])
        if not schedule.holds(job):
            return {}
        return {f"ip_{k}": schedule.cell(k, job) for k in from_schedule}

    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks, refs=refs)
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=checks)
    L = xl.column_letters(cols)
    xl.shade_inputs(ws, cols, FIRST_ROW, last)

    # The identity CTD + estimated earnings to date - billings = underbillings - overbillings.
    r0 = total_row + 2
    xl.set_text(ws.cell(r0, 1), "Balance-sheet identity (contracts in progress)")
    ws.cell(r0, 1).font = Font(bold=True)
    ctd, er, b = (int(ip[c].sum()) for c in ("cost_to_date", "earned_revenue", "billed_to_date"))
    under, over = int(ip["underbillings"].sum()), int(ip["overbillings"].sum())
    total = schedule.total
    lines = [
        ("Cost to date", f"={total('cost_to_date')}", ctd),
        ("Estimated earnings to date (earned revenue less cost)",
         f"={total('earned_revenue')}-{total('cost_to_date')}", er - ctd),
        ("Less billings to date", f"=-{total('billed_to_date')}", -b),
        ("Cost and estimated earnings less billings", f"=SUM(D{r0 + 1}:D{r0 + 3})",
         ctd + (er - ctd) - b),
        ("Underbillings less overbillings (gross)",
         f"={total('underbillings')}-{total('overbillings')}", under - over),
        ("Difference (must be zero)", f"=D{r0 + 4}-D{r0 + 5}",
         ctd + (er - ctd) - b - (under - over)),
    ]
    for k, (label, formula, want) in enumerate(lines, start=1):
        xl.set_text(ws.cell(r0 + k, 1), label)
        cell = ws.cell(r0 + k, 4)
        cell.value = formula
        cell.number_format = xl.ACCOUNTING
        checks.append(Check(OVER_UNDER_BILLINGS, cell.coordinate, "money", want, label))
    if last >= FIRST_ROW:
        r = FIRST_ROW
        xl.highlight_rows(ws, FIRST_ROW, last, len(cols),
                          f"${L['t_underbillings']}{r}>{LARGE_UNDERBILLING}*"
                          f"${L['contract_revised']}{r}", UNDER_FILL)
    xl.note(ws, 4, "GL balances are the per-job WIP account balances before this entry (credit "
            "balances shown positive); the entry moves each to the WIP schedule's figure.")
    finish_sheet(ws, basis, freeze=f"C{FIRST_ROW}", cols=cols)
    return checks
