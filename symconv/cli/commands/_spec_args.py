"""Shared command-line arguments that describe one convolution layer (a ConvSpec, or a ConvTransposeSpec).

The number of spatial axes comes from the sizes: ``--input 8x8x8`` is a Conv3d input, and ``--kernel``,
``--stride``, ``--padding``, ``--dilation`` then take one size (repeated on every axis) or one per axis. When every
size is a bare int (``--input 16 --kernel 3``) the layer is 2-D, as ``ConvSpec(…, input_size=16)`` is, unless
``--ndim N`` says otherwise (``--input 16 --ndim 1`` is a Conv1d of length 16). This module stays light: no
NumPy or SymPy until a spec is built.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from ...errors import SpecError

if TYPE_CHECKING:
    from ...core.spec import ConvSpec
    from ...core.transposed import ConvTransposeSpec

_SIZED = (("input", "--input"), ("kernel", "--kernel"), ("stride", "--stride"), ("padding", "--padding"),
          ("dilation", "--dilation"))


def parse_sizes(name: str, text: str) -> int | tuple[int, ...]:
    """``"5"`` → 5, ``"5x7"`` (or ``5×7``, ``5,7``) → (5, 7), ``"8x8x8"`` → (8, 8, 8); a one-line SpecError otherwise."""
    parts = re.split(r"[x×,]", text.strip())
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError(
            f"{name} must be an int or one int per axis joined by x (e.g. 3, 3x5 or 3x3x3), got {text!r}"
        ) from None
    return values[0] if len(values) == 1 else values


def whole_number(text: str) -> int:
    """argparse type: an int written in decimal; the range is ConvSpec's to check (one message for both)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int ≥ 1, got {text!r}") from None


def add_spec_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--in-channels, --out-channels, --input, --kernel, --stride, --padding, --dilation, --groups, --bias, --ndim.

    ``required=False`` for commands where a layer is one of several inputs (``symconv report``).
    """
    g = parser.add_argument_group("layer")
    g.add_argument("--in-channels", type=whole_number, required=required, metavar="C1", help="input channels C₁")
    g.add_argument("--out-channels", type=whole_number, required=required, metavar="C2", help="output channels C₂")
    g.add_argument("--input", required=required, metavar="HxW",
                   help="input size, one per spatial axis: 16 (with --ndim 1), 5x5, 8x8x8; a bare int is square 2-D")
    g.add_argument("--kernel", required=required, metavar="hxw", help="kernel size, e.g. 3x3 (or 3 on every axis)")
    g.add_argument("--stride", default="1", metavar="S", help="stride: S or one per axis, e.g. 2x1 (default 1)")
    g.add_argument("--padding", default="0", metavar="P", help="padding: P, one per axis, 'valid' or 'same' (default 0)")
    g.add_argument("--dilation", default="1", metavar="D", help="dilation: D or one per axis (default 1)")
    g.add_argument("--groups", type=whole_number, default=1, metavar="G", help="groups (default 1)")
    g.add_argument("--bias", default="shared", choices=["shared", "per_location", "none"], help="bias mode (default shared)")
    g.add_argument("--ndim", type=whole_number, default=None, metavar="N",
                   help="spatial axes when every size is a bare int (default 2; otherwise read from the sizes)")


Sizes = dict[str, int | tuple[int, ...]]


def _sizes(args: argparse.Namespace) -> tuple[Sizes, int | tuple[int, ...] | str]:
    """(input, kernel, stride, dilation by name; padding, 'same'/'valid' kept as words); SpecError naming the flag."""
    ints = {name: parse_sizes(flag, getattr(args, name)) for name, flag in _SIZED if name != "padding"}
    padding = args.padding if args.padding in ("same", "valid") else parse_sizes("--padding", args.padding)
    return ints, padding


def layer_ndim(args: argparse.Namespace, sizes: Sizes, padding: int | tuple[int, ...] | str) -> int | None:
    """The number of spatial axes: from the sizes with several entries (which must agree), else --ndim, else None
    (the library's default for a bare int, 2-D). A one-line SpecError names the flag that disagrees."""
    given = {**sizes, "padding": padding}
    lengths = {name: len(v) for name, v in given.items() if isinstance(v, tuple)}
    ndim = getattr(args, "ndim", None)
    if not lengths:
        return ndim
    first = next(iter(lengths))
    expected = ndim if ndim is not None else lengths[first]
    source = f"--ndim {ndim}" if ndim is not None else f"--{first.replace('_', '-')} {getattr(args, first)}"
    for name, length in lengths.items():
        if length != expected:
            count = "1 size" if expected == 1 else f"1 or {expected} sizes"
            raise SpecError(
                f"--{name.replace('_', '-')} must have {count} (one per spatial axis, as {source} gives), "
                f"got {getattr(args, name)!r}"
            )
    return expected


def spec_from_args(args: argparse.Namespace) -> ConvSpec:
    """The ConvSpec the layer arguments describe (``padding_mode`` from ``--padding-mode`` if the command has it)."""
    from ...core.spec import ConvSpec  # here, not at the top: `symconv --help` must not load NumPy

    sizes, padding = _sizes(args)
    return ConvSpec(
        args.in_channels, args.out_channels, sizes["input"], sizes["kernel"], sizes["stride"], padding,
        sizes["dilation"], args.groups, args.bias, padding_mode=getattr(args, "padding_mode", "zeros"),
        ndim=layer_ndim(args, sizes, padding),
    )


def transposed_from_args(args: argparse.Namespace) -> ConvTransposeSpec:
    """The ConvTransposeSpec the layer arguments describe (``--output-padding``; bias shared or none)."""
    from ...core.transposed import ConvTransposeSpec  # here, not at the top: `symconv --help` must not load NumPy

    sizes, padding = _sizes(args)
    sizes["output_padding"] = parse_sizes("--output-padding", args.output_padding or "0")
    if isinstance(padding, str):
        raise SpecError(f"--padding must be ints for --transposed (ConvTranspose has no 'same'/'valid'), got {padding!r}")
    if args.bias == "per_location":
        raise SpecError("--bias must be 'shared' or 'none' for --transposed (ConvTranspose has one bias per channel), "
                        "got 'per_location'")
    return ConvTransposeSpec(
        args.in_channels, args.out_channels, sizes["input"], sizes["kernel"], sizes["stride"], padding,
        sizes["output_padding"], sizes["dilation"], args.groups, bias=args.bias == "shared",
        ndim=layer_ndim(args, sizes, padding),
    )


def parse_position(text: str, ndim: int = 2) -> tuple[int, ...]:
    """``--position``: one 0-based int per spatial axis joined by x (``5``, ``0x0``, ``1x1x1``); a one-line SpecError
    naming the flag when it is not ints or has the wrong number of axes. Ranges are the layer's to check.

    >>> parse_position("3x4"), parse_position("5", ndim=1)
    ((3, 4), (5,))
    """
    example = "x".join("0" * ndim)
    try:
        values = tuple(int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        shape = "JxK" if ndim == 2 else f"{ndim} ints joined by x" if ndim != 1 else "one int"
        raise SpecError(f"--position must be {shape} with 0-based ints (e.g. {example}), got {text!r}") from None
    if len(values) != ndim:
        raise SpecError(f"--position must have {ndim} index{'es' * (ndim != 1)} (one per spatial axis of the output, "
                        f"e.g. {example}), got {text!r}")
    return values
