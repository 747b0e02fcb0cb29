"""Sheet *Notes and policies*: the period, where the figures came from, the policies applied, and
the ties to the income statement and the balance sheet.

The policy block holds the values the schedule's formulas read (pending change-order revenue, the
start threshold); :func:`policy_cells` says where each sits, from the period's data alone. Below
it, the contract policies in words (:func:`contract_policy_lines`: contract types, letters of
intent, pending change orders, uninstalled materials, retainage, rounding), as docs/policies.md
states them. The
ties: revenue, cost and gross profit for the period and the fiscal year (contracts in progress +
completed contracts = the income statement), the balance-sheet figures (contract asset, contract
liability, accrued loss, retainage, backlog), the GL balances after the entry (GL before + change,
on the over-under sheet) and the entry's balance (journal-entry sheet). Then the sign-off block
(prepared, reviewed and approved by, each with a line for name and signature and one for the
date) and how to read the workbook.
"""
from __future__ import annotations

import pandas as pd
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.core.money import report_amount
from wip_lib.core.settings import normalise_policies
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import LARGE_UNDERBILLING, Basis
from wip_lib.reports.excel.cells import Check
from wip_lib.reports.excel.layout import Layout, finish_sheet, quoted, start_sheet
from wip_lib.reports.excel.sheet_names import NOTES_AND_POLICIES

#: The policy block: (key the formulas name, label, kind of value).
POLICY_ROWS = (
    ("pending_policy", "Pending change-order revenue included in the contract", "bool"),
    ("start_threshold", "Start-of-job threshold (revenue = cost below this % complete)", "pct2"),
    ("round_pct_first", "Percent complete rounded to 4 decimals before earned revenue", "bool"),
    ("net_policy", "Loss provision netted into over/under billings (surety view)", "bool"),
    ("fade_threshold", "Margin fade highlighted beyond (points)", "pct2"),
    ("large_under", "Underbillings highlighted above (share of revised contract)", "pct2"),
)
FIRST_LINE = 5  # the period, then the figures basis, then the policy block

_TYPE_WORDS = {"fixed_price": "fixed price", "time_and_materials": "time and materials",
               "cost_plus": "cost plus", "gmp": "guaranteed maximum price (GMP)",
               "letter_of_intent": "letter of intent"}
_TREATMENT_WORDS = {"exclude": "excluded", "include": "included at their amount",
                    "include_amount": "included at a constrained amount",
                    "include_percent": "included at a percent of their amount",
                    "cost_only": "cost only (revenue excluded)",
                    "as_pending": "as priced pending change orders"}


def _pct(text) -> str:
    from decimal import Decimal
    return f"{(Decimal(str(text)) * 100).normalize():f}%"


def contract_policy_lines(policies) -> list[tuple[str, str]]:
    """The contract, change-order, materials, retainage and rounding policies in words (label,
    text), from the normalised policies (docs/policies.md states the same rules)."""
    ct = policies["contract_types"]
    jobs = "; ".join(
        f"job {j}: {_TYPE_WORDS[v['type']]}"
        + (f", fee {_pct(v['fee'])} on cost" if v.get("fee") is not None else "")
        + (f", estimated contract value {report_amount(v['estimated_contract'])}"
           if v.get("estimated_contract") else "")
        for j, v in sorted(ct["jobs"].items()))
    pco = policies["pending_change_orders"]
    pending_default = "included at their amount" if policies["include_pending_co_revenue"] \
        else "excluded"
    entries = "; ".join(
        f"job {e['job']}" + (f" contract {e['contract']}" if e.get("contract") else "")
        + f" CO {e['change_order']}: "
        + (_TREATMENT_WORDS.get(e["treatment"], "") if e.get("treatment") else
           f"category {e['category']}")
        + (f" {report_amount(e['amount'])}" if e.get("amount") is not None else "")
        + (f" {_pct(e['percent'])}" if e.get("percent") is not None else "")
        + (f", estimated cost {report_amount(e['estimated_cost'])} added to the estimate"
           if e.get("estimated_cost") else "")
        for e in pco["change_orders"])
    materials = {
        "none": "None recorded: every cost counts toward percent complete.",
        "file": "From uninstalled_materials.csv (cost per job and period end): excluded from "
                "percent complete and recognised at zero margin (ASC 606 Example 19).",
        "pay_applications": "Materials presently stored on the latest owner pay application "
                            "(at most the cost to date): excluded from percent complete and "
                            "recognised at zero margin (ASC 606 Example 19)."}
    release = {"in_amount": "a release invoice's amount is the retainage it releases, not new "
                            "billing",
               "separate": "a release invoice carries only the work billed on it; its negative "
                           "retainage releases"}
    return [
        ("Contract types", f"Default {_TYPE_WORDS[ct['default']]}"
         + (f"; {jobs}" if jobs else "") + ". Time and materials, cost plus: revenue = cost "
         "+ fee on cost, no percent complete, no loss test; GMP: as cost plus within the cap, "
         "fixed price (percent complete, loss test) above it."),
        ("Jobs without a signed contract (letter of intent)",
         ("Revenue = cost until priced (zero margin, no loss test), flagged letter_of_intent"
          if policies["unsigned_contracts"] == "revenue_equals_cost" else
          "The amount of the contract out for signature is the estimated contract value, "
          "flagged letter_of_intent") + "; an estimated contract value set per job is used "
         "first. A contract counts from its execution date where Procore gives it."),
        ("Pending change orders (ASC 606-10-32-11)",
         f"Priced pending: {pending_default}; unpriced: "
         f"{_TREATMENT_WORDS.get(pco['unpriced'], pco['unpriced'])}; claims: "
         f"{_TREATMENT_WORDS.get(pco['claims'], pco['claims'])}"
         + (f". Per change order: {entries}" if entries else "") + "."),
        ("Uninstalled materials", materials[policies["uninstalled_materials"]]),
        ("Retainage", "Receivable = withheld - released and collected; payable = held on "
         f"subcontractor invoices - released and paid; {release[policies['retainage_release']]}."
         " Completed contracts keep their retainage and over/under billing until settled."),
        ("Rounding", "Each job's figures are rounded once to the cent, half-up"
         + (" (percent complete rounded to 4 decimals first)" if policies["round_pct_first"]
            else "") + "; every total is the sum of the jobs' cents."),
    ]


