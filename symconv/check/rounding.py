"""Rounding-error bounds for a convolution computed in floating point, and which precision fn computes in.

Each output is a dot product of n = C₁/g·h·w products ω·x plus the bias: n + 1 terms. Computed in any order
in a floating-point format of unit roundoff u, its error is at most γₙ₊₁·(Σ|ω||x| + |b|) with γₖ = k·u/(1 − k·u)
(Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1). A fn that computes in a narrower format than
it is given also rounds x and ω on the way in (two more roundings per product), so the bound used here is
γₙ₊₃ for the format fn computes in, plus γₙ₊₁ of float64 for symconv's own evaluation of the form. An FFT or
Winograd layer is not a dot product in this sense; pass ``atol`` to check it against an absolute tolerance.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.spec import ConvSpec

__all__ = ["FORMATS", "UNIT_ROUNDOFF", "gamma", "rounding_bound", "terms_per_output"]

#: Unit roundoff of each floating-point format fn may compute in, finest first.
UNIT_ROUNDOFF: dict[str, float] = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
FORMATS: tuple[str, ...] = tuple(UNIT_ROUNDOFF)


def terms_per_output(spec: ConvSpec) -> int:
    """n + 1: the products of one output (C₁/g·h·w) and its bias.

    >>> terms_per_output(ConvSpec(2, 3, input_size=5, kernel_size=3))
    19
    """
    return spec.in_per_group * math.prod(spec.kernel_size) + 1


def gamma(k: int, u: float) -> float:
    """γₖ = k·u / (1 − k·u); infinite when k·u ≥ 1."""
    return k * u / (1 - k * u) if k * u < 1 else math.inf


def rounding_bound(spec: ConvSpec, magnitude: np.ndarray, fmt: str) -> np.ndarray:
    """Largest error of each output computed in ``fmt``, given ``magnitude`` = Σ|c·ω·x| + |b| per output."""
    k = terms_per_output(spec)
    extra = 2 if fmt != "float64" else 0
    return (gamma(k + extra, UNIT_ROUNDOFF[fmt]) + gamma(k, UNIT_ROUNDOFF["float64"])) * magnitude
