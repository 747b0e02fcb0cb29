"""``wip periods DATA_DIR``: the closed periods of the company's period store.

One line per close: the period, the close number, when and by whom it was closed, the period's
revenue and the fingerprint of its input files (:func:`wip_lib.close.store.inputs_fingerprint`);
``--all`` adds the reopened closes kept as history, with who reopened them, when and why.
"""
from __future__ import annotations

from pathlib import Path

from wip_lib.core.errors import PeriodError


def register(sub) -> None:
    p = sub.add_parser("periods", help="list the closed periods: who closed them, when, and "
                       "the fingerprint of their input files")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="company folder")
    p.add_argument("--all", action="store_true", help="also the reopened closes (history)")
    p.add_argument("--store", type=Path, metavar="FILE", help="the store file (default: "
                   "store_path in company.yaml, else DATA_DIR/wip_store.duckdb)")
    p.set_defaults(func=run)


def rows(store, *, include_reopened: bool = False) -> list[dict]:
    """Each close of ``store`` (active ones only unless ``include_reopened``), oldest first,
    with its revenue for the period (cents), input file count and fingerprint."""
    from wip_lib.close.store import inputs_fingerprint

    closes = store.closes()
    if not include_reopened:
        closes = closes[closes["status"] == "closed"]
    out = []
    for c in closes.sort_values(["period", "close_id"]).to_dict("records"):
        cid = int(c["close_id"])
        inputs = store.load_close(cid, "inputs")
        totals = store.load_close(cid, "totals")
        revenue = int(totals["revenue_period"].iloc[0]) if len(totals) and \
            "revenue_period" in totals.columns else None
        out.append({**c, "close_id": cid, "files": len(inputs), "revenue_period": revenue,
                    "fingerprint": inputs_fingerprint(inputs)})
    return out


def run(args) -> int:
    from wip_lib.cli.commands.close import company_root
    from wip_lib.close.store import PeriodStore, store_path
    from wip_lib.core.money import report_amount

    root = company_root(args.data_dir)
    path = store_path(root, args.store)
    if not path.is_file():
        raise PeriodError(f"no period store at {path}: nothing is closed yet (close a month "
                          f"with: wip close {root} --period YYYY-MM)")
    with PeriodStore(path, read_only=True) as store:
        found = rows(store, include_reopened=args.all)
    if not found:
        print(f"No closed period in {path}.")
        return 0
    head = ("period", "close", "closed at", "closed by", "revenue for the period", "input files",
            "fingerprint")
    table = [head]
    for r in found:
        table.append((r["period"], str(r["close_id"]), str(r["closed_at"]), str(r["closed_by"]),
                      "" if r["revenue_period"] is None else report_amount(r["revenue_period"]),
                      str(r["files"]), r["fingerprint"] or "(none)"))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {4, 5}
    for row in table:
        print("  ".join(v.rjust(w) if i in right else v.ljust(w)
                        for i, (v, w) in enumerate(zip(row, widths))).rstrip())
    reopened = [r for r in found if r["status"] != "closed"]
    for r in reopened:
        print(f"close {r['close_id']} ({r['period']}) reopened {r['reopened_at']} by "
              f"{r['reopened_by']}: {r['reopen_reason']}")
    active = [r for r in found if r["status"] == "closed"]
    print(f"{len(active)} closed period(s) in {path}; latest closed: "
          f"{active[-1]['period'] if active else 'none'}.")
    return 0
