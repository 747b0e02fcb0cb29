"""The ``wip`` command. Each subcommand lives in its own module under :mod:`wip_lib.cli.commands`
and exposes ``register(subparsers)``; the module sets ``func`` on its parser. A
:class:`~wip_lib.core.errors.WipError` becomes its message and a non-zero exit, never a traceback;
so does a file-system error (``OSError``: a folder where a file should be, no permission, a full
disk), as a message naming the path."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from wip_lib.cli import commands
from wip_lib.core.errors import FileSystemError, WipError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wip", description="Month-end WIP workbook.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"wip_lib.cli.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WipError as exc:
        print(f"wip {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 0
    except OSError as exc:  # a folder where a file should be, no permission, a full disk ...
        err = FileSystemError(exc)
        print(f"wip {args.command}: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
