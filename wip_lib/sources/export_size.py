"""How large a company's exports are, from the folder listing alone (no file opened): the size
the read goes by for its second thread and its memory pool (:func:`wip_lib.sources.readers.
read_company`), and the month-end for when its kernels start (``wip month-end``).

Standard library only: ``wip --help`` imports the month-end command, which imports this."""
from __future__ import annotations

import os
from pathlib import Path

EXPORT_FOLDERS = ("procore", "erp")


def folder_bytes(folder: Path | str) -> int:
    """The size on disk of every file under ``folder``: 0 for a folder that is not there, a
    file gone or unreadable left out (reading it says why), a linked folder not followed."""
    total = 0
    for path, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(path, name)).st_size
            except OSError:
                pass
    return total


def exports_bytes(data_dir: Path | str) -> int:
    """The size on disk of a company's exports: every file under ``procore/`` and ``erp/``."""
    return sum(folder_bytes(Path(data_dir) / part) for part in EXPORT_FOLDERS)
