"""``symconv audit``: check every claim of the lecture note by computation and print the verdicts."""

from __future__ import annotations

import argparse
import json

from ..audit import DEFAULT_MAX_SIZE, audit

NAME = "audit"
HELP = "check each claim of the lecture note by computation (exit 0 when the audit ran, whatever it found; 2 bad input)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the list of claims as JSON")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch cross-checks even when PyTorch is installed")
    parser.add_argument(
        "--max-size", type=int, default=DEFAULT_MAX_SIZE, metavar="N",
        help=f"largest H and W of the grid of layers searched (1..6, default {DEFAULT_MAX_SIZE})",
    )


def run(args: argparse.Namespace) -> int:
    result = audit(torch=False if args.no_torch else None, max_size=args.max_size)
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if args.json else result.describe())
    return 0
