"""Subcommands of ``wip``: one module each, discovered by :mod:`wip_lib.cli.main`."""
