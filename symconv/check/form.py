"""The bilinear form of a convolution implementation: its terms c·ω·x, c·b, c·x, c·ω and c, as sorted arrays.

An implementation that is affine in each of x, ω and b is a sum of terms; :class:`Form` stores them as
three sorted arrays ``(rows, keys, coefficients)``. ``row`` is the output's C-order flat index (over the
output shape the implementation returned, ``y.reshape(-1)``); ``key`` encodes the monomial
(:class:`KeySpace`, 0-based flat indices as in :mod:`symconv.core.symbols`):

* ``key ≥ 0``                      the product x[key // n_w] · ω[key % n_w]   (the index engine's keys)
* ``−1 − β``                       the bias b[β]
* ``−1 − n_b − ξ``                 x[ξ] alone (e.g. a residual connection)
* ``−1 − n_b − d_x − ν``           ω[ν] alone
* ``−1 − n_b − d_x − n_w``         the constant 1

Every stage of the check speaks this one type: the symbolic run and the probes read a Form out of fn's
outputs, the hypotheses of :mod:`symconv.check.hypotheses` are Forms, and the diagnosis compares Forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import overload

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import bias_symbols, input_symbols, weight_symbols
from ..forms.direct import direct_bias, direct_terms
from ..forms.padding import mode_terms

__all__ = ["Form", "KeySpace", "coefficient_expr", "expected_form", "mode_form"]


@dataclass(frozen=True)
class KeySpace:
    """The monomials of a layer's polynomial, numbered as int64 keys (see the module docstring).

    >>> ks = KeySpace(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> ks.describe(ks.bilinear(input_flat=4, weight_flat=3)), ks.describe(-1), ks.describe(ks.constant)
    ('omega_0,0,1,1*x_0,1,1', 'b_0', '1')
    """

    spec: ConvSpec

    @property
    def n_w(self) -> int:
        """Number of weights, C₂·C₁/g·h·w."""
        return math.prod(self.spec.weight_shape)

    @property
    def n_b(self) -> int:
        """Number of biases (0 without bias)."""
        return 0 if self.spec.bias == "none" else math.prod(self.spec.bias_shape)

    @property
    def d_x(self) -> int:
        """Number of inputs, C₁·H·W."""
        return self.spec.d_x

    @property
    def constant(self) -> int:
        """The key of the constant monomial 1."""
        return -1 - self.n_b - self.d_x - self.n_w

    @overload
    def bilinear(self, input_flat: int, weight_flat: int) -> int: ...
    @overload
    def bilinear(self, input_flat: np.ndarray, weight_flat: int | np.ndarray) -> np.ndarray: ...
    @overload
    def bilinear(self, input_flat: int | np.ndarray, weight_flat: np.ndarray) -> np.ndarray: ...

    def bilinear(self, input_flat: int | np.ndarray, weight_flat: int | np.ndarray) -> int | np.ndarray:
        """Key of x[input_flat]·ω[weight_flat]."""
        return input_flat * self.n_w + weight_flat

    @overload
    def bias(self, bias_flat: int) -> int: ...
    @overload
    def bias(self, bias_flat: np.ndarray) -> np.ndarray: ...

    def bias(self, bias_flat: int | np.ndarray) -> int | np.ndarray:
        """Key of b[bias_flat]."""
        return -1 - bias_flat

    @overload
    def x_only(self, input_flat: int) -> int: ...
    @overload
    def x_only(self, input_flat: np.ndarray) -> np.ndarray: ...

    def x_only(self, input_flat: int | np.ndarray) -> int | np.ndarray:
        """Key of x[input_flat] alone."""
        return -1 - self.n_b - input_flat

    @overload
    def w_only(self, weight_flat: int) -> int: ...
    @overload
    def w_only(self, weight_flat: np.ndarray) -> np.ndarray: ...

    def w_only(self, weight_flat: int | np.ndarray) -> int | np.ndarray:
        """Key of ω[weight_flat] alone."""
        return -1 - self.n_b - self.d_x - weight_flat

    def kind(self, keys: np.ndarray) -> np.ndarray:
        """Per key: 0 product ω·x, 1 bias, 2 x alone, 3 ω alone, 4 constant."""
        keys = np.asarray(keys)
        out = np.full(keys.shape, 4, dtype=np.int8)
        out[keys > self.constant] = 3
        out[keys > -1 - self.n_b - self.d_x] = 2
        out[keys > -1 - self.n_b] = 1
        out[keys >= 0] = 0
        return out

    def monomial(self, key: int) -> sympy.Expr:
        """The monomial of ``key`` as a SymPy expression."""
        weights, inputs, biases = _flat_symbols(self.spec)
        kind = int(self.kind(np.array(key)))
        if kind == 0:
            return weights[key % self.n_w] * inputs[key // self.n_w]
        if kind == 1:
            return biases[-1 - key]
        if kind == 2:
            return inputs[-1 - self.n_b - key]
        if kind == 3:
            return weights[-1 - self.n_b - self.d_x - key]
        return sympy.S.One

    def describe(self, key: int) -> str:
        """The monomial of ``key`` as text."""
        return str(self.monomial(key))


@lru_cache(maxsize=16)
def _flat_symbols(spec: ConvSpec) -> tuple[list, list, list]:
    bias = [] if spec.bias == "none" else list(np.array(bias_symbols(spec).tolist(), dtype=object).reshape(-1))
    return (
        list(np.array(weight_symbols(spec).tolist(), dtype=object).reshape(-1)),
        list(np.array(input_symbols(spec).tolist(), dtype=object).reshape(-1)),
        bias,
    )


def coefficient_expr(value: float) -> sympy.Expr:
    """An extracted coefficient as SymPy: exact for integers and dyadic fractions, a small fraction if one is within
    10⁻¹² of it (1/3), else a Float with the digits of the value — never rounded to a different-looking number."""
    if float(value).is_integer():
        return sympy.Integer(int(value))
    exact = sympy.Rational(value)
    if exact.q <= 1 << 20:
        return exact
    small = exact.limit_denominator(10**6)
    if small != 0 and abs(float(small) - value) <= 1e-12 * abs(value):
        return small  # e.g. 1/3, read back as 0.333… from a float
    return sympy.Float(repr(float(value)))  # shortest digits that give back the value: 1.0000001, 1e-07


@dataclass(frozen=True, eq=False)
class Form:
    """An implementation's (or a hypothesis's) terms: sorted by (row, key), merged, no zero coefficients.

    ``output_shape`` is (C, *spatial') as the implementation returned it; rows are C-order flat indices into it.

    >>> f = expected_form(ConvSpec(1, 1, input_size=2, kernel_size=2, bias="none"))
    >>> len(f), f.terms_of(0)
    (4, (omega_0,0,0,0*x_0,0,0, omega_0,0,0,1*x_0,0,1, omega_0,0,1,0*x_0,1,0, omega_0,0,1,1*x_0,1,1))
    """

    spec: ConvSpec
    output_shape: tuple[int, ...]
    rows: np.ndarray
    keys: np.ndarray
    coefficients: np.ndarray

    @classmethod
    def build(
        cls, spec: ConvSpec, output_shape: tuple[int, ...], rows: np.ndarray, keys: np.ndarray,
        coefficients: np.ndarray | None = None,
    ) -> Form:
        """Sort, merge repeated (row, key) pairs and drop zero coefficients."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        coefficients = (
            np.ones(rows.size) if coefficients is None else np.asarray(coefficients, dtype=np.float64).reshape(-1)
        )
        order = np.lexsort((keys, rows))
        rows, keys, coefficients = rows[order], keys[order], coefficients[order]
        if rows.size:
            starts = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (keys[1:] != keys[:-1])])
            if starts.size != rows.size:
                coefficients = np.add.reduceat(coefficients, starts)
                rows, keys = rows[starts], keys[starts]
        keep = coefficients != 0
        return cls(spec, tuple(output_shape), rows[keep], keys[keep], coefficients[keep])

    def __len__(self) -> int:
        return int(self.rows.size)

    @property
    def keyspace(self) -> KeySpace:
        """How this form's keys are numbered."""
        return KeySpace(self.spec)

    def part(self, kind: int) -> Form:
        """The terms of one kind (0 products ω·x, 1 bias, 2 x alone, 3 ω alone, 4 constant)."""
        keep = self.keyspace.kind(self.keys) == kind
        return Form(self.spec, self.output_shape, self.rows[keep], self.keys[keep], self.coefficients[keep])

    def same_terms(self, other: Form) -> bool:
        """Same (row, key) pairs, whatever the coefficients."""
        return (
            self.output_shape == other.output_shape
            and np.array_equal(self.rows, other.rows)
            and np.array_equal(self.keys, other.keys)
        )

    # __eq__ without __hash__: Python sets __hash__ to None, so a Form (mutable arrays inside) is unhashable
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Form):
            return NotImplemented
        return self.same_terms(other) and np.array_equal(self.coefficients, other.coefficients)

    def uniform_coefficient(self) -> float | None:
        """The one coefficient every term has, if they all have the same one."""
        if not self.coefficients.size:
            return None
        first = float(self.coefficients[0])
        return first if np.all(self.coefficients == first) else None

    def row_slice(self, row: int) -> slice:
        """Where ``row``'s terms sit in the arrays."""
        lo, hi = np.searchsorted(self.rows, [row, row + 1])
        return slice(int(lo), int(hi))

    def terms_of(self, row: int) -> tuple[sympy.Expr, ...]:
        """The terms of output ``row`` as SymPy expressions (coefficient × monomial)."""
        s = self.row_slice(row)
        space = self.keyspace
        return tuple(
            coefficient_expr(c) * space.monomial(int(k)) for k, c in zip(self.keys[s].tolist(), self.coefficients[s].tolist())
        )

    def differing_rows(self, other: Form) -> np.ndarray:
        """Rows whose terms or coefficients differ between the two forms (same output shape)."""
        rows = np.concatenate([self.rows, other.rows])
        keys = np.concatenate([self.keys, other.keys])
        coefficients = np.concatenate([self.coefficients, -other.coefficients])
        if not rows.size:
            return rows
        order = np.lexsort((keys, rows))
        rows, keys, coefficients = rows[order], keys[order], coefficients[order]
        starts = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (keys[1:] != keys[:-1])])
        sums = np.add.reduceat(coefficients, starts)
        return np.unique(rows[starts[sums != 0]])

    def overlap(self, other: Form) -> int:
        """Number of (row, key) pairs both forms have."""
        width = max(int(self.keys.max(initial=0)), int(other.keys.max(initial=0))) + 1
        offset = -min(int(self.keys.min(initial=0)), int(other.keys.min(initial=0)))
        a = self.rows * (width + offset) + self.keys + offset
        b = other.rows * (width + offset) + other.keys + offset
        return int(np.intersect1d(a, b, assume_unique=True).size)

    @cached_property
    def _plan(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per term: the column of x it reads (d_x: none) and the entry of (ω, b) it reads (n_w + n_b: none);
        then where each output row's terms start, and which rows have terms. Computed once per form."""
        space = self.keyspace
        kind = space.kind(self.keys)
        k = self.keys
        x_index = np.full(k.size, space.d_x, dtype=np.int64)  # x padded with a column of ones
        p_index = np.full(k.size, space.n_w + space.n_b, dtype=np.int64)  # (ω, b) padded with a one
        m = kind == 0
        x_index[m], p_index[m] = k[m] // space.n_w, k[m] % space.n_w
        m = kind == 1
        p_index[m] = space.n_w + (-1 - k[m])
        m = kind == 2
        x_index[m] = -1 - space.n_b - k[m]
        m = kind == 3
        p_index[m] = -1 - space.n_b - space.d_x - k[m]
        starts = np.flatnonzero(np.r_[True, self.rows[1:] != self.rows[:-1]]) if k.size else np.zeros(0, np.int64)
        return x_index, p_index, starts, self.rows[starts]

    def _term_values(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """Each term's value c·monomial at the given inputs: (batch, terms)."""
        x_index, p_index, _, _ = self._plan
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        params = np.concatenate([np.asarray(weight, dtype=np.float64).reshape(-1),
                                 np.zeros(0) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1), [1.0]])
        if params.size != self.keyspace.n_w + self.keyspace.n_b + 1:  # no bias given for a form with bias terms
            params = np.concatenate([params[:-1], np.zeros(self.keyspace.n_w + self.keyspace.n_b + 1 - params.size), [1.0]])
        x = np.concatenate([x, np.ones((len(x), 1))], axis=1)
        return (self.coefficients * params[p_index]) * x[:, x_index]

    def _sum_rows(self, value: np.ndarray) -> np.ndarray:
        _, _, starts, rows = self._plan
        out = np.zeros((len(value), math.prod(self.output_shape)))
        if starts.size:
            out[:, rows] = np.add.reduceat(value, starts, axis=1)
        return out

    def evaluate(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """The form's value at ``x`` (batch, d_x), ``weight`` (n_w,), ``bias`` (n_b,): (batch, d_y).

        Accumulated in float64, which is exact for integer values while every partial sum stays below 2⁵³.
        """
        return self._sum_rows(self._term_values(x, weight, bias))

    def evaluate_with_magnitude(self, x: np.ndarray, weight: np.ndarray,
                                bias: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The form's value and, per output, Σ|c·monomial| (what a rounding bound scales with): both (batch, d_y)."""
        value = self._term_values(x, weight, bias)
        return self._sum_rows(value), self._sum_rows(np.abs(value))


def expected_form(spec: ConvSpec) -> Form:
    """The definition's form (the index sum of :func:`symconv.forms.direct.direct_terms`), rows channel-major.

    A spec with ``padding_mode`` other than zeros gets :func:`mode_form` (taps read x through the padding map).

    >>> len(expected_form(ConvSpec(2, 3, input_size=5, kernel_size=3))) == ConvSpec(2, 3, 5, 3).n_terms + 27
    True
    """
    if spec.padding_mode != "zeros":
        return mode_form(spec)
    terms = direct_terms(spec)
    positions = len(terms.positions)
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    # direct_terms rows are (position, channel); channel-major row = channel·P + position
    row_grid = np.arange(spec.out_channels)[None, :] * positions + terms.positions[:, None]
    rows = np.broadcast_to(row_grid[:, :, None, None], terms.keys.shape)[valid]
    keys = terms.keys[valid]
    bias_rows = np.broadcast_to(row_grid[:, :, None], terms.bias.shape).reshape(-1)
    bias_keys = (-1 - terms.bias).reshape(-1)
    return Form.build(spec, spec.output_shape, np.concatenate([rows, bias_rows]), np.concatenate([keys, bias_keys]))


def mode_form(spec: ConvSpec, mode: str | None = None) -> Form:
    """The form of ``spec`` padded with ``mode`` (default ``spec.padding_mode``): the products of
    :func:`symconv.forms.padding.mode_terms` — every tap kept, x read through the padding map, so one output may
    read one x through two weights (ω_a·x + ω_b·x) — and the bias, rows channel-major.

    >>> spec = ConvSpec(1, 1, input_size=3, kernel_size=3, padding=1, bias="none", padding_mode="replicate")
    >>> corner = sum(mode_form(spec).terms_of(0))      # y[0,0,0] reads x[0,0,0] through four taps
    >>> corner.coeff(sympy.Symbol("x_0,0,0"))
    omega_0,0,0,0 + omega_0,0,0,1 + omega_0,0,1,0 + omega_0,0,1,1
    """
    terms = mode_terms(spec, mode)
    space = KeySpace(spec)
    positions = math.prod(spec.output_size)
    bias = direct_bias(spec, np.arange(positions), range(spec.out_channels))  # (P, C, 1) or (P, C, 0)
    bias_rows = np.broadcast_to(np.arange(spec.out_channels)[None, :, None] * positions
                                + np.arange(positions)[:, None, None], bias.shape).reshape(-1)
    rows = np.concatenate([terms.out, bias_rows])
    keys = np.concatenate([space.bilinear(terms.b, terms.a), space.bias(bias.reshape(-1))])
    return Form.build(spec, spec.output_shape, rows, keys)
