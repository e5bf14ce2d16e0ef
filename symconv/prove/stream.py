"""The index engine's hot loop: both sides' keys summed from their parts into reused buffers and compared in place.

Why this layout: each side's key is ``spatial[p, t] + channel[t, i, l']`` (:class:`symconv.forms.direct.DirectParts`,
:class:`symconv.forms.assembly.MatrixParts`). A run of positions p0…p1 and channels c0…c1 is written as one
(P, K, C, C₁/g) array — taps outside, channels inside — so that every NumPy inner loop adds one scalar spatial part
to C·C₁/g contiguous channel parts, instead of K = 9 keys at a time; the channel part is computed once per layer.
Both sides are written in the same layout into two buffers allocated once, sized to stay in a core's L2 cache.

Why it is exact: element e of either buffer is a summand of output row (position of e, channel of e) on its side,
the term x·ω that its key encodes when the key is ≥ 0 and no term when it is negative (a tap in the zero padding:
PADDED_KEY + channel part). So two equal buffers are equal term lists row by row, hence equal polynomials — the order
inside a row never matters for soundness. Equality is tested by ``memcmp`` on the raw int64 bytes (no temporaries;
NumPy's ``not_equal`` into a reused bool buffer where libc is not available). A run whose buffers differ is merged
exactly (:func:`differing_rows`), and every row with a nonzero difference is reported.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable, Sequence

import numpy as np

from ..core.spec import ConvSpec

__all__ = ["Buffers", "compare_runs", "difference_rows", "differing_rows"]

Run = tuple[int, int, int, int]  # (first position, end position, first channel, end channel)


def _libc_memcmp() -> Callable[[int, int, int], int] | None:
    try:
        memcmp = ctypes.CDLL(ctypes.util.find_library("c")).memcmp
    except (OSError, AttributeError, TypeError):  # no C library to load (e.g. some Windows builds)
        return None
    memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    memcmp.restype = ctypes.c_int
    return memcmp


#: libc's memcmp (ctypes releases the GIL around it), or None: then NumPy compares into a bool buffer
_MEMCMP = _libc_memcmp()


class Buffers:
    """One worker's reused buffers: the two sides' keys and, without libc, the comparison's bool result."""

    def __init__(self, capacity: int) -> None:
        self.expected = np.empty(capacity, dtype=np.int64)
        self.found = np.empty(capacity, dtype=np.int64)
        self.unequal = np.empty(capacity if _MEMCMP is None else 0, dtype=bool)
        self._addresses = (self.expected.ctypes.data, self.found.ctypes.data)
        self._views: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def views(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Both buffers' first keys as arrays of ``shape`` (cached: runs repeat a few shapes)."""
        views = self._views.get(shape)
        if views is None:
            n = math.prod(shape)
            views = self._views[shape] = (self.expected[:n].reshape(shape), self.found[:n].reshape(shape))
        return views

    def same(self, shape: tuple[int, ...]) -> bool:
        """Whether both buffers' first keys, as arrays of ``shape``, are equal."""
        if _MEMCMP is not None:
            return _MEMCMP(*self._addresses, 8 * math.prod(shape)) == 0
        a, b = self.views(shape)
        unequal = self.unequal[: a.size].reshape(shape)
        np.not_equal(a, b, out=unequal)
        return not unequal.any()


def compare_runs(
    spec: ConvSpec,
    expected: tuple[np.ndarray, np.ndarray],
    found: tuple[np.ndarray, np.ndarray],
    runs: Sequence[Run],
    buffers: Buffers,
) -> list[np.ndarray]:
    """Seed rows where the two sides differ, over ``runs``; each side is its (spatial, channel) parts.

    ``spatial`` is (P, K) over all output positions, ``channel`` (K, C₂, C₁/g); see the module docstring.
    """
    taps, c_out, c_in_g = expected[1].shape
    # (P, K, 1, 1) and (1, K, C₂, C₁/g) views, made once: the loop only slices them
    d_spatial, m_spatial = expected[0][:, :, None, None], found[0][:, :, None, None]
    d_channel, m_channel = expected[1][None], found[1][None]
    bad = []
    for p0, p1, c0, c1 in runs:
        shape = (p1 - p0, taps, c1 - c0, c_in_g)
        a, b = buffers.views(shape)
        if c1 - c0 == c_out:
            np.add(d_spatial[p0:p1], d_channel, out=a)
            np.add(m_spatial[p0:p1], m_channel, out=b)
        else:
            np.add(d_spatial[p0:p1], d_channel[:, :, c0:c1], out=a)
            np.add(m_spatial[p0:p1], m_channel[:, :, c0:c1], out=b)
        if not buffers.same(shape):
            bad.append(differing_rows(spec, a, b, p0, c0))
    return bad


def differing_rows(spec: ConvSpec, a: np.ndarray, b: np.ndarray, p0: int, c0: int) -> np.ndarray:
    """Seed rows of a (P, K, C, C₁/g) run starting at (p0, c0) whose term lists differ; terms are the keys ≥ 0."""
    positions = p0 + np.arange(a.shape[0], dtype=np.int64)
    channels = c0 + np.arange(a.shape[2], dtype=np.int64)
    rows = np.broadcast_to((positions[:, None] * spec.out_channels + channels[None, :])[:, None, :, None], a.shape)
    in_a, in_b = a >= 0, b >= 0
    ones = np.ones(1, dtype=np.int64)
    expected = (rows[in_a], a[in_a], np.broadcast_to(ones, (int(in_a.sum()),)))
    found = (rows[in_b], b[in_b], np.broadcast_to(ones, (int(in_b.sum()),)))
    return difference_rows(expected, found)


def difference_rows(
    expected: tuple[np.ndarray, np.ndarray, np.ndarray], found: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """Seed rows where found − expected ≠ 0; each side is (row id per term, key, coefficient), in any order."""
    row = np.concatenate([expected[0], found[0]])
    key = np.concatenate([expected[1], found[1]])
    coefficient = np.concatenate([-expected[2], found[2]])
    order = np.lexsort((key, row))
    row, key, coefficient = row[order], key[order], coefficient[order]
    starts = np.flatnonzero(np.r_[True, (row[1:] != row[:-1]) | (key[1:] != key[:-1])])
    sums = np.add.reduceat(coefficient, starts) if len(starts) else coefficient[:0]
    return np.unique(row[starts[sums != 0]])
