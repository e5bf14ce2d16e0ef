"""The calling conventions people write convolutions in, and how fn is called in each.

``signature`` names one (``"auto"`` picks by fn's parameters and attributes):

* ``"x,w,b"`` — ``fn(x, weight, bias)`` (symconv's own; ``pass_params`` adds ``stride=, padding=, dilation=,
  groups=``);
* ``"x,w,b,conv_param"`` — CS231n: ``fn(x, w, b, {"stride": s, "pad": p})`` returning ``(out, cache)``;
* ``"x,w,b,stride,pad"`` — ints after the arrays;
* ``"x,w,stride,pad"`` — no bias (the layer must have ``bias="none"``);
* ``"module"`` or ``"module:WEIGHT,BIAS"`` — an object holding its weights as attributes: a ``torch.nn.Module``
  (``weight``, ``bias``) or any object, e.g. numpy-ml's ``parameters[W]``, ``parameters[b]``. The attributes are
  set (reshaped to the shape they have, e.g. a (1, 1, 1, C₂) bias), then ``fn(x)`` — or ``fn.forward(x)`` for
  an object that is not callable — is called.

Every convention accepts a returned tuple ``(out, cache)``: its first element is the output. Stride and pad
are passed as ints when equal on every spatial axis (1-D, 2-D, 3-D alike), else as one value per axis — (row,
column) pairs in 2-D, (depth, height, width) triples in 3-D; padding that differs before and after cannot be said
in these conventions and is refused.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.spec import ConvSpec
from ..errors import SpecError
from .options import SIGNATURES

__all__ = ["SIGNATURES", "Convention", "adapter_text", "choose_convention"]


_CALLS = {
    "x,w,b": "fn(x, weight, bias)",
    "x,w,b,conv_param": "fn(x, w, b, conv_param) with conv_param = {'stride': s, 'pad': p}, returning (out, cache)",
    "x,w,b,stride,pad": "fn(x, w, b, stride, pad) with ints",
    "x,w,stride,pad": "fn(x, w, stride, pad) without bias",
    "module": "an object with weight attributes (torch.nn.Module: weight, bias; numpy-ml: parameters[W], parameters[b]), "
              "called as fn(x)",
}
_PATH = re.compile(r"[A-Za-z_]\w*(?:\[[^\]]+\])?(?:\.[A-Za-z_]\w*(?:\[[^\]]+\])?)*")


def _steps(path: str) -> list[tuple[str, str]]:
    """``parameters[W]`` → [("attr", "parameters"), ("item", "W")]; ``conv.weight`` → two attrs."""
    out = []
    for part in path.split("."):
        name, _, item = part.partition("[")
        out.append(("attr", name))
        if item:
            out.append(("item", item.rstrip("]").strip("'\"")))
    return out


def _get(obj: Any, path: str) -> Any:
    for kind, name in _steps(path):
        obj = getattr(obj, name) if kind == "attr" else obj[name]
    return obj


def _set(obj: Any, path: str, value: Any) -> None:
    """Set the attribute (or item) at ``path`` to ``value``, keeping its kind: a torch Parameter stays one."""
    steps = _steps(path)
    for kind, name in steps[:-1]:
        obj = getattr(obj, name) if kind == "attr" else obj[name]
    kind, name = steps[-1]
    old = getattr(obj, name) if kind == "attr" else obj[name]
    if old is not None and hasattr(old, "shape") and value is not None and getattr(value, "size", None) is not None:
        count = value.numel() if hasattr(value, "numel") else value.size
        if tuple(old.shape) != tuple(value.shape) and count == int(np.prod(old.shape)):
            value = value.reshape(tuple(old.shape))  # e.g. numpy-ml's (1, 1, 1, C₂) bias
    if old is not None and type(old).__name__ == "Parameter" and hasattr(value, "detach"):
        old.data = value  # keeps the module's Parameter (and its dtype follows the value)
        return
    if kind == "attr":
        setattr(obj, name, value)
    else:
        obj[name] = value


@dataclass(frozen=True)
class Convention:
    """One way of calling fn: its name, and the attribute paths of a module's weight and bias."""

    name: str
    weight_path: str = ""
    bias_path: str = ""

    @property
    def takes_bias(self) -> bool:
        return self.name != "x,w,stride,pad" and not (self.name == "module" and not self.bias_path)

    def describe(self) -> str:
        if self.name == "module":
            return f"an object with weight attribute {self.weight_path!r}" + \
                (f" and bias attribute {self.bias_path!r}" if self.bias_path else " (no bias)") + ", called as fn(x)"
        return _CALLS[self.name]

    def binds(self, fn: Any, kwargs: dict[str, Any]) -> bool:
        """False when fn evidently cannot be called this way (its signature or attributes say so)."""
        if self.name == "module":
            try:
                _get(fn, self.weight_path)
                if self.bias_path:
                    _get(fn, self.bias_path)
            except (AttributeError, KeyError, TypeError):
                return False
            return callable(fn) or hasattr(fn, "forward")
        n_args = {"x,w,b": 3, "x,w,b,conv_param": 4, "x,w,b,stride,pad": 5, "x,w,stride,pad": 4}[self.name]
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):
            return True  # a builtin without a signature: let the call decide
        try:
            signature.bind(*range(n_args), **(kwargs if self.name == "x,w,b" else {}))
        except TypeError:
            return False
        return True

    def call(self, fn: Any, x: Any, w: Any, b: Any, spec: ConvSpec, kwargs: dict[str, Any]) -> Any:
        """fn's output (the first element of a returned tuple) for x, w, b."""
        if self.name == "x,w,b":
            y = fn(x, w, b, **kwargs)
        elif self.name == "module":
            _set(fn, self.weight_path, w)
            if self.bias_path:
                _set(fn, self.bias_path, b)
            y = fn(x) if callable(fn) else fn.forward(x)
        else:
            stride, pad = _stride_pad(spec)
            if self.name == "x,w,b,conv_param":
                y = fn(x, w, b, {"stride": stride, "pad": pad})
            elif self.name == "x,w,b,stride,pad":
                y = fn(x, w, b, stride, pad)
            else:
                y = fn(x, w, stride, pad)
        if isinstance(y, tuple) and y and hasattr(y[0], "shape"):
            y = y[0]  # (out, cache)
        return y


