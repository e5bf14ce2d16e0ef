"""Calling the user's fn: layouts (NCL … NCHW … NDHWC; OIHW or HWIO weights and their 1-D/3-D kin), backends, dtype.

Every other stage works on canonical arrays — x (k, C₁, *spatial), ω (C₂, C₁/g, *kernel), b — and canonical
outputs (k, C₂, *spatial'), for any number of spatial axes; :class:`Caller` converts them to what fn takes (a batch
axis or not, channels first or last: :mod:`symconv.check.options`), calls it, converts back and counts the calls.
How fn wants to be called is found by trial calls with zeros (:meth:`Caller.resolve`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from time import perf_counter
from typing import Any

import numpy as np

from ..core.spec import ConvSpec
from ..errors import SpecError
from .options import BACKENDS, DTYPES, LAYOUTS, WEIGHT_LAYOUTS, auto_layouts, layout_axes, layout_name, weight_channels_last
from .signature import Convention, adapter_text

__all__ = ["BACKENDS", "CHUNK_VALUES", "DTYPES", "LAYOUTS", "WEIGHT_LAYOUTS", "CallFailed", "Caller", "FnRaised"]


#: Largest batch passed to fn at once (numbers returned per call ≤ this · d_y, bounded below).
CHUNK_VALUES = 1 << 23


class CallFailed(Exception):
    """fn raised, or returned something that is not an output of the expected rank."""

    def __init__(self, message: str, raised: bool = False) -> None:
        super().__init__(message)
        self.raised = raised  # True when the user's code raised (not a refusal of the arguments' count or names)


class FnRaised(Exception):
    """fn failed on a call after it had been resolved: the user's exception (a FAILS, never bad input to symconv).

    ``error`` is ``"TypeName: first line of the message"``; ``call`` says which call and with what arguments.
    """

    def __init__(self, error: str, call: str, hint: str = "", code: str = "raised") -> None:
        super().__init__(f"{error} ({call})")
        self.error = error
        self.call = call
        self.hint = hint
        self.code = code  # "raised", or "non-finite" when fn returned NaN or ±inf for finite input


def describe_error(exc: BaseException) -> str:
    """``TypeName: first line of the message`` (the type alone when there is no message)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _batched(layout: str, ndim: int) -> bool:
    """Whether ``layout`` (``"auto"`` counting as batched) passes a batch axis to fn."""
    axes = layout_axes(layout, ndim)
    return axes is None or axes[0]


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a test dependency
        raise SpecError("backend='torch' needs PyTorch installed (pip install torch)") from None
    return torch


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


