"""Subcommands of the ``symconv`` command line, one module each (see :mod:`symconv.cli`)."""
