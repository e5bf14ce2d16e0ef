"""``symconv rf``: the receptive field of a stack of conv/pool layers, from text, a JSON file or a torch module."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from ...errors import SpecError
from ._spec_args import parse_sizes

NAME = "rf"
HELP = ("receptive field of a stack of conv/pool/transposed conv layers: size, stride, padding, regions "
        "(exit 0, 1 check fails or cannot pin the field, 2 bad input)")

EPILOG = """\
LAYERS, one argument per layer, in order from the input:
  KIND:k=K[,s=S][,p=P][,d=D][,op=A][,mode=M]   KIND is conv, maxpool, avgpool or tconv (transposed conv)
  k kernel (required), s stride (default 1, also for pooling), p padding (default 0; conv also
  same/valid), d dilation (default 1; not for avgpool), op output padding (tconv only, default 0),
  mode PyTorch's padding_mode (conv only): zeros (default), reflect, replicate or circular.
  One int for every axis or one per axis joined by x:
    conv:k=3,s=2,p=1   maxpool:k=2,s=2   conv:k=3x1,d=2x1   avgpool:k=3,p=1   tconv:k=3,s=2,p=1,op=1
    conv:k=3,p=1,mode=circular
  Behind a tconv with stride > 1, or a padded conv with mode reflect/replicate/circular, no single
  size/stride/padding is exact (printed as ?, with the reason); --index then gives the exact region
  from masks (needs --input).

--json-file F: a list of layers, or {"input_size": [H, W], "layers": [...]}; a layer is a string as
  above, {"kind": "conv", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1, "padding_mode": "circular"}, or
  {"branches": [[...], [...], []], "merge": "add"|"concat"} (paths that merge; [] is an identity).
--module pkg.mod:attr: a torch.nn.Module instance (or a class/function returning one, called with no
  arguments), traced with torch.fx: Conv1d/2d/3d (any padding_mode), ConvTranspose1d/2d/3d, MaxPool, AvgPool, pointwise
  layers, + and cat.

Indices are 0-based; positions before 0 or past the end of a map are padding.

--check compares size, stride and padding with the product of the layers' W matrices, and with the
same product with every padding cell kept as a position (with padding modes: the exact sets and
region masks against the product of the W_mode = W_valid·P patterns). It prints AGREES (exit 0), DISAGREES (exit
1), or UNDETERMINED (exit 1) when the output has one position along an axis, so that no stride can be
read off there.

examples:
  symconv rf conv:k=3,p=1 conv:k=3,p=1 maxpool:k=2,s=2 --input 32x32 --index 5x5
  symconv rf --json-file stack.json --json
  symconv rf --module torchvision.models:resnet18 --input 224
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("layers", nargs="*", metavar="LAYERS", help="layers in the text syntax below")
    parser.add_argument("--json-file", metavar="F", help="read the layers from a JSON file")
    parser.add_argument("--module", metavar="pkg.mod:attr", help="read the layers from a torch.nn.Module")
    parser.add_argument("--input", metavar="HxW", help="input size (an int or one per axis, e.g. 64x64)")
    parser.add_argument("--index", metavar="JxK", help="also print the region of this output (0-based)")
    parser.add_argument("--check", action="store_true",
                        help="check against the product of the layers' W matrices (needs --input; 1-D/2-D): "
                             "AGREES, DISAGREES or UNDETERMINED")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _load_module(target: str) -> Any:
    path, colon, attr = target.partition(":")
    if not colon or not path or not attr:
        raise SpecError(f"--module must look like pkg.mod:attr, got {target!r}")
    added = os.getcwd() not in sys.path
    if added:  # like `python -m`: modules of the current directory are importable
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(path)
    except ImportError as exc:
        raise SpecError(f"--module: cannot import {path!r} ({exc})") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise SpecError(f"--module: {path!r} has no attribute {attr!r}") from None
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return obj
    if callable(obj):
        try:
            obj = obj()
        except TypeError as exc:
            raise SpecError(f"--module: calling {target!r} with no arguments failed ({exc})") from None
        torch = sys.modules.get("torch")
    if torch is None or not isinstance(obj, torch.nn.Module):
        raise SpecError(f"--module: {target!r} is not a torch.nn.Module (nor returns one), got {type(obj).__name__}")
    return obj


def _sources(args: argparse.Namespace) -> tuple[Any, Any]:
    """(layers, input size from the file or None) from exactly one of LAYERS, --json-file, --module."""
    given = [bool(args.layers), args.json_file is not None, args.module is not None]
    if sum(given) != 1:
        raise SpecError("give the layers in exactly one way: LAYERS…, --json-file F or --module pkg.mod:attr")
    from ...receptive.layers import layers_from_json, parse_layer  # the library loads here, after parsing

    if args.layers:
        return [parse_layer(text) for text in args.layers], None
    if args.json_file is not None:
        try:
            with open(args.json_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise SpecError(f"--json-file: cannot read {args.json_file!r} ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise SpecError(f"--json-file: {args.json_file!r} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return layers_from_json(data)
    return _load_module(args.module), None


def run(args: argparse.Namespace) -> int:
    from ...receptive.field import receptive_field

    layers, file_size = _sources(args)
    input_size = parse_sizes("input", args.input) if args.input is not None else file_size
    rf = receptive_field(layers, input_size)
    index = None
    if args.index is not None:
        index = parse_sizes("index", args.index)
        index = (index,) if isinstance(index, int) else index
    region = None if index is None else rf.region(index)
    check = None
    if args.check:
        from ...receptive.check import check_receptive_field

        check = check_receptive_field(rf)
    if args.json:
        out: dict[str, Any] = rf.to_dict()
        if region is not None:
            out["region"] = region.to_dict()
        if check is not None:
            out["check"] = check.to_dict()
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(rf.describe())
        if region is not None:
            print(region.describe())
        if check is not None:
            print(check.describe())
    return 1 if check is not None and not check.holds else 0
