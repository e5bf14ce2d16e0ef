"""The ``symconv`` command: parse, call the library, print. ``main(argv) -> int``.

Each subcommand lives in its own module of :mod:`symconv.cli.commands` with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; this file only finds and dispatches them.
Exit codes: 0 success (the identity or claim holds), 1 a checked statement fails, 2 bad input,
3 an internal error (a bug: reported in one line; ``SYMCONV_DEBUG=1`` re-raises it with the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from .._version import __version__
from ..errors import SymconvError
from . import commands


def _commands() -> list:
    found = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        found.append(module)
    return found


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the usage block is for ``--help``, not for every typo."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one subparser per command module."""
    parser = _Parser(
        prog="symconv",
        description="Machine-checked mathematics of convolution layers.",
    )
    parser.add_argument("--version", action="version", version=f"symconv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _commands():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``symconv`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args._run(args))
    except (SymconvError, ValueError, MemoryError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"symconv {args.command}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `symconv show … | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0
    except OSError as exc:  # a path the user gave cannot be read or written (-o into a missing or read-only folder)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"symconv {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"symconv {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: one line and exit 3, never 1 (which means "the statement fails")
        if os.environ.get("SYMCONV_DEBUG"):
            raise
        message = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"symconv {args.command}: internal error: {type(exc).__name__}: {message} "
            f"(please report it; SYMCONV_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 3
