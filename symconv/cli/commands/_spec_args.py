"""Shared command-line arguments that describe one convolution layer (a ConvSpec)."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from ...errors import SpecError

if TYPE_CHECKING:
    from ...core.spec import ConvSpec


def parse_sizes(name: str, text: str) -> int | tuple[int, ...]:
    """``"5"`` → 5, ``"5x7"`` (or ``5×7``, ``5,7``) → (5, 7); a one-line SpecError otherwise."""
    parts = re.split(r"[x×,]", text.strip())
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError(f"{name} must be an int or HxW with ints (e.g. 3 or 3x5), got {text!r}") from None
    return values[0] if len(values) == 1 else values


def whole_number(text: str) -> int:
    """argparse type: an int written in decimal; the range is ConvSpec's to check (one message for both)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int ≥ 1, got {text!r}") from None


def add_spec_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--in-channels, --out-channels, --input, --kernel, --stride, --padding, --dilation, --groups, --bias.

    ``required=False`` for commands where a layer is one of several inputs (``symconv report``).
    """
    g = parser.add_argument_group("layer")
    g.add_argument("--in-channels", type=whole_number, required=required, metavar="C1", help="input channels C₁")
    g.add_argument("--out-channels", type=whole_number, required=required, metavar="C2", help="output channels C₂")
    g.add_argument("--input", required=required, metavar="HxW", help="input size, e.g. 5x5 (or 5)")
    g.add_argument("--kernel", required=required, metavar="hxw", help="kernel size, e.g. 3x3 (or 3)")
    g.add_argument("--stride", default="1", metavar="S", help="stride: S or SHxSW (default 1)")
    g.add_argument("--padding", default="0", metavar="P", help="padding: P, PHxPW, 'valid' or 'same' (default 0)")
    g.add_argument("--dilation", default="1", metavar="D", help="dilation: D or DHxDW (default 1)")
    g.add_argument("--groups", type=whole_number, default=1, metavar="G", help="groups (default 1)")
    g.add_argument("--bias", default="shared", choices=["shared", "per_location", "none"], help="bias mode (default shared)")


def spec_from_args(args: argparse.Namespace) -> ConvSpec:
    """The ConvSpec the layer arguments describe; SpecError on bad values."""
    from ...core.spec import ConvSpec  # here, not at the top: `symconv --help` must not load NumPy
    padding: int | tuple[int, ...] | str = (
        args.padding if args.padding in ("same", "valid") else parse_sizes("padding", args.padding)
    )
    return ConvSpec(
        in_channels=args.in_channels,
        out_channels=args.out_channels,
        input_size=parse_sizes("input", args.input),
        kernel_size=parse_sizes("kernel", args.kernel),
        stride=parse_sizes("stride", args.stride),
        padding=padding,
        dilation=parse_sizes("dilation", args.dilation),
        groups=args.groups,
        bias=args.bias,
    )
