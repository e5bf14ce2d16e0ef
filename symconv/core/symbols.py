"""Symbols ω, b, x and the index conventions — written down once, here, and used everywhere.

Index conventions
-----------------
* All indices are **0-based**, like NumPy and PyTorch. Weight ω has PyTorch's layout
  ``(C₂, C₁/groups, h, w)``: ``ω[i, l', m, n]`` is output channel ``i``, input channel ``l'`` *within
  the group of i*, kernel row ``m``, kernel column ``n``. Input ``x[l, r, c]`` has shape ``(C₁, H, W)``;
  output ``y[i, j, k]`` has shape ``(C₂, H', W')``.
* Output ``y[i, j, k]`` reads input row ``r = j·s_h − p_top + m·d_h`` and column
  ``c = k·s_w − p_left + n·d_w`` (PyTorch's cross-correlation); taps outside the input meet zero padding.
  With groups, output channel ``i`` belongs to group ``g = i // (C₂/groups)`` and reads input channels
  ``l = g·(C₁/groups) + l'``.
* Columns of 𝒲 are the **C-order flatten of x**: ``col = (l·H + r)·W + c`` (``x.reshape(-1)``).
* Rows of 𝒲 come in two named orders (:data:`ORDERS`):

  - ``"channel_major"`` — the C-order flatten of y, ``row = (i·H' + j)·W' + k``; what
    ``y.reshape(-1)`` gives in NumPy/PyTorch. The default.
  - ``"seed"`` — the lecture note's order: location-major with channels inside,
    ``row = (j·W' + k)·C₂ + i`` (𝒲 stacks 𝒲_{1,1}, 𝒲_{1,2}, …, each C₂ rows).

* Any number of spatial axes: x has shape ``(C₁, *input_size)``, ω ``(C₂, C₁/groups, *kernel_size)``, y
  ``(C₂, *output_size)``; every flatten is C-order over all axes (a Conv1d row is ``i·W' + k``, a Conv3d column
  ``((l·D + q)·H + r)·W + c``). The 2-D names above are the note's.
* The note itself counts ``i, j, k, l`` from 1 and ``m, n`` from 0; :func:`note_index` converts a
  0-based output index into the note's numbering for reports that reproduce the note's formulas.

Symbols have stable, LaTeX-friendly names: ``omega_i,l,m,n`` (printed ``\\omega_{i,l,m,n}``),
``b_i`` (shared) or ``b_i,j,k`` (per location), ``x_l,r,c``; indices 0-based.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import sympy

from ..errors import SpecError
from .budget import check_symbol_count
from .choices import ORDERS, check_order
from .spec import ConvSpec

__all__ = [
    "AXIS_LETTERS",
    "ORDERS",
    "SizeSymbols",
    "size_symbols",
    "bias_array",
    "bias_symbols",
    "check_order",
    "input_array",
    "input_symbols",
    "note_index",
    "output_index",
    "row_permutation",
    "symbol_array",
    "weight_array",
    "weight_symbols",
]


# ----------------------------------------------------------------------------- size symbols
# The sizes of a layer as SymPy symbols, one family per spatial axis, for the closed forms and the all-size
# proofs. Axis letters follow the note for 2-D (H, W / h, w); 1-D uses the width only, 3-D adds the depth.
#: axis letters (input size, kernel size) by number of spatial axes
AXIS_LETTERS: dict[int, tuple[tuple[str, str], ...]] = {
    1: (("W", "w"),),
    2: (("H", "h"), ("W", "w")),
    3: (("D", "d"), ("H", "h"), ("W", "w")),
}
_POSITIVE = {"integer": True, "positive": True}
_NONNEGATIVE = {"integer": True, "nonnegative": True}


class SizeSymbols(NamedTuple):
    """One axis's size symbols: input n, kernel k, stride s, padding p (before), dilation d, output n'."""

    n: sympy.Symbol
    k: sympy.Symbol
    s: sympy.Symbol
    p: sympy.Symbol
    d: sympy.Symbol
    out: sympy.Symbol


def size_symbols(ndim: int) -> tuple[SizeSymbols, ...]:
    """Per-axis size symbols for ``ndim`` spatial axes (2-D: H, h, s_h, p_h, d_h, H' and W, w, s_w, p_w, d_w, W').

    Symbols are interned by name and assumptions, so every call returns the same objects.

    >>> [a.n for a in size_symbols(2)], size_symbols(2)[0].s
    ([H, W], s_h)
    """
    if ndim < 1:
        raise SpecError(f"ndim must be ≥ 1, got {ndim!r}")
    letters = AXIS_LETTERS.get(ndim) or tuple((f"N_{a}", f"k_{a}") for a in range(ndim))
    out = []
    for big, small in letters:
        sub = small if ndim in AXIS_LETTERS else big[2:]
        out.append(SizeSymbols(
            sympy.Symbol(big, **_POSITIVE), sympy.Symbol(small, **_POSITIVE), sympy.Symbol(f"s_{sub}", **_POSITIVE),
            sympy.Symbol(f"p_{sub}", **_NONNEGATIVE), sympy.Symbol(f"d_{sub}", **_POSITIVE),
            sympy.Symbol(f"{big}'", **_POSITIVE),
        ))
    return tuple(out)


#: channels and groups: C₁ input, C₂ output channels, g groups
C1, C2, g = sympy.Symbol("C_1", **_POSITIVE), sympy.Symbol("C_2", **_POSITIVE), sympy.Symbol("g", **_POSITIVE)


def symbol_array(prefix: str, shape: tuple[int, ...]) -> np.ndarray:
    """Object array of SymPy symbols ``prefix_i,j,…`` over ``shape`` (0-based); refuses above the symbol budget.

    >>> symbol_array("y", (1, 2, 1)).reshape(-1).tolist()
    [y_0,0,0, y_0,1,0]
    """
    check_symbol_count(f"symbols {prefix}", shape)
    flat = [sympy.Symbol(f"{prefix}_" + ",".join(map(str, idx))) for idx in np.ndindex(*shape)]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(shape)


@lru_cache(maxsize=32)
def weight_array(spec: ConvSpec) -> np.ndarray:
    """ω as a cached NumPy object array of SymPy symbols (C₂, C₁/groups, h, w); do not mutate.

    >>> weight_array(ConvSpec(1, 2, input_size=3, kernel_size=2)).shape
    (2, 1, 2, 2)
    """
    return symbol_array("omega", spec.weight_shape)


@lru_cache(maxsize=32)
def bias_array(spec: ConvSpec) -> np.ndarray:
    """b as a cached NumPy object array of symbols, shape ``spec.bias_shape``; empty without bias."""
    return symbol_array("b", spec.bias_shape) if spec.bias != "none" else np.empty(0, dtype=object)


@lru_cache(maxsize=32)
def input_array(spec: ConvSpec) -> np.ndarray:
    """x as a cached NumPy object array of SymPy symbols (C₁, H, W); do not mutate."""
    return symbol_array("x", spec.input_shape)


def weight_symbols(spec: ConvSpec) -> sympy.Array:
    """ω as a SymPy array of shape (C₂, C₁/groups, h, w).

    >>> weight_symbols(ConvSpec(1, 2, input_size=3, kernel_size=2))[1, 0, 0, 1]
    omega_1,0,0,1
    """
    return sympy.ImmutableDenseNDimArray(weight_array(spec).tolist(), spec.weight_shape)


def bias_symbols(spec: ConvSpec) -> sympy.Array:
    """b as a SymPy array: (C₂,) shared, (C₂, H', W') per location, empty (0,) for bias='none'.

    >>> bias_symbols(ConvSpec(1, 2, input_size=3, kernel_size=2)).tolist()
    [b_0, b_1]
    """
    if spec.bias == "none":
        return sympy.ImmutableDenseNDimArray([], (0,))
    return sympy.ImmutableDenseNDimArray(bias_array(spec).tolist(), spec.bias_shape)


def input_symbols(spec: ConvSpec) -> sympy.Array:
    """x as a SymPy array of shape (C₁, H, W).

    >>> input_symbols(ConvSpec(1, 1, input_size=(2, 3), kernel_size=1))[0, 1, 2]
    x_0,1,2
    """
    return sympy.ImmutableDenseNDimArray(input_array(spec).tolist(), spec.input_shape)


def output_index(spec: ConvSpec, row: int, order: str = "channel_major") -> tuple[int, ...]:
    """The output index (i, j, k) of row ``row`` of 𝒲 in ``order``.

    >>> output_index(ConvSpec(2, 3, input_size=4, kernel_size=3), 1, order="seed")
    (1, 0, 0)
    """
    check_order(order)
    if order == "channel_major":
        return tuple(int(v) for v in np.unravel_index(row, spec.output_shape))
    position, channel = divmod(row, spec.out_channels)
    return (channel, *(int(v) for v in np.unravel_index(position, spec.output_size)))


def row_permutation(spec: ConvSpec, source: str, target: str) -> np.ndarray:
    """``perm`` with ``M_target = M_source[perm]`` for the rows of 𝒲 (or entries of b).

    >>> row_permutation(ConvSpec(2, 2, input_size=3, kernel_size=2), "channel_major", "seed").tolist()
    [0, 4, 1, 5, 2, 6, 3, 7]
    """
    check_order(source)
    check_order(target)
    positions = int(np.prod(spec.output_size))
    # channel_major rows as a (C₂, positions) grid; seed order walks positions, then channels
    grid = np.arange(spec.d_y).reshape(spec.out_channels, positions)
    seed_from_cm = grid.T.reshape(-1)
    if source == target:
        return np.arange(spec.d_y)
    if source == "channel_major":
        return seed_from_cm
    return np.argsort(seed_from_cm)


def note_index(index: tuple[int, ...]) -> tuple[int, ...]:
    """A 0-based output index (i, j, k) in the note's 1-based numbering.

    >>> note_index((0, 2, 1))
    (1, 3, 2)
    """
    return tuple(v + 1 for v in index)
