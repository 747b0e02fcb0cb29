"""The workbook's exceptions: a small typed hierarchy, as papermill's own.

Every user mistake becomes a :class:`Problem` naming the file, the row, the column, the bad value,
what is wrong and how to fix it. Readers collect problems rather than stopping at the first, so one
run of ``wip validate`` lists everything a controller has to mend. The CLI turns any
:class:`WipError` into its message and a non-zero exit; a bare traceback means a bug of ours.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input.

    ``row`` is the 1-based line number as a spreadsheet shows it (the header is row 1), or ``None``
    when the problem concerns the whole file or column.
    """

    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    value: object = None
    severity: str = "error"  # "error" stops the run; "warning" is reported and the run goes on

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f" (value: {self.value!r})"
        return f"{where}: {self.message}{shown}. Fix: {self.fix}"


class WipError(Exception):
    """Base class: anything the workbook reports to a user instead of a traceback."""

    exit_code = 1


class InputError(WipError):
    """Input files that cannot be read as they are. Carries every problem found."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} problem(s) in the input:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class PolicyError(WipError):
    """A setting or policy parameter out of its documented range."""


class PeriodError(WipError):
    """A period that cannot be computed, closed or reopened as asked."""


class ConnectorError(WipError):
    """A remote system (Procore's API) refused or answered in an unexpected shape."""
