"""``wip profile check PROFILE DATA_DIR``: how a company's ERP exports fit an ERP profile.

For each canonical table the profile maps: the file(s) read, the columns found (profile name ->
the file's header), the columns missing (required ones stop a read; optional ones read as their
default), the rows excluded and why (estimates, voids, payments ... as the profile declares), the
rows reported and the problems themselves. Files in ``erp/`` that the profile does not read are
listed with the built-in profile whose shape they fit. So a controller can copy a built-in
profile, point it at their own exports and adapt it until every table fits.

PROFILE is a built-in name (``vista``) or a path to a YAML file. The exit code is 0 when every
table reads without an error, 2 otherwise.
"""
from __future__ import annotations

from pathlib import Path

from wip_lib.core.errors import InputError, Problem


def register(sub) -> None:
    p = sub.add_parser("profile", help="check how a company's ERP exports fit an ERP profile")
    act = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = act.add_parser("check", help="per canonical table: columns found and missing, rows "
                       "excluded and why")
    c.add_argument("profile", help="built-in profile name (e.g. vista) or path to a YAML profile")
    c.add_argument("data_dir", type=Path, help="company folder holding erp/ (and company.yaml)")
    c.add_argument("--period", help="current period YYYY-MM when the folder has no company.yaml "
                   "(for a GL that holds the current fiscal year only)")
    c.set_defaults(func=run)


def _settings(data_dir: Path, period: str | None):
    from wip_lib.core.settings import Settings

    if (data_dir / "company.yaml").is_file():
        s = Settings.load(data_dir / "company.yaml")
    else:
        s = Settings(name="(profile check)", current_period=period or "2000-01")
    return s


def check(profile_arg: str, data_dir: Path, period: str | None = None) -> tuple[list[str], bool]:
    """The report's lines and whether every table read without an error."""
    from wip_lib.sources.readers.erp import _looks_like, _order, load_profile, read_erp_table_all
    from wip_lib.sources.readers.tabular import Collector, read_text_table

    if not data_dir.is_dir():
        raise InputError([Problem(str(data_dir), "folder not found",
                                  "give the company folder that holds erp/")])
    profile = load_profile(profile_arg, data_dir)
    settings = _settings(data_dir, period)
    formats = list(profile.get("date_formats") or [])
    title = profile.get("title", profile_arg)
    lines = [f"Profile {profile.get('name', profile_arg)} ({title}) against {data_dir}", ""]
    tables: dict = {}
    read_files: set[str] = set()
    ok = True
    for name in _order(profile):
        spec = profile["tables"][name]
        df, problems, reports = read_erp_table_all(data_dir, name, spec, settings, formats,
                                                   tables, title)
        tables[name] = df
        parts = spec.get("parts") or [{"file": spec["file"]}]
        for part in parts:
            read_files.add(Path(part["file"]).name.casefold())
            for j in (spec.get("joins") or []) + (part.get("joins") or []):
                read_files.add(Path(j["file"]).name.casefold())
        errors = [p for p in problems if p.severity == "error"]
        ok &= not errors and (bool(reports) or name not in ("erp_job_cost", "erp_jobs"))
        status = "ERRORS" if errors else ("not found" if not reports else "ok")
        lines.append(f"{name}: {status}")
        if not reports:
            lines.append(f"  file: {', '.join(p['file'] + '.csv' for p in parts)} not found "
                         "(or .xlsx)" + (" - required" if name in ("erp_job_cost", "erp_jobs")
                                         else " - the table reads as empty"))
        for r in reports:
            lines.append(f"  file: {r.file}: {r.rows_in} rows in, {r.rows_accepted} accepted, "
                         f"{r.rows_reported} reported, {r.rows_excluded} excluded, "
                         f"{r.rows_totals} totals/group, {r.rows_blank} blank")
            if r.columns_found:
                lines.append("    found:    " + ", ".join(
                    f"{c}={h}" for c, h in r.columns_found.items()))
            if r.columns_missing:
                req = set(r.columns_missing) - set(spec.get("optional") or [])
                lines.append("    missing:  " + ", ".join(
                    f"{c} ({'/'.join(str(a) for a in _aliases(spec, c))})"
                    + ("" if c in req else " optional") for c in r.columns_missing))
            for why, n in r.excluded.items():
                lines.append(f"    excluded: {n} row(s): {why}")
            if r.unrecognised:
                lines.append("    ignored:  " + ", ".join(r.unrecognised))
        for p in problems[:25]:
            lines.append(f"  {p.severity}: {p}")
        if len(problems) > 25:
            lines.append(f"  ... {len(problems) - 25} more")
    erp = data_dir / "erp"
    others = sorted(p for p in erp.glob("*") if p.suffix.lower() in (".csv", ".xlsx")
                    and p.stem.casefold() not in read_files) if erp.is_dir() else []
    if others:
        lines += ["", "Files in erp/ this profile does not read:"]
        for p in others:
            got = read_text_table(p, p.name, Collector(p.name))
            fits = _looks_like(list(got[0].columns)) if got else None
            lines.append(f"  {p.name}" + (f": its columns fit {fits}" if fits else ""))
    lines += ["", "Every table fits the profile." if ok else
              "Some tables do not fit: see the errors above; adapt a copy of the profile "
              "(columns, values, exclude) or export the missing columns."]
    return lines, ok


def _aliases(spec: dict, c: str) -> list:
    v = spec["columns"].get(c, [])
    return v if isinstance(v, list) else [v]


def run(args) -> int:
    lines, ok = check(args.profile, args.data_dir, args.period)
    print("\n".join(lines))
    return 0 if ok else 2
