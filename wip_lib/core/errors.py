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

    def __reduce__(self):
        # rebuilt from its problems, not its message: it crosses from the month-end's reports
        # process to the command that reports it
        return InputError, (self.problems,)

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


def file_system_problem(exc: OSError, file: str | None = None) -> Problem:
    """A file-system error as a :class:`Problem` naming the path (``file``, else the path the
    error carries): a folder where a file should be, a file where a folder should be, no
    permission, not found, a full disk, or the system's own words for anything else."""
    import errno

    where = file or str(exc.filename or "") or "(a file)"
    if isinstance(exc, IsADirectoryError):
        return Problem(where, "a folder where a file should be", "put the file itself at this "
                       "path (move the folder aside), or give the file's own path")
    if isinstance(exc, NotADirectoryError):
        return Problem(where, "a file where a folder should be", "put a folder at this path "
                       "(move the file aside), or give the folder's own path")
    if isinstance(exc, PermissionError):
        return Problem(where, "permission denied", "give your user permission to read it (and "
                       "to write, for an output), or close the program that holds it open")
    if isinstance(exc, FileNotFoundError):
        return Problem(where, "not found", "check the path")
    if isinstance(exc, FileExistsError):
        return Problem(where, "already exists", "move it aside or choose another path")
    if exc.errno == errno.ENOSPC:
        return Problem(where, "the disk is full", "free some space and run the command again")
    reason = exc.strerror or str(exc) or type(exc).__name__
    return Problem(where, f"the file system refused: {reason}", "check the path, its "
                   "permissions and the disk, then run the command again")


class FileSystemError(InputError):
    """A file-system error met outside the readers (an output folder, the period store, ...),
    as a message naming the path instead of a traceback."""

    exit_code = 2

    def __init__(self, exc: OSError, file: str | None = None):
        super().__init__([file_system_problem(exc, file)])
