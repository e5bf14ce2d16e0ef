"""``symconv counts``: parameters, sizes, nonzeros and cost of one layer, from the derived closed forms.

Any number of spatial axes (``--input 16 --ndim 1``, ``--input 8x8x8``); ``--transposed [--output-padding A]``
counts a ConvTranspose layer; ``--padding-mode reflect|replicate|circular`` counts nnz(𝒲_mode) of a padded layer
(:mod:`symconv.closed.mode_counts`: a closed form for circular, an exact count per axis otherwise). Library
imports stay inside :func:`run` (``--help`` loads no SymPy).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ...errors import SpecError
from ._spec_args import add_spec_arguments, spec_from_args, transposed_from_args

NAME = "counts"
HELP = "parameters, output size, nnz(W), density and multiply-adds of one layer from SymPy-derived formulas (exit 2 bad input)"

SHOWN = ("d_x", "d_y", "params_conv_shared", "params_conv_per_location", "params_conv_none", "params_fc", "params_local",
         "macs_dense")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("--derivations", action="store_true", help="also print each formula's derivation steps")
    parser.add_argument("--transposed", action="store_true", help="the layer is a ConvTranspose (PyTorch's semantics)")
    parser.add_argument("--output-padding", default=None, metavar="A", help="ConvTranspose output_padding (with --transposed)")
    parser.add_argument("--padding-mode", default="zeros", choices=("zeros", "reflect", "replicate", "circular"),
                        help="PyTorch's padding_mode: changes nnz(W) only (default zeros)")


def _print_transposed(args: argparse.Namespace) -> int:
    from ...closed.counts import transposed_counts

    args.output_padding = args.output_padding or "0"
    result = transposed_counts(transposed_from_args(args))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(result.spec.describe())
    rows = [("output size", "×".join(map(str, result.output_size))), ("d_in, d_out", f"{result.d_in:,}, {result.d_out:,}"),
            ("parameters (weights + bias)", f"{result.params:,} = {result.params_weights:,} + {result.params_bias:,}"),
            ("nnz(W^T) = multiply-adds", f"{result.nnz:,}"), ("multiply-adds, every tap", f"{result.macs_dense:,}")]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")
    return 0


def _print_mode(result: Any, as_json: bool) -> int:
    """A reflect / replicate / circular layer: the counts, and N_a per axis with how it was obtained."""
    from ...closed.mode_counts import mode_axis_counts

    axes = mode_axis_counts(result.spec)
    if as_json:
        data = result.to_dict()
        data["nnz_axes"] = [{"axis": a.axis, "pairs": a.pairs, "taps": a.taps, "merged": a.merged, "method": a.method}
                            for a in axes]
        data["mode_independent"] = ["output_size", "params", "macs_dense"]
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(result.spec.describe())
    rows = [("output size", "×".join(map(str, result.output_size))), ("d_x, d_y", f"{result.d_x:,}, {result.d_y:,}"),
            ("parameters (weights + bias)", f"{result.params:,} = {result.params_weights:,} + {result.params_bias:,}"),
            ("multiply-adds, every tap", f"{result.macs_dense:,}"),
            ("nnz(W_mode)", f"{result.nnz:,}   [{result.nnz_formula}]"),
            ("density nnz/(d_x·d_y)", f"{result.density} ≈ {float(result.density):.3g}")]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")
    print("\noutput size, parameters and multiply-adds do not depend on padding_mode; nnz(W_mode) = C2·(C1/g)·Π N_a, "
          "N_a = (output position, input cell) pairs a tap joins on axis a:")
    for a in axes:
        print(f"  {a.axis}: N = {a.pairs:,} of {a.taps:,} taps ({a.merged:,} merged), {a.method}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.transposed:
        if args.padding_mode != "zeros":
            raise SpecError(f"--padding-mode {args.padding_mode} cannot be combined with --transposed: "
                            f"PyTorch's ConvTranspose pads with zeros only")
        return _print_transposed(args)
    if args.output_padding is not None:
        raise SpecError("--output-padding needs --transposed (it is a ConvTranspose parameter)")
    import sympy  # the library loads here, after the arguments parsed

    from ...closed.counts import counts, formula, output_names

    spec = spec_from_args(args)
    result = counts(spec)
    if spec.padding_mode != "zeros":
        if args.derivations:
            raise SpecError("--derivations shows SymPy derivations, which exist for --padding-mode zeros only")
        return _print_mode(result, args.json)
    ndim = spec.ndim

    def f(name: str) -> Any:
        return formula(name, ndim)

    names = (*output_names(ndim), *SHOWN, result.nnz_formula)
    if args.json:
        data = result.to_dict()
        data["formulas"] = {name: str(f(name).expr) for name in names}
        if args.derivations:
            data["derivations"] = {name: [[s.label, str(s.expr)] for s in f(name).steps] for name in names}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(spec.describe())
    rows = [
        ("output size", "×".join(map(str, result.output_size)), ", ".join(output_names(ndim))),
        ("d_x, d_y", f"{result.d_x:,}, {result.d_y:,}", "d_x, d_y"),
        *((f"parameters, bias {mode}", f"{n:,}", f"params_conv_{mode}") for mode, n in result.params_by_bias),
        ("parameters, fully connected", f"{result.params_fc:,}", "params_fc"),
        ("parameters, locally connected", f"{result.params_local:,}", "params_local"),
        ("nnz(W) = multiply-adds", f"{result.nnz:,}", result.nnz_formula),
        ("density nnz/(d_x·d_y)", f"{result.density} ≈ {float(result.density):.3g}", result.nnz_formula),
        ("multiply-adds, every tap", f"{result.macs_dense:,}", "macs_dense"),
        ("parameters conv / FC", f"{result.ratio_fc} ≈ {float(result.ratio_fc):.3g}", f"params_conv_{spec.bias} / params_fc"),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    for label, value, name in rows:
        print(f"  {label.ljust(width)}  {value.rjust(value_width)}   [{name}]")
    print("\nclosed forms (derived by SymPy; primed sizes such as H', W' are the output sizes):")
    for name in names:
        print(f"  {name} = {sympy.sstr(f(name).expr)}")
        if args.derivations:
            for step in f(name).steps:
                print(f"      {step.label}: {sympy.sstr(step.expr)}")
    return 0
