"""``symconv verify``: prove conv(x) = 𝒲x + b for one layer — or, with a flag, one of the identities of issue 11.

* (no flag) the forward identity, :func:`symconv.prove.verify.verify`;
* ``--transposed [--output-padding A]`` conv_transpose(y) = 𝒲ᵀy + b = the zero-insertion direct convolution
  (:func:`symconv.prove.transposed.prove_transposed`); the layer flags then describe the ConvTranspose layer;
* ``--backward`` ∂L/∂x = 𝒲ᵀg, ∂L/∂ω = xcorr(x, g), ∂L/∂b = Σ g (:func:`symconv.prove.backward.prove_backward`);
* ``--padding-mode M`` (reflect, replicate, circular) 𝒲_M = 𝒲_valid · P_M
  (:func:`symconv.prove.padding_modes.prove_padding_mode`);
* ``--circular-theorem`` the DFT diagonalises the circular layer (:func:`symconv.prove.padding_modes.prove_circular_theorem`).

Exit 0 holds, 1 fails, 2 bad input (one line, naming the flag). Library imports stay inside :func:`run`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ...core.choices import ORDERS, PADDING_MODES
from ...errors import SpecError
from ...prove.verify import METHODS
from ..progress import progress_bar
from ._spec_args import add_spec_arguments, spec_from_args, transposed_from_args

NAME = "verify"
HELP = ("prove conv(x) = Wx + b exactly for one layer, or a transposed/backward/padding-mode identity "
        "(exit 0 holds, 1 fails, 2 bad input)")

#: method="auto" for the identities of issue 11: SymPy up to this many terms of the layer, integer triples above
AUTO_SYMPY_TERMS = 20_000
_CHECKS = ("transposed", "backward", "circular_theorem")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--method", default="auto", choices=METHODS, help="proof engine (default auto)")
    parser.add_argument("--order", default=None, choices=ORDERS, help="row order of W (default channel_major)")
    parser.add_argument("--max-terms", type=int, default=None, help="refuse checks larger than this many terms")
    parser.add_argument(
        "--matrix", metavar="FILE.json",
        help="check this hand-typed W instead of the built one: a JSON list of d_y rows of d_x entries such as "
        "0 or '2*omega_0,0,1,1' (rows in --order)",
    )
    parser.add_argument("--bias-vector", metavar="FILE.json", help="check this b (a JSON list of d_y entries such as 'b_0')")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (it shows on a terminal only, after 2 s, never with --json)")
    extra = parser.add_argument_group("beyond the forward identity (at most one of the first three)")
    extra.add_argument("--transposed", action="store_true",
                       help="the layer is a ConvTranspose: prove conv_transpose(y) = W^T y + b = zero insertion")
    extra.add_argument("--backward", action="store_true", help="prove the backprop identities for dL/dx, dL/dw, dL/db")
    extra.add_argument("--circular-theorem", action="store_true",
                       help="prove that the DFT diagonalises the circular layer (stride 1, output size = input size)")
    extra.add_argument("--output-padding", default=None, metavar="A", help="ConvTranspose output_padding (with --transposed)")
    extra.add_argument("--padding-mode", default="zeros", choices=PADDING_MODES,
                       help="PyTorch's padding_mode; not zeros: prove W_mode = W_valid P_mode (default zeros)")


def _check_combination(args: argparse.Namespace) -> str | None:
    """The identity the flags ask for (None: the forward one); SpecError naming the flags of a bad combination."""
    asked = [c for c in _CHECKS if getattr(args, c)]
    if len(asked) > 1:
        raise SpecError(f"--{asked[0].replace('_', '-')} and --{asked[1].replace('_', '-')} are separate checks: give one")
    check = asked[0] if asked else ("padding_mode" if args.padding_mode != "zeros" else None)
    flag = "--" + (check or "").replace("_", "-")
    if args.output_padding is not None and check != "transposed":
        raise SpecError("--output-padding needs --transposed (it is a ConvTranspose parameter)")
    if check is None:
        return None
    for given, name in ((args.matrix, "--matrix"), (args.bias_vector, "--bias-vector"), (args.order, "--order"),
                        (args.max_terms, "--max-terms")):
        if given is not None:
            raise SpecError(f"{name} is for the forward identity conv(x) = Wx + b; it cannot be combined with {flag}")
    allowed = {"circular_theorem": ("zeros", "circular"), "backward": ("zeros", "reflect", "replicate", "circular")}
    if check != "padding_mode" and args.padding_mode not in allowed.get(check, ("zeros",)):
        why = {"transposed": "PyTorch's ConvTranspose pads with zeros only",
               "circular_theorem": "only circular padding is diagonalised by the DFT"}[check]
        raise SpecError(f"--padding-mode {args.padding_mode} cannot be combined with {flag}: {why}")
    if check in ("backward", "circular_theorem") and args.method == "index":
        raise SpecError(f"{flag} is proved with SymPy: --method must be 'auto' or 'sympy', got 'index'")
    return check


def _identity(args: argparse.Namespace, check: str) -> Any:
    """The IdentityProof of ``check`` for the layer the arguments describe."""
    if check == "transposed":
        from ...prove.transposed import prove_transposed

        args.output_padding = args.output_padding or "0"
        layer = transposed_from_args(args)
        return prove_transposed(layer, method=_method(args.method, layer.forward_spec().n_terms <= AUTO_SYMPY_TERMS))
    if check == "circular_theorem":
        from ...prove.padding_modes import prove_circular_theorem

        args.padding_mode = "circular"
        return prove_circular_theorem(spec_from_args(args))
    spec = spec_from_args(args)
    if check == "backward":
        from ...prove.backward import prove_backward

        return prove_backward(spec)
    from ...prove.padding_modes import prove_padding_mode

    return prove_padding_mode(spec, method=_method(args.method, spec.n_terms <= AUTO_SYMPY_TERMS))


def _method(method: str, small: bool) -> str:
    return ("sympy" if small else "index") if method == "auto" else method


def run(args: argparse.Namespace) -> int:
    check = _check_combination(args)
    if check is not None:
        proof = _identity(args, check)
        print(json.dumps(proof.to_dict(), indent=2, ensure_ascii=False) if args.json else proof.describe())
        return 0 if proof.holds else 1
    from ...prove.verify import verify  # the library loads here, after the arguments parsed
    from ._matrix_file import read_matrix

    spec = spec_from_args(args)
    matrix = read_matrix(args.matrix, "--matrix") if args.matrix else None
    bias = read_matrix(args.bias_vector, "--bias-vector") if args.bias_vector else None
    order = args.order or "channel_major"
    with progress_bar(args) as progress:
        verdict = verify(spec, method=args.method, order=order, max_terms=args.max_terms, matrix=matrix, bias=bias,
                         progress=progress)
    print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False) if args.json else verdict.describe())
    return 0 if verdict.holds else 1
