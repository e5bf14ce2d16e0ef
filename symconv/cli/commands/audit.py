"""``symconv audit``: check every claim of the lecture note by computation and print the verdicts."""

from __future__ import annotations

import argparse

from ...claims.defaults import DEFAULT_MAX_SIZE, MAX_SIZES
from ..progress import progress_bar

NAME = "audit"
HELP = (
    "check each claim of the lecture note by computation (exit 0 every claim holds as written, "
    "1 some claim fails — its counterexample and checked correction are printed —, 2 bad input)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print the list of claims as JSON (id, as_written, holds, evidence, correction, precise, remarks)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch cross-checks even when PyTorch is installed")
    parser.add_argument(
        "--max-size", type=int, default=DEFAULT_MAX_SIZE, metavar="N",
        help=f"largest H and W of the grid of layers searched ({MAX_SIZES[0]}..{MAX_SIZES[-1]}, default {DEFAULT_MAX_SIZE})",
    )
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (it shows on a terminal only, after 2 s, never with --json)")


def run(args: argparse.Namespace) -> int:
    # the library (SymPy, NumPy, the claims) loads here, after the arguments are read: --help answers at once
    import json

    from ...claims.audit import audit

    with progress_bar(args, unit="claims") as progress:
        result = audit(torch=False if args.no_torch else None, max_size=args.max_size, progress=progress)
    if args.json:  # the list of claims, as the issue asks; Audit.to_dict() adds timing and grid size
        print(json.dumps([c.to_dict() for c in result.claims], indent=2, ensure_ascii=False))
    else:
        print(result.describe())
    # as for verify: 1 when a checked statement fails (here: a claim as the note writes it)
    return 1 if result.failing else 0
