"""The ``wip`` command and its subcommands."""
