"""Numeric evaluation of symconv's symbolic objects, for cross-checks against PyTorch and SciPy.

Values are small random integers stored as float64, so every sum is exact and comparisons use ==.
"""

from __future__ import annotations

import numpy as np
import sympy

from symconv import ConvSpec, bias_symbols, input_symbols, weight_symbols


def random_values(spec: ConvSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Integer-valued float64 ω, b, x of the spec's shapes."""
    return {
        "weight": rng.integers(-9, 10, spec.weight_shape).astype(np.float64),
        "bias": rng.integers(-9, 10, spec.bias_shape).astype(np.float64),
        "x": rng.integers(-9, 10, spec.input_shape).astype(np.float64),
    }


def substitution(spec: ConvSpec, values: dict[str, np.ndarray]) -> dict[sympy.Symbol, float]:
    """Symbol → value for ω, b and x."""
    pairs = {}
    for symbols, array in (
        (weight_symbols(spec), values["weight"]),
        (bias_symbols(spec), values["bias"]),
        (input_symbols(spec), values["x"]),
    ):
        for s, v in zip(np.array(symbols.tolist(), dtype=object).reshape(-1), array.reshape(-1)):
            pairs[s] = float(v)
    return pairs


def evaluate_matrix(m: sympy.MatrixBase, values: dict[sympy.Symbol, float]) -> np.ndarray:
    """A SymPy matrix whose entries are symbols (or sums of them) as a dense float64 array."""
    out = np.zeros(m.shape)
    for (r, c), v in m.todok().items():
        out[r, c] = float(v.xreplace(values)) if not v.is_Symbol else values[v]
    return out
