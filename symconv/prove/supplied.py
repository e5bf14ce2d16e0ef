"""A caller's 𝒲 and b: coerced to SymPy matrices of the right shape, completed with symconv's own, and as terms.

Both engines take ``matrix``/``bias`` from the caller (rows in the given order, columns the C-order flatten of
x; see :mod:`symconv.core.symbols`). A missing one is built here: from the note's blocks for 2-D, from the
per-axis assembly otherwise. The index engine reads a supplied pair as integer terms
(:func:`supplied_terms`) with its key encoding: ``key = input_flat · n_weights + weight_flat`` for
``x[input]·ω[weight]`` and ``key = −1 − bias_flat`` for ``b[bias]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import bias_array, input_array, row_permutation, weight_array
from ..errors import SpecError
from ..forms.assembly import assembled_matrix
from ..forms.blocks import bias_vector
from ..forms.blocks import matrix as block_matrix

__all__ = ["SuppliedTerms", "as_bias_column", "as_matrix", "built_matrix", "completed", "supplied_terms"]


def as_matrix(value: Any, spec: ConvSpec, order: str) -> sympy.MatrixBase:
    """A caller's 𝒲 as a SymPy matrix of shape d_y × d_x, or a one-line :class:`SpecError`."""
    try:
        m = value if isinstance(value, sympy.MatrixBase) else sympy.Matrix(value)
    except (TypeError, ValueError, sympy.SympifyError) as exc:
        raise SpecError(
            f"matrix must be a SymPy matrix (or nested lists) of shape d_y × d_x, got {type(value).__name__}: {exc}"
        ) from None
    if m.shape != (spec.d_y, spec.d_x):
        raise SpecError(
            f"matrix must be d_y × d_x = {spec.d_y} × {spec.d_x} (rows in {order!r} order, columns the "
            f"C-order flatten of x), got {m.shape[0]} × {m.shape[1]}"
        )
    return m


def as_bias_column(value: Any, spec: ConvSpec, order: str) -> sympy.MatrixBase:
    """A caller's b as a d_y × 1 SymPy matrix, or a one-line :class:`SpecError`."""
    try:
        m = value if isinstance(value, sympy.MatrixBase) else sympy.Matrix(value)
    except (TypeError, ValueError, sympy.SympifyError) as exc:
        raise SpecError(f"bias must be a SymPy column vector of length d_y, got {type(value).__name__}: {exc}") from None
    if m.shape == (1, spec.d_y):
        m = m.T
    if m.shape != (spec.d_y, 1):
        raise SpecError(
            f"bias must have d_y = {spec.d_y} entries (in {order!r} order), got shape {m.shape[0]} × {m.shape[1]}"
        )
    return m


def built_matrix(spec: ConvSpec, order: str, max_terms: int | None = None) -> sympy.SparseMatrix:
    """symconv's own 𝒲: the note's block construction for 2-D, the per-axis assembly for any other ndim.

    >>> built_matrix(ConvSpec(1, 1, input_size=3, kernel_size=2), "seed").shape
    (4, 9)
    """
    if spec.ndim == 2:
        return block_matrix(spec, order, max_terms=max_terms)
    return assembled_matrix(spec, order, max_terms=max_terms)


def completed(
    spec: ConvSpec, order: str, matrix: Any, bias: Any, max_terms: int | None = None
) -> tuple[sympy.MatrixBase, sympy.MatrixBase]:
    """(𝒲, b) in ``order``: the caller's, coerced, where given; symconv's own where ``None``."""
    m = built_matrix(spec, order, max_terms) if matrix is None else as_matrix(matrix, spec, order)
    b = bias_vector(spec, order) if bias is None else as_bias_column(bias, spec, order)
    return m, b


@dataclass(frozen=True)
class SuppliedTerms:
    """A caller's 𝒲 and b as terms sorted by (seed row, key), plus rows holding non-bilinear terms."""

    rows: np.ndarray
    keys: np.ndarray
    coefficients: np.ndarray
    foreign: dict[int, list[sympy.Expr]]  # seed row → terms that are not c·ω·x or c·b

    def slice(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, keys, coefficients) of seed rows ``first`` … ``last``."""
        lo, hi = np.searchsorted(self.rows, [first, last + 1])
        return self.rows[lo:hi], self.keys[lo:hi], self.coefficients[lo:hi]


class _TermList:
    """Terms gathered row by row; an entry that is not an integer multiple of a known monomial is foreign."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.keys: list[int] = []
        self.coefficients: list[int] = []
        self.foreign: dict[int, list[sympy.Expr]] = {}

    def add(self, seed_row: int, value: sympy.Expr, index: dict, encode: Callable[[int], int], factor: sympy.Expr) -> None:
        """Add value·factor to ``seed_row``, value expanded into monomials looked up in ``index``."""
        parts = {value: 1} if value.is_Symbol else sympy.expand(value).as_coefficients_dict()
        for monomial, coefficient in parts.items():
            if coefficient == 0:  # as_coefficients_dict keeps cancelled terms (b − b) with coefficient 0
                continue
            n = index.get(monomial)
            integral = coefficient.is_Integer if isinstance(coefficient, sympy.Basic) else isinstance(coefficient, int)
            if n is None or not integral:
                self.foreign.setdefault(seed_row, []).append(coefficient * monomial * factor)
                continue
            self.rows.append(seed_row)
            self.keys.append(encode(n))
            self.coefficients.append(int(coefficient))

    def sorted(self) -> SuppliedTerms:
        rows, keys = np.array(self.rows, dtype=np.int64), np.array(self.keys, dtype=np.int64)
        coefficients = np.array(self.coefficients, dtype=np.int64)
        by_row_key = np.lexsort((keys, rows))
        return SuppliedTerms(rows[by_row_key], keys[by_row_key], coefficients[by_row_key], self.foreign)


def supplied_terms(spec: ConvSpec, order: str, matrix: sympy.MatrixBase, bias: sympy.MatrixBase) -> SuppliedTerms:
    """𝒲x + b of a coerced pair (rows in ``order``) as the index engine's integer terms, rows renumbered to seed order."""
    weight_of = {w: n for n, w in enumerate(weight_array(spec).reshape(-1).tolist())}
    bias_of = {b: n for n, b in enumerate(bias_array(spec).reshape(-1).tolist())}
    inputs = input_array(spec).reshape(-1)
    n_weights = len(weight_of)
    to_seed = np.arange(spec.d_y) if order == "seed" else np.argsort(row_permutation(spec, "channel_major", "seed"))
    terms = _TermList()
    for (r, c), value in matrix.todok().items():
        terms.add(int(to_seed[r]), value, weight_of, partial(_bilinear_key, c, n_weights), inputs[c])
    for r, value in enumerate(bias):
        if value != 0:
            terms.add(int(to_seed[r]), value, bias_of, _bias_key, sympy.S.One)
    return terms.sorted()


def _bilinear_key(input_flat: int, n_weights: int, weight_flat: int) -> int:
    return input_flat * n_weights + weight_flat


def _bias_key(bias_flat: int) -> int:
    return -1 - bias_flat