class Caller:
    """Calls fn on canonical arrays — x (k, C₁, *spatial), ω (C₂, C₁/g, *kernel), b — in fn's layout and backend.

    Returns (k, C, *spatial') float64 arrays; counts calls and inputs. The layout and backend are resolved by
    trial calls (:meth:`resolve`).
    """

    def __init__(self, fn: Callable, spec: ConvSpec, weight_layout: str, dtype: str, pass_params: bool,
                 convention: Convention | None = None) -> None:
        self.fn = fn
        self.convention = convention or Convention("x,w,b")
        self.spec = spec
        self.weight_layout = weight_layout
        self.dtype = dtype
        self.pass_params = pass_params
        self.calls = 0
        self.samples = 0
        self.layout = ""
        self.backend = ""
        self.output_shape: tuple[int, ...] = ()
        self.bias_shape: tuple[int, ...] | None = spec.bias_shape if spec.bias != "none" else None
        self.none_bias_as_zeros = False
        self.output_dtype = ""  # the dtype fn returned on numeric input (numpy or torch name)
        self._bindable: bool | None = None
        self.seconds_per_sample = 0.0  # wall time of the trial call that resolved the layout, per input

    # -- conversions
    def _kwargs(self) -> dict[str, Any]:
        if not self.pass_params:
            return {}
        s = self.spec
        return {"stride": s.stride, "padding": s.padding, "dilation": s.dilation, "groups": s.groups}

    def _convert(self, array: np.ndarray, backend: str) -> Any:
        # always a fresh copy: a fn that writes into its arguments must not change later probes
        if array.dtype == object:
            return array.copy()
        copy = np.array(array, dtype=np.dtype(self.dtype), order="C", copy=True)
        return _torch().from_numpy(copy) if backend == "torch" else copy

    def _weight(self, weight: np.ndarray) -> np.ndarray:
        if weight_channels_last(self.weight_layout, self.spec.ndim):  # (*kernel, C₁/g, C₂)
            return weight.transpose(*range(2, weight.ndim), 1, 0)
        return weight

    def _bias(self, bias: np.ndarray | None, channels_last: bool) -> np.ndarray | None:
        if bias is None:
            return np.zeros(self.spec.out_channels, dtype=np.float64) if self.none_bias_as_zeros else None
        if bias.ndim > 1 and channels_last:  # a per-location bias (C₂, *spatial') laid out like y
            return np.moveaxis(bias, 0, -1)
        return bias

    def _to_numpy(self, y: Any, symbolic: bool) -> np.ndarray:
        if hasattr(y, "detach") and hasattr(y, "cpu"):
            if not symbolic:
                self.output_dtype = str(y.dtype).replace("torch.", "")
            y = y.detach().cpu()
            y = (y.float() if str(y.dtype) == "torch.bfloat16" else y).numpy()
        elif not symbolic and hasattr(y, "dtype"):
            self.output_dtype = str(y.dtype)
        if symbolic:
            return np.asarray(y, dtype=object)
        try:
            return np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise CallFailed(f"fn returned {type(y).__name__}, which is not an array of numbers ({exc})") from None

    def invoke(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, layout: str, backend: str,
               symbolic: bool = False) -> np.ndarray:
        """One batch through fn in ``layout``/``backend``; the output as (k, C, *spatial')."""
        k = x.shape[0]
        batched, channels_last = layout_axes(layout, self.spec.ndim) or (True, False)
        w = self._convert(self._weight(weight), backend)
        b_arr = self._bias(bias, channels_last)
        b = None if b_arr is None else self._convert(b_arr, backend)
        xs = np.moveaxis(x, 1, -1) if channels_last else x
        outputs = []
        inputs = [xs] if batched else [xs[s] for s in range(k)]
        for item in inputs:
            self.calls += 1
            self.samples += item.shape[0] if batched else 1
            kwargs = self._kwargs()
            if self._bindable is None:
                self._bindable = self.convention.binds(self.fn, kwargs)
            if not self._bindable:
                names = "".join(f", {k}=" for k in kwargs)
                what = f"(x, weight, bias{names})" if self.convention.name == "x,w,b" else self.convention.describe()
                raise CallFailed(f"fn cannot be called as {what}")
            try:
                y = self.convention.call(self.fn, self._convert(item, backend), w, b, self.spec, kwargs)
            except Exception as exc:  # the user's code: any exception means "this way of calling fails"
                raise CallFailed(describe_error(exc), raised=True) from exc
            y = self._to_numpy(y, symbolic)
            rank = self.spec.ndim + (2 if batched else 1)
            if y.ndim != rank or (batched and y.shape[0] != item.shape[0]):
                raise CallFailed(f"fn returned shape {tuple(y.shape)}, expected rank {rank}"
                                  + (f" with batch {item.shape[0]} first" if batched else ""))
            outputs.append(y if batched else y[None])
        out = np.concatenate(outputs) if len(outputs) > 1 else outputs[0]
        return np.moveaxis(out, -1, 1) if channels_last else out

    @property
    def batched(self) -> bool:
        """Whether the resolved layout has a batch axis (one call for many inputs)."""
        return _batched(self.layout or "auto", self.spec.ndim)

    @property
    def channels_last(self) -> bool:
        """Whether the resolved layout puts channels last."""
        axes = layout_axes(self.layout or "auto", self.spec.ndim)
        return axes is not None and axes[1]

    def resolve(self, layout: str, backend: str) -> None:
        """Find how fn wants to be called: trial calls with zeros, the declared choices first."""
        spec = self.spec
        layouts = auto_layouts(layout, spec.ndim)
        backends = ["numpy", "torch"] if backend == "auto" else [backend]
        if backend == "auto" and not _torch_available():  # pragma: no cover
            backends = ["numpy"]
        weight = np.zeros(spec.weight_shape)
        errors: list[str] = []
        failures: list[CallFailed] = []

        def attempt(bias_shape: tuple[int, ...] | None) -> bool:
            bias = None if bias_shape is None else np.zeros(bias_shape)
            for b in backends:
                for lay in layouts:
                    x = np.zeros((2 if _batched(lay, spec.ndim) else 1, *spec.input_shape))
                    started = perf_counter()
                    try:
                        y = self.invoke(x, weight, bias, lay, b)
                        self.seconds_per_sample = (perf_counter() - started) / x.shape[0]
                    except CallFailed as exc:
                        errors.append(f"{b}/{lay}: {exc}")
                        failures.append(exc)
                        continue
                    self.layout, self.backend, self.output_shape = lay, b, tuple(y.shape[1:])
                    return True
            return False

        if attempt(self.bias_shape):
            return
        first_error = errors[0]
        alternatives: list[tuple[int, ...] | None] = []
        if spec.bias == "none":
            self.none_bias_as_zeros = True  # a fn that insists on a bias array gets zeros
            alternatives.append(None)
        elif spec.bias == "shared":
            alternatives.append(spec.output_shape)
        else:
            alternatives.append((spec.out_channels,))
        for shape in alternatives:
            if attempt(shape):
                self.bias_shape = shape
                return
        shapes = f"x {('N', *spec.input_shape) if _batched(layout, spec.ndim) else spec.input_shape}, weight " \
                 f"{spec.weight_shape}"
        shapes += f", bias {self.spec.bias_shape if spec.bias != 'none' else None}"
        tried = f"({', '.join(backends)}; layout {'/'.join(layouts)})"
        hint = self._channels_last_hint(layout, backends[0]) if any(e.raised for e in failures) else ""
        raised = next((e for e in failures if e.raised), None)
        if raised is not None:  # the user's code raised: a failure of fn, reported with its exception
            raise FnRaised(str(raised), f"when called as fn(x, weight, bias) with {shapes} {tried}", hint)
        if not self._bindable:
            raise SpecError(adapter_text(self.fn, spec.ndim) if self.convention.name == "x,w,b" else
                            f"fn cannot be called as {self.convention.describe()} (signature={self.convention.name!r})")
        raise SpecError(f"fn(x, weight, bias) failed when called with {shapes} {tried}: {first_error}")

    def time_call(self) -> None:
        """Time one more call with zeros (the layout resolved) and keep the faster per-input time."""
        spec = self.spec
        x = np.zeros((2 if self.batched else 1, *spec.input_shape))
        started = perf_counter()
        try:
            self.invoke(x, np.zeros(spec.weight_shape), None if self.bias_shape is None else np.zeros(self.bias_shape),
                        self.layout, self.backend)
        except CallFailed:
            return
        self.seconds_per_sample = min(self.seconds_per_sample, (perf_counter() - started) / x.shape[0])

    def _channels_last_hint(self, layout: str, backend: str) -> str:
        """When channels-first failed: a hint to pass the channels-last layout if fn runs on such arrays."""
        spec = self.spec
        if layout not in ("auto", layout_name(spec.ndim, True, False)):
            return ""
        last = layout_name(spec.ndim, True, True)
        try:
            y = self.invoke(np.zeros((2, *spec.input_shape)), np.zeros(spec.weight_shape),
                            None if self.bias_shape is None else np.zeros(self.bias_shape), last, backend)
        except CallFailed:
            return ""
        if tuple(y.shape[1:]) != spec.output_shape:
            return ""
        axes = ", ".join(last[1:-1]) if spec.ndim <= 3 else "*spatial"
        return f"fn runs on channels-last arrays (N, {axes}, C): pass layout='{last}' " \
               f"(check-impl --layout {last})"

    def __call__(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """fn on a batch of canonical inputs, chunked; (k, d_y) float64."""
        d_y = max(1, math.prod(self.output_shape))
        step = max(1, CHUNK_VALUES // d_y)
        pieces = []
        for start in range(0, x.shape[0], step):
            try:
                y = self.invoke(x[start:start + step], weight, bias, self.layout, self.backend)
            except CallFailed as exc:
                raise FnRaised(str(exc), f"call {self.calls} to fn, on x of shape {tuple(x[start:start + step].shape)} "
                               f"({self.layout}, {self.backend}, {self.dtype})") from None
            if tuple(y.shape[1:]) != self.output_shape:
                raise FnRaised(f"fn returned output shape {tuple(y.shape[1:])} in one call and {self.output_shape} "
                               "in another; its output shape must not depend on the values", f"call {self.calls} to fn")
            if not np.all(np.isfinite(y)):
                bad = y.reshape(-1)[~np.isfinite(y.reshape(-1))][0]
                raise FnRaised(f"fn returned {bad} for finite input", f"call {self.calls} to fn", code="non-finite")
            pieces.append(y.reshape(y.shape[0], -1))
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
