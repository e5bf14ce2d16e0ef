"""The note's definition of the convolution as an index sum.

    y[i, j, k] = b + Σ_{l'} Σ_m Σ_n  x[l, j·s − p + m·d, k·s − p + n·d] · ω[i, l', m, n]

(0-based, PyTorch's cross-correlation; see :mod:`symconv.core.symbols` for the conventions). Taps that
fall into the zero padding contribute nothing. Two views of the same sum:

* :func:`direct` — a SymPy array of expressions, for reading and small sizes;
* :func:`direct_terms` — the same sum as integer index arrays, for the exact engines, generated in
  canonical order (within every output, input index strictly increasing) so that engines can compare
  without sorting; :func:`direct_parts` is the same keys factored into a spatial and a channel part, which
  the index engine sums into reused buffers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..core.budget import MAX_DIRECT_TERMS, PADDED_KEY, check_symbolic_size
from ..core.spec import ConvSpec, require_zeros_padding
from ..core.symbols import bias_array, input_array, weight_array
from ..core.taps import spatial_taps

__all__ = ["DirectParts", "DirectTerms", "direct", "direct_bias", "direct_parts", "direct_terms"]


@dataclass(frozen=True)
class DirectTerms:
    """The index sum for a run of output positions, all output channels, as integer arrays.

    Rows are ``(position, channel)`` pairs, position-major (the note's "seed" order restricted to
    ``positions``). ``key = input_flat · n_weights + weight_flat`` identifies the product
    ``x[input_flat]·ω[weight_flat]``; ``keys[valid]`` lists them row by row in increasing order.
    """

    positions: np.ndarray  # (P,) flat output positions (C-order over the output grid)
    keys: np.ndarray  # (P, C, C₁/g, K) int64, C = len(channels), K = h·w kernel taps
    valid: np.ndarray  # (P, 1, 1, K) bool: the tap lands inside the (unpadded) input
    bias: np.ndarray  # (P, C, 1) int64 flat bias index; (P, C, 0) without bias


@dataclass(frozen=True)
class DirectParts:
    """The index sum's keys factored: output (p, i), summand (l', t) has ``key = spatial[p, t] + channel[t, i, l']``.

    ``spatial`` (P, K) int64: flat input position (C-order over the input grid) · n_weights, or
    :data:`~symconv.core.budget.PADDED_KEY` where the tap reads the zero padding (the key is then negative: no
    term); ``channel`` (K, C₂, C₁/g) int64, C-contiguous: l·(input grid size)·n_weights + flat weight index,
    l = group(i)·C₁/g + l'.
    """

    spatial: np.ndarray
    channel: np.ndarray


def direct_parts(spec: ConvSpec, positions: np.ndarray | None = None) -> DirectParts:
    """:class:`DirectParts` of the index sum for ``positions`` (flat output positions, default all).

    >>> parts = direct_parts(ConvSpec(1, 1, input_size=3, kernel_size=2, padding=1))
    >>> (parts.spatial[0] >= 0).tolist(), parts.channel.shape
    ([False, False, False, True], (4, 1, 1))
    """
    if positions is None:
        positions = np.arange(math.prod(spec.output_size))
    n_weights = math.prod(spec.weight_shape)
    taps = math.prod(spec.kernel_size)
    c_out, c_in_g = spec.out_channels, spec.in_per_group
    flat, valid = spatial_taps(spec, np.asarray(positions, dtype=np.int64))  # x[l, tap(j, m), tap(k, n)]
    spatial = np.where(valid, flat * n_weights, PADDED_KEY)
    # channel part: output channel i reads input channel l = group(i)·C₁/g + l' through ω[i, l', m, n]; the (C₂, C₁/g)
    # table is summed first so that the (K, C₂, C₁/g) array is written once, already in the engine's layout
    i = np.arange(c_out, dtype=np.int64)[:, None]
    l_local = np.arange(c_in_g, dtype=np.int64)[None, :]
    l_global = (i // spec.out_per_group) * c_in_g + l_local
    weight_first = (i * c_in_g + l_local) * taps  # flat index of ω[i, l', 0, 0]
    per_pair = l_global * math.prod(spec.input_size) * n_weights + weight_first  # (C₂, C₁/g)
    channel = per_pair[None] + np.arange(taps, dtype=np.int64)[:, None, None]  # + t: ω[i, l', t]
    return DirectParts(spatial, channel)


def direct_bias(spec: ConvSpec, positions: np.ndarray, channels: range) -> np.ndarray:
    """The bias term of each output (position, channel): flat bias index, (P, C, 1); (P, C, 0) without bias.

    >>> direct_bias(ConvSpec(1, 2, input_size=2, kernel_size=1, bias="per_location"), np.array([3]), range(2)).tolist()
    [[[3], [7]]]
    """
    positions = np.asarray(positions, dtype=np.int64)
    rows = np.arange(channels.start, channels.stop, dtype=np.int64)[None, :]
    if spec.bias == "shared":  # b[i]
        return np.broadcast_to(rows[..., None], (len(positions), len(channels), 1))
    if spec.bias == "per_location":  # b[i, j, k], C-order flatten of (C₂, H', W')
        return (rows * math.prod(spec.output_size) + positions[:, None])[..., None]
    return np.empty((len(positions), len(channels), 0), dtype=np.int64)


def direct_terms(
    spec: ConvSpec, positions: np.ndarray | None = None, channels: range | None = None
) -> DirectTerms:
    """The index sum for ``positions`` × ``channels`` (default: all), as integer keys.

    See :class:`DirectTerms`; with ``channels`` the rows are (position, channel in ``channels``). Keys are
    :func:`direct_parts` summed per row.

    >>> t = direct_terms(ConvSpec(1, 1, input_size=3, kernel_size=2, bias="none"))
    >>> int(t.valid.sum()) * t.keys.shape[1] == ConvSpec(1, 1, input_size=3, kernel_size=2).n_terms
    True
    """
    if positions is None:
        positions = np.arange(math.prod(spec.output_size))
    positions = np.asarray(positions, dtype=np.int64)
    channels = range(spec.out_channels) if channels is None else channels
    parts = direct_parts(spec, positions)
    per_row = parts.channel[:, channels.start : channels.stop].transpose(1, 2, 0)  # (C, C₁/g, K)
    keys = parts.spatial[:, None, None, :] + per_row[None]
    valid = (parts.spatial >= 0)[:, None, None, :]
    return DirectTerms(positions, keys, valid, direct_bias(spec, positions, channels))


def direct(spec: ConvSpec, max_terms: int | None = None) -> sympy.Array:
    """The index sum as a SymPy array of shape (C₂, H', W'): y[i, j, k] = b + Σ x·ω.

    Refuses (TooLargeError) above ``max_terms`` (default 1 M: one SymPy product per term).

    >>> y = direct(ConvSpec(1, 1, input_size=(2, 3), kernel_size=(1, 2)))
    >>> y[0, 1, 1]
    b_0 + omega_0,0,0,0*x_0,1,1 + omega_0,0,0,1*x_0,1,2
    """
    require_zeros_padding(spec, "direct(spec)", "mode_direct(spec) (symconv.forms.padding)")
    check_symbolic_size(spec, "direct(spec)", MAX_DIRECT_TERMS if max_terms is None else max_terms)
    terms = direct_terms(spec)
    weights, inputs, biases = weight_array(spec).reshape(-1), input_array(spec).reshape(-1), bias_array(spec).reshape(-1)
    n_weights = weights.size
    positions = len(terms.positions)
    out = np.empty((spec.out_channels, positions), dtype=object)
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    for p in range(positions):
        for i in range(spec.out_channels):
            keys = terms.keys[p, i][valid[p, i]]
            products = [weights[k % n_weights] * inputs[k // n_weights] for k in keys.tolist()]
            products += [biases[b] for b in terms.bias[p, i].tolist()]
            out[i, p] = sympy.Add(*products)
    return sympy.ImmutableDenseNDimArray(out.reshape(-1).tolist(), spec.output_shape)
