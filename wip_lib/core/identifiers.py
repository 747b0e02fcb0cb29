"""Identifiers that come from data: job numbers as text, and the file names built from them.

Job numbers
-----------
A job number is text: ``"00205"`` and ``"205"`` are different jobs, and leading zeros count.
Tools that guess types lose the zeros: ``papermill -p job_id 00205`` hands a notebook the integer
205, and so does YAML. :func:`job_number` recovers the job the user meant, by this rule:

- text is trimmed and must be one of the known job numbers, exactly;
- a whole number (``int``, or a ``float`` with no fraction; never ``bool``) means the known job
  whose text is all digits and spells that number once leading zeros are set aside
  (205 -> ``"00205"``). Exactly one known job must match; none or several is an error that names
  them and the way to pass the text itself (``papermill -r job_id 00205``).

Names in paths
--------------
Text from the data becomes part of a path in several places: a job number names its dashboard
(``reports/PERIOD/projects/JOB.html``) and its executed notebook, a budget snapshot's folder
(``procore/budget/JOB/``), a period names the reports folder and the overrides file. Every such
name must be a *safe name* (:func:`unsafe_reason` is the rule, in one place):

- not blank, at most ``MAX_NAME`` (120) characters;
- none of ``/ \\ : * ? " < > |`` and no control character (so no path separators: a name is one
  component of a path, never a way out of its folder);
- not starting with ``.`` (so never ``.`` or ``..``, nor a hidden file) and not ending with a
  space or ``.`` (Windows drops those, so two names would land on one file);
- not a Windows device name (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``..``COM9``,
  ``LPT1``..``LPT9``, with or without an extension).

:func:`path_inside` joins safe names under a base folder and also checks that the result, with
every link resolved, is still inside the base: the one function every path built from data goes
through.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from wip_lib.core.errors import InputError, Problem

MAX_NAME = 120
_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_DEVICE = re.compile(r"(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?", re.IGNORECASE)
if TYPE_CHECKING:  # imported where used: the command line is built without pandas
    import pandas as pd

SAFE_FIX = ("leave out / \\ : * ? \" < > | and control characters, do not start it with '.' or "
            "end it with a space or '.'")


def unsafe_reason(name: object) -> str | None:
    """Why ``name`` cannot be used as a file or folder name (the rule in the module docstring),
    or None when it can."""
    if not isinstance(name, str):
        return "not text"
    if name == "":
        return "blank"
    if len(name) > MAX_NAME:
        return f"longer than {MAX_NAME} characters"
    bad = _FORBIDDEN.search(name)
    if bad:
        ch = bad.group(0)
        shown = repr(ch) if ch.isprintable() else f"a control character (code {ord(ch)})"
        return f"it holds {shown}, which a file name cannot"
    if name.startswith("."):
        return "it starts with '.'"
    if name.endswith((" ", ".")):
        return "it ends with a space or '.'"
    if _DEVICE.fullmatch(name):
        return "it is a name Windows reserves for a device"
    return None


def unsafe_mask(names: pd.Series) -> pd.Series:
    """``True`` where a name breaks the rule (worked out once per distinct name)."""
    import pandas as pd

    text = names.astype("string").fillna("")
    codes, uniques = pd.factorize(text)
    bad = [unsafe_reason(str(u)) is not None for u in uniques]
    return pd.Series([bad[c] for c in codes], index=names.index, dtype=bool)


def safe_name(value: object, *, what: str, source: str = "") -> str:
    """``value`` as a name that may become one component of a path; :class:`InputError` naming
    ``source`` (the file or option it came from) and ``what`` it is otherwise."""
    reason = unsafe_reason(value)
    if reason is None:
        return value  # type: ignore[return-value]
    raise InputError([Problem(source or what, f"the {what} {value!r} cannot name a file: "
                              f"{reason}", f"correct the {what}: {SAFE_FIX}", value=str(value))])


def path_inside(base: Path | str, *names: str, suffix: str = "", what: str = "name",
                source: str = "") -> Path:
    """``base / name1 / ... / nameN`` + ``suffix``, each name checked by :func:`safe_name`, and
    the result (links resolved) checked to lie inside ``base``."""
    base = Path(base)
    path = base
    for n in names:
        path = path / safe_name(n, what=what, source=source)
    if suffix:
        path = path.with_name(path.name + suffix)
    root = base.resolve()
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise InputError([Problem(source or what, f"the {what} {'/'.join(names)!r} leads "
                                  f"outside {base}", f"correct the {what}: {SAFE_FIX}",
                                  value="/".join(names))])
    return path


def job_number(value: object, known: Iterable[str], *, source: str = "job_id") -> str:
    """The known job number ``value`` means (rule in the module docstring)."""
    known = [str(k) for k in known]
    shown = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        hits = [k for k in known if k.isdigit() and int(k) == value]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError([Problem(source, f"job number {value} could be any of "
                                      f"{', '.join(hits)}: the leading zeros were lost on the "
                                      "way in", "pass the job number as text, e.g. papermill "
                                      f"-r job_id {hits[0]} (not -p)", value=str(value))])
        raise InputError([Problem(source, f"no job number spells {value}", f"use one of "
                                  f"{shown}; pass it as text (papermill -r job_id ...)",
                                  value=str(value))])
    text = str(value).strip() if value is not None else ""
    if text in known:
        return text
    raise InputError([Problem(source, f"job {text!r} is not in the schedule", f"use one of "
                              f"{shown} (leading zeros count)", value=text)])
