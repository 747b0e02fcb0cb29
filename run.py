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
import threading
import time
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


class Progress:
    """A line per set-up step with the seconds since set-up began, and, while pip works, what it
    is doing: on a terminal one status line rewritten in place, elsewhere (CI logs) a line every
    few seconds. Standard library only."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.shown = 0.0
        self.status = False
        self.last = ""
        self.lock = threading.Lock()

    def elapsed(self) -> str:
        return f"[{time.monotonic() - self.t0:6.1f} s]"

    def step(self, text: str) -> None:
        self._clear()
        print(f"{self.elapsed()} {text}", flush=True)

    def note(self, text: str, every: float = 5) -> None:
        """Show ``text`` (on a terminal at once; elsewhere if nothing was shown for ``every``
        seconds)."""
        self.last = text
        self._show(text, every)

    def _show(self, text: str, every: float) -> None:
        with self.lock:
            now = time.monotonic()
            if self.tty:
                line = f"{self.elapsed()}   {text}"[:78]
                print("\r" + line.ljust(78), end="", flush=True)
                self.status = True
            elif now - self.shown >= every:
                print(f"{self.elapsed()}   {text}", flush=True)
                self.shown = now

    def heartbeat(self, done: threading.Event) -> None:
        """While pip is quiet (installing a hundred packages prints nothing for a minute), the
        last status again with the time: every second on a terminal, every 15 s elsewhere."""
        while not done.wait(1.0):
            if self.last:
                self._show(self.last if self.tty else self.last + " (still working)", 15)

    def _clear(self) -> None:
        self.last = ""
        if self.status:
            print("\r" + " " * 78 + "\r", end="", flush=True)
            self.status = False


def pip(progress: Progress, args: list[str]) -> None:
    """``pip install ARGS`` in .venv, its output summarised (packages collected so far, the
    current one, then the install); the full output is printed if pip fails."""
    cmd = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--progress-bar", "off", *args]
    lines: list[str] = []
    collected = 0
    done = threading.Event()
    beat = threading.Thread(target=progress.heartbeat, args=(done,), daemon=True)
    beat.start()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as proc:
        for line in proc.stdout:
            lines.append(line)
            text = line.strip()
            if text.startswith("Collecting "):
                collected += 1
                progress.note(f"collecting {text.split()[1]} (package {collected})")
            elif text.startswith(("Downloading ", "Using cached ")):
                progress.note(text[:70])
            elif text.startswith("Building wheel"):
                progress.note(text[:70])
            elif text.startswith("Installing collected packages:"):
                n = len(text.split(":", 1)[1].split(","))
                progress.note(f"installing {n} packages ...")
        code = proc.wait()
    done.set()
    beat.join()
    progress._clear()
    if code != 0:
        sys.stdout.write("".join(lines))
        raise SystemExit(f"pip install {' '.join(args)} failed (exit {code}); its output is above.")


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    fresh = not (BIN / "python").exists()
    if not fresh and STAMP.exists() and STAMP.read_text() == _digest():
        return
    progress = Progress()
    progress.step("Setting up .venv (first run, or requirements.txt / pyproject.toml changed); "
                  "about 2 to 3 minutes on a fresh machine ...")
    if fresh:
        progress.step("Creating .venv ...")
        venv.EnvBuilder(with_pip=True).create(VENV)
    progress.step("Upgrading pip ...")
    pip(progress, ["--upgrade", "pip"])
    progress.step("Installing the pinned requirements (requirements.txt) and their "
                  "dependencies ...")
    pip(progress, ["-r", str(ROOT / "requirements.txt")])
    progress.step("Installing wip-workbook itself (editable) ...")
    pip(progress, ["--no-deps", "-e", str(ROOT)])
    STAMP.write_text(_digest())
    progress.step(".venv ready.")


def child_env(environ) -> dict[str, str]:
    """The environment of the month-end and the tests: ``environ`` with string hashing fixed
    (set iteration orders the same from run to run), and bytecode cached (in the __pycache__
    folders git ignores) even where ``environ`` says not to (PYTHONDONTWRITEBYTECODE=1, common in
    container images): the month-end and the suite start hundreds of Python processes (kernels,
    `wip` commands, test workers), and without the cache each compiles wip_lib again and pytest
    rewrites every test module again (about 5 s of CPU per test worker before its first test)."""
    env = {**environ, "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "month-end"
    setup()
    env = child_env(os.environ)
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
