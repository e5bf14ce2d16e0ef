"""``symconv check-impl module:function``: check that a convolution function computes the layer.

The first line says how strong the answer is: ``HOLDS (exact)`` (fn ran on a batch of two samples of SymPy
symbols and computed exactly the layer per sample, and numeric runs on non-integer, permuted and fresh batches
agreed within the rounding bound: proved for a deterministic per-sample map, on every call made),
``AGREES (sampled, exact values)`` or ``AGREES (sampled, within atol …)`` (fn was probed with numbers: no
difference found, not a proof), or ``FAILS``.

Any number of spatial axes: ``--input 16 --ndim 1`` checks a Conv1d (e.g. ``torch.nn.functional:conv1d
--pass-params``), ``--input 8x8x8`` a Conv3d; ``--layout`` and ``--weight-layout`` take the names of that ndim
(NCL/NLC, NCDHW/NDHWC, OIL/LIO, OIDHW/DHWIO), and a name of another ndim is a one-line error (exit 2).

``--padding-mode reflect`` (or replicate, circular) checks a layer that pads like ``nn.Conv2d(padding_mode=…)``:
fn gets x unpadded and must pad it itself; PyTorch's limits (reflect: padding < input size) are exit-2 errors.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from ...check.options import BACKENDS, DTYPES, IMPLEMENTATION_METHODS, LAYOUTS, SIGNATURES, WEIGHT_LAYOUTS
from ...core.choices import PADDING_MODES
from ...errors import SpecError
from ._spec_args import add_spec_arguments, spec_from_args, transposed_from_args

NAME = "check-impl"
HELP = ("check that fn(x, weight, bias) in MODULE:FUNCTION computes the layer: HOLDS (exact) or AGREES (sampled) "
        "exit 0, FAILS (fn wrong, or fn raised) exit 1, bad input to symconv exit 2")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="MODULE:FUNCTION",
                        help="the function, e.g. mypkg.layers:conv or path/to/file.py:conv (attributes may be dotted)")
    add_spec_arguments(parser)
    parser.add_argument("--transposed", action="store_true",
                        help="the layer is a ConvTranspose (PyTorch's semantics; weight (C_in, C_out/groups, *kernel))")
    parser.add_argument("--output-padding", default=None, metavar="A", help="ConvTranspose output_padding (with --transposed)")
    parser.add_argument("--padding-mode", default="zeros", choices=PADDING_MODES,
                        help="PyTorch's padding_mode: x padded with zeros, reflect, replicate or circular (default zeros)")
    g = parser.add_argument_group("calling the function")
    g.add_argument("--layout", default="auto", choices=LAYOUTS, metavar="LAYOUT",
                   help="x and y layout for the layer's ndim: 1-D NCL, CL, NLC, LC; 2-D NCHW, CHW, NHWC, HWC; 3-D NCDHW, "
                        "CDHW, NDHWC, DHWC; beyond, NC..., C..., N...C, ...C (default auto: batched channels-first, "
                        "then unbatched)")
    g.add_argument("--weight-layout", default="auto", choices=WEIGHT_LAYOUTS, metavar="WLAYOUT",
                   help="weight layout: OIL/LIO, OIHW/HWIO, OIDHW/DHWIO (default auto: PyTorch's (C2, C1/g, *kernel))")
    g.add_argument("--backend", default="auto", choices=BACKENDS, help="arrays passed to the function (default auto)")
    g.add_argument("--pass-params", action="store_true",
                   help="also pass stride=, padding=, dilation=, groups= (e.g. torch.nn.functional:conv2d)")
    g.add_argument("--signature", default="auto", metavar="CONVENTION",
                   help=f"how the function takes its arguments: {', '.join(SIGNATURES)} or module:WEIGHT,BIAS "
                        "(attribute paths, e.g. module:parameters[W],parameters[b]); default auto, from its parameters")
    g.add_argument("--method", default="auto", choices=IMPLEMENTATION_METHODS, help="how to read its form (default auto)")
    g.add_argument("--time-budget", type=float, default=10.0, metavar="SECONDS",
                   help="seconds --method auto aims for: the first calls are timed and one-hot reading is used only "
                        "if it fits (default 10)")
    g.add_argument("--dtype", default="float64", choices=DTYPES, help="dtype of the probes (default float64)")
    g.add_argument("--seed", type=int, default=0, help="seed of the random probes (default 0)")
    g.add_argument("--atol", type=float, default=None,
                   help="absolute tolerance, overriding the derived rounding bound γₙ·Σ|ω||x| of the dtype "
                        "(0: every comparison exact)")
    parser.add_argument("--require-exact", action="store_true",
                        help="exit 1 unless the check is a proof (HOLDS (exact)): fn, run on two samples of symbols, "
                             "computed the layer exactly per sample, and numeric runs (non-integer, permuted and "
                             "fresh batches) agreed within the rounding bound; it assumes fn is a deterministic "
                             "per-sample map — state or value branches no call reached would escape it")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


class TargetRaised(Exception):
    """The user's module raised while being imported (e.g. Python 2 syntax): a failure of the code checked, exit 1."""


