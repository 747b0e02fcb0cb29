#!/usr/bin/env python3
"""Quick start: set up (or reuse) .venv, then run the month-end on the sample company or the tests.

    python3 run.py month-end     # set up, then the month-end on data/sample for 2026-10
    python3 run.py test          # set up, then every test

Only the standard library is used here, so a fresh machine with Python 3.11+ needs nothing else.
The virtual environment is rebuilt only when requirements.txt or pyproject.toml change.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".requirements.sha256"

SAMPLE = ["data/sample"]
PERIOD = "2026-10"


def _digest() -> str:
    h = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _digest():
        return
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("Installing requirements into .venv ...", flush=True)
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(_digest())


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "month-end"
    setup()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if what == "month-end":
        cmd = [str(BIN / "wip"), "month-end", *SAMPLE, "--period", PERIOD, *argv[1:]]
    elif what == "test":
        # Notebooks' cells depend on each other: keep each file on one worker.
        extra = argv[1:] or ["-n", "auto", "--dist", "loadfile"]
        # Lint first (pyflakes and import order, [tool.ruff] in pyproject.toml): seconds.
        lint = [str(BIN / "ruff"), "check", "."]
        print("$", " ".join(lint), flush=True)
        if subprocess.run(lint, cwd=ROOT).returncode:
            return 1
        cmd = [str(BIN / "python"), "-m", "pytest", *extra]
    elif what == "setup":
        return 0
    else:
        print(__doc__)
        return 2
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
