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

The crosswalk (one rule, used by the forecast, the flags and the reconciliation)
-----------------------------------------------------------------------------
Rows ``procore_cost_code, erp_cost_code, job_id`` (blank job: every job); codes and job numbers
are compared trimmed.

- **In force** for job ``J`` and ERP code ``X``: the rows written for ``J`` and ``X`` when there is
  at least one (a job-specific row beats the blank-job rows); otherwise the blank-job rows of
  ``X`` (:func:`crosswalk_pairs`).
- **Many to one**: when several Procore codes are in force for one ERP code, ERP cost on that code
  goes to the **lowest Procore code (text order)** (:func:`erp_to_procore`); a comparison of the
  two systems compares those Procore codes *in total* with the ERP code (their comparison key is
  the codes joined by ``+``, lowest first: ``02-210+02-220``), so the cost sits inside the group
  it is compared with.
- An ERP code with no crosswalk row in force is the same code in Procore.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wip_lib.core.arrow_strings import dictionary_codes, one_array
from wip_lib.core.schema import STRING

_SEP = r"[\s.\-/_]+"
_SEP_RE = re.compile(_SEP)
_DIGITS = re.compile(r"\d+")
_BLANKS = re.compile(r"\s+")


def normalise(codes: pd.Series) -> pd.Series:
    """Normalised cost codes (string dtype); see the module docstring for the rule
    (:func:`normalise_array`; a missing code is blank)."""
    text = codes.astype("string").fillna("")
    return pd.Series(pd.arrays.ArrowStringArray(normalise_array(one_array(text.array))),
                     index=codes.index)


def normalise_array(codes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`normalise` of an Arrow text array with no nulls.

    Worked out once per distinct code (a job-cost export repeats a few hundred codes over millions
    of rows, and the separator regex runs in Python per value)."""
    distinct, at = dictionary_codes(codes)
    return pa.array(_normalise(distinct), pa.large_string()).take(pa.array(at))


def _normalise(codes: pa.Array) -> list[str]:
    """The rule on each value: trimmed and upper-cased by Arrow's Unicode kernels (what pandas'
    ``str.strip`` and ``str.upper`` run), the separators and blanks handled with Python's
    ``re``, which is what pandas' ``str.replace`` and ``str.fullmatch`` run for these patterns
    (``\\s`` is not RE2's). Called on the distinct codes (:func:`normalise_array`)."""
    raw = pc.utf8_trim_whitespace(codes)
    out = []
    for r, u in zip(raw.to_pylist(), pc.utf8_upper(raw).to_pylist()):
        d = _SEP_RE.sub("", r)
        if _DIGITS.fullmatch(d) is None:
            out.append(_BLANKS.sub(" ", u))
        elif len(d) == 5 or (len(d) == 6 and d.endswith("0")):
            out.append(d[:2] + "-" + d[2:5])
        elif len(d) == 8 and d[4:6] == "00":
            out.append(d[:2] + "-" + d[2:5] + "." + d[6:8])
        else:
            out.append(_BLANKS.sub(" ", u))
    return out


def trimmed_text(values: pd.Series) -> pd.Series:
    """``values`` as text (blank for missing) without surrounding whitespace, trimmed once per
    distinct value (codes and jobs repeat over millions of rows). A column that already is such
    text is returned as it is: not a second copy of millions of cells."""
    text = values if values.dtype == STRING else values.astype(STRING)
    if text.hasnans:
        text = text.fillna("")
    ids, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype="string")
    done = distinct.str.strip()
    if done.equals(distinct):
        return text
    return pd.Series(done.array.take(ids), index=values.index, dtype="string")


def crosswalk_pairs(crosswalk: pd.DataFrame, jobs=()) -> pd.DataFrame:
    """Every crosswalk pair in force (rule in the module docstring): ``job_id, erp_cost_code,
    procore_cost_code`` for each of ``jobs`` and each job the crosswalk names, sorted, one row per
    pair."""
    cols = ["job_id", "erp_cost_code", "procore_cost_code"]
    # A crosswalk is tens to hundreds of rows: its pairs as Python tuples and sets (pandas'
    # cross join, merge and sort cost about 15 ms a call on a two-row crosswalk, and a period
    # makes several calls).
    cw = (list(zip(*(trimmed_text(crosswalk[c]).tolist() for c in cols))) if len(crosswalk)
          else [])
    specific = {row for row in cw if row[0] != ""}
    named = {(job, erp) for job, erp, _ in specific}
    every = [j for j in dict.fromkeys([*(str(j).strip() for j in jobs),
                                       *(row[0] for row in cw if row[0] != "")]) if j != ""]
    general = {(job, erp, procore) for _, erp, procore in (row for row in cw if row[0] == "")
               for job in every if (job, erp) not in named}
    pairs = sorted(specific | general)
    return pd.DataFrame({c: pd.Series([row[i] for row in pairs], dtype="string")
                         for i, c in enumerate(cols)})


def erp_to_procore(crosswalk: pd.DataFrame, erp: pd.DataFrame, code_col: str = "cost_code",
                   job_col: str = "job_id") -> pd.Series:
    """The Procore cost code that receives each ERP row's cost (rule in the module docstring): the
    lowest Procore code in force for the row's job and ERP code, else the ERP code itself
    (trimmed). Only rows whose code the crosswalk names are looked up."""
    codes = trimmed_text(erp[code_col])
    if len(crosswalk) == 0 or len(erp) == 0:
        return codes
    named = codes.isin(trimmed_text(crosswalk["erp_cost_code"]).unique()).to_numpy(bool)
    if not named.any():
        return codes
    rows = pd.DataFrame({"job_id": trimmed_text(erp[job_col][named]).array,
                         "erp_cost_code": codes[named].array})
    pairs = crosswalk_pairs(crosswalk, rows["job_id"].unique())
    lowest = pairs.groupby(["job_id", "erp_cost_code"], as_index=False, sort=False)[
        "procore_cost_code"].min()
    got = rows.merge(lowest, on=["job_id", "erp_cost_code"], how="left")
    out = codes.copy()
    out.iloc[np.flatnonzero(named)] = got["procore_cost_code"].fillna(
        got["erp_cost_code"]).to_numpy()
    return out
