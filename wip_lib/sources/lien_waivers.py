"""The controller's lien waiver log, ``lien_waivers.csv`` in the company folder.

One row per waiver received from a subcontractor or supplier; the pay-app review
(:mod:`wip_lib.accounting.payapp_review`) looks here for the waiver that covers each previous
payment. Headers (any case; the first name is the one ``wip`` writes):

- ``job_id`` (``Project Number``, ``Job``): the job, as Procore numbers it (leading zeros kept);
- ``commitment`` (``Commitment #``, ``Contract #``, ``Subcontract``): the subcontract or PO;
- ``vendor`` (``Contract Company``, ``Company``): who signed it (shown, not matched);
- ``through_date`` (``Through Date``, ``Through``): the date the waiver covers work through,
  ``YYYY-MM-DD``, or as ``company.yaml: procore_locale`` writes dates (en-US ``MM/DD/YYYY``,
  others ``DD/MM/YYYY``);
- ``type`` (``Waiver Type``): ``conditional`` or ``unconditional`` (a text that says one of them,
  e.g. "Unconditional Progress", reads as it);
- ``amount`` (``Waiver Amount``): the payment it covers, money text;
- optional ``received_date`` and ``note``.

A missing file is not an error: :func:`read_lien_waivers` returns ``None`` and the review says
that lien waivers were not checked. Every bad row is a :class:`~wip_lib.core.errors.Problem`
naming file, row (header = row 1), column, value and the fix, and is left out.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from wip_lib.core.errors import Problem
from wip_lib.core.money import parse_cents

FILE = "lien_waivers.csv"
HEADERS = {
    "job_id": ["job_id", "Project Number", "Job", "Job #", "Project #"],
    "commitment_number": ["commitment", "Commitment #", "Contract #", "Subcontract",
                          "commitment_number"],
    "vendor": ["vendor", "Contract Company", "Company", "Vendor Name"],
    "through_date": ["through_date", "Through Date", "Through"],
    "waiver_type": ["type", "Waiver Type", "waiver_type"],
    "amount": ["amount", "Waiver Amount"],
    "received_date": ["received_date", "Received Date", "Received"],
    "note": ["note", "Notes", "Comment"],
}
REQUIRED = ("job_id", "commitment_number", "through_date", "waiver_type", "amount")
WRITTEN = ["job_id", "commitment", "vendor", "through_date", "type", "amount"]
TYPES = ("conditional", "unconditional")
COLUMNS = ["job_id", "commitment_number", "vendor", "through_date", "waiver_type", "amount",
           "received_date", "note", "_file", "_row"]


def empty() -> pd.DataFrame:
    return pd.DataFrame({
        "job_id": pd.Series(dtype="string"), "commitment_number": pd.Series(dtype="string"),
        "vendor": pd.Series(dtype="string"), "through_date": pd.Series(dtype="datetime64[us]"),
        "waiver_type": pd.Series(dtype="string"), "amount": pd.Series(dtype="int64"),
        "received_date": pd.Series(dtype="datetime64[us]"), "note": pd.Series(dtype="string"),
        "_file": pd.Series(dtype="string"), "_row": pd.Series(dtype="int64")})


def _dates(text: pd.Series, locale: str) -> pd.Series:
    """ISO dates, else the locale's day/month order."""
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    local = "%m/%d/%Y" if locale == "en-US" else "%d/%m/%Y"
    other = pd.to_datetime(text, format=local, errors="coerce")
    return iso.fillna(other).astype("datetime64[us]")


