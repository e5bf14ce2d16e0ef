"""Dumoulin & Visin's convolution arithmetic (arXiv:1603.07285), derived from one counted formula.

Every relationship of the guide is the output size that :mod:`symconv.closed.counts` derives (the number
of window positions o ≥ 0 whose last tap fits the padded input, ``solve`` + ``Sum.doit``) with the
relationship's conditions substituted and simplified by SymPy — never typed in.

Transposed convolutions follow the guide's own argument: the transpose of a convolution (i, k, s, p,
d) is a *direct* convolution with stride 1, the same kernel and dilation, padding ``d(k − 1) − p``
per side, applied to the input stretched by ``s − 1`` zeros between entries plus ``a`` extra zeros on
one side (``a`` = PyTorch's ``output_padding``). Its output size is the same derived formula at
those values. Names are the guide's: ``i`` input size, ``k`` kernel, ``s`` stride, ``p`` padding per
side, ``d`` dilation, ``o`` output; ``i_t`` is the input of the transposed convolution (the guide's i′).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from ..core.symbols import size_symbols
from ..errors import SpecError
from .counts import Step, formula

# the first axis's size symbols (H, h, s_h, p_h, d_h), in which counts derives the output size
_AXIS = size_symbols(2)[0]

__all__ = ["Relationship", "conv_output_size", "conv_transpose_output_size", "relationships"]

_pos = {"integer": True, "positive": True}
i, k, s, d, i_t, n = (sympy.Symbol(name, **_pos) for name in ("i", "k", "s", "d", "i'", "n"))
p, a = sympy.Symbol("p", integer=True, nonnegative=True), sympy.Symbol("a", integer=True, nonnegative=True)
o, o_t = sympy.Symbol("o"), sympy.Symbol("o'")


@dataclass(frozen=True)
class Relationship:
    """One relationship of the guide: its conditions, the derivation, and ``o = …`` (or ``o' = …``).

    ``equivalent`` (transposed only) lists the direct convolution that computes the transpose:
    stretched input size, kernel, stride, padding per side.
    """

    number: int | None  # the guide's numbering; None for the dilated transposed case it does not number
    title: str
    conditions: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    transposed: bool
    steps: tuple[Step, ...]
    equation: sympy.Eq
    equivalent: tuple[tuple[str, sympy.Expr], ...] = ()

    @property
    def output(self) -> sympy.Expr:
        """The right-hand side: the output size."""
        return self.equation.rhs


@lru_cache(maxsize=1)
def _forward() -> sympy.Expr:
    """The derived output size (counts.output_height) in the guide's names."""
    return formula("output_height").expr.subs({_AXIS.n: i, _AXIS.k: k, _AXIS.s: s, _AXIS.p: p, _AXIS.d: d}, simultaneous=True)


@lru_cache(maxsize=1)
def _transposed() -> tuple[sympy.Expr, tuple[tuple[str, sympy.Expr], ...]]:
    """Output size of the transposed convolution: the derived formula at the equivalent direct conv."""
    stretched = i_t + (s - 1) * (i_t - 1) + a  # s − 1 zeros between the i' inputs, a zeros after
    padding = d * (k - 1) - p
    at_equivalent = {_AXIS.n: stretched, _AXIS.k: k, _AXIS.s: 1, _AXIS.p: padding, _AXIS.d: d}
    size = formula("output_height").expr.subs(at_equivalent, simultaneous=True)
    equivalent = (("input (stretched)", sympy.expand(stretched)), ("kernel", k), ("stride", sympy.Integer(1)),
                  ("padding per side", padding), ("dilation", d))
    return sympy.expand(size), equivalent


def _simplify(expr: sympy.Expr) -> sympy.Expr:
    """Simplified and expanded, with the argument of a floor over one common denominator."""
    simple = sympy.expand(sympy.simplify(expr))
    return simple.replace(lambda e: isinstance(e, sympy.floor), lambda e: sympy.floor(sympy.together(e.args[0])))


@lru_cache(maxsize=1)
def relationships() -> tuple[Relationship, ...]:
    """The guide's 15 relationships (and PyTorch's dilated transposed size), each derived by SymPy.

    >>> r = {x.number: x for x in relationships()}
    >>> r[1].equation, r[4].equation
    (Eq(o, i - k + 1), Eq(o, i + k - 1))
    >>> r[14].equation
    Eq(o', a + i'*s + k - 2*p - s)
    """
    forward = _forward()
    transposed, equivalent = _transposed()
    unit = {s: 1, d: 1}
    half = {k: 2 * n + 1, p: n}
    table: tuple[tuple[int | None, str, dict[sympy.Symbol, Any], bool], ...] = (
        (1, "no zero padding, unit strides", {**unit, p: 0}, False),
        (2, "zero padding, unit strides", unit, False),
        (3, "half (same) padding, unit strides, odd kernel k = 2n + 1", {**unit, **half}, False),
        (4, "full padding, unit strides", {**unit, p: k - 1}, False),
        (5, "no zero padding, non-unit strides", {d: 1, p: 0}, False),
        (6, "zero padding, non-unit strides", {d: 1}, False),
        (7, "pooling (no padding): window positions as for convolution", {d: 1, p: 0}, False),
        (8, "transposed: no zero padding, unit strides", {**unit, p: 0, a: 0}, True),
        (9, "transposed: zero padding, unit strides", {**unit, a: 0}, True),
        (10, "transposed: half padding, unit strides", {**unit, **half, a: 0}, True),
        (11, "transposed: full padding, unit strides", {**unit, p: k - 1, a: 0}, True),
        (12, "transposed: no zero padding, non-unit strides, s divides i − k", {d: 1, p: 0, a: 0}, True),
        (13, "transposed: zero padding, non-unit strides, s divides i + 2p − k", {d: 1, a: 0}, True),
        (14, "transposed: zero padding, non-unit strides, a = (i + 2p − k) mod s", {d: 1}, True),
        (15, "dilated convolution", {}, False),
        (None, "transposed, dilated (PyTorch's ConvTranspose output size, a = output_padding)", {}, True),
    )
    out = []
    for number, title, conditions, is_transposed in table:
        start = transposed if is_transposed else forward
        lhs = o_t if is_transposed else o
        substituted = start.subs(conditions, simultaneous=True)
        result = _simplify(substituted)
        steps = (
            Step("transposed: the derived output size at the equivalent direct convolution" if is_transposed
                 else "the derived output size (count of window positions) in the guide's names", sympy.Eq(lhs, start)),
            Step("conditions substituted", sympy.Eq(lhs, substituted)),
            Step("simplified", sympy.Eq(lhs, result)),
        )
        eq_sub: tuple[tuple[str, sympy.Expr], ...] = ()
        if is_transposed:
            eq_sub = tuple((name, sympy.simplify(v.subs(conditions, simultaneous=True))) for name, v in equivalent)
        out.append(Relationship(number, title, tuple(conditions.items()), is_transposed, steps, sympy.Eq(lhs, result), eq_sub))
    return tuple(out)


def _check(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise SpecError(f"{name} must be an int ≥ {minimum}, got {value!r}")
    return value


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output size of a convolution on one axis, from the derived formula.

    >>> conv_output_size(5, 3, stride=2, padding=1)
    3
    """
    values = {i: _check("size", size, 1), k: _check("kernel", kernel, 1), s: _check("stride", stride, 1),
              p: _check("padding", padding, 0), d: _check("dilation", dilation, 1)}
    out = int(_forward().xreplace({key: sympy.Integer(v) for key, v in values.items()}))
    if out < 1:
        raise SpecError(f"kernel must fit the padded input: dilated kernel {dilation * (kernel - 1) + 1} > {size} + 2·{padding}")
    return out


def conv_transpose_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0
) -> int:
    """Output size of a transposed convolution on one axis, from the derived formula.

    >>> conv_transpose_output_size(3, 3, stride=2, padding=1, output_padding=1)
    6
    """
    values = {i_t: _check("size", size, 1), k: _check("kernel", kernel, 1), s: _check("stride", stride, 1),
              p: _check("padding", padding, 0), d: _check("dilation", dilation, 1),
              a: _check("output_padding", output_padding, 0)}
    if output_padding >= max(stride, dilation):
        raise SpecError(f"output_padding must be < max(stride, dilation) = {max(stride, dilation)}, got {output_padding}")
    out = int(_transposed()[0].xreplace({key: sympy.Integer(v) for key, v in values.items()}))
    if out < 1:
        raise SpecError(f"padding too large for a transposed convolution of size {size}: output size would be {out}")
    return out
