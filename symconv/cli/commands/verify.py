"""``symconv verify``: prove conv(x) = 𝒲x + b for one layer."""

from __future__ import annotations

import argparse
import json

from ...core.orders import ORDERS
from ...prove.verify import METHODS
from ._spec_args import add_spec_arguments, spec_from_args

NAME = "verify"
HELP = "prove conv(x) = Wx + b exactly for one layer (exit 0 holds, 1 fails, 2 bad input)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--method", default="auto", choices=METHODS, help="proof engine (default auto)")
    parser.add_argument("--order", default="channel_major", choices=ORDERS, help="row order of W (default channel_major)")
    parser.add_argument("--max-terms", type=int, default=None, help="refuse checks larger than this many terms")
    parser.add_argument(
        "--matrix", metavar="FILE.json",
        help="check this hand-typed W instead of the built one: a JSON list of d_y rows of d_x entries such as "
        "0 or '2*omega_0,0,1,1' (rows in --order)",
    )
    parser.add_argument("--bias-vector", metavar="FILE.json", help="check this b (a JSON list of d_y entries such as 'b_0')")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")


def run(args: argparse.Namespace) -> int:
    from ...prove.verify import verify  # the library loads here, after the arguments parsed
    from ._matrix_file import read_matrix

    spec = spec_from_args(args)
    matrix = read_matrix(args.matrix, "--matrix") if args.matrix else None
    bias = read_matrix(args.bias_vector, "--bias-vector") if args.bias_vector else None
    verdict = verify(spec, method=args.method, order=args.order, max_terms=args.max_terms, matrix=matrix, bias=bias)
    print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False) if args.json else verdict.describe())
    return 0 if verdict.holds else 1