def read_lien_waivers(root: Path, locale: str = "en-US"
                      ) -> tuple[pd.DataFrame | None, list[Problem]]:
    """``(waivers, problems)`` from ``root/lien_waivers.csv``; ``(None, [])`` without the file.
    Rows with a problem are left out of the frame (module docstring)."""
    path = Path(root) / FILE
    if not path.is_file():
        return None, []
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1252")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        return empty(), [Problem(FILE, f"not a readable CSV: {exc}".replace("\n", " "),
                                 "save the file as CSV (UTF-8) with the headers "
                                 + ", ".join(WRITTEN))]
    norm = {" ".join(str(c).split()).casefold(): c for c in raw.columns}
    found, problems = {}, []
    for col, names in HEADERS.items():
        hit = next((norm[n.casefold()] for n in names if n.casefold() in norm), None)
        if hit is not None:
            found[col] = hit
        elif col in REQUIRED:
            problems.append(Problem(FILE, f"missing column {names[0]!r}", "add the column (the "
                                    "header row reads " + ", ".join(WRITTEN) + ")",
                                    column=names[0]))
    if problems:
        return empty(), problems
    df = pd.DataFrame({c: (raw[found[c]] if c in found else pd.Series("", index=raw.index))
                       .astype("string").fillna("").str.strip() for c in HEADERS})
    df["_file"] = pd.Series(FILE, index=df.index, dtype="string")
    df["_row"] = pd.Series(np.arange(len(df)) + 2, index=df.index, dtype="int64")
    bad = pd.Series(False, index=df.index)

    def report(mask: pd.Series, column: str, message: str, fix: str) -> None:
        nonlocal bad
        mask = mask.fillna(False).astype(bool) & ~bad
        header = found.get(column, HEADERS[column][0])
        for r, v in zip(df.loc[mask, "_row"], df.loc[mask, column]):
            problems.append(Problem(FILE, message, fix, row=int(r), column=header, value=v))
        bad = bad | mask

    for col, fix in (("job_id", "enter the job number the waiver is for"),
                     ("commitment_number", "enter the subcontract or PO number (e.g. SC-003)")):
        report(df[col] == "", col, f"{HEADERS[col][0]} is blank", fix)
    through = _dates(df["through_date"], locale)
    report(df["through_date"] == "", "through_date", "through date is blank",
           "enter the date the waiver covers work through, e.g. 2026-09-30")
    report(through.isna() & (df["through_date"] != ""), "through_date", "not a date",
           "write the date as YYYY-MM-DD, e.g. 2026-09-30")
    kind = df["waiver_type"].str.casefold()
    wtype = pd.Series(np.where(kind.str.contains("unconditional"), "unconditional",
                               np.where(kind.str.contains("conditional"), "conditional", "")),
                      index=df.index, dtype="string")
    report(wtype == "", "waiver_type", "waiver type is neither conditional nor unconditional",
           "write conditional or unconditional")
    cents, bad_money = parse_cents(df["amount"])
    report(df["amount"] == "", "amount", "amount is blank", "enter the payment the waiver "
           "covers, e.g. 12,345.67")
    report(bad_money, "amount", "not a money amount", "write the amount as 12345.67 or "
           "12,345.67")
    report((cents < 0).fillna(False), "amount", "amount is negative", "enter the payment the "
           "waiver covers, 0 or more")
    received = _dates(df["received_date"], locale)
    report(received.isna() & (df["received_date"] != ""), "received_date", "not a date",
           "write the date as YYYY-MM-DD, or leave it blank")
    out = pd.DataFrame({
        "job_id": df["job_id"], "commitment_number": df["commitment_number"],
        "vendor": df["vendor"], "through_date": through, "waiver_type": wtype,
        "amount": cents.fillna(0).astype("int64"), "received_date": received,
        "note": df["note"], "_file": df["_file"], "_row": df["_row"]})
    problems.sort(key=lambda p: (p.row or 0, str(p.column)))
    return out[~bad.to_numpy(bool)].reset_index(drop=True)[COLUMNS], problems


def write_lien_waivers(root: Path, waivers: pd.DataFrame) -> Path:
    """Write ``waivers`` (columns job_id, commitment_number, vendor, through_date, waiver_type,
    amount in cents) as ``root/lien_waivers.csv`` with the headers :func:`read_lien_waivers`
    reads first (ISO dates, plain money)."""
    from wip_lib.core.money import cents_to_text

    out = pd.DataFrame({
        "job_id": waivers["job_id"].astype("string"),
        "commitment": waivers["commitment_number"].astype("string"),
        "vendor": waivers["vendor"].astype("string"),
        "through_date": pd.to_datetime(waivers["through_date"]).dt.strftime("%Y-%m-%d"),
        "type": waivers["waiver_type"].astype("string"),
        "amount": cents_to_text(waivers["amount"].astype("int64"))})
    path = Path(root) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n")
    return path
