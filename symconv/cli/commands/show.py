"""``symconv show``: print 𝒲 and its blocks for a small layer."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ...core.choices import ORDERS
from ...errors import TooLargeError
from ._spec_args import add_spec_arguments, spec_from_args

if TYPE_CHECKING:
    from ...core.spec import ConvSpec

NAME = "show"
HELP = "print the note's blocks B, W_{j,k,l}, W_{j,k} and the matrix W for a small layer"

DEFAULT_MAX_SIZE = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--order", default="seed", choices=ORDERS, help="row order of W (default seed, the note's)")
    parser.add_argument(
        "--position", default="0x0", metavar="JxK", help="output position whose blocks to print (0-based, default 0x0)"
    )
    parser.add_argument(
        "--max-size", type=int, default=DEFAULT_MAX_SIZE, metavar="N",
        help=f"refuse to print W when d_y or d_x exceeds N (default {DEFAULT_MAX_SIZE})",
    )
    parser.add_argument("--ascii", action="store_true", help="plain ASCII instead of Unicode")


def run(args: argparse.Namespace) -> int:
    import sympy  # the library loads here, after the arguments parsed

    from ...forms.blocks import bias_vector, blocks, matrix

    spec = spec_from_args(args)
    if spec.d_y > args.max_size or spec.d_x > args.max_size:
        raise TooLargeError(
            f"--max-size: W is {spec.d_y} × {spec.d_x} (d_y × d_x), larger than {args.max_size} × {args.max_size}; "
            f"use a smaller layer, raise --max-size, or 'symconv verify'"
        )
    if spec.ndim != 2:
        return _show_assembled(spec, args)
    try:
        j, k = (int(v) for v in args.position.lower().split("x"))
    except ValueError:
        raise ValueError(f"--position must be JxK with 0-based ints, got {args.position!r}") from None
    rows, cols = spec.output_size
    if not (0 <= j < rows and 0 <= k < cols):
        raise ValueError(
            f"--position must be within 0..{rows - 1} x 0..{cols - 1} (0-based output position), got {args.position!r}"
        )

    def pretty(m: sympy.Basic) -> str:
        return sympy.pretty(m, use_unicode=not args.ascii, wrap_line=False)

    b = blocks(spec)
    print(spec.describe())
    print("Indices are 0-based; the note's 1-based j, k, l are these plus one.\n")
    for l in range(spec.in_channels):
        for label, block in b.row_blocks(j, k, l):
            if label != "O":
                print(f"{label} (C₂ × W = {block.shape[0]} × {block.shape[1]}):\n{pretty(block)}\n")
        print(f"W_{{{j},{k},{l}}} (C₂ × HW):\n{pretty(b.W(j, k, l))}\n")
    print(f"W_{{{j},{k}}} (C₂ × C₁HW):\n{pretty(b.W(j, k))}\n")
    print(f"W ({args.order} rows, d_y × d_x = {spec.d_y} × {spec.d_x}):\n{pretty(matrix(spec, args.order))}\n")
    print(f"b ({args.order} rows):\n{pretty(bias_vector(spec, args.order).T)}")
    return 0


def _show_assembled(spec: ConvSpec, args: argparse.Namespace) -> int:
    """Outside 2-D the note's blocks do not exist: 𝒲 assembled from per-axis parts, and b."""
    import sympy

    from ...forms.assembly import assembled_matrix
    from ...forms.blocks import bias_vector

    def pretty(m: sympy.Basic) -> str:
        return sympy.pretty(m, use_unicode=not args.ascii, wrap_line=False)

    print(spec.describe())
    print(f"The note's blocks are 2-D; W of this {spec.ndim}-D layer is assembled from per-axis parts. Indices 0-based.\n")
    print(f"W ({args.order} rows, d_y × d_x = {spec.d_y} × {spec.d_x}):\n{pretty(assembled_matrix(spec, args.order))}\n")
    print(f"b ({args.order} rows):\n{pretty(bias_vector(spec, args.order).T)}")
    return 0
