"""Exact forms of convolution implementations, and the diagnosis of common bugs by testing hypotheses.

An implementation that is affine in each of x, ω and b is a sum of terms; :class:`Form` stores them as
three sorted arrays ``(rows, keys, coefficients)``. ``row`` is the output's C-order flat index (over the
output shape the implementation returned, ``y.reshape(-1)``); ``key`` encodes the monomial
(:class:`KeySpace`, 0-based flat indices as in :mod:`symconv.core.symbols`):

* ``key ≥ 0``                      the product x[key // n_w] · ω[key % n_w]   (the index engine's keys)
* ``−1 − β``                       the bias b[β]
* ``−1 − n_b − ξ``                 x[ξ] alone (e.g. a residual connection)
* ``−1 − n_b − d_x − ν``           ω[ν] alone
* ``−1 − n_b − d_x − n_w``         the constant 1

Why hypotheses and not heuristics: each candidate bug — a flipped kernel, off-by-one padding, a stride
or dilation applied wrongly, swapped channels, mixed groups, a transposed kernel, a bias that is missing,
scaled or broadcast along the wrong axis — is built here as a complete form (a :class:`Reader` says how
the buggy code reads x and ω) and compared with the implementation's form term by term. A bug is named
only when its whole form matches; nothing is inferred from names in the user's code.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import bias_symbols, input_symbols, weight_symbols
from ..errors import TooLargeError
from ..forms.direct import direct_terms

__all__ = [
    "MAX_HYPOTHESIS_TERMS",
    "Finding",
    "Form",
    "KeySpace",
    "Reader",
    "diagnose",
    "expected_form",
    "reader_form",
    "standard_reader",
]

#: Hypotheses whose forms would exceed this many terms are not built (diagnosis says so).
MAX_HYPOTHESIS_TERMS = 20_000_000


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

    def bilinear(self, input_flat: int | np.ndarray, weight_flat: int | np.ndarray) -> int | np.ndarray:
        """Key of x[input_flat]·ω[weight_flat]."""
        return input_flat * self.n_w + weight_flat

    def bias(self, bias_flat: int | np.ndarray) -> int | np.ndarray:
        """Key of b[bias_flat]."""
        return -1 - bias_flat

    def x_only(self, input_flat: int | np.ndarray) -> int | np.ndarray:
        """Key of x[input_flat] alone."""
        return -1 - self.n_b - input_flat

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


def _coefficient(value: float) -> sympy.Expr:
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

    ``output_shape`` is (C, H', W') as the implementation returned it; rows are C-order flat indices into it.

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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Form):
            return NotImplemented
        return self.same_terms(other) and np.array_equal(self.coefficients, other.coefficients)

    __hash__ = None  # type: ignore[assignment]

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
            _coefficient(c) * space.monomial(int(k)) for k, c in zip(self.keys[s].tolist(), self.coefficients[s].tolist())
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

    def evaluate(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """The form's value at integer-valued ``x`` (batch, d_x), ``weight`` (n_w,), ``bias`` (n_b,): (batch, d_y).

        Accumulated in float64, which is exact while every partial sum stays below 2⁵³.
        """
        space = self.keyspace
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        weight = np.asarray(weight, dtype=np.float64).reshape(-1)
        bias = np.zeros(0) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
        kind = space.kind(self.keys)
        k = self.keys
        value = np.zeros((len(x), k.size))
        m = kind == 0
        value[:, m] = x[:, k[m] // space.n_w] * weight[k[m] % space.n_w]
        m = kind == 1
        value[:, m] = bias[-1 - k[m]]
        m = kind == 2
        value[:, m] = x[:, -1 - space.n_b - k[m]]
        m = kind == 3
        value[:, m] = weight[-1 - space.n_b - space.d_x - k[m]]
        value[:, kind == 4] = 1.0
        value *= self.coefficients
        d_y = math.prod(self.output_shape)
        return np.stack([np.bincount(self.rows, weights=v, minlength=d_y) for v in value]) if len(x) else np.zeros((0, d_y))


def expected_form(spec: ConvSpec) -> Form:
    """The definition's form (the index sum of :func:`symconv.forms.direct.direct_terms`), rows channel-major.

    >>> len(expected_form(ConvSpec(2, 3, input_size=5, kernel_size=3))) == ConvSpec(2, 3, 5, 3).n_terms + 27
    True
    """
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


# ------------------------------------------------------------------------------------------ readers

CHANNEL_MODES: tuple[str, ...] = ("grouped", "interleaved", "first-group", "swapped")


@dataclass(frozen=True)
class Reader:
    """How an implementation reads x and ω for output y[i, j, k] (0-based).

    Input row ``offset[0] + j·stride[0] + m·dilation[0]`` (columns likewise) meets kernel entry
    ``ω[i, l', m̃, ñ]`` where m̃ = h−1−m when ``flip[0]`` (ñ likewise), the two swapped when
    ``transpose_kernel``; ``transpose_input`` reads x[l, c, r]. ``channels``: ``"grouped"`` (output
    channel i in group i // (C₂/g) reads that group's input channels — PyTorch), ``"interleaved"``
    (group i mod g), ``"first-group"`` (every output reads group 0's inputs), ``"swapped"`` (reads
    ω[l, i] instead of ω[i, l] within a group: in/out channel axes exchanged).
    """

    output_shape: tuple[int, int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    offset: tuple[int, int]
    flip: tuple[bool, bool] = (False, False)
    transpose_kernel: bool = False
    transpose_input: bool = False
    channels: str = "grouped"


def standard_reader(spec: ConvSpec, output_shape: tuple[int, ...] | None = None) -> Reader:
    """The reader of the definition (PyTorch's cross-correlation) for ``spec``."""
    shape = spec.output_shape if output_shape is None else output_shape
    return Reader(
        output_shape=tuple(shape),  # type: ignore[arg-type]
        stride=tuple(spec.stride),  # type: ignore[arg-type]
        dilation=tuple(spec.dilation),  # type: ignore[arg-type]
        offset=tuple(-p for p in spec.padding_before),  # type: ignore[arg-type]
    )


def reader_size(spec: ConvSpec, reader: Reader) -> int:
    """Number of (output, tap) pairs a reader enumerates — an upper bound on its form's size."""
    return math.prod(reader.output_shape) * spec.in_per_group * math.prod(spec.kernel_size)  # type: ignore[arg-type]


def reader_form(spec: ConvSpec, reader: Reader) -> Form | None:
    """The bilinear form (products ω·x only, coefficient 1) of ``reader``; None if it cannot apply.

    A reader cannot apply when it would index outside ω (e.g. a transposed non-square kernel).

    >>> spec = ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1, bias="none")
    >>> reader_form(spec, standard_reader(spec)) == expected_form(spec)
    True
    """
    c_out, h_out, w_out = reader.output_shape
    c_in, height, width = spec.input_shape
    kh, kw = spec.kernel_size  # type: ignore[misc]
    cig, cog = spec.in_per_group, spec.out_per_group
    if reader.transpose_kernel and kh != kw:
        return None
    if reader.transpose_input and height != width:
        return None
    if reader.channels == "swapped" and cig != cog:
        return None
    if c_out > spec.out_channels:
        return None
    if reader_size(spec, reader) > MAX_HYPOTHESIS_TERMS:
        raise TooLargeError(f"diagnosis: a hypothesis form would hold {reader_size(spec, reader):,} terms")
    i, j, k, lp, m, n = np.ix_(
        np.arange(c_out), np.arange(h_out), np.arange(w_out), np.arange(cig), np.arange(kh), np.arange(kw)
    )
    r = reader.offset[0] + j * reader.stride[0] + m * reader.dilation[0]
    c = reader.offset[1] + k * reader.stride[1] + n * reader.dilation[1]
    mm = kh - 1 - m if reader.flip[0] else m
    nn = kw - 1 - n if reader.flip[1] else n
    if reader.transpose_kernel:
        mm, nn = nn, mm
    if reader.transpose_input:
        r, c = c, r
    g = i // cog
    if reader.channels == "interleaved":
        g = i % spec.groups
    if reader.channels == "first-group":
        g = np.zeros_like(i)
    channel = g * cig + lp
    if reader.channels == "swapped":
        # ω[(group of i)·C₂/g + l', i mod C₂/g]: the in/out axes exchanged inside the group
        w_out_index = (i // cog) * cog + lp
        w_in_index = i % cog
    else:
        w_out_index, w_in_index = i, lp
    weight_flat = ((w_out_index * cig + w_in_index) * kh + mm) * kw + nn
    valid = (r >= 0) & (r < height) & (c >= 0) & (c < width) & (channel < c_in)
    shape = np.broadcast_shapes(valid.shape, weight_flat.shape)
    valid = np.broadcast_to(valid, shape)
    row = np.broadcast_to((i * h_out + j) * w_out + k, shape)[valid]
    input_flat = np.broadcast_to((channel * height + r) * width + c, shape)[valid]
    weight_flat = np.broadcast_to(weight_flat, shape)[valid]
    space = KeySpace(spec)
    return Form.build(spec, reader.output_shape, row, space.bilinear(input_flat, weight_flat))


# --------------------------------------------------------------------------------------- hypotheses

@dataclass(frozen=True)
class Finding:
    """One thing found wrong (or suspected) about an implementation.

    ``code`` names the bug (e.g. ``"flipped-kernel"``); ``part`` is what it concerns (``"shape"``,
    ``"products"``, ``"bias"``, ``"extra-terms"``, ``"linearity"``); ``exact`` is True when a complete
    hypothesis form matched the implementation's form term by term.

    Codes: flipped-kernel, transposed-kernel, transposed-input, padding-off-by-one, padding-ignored,
    stride-ignored, stride-wrong, dilation-ignored, dilation-wrong, swapped-channels, mixed-groups,
    outputs-permuted, scaled-products, output-shape, bias-missing, bias-scaled, bias-wrong, bias-shared,
    bias-per-location, extra-input-term, extra-weight-term, constant-term, not-bilinear, unknown.
    """

    code: str
    part: str
    message: str
    exact: bool = True

    def describe(self) -> str:
        """One line: code and message."""
        return f"{self.code}: {self.message}" + ("" if self.exact else " [not an exact match]")


@dataclass(frozen=True)
class _Hypothesis:
    code: str
    text: str
    changes: dict = field(default_factory=dict)  # Reader field → value
    parts: tuple = ()  # for a pair of bugs: the two single hypotheses


def _axes_text(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _same_shape_hypotheses(spec: ConvSpec, base: Reader) -> list[_Hypothesis]:
    """Bugs that keep the output shape: they change where inputs are read, not how many outputs exist."""
    kh, kw = spec.kernel_size  # type: ignore[misc]
    s, d, p = spec.stride, spec.dilation, spec.padding_before
    out: list[_Hypothesis] = []
    if kh > 1 and kw > 1:
        out.append(_Hypothesis(
            "flipped-kernel",
            "kernel flipped on both axes — a true convolution, y[i,j,k] reads ω[i,l,h−1−m,w−1−n]; the spec "
            "(like PyTorch) is a cross-correlation",
            {"flip": (True, True)},
        ))
    if kh > 1:
        out.append(_Hypothesis("flipped-kernel", "kernel flipped vertically only (reads ω[i,l,h−1−m,n])",
                               {"flip": (True, False)}))
    if kw > 1:
        out.append(_Hypothesis("flipped-kernel", "kernel flipped horizontally only (reads ω[i,l,m,w−1−n])",
                               {"flip": (False, True)}))
    if kh == kw > 1:
        out.append(_Hypothesis("transposed-kernel", "kernel axes transposed (reads ω[i,l,n,m] for ω[i,l,m,n])",
                               {"transpose_kernel": True}))
    moves = {(0, -1): "one row up", (0, 1): "one row down", (1, -1): "one column left", (1, 1): "one column right"}
    for dr, dc in itertools.product((-1, 0, 1), repeat=2):
        if (dr, dc) == (0, 0):
            continue
        where = " and ".join(moves[(axis, delta)] for axis, delta in enumerate((dr, dc)) if delta)
        before = tuple(v - delta for v, delta in zip(p, (dr, dc)))
        out.append(_Hypothesis("padding-off-by-one", f"padding off by one: every tap reads the input {where} (as if the "
                               f"top/left padding were {_axes_text(before)} instead of {_axes_text(tuple(p))})",
                               {"offset": (base.offset[0] + dr, base.offset[1] + dc)}))
    if any(v > 1 for v in p):
        out.append(_Hypothesis("padding-ignored", f"padding {_axes_text(p)} left out of the input index "
                               f"(reads row j·s + m·d instead of j·s − p + m·d)", {"offset": (0, 0)}))
    if any(v > 1 for v in s):
        out.append(_Hypothesis("stride-ignored", f"stride {_axes_text(s)} left out of the input index (reads row "
                               f"j − p + m·d instead of j·s − p + m·d; the output has the strided size)",
                               {"stride": (1, 1)}))
        if s[0] != s[1]:
            out.append(_Hypothesis("stride-wrong", f"stride axes swapped (rows step {s[1]}, columns step {s[0]})",
                                   {"stride": (s[1], s[0])}))
    if any(v > 1 for v in d):
        out.append(_Hypothesis("dilation-ignored", f"dilation {_axes_text(d)} left out (reads taps m instead of m·d)",
                               {"dilation": (1, 1)}))
        if d[0] != d[1]:
            out.append(_Hypothesis("dilation-wrong", f"dilation axes swapped (rows {d[1]}, columns {d[0]})",
                                   {"dilation": (d[1], d[0])}))
    if tuple(s) != tuple(d):
        out.append(_Hypothesis("stride-wrong", f"stride and dilation exchanged (input row j·{_axes_text(d)} − p + "
                               f"m·{_axes_text(s)})", {"stride": tuple(d), "dilation": tuple(s)}))
    if spec.groups > 1 and spec.out_per_group > 1:
        out.append(_Hypothesis("mixed-groups", "groups mixed: output channel i reads the input channels of group "
                               f"i mod {spec.groups} instead of i // {spec.out_per_group}", {"channels": "interleaved"}))
    if spec.groups > 1:
        out.append(_Hypothesis("mixed-groups", "groups mixed: every output channel reads group 0's input channels",
                               {"channels": "first-group"}))
    if spec.in_per_group == spec.out_per_group > 1:
        out.append(_Hypothesis("swapped-channels", "in/out channels swapped: reads ω[l, i] for ω[i, l] "
                               "(weight indexed as (in, out, h, w))", {"channels": "swapped"}))
    h, w = spec.input_size  # type: ignore[misc]
    if h == w > 1:
        out.append(_Hypothesis("transposed-input", "input spatial axes transposed (reads x[l, c, r] for x[l, r, c])",
                               {"transpose_input": True}))
    return out


def _shape_hypotheses(spec: ConvSpec, found_shape: tuple[int, ...]) -> list[_Hypothesis]:
    """Other layers whose output shape is the one the implementation returned."""
    alternatives: list[tuple[str, str, dict]] = []
    pads = spec.padding if isinstance(spec.padding, tuple) else spec.padding_before
    for delta in itertools.product((-1, 0, 1), repeat=2):
        new = tuple(p + dv for p, dv in zip(pads, delta))  # type: ignore[arg-type]
        if delta != (0, 0) and min(new) >= 0:
            alternatives.append(("padding-off-by-one", f"padding {_axes_text(new)} instead of {_axes_text(tuple(pads))}",
                                 {"padding": new}))
    if any(pads):
        alternatives.append(("padding-ignored", "padding 0: the padding was not applied", {"padding": 0}))
    if spec.padding == "same":
        alternatives.append(("padding-ignored", "padding 0: 'same' padding was not applied", {"padding": 0}))
    if any(v > 1 for v in spec.stride):  # type: ignore[union-attr]
        alternatives.append(("stride-ignored", "stride 1: the stride was not applied", {"stride": 1}))
    if spec.stride[0] != spec.stride[1]:  # type: ignore[index]
        alternatives.append(("stride-wrong", "stride axes swapped", {"stride": tuple(reversed(spec.stride))}))  # type: ignore[arg-type]
    if any(v > 1 for v in spec.dilation):  # type: ignore[union-attr]
        alternatives.append(("dilation-ignored", "dilation 1: the dilation was not applied", {"dilation": 1}))
    if spec.dilation[0] != spec.dilation[1]:  # type: ignore[index]
        alternatives.append(("dilation-wrong", "dilation axes swapped", {"dilation": tuple(reversed(spec.dilation))}))  # type: ignore[arg-type]
    if tuple(spec.stride) != tuple(spec.dilation):  # type: ignore[arg-type]
        alternatives.append(("stride-wrong", "stride and dilation exchanged", {"stride": spec.dilation, "dilation": spec.stride}))
    out = []
    for code, text, change in alternatives:
        try:
            alt = replace(spec, **change)
        except ValueError:
            continue
        if alt.output_shape != tuple(found_shape):
            continue
        reader = standard_reader(alt)
        out.append(_Hypothesis(code, f"output shape {tuple(found_shape)} is that of {text}",
                               {"output_shape": reader.output_shape, "stride": reader.stride,
                                "dilation": reader.dilation, "offset": reader.offset}))
    return out


def _bias_patterns(spec: ConvSpec, shape: tuple[int, ...]) -> list[tuple[str, str, np.ndarray]]:
    """(code, text, bias index per output row; −1 = no bias there) for ways of adding b."""
    c, h, w = shape
    i, j, k = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    out: list[tuple[str, str, np.ndarray]] = []
    if spec.bias == "shared":
        out.append(("expected", "b[i] at every output of channel i", np.where(i < spec.out_channels, i, -1)))
        if w == spec.out_channels:
            out.append(("bias-wrong", "bias broadcast along the last axis: y[i,j,k] gets b[k] instead of b[i] "
                        "(a (C₂,) bias added to a (C₂, H', W') array)", k))
        if h == spec.out_channels:
            out.append(("bias-wrong", "bias broadcast along the rows: y[i,j,k] gets b[j] instead of b[i]", j))
    elif spec.bias == "per_location":
        ho, wo = spec.output_size
        inside = (i < spec.out_channels) & (j < ho) & (k < wo)
        out.append(("expected", "b[i,j,k] at output y[i,j,k]", np.where(inside, (i * ho + j) * wo + k, -1)))
        out.append(("bias-shared", "bias shared per channel: every location of channel i gets b[i,0,0], the spec "
                    "has one bias per output location", np.where(i < spec.out_channels, i * ho * wo, -1)))
        if ho == wo:
            out.append(("bias-wrong", "bias locations transposed: y[i,j,k] gets b[i,k,j]",
                        np.where(inside, (i * ho + k) * wo + j, -1)))
    return [(code, text, pattern.reshape(-1)) for code, text, pattern in out]


def _bias_findings(spec: ConvSpec, found: Form) -> list[Finding]:
    """What is wrong with the bias terms, by comparing them with each way of adding b."""
    part = found.part(1)
    space = KeySpace(spec)
    patterns = _bias_patterns(spec, found.output_shape)
    expected = next((p for code, _, p in patterns if code == "expected"), None)
    if spec.bias == "none":
        return [] if not len(part) else [Finding("bias-wrong", "bias", "bias terms found but the spec has none")]
    if not len(part):
        return [Finding("bias-missing", "bias", "bias missing: no output depends on b")]
    for code, text, pattern in patterns:
        rows = np.flatnonzero(pattern >= 0)
        candidate = Form.build(spec, found.output_shape, rows, space.bias(pattern[rows]))
        if not candidate.same_terms(part):
            continue
        scale = part.uniform_coefficient()
        if code == "expected":
            if scale == 1.0:
                return []
            if scale is not None:
                return [Finding("bias-scaled", "bias", f"bias added {_coefficient(scale)} times instead of once "
                                "(e.g. inside the loop over input channels or kernel taps)")]
            return [Finding("bias-scaled", "bias", "bias added with varying multiplicity at different outputs")]
        times = "" if scale == 1.0 else f", added {_coefficient(scale)} times" if scale is not None else ", unevenly"
        return [Finding(code, "bias", text + times)]
    if expected is not None:
        rows = np.flatnonzero(expected >= 0)
        want = Form.build(spec, found.output_shape, rows, space.bias(expected[rows]))
        missing = len(want) - want.overlap(part)
        return [Finding("bias-wrong", "bias", f"bias terms match no known pattern: {missing} of the {len(want)} "
                        f"expected b terms are missing, {len(part) - part.overlap(want)} others appear", exact=False)]
    return [Finding("bias-wrong", "bias", "bias terms match no known pattern", exact=False)]


def _extra_findings(found: Form) -> list[Finding]:
    """Terms no convolution has: x alone, ω alone, constants."""
    out = []
    for kind, code, text in (
        (2, "extra-input-term", "output depends on x without ω (e.g. a residual connection x added to y)"),
        (3, "extra-weight-term", "output depends on ω without x"),
        (4, "constant-term", "output has a constant term (fn(0, 0, 0) ≠ 0)"),
    ):
        part = found.part(kind)
        if len(part):
            row = int(part.rows[0])
            example = " + ".join(str(t) for t in part.terms_of(row)[:3])
            out.append(Finding(code, "extra-terms", f"{text}; {len(part)} such terms, e.g. y[{row}] ∋ {example}"))
    return out


def _combine(a: _Hypothesis, b: _Hypothesis) -> _Hypothesis | None:
    if set(a.changes) & set(b.changes) or a.code == b.code:
        return None
    return _Hypothesis(f"{a.code}+{b.code}", f"{a.text}; and {b.text}", {**a.changes, **b.changes}, parts=(a, b))


def _products_findings(spec: ConvSpec, found: Form, expected: Form | None) -> list[Finding]:
    """Which hypothesis forms equal the products part of the implementation, exactly."""
    products = found.part(0)
    if expected is not None and products.same_terms(expected.part(0)):
        scale = products.uniform_coefficient()
        if scale == 1.0:
            return []
        text = f"every product ω·x scaled by {_coefficient(scale)}" if scale is not None else "products with wrong coefficients"
        return [Finding("scaled-products", "products", text)]
    base = standard_reader(spec, found.output_shape)
    if tuple(found.output_shape) == spec.output_shape:
        singles = _same_shape_hypotheses(spec, base)
    else:
        singles = _shape_hypotheses(spec, found.output_shape)
        # a shape bug may come with a same-shape bug (e.g. stride ignored and kernel flipped)
        singles += [h for h in _same_shape_hypotheses(spec, base) if "offset" not in h.changes and "stride" not in h.changes]
    if reader_size(spec, base) > MAX_HYPOTHESIS_TERMS:
        return [Finding("unknown", "products", "layer too large to build the bug hypotheses", exact=False)]
    reference = None if expected is None else expected.part(0)
    seen: list[Form] = []
    matches: list[tuple[_Hypothesis, float | None]] = []
    best: tuple[int, _Hypothesis | None] = (-1, None)

    def test(hypothesis: _Hypothesis) -> None:
        nonlocal best
        form = reader_form(spec, replace(base, **hypothesis.changes))
        if form is None or (reference is not None and form.same_terms(reference)):
            return  # does not apply, or indistinguishable from the correct layer
        if any(form.same_terms(f) for f in seen):
            return  # same bug as an earlier hypothesis
        seen.append(form)
        if form.same_terms(products):
            matches.append((hypothesis, products.uniform_coefficient()))
        elif not matches and form.output_shape == products.output_shape:
            common = form.overlap(products)
            if common > best[0]:
                best = (common, hypothesis)

    for h in singles:
        test(h)
    if not matches and len(singles) ** 2 * reader_size(spec, base) <= 5e7:
        for a, b in itertools.combinations(singles, 2):
            pair = _combine(a, b)
            if pair is not None:
                test(pair)
            if matches:
                break
    if matches:
        out = []
        for hypothesis, scale in matches:
            suffix = ""
            if scale is None:
                suffix = " (with wrong coefficients)"
            elif scale != 1.0:
                suffix = f" (every product scaled by {_coefficient(scale)})"
            if hypothesis.parts:
                a, b = hypothesis.parts
                out.append(Finding(a.code, "products", f"{a.text}{suffix} — together with {b.code}"))
                out.append(Finding(b.code, "products", f"{b.text}{suffix} — together with {a.code}"))
            else:
                out.append(Finding(hypothesis.code, "products", hypothesis.text + suffix))
        return out
    if best[1] is not None and len(products) and best[0] >= len(products) / 2:
        return [Finding(best[1].code, "products", f"{best[1].text} — agrees on {best[0]} of {len(products)} "
                        f"products ({best[0] / len(products):.0%})", exact=False)]
    return [Finding("unknown", "products", "the products ω·x match none of the known bugs", exact=False)]


def _row_signatures(form: Form) -> dict[int, bytes]:
    """Each row's terms and coefficients as bytes (equal bytes ⇔ equal polynomials)."""
    starts = np.flatnonzero(np.r_[True, form.rows[1:] != form.rows[:-1]]) if len(form) else np.empty(0, np.int64)
    ends = np.r_[starts[1:], len(form)].astype(np.int64)
    return {
        int(form.rows[a]): form.keys[a:b].tobytes() + form.coefficients[a:b].tobytes()
        for a, b in zip(starts.tolist(), ends.tolist())
    }


def _permutation_finding(spec: ConvSpec, found: Form, expected: Form) -> Finding | None:
    """If every output holds exactly what belongs to another output, say which outputs moved where."""
    want = _row_signatures(expected)
    have = _row_signatures(found)
    if len(want) != len(have) or len(set(want.values())) != len(want):
        return None
    home = {signature: row for row, signature in want.items()}
    moved = {row: home.get(signature) for row, signature in have.items()}
    if None in moved.values() or len(set(moved.values())) != len(moved):
        return None
    shape = spec.output_shape
    pairs = [(np.unravel_index(r, shape), np.unravel_index(t, shape)) for r, t in moved.items() if r != t]  # type: ignore[arg-type]
    if not pairs:
        return None
    channels = {int(a[0]): int(b[0]) for a, b in pairs}
    if all(a[1:] == b[1:] for a, b in pairs):
        mapping = tuple(channels.get(i, i) for i in range(spec.out_channels))
        return Finding("outputs-permuted", "products", f"output channels in the wrong order: channel i holds channel "
                       f"π(i), π = {mapping}")
    if all(a[0] == b[0] and a[1] == b[2] and a[2] == b[1] for a, b in pairs):
        return Finding("outputs-permuted", "products", "output spatial axes transposed: y[i,j,k] holds y[i,k,j]")
    (a, b) = pairs[0]
    return Finding("outputs-permuted", "products", f"outputs permuted: {len(pairs)} outputs hold another output's "
                   f"value, e.g. y[{', '.join(map(str, map(int, a)))}] holds y[{', '.join(map(str, map(int, b)))}]")


def diagnose(spec: ConvSpec, found: Form) -> tuple[Finding, ...]:
    """Findings that explain how ``found`` differs from the definition for ``spec`` (empty if it does not).

    >>> spec = ConvSpec(1, 1, input_size=4, kernel_size=2, bias="none")
    >>> flipped = reader_form(spec, replace(standard_reader(spec), flip=(True, True)))
    >>> [f.code for f in diagnose(spec, flipped)]
    ['flipped-kernel']
    """
    expected = expected_form(spec)
    findings: list[Finding] = []
    same_shape = tuple(found.output_shape) == spec.output_shape
    if not same_shape:
        findings.append(Finding("output-shape", "shape", f"output shape {tuple(found.output_shape)}, expected "
                                f"{spec.output_shape} (C₂, H', W')"))
    products = _products_findings(spec, found, expected if same_shape else None)
    permuted = _permutation_finding(spec, found, expected) if same_shape and products else None
    if permuted is not None:
        # whole outputs sit in the wrong place: the simplest account when no hypothesis matched exactly,
        # an equivalent one when one did (transposing y = transposing x and ω)
        if any(not f.exact for f in products):
            return (permuted,)
        return (*products, replace(permuted, message="equivalently: " + permuted.message))
    findings += products
    findings += _bias_findings(spec, found)
    findings += _extra_findings(found)
    return tuple(findings)
