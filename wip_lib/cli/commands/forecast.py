"""``wip forecast``: cost to complete by job and cost code, overrun flags and the risk ranking.

Writes ``forecast.csv`` (one row per job, cost code, cost type, every ETC method side by side) and
``overrun_flags.csv`` (job_id, cost_code, cost_type, flag, dollar_impact, message) into ``--out``,
plus ``override_audit.csv`` when the period has controller overrides, and prints the top of the
risk ranking.
"""
from __future__ import annotations

from pathlib import Path

TOP = 10


def register(sub) -> None:
    p = sub.add_parser("forecast", help="cost to complete, overrun flags and risk ranking")
    p.add_argument("data_dir", type=Path, help="company folder (holds company.yaml)")
    p.add_argument("--period", help="period YYYY-MM (default: the company's current period)")
    p.add_argument("--out", type=Path, required=True, help="folder for the report CSVs")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.close.period import compute_period
    from wip_lib.reports.csvfiles import FORECAST_MONEY, write_report_csv
    from wip_lib.sources.readers import load_company

    company = load_company(Path(args.data_dir))
    result = compute_period(company, args.period)
    period, forecast, flags = result.period, result.forecast, result.flags
    out = Path(args.out)
    write_report_csv(forecast, out / "forecast.csv", money=FORECAST_MONEY,
                     decimals={"time_elapsed": 6}, keep=["etc_source"])
    write_report_csv(flags, out / "overrun_flags.csv", money=["dollar_impact"])
    if len(result.override_audit):
        write_report_csv(result.override_audit, out / "override_audit.csv",
                         money=["pm_forecast", "override", "difference"])

    ranking = result.ranking
    print(f"Cost to complete {period}: {forecast['job_id'].nunique()} job(s), {len(forecast)} "
          f"cost code line(s), {len(flags)} flag(s). Reports in {out}.")
    if ranking.empty:
        print("No overrun flags.")
    else:
        print(f"Top {min(TOP, len(ranking))} jobs by risk:")
        for line in (ranking["rank"].astype(str) + ". " + ranking["explanation"]).head(TOP):
            print(f"  {line}")
    return 0
