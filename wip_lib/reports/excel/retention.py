"""Sheet *Retention held*: retainage held in both directions at the period end, per job (receivable
from the owner) and per job and commitment (payable to subcontractors and suppliers).

Per row: direction, job, job name, contract or commitment, party, the rate (the contract's rule
in words), retainage withheld, released and collected or paid (inputs, from the books), then
``outstanding = withheld - released`` and ``released not yet collected or paid = released -
collected or paid`` as formulas, Procore's own total retainage (an input) and ``books less
Procore = outstanding - Procore``; a totals row of ``SUM`` formulas per direction. The rules are
:mod:`wip_lib.accounting.retainage`'s; every formula is checked against the Python figure.
"""
from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import Check, Col
from wip_lib.reports.excel.layout import FIRST_ROW, HEAD_ROW, Layout, finish_sheet, start_sheet

COLUMNS = (
    Col("direction", "Direction", "text", width=11),
    Col("job_id", "Job", "text", width=9),
    Col("job_name", "Job name", "text", width=28),
    Col("contract", "Commitment", "text", width=11),
    Col("party", "Owner / vendor", "text", width=26),
    Col("rate", "Rate", "text", width=15),
    Col("withheld", "Withheld", "money", total=True),
    Col("released", "Released", "money", total=True),
    Col("collected_or_paid", "Collected / paid (released)", "money", total=True),
    Col("outstanding", "Outstanding (withheld - released)", "money",
        "={withheld}-{released}", total=True),
    Col("released_unpaid", "Released, not yet collected / paid", "money",
        "={released}-{collected_or_paid}", total=True),
    Col("procore_retained", "Procore total retainage", "money", total=True),
    Col("books_less_procore", "Books less Procore", "money", "={outstanding}-{procore_retained}",
        total=True),
)


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the retention of the period (receivables first, then payables)."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Retention: retainage receivable and payable")
    ret = result.retention
    names = dict(zip(result.wip.schedule["job_id"].astype("string"),
                     result.wip.schedule["job_name"]))
    cols = list(COLUMNS)
    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    row = FIRST_ROW
    for direction, label in (("receivable", "Receivable (owners)"),
                             ("payable", "Payable (subcontractors and suppliers)")):
        part = ret[ret["direction"] == direction] if len(ret) else ret
        recs = []
        for rec in xl.records(part.reset_index(drop=True)):
            rec["job_name"] = names.get(str(rec["job_id"]), "")
            rec["books_less_procore"] = int(rec["outstanding"]) - int(rec["procore_retained"])
            recs.append(rec)
        last = xl.write_records(ws, recs, cols, first_row=row, checks=checks)
        total = max(last, row - 1) + 1
        xl.write_totals(ws, cols, recs, row=total, first=row, last=last, checks=checks,
                        label=f"Total {direction}")
        xl.shade_inputs(ws, cols, row, last)
        row = total + 2
        del label
    xl.note(ws, 4, "From the books (ERP AR and AP through the period): a release invoice carries "
            "the retainage it releases as a negative retainage; Procore's figure is the latest "
            "pay application's total retainage.")
    finish_sheet(ws, basis, freeze=f"D{FIRST_ROW}", cols=cols, title_cols=0)
    return checks
