"""``symconv verify``: prove conv(x) = 𝒲x + b for one layer."""

from __future__ import annotations

import argparse
import json

from ..symbols import ORDERS
from ..verify import METHODS, verify
from ._spec_args import add_spec_arguments, spec_from_args

NAME = "verify"
HELP = "prove conv(x) = Wx + b exactly for one layer (exit 0 holds, 1 fails, 2 bad input)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--method", default="auto", choices=METHODS, help="proof engine (default auto)")
    parser.add_argument("--order", default="channel_major", choices=ORDERS, help="row order of W (default channel_major)")
    parser.add_argument("--max-terms", type=int, default=None, help="refuse checks larger than this many terms")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    verdict = verify(spec, method=args.method, order=args.order, max_terms=args.max_terms)
    print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False) if args.json else verdict.describe())
    return 0 if verdict.holds else 1
