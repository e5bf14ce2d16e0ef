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

from ..core.exact import exact_polynomial
from ..core.spec import ConvSpec
from ..core.symbols import bias_array, input_array, row_permutation, weight_array
from ..errors import SpecError
from ..forms.blocks import bias_vector
from ..forms.built import built_matrix

__all__ = [
    "SuppliedTerms",
    "as_bias_column",
    "as_matrix",
    "built_matrix",
    "completed",
    "normalised",
    "supplied_terms",
]

#: coefficients at or beyond this size cannot be ω's coefficient 1 and do not fit the int64 terms: kept as SymPy terms
MAX_INDEX_COEFFICIENT = 2**62


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
            if n is None or not integral or abs(int(coefficient)) >= MAX_INDEX_COEFFICIENT:
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


# ----------------------------------------------------------------------------- normalising a caller's entries
def _plain(entry: sympy.Expr) -> bool:
    """Entries the engines read as they are: numbers, symbols, c·symbol, and anything holding a Float (which the
    engines reject on purpose: 1.0·ω is not an exact ω)."""
    return entry.is_Number or entry.is_Symbol or entry.has(sympy.Float) or (
        entry.is_Mul and len(entry.args) == 2 and entry.args[0].is_Rational and entry.args[1].is_Symbol
    )


def _normalise_entries(m: sympy.MatrixBase) -> tuple[sympy.MatrixBase, list[tuple[int, int, sympy.Expr]]]:
    """``m`` with every entry that is exactly a polynomial after :func:`exact_polynomial` written as one; the
    entries it cannot decide are listed (row, column, entry) and left for the caller to handle."""
    changed: dict[tuple[int, int], sympy.Expr] = {}
    unknown: list[tuple[int, int, sympy.Expr]] = []
    for (r, c), entry in m.todok().items():
        entry = sympy.sympify(entry)
        if _plain(entry):
            continue
        polynomial = exact_polynomial(entry, frozenset(entry.free_symbols))
        if polynomial is None:
            unknown.append((r, c, entry))
        else:
            written = sympy.Add(*(coefficient * monomial for monomial, coefficient in polynomial.items()))
            if written != entry:
                changed[(r, c)] = written
    if not changed:
        return m, unknown
    out = m.as_mutable()
    for (r, c), value in changed.items():
        out[r, c] = value
    return out, unknown


def normalised(
    spec: ConvSpec, order: str, matrix: Any, bias: Any
) -> tuple[sympy.MatrixBase | None, sympy.MatrixBase | None, tuple[dict[str, str], ...]]:
    """A caller's 𝒲 and b with entries normalised soundly, and the entries SymPy cannot decide.

    An entry that is exactly a polynomial with rational coefficients once evaluated (``(cos²1 + sin²1)·ω``,
    ``Sum(ω, (t, 1, 1))``, ``UnevaluatedExpr(ω)``) is replaced by that polynomial (:func:`exact_polynomial`). An
    entry it cannot decide is *undetermined*: it is reported, and replaced by symconv's own entry so that the
    engines compare everything else; a verdict with undetermined entries never says "holds".

    >>> from symconv.core.symbols import weight_symbols
    >>> spec = ConvSpec(1, 1, input_size=2, kernel_size=1, bias="none")
    >>> w = weight_symbols(spec)[0, 0, 0, 0]
    >>> m, _, unknown = normalised(spec, "channel_major", sympy.eye(4) * (sympy.cos(1)**2 + sympy.sin(1)**2) * w, None)
    >>> m[0, 0], unknown
    (omega_0,0,0,0, ())
    """
    m = None if matrix is None else as_matrix(matrix, spec, order)
    b = None if bias is None else as_bias_column(bias, spec, order)
    undetermined: list[dict[str, str]] = []
    if m is not None:
        m, unknown = _normalise_entries(m)
        if unknown:
            m = m.as_mutable()
            own = built_matrix(spec, order)
            for r, c, entry in unknown:
                m[r, c] = own[r, c]
                undetermined.append({"where": f"𝒲[{r}, {c}]", "entry": str(entry)})
    if b is not None:
        b, unknown = _normalise_entries(b)
        if unknown:
            b = b.as_mutable()
            own_b = bias_vector(spec, order)
            for r, _, entry in unknown:
                b[r, 0] = own_b[r, 0]
                undetermined.append({"where": f"b[{r}]", "entry": str(entry)})
    return m, b, tuple(undetermined)