def _period_lines(result, basis: Basis) -> list[tuple[str, object, str]]:
    lines = [("Period", basis.period, "text"),
             ("Period end (the \"prepared\" date in every page header)", basis.period_end, "date")]
    for k, text in enumerate(result.wip.notes or []):
        lines.append((f"Figures basis {k + 1}", text, "text"))
    return lines


def _policy_first_row(result) -> int:
    """Row of the first policy: below the period lines, a blank row and the block's heading."""
    n_period_lines = 2 + len(result.wip.notes or [])
    return FIRST_LINE + n_period_lines + 2


def policy_cells(result) -> dict[str, str]:
    """Policy key -> absolute cell holding its value (``'Notes and policies'!$B$11``)."""
    first = _policy_first_row(result)
    return {key: f"{quoted(NOTES_AND_POLICIES)}!$B${first + i}"
            for i, (key, _, _) in enumerate(POLICY_ROWS)}


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the notes, the policy block and the ties."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Notes, policies and ties")
    ws.column_dimensions["A"].width = 64
    for c in "BCD":
        ws.column_dimensions[c].width = 20
    for i, (label, value, kind) in enumerate(_period_lines(result, basis)):
        xl.set_text(ws.cell(FIRST_LINE + i, 1), label)
        if kind == "text":  # wraps within B:D so it prints whole
            xl.paragraph(ws, FIRST_LINE + i, 2, 4, value)
        else:
            xl.write_value(ws.cell(FIRST_LINE + i, 2), kind, value)

    # --- policies (the schedule's formulas read these cells)
    first = _policy_first_row(result)
    head = ws.cell(first - 1, 1)
    xl.set_text(head, "Recognition policies (as applied to the figures)")
    head.font = Font(bold=True)
    values = {"pending_policy": basis.include_pending_co_revenue,
              "start_threshold": basis.start_threshold,
              "round_pct_first": basis.round_pct_first,
              "net_policy": basis.net_loss_provision, "fade_threshold": basis.fade_threshold,
              "large_under": LARGE_UNDERBILLING}
    for i, (key, label, kind) in enumerate(POLICY_ROWS):
        r = first + i
        xl.set_text(ws.cell(r, 1), label)
        xl.write_value(ws.cell(r, 2), kind, values[key])
        ws.cell(r, 2).fill = xl.INPUT_FILL

    # --- contract policies (text: what the figures were computed under)
    r = first + len(POLICY_ROWS) + 1
    xl.set_text(ws.cell(r, 1), "Contract, change-order, retainage and rounding policies "
                "(docs/policies.md)")
    ws.cell(r, 1).font = Font(bold=True)
    lines = contract_policy_lines(basis.policies or normalise_policies({}))
    for i, (label, text) in enumerate(lines, start=1):
        xl.set_text(ws.cell(r + i, 1), label)
        xl.set_text(ws.cell(r + i, 2), text)

    # --- sources
    r = r + len(lines) + 2
    xl.set_text(ws.cell(r, 1), "Sources of the inputs")
    ws.cell(r, 1).font = Font(bold=True)
    ip = result.wip.in_progress
    sources = []
    for col, label in (("contract_source", "Contract"), ("cost_source", "Cost to date"),
                       ("billed_source", "Billed to date")):
        if col in ip and len(ip):
            sources.append((label, str(ip[col].iloc[0])))
    sources += [("Cost to complete", "Procore forecast to complete per cost code (budget "
                 "snapshot of the period), or a controller override; per job on the schedule"),
                ("Prior figures", "The closed prior period and prior fiscal year end (see "
                 "figures basis above)"),
                ("GL balances", "ERP general ledger, WIP accounts per job, latest on or before "
                 "the period")]
    for i, (label, text) in enumerate(sources, start=1):
        xl.set_text(ws.cell(r + i, 1), label)
        ws.cell(r + i, 1).alignment = Alignment(vertical="top")
        xl.paragraph(ws, r + i, 2, 4, text)
    r = r + len(sources) + 2

    r = _income_statement_ties(ws, result, layout, r, checks)
    r = _balance_sheet_ties(ws, result, basis, layout, r, checks)
    r = _sign_off(ws, basis, r)
    _guide(ws, r)
    finish_sheet(ws, basis, freeze=None, title_from=1, title_to=3)
    return checks


