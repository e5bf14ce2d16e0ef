"""The note's objects exactly as it writes them, for the audit — and the corrected block layout.

The note counts ``i, j, k, l`` from 1 and ``m, n`` from 0; so do the functions here (their arguments
and loops use the note's numbering). Symbols get symconv's 0-based names (``x_l-1,r-1,c-1``,
``omega_i-1,l-1,m,n``, ``b_i-1,j-1,k-1``) so that the note's objects can be compared with the ones
the core builds. An index outside the note's own ranges gives a symbol the core never builds (e.g.
``x_0,3,0`` for a 3-row input), which the comparison then reports.

Only the note's setting exists here: stride 1, padding 0, dilation 1, groups 1.

The note's formulas (:data:`NOTE_FC`, :data:`NOTE_PARAMS_SHARED`, …) are here too, written with the size symbols of
:mod:`symconv.core.symbols`, and so is its 𝒲 as written (:func:`matrix_as_written`, built with the other block layouts
in :mod:`symconv.forms.blocks`). The claim checks read them as ``note.NAME`` when they run, so this module is the one
place that says what the note writes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import C1, C2, size_symbols
from ..errors import SpecError
from ..forms.blocks import matrix_as_written

__all__ = [
    "NOTE_CODOMAIN",
    "NOTE_DOMAIN",
    "NOTE_FC",
    "NOTE_PARAMS_LOCAL",
    "NOTE_PARAMS_SHARED",
    "NOTE_PARAMS_SHARED_FACTORED",
    "bias_as_written",
    "index_sum_as_written",
    "matrix_as_written",
    "matrix_from_blocks",
    "pattern_from_block_widths",
    "weight_indices_as_written",
    "x_entries_as_written",
]

# the note's size symbols, one family per axis from the core: (H, h, …) and (W, w, …)
(H, h, *_), (W, w, *_) = size_symbols(2)

#: the note's domain ℝ^{C₁×H×W} and codomain ℝ^{C₂×(H−h+1)×(W−w+1)} of conv
NOTE_DOMAIN = (C1, H, W)
NOTE_CODOMAIN = (C2, H - h + 1, W - w + 1)
#: the note's parameter counts as it writes them: bias per location, shared bias, the shared count factorised
NOTE_PARAMS_LOCAL = C2 * C1 * (h - 1) * (w - 1) + C2 * (H - h + 1) * (W - w + 1)
NOTE_PARAMS_SHARED = C2 * C1 * (h - 1) * (w - 1) + C2
NOTE_PARAMS_SHARED_FACTORED = C2 * (C1 * (h - 1) * (w - 1) + 1)
#: the note's count for the fully-connected layer ℝ^{d_x} → ℝ^{d_y}
NOTE_FC = C1 * H * W * C2 * (H - h + 1) * (W - w + 1) + C2 * (H - h + 1) * (W - w + 1)


def _require_note_setting(spec: ConvSpec) -> None:
    if (spec.stride, spec.padding_before, spec.padding_after, spec.dilation, spec.groups) != ((1, 1), (0, 0), (0, 0), (1, 1), 1):
        raise SpecError(f"the note's formulas cover stride 1, padding 0, dilation 1, groups 1 only; got {spec.describe()}")


def _x(l: int, r: int, c: int) -> sympy.Symbol:  # the note's x_{l,r,c}, all 1-based
    return sympy.Symbol(f"x_{l - 1},{r - 1},{c - 1}")


def _omega(i: int, l: int, m: int, n: int) -> sympy.Symbol:  # the note's ω_{i,l,m,n}: i, l 1-based; m, n 0-based
    return sympy.Symbol(f"omega_{i - 1},{l - 1},{m},{n}")


def _b(i: int, j: int, k: int) -> sympy.Symbol:  # the note's b_{i,j,k}, all 1-based
    return sympy.Symbol(f"b_{i - 1},{j - 1},{k - 1}")


def _sizes(spec: ConvSpec) -> tuple[int, int, int, int, int, int]:
    (height, width), (kh, kw) = spec.input_size, spec.kernel_size
    return spec.in_channels, spec.out_channels, height, width, kh, kw


def index_sum_as_written(spec: ConvSpec) -> sympy.Array:
    """y_{i,j,k} = b_{i,j,k} + Σ_{l=1}^{C₁} Σ_{m=0}^{h−1} Σ_{n=0}^{w−1} x_{l,j+m,k+n}·ω_{i,l,m,n}, literally.

    Shape (C₂, H−h+1, W−w+1) as the note's codomain says; entry [i−1, j−1, k−1] is the note's y_{i,j,k}.

    >>> index_sum_as_written(ConvSpec(1, 1, input_size=(1, 2), kernel_size=1))[0, 0, 1]
    b_0,0,1 + omega_0,0,0,0*x_0,0,1
    """
    _require_note_setting(spec)
    c1, c2, height, width, kh, kw = _sizes(spec)
    rows, cols = height - kh + 1, width - kw + 1
    out = []
    for i in range(1, c2 + 1):
        for j in range(1, rows + 1):
            for k in range(1, cols + 1):
                terms = [_x(l, j + m, k + n) * _omega(i, l, m, n) for l in range(1, c1 + 1) for m in range(kh) for n in range(kw)]
                out.append(_b(i, j, k) + sympy.Add(*terms))
    return sympy.ImmutableDenseNDimArray(out, (c2, rows, cols))


def weight_indices_as_written(spec: ConvSpec) -> list[tuple[int, int, int, int]]:
    """Every (i, l, m, n) at which the note's sum reads ω (i, l from 1; m, n from 0), in loop order.

    >>> weight_indices_as_written(ConvSpec(1, 2, input_size=1, kernel_size=1))
    [(1, 1, 0, 0), (2, 1, 0, 0)]
    """
    _require_note_setting(spec)
    c1, c2, _, _, kh, kw = _sizes(spec)
    return [(i, l, m, n) for i in range(1, c2 + 1) for l in range(1, c1 + 1) for m in range(kh) for n in range(kw)]


def x_entries_as_written(spec: ConvSpec) -> list[tuple[int, tuple[int, int, int]]]:
    """The entries the note displays in x = (x_{1,1,1}, x_{1,1,2}, …, x_{1,1,W}, x_{1,2,1}, x_{1,2,2}, …, x_{C₁,H,W}).

    Each as (position in the displayed vector, 0-based; (l, r, c) 1-based): x_{1,1,1} … x_{1,1,W} at 0 … W−1,
    x_{1,2,1}, x_{1,2,2} at W, W+1 (where they exist), and x_{C₁,H,W} last, at d_x − 1.

    >>> x_entries_as_written(ConvSpec(1, 1, input_size=(2, 2), kernel_size=1))
    [(0, (1, 1, 1)), (1, (1, 1, 2)), (2, (1, 2, 1)), (3, (1, 2, 2)), (3, (1, 2, 2))]
    """
    _require_note_setting(spec)
    c1, _, height, width, _, _ = _sizes(spec)
    shown = [(c - 1, (1, 1, c)) for c in range(1, width + 1)]
    if height >= 2:
        shown += [(width + n - 1, (1, 2, n)) for n in (1, 2) if n <= width]
    return shown + [(c1 * height * width - 1, (c1, height, width))]


def bias_as_written(spec: ConvSpec, last: str = "x") -> sympy.Matrix:
    """b = (b_{1,1}; b_{1,2}; …) with b_{j,k} = (b_{1,j,k}, b_{2,j,k}, …, x_{C₂,j,k}) as written (``last="x"``)
    or with the last entry b_{C₂,j,k} (``last="b"``); a d_y × 1 column in the note's (seed) order.

    >>> bias_as_written(ConvSpec(1, 3, input_size=1, kernel_size=1)).T
    Matrix([[b_0,0,0, b_1,0,0, x_2,0,0]])
    """
    _require_note_setting(spec)
    _, c2, height, width, kh, kw = _sizes(spec)
    entries = []
    for j in range(1, height - kh + 2):
        for k in range(1, width - kw + 2):
            entries += [_b(i, j, k) for i in range(1, c2)] + [_x(c2, j, k) if last == "x" else _b(c2, j, k)]
    return sympy.Matrix(len(entries), 1, entries)


def matrix_from_blocks(spec: ConvSpec, kernel_row: Callable[[int, int], int]) -> sympy.SparseMatrix:
    """𝒲 laid out from the note's block widths, with block ``t`` (0-based) of 𝒲_{j,k,l} holding kernel row
    ``kernel_row(j, t)`` (j 1-based) — the note writes B_{l,j+t,k}, i.e. row j + t; the correction is row t.

    𝒲_{j,k,l} = (O_{C₂×(j−1)W} | B_{l,·,k} | … (h blocks) | O_{C₂×(H−h−j+1)W}); B_{l,r,k} = (0 … 0 (k−1) |
    ω_{i,l,r,0} … ω_{i,l,r,w−1} | 0 … 0 (W−w−k+1)); 𝒲_{j,k} = (𝒲_{j,k,1} | … | 𝒲_{j,k,C₁}); 𝒲 stacks 𝒲_{1,1},
    𝒲_{1,2}, …, rows in the seed order.

    >>> matrix_from_blocks(ConvSpec(1, 1, input_size=(2, 1), kernel_size=1), lambda j, t: t).tolist()
    [[omega_0,0,0,0, 0], [0, omega_0,0,0,0]]
    """
    _require_note_setting(spec)
    c1, c2, height, width, kh, kw = _sizes(spec)
    rows_out, cols_out = height - kh + 1, width - kw + 1
    entries = {}
    for j in range(1, rows_out + 1):
        for k in range(1, cols_out + 1):
            row0 = ((j - 1) * cols_out + (k - 1)) * c2
            for l in range(1, c1 + 1):
                for t in range(kh):
                    # columns before block t: the 𝒲_{j,k,l'} of earlier channels, the leading O, earlier blocks
                    col0 = (l - 1) * height * width + (j - 1) * width + t * width + (k - 1)
                    for i in range(1, c2 + 1):
                        for n in range(kw):
                            entries[(row0 + i - 1, col0 + n)] = _omega(i, l, kernel_row(j, t), n)
    return sympy.SparseMatrix(c2 * rows_out * cols_out, c1 * height * width, entries)


def pattern_from_block_widths(spec: ConvSpec) -> np.ndarray:
    """The d_y × d_x boolean pattern the note's zero-block widths leave for the ω entries (seed rows).

    Built from the widths alone: in 𝒲_{j,k,l}, (j−1)W zero columns, then h blocks of width W each with
    k−1 zeros, w entries, W−w−k+1 zeros, then (H−h−j+1)W zero columns.

    >>> pattern_from_block_widths(ConvSpec(1, 1, input_size=(1, 3), kernel_size=(1, 2))).astype(int)
    array([[1, 1, 0],
           [0, 1, 1]])
    """
    _require_note_setting(spec)
    c1, c2, height, width, kh, kw = _sizes(spec)
    rows_out, cols_out = height - kh + 1, width - kw + 1
    pattern = np.zeros((c2 * rows_out * cols_out, c1 * height * width), dtype=bool)
    for j in range(1, rows_out + 1):
        for k in range(1, cols_out + 1):
            row0 = ((j - 1) * cols_out + (k - 1)) * c2
            block_row = np.concatenate([np.zeros(k - 1, bool), np.ones(kw, bool), np.zeros(width - kw - k + 1, bool)])
            per_channel = np.concatenate(
                [np.zeros((j - 1) * width, bool), np.tile(block_row, kh), np.zeros((height - kh - j + 1) * width, bool)]
            )
            pattern[row0 : row0 + c2] = np.tile(per_channel, c1)[None, :]
    return pattern
