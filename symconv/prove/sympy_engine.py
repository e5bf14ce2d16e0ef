"""Proof engine "sympy": compare the index sum with 𝒲·x + b as exact polynomials, row by row, from SymPy's 𝒲.

Why this algorithm: expanding ``direct(spec) − (𝒲x + b)`` as one SymPy expression creates a ``Mul`` per term
(≈14 µs each) and a dense product; at C₁=C₂=8, 32×32, 3×3 that took 80 s and 9 GB, and coefficient maps keyed by
SymPy (monomial, symbol) pairs still took 3 s and 1 GB at 2 M terms. Here every output is a sparse polynomial kept
as a dict {monomial: exact coefficient}, the monomial encoded by the integer of its index structure —
``input_flat · n_weights + weight_flat`` for x·ω, ``−1 − bias_flat`` for b (the index engine's keys):

* 𝒲x + b is multiplied out from 𝒲's nonzeros as SymPy holds them (its dict of dicts, row → column → entry): an
  entry that is a weight symbol ω gives the monomial ω·x_column with coefficient 1; any other entry is expanded
  into monomials, each an integer or rational multiple (exact) of a weight symbol — or, if not (a Float
  coefficient, ω², a stray x or b), kept under a SymPy key that no definition term has;
* the index sum's polynomial of each output comes from :func:`symconv.forms.direct.direct_terms`, coefficient 1.

Two polynomials are equal iff their dicts are (zero coefficients dropped). Rows are compared one at a time, so
only 𝒲 itself is held whole (built here as SymPy's sparse dict of dicts when the caller supplies none). The first
mismatch is turned back into SymPy terms. No floats, no substitution.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.budget import check_symbolic_size
from ..core.spec import ConvSpec
from ..core.symbols import bias_array, check_order, input_array, output_index, row_permutation, weight_array
from ..forms.assembly import matrix_rows
from ..forms.blocks import bias_vector
from ..forms.built import built_terms_fn
from ..forms.direct import direct_terms
from .supplied import as_bias_column, as_matrix
from .verdict import Mismatch, Verdict

__all__ = ["PROGRESS_ROWS", "prove_sympy"]

#: ``progress`` is called after about this many rows (and once at the end)
PROGRESS_ROWS = 4096

Poly = dict[Any, Any]  # monomial key (int; (monomial, factor) for a foreign term) → coefficient
Rows = dict[int, dict[int, sympy.Expr]]  # row → column → nonzero entry: SymPy's sparse dict of dicts


class _Encoding:
    """Monomials as the index engine's integer keys, and back to SymPy terms."""

    def __init__(self, spec: ConvSpec) -> None:
        self.weights = weight_array(spec).reshape(-1).tolist()
        self.inputs = input_array(spec).reshape(-1).tolist()
        self.biases = bias_array(spec).reshape(-1).tolist()
        self.n_weights = len(self.weights)
        self.weight_of = {w: n for n, w in enumerate(self.weights)}
        self.bias_of = {b: n for n, b in enumerate(self.biases)}

    def term(self, key: Any, coefficient: Any) -> sympy.Expr:
        if isinstance(key, tuple):  # a foreign term: (monomial, factor)
            return coefficient * key[0] * key[1]
        if key < 0:
            return coefficient * self.biases[-1 - key]
        column, weight = divmod(key, self.n_weights)
        return coefficient * self.weights[weight] * self.inputs[column]

    def terms(self, poly: Poly) -> list[sympy.Expr]:
        return [self.term(key, coefficient) for key, coefficient in poly.items()]


def _add_expanded(poly: Poly, value: sympy.Expr, index: dict, key: Callable[[int], int], factor: sympy.Expr) -> None:
    """poly += value·factor, value expanded into monomials. A term that is not an exact (integer or rational) multiple
    of a known symbol — a Float coefficient, ω², a stray x or b — is kept under the SymPy key (monomial, factor),
    which no definition term has: such terms cannot cancel against the bilinear ones."""
    for monomial, coefficient in sympy.expand(value).as_coefficients_dict().items():
        n = index.get(monomial)
        if n is None or not coefficient.is_Rational:
            k: Any = (monomial, factor)
        else:
            k = key(n)
            coefficient = int(coefficient) if coefficient.is_Integer else coefficient
        poly[k] = poly.get(k, 0) + coefficient