def load_target(target: str) -> Callable[..., Any]:
    """The callable named by ``module:attr`` or ``file.py:attr``; SpecError naming what is wrong with the target,
    TargetRaised when the user's module itself raises on import."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise SpecError(f"target must be MODULE:FUNCTION (e.g. mypkg.conv:forward), got {target!r}")
    if module_name.endswith(".py"):
        if not os.path.isfile(module_name):
            raise SpecError(f"target: no such file {module_name!r}")
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(module_name))[0], module_name)
        if spec is None or spec.loader is None:
            raise SpecError(f"target: {module_name!r} cannot be imported as a Python file")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise TargetRaised(f"importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
    else:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules in the current directory are found
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                raise SpecError(f"target: cannot import module {module_name!r} ({type(exc).__name__}: {exc})") from None
            raise TargetRaised(f"importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
        except Exception as exc:
            raise TargetRaised(f"importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
        finally:
            sys.path.remove(os.getcwd())
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SpecError(f"target: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj) and not hasattr(obj, "forward"):
        raise SpecError(f"target: {target!r} is a {type(obj).__name__}, not a function or a layer object")
    return obj


def run(args: argparse.Namespace) -> int:
    from ...check.implementation import verify_implementation  # the library loads here, after the arguments parsed

    if args.output_padding is not None and not args.transposed:
        raise SpecError("--output-padding is for --transposed layers only")
    if args.padding_mode != "zeros" and args.transposed:
        raise SpecError(f"--padding-mode must be 'zeros' for --transposed (ConvTranspose pads with zeros only), got "
                        f"{args.padding_mode!r}")
    spec = transposed_from_args(args) if args.transposed else spec_from_args(args)
    try:
        fn = load_target(args.target)
    except TargetRaised as exc:  # the code checked fails before it can be called: FAILS, exit 1
        if args.json:
            print(json.dumps({"target": args.target, "holds": False, "status": "FAILS", "proved": False,
                              "diagnosis": [{"code": "raised", "part": "call", "message": str(exc), "exact": True}]},
                             indent=2, ensure_ascii=False))
        else:
            print(f"{args.target}: FAILS\n  diagnosis:\n    - raised: {exc}")
        return 1
    result = verify_implementation(
        fn, spec, layout=args.layout, weight_layout=args.weight_layout, backend=args.backend, method=args.method,
        dtype=args.dtype, pass_params=args.pass_params, seed=args.seed, atol=args.atol, signature=args.signature,
        time_budget=args.time_budget,
    )
    if args.json:
        print(json.dumps({"target": args.target, **result.to_dict()}, indent=2, ensure_ascii=False))
    else:
        print(result.describe())
        if args.require_exact and result.holds and not result.proved:
            print(f"  --require-exact: {result.status} is not a proof (method {result.method}); exit 1")
    return 0 if (result.proved if args.require_exact else result.holds) else 1