def _income_statement_ties(ws, result, layout: Layout, r: int, checks: list[Check]) -> int:
    """Revenue, cost and GP for the period and the year: in progress + completed = total."""
    schedule, completed = layout.contracts_in_progress, layout.completed_contracts
    xl.set_text(ws.cell(r, 1), "Ties to the income statement (revenue and cost of revenue)")
    ws.cell(r, 1).font = Font(bold=True)
    for k, h in enumerate(("Contracts in progress", "Completed contracts", "Total"), start=2):
        cell = ws.cell(r, k)
        xl.set_text(cell, h)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = xl.HEADER_FILL
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    sched = result.wip.schedule
    done = sched[sched["status"].astype("string") == "complete"] if "status" in sched \
        else sched.iloc[0:0]
    ip = result.wip.in_progress
    comp = result.wip.completed
    none = pd.Series(dtype="int64")
    lines = [
        ("Revenue for the period", "revenue_period", "revenue_period", ip["revenue_period"],
         done["revenue_period"] if len(done) else none),
        ("Cost of revenue for the period", "cost_period", "cost_period", ip["cost_period"],
         done["cost_period"] if len(done) else none),
        ("Gross profit for the period", "gross_profit_period", "gross_profit_period",
         ip["gross_profit_period"], done["gross_profit_period"] if len(done) else none),
        ("Revenue, fiscal year to date", "revenue_ytd", "revenue_this_year",
         ip["revenue_ytd"], comp["revenue_this_year"] if len(comp) else none),
        ("Cost of revenue, fiscal year to date", "cost_ytd", "cost_this_year", ip["cost_ytd"],
         comp["cost_this_year"] if len(comp) else none),
        ("Gross profit, fiscal year to date", "gross_profit_ytd", "gp_this_year",
         ip["gross_profit_ytd"], comp["gp_this_year"] if len(comp) else none),
    ]
    totals = result.wip.totals() if hasattr(result.wip, "totals") else {}
    for i, (label, ipk, cck, ipv, ccv) in enumerate(lines, start=1):
        rr = r + i
        xl.set_text(ws.cell(rr, 1), label)
        a, b, t = ws.cell(rr, 2), ws.cell(rr, 3), ws.cell(rr, 4)
        a.value = f"={schedule.total(ipk)}"
        checks.append(Check(NOTES_AND_POLICIES, a.coordinate, "money", int(ipv.sum()), label))
        if cck in completed.letters and len(comp):
            b.value = f"={completed.total(cck)}"
            checks.append(Check(NOTES_AND_POLICIES, b.coordinate, "money", int(ccv.sum()),
                                label))
        else:
            b.value = 0
        t.value = f"=B{rr}+C{rr}"
        want = totals.get(ipk, int(ipv.sum()) + int(ccv.sum()))
        checks.append(Check(NOTES_AND_POLICIES, t.coordinate, "money", int(want),
                            label + " total"))
        for c in (a, b, t):
            c.number_format = xl.ACCOUNTING
    return r + len(lines) + 2


