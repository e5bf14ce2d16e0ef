"""nnz(𝒲_mode) of a layer with ``padding_mode`` reflect, replicate or circular, per axis.

𝒲_mode = 𝒲_valid · P_mode (:mod:`symconv.forms.padding`): the entry in row (i, o) and column (l, q) is the sum of
the weights ω_{i,l',t} over the taps t whose cell, sent through π per axis, is q. Taps are multi-indices and π acts
axis by axis, so that set of taps is a product of per-axis sets and the entry is nonzero (a sum of distinct
symbols) exactly when every per-axis set is non-empty. Hence

    nnz(𝒲_mode) = C₂ · (C₁/g) · Π_axes N_a,   N_a = Σ_{o < n'} |{π(o·s − p + t·d) : 0 ≤ t < k}|,

N_a the number of (output position, input cell) pairs of axis a that some tap joins. Every tap of a padded layer
reads an input cell (no tap is lost to zeros), so k·n' − N_a taps of axis a *merge* into a cell another tap of the
same window reads (those entries of 𝒲_mode are sums ω_a + ω_b).

* circular — closed form: π(c) = c mod n and t·d ≡ t'·d (mod n) iff n/gcd(n, d) divides t − t', so the k taps of
  a window read min(k, n/gcd(n, d)) distinct cells whatever o is: N_a = n'·min(k, n/gcd(n, d)).
* reflect, replicate — no closed form is claimed: N_a is counted exactly from the padding map π
  (:func:`symconv.forms.padding.axis_padding_map`), position by position.

Parameters, output sizes and the multiply-adds of the index sum (every tap multiplies an input value) do not depend
on the mode; only nnz(𝒲) does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.spec import ConvSpec, axis_names
from ..forms.padding import axis_padding_map

__all__ = ["ModeAxisCount", "circular_axis_cells", "mode_axis_counts", "mode_nnz"]

#: the name under which counts() reports nnz for each mode, and whether it is a closed form
MODE_NNZ = {"circular": "nnz_circular", "reflect": "nnz_reflect_counted", "replicate": "nnz_replicate_counted"}


@dataclass(frozen=True)
class ModeAxisCount:
    """One axis of a padded layer: N_a (pairs joined by a tap), its taps k·n', and how N_a was obtained."""

    axis: str
    size: int  # n
    kernel: int  # k
    outputs: int  # n'
    pairs: int  # N_a
    method: str  # "closed form n'·min(k, n/gcd(n, d))" or "counted from the padding map"

    @property
    def taps(self) -> int:
        """k·n': every tap of every window on this axis."""
        return self.kernel * self.outputs

    @property
    def merged(self) -> int:
        """Taps that read a cell another tap of the same window reads."""
        return self.taps - self.pairs


def circular_axis_cells(n: int, k: int, d: int) -> int:
    """Distinct cells the k taps (dilation d) of one circular window read on an axis of length n: min(k, n/gcd(n, d)).

    >>> circular_axis_cells(5, 3, 1), circular_axis_cells(4, 3, 2), circular_axis_cells(2, 3, 1)
    (3, 2, 2)
    """
    return min(k, n // math.gcd(n, d))


def _counted_pairs(spec: ConvSpec, axis: int) -> int:
    """N_a counted from π: distinct cells per output position, summed (−1 = a zero of zeros padding, not a cell)."""
    n, k, s, d = spec.input_size[axis], spec.kernel_size[axis], spec.stride[axis], spec.dilation[axis]
    before, after = spec.padding_before[axis], spec.padding_after[axis]
    pi = axis_padding_map(n, before, after, spec.padding_mode)
    padded = np.arange(spec.output_size[axis])[:, None] * s + np.arange(k)[None, :] * d  # 0-based, on the padded axis
    cells = np.sort(pi[padded], axis=1)
    distinct = np.concatenate([cells[:, :1] >= 0, (np.diff(cells, axis=1) != 0) & (cells[:, 1:] >= 0)], axis=1)
    return int(distinct.sum())


def mode_axis_counts(spec: ConvSpec) -> tuple[ModeAxisCount, ...]:
    """N_a per axis for ``spec``'s padding mode (closed form for circular, counted otherwise).

    >>> [c.pairs for c in mode_axis_counts(ConvSpec(1, 1, input_size=(4, 5), kernel_size=3, padding=1,
    ...                                                 padding_mode="reflect"))]
    [10, 13]
    """
    out = []
    for a, name in enumerate(axis_names(spec.ndim)):
        n, k, n_out = spec.input_size[a], spec.kernel_size[a], spec.output_size[a]
        if spec.padding_mode == "circular":
            pairs, method = n_out * circular_axis_cells(n, k, spec.dilation[a]), "closed form n'·min(k, n/gcd(n, d))"
        else:
            pairs, method = _counted_pairs(spec, a), "counted from the padding map"
        out.append(ModeAxisCount(name, n, k, n_out, pairs, method))
    return tuple(out)


def mode_nnz(spec: ConvSpec) -> tuple[str, int]:
    """(name, nnz(𝒲_mode)) for a reflect / replicate / circular layer: C₂·(C₁/g)·Π N_a.

    >>> mode_nnz(ConvSpec(2, 4, input_size=5, kernel_size=3, padding=1, groups=2, padding_mode="circular"))
    ('nnz_circular', 900)
    """
    if spec.padding_mode not in MODE_NNZ:
        raise ValueError(f"mode_nnz counts reflect, replicate and circular layers, got {spec.padding_mode!r}")
    per_axis = math.prod(c.pairs for c in mode_axis_counts(spec))
    return MODE_NNZ[spec.padding_mode], spec.out_channels * spec.in_per_group * per_axis
