"""Cost codes: one normalised form for every format the two systems write, and the crosswalk.

Formats seen in the wild: CSI MasterFormat 1995 ``03300``, 2004+ ``03 30 00`` (optionally
``.13``), Procore's ``03-300``, padded or with trailing spaces. The normal form is Procore's
``DD-DDD``:

- separators (space, dot, dash, slash, underscore) and surrounding blanks are ignored;
- five digits ``03300`` become ``03-300``;
- six digits ending in ``0`` (MasterFormat level 3, ``03 30 00``) drop the final level and become
  ``03-300``; eight digits ``03 30 00.13`` keep the last two as a suffix: ``03-300.13``;
- anything else (letters, tenant inventions such as ``1-00-0000``) is kept upper-cased with its
  blanks trimmed, so it still matches itself across files.

The raw code is always kept beside the normal one; the crosswalk maps Procore codes to ERP codes
explicitly where the two differ, and is never guessed.
"""
from __future__ import annotations

import pandas as pd

_SEP = r"[\s.\-/_]+"


def normalise(codes: pd.Series) -> pd.Series:
    """Normalised cost codes (string dtype); see the module docstring for the rule.

    Worked out once per distinct code (a job-cost export repeats a few hundred codes over millions
    of rows, and the separator regex runs in Python per value)."""
    text = codes.astype("string").fillna("")
    ids, uniques = pd.factorize(text)
    if len(uniques) == len(text):
        return _normalise(text)
    done = _normalise(pd.Series(uniques, dtype="string"))
    return pd.Series(done.array.take(ids), index=codes.index, dtype="string")


def _normalise(codes: pd.Series) -> pd.Series:
    raw = codes.astype("string").fillna("").str.strip()
    digits = raw.str.replace(_SEP, "", regex=True)
    only_digits = digits.str.fullmatch(r"\d+").fillna(False)
    out = raw.str.upper().str.replace(r"\s+", " ", regex=True)
    five = only_digits & (digits.str.len() == 5)
    six = only_digits & (digits.str.len() == 6) & digits.str.endswith("0")
    eight = only_digits & (digits.str.len() == 8) & (digits.str[4:6] == "00")
    out = out.mask(five, digits.str[:2] + "-" + digits.str[2:5])
    out = out.mask(six, digits.str[:2] + "-" + digits.str[2:5])
    out = out.mask(eight, digits.str[:2] + "-" + digits.str[2:5] + "." + digits.str[6:8])
    return out.astype("string")


def normalise_one(code: str) -> str:
    return str(normalise(pd.Series([code], dtype="string")).iloc[0])


def erp_to_procore(crosswalk: pd.DataFrame, erp: pd.DataFrame, code_col: str = "cost_code",
                   job_col: str = "job_id") -> pd.Series:
    """Procore cost code for each ERP row: job-specific crosswalk rows beat company-wide ones;
    an ERP code with no crosswalk row is the same code in Procore."""
    codes = erp[code_col].astype("string")
    if crosswalk.empty:
        return codes
    cw = crosswalk[["job_id", "procore_cost_code", "erp_cost_code"]].astype("string").fillna("")
    specific = cw[cw["job_id"] != ""]
    general = cw[cw["job_id"] == ""].drop_duplicates("erp_cost_code")
    keys = pd.DataFrame({"job_id": erp[job_col].astype("string").to_numpy(),
                         "erp_cost_code": codes.to_numpy()})
    by_job = keys.merge(specific.drop_duplicates(["job_id", "erp_cost_code"]),
                        on=["job_id", "erp_cost_code"], how="left")["procore_cost_code"]
    by_all = keys.merge(general[["erp_cost_code", "procore_cost_code"]], on="erp_cost_code",
                        how="left")["procore_cost_code"]
    mapped = by_job.fillna(by_all).fillna(keys["erp_cost_code"])
    return pd.Series(mapped.to_numpy(), index=erp.index, dtype="string")
