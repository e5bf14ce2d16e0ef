"""``symconv prove``: conv(x) = 𝒲x + b for all sizes (or a claimed entry formula), Z3 + SymPy; with
``--transposed`` also conv_transpose(y) = 𝒲ᵀy + b_T, with ``--backward`` also the backprop identities.

Options fix what is concrete; every size not given stays a symbol. Exit 0 proved, 1 refuted (with a
counterexample) or undetermined, 2 bad input.
"""

from __future__ import annotations

import argparse

from ...core.choices import ORDERS
from ...errors import SpecError
from ...prove.names import BIAS_MODES, CONSTRUCTION_NAMES, ENTRY_NAMES
from ._spec_args import parse_sizes, whole_number

NAME = "prove"
HELP = ("prove conv(x) = Wx + b for ALL sizes not given (Z3 + SymPy), or a claimed --entry formula "
        "(exit 0 proved, 1 refuted or undetermined, 2 bad input)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("fixed sizes (anything not given stays symbolic)")
    g.add_argument("--in-channels", type=whole_number, metavar="C1", help="input channels C₁")
    g.add_argument("--out-channels", type=whole_number, metavar="C2", help="output channels C₂")
    g.add_argument("--input", metavar="HxW", help="input size, e.g. 5x5 (or 5)")
    g.add_argument("--kernel", metavar="hxw", help="kernel size, e.g. 3x3 (or 3)")
    g.add_argument("--stride", metavar="S", help="stride: S or SHxSW")
    g.add_argument("--padding", metavar="P", help="padding (zeros on both sides): P or PHxPW")
    g.add_argument("--dilation", metavar="D", help="dilation: D or DHxDW")
    g.add_argument("--groups", type=whole_number, metavar="G", help="groups")
    parser.add_argument("--bias", default="shared", choices=BIAS_MODES,
                        help="bias mode (default shared)")
    parser.add_argument("--order", default="channel_major", choices=ORDERS, help="row order of W (default channel_major)")
    parser.add_argument("--entry", metavar="EXPR",
                        help="a claimed formula for W's entries in " + ", ".join(ENTRY_NAMES)
                        + ", sizes (C_1, H, s_h, …) and Piecewise/KroneckerDelta/floor/Mod/Eq/And/…")
    parser.add_argument("--construction", default="blocks", choices=CONSTRUCTION_NAMES,
                        help="block construction to prove (the others are negative controls; default blocks)")
    parser.add_argument("--rechecks", type=int, default=50, metavar="N",
                        help="concrete layers every step is re-checked on (default 50)")
    parser.add_argument("--transposed", action="store_true",
                        help="also prove conv_transpose(y) = W^T y + b_T for all sizes (PyTorch's output_padding a)")
    parser.add_argument("--output-padding", metavar="A",
                        help="fix the transposed layer's output_padding: A or AHxAW (needs --transposed or --backward)")
    parser.add_argument("--backward", action="store_true",
                        help="also prove the backprop identities dL/dx = W^T g = conv_transpose(g), dL/dw, dL/db "
                             "(adds the transposed steps, which they cite)")
    parser.add_argument("--closed", action="store_true",
                        help="also prove the closed forms: nnz(W), parameter counts, receptive fields")
    parser.add_argument("--json", action="store_true", help="print the proof as JSON")


def _fixed(args: argparse.Namespace) -> dict[str, object]:
    fixed: dict[str, object] = {"in_channels": args.in_channels, "out_channels": args.out_channels,
                                "groups": args.groups}
    for name, option in (("input_size", "input"), ("kernel_size", "kernel"), ("stride", "stride"),
                         ("padding", "padding"), ("dilation", "dilation"), ("output_padding", "output_padding")):
        text = getattr(args, option)
        if text is None:
            continue
        if option == "padding" and text.strip() in ("same", "valid"):
            raise SpecError(f"padding must be P or PHxPW (zeros on both sides) for the all-size proof, got {text!r}")
        fixed[name] = parse_sizes(option, text)
    return fixed


def run(args: argparse.Namespace) -> int:
    if args.rechecks < 1:
        raise SpecError(f"rechecks must be an int ≥ 1, got {args.rechecks}")
    # the library (SymPy, NumPy, Z3) loads here, after the arguments are read: --help and usage errors answer at once
    from ...prove.general import prove_closed_forms, prove_general

    identities = ("forward",) + ("transposed",) * args.transposed + ("backward",) * args.backward
    proof = prove_general(_fixed(args), entry=args.entry, order=args.order, bias=args.bias,
                          construction=args.construction, rechecks=args.rechecks, identities=identities)
    proofs = [proof]
    if args.closed:
        proofs.append(prove_closed_forms(rechecks=args.rechecks))
    if args.json:
        import json

        data = proof.to_dict() if len(proofs) == 1 else [p.to_dict() for p in proofs]
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(p.describe() for p in proofs))
        failed = proof.failed_step
        if proof.counterexample is not None and failed is not None:
            print(f"counterexample at step {failed.name}: {proof.counterexample.describe()}")
    return 0 if all(p.holds for p in proofs) else 1
