"""Padding modes as a padding operator P: 𝒲_mode = 𝒲_valid · P_mode.

PyTorch's ``Conv2d(padding_mode=…)`` pads x with ``F.pad(x, …, mode)`` and runs an unpadded convolution. On one
axis of length n with ``before``/``after`` entries added, padded position q ∈ [0, n + before + after) reads
input position π(q − before), with π(c) for c outside [0, n):

* ``zeros``     — nothing (the entry is 0; π = −1 here);
* ``reflect``   — mirror without repeating the edge: −c for c < 0, 2(n − 1) − c for c ≥ n (PyTorch: padding < n);
* ``replicate`` — the nearest edge: clamp(c, 0, n − 1);
* ``circular``  — wrap around: c mod n (PyTorch: padding ≤ n).

P (rows: C-order flatten of the padded x, columns: C-order flatten of x) has a single 1 in each row that reads an
input (none for zeros), channel by channel: P = I_C ⊗ P_H ⊗ P_W. The definition of the padded layer
(:func:`mode_terms`) is the index sum whose taps read x through π — the tap map o·s − p + t·d of
:mod:`symconv.core.taps`, then π per axis; the matrix form (:func:`mode_matrix`) is 𝒲 of the unpadded layer on
the padded size (:attr:`PaddingOperator.valid_spec`) times P. ``symconv.prove.padding_modes`` proves them equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..core.spec import PADDING_MODES, ConvSpec, check_padding_mode
from ..core.symbols import bias_array, input_array, weight_array
from ..core.taps import tap
from ..errors import SpecError
from .built import built_matrix, built_matrix_terms, channel_major_entries
from .transposed import BilinearTerms

__all__ = [
    "PADDING_MODES",
    "PaddingOperator",
    "axis_padding_map",
    "mode_direct",
    "mode_matrix",
    "mode_matrix_terms",
    "mode_terms",
    "padding_operator",
]

def axis_padding_map(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """π on one axis: for each padded position q (0 … n + before + after − 1) the input position it reads, −1 for a zero.

    >>> axis_padding_map(4, 2, 2, "reflect").tolist(), axis_padding_map(4, 2, 2, "circular").tolist()
    ([2, 1, 0, 1, 2, 3, 2, 1], [2, 3, 0, 1, 2, 3, 0, 1])
    >>> axis_padding_map(3, 1, 2, "replicate").tolist(), axis_padding_map(3, 1, 1, "zeros").tolist()
    ([0, 0, 1, 2, 2, 2], [-1, 0, 1, 2, -1])
    """
    c = np.arange(-before, n + after, dtype=np.int64)
    if mode == "zeros":
        return np.where((c >= 0) & (c < n), c, -1)
    if mode == "reflect":
        return np.where(c < 0, -c, np.where(c >= n, 2 * (n - 1) - c, c))
    if mode == "replicate":
        return np.clip(c, 0, n - 1)
    if mode == "circular":
        return c % n
    raise SpecError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got {mode!r}")


def _mode_of(spec: ConvSpec, mode: str | None) -> str:
    """``mode``, or the spec's own ``padding_mode`` when None; checked against PyTorch's limits for ``spec``."""
    mode = spec.padding_mode if mode is None else mode
    return check_padding_mode(mode, spec.padding, spec.padding_before, spec.padding_after, spec.input_size)


@dataclass(frozen=True)
class PaddingOperator:
    """P for one layer and mode: the per-axis maps π, the padded size and the unpadded layer on it."""

    spec: ConvSpec
    mode: str
    axis_maps: tuple[np.ndarray, ...]

    @property
    def padded_size(self) -> tuple[int, ...]:
        """Per axis n + before + after."""
        return tuple(m.size for m in self.axis_maps)

    @property
    def valid_spec(self) -> ConvSpec:
        """The unpadded layer on the padded input: 𝒲_valid."""
        s = self.spec
        return ConvSpec(s.in_channels, s.out_channels, input_size=self.padded_size, kernel_size=s.kernel_size,
                        stride=s.stride, padding=0, dilation=s.dilation, groups=s.groups, bias=s.bias)

    def index_map(self) -> np.ndarray:
        """For every entry of the padded x (C-order over (C₁, *padded)): the flat index into x it copies, or −1."""
        grids = np.meshgrid(*self.axis_maps, indexing="ij")
        spatial = np.zeros(grids[0].shape, dtype=np.int64)
        inside = np.ones(grids[0].shape, dtype=bool)
        for grid, n in zip(grids, self.spec.input_size):
            inside &= grid >= 0
            spatial = spatial * n + grid
        channel = np.arange(self.spec.in_channels).reshape(-1, *([1] * self.spec.ndim)) * math.prod(self.spec.input_size)
        return np.where(inside[None], channel + spatial[None], -1).reshape(-1)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """P x for x of shape (C₁, *input_size), any dtype (zeros where the mode reads nothing)."""
        x = np.asarray(x)
        idx = self.index_map()
        flat = np.concatenate([x.reshape(-1), np.zeros(1, dtype=x.dtype)])
        return flat[np.where(idx >= 0, idx, flat.size - 1)].reshape(self.spec.in_channels, *self.padded_size)

    def matrix(self) -> sympy.SparseMatrix:
        """P as a 0/1 SymPy sparse matrix (rows: padded x, columns: x, both C-order).

        >>> padding_operator(ConvSpec(1, 1, input_size=(1, 2), kernel_size=1, padding=(0, 1)), "circular").matrix()
        Matrix([
        [0, 1],
        [1, 0],
        [0, 1],
        [1, 0]])
        """
        idx = self.index_map()
        rows = np.nonzero(idx >= 0)[0]
        entries = {(int(r), int(idx[r])): sympy.Integer(1) for r in rows}
        return sympy.SparseMatrix(idx.size, self.spec.d_x, entries)


def padding_operator(spec: ConvSpec, mode: str | None = None) -> PaddingOperator:
    """P_mode for ``spec``'s padding (``spec.padding_before``/``after`` per axis), with PyTorch's limits.

    ``mode`` defaults to ``spec.padding_mode`` (as everywhere in this module).

    >>> op = padding_operator(ConvSpec(1, 1, input_size=4, kernel_size=3, padding=1), "reflect")
    >>> op.padded_size, op.valid_spec.output_size
    ((6, 6), (4, 4))
    """
    mode = _mode_of(spec, mode)
    maps = tuple(axis_padding_map(n, b, a, mode)
                 for n, b, a in zip(spec.input_size, spec.padding_before, spec.padding_after))
    return PaddingOperator(spec, mode, maps)


def mode_terms(spec: ConvSpec, mode: str | None = None) -> BilinearTerms:
    """The definition of the padded layer (no bias) as triples (y flat, ω flat, x flat): taps read x through π.

    >>> len(mode_terms(ConvSpec(1, 1, input_size=3, kernel_size=3, padding=1), "replicate"))
    81
    """
    op = padding_operator(spec, mode)
    out_q = np.indices(spec.output_size).reshape(spec.ndim, -1)
    taps = np.indices(spec.kernel_size).reshape(spec.ndim, -1)
    flat = np.zeros((out_q.shape[1], taps.shape[1]), dtype=np.int64)
    valid = np.ones(flat.shape, dtype=bool)
    for axis, n in enumerate(spec.input_size):
        before = spec.padding_before[axis]
        coord = tap(out_q[axis][:, None], taps[axis][None, :], spec.stride[axis], before, spec.dilation[axis])
        source = op.axis_maps[axis][coord + before]  # coord + before ∈ [0, padded) whenever the output exists
        valid &= source >= 0
        flat = flat * n + source
    p_idx, t_idx = np.nonzero(valid)
    x_pos = flat[p_idx, t_idx]
    i = np.arange(spec.out_channels)[:, None]
    l_local = np.arange(spec.in_per_group)[None, :]
    l_global = (i // spec.out_per_group) * spec.in_per_group + l_local
    n_taps, spatial, positions = taps.shape[1], math.prod(spec.input_size), math.prod(spec.output_size)
    weight = (i * spec.in_per_group + l_local)[:, :, None] * n_taps + t_idx[None, None, :]
    x = (l_global * spatial)[:, :, None] + x_pos[None, None, :]
    y = np.broadcast_to((i * positions)[:, :, None] + p_idx[None, None, :], weight.shape)
    return BilinearTerms(y.reshape(-1), weight.reshape(-1), x.reshape(-1), spec.output_shape)


def mode_matrix(spec: ConvSpec, mode: str | None = None) -> sympy.SparseMatrix:
    """𝒲_mode = 𝒲_valid · P_mode as a SymPy sparse matrix (d_y × d_x, channel-major rows, C-order columns).

    >>> mode_matrix(ConvSpec(1, 1, input_size=(1, 2), kernel_size=(1, 2), padding=(0, 1)), "circular")
    Matrix([
    [omega_0,0,0,1, omega_0,0,0,0],
    [omega_0,0,0,0, omega_0,0,0,1],
    [omega_0,0,0,1, omega_0,0,0,0]])
    """
    op = padding_operator(spec, mode)
    return built_matrix(op.valid_spec) * op.matrix()


def mode_matrix_terms(spec: ConvSpec, mode: str | None = None) -> BilinearTerms:
    """𝒲_valid · P as triples (y flat, ω flat, x flat): the block construction's keys of 𝒲_valid with each
    column sent through P's index map (columns P does not fill are dropped)."""
    op = padding_operator(spec, mode)
    valid_spec = op.valid_spec
    n_weights = math.prod(valid_spec.weight_shape)
    rows, keys = channel_major_entries(valid_spec, built_matrix_terms(valid_spec))
    x = op.index_map()[keys // n_weights]
    keep = x >= 0
    return BilinearTerms(rows[keep], keys[keep] % n_weights, x[keep], spec.output_shape)


def mode_direct(spec: ConvSpec, mode: str | None = None) -> sympy.Array:
    """The padded layer's definition as a SymPy array (C₂, H', W'), + b (shared or per location)."""
    out = mode_terms(spec, _mode_of(spec, mode)).evaluate(weight_array(spec), input_array(spec))
    if spec.bias != "none":
        b = bias_array(spec)
        b = b.reshape(-1, *([1] * spec.ndim)) if spec.bias == "shared" else b
        out = np.vectorize(sympy.Add, otypes=[object])(out, np.broadcast_to(b, out.shape))
    return sympy.ImmutableDenseNDimArray(out.reshape(-1).tolist(), spec.output_shape)