def _stride_pad(spec: ConvSpec) -> tuple[Any, Any]:
    if spec.padding_before != spec.padding_after:
        raise SpecError(f"padding {spec.padding_before} before and {spec.padding_after} after cannot be passed as one "
                        "pad per axis; use signature='x,w,b' with an adapter")
    stride = spec.stride[0] if len(set(spec.stride)) == 1 else tuple(spec.stride)
    pad = spec.padding_before[0] if len(set(spec.padding_before)) == 1 else tuple(spec.padding_before)
    return stride, pad


def _module_paths(fn: Any) -> tuple[str, str] | None:
    """(weight path, bias path) of an object holding its weights, or None."""
    parameters = getattr(fn, "parameters", None)
    if isinstance(parameters, dict) and "W" in parameters:
        return "parameters[W]", "parameters[b]" if "b" in parameters else ""
    for weight, bias in (("weight", "bias"), ("W", "b"), ("w", "b")):
        if hasattr(fn, weight) and hasattr(getattr(fn, weight), "shape"):
            has_bias = getattr(fn, bias, None) is not None
            return weight, bias if has_bias else ""
    return None


def choose_convention(fn: Any, signature: str, pass_params: bool) -> Convention:
    """The convention named by ``signature``, or for ``"auto"`` the one fn's parameters and attributes suggest."""
    if signature.startswith("module:"):
        weight, _, bias = signature[len("module:"):].partition(",")
        for path in (weight, bias):
            if path and not _PATH.fullmatch(path.strip()):
                raise SpecError(f"signature 'module:WEIGHT,BIAS' takes attribute paths like conv.weight or "
                                f"parameters[W], got {path!r}")
        return Convention("module", weight.strip(), bias.strip())
    if signature not in SIGNATURES:
        raise SpecError(f"signature must be one of {', '.join(repr(s) for s in SIGNATURES)} or 'module:WEIGHT,BIAS', "
                        f"got {signature!r}")
    if signature == "module":
        paths = _module_paths(fn)
        if paths is None:
            raise SpecError("signature='module': fn has no weight attribute (weight, W, w or parameters[W]); name it "
                            "with signature='module:WEIGHT,BIAS'")
        return Convention("module", *paths)
    if signature != "auto":
        return Convention(signature)
    if pass_params or inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.isbuiltin(fn):
        return _by_parameters(fn)
    paths = _module_paths(fn)
    return Convention("module", *paths) if paths is not None else _by_parameters(fn)


def _by_parameters(fn: Any) -> Convention:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return Convention("x,w,b")
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if any(p.kind == p.VAR_POSITIONAL for p in parameters) or len(required) <= 3 <= len(positional):
        return Convention("x,w,b")
    if len(required) == 4:
        if "param" in required[3].name.lower():
            return Convention("x,w,b,conv_param")
        return Convention("x,w,stride,pad")
    if len(required) == 5:
        return Convention("x,w,b,stride,pad")
    return Convention("x,w,b")


def adapter_text(fn: Any, ndim: int = 2) -> str:
    """The message for a fn that fits no convention: the conventions tried and a three-line adapter (for ``ndim``)."""
    x_axes, k_axes = {1: ("L", "k"), 2: ("H, W", "h, w"), 3: ("D, H, W", "d, h, w")}.get(ndim, ("*spatial", "*kernel"))
    y_axes = ", ".join(a + "'" for a in x_axes.split(", ")) if ndim <= 3 else "*spatial'"
    try:
        shown = f"{getattr(fn, '__name__', type(fn).__name__)}{inspect.signature(fn)}"
    except (TypeError, ValueError):
        shown = getattr(fn, "__name__", type(fn).__name__)
    tried = "; ".join(_CALLS[name] for name in SIGNATURES[1:])
    return (f"{shown} matches none of the calling conventions tried ({tried}). Write a three-line adapter:\n"
            f"    def conv(x, weight, bias):          # x (N, C1, {x_axes}), weight (C2, C1/g, {k_axes}), bias (C2,)\n"
            "        out = my_layer(...)             # call yours with what it needs\n"
            f"        return out                      # (N, C2, {y_axes})\n"
            "and check conv instead (symconv check-impl mymodule:conv …)")