def _balance_sheet_ties(ws, result, basis: Basis, layout: Layout, r: int,
                        checks: list[Check]) -> int:
    """The balance-sheet figures, the GL after the entry (= the schedule's) and the entry's
    balance."""
    schedule, over_under = layout.contracts_in_progress, layout.over_under_billings
    journal_entry = layout.journal_entry
    net = basis.net_loss_provision
    xl.set_text(ws.cell(r, 1), "Ties to the balance sheet (after the WIP entry)")
    ws.cell(r, 1).font = Font(bold=True)
    ip = result.wip.in_progress
    under_key, over_key = basis.under_key, basis.over_key
    sched = result.wip.schedule
    done = sched[(sched["status"].astype("string") == "complete").to_numpy(bool)]
    # Completed jobs carry their over/under until billed (in the GL after the entry too).
    carried_under, carried_over = int(done["underbillings"].sum()), int(done["overbillings"].sum())
    targets = {"underbillings": int(ip[under_key].sum()) + carried_under,
               "overbillings": int(ip[over_key].sum()) + carried_over,
               "accrued_loss": 0 if net else int(ip["loss_provision"].sum())}
    bs = [("Costs and estimated earnings in excess of billings (contract asset)",
           f"={schedule.total(under_key)}+{carried_under / 100:.2f}" if carried_under
           else f"={schedule.total(under_key)}", targets["underbillings"]),
          ("Billings in excess of costs and estimated earnings (contract liability)",
           f"={schedule.total(over_key)}+{carried_over / 100:.2f}" if carried_over
           else f"={schedule.total(over_key)}", targets["overbillings"]),
          ("Accrued loss on contracts", "=0" if net else f"={schedule.total('loss_provision')}",
           targets["accrued_loss"]),
          ("Retainage receivable (contracts in progress)",
           f"={schedule.total('retainage_receivable')}", int(ip["retainage_receivable"].sum())),
          ("Backlog (revenue still to earn on contracts in progress)",
           f"={schedule.total('backlog')}", int(ip["backlog"].sum()))]
    for role, label in (("underbillings", "GL underbillings after the entry"),
                        ("overbillings", "GL overbillings after the entry"),
                        ("accrued_loss", "GL accrued loss after the entry")):
        gl = over_under.total(f"gl_{role}")
        adj = over_under.total(f"adj_{role}")
        bs.append((label, f"={gl}+{adj}", targets[role]))
    j = result.wip.journal
    bs.append(("WIP entry: debits less credits (must be zero)",
               f"={journal_entry.total('debit')}-{journal_entry.total('credit')}",
               int(j["debit"].sum()) - int(j["credit"].sum())))
    for i, (label, formula, want) in enumerate(bs, start=1):
        rr = r + i
        xl.set_text(ws.cell(rr, 1), label)
        cell = ws.cell(rr, 4)
        cell.value = formula
        cell.number_format = xl.ACCOUNTING
        checks.append(Check(NOTES_AND_POLICIES, cell.coordinate, "money", want, label))
    return r + len(bs) + 2


#: Who signs the workbook off, in order.
SIGN_OFF = (("Prepared by", "controller"), ("Reviewed by", "accounting manager or CFO"),
            ("Approved by", "CFO or owner"))
SIGN_LINE = Border(bottom=Side(style="thin", color="000000"))


def _sign_off(ws, basis: Basis, r: int) -> int:
    """The sign-off block: for each of prepared, reviewed and approved by, a line for the name and
    signature and a line for the date (left blank: signed on paper or on the printed PDF)."""
    xl.set_text(ws.cell(r, 1), "Sign-off")
    ws.cell(r, 1).font = Font(bold=True)
    end = basis.period_end
    xl.set_text(ws.cell(r + 1, 1), f"The WIP schedule and entry for the period ended {end:%B} "
                f"{end.day}, {end.year}, as set out in this workbook")
    ws.cell(r + 1, 1).font = Font(italic=True, color="555555")
    rr = r + 2
    for role, who in SIGN_OFF:
        xl.set_text(ws.cell(rr, 1), f"{role} ({who}): name and signature")
        xl.set_text(ws.cell(rr + 1, 1), "Date")
        for row, cols in ((rr, (2, 3)), (rr + 1, (2,))):
            ws.cell(row, 1).alignment = Alignment(horizontal="right", vertical="bottom")
            for col in cols:
                ws.cell(row, col).border = SIGN_LINE
            ws.row_dimensions[row].height = 30
        rr += 2
    return rr + 1


GUIDE = (
    "Grey cells are inputs (values from Procore, the ERP, the GL or the closed prior period); "
    "every other figure is a formula over them: click it to see how it is built.",
    "Earned revenue = ROUND(revised contract x % complete, 2); % complete = cost to date / "
    "estimated total cost (ASC 606 input method, cost-to-cost).",
    "Loss provision (ASC 605-35): when estimated total cost exceeds the contract, (earned "
    "revenue - cost to date) - (contract - estimated total cost), so the whole loss is "
    "recognised now.",
    "Period and year-to-date amounts are the figures now less the closed prior figures "
    "(cumulative catch-up).",
    "Job names, vendors, descriptions and messages from Procore or the ERP are text, never "
    "formulas.",
    "See docs/excel-workbook.md for each sheet and how to trace a figure.",
)


def _guide(ws, r: int) -> None:
    xl.set_text(ws.cell(r, 1), "How to read this workbook")
    ws.cell(r, 1).font = Font(bold=True)
    for i, text in enumerate(GUIDE, start=1):
        xl.paragraph(ws, r + i, 1, 4, text)
