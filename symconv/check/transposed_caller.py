"""Calling fn as a transposed layer: x (N, C₁, *input), ω in PyTorch's layout (C₁, C₂/g, *k), b (C₂,) or None.

One layout only (PyTorch's ``conv_transpose1d/2d/3d``); the backend is NumPy arrays or PyTorch float64 tensors,
found by the first call (NumPy first). When fn takes neither, the message says what was passed, what was tried
and what to write instead. Every numeric output is checked for NaN/±inf (a failure of fn, not of the check).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError

__all__ = ["TransposedCallFailed", "TransposedCaller", "layout_text"]


class TransposedCallFailed(Exception):
    """fn raised, or returned NaN/±inf for finite input: a failure of fn (a FAILS, with this message)."""

    def __init__(self, message: str, code: str = "raised") -> None:
        super().__init__(message)
        self.code = code  # "raised", "non-finite", or "type-dependent" (not numbers for numeric input)


def _error(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def layout_text(spec: ConvTransposeSpec, batch: int, pass_params: bool) -> str:
    """What fn is given, in one phrase: the arrays' layouts and shapes, and the keywords when pass_params.

    >>> print(layout_text(ConvTransposeSpec(2, 3, input_size=(4,), kernel_size=3), 2, False))
    fn(x, weight, bias) with x as (N, C₁, *input) = (2, 2, 4),
    weight in PyTorch's ConvTranspose layout (C₁, C₂/g, *k) = (2, 3, 3), bias (C₂,) = (3,)
    """
    bias = f"bias (C₂,) = ({spec.out_channels},)" if spec.bias else "bias=None"
    keywords = ", stride=, padding=, output_padding=, dilation=, groups=" if pass_params else ""
    return (f"fn(x, weight, {'bias' if spec.bias else 'None'}{keywords}) with x as (N, C₁, *input) = "
            f"{(batch, *spec.input_shape)}, weight in PyTorch's ConvTranspose layout (C₁, C₂/g, *k) = "
            f"{spec.weight_shape}, {bias}")


@dataclass
class TransposedCaller:
    """fn with its backend (``"numpy"``, ``"torch"``, or ``"auto"`` until the first call); counts calls and samples.

    >>> call = TransposedCaller(lambda x, w, b: x * 2, ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=1), False)
    >>> call(np.ones((1, 1, 2)), np.ones((1, 1, 1)), np.zeros(1)).tolist(), call.backend, call.calls
    ([[[2.0, 2.0]]], 'numpy', 1)
    """

    fn: Callable[..., Any]
    spec: ConvTransposeSpec
    pass_params: bool
    backend: str = "auto"
    calls: int = 0
    samples: int = 0

    def _params(self) -> dict[str, Any]:
        s = self.spec
        return dict(stride=s.stride, padding=s.padding, output_padding=s.output_padding, dilation=s.dilation,
                    groups=s.groups) if self.pass_params else {}

    def _raw(self, backend: str, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        """One call on copies (fn may write into its inputs), its output copied (fn may reuse that buffer later)."""
        self.calls += 1
        self.samples += len(x)
        if backend == "torch" and x.dtype != object:
            import torch

            def tensor(a: np.ndarray | None) -> Any:
                return None if a is None else torch.from_numpy(np.array(a, dtype=np.float64, order="C"))
            value = self.fn(tensor(x), tensor(w), tensor(b), **self._params())
        else:
            value = self.fn(x.copy(), w.copy(), None if b is None else b.copy(), **self._params())
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        return np.array(value, copy=True)

    def __call__(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        """fn's output on canonical arrays; the first numeric call picks the backend (see :meth:`first`)."""
        if self.backend == "auto" and x.dtype != object:
            return self.first(x, w, b)
        try:
            out = self._raw(self.backend, x, w, b)
        except Exception as exc:
            raise TransposedCallFailed(f"fn raised {_error(exc)} on call {self.calls} "
                                       f"({'symbols' if x.dtype == object else 'numbers'})") from None
        return self._finite(out)

    def first(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        """The first numeric call: NumPy arrays, then PyTorch float64 tensors; says what was tried when both fail."""
        tried = ("numpy", "torch") if self.backend == "auto" else (self.backend,)
        errors = []
        for backend in tried:
            try:
                out = self._raw(backend, x, w, b)
            except Exception as exc:
                errors.append((backend, exc))
                continue
            self.backend = backend
            return self._finite(out)
        self.backend = tried[-1]
        said = "; ".join(f"with {'NumPy arrays' if n == 'numpy' else 'PyTorch float64 tensors'} it raised {_error(e)}"
                         for n, e in errors)
        text = (f"{said}, called as {layout_text(self.spec, len(x), self.pass_params)}. A transposed layer is checked in "
                "this layout only: wrap fn to take it (e.g. a channels-last fn: lambda x, w, b: fn(x.permute(0, 2, 3, 1), "
                "…).permute(0, 3, 1, 2))" + ("" if self.pass_params else
                                            ", or pass pass_params=True if fn needs stride=, padding=, … keywords"))
        if all(isinstance(e, TypeError) and "argument" in str(e) for _, e in errors):
            raise SpecError(f"fn does not take (x, weight, bias): {text}")
        raise TransposedCallFailed(text)

    def _finite(self, out: np.ndarray) -> np.ndarray:
        if out.dtype != object and np.issubdtype(out.dtype, np.number) and not np.isfinite(out).all():
            raise TransposedCallFailed(f"fn returned NaN or ±inf for finite input on call {self.calls}", "non-finite")
        return out
