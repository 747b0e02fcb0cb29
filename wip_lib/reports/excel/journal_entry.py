"""Sheet *Journal entry*: the period's WIP entry per job and account, and its summary per account.

Each debit and credit is a formula over the increase / (decrease) of the job's WIP account on the
over-under sheet: ``=MAX(x,0)`` / ``=MAX(-x,0)``. An increase of an asset (underbillings) is a
debit; of a liability (overbillings, accrued loss) a credit; the offset line (revenue - over/under
billings, or cost of revenue - provision for losses) takes the other side. In the surety view the
pair moving the change in a job's loss provision from revenue to cost of revenue is a formula
over the schedule's provision and prior provision and the accrued loss the GL still holds. Totals and "debits less
credits" (zero) below; to the right, the summary per account (``SUMPRODUCT`` over the lines) and
the net to post.
"""
from __future__ import annotations

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import Check, Col
from wip_lib.reports.excel.layout import (BLOCK_ROW, FIRST_ROW, HEAD_ROW, Layout, Table,
                                          finish_sheet, start_sheet)
from wip_lib.reports.excel.sheet_names import JOURNAL_ENTRY
from wip_lib.reports.excel.wip_entry import PROVISION_RECLASS, ROLE_SIGN, journal_pairs

COLUMNS = (
    Col("job_id", "Job", "text", width=9),
    Col("account", "Account", "text", width=10),
    Col("account_name", "Account name", "text", width=48),
    Col("debit", "Debit", "money", "={f_debit}", total=True),
    Col("credit", "Credit", "money", "={f_credit}", total=True),
    Col("memo", "Memo", "text", width=52),
)
SUMMARY_COLUMNS = (
    Col("account", "Account", "text", width=10),
    Col("account_name", "Account name", "text", width=48),
    Col("debit", "Debit", "money", "{s_debit}", total=True),
    Col("credit", "Credit", "money", "{s_credit}", total=True),
    Col("net", "Net debit (credit)", "money", "={debit}-{credit}", total=True),
)


def table(result, basis: Basis) -> Table:
    """The entry's lines (one row per journal line) and their totals row."""
    return Table.of(JOURNAL_ENTRY, COLUMNS, n_rows=len(result.wip.journal))


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the entry's lines as formulas over the over-under changes, and the summary."""
    checks = xl.check_list()
    start_sheet(ws, basis, f"WIP journal entry, {basis.period}")
    journal = result.wip.journal.reset_index(drop=True)
    over_under = layout.over_under_billings
    formulas: dict[int, tuple[str, str]] = {}
    as_values: set[int] = set()
    cip = layout.contracts_in_progress
    for role, job, li, oi in journal_pairs(journal, basis.gl_accounts):
        if role == PROVISION_RECLASS:
            # Surety view: the change in the provision moves from revenue to cost of revenue.
            if not cip.holds(job):
                as_values |= {li, oi}  # a completed job: its provision unwound (a value)
                continue
            x = (f"({cip.cell('loss_provision', job)}-{cip.cell('loss_provision_prior', job)}"
                 f"+{over_under.cell('gl_accrued_loss', job)})")
            formulas[li] = (f"MAX({x},0)", f"MAX(-{x},0)")
            formulas[oi] = (f"MAX(-{x},0)", f"MAX({x},0)")
            continue
        adj = over_under.cell(f"adj_{role}", job)
        up, down = f"MAX({adj},0)", f"MAX(-{adj},0)"
        # An increase of an asset (underbillings) is a debit; of a liability a credit.
        role_dc = (up, down) if ROLE_SIGN[role] > 0 else (down, up)
        formulas[li] = role_dc
        formulas[oi] = (role_dc[1], role_dc[0])
    cols = list(COLUMNS)
    recs = xl.records(journal)
    for i in as_values:
        recs[i]["_values"] = {"debit", "credit"}
    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks,
                            refs=lambda i, rec: ({} if i in as_values else
                                                 {"f_debit": formulas[i][0],
                                                  "f_credit": formulas[i][1]}))
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=checks)
    L = xl.column_letters(cols)
    diff = ws.cell(total_row + 1, 4)
    xl.set_text(ws.cell(total_row + 1, 3), "Debits less credits (must be zero)")
    diff.value = f"={L['debit']}{total_row}-{L['credit']}{total_row}"
    diff.number_format = xl.ACCOUNTING
    checks.append(Check(JOURNAL_ENTRY, diff.coordinate, "money",
                        int(journal["debit"].sum()) - int(journal["credit"].sum()),
                        "debits less credits"))
    # Summary per account, to the right of the lines.
    summary = result.wip.journal_summary.reset_index(drop=True)
    first_col = len(cols) + 2
    scols = list(SUMMARY_COLUMNS)
    xl.set_text(ws.cell(BLOCK_ROW, first_col), "Summary by account (what posts to the GL)")
    ws.cell(BLOCK_ROW, first_col).font = Font(bold=True, color="1F3A5F")
    xl.write_header(ws, scols, block_row=None, head_row=HEAD_ROW, first_col=first_col)
    srecs = xl.records(summary)
    acct_letter = get_column_letter(first_col)

    def rng(k: str) -> str:
        return f"${L[k]}${FIRST_ROW}:${L[k]}${max(last, FIRST_ROW)}"

    def srefs(i, rec):
        r = FIRST_ROW + i
        if last < FIRST_ROW:
            return {"s_debit": "=0", "s_credit": "=0"}
        return {k: f"=SUMPRODUCT(({rng('account')}={acct_letter}{r})*{rng(c)})"
                for k, c in (("s_debit", "debit"), ("s_credit", "credit"))}

    slast = xl.write_records(ws, srecs, scols, first_row=FIRST_ROW, checks=checks,
                             refs=srefs, first_col=first_col)
    xl.write_totals(ws, scols, srecs, row=slast + 1, first=FIRST_ROW, last=slast,
                    checks=checks, first_col=first_col)
    if not recs:
        xl.note(ws, total_row + 3, "No entry this period: the GL already holds the WIP balances.")
    # Printed: the lines on one page, the summary by account on the next when they do not fit
    # side by side; no column repeats (the summary has no job).
    finish_sheet(ws, basis, freeze=f"B{FIRST_ROW}", title_from=HEAD_ROW, title_cols=0,
                 groups=[(1, len(cols)), (len(cols) + 1, first_col + len(scols) - 1)])
    return checks