def _found(row: dict[int, sympy.Expr], bias: sympy.Expr, enc: _Encoding) -> Poly:
    """𝒲x + b of one row as a polynomial, from the row's nonzeros and its bias entry."""
    n_weights, weight_of = enc.n_weights, enc.weight_of
    try:  # every entry a weight symbol, columns distinct: one monomial each, coefficient 1
        poly: Poly = {column * n_weights + weight_of[value]: 1 for column, value in row.items()}
    except KeyError:
        poly = {}
        for column, value in row.items():
            _add_expanded(poly, value, weight_of, lambda n, c=column: c * n_weights + n, enc.inputs[column])
    if bias != 0:
        b = enc.bias_of.get(bias)
        if b is not None:
            poly[-1 - b] = poly.get(-1 - b, 0) + 1
        else:
            _add_expanded(poly, bias, enc.bias_of, lambda n: -1 - n, sympy.S.One)
    if any(c == 0 for c in poly.values()):  # cancelled terms (ω − ω) are not terms
        poly = {k: c for k, c in poly.items() if c != 0}
    return poly


def _definition(spec: ConvSpec, order: str) -> Callable[[int], Poly]:
    """The index sum: a function from a row (in ``order``) to its polynomial, all coefficients 1."""
    terms = direct_terms(spec)
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    seed_rows = terms.keys.shape[0] * terms.keys.shape[1]
    keys = terms.keys[valid]
    ends = np.concatenate([[0], np.cumsum(valid.reshape(seed_rows, -1).sum(axis=1))])
    bias = (-1 - terms.bias).reshape(seed_rows, -1)
    # row_permutation(seed → cm)[t] is the seed row of channel-major row t
    seed_of = None if order == "seed" else row_permutation(spec, "seed", "channel_major")

    def poly(row: int) -> Poly:
        s = row if seed_of is None else int(seed_of[row])
        out = dict.fromkeys(keys[ends[s] : ends[s + 1]].tolist(), 1)
        out.update(dict.fromkeys(bias[s].tolist(), 1))
        return out

    return poly


def _sides(spec: ConvSpec, order: str, matrix: Any, bias: Any, max_terms: int | None) -> tuple[Rows, list[sympy.Expr]]:
    """𝒲 (rows in ``order``) as SymPy's dict of dicts and b as a list: the caller's where given, symconv's where not."""
    if matrix is None:  # the note's blocks (2-D) or the assembly, as the dict of dicts matrix(spec) wraps
        rows = matrix_rows(spec, built_terms_fn(spec)(spec), order)
    else:
        rows = {}
        for (r, c), value in as_matrix(matrix, spec, order).todok().items():
            rows.setdefault(r, {})[c] = value
    column = bias_vector(spec, order) if bias is None else as_bias_column(bias, spec, order)
    return rows, list(column)


def _compared(
    spec: ConvSpec, order: str, rows: Rows, biases: list[sympy.Expr], enc: _Encoding, progress: Callable | None
) -> Iterator[tuple[int, Poly, Poly]]:
    """(row, expected, found) for every row where the two sides differ, rows in ``order``."""
    expected_of = _definition(spec, order)
    per_row = spec.in_per_group * math.prod(spec.kernel_size)
    total = spec.n_terms + spec.n_bias_terms
    for r in range(spec.d_y):
        found = _found(rows.get(r, {}), biases[r], enc)
        expected = expected_of(r)
        if found != expected:
            yield r, expected, found
        if progress is not None and (r + 1) % PROGRESS_ROWS == 0:
            progress(min(total, (r + 1) * (per_row + (spec.bias != "none"))), total)


def prove_sympy(
    spec: ConvSpec,
    order: str = "channel_major",
    matrix: Any = None,
    bias: Any = None,
    max_terms: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Verdict:
    """Check index sum = 𝒲x + b with SymPy's 𝒲, exactly; 𝒲 and b built (the note's blocks in 2-D) unless given.

    ``progress(done, total)`` is called about every :data:`PROGRESS_ROWS` rows with the definition's terms covered
    so far (an estimate near the padding) and once at the end with (total, total).

    >>> prove_sympy(ConvSpec(2, 3, input_size=5, kernel_size=3)).holds
    True
    """
    start = perf_counter()
    check_order(order)
    check_symbolic_size(spec, "verify(method='sympy')", max_terms)
    source = "built" if matrix is None and bias is None else "supplied"
    rows, biases = _sides(spec, order, matrix, bias, max_terms)
    enc = _Encoding(spec)

    mismatch, mismatched = None, 0
    for r, expected, found in _compared(spec, order, rows, biases, enc, progress):
        if mismatch is None:  # the first in ``order``, both sides back as SymPy terms
            mismatch = Mismatch(r, output_index(spec, r, order), tuple(enc.terms(expected)), tuple(enc.terms(found)))
        mismatched += 1
    total = spec.n_terms + spec.n_bias_terms
    if progress is not None:
        progress(total, total)
    return Verdict(
        holds=mismatch is None,
        method="sympy",
        spec=spec,
        order=order,
        terms=total,
        seconds=perf_counter() - start,
        mismatch=mismatch,
        mismatched_rows=mismatched,
        source=source,
    )
