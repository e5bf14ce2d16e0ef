"""𝒲 for any number of spatial axes, assembled from per-axis parts.

On one spatial axis, kernel tap ``t`` is a 0/1 selection ``S_a(t)`` (output length × input length):
``S_a(t)[o, n] = 1`` iff ``n = tap(o, t)`` lies inside the input (:func:`symconv.core.taps.axis_taps`). The
spatial part of a tap ``t = (t_0, …, t_{D−1})`` is the product over axes, ``S(t) = S_0(t_0) ⊗ … ⊗ S_{D−1}(t_{D−1})``
— the Kronecker product is exactly the C-order flatten of both grids — and the channels and groups give

    𝒲[(i, o), (l, n)] = Σ_t ω[i, l', t] · S(t)[o, n]     for l = g(i)·C₁/groups + l' in the group of i, else 0

(0-based; conventions in :mod:`symconv.core.symbols`: columns are the C-order flatten of x, rows
``"channel_major"`` or the note's ``"seed"`` order). Nothing here assumes two axes; for 2-D it is the
note's block construction (:mod:`symconv.forms.blocks`) entry for entry, which the tests check.

Why products of per-axis parts: each axis is a small (out, kernel) table, so the full (positions × taps) grid
is one broadcast of D small arrays, with no Python loop over positions or taps.

Every key is the sum of a spatial part and a channel part (:class:`MatrixParts`):
``key = spatial[p, t] + channel[t, i, l']`` with ``spatial = column of x's grid · n_weights`` (or
:data:`symconv.core.budget.PADDED_KEY` where padding clips the entry, making the key negative) and
``channel = l · (input grid size) · n_weights + flat index of ω[i, l', t]``. The exact engine sums the two
into reused buffers; :func:`assembly_terms` is the same sum laid out per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.polys.domains import EXRAW
from sympy.polys.matrices import DomainMatrix

from ..core.budget import PADDED_KEY, check_symbolic_size
from ..core.spec import ConvSpec
from ..core.symbols import check_order, row_permutation, weight_array
from ..core.taps import spec_axis_taps

__all__ = [
    "MatrixParts",
    "MatrixTerms",
    "assembled_matrix",
    "assembly_parts",
    "assembly_terms",
    "axis_parts",
    "matrix_from_terms",
    "matrix_rows",
    "sparse_matrix",
    "spatial_part",
    "terms_from_parts",
]


@dataclass(frozen=True)
class MatrixTerms:
    """𝒲's nonzeros for a run of output positions and channels, as integer keys (seed-order rows).

    Row ``(p, i)`` (position-major: the note's "seed" order restricted to the run) holds ``ω[weight]`` in
    column ``col`` (C-order flatten of x); ``key = col·n_weights + weight`` (``weight`` the C-order flat index
    of ω), listed row by row in increasing column order where ``valid``.
    """

    keys: np.ndarray  # (P, C, C₁/g, *kernel) int64, C = len(channels)
    valid: np.ndarray  # broadcastable to keys: the entry exists (not clipped by padding)


def axis_parts(spec: ConvSpec) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per spatial axis, the selection S_a as (input position, in range) arrays of shape (output length, kernel).

    >>> rows, columns = axis_parts(ConvSpec(1, 1, input_size=(2, 4), kernel_size=(1, 3), padding=(0, 1)))
    >>> rows[0].tolist(), columns[0][0].tolist(), columns[1][0].tolist()
    ([[0], [1]], [-1, 0, 1], [False, True, True])
    """
    return tuple(spec_axis_taps(spec, axis) for axis in range(spec.ndim))


def spatial_part(spec: ConvSpec, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat input position (C-order over the input grid) and in-range mask for flat output ``positions``
    (C-order over the output grid) × every kernel tap: both of shape (P, *kernel), the product over axes.

    Out-of-range entries hold a meaningless position and must be masked.
    """
    parts = axis_parts(spec)
    out_coords = np.unravel_index(np.asarray(positions, dtype=np.int64), spec.output_size)
    shape = (len(out_coords[0]), *spec.kernel_size)
    flat = np.zeros(shape, dtype=np.int64)
    inside = np.ones(shape, dtype=bool)
    for axis, ((coords, selected), o) in enumerate(zip(parts, out_coords)):
        # axis a's (P, k_a) table, laid along kernel dimension a of the (P, *kernel) grid
        along = (len(o), *(k if a == axis else 1 for a, k in enumerate(spec.kernel_size)))
        flat = flat * spec.input_size[axis] + coords[o].reshape(along)
        inside &= selected[o].reshape(along)
    return flat, inside


@dataclass(frozen=True)
class MatrixParts:
    """𝒲's keys factored: row (p, i), entry (l', t) has ``key = spatial[p, t] + channel[t, i, l']``.

    ``spatial`` (P, K) int64: column of x's grid (C-order) · n_weights, or PADDED_KEY where the entry is
    clipped by padding (the key is then negative: no entry); ``channel`` (K, C₂, C₁/g) int64, C-contiguous:
    l·(input grid size)·n_weights + flat weight index, l = g(i)·C₁/groups + l'. K = kernel taps (C-order).
    """

    spatial: np.ndarray
    channel: np.ndarray


def channel_part(spec: ConvSpec) -> np.ndarray:
    """(K, C₂, C₁/g) int64: l·(input grid size)·n_weights + flat index of ω[i, l', t], l the global input channel."""
    n_weights = math.prod(spec.weight_shape)
    c_in_g = spec.in_per_group
    i = np.arange(spec.out_channels, dtype=np.int64)[:, None]
    l_global = (i // spec.out_per_group) * c_in_g + np.arange(c_in_g, dtype=np.int64)[None, :]  # (C₂, C₁/g)
    weight = np.arange(n_weights, dtype=np.int64).reshape(spec.out_channels, c_in_g, -1)  # ω[i, l', t]
    part = np.empty((weight.shape[2], spec.out_channels, c_in_g), dtype=np.int64)  # C-order, written once
    np.add((l_global * math.prod(spec.input_size) * n_weights)[None], weight.transpose(2, 0, 1), out=part)
    return part


def assembly_parts(spec: ConvSpec, positions: np.ndarray | None = None) -> MatrixParts:
    """:class:`MatrixParts` of the per-axis assembly for ``positions`` (flat output positions, default all), any ndim.

    >>> parts = assembly_parts(ConvSpec(1, 1, input_size=(1, 4), kernel_size=(1, 3), padding=(0, 1)))
    >>> (parts.spatial[0] >= 0).tolist(), parts.channel.shape
    ([False, True, True], (3, 1, 1))
    """
    if positions is None:
        positions = np.arange(math.prod(spec.output_size))
    flat, inside = spatial_part(spec, np.asarray(positions, dtype=np.int64))  # (P, *kernel)
    spatial = np.where(inside, flat * math.prod(spec.weight_shape), PADDED_KEY).reshape(len(flat), math.prod(spec.kernel_size))
    return MatrixParts(spatial, channel_part(spec))


def terms_from_parts(spatial: np.ndarray, channel: np.ndarray, kernel: tuple[int, ...], channels: range) -> np.ndarray:
    """Keys (P, C, C₁/g, *kernel) = spatial[p, t] + channel[t, i, l'] for i in ``channels``, laid out per row."""
    per_row = channel[:, channels.start : channels.stop].transpose(1, 2, 0)  # (C, C₁/g, K)
    keys = spatial[:, None, None, :] + per_row[None]
    return keys.reshape(*keys.shape[:3], *kernel)


def assembly_terms(
    spec: ConvSpec, positions: np.ndarray | None = None, channels: range | None = None
) -> MatrixTerms:
    """𝒲's nonzeros for ``positions`` (flat output positions, default all) × ``channels`` (default all), any ndim.

    Same contract as :func:`symconv.forms.blocks.block_terms`; keys have shape (P, C, C₁/g, *kernel).

    >>> t = assembly_terms(ConvSpec(1, 1, input_size=(1, 4), kernel_size=(1, 3), padding=(0, 1)))
    >>> t.keys.shape, int(np.broadcast_to(t.valid, t.keys.shape).sum())
    ((4, 1, 1, 1, 3), 10)
    """
    parts = assembly_parts(spec, positions)
    channels = range(spec.out_channels) if channels is None else channels
    keys = terms_from_parts(parts.spatial, parts.channel, spec.kernel_size, channels)
    inside = (parts.spatial >= 0).reshape(len(parts.spatial), 1, 1, *spec.kernel_size)
    return MatrixTerms(keys, inside)


def matrix_rows(spec: ConvSpec, terms: MatrixTerms, order: str) -> dict[int, dict[int, sympy.Expr]]:
    """𝒲's nonzeros listed by ``terms`` (all rows, seed order) as SymPy's sparse dict of dicts: row (in ``order``) →
    column (C-order flatten of x) → weight symbol. This is the representation SymPy's ``SparseMatrix`` keeps.

    >>> matrix_rows(ConvSpec(1, 1, input_size=(1, 3), kernel_size=(1, 2)), assembly_terms(
    ...     ConvSpec(1, 1, input_size=(1, 3), kernel_size=(1, 2))), "seed")
    {0: {0: omega_0,0,0,0, 1: omega_0,0,0,1}, 1: {1: omega_0,0,0,0, 2: omega_0,0,0,1}}
    """
    check_order(order)
    weights = weight_array(spec).reshape(-1).tolist()
    n_weights = len(weights)
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    seed_rows = terms.keys.shape[0] * terms.keys.shape[1]
    counts = valid.reshape(seed_rows, -1).sum(axis=1)
    ends = np.cumsum(counts).tolist()
    keys = terms.keys[valid]
    columns, weight_index = keys // n_weights, keys % n_weights
    row_of_seed = np.arange(seed_rows) if order == "seed" else row_permutation(spec, "seed", "channel_major")
    # row_permutation(seed → cm)[t] is the seed row of channel-major row t; invert it to place seed row s
    placed = np.empty(seed_rows, dtype=np.int64)
    placed[row_of_seed] = np.arange(seed_rows)
    rows: dict[int, dict[int, sympy.Expr]] = {}
    start = 0
    for s, end in enumerate(ends):
        if end > start:
            rows[int(placed[s])] = dict(
                zip(columns[start:end].tolist(), map(weights.__getitem__, weight_index[start:end].tolist()))
            )
        start = end
    return rows


def sparse_matrix(rows: int, cols: int, entries: dict[int, dict[int, sympy.Expr]]) -> sympy.SparseMatrix:
    """A SymPy ``SparseMatrix`` holding ``entries`` (row → column → nonzero expression) as they are.

    Why not ``SparseMatrix(rows, cols, dok)``: that sympifies and compares every entry with 0 (≈ 6 µs each, 3 s at
    0.5 M entries); the dict of dicts is already SymPy's own sparse representation (a DomainMatrix over EXRAW).
    """
    rep = DomainMatrix(entries, (rows, cols), EXRAW)
    return sympy.SparseMatrix._fromrep(rep)


def matrix_from_terms(spec: ConvSpec, terms: MatrixTerms, order: str) -> sympy.SparseMatrix:
    """The d_y × d_x SymPy matrix of weight symbols whose nonzeros ``terms`` lists (all rows, seed order),
    with rows in ``order``."""
    return sparse_matrix(spec.d_y, spec.d_x, matrix_rows(spec, terms, order))


def assembled_matrix(spec: ConvSpec, order: str = "channel_major", max_terms: int | None = None) -> sympy.SparseMatrix:
    """𝒲 (d_y × d_x) as a SymPy sparse matrix of weight symbols, assembled from per-axis parts, any ndim.

    Columns: C-order flatten of x. Rows: ``order`` = ``"channel_major"`` (C-order flatten of y) or
    ``"seed"`` (location-major, channels inside).

    >>> W = assembled_matrix(ConvSpec(1, 1, input_size=(1, 3), kernel_size=(1, 2)))
    >>> W.shape, W[1, 1], W[1, 2]
    ((2, 3), omega_0,0,0,0, omega_0,0,0,1)
    """
    check_order(order)
    check_symbolic_size(spec, "assembled_matrix(spec)", max_terms)
    return matrix_from_terms(spec, assembly_terms(spec), order)

