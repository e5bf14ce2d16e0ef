"""Receptive fields: which inputs reach an output, for one layer, a stack, or a DAG of layers.

Per axis, a layer with kernel k, stride s, padding p (before), dilation d lets output o read input
positions ``o·s − p + t·d`` (t = 0 … k−1). Composing, the outputs of a stack read, per axis, the box

    start(j) = j·S − P,   end(j) = start(j) + r − 1,   centre(j) = j·S − P + (r − 1)/2

with the recurrences (layer L appended to a stack with r, S, P; r₀ = 1, S₀ = 1, P₀ = 0)

    r_L = r_{L−1} + (k_L − 1)·d_L·S_{L−1},   S_L = S_{L−1}·s_L,   P_L = P_{L−1} + p_L·S_{L−1}.

They are derived and solved in :mod:`symconv.receptive.forms` and checked against products of the
layers' 𝒲 matrices in :mod:`symconv.receptive.check`. Here they are evaluated in plain integers
(exact, any depth), because a 200-layer stack must take milliseconds.

The box is not the whole story: dilation and strides leave holes, and padding clips — a path through
a padded position carries no input. :meth:`ReceptiveField.region` therefore also gives, for every
feature map, the exact set of positions an output reads (a boolean mask), by pulling the one-hot
output back through each layer's 0/1 pattern, axis by axis.

Transposed convolutions (``kind="tconv"``) with stride s > 1 read their input at stride 1/s: output o reads
the inputs i with o = i·s − p + t·d, so the start and size of an output's region depend on o mod s, and the
integer summary (r, S, P) stops describing every output. The masks stay exact (each layer's dependence is
pulled back as it is); the summary is then None for every map from that layer on, and
:attr:`ReceptiveField.inexact` says why — never a wrong number. Stride-1 transposed layers are convolutions
with padding d(k−1) − p (see :mod:`symconv.receptive.layers`) and keep the summary.

Padding modes (a convolution's ``padding_mode``: reflect, replicate, circular, as in PyTorch) send a tap that
lands on padding to the input cell the mode copies there — per axis through the padding map π of
:mod:`symconv.forms.padding`, composed with the tap map, in the masks and the per-axis patterns. An output
near a border then reads cells outside its zero-padding box (circular: the far border; reflect: mirrored cells;
replicate: the edge cell, even where every tap is padding). The summary is therefore None from the first layer
with non-zero padding and a mode on, with the reason in :attr:`ReceptiveField.inexact`, as for transposed
layers: no border exception is folded into numbers. Outputs whose paths reach no padding cell (``interior`` of
the same stack with zero padding) read exactly their zero-padding region; a mode layer with padding 0 changes
nothing and keeps the summary. PyTorch's limits (reflect: padding < size; circular: padding ≤ size) are
checked per feature map.

In a DAG (branches merged by ``add`` or ``concat``) the field is the union over paths. Paths are
grouped by their (r, S, P); a merge whose branches have different centre offsets ((r−1)/2 − P) is
reported as a :class:`Misalignment` (their features are added out of register), and one whose
branches have different effective strides is refused.

Indices are 0-based; positions before 0 or past the end are padding. Channels do not enter a stack's
field (see :mod:`symconv.receptive.layers`); :func:`conv_inputs` gives the exact (channel, row, column) set for
one :class:`~symconv.core.spec.ConvSpec`, groups included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from ..core.spec import ConvSpec, check_padding_mode
from ..core.taps import axis_taps, grid_taps, in_range, tap
from ..errors import SpecError, TooLargeError
from .build import graph_of
from .layers import AxisOp, Graph, Layer, Node

__all__ = [
    "AxisDistribution",
    "AxisRegion",
    "EffectiveField",
    "LayerField",
    "MapRegion",
    "Misalignment",
    "PathField",
    "ReceptiveField",
    "Region",
    "axis_pattern",
    "conv_inputs",
    "effective_receptive_field",
    "receptive_field",
]

#: Largest receptive-field size per axis for which the exact effective field (path counts) is built.
MAX_EFFECTIVE_SIZE = 1_000_000
#: Largest number of cells, over all feature maps, for which region() builds exact masks by default (bytes).
MAX_MASK_CELLS = 32_000_000

_AxisField = tuple[int, int, int]  # (r, S, P) of one axis
_Key = tuple[_AxisField, ...]


def _append(f: _AxisField, op: AxisOp) -> _AxisField:
    """The field after one more layer ``op`` (the recurrences of the module docstring)."""
    r, S, P = f
    return (r + (op.kernel - 1) * op.dilation * S, S * op.stride, P + op.before * S)


def _prepend(f: _AxisField, op: AxisOp) -> _AxisField:
    """The field of ``op`` followed by a stack with field ``f`` (the same composition, read backwards)."""
    r, S, P = f
    return ((r - 1) * op.stride + (op.kernel - 1) * op.dilation + 1, S * op.stride, P * op.stride + op.before)


def _union(keys: list[_Key]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(size, stride, padding) of the union of paths with equal strides: the box from min start to max end."""
    ndim = len(keys[0])
    size, stride, padding = [], [], []
    for a in range(ndim):
        boxes = [_box(0, *k[a], None) for k in keys]  # output 0's box along each path
        lo, hi = min(b.start for b in boxes), max(b.end for b in boxes)
        size.append(hi - lo + 1)
        stride.append(keys[0][a][1])
        padding.append(-lo)
    return tuple(size), tuple(stride), tuple(padding)


def _half(value: Fraction) -> float:
    return float(value)  # halves and integers are exact in binary floating point


# ------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class PathField:
    """The field along the paths from the input that share one (size, stride, padding).

    ``via`` names the nodes of one such path (input excluded); ``count`` is how many paths share it.
    """

    via: tuple[str, ...]
    count: int
    size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]

    @property
    def centre_offset(self) -> tuple[float, ...]:
        """Per axis, centre(j) − j·S = (r − 1)/2 − P."""
        return tuple(_half(Fraction(r - 1, 2) - p) for r, p in zip(self.size, self.padding))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"via": list(self.via), "count": self.count, "size": list(self.size), "stride": list(self.stride),
                "padding": list(self.padding), "centre_offset": list(self.centre_offset)}


@dataclass(frozen=True)
class Misalignment:
    """A merge whose branches look at differently centred regions (centre offsets differ)."""

    node: str
    inputs: tuple[str, ...]
    centre_offsets: tuple[tuple[float, ...], ...]  # one per input, per axis

    def describe(self) -> str:
        """One line."""
        parts = ", ".join(f"{name} {_axes_text(c)}" for name, c in zip(self.inputs, self.centre_offsets))
        return f"{self.node}: branches misaligned, centre offsets {parts}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"node": self.node, "inputs": list(self.inputs), "centre_offsets": [list(c) for c in self.centre_offsets]}


@dataclass(frozen=True)
class LayerField:
    """The field of one feature map of the graph, from the input up to it: per-layer intermediate values.

    ``map_size`` is the feature map's spatial size when the input size is known. ``size``, ``stride`` and
    ``padding`` are None (and ``paths`` empty) behind a transposed layer with stride > 1: no integer summary
    is exact there (see the module docstring).
    """

    name: str
    layer: Layer | None
    inputs: tuple[str, ...]
    merge: str | None
    size: tuple[int, ...] | None
    stride: tuple[int, ...] | None
    padding: tuple[int, ...] | None
    map_size: tuple[int, ...] | None
    paths: tuple[PathField, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "name": self.name, "layer": None if self.layer is None else self.layer.describe(),
            "inputs": list(self.inputs), "merge": self.merge, "size": _listed(self.size),
            "stride": _listed(self.stride), "padding": _listed(self.padding), "map_size": _listed(self.map_size),
            "paths": [p.to_dict() for p in self.paths],
        }


def _listed(values: tuple[int, ...] | None) -> list[int] | None:
    return None if values is None else list(values)


@dataclass(frozen=True)
class AxisRegion:
    """The box an output reads along one axis of one feature map (inclusive ends, 0-based).

    ``start``/``end`` are unclipped (negative or past the end means padding); ``clipped_*`` are the box
    intersected with the map, None when the map size is unknown or nothing is left.
    """

    start: int
    end: int
    centre: float
    clipped_start: int | None = None
    clipped_end: int | None = None

    @property
    def size(self) -> int:
        """end − start + 1."""
        return self.end - self.start + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"start": self.start, "end": self.end, "centre": self.centre,
                "clipped_start": self.clipped_start, "clipped_end": self.clipped_end}


@dataclass(frozen=True)
class MapRegion:
    """What one output reads in one feature map: the box per axis and the exact positions (``mask``)."""

    node: str
    map_size: tuple[int, ...] | None
    axes: tuple[AxisRegion, ...]
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def cells(self) -> int | None:
        """Number of positions read (holes and clipping excluded); None without a map size."""
        return None if self.mask is None else int(self.mask.sum())

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly; the mask as nested lists of 0/1."""
        return {"node": self.node, "map_size": None if self.map_size is None else list(self.map_size),
                "axes": [a.to_dict() for a in self.axes], "cells": self.cells,
                "mask": None if self.mask is None else self.mask.astype(int).tolist()}


@dataclass(frozen=True)
class Region:
    """The region of output ``index`` (spatial, 0-based) in the input and in every feature map.

    ``interior`` is True when the box lies inside the input, so that no path meets padding (None when
    the input size is unknown). ``maps`` follows the graph's node order: the input first, the output last.
    """

    index: tuple[int, ...]
    axes: tuple[AxisRegion, ...]
    interior: bool | None
    maps: tuple[MapRegion, ...]

    @property
    def mask(self) -> np.ndarray | None:
        """Exact boolean mask over the input: the positions this output depends on."""
        return self.maps[0].mask

    def describe(self) -> str:
        """A few lines: the input box per axis, clipped, and the count of positions read."""
        lines = [f"region of output {self.index} in the input (0-based, inclusive; interior={self.interior}):"]
        for a, ax in enumerate(self.axes):
            clip = "" if ax.clipped_start is None else f", clipped {ax.clipped_start}..{ax.clipped_end}"
            lines.append(f"  axis {a}: {ax.start}..{ax.end} (size {ax.size}, centre {ax.centre:g}{clip})")
        if self.mask is not None:
            lines.append(f"  reads {int(self.mask.sum())} input positions (holes and padding excluded)")
            if self.mask.ndim == 2 and self.mask.shape[1] <= 64 and self.mask.shape[0] <= 64:
                lines.extend("  " + "".join("#" if v else "." for v in row) for row in self.mask)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"index": list(self.index), "interior": self.interior, "axes": [a.to_dict() for a in self.axes],
                "maps": [m.to_dict() for m in self.maps]}


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of a stack or DAG: per-axis ``size`` r, ``stride`` S, ``padding`` P.

    ``layers`` holds the same values for every feature map (input first), ``paths`` the distinct
    path fields at the output, ``misaligned`` the merges whose branches are centred differently.
    ``inexact`` is None when ``size``, ``stride`` and ``padding`` describe every output exactly; behind a
    transposed layer with stride > 1 or a padded convolution with a padding mode they are None and ``inexact``
    says why (:meth:`region` stays exact).

    >>> rf = receptive_field([Layer(3, padding=1), Layer(2, stride=2, kind="maxpool"), Layer(3, dilation=2)])
    >>> rf.size, rf.stride, rf.padding
    ((12, 12), (2, 2), (1, 1))
    >>> rf.region((0, 1)).axes[1]
    AxisRegion(start=1, end=12, centre=6.5, clipped_start=None, clipped_end=None)
    """

    graph: Graph = field(repr=False)
    ndim: int
    size: tuple[int, ...] | None
    stride: tuple[int, ...] | None
    padding: tuple[int, ...] | None
    input_size: tuple[int, ...] | None
    output_size: tuple[int, ...] | None
    layers: tuple[LayerField, ...]
    misaligned: tuple[Misalignment, ...] = ()
    inexact: str | None = None

    @property
    def paths(self) -> tuple[PathField, ...]:
        """The distinct path fields at the output."""
        return self.layers[-1].paths

    def box(self, index: tuple[int, ...] | int) -> tuple[AxisRegion, ...]:
        """The unclipped (and, with an input size, clipped) input box of output ``index``, per axis.

        >>> receptive_field([Layer(3, stride=2)], input_size=7).box((1, 2))[0]
        AxisRegion(start=2, end=4, centre=3.0, clipped_start=2, clipped_end=4)
        """
        index = self._check_index(index)
        if self.size is None or self.stride is None or self.padding is None:
            raise SpecError(f"no box from a summary: {self.inexact}; region(index) gives the exact mask")
        return tuple(_box(j, r, s, p, None if self.input_size is None else self.input_size[a])
                     for a, (j, r, s, p) in enumerate(zip(index, self.size, self.stride, self.padding)))

    def region(self, index: tuple[int, ...] | int, masks: bool | None = None) -> Region:
        """The region of output ``index`` in the input and in every feature map, with exact masks.

        ``masks``: True builds a boolean mask per feature map (needs the input size; TooLargeError above
        :data:`MAX_MASK_CELLS` cells in all), False none, None (default) whenever they fit.

        Behind a transposed layer with stride > 1 (:attr:`inexact` set) there is no summary to draw boxes from:
        the masks are required, and each box is the mask's extent inside the map (``start`` = ``clipped_start``;
        an output that reads nothing gets the empty box 0..−1) and ``interior`` is None.

        >>> reg = receptive_field([Layer(3, dilation=2)], input_size=(5, 5)).region((0, 0))
        >>> reg.mask.astype(int).tolist()[0]
        [1, 0, 1, 0, 1]
        >>> up = receptive_field([Layer(3, stride=2, padding=1, output_padding=1, kind="tconv")], input_size=4)
        >>> up.size is None, up.region((1, 1)).mask.astype(int).tolist()[0]
        (True, [1, 1, 0, 0])
        """
        index = self._check_index(index)
        nodes = self.graph.nodes
        sizes = {lf.name: lf.map_size for lf in self.layers}
        # 1. masks or not: they cost one byte per cell of every feature map
        mask_sizes = self._mask_sizes(masks)
        # 2. walk the graph backwards from the output: each map gets the fields from it to the output
        #    (deduplicated: a DAG has many paths) and, when built, the exact mask pulled back through layers
        consumers: dict[str, list[Node]] = {n.name: [] for n in nodes}
        for n in nodes:
            for source in n.inputs:
                consumers[source].append(n)
        ops = {n.name: n.layer.axes(self.ndim) for n in nodes if n.layer is not None}
        masks_by_node = {} if mask_sizes is None else _masks_back(self.graph, index, mask_sizes, consumers, ops)
        if self.inexact is not None:  # no summary: the boxes are the masks' extents
            maps = tuple(MapRegion(n.name, sizes[n.name], _mask_extent(masks_by_node[n.name]), masks_by_node[n.name])
                         for n in nodes)
            return Region(index, maps[0].axes, None, maps)
        back = self._fields_back(consumers, ops)
        # 3. per map, the box j·S − P … j·S − P + r − 1 united over the fields
        regions = []
        for node in nodes:
            size = sizes[node.name]
            axes = []
            for a in range(self.ndim):
                boxes = [_box(index[a], r, S, P, None) for r, S, P in (key[a] for key in back[node.name])]
                lo, hi = min(b.start for b in boxes), max(b.end for b in boxes)
                axes.append(_axis_region(lo, hi, None if size is None else size[a]))
            regions.append(MapRegion(node.name, size, tuple(axes), masks_by_node.get(node.name)))
        axes_in = regions[0].axes
        interior = None if self.input_size is None else all(
            ax.start >= 0 and ax.end < n for ax, n in zip(axes_in, self.input_size)
        )
        return Region(index, axes_in, interior, tuple(regions))

    def _mask_sizes(self, masks: bool | None) -> dict[str, tuple[int, ...]] | None:
        """Every map's size when region masks are to be built (see :meth:`region`), None when not."""
        if self.inexact is not None and (self.input_size is None or masks is False):
            raise SpecError(f"this field's regions need exact masks and so the input size: {self.inexact}; "
                            f"pass input_size to receptive_field and keep masks=None or True")
        if self.input_size is None:
            if masks:
                raise SpecError("masks=True needs the input size: pass input_size to receptive_field")
            return None
        sizes = {lf.name: lf.map_size for lf in self.layers if lf.map_size is not None}
        cells = sum(math.prod(size) for size in sizes.values())
        if masks and cells > MAX_MASK_CELLS:
            raise TooLargeError(f"region masks: {cells:,} cells over all feature maps, above {MAX_MASK_CELLS:,}; "
                                f"use masks=False for the boxes only")
        return sizes if masks or (masks is None and cells <= MAX_MASK_CELLS) else None

    def _fields_back(self, consumers: dict[str, list[Node]], ops: dict[str, tuple[AxisOp, ...]]) -> dict[str, set[_Key]]:
        """Per map, the distinct fields (r, S, P per axis) from it to the output, through every path."""
        nodes = self.graph.nodes
        back: dict[str, set[_Key]] = {nodes[-1].name: {((1, 1, 0),) * self.ndim}}
        for node in reversed(nodes[:-1]):
            keys: set[_Key] = set()
            for c in consumers[node.name]:
                if c.layer is None:  # a merge passes the region on unchanged
                    keys |= back[c.name]
                else:
                    keys |= {tuple(_prepend(f, op) for f, op in zip(key, ops[c.name])) for key in back[c.name]}
            back[node.name] = keys
        return back

    def _check_index(self, index: tuple[int, ...] | int) -> tuple[int, ...]:
        """``index`` as a tuple of ints; SpecError naming the problem: type, sign, number of entries or range."""
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool) and self.ndim == 1:
            index = (int(index),)
        limits = self.output_size
        allowed = "" if limits is None else " × ".join(f"0..{n - 1}" for n in limits)
        shown = "" if limits is None else f"; allowed {allowed} for the output {'×'.join(map(str, limits))}"
        if not (isinstance(index, (tuple, list))
                and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in index)):
            raise SpecError(f"index must be a tuple of {self.ndim} ints (0-based, one per spatial axis{shown}), got {index!r}")
        if any(v < 0 for v in index):
            raise SpecError(f"index must be ≥ 0 on every axis (0-based, no negative indices{shown}), got {index!r}")
        if len(index) != self.ndim:
            raise SpecError(f"index must have {self.ndim} entries, one per spatial axis (0-based{shown}), "
                            f"got {len(index)}: {index!r}")
        if limits is not None and any(v >= n for v, n in zip(index, limits)):
            a = next(a for a, (v, n) in enumerate(zip(index, limits)) if v >= n)
            raise SpecError(f"index {tuple(int(v) for v in index)} is outside the output {'×'.join(map(str, limits))}: "
                            f"entry {a} must be in 0..{limits[a] - 1}")
        return tuple(int(v) for v in index)

    def describe(self) -> str:
        """A table: one row per feature map with its layer and cumulative size, stride, padding."""
        def axes(values: tuple[int, ...] | None) -> str:
            return "?" if values is None else "×".join(map(str, values))

        head = f"receptive field: size {axes(self.size)}, stride {axes(self.stride)}, padding {axes(self.padding)}"
        if self.input_size is not None:
            head += f"; input {axes(self.input_size)} → output {axes(self.output_size)}"
        rows = [("node", "layer", "size", "stride", "padding", "map")]
        for lf in self.layers:
            what = lf.layer.describe() if lf.layer is not None else (f"{lf.merge}({', '.join(lf.inputs)})" if lf.merge else "")
            rows.append((lf.name, what, axes(lf.size), axes(lf.stride), axes(lf.padding), axes(lf.map_size)))
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        lines = [head] + ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        if len(self.paths) > 1:
            lines.append(f"{sum(p.count for p in self.paths)} paths, {len(self.paths)} distinct fields:")
            lines.extend(f"  size {axes(p.size)}, padding {axes(p.padding)}, ×{p.count}, "
                         f"e.g. via {' → '.join(p.via) or 'identity'}" for p in self.paths)
        lines.extend(m.describe() for m in self.misaligned)
        if self.inexact is not None:
            lines.append(f"no exact size/stride/padding (?): {self.inexact}; regions come from exact masks")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary with every feature map."""
        return {
            "ndim": self.ndim, "size": _listed(self.size), "stride": _listed(self.stride),
            "padding": _listed(self.padding), "inexact": self.inexact,
            "input_size": None if self.input_size is None else list(self.input_size),
            "output_size": None if self.output_size is None else list(self.output_size),
            "layers": [lf.to_dict() for lf in self.layers],
            "misaligned": [m.to_dict() for m in self.misaligned],
        }


def _masks_back(
    graph: Graph, index: tuple[int, ...], sizes: dict[str, tuple[int, ...]], consumers: dict[str, list[Node]],
    ops: dict[str, tuple[AxisOp, ...]],
) -> dict[str, np.ndarray]:
    """Per map, the exact positions output ``index`` reads: its one-hot mask pulled back through the layers, united
    over the consumers (a merge passes it on unchanged)."""
    nodes = graph.nodes
    out = np.zeros(sizes[nodes[-1].name], dtype=bool)
    out[index] = True
    masks = {nodes[-1].name: out}
    for node in reversed(nodes[:-1]):
        mask = np.zeros(sizes[node.name], dtype=bool)
        for c in consumers[node.name]:
            mask |= masks[c.name] if c.layer is None else _pull_back(masks[c.name], ops[c.name], sizes[node.name])
        masks[node.name] = mask
    return masks


def _mask_extent(mask: np.ndarray) -> tuple[AxisRegion, ...]:
    """Per axis, the first and last position of ``mask`` that is read (the empty box 0..−1 when none is)."""
    axes = []
    for a in range(mask.ndim):
        hit = np.flatnonzero(mask.any(axis=tuple(b for b in range(mask.ndim) if b != a)))
        lo, hi = (int(hit[0]), int(hit[-1])) if hit.size else (0, -1)
        axes.append(AxisRegion(lo, hi, _half(Fraction(lo + hi, 2)), lo if hit.size else None, hi if hit.size else None))
    return tuple(axes)


def _box(j: int, r: int, S: int, P: int, n: int | None) -> AxisRegion:
    """Output j's box on one axis: the whole field acts as one layer of kernel r, stride S, padding P, dilation 1,
    so its first and last tap, tap(j, 0) = j·S − P and tap(j, r − 1) = j·S − P + r − 1, are the ends."""
    return _axis_region(tap(j, 0, S, P, 1), tap(j, r - 1, S, P, 1), n)


def _axis_region(start: int, end: int, n: int | None) -> AxisRegion:
    centre = _half(Fraction(start + end, 2))
    if n is None or end < 0 or start > n - 1:
        return AxisRegion(start, end, centre)
    return AxisRegion(start, end, centre, max(start, 0), min(end, n - 1))


def _axes_text(values: tuple[Any, ...]) -> str:
    return "×".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


# ---------------------------------------------------------------------------------- exact patterns
@lru_cache(maxsize=4096)
def _axis_matrix(op: AxisOp, n_in: int) -> np.ndarray:
    matrix = np.zeros((op.output_size(n_in), n_in), dtype=bool)
    if op.transposed:  # the tap map read from the input side: input i reaches o = i·s − p + t·d
        o, valid = grid_taps((n_in,), (op.kernel,), (op.stride,), (op.before,), (op.dilation,), (matrix.shape[0],))
        i = np.broadcast_to(np.arange(n_in)[:, None], o.shape)
        matrix[o[valid], i[valid]] = True
        matrix.setflags(write=False)
        return matrix
    i, valid = _read(op, n_in, axis_taps(n_in, op.kernel, op.stride, op.before, op.dilation, out=matrix.shape[0])[0])
    o = np.broadcast_to(np.arange(matrix.shape[0])[:, None], i.shape)
    matrix[o[valid], i[valid]] = True
    matrix.setflags(write=False)
    return matrix


def _mode_padded(op: AxisOp) -> bool:
    """Whether ``op`` pads with a non-zero mode, so that its padding cells read input cells."""
    return op.mode != "zeros" and (op.before > 0 or op.after > 0)


@lru_cache(maxsize=1024)
def _padding_map(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """π of :func:`symconv.forms.padding.axis_padding_map`, imported here only: forms.padding loads SymPy, which a
    zero-padded stack (and ``symconv rf`` without modes) need not wait for."""
    from ..forms.padding import axis_padding_map

    pi = axis_padding_map(n, before, after, mode)
    pi.setflags(write=False)
    return pi


def _read(op: AxisOp, n: int, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(input position read, whether one is read) for tap positions ``coords`` of a forward axis on an input of n.

    Zero padding reads nothing outside 0 … n − 1; a padding mode reads π(c) there (the padding map of
    :mod:`symconv.forms.padding`, defined on −before … n + after − 1, where every tap of an output lands).
    """
    if not _mode_padded(op):
        return coords, in_range(coords, n)
    pi = _padding_map(n, op.before, op.after, op.mode)
    shifted = coords + op.before
    inside = in_range(shifted, pi.size)
    source = pi[np.where(inside, shifted, 0)]
    return source, inside & (source >= 0)


def axis_pattern(op: AxisOp, n_in: int) -> np.ndarray:
    """The 0/1 pattern of one layer along one axis: ``[o, i]`` is True iff output o reads input i.

    >>> axis_pattern(Layer(2, stride=2, padding=1).axes(1)[0], 3).astype(int).tolist()
    [[1, 0, 0], [0, 1, 1]]
    >>> axis_pattern(Layer(2, stride=2, kind="tconv").axes(1)[0], 2).astype(int).tolist()
    [[1, 0], [1, 0], [0, 1], [0, 1]]
    >>> axis_pattern(Layer(3, padding=1, padding_mode="circular").axes(1)[0], 4).astype(int).tolist()
    [[1, 1, 0, 1], [1, 1, 1, 0], [0, 1, 1, 1], [1, 0, 1, 1]]
    """
    return _axis_matrix(op, n_in)


def _pull_back(mask: np.ndarray, ops: tuple[AxisOp, ...], size_in: tuple[int, ...]) -> np.ndarray:
    """The input positions that reach any True position of ``mask`` (a layer's output), axis by axis.

    Per axis and tap t, output o lands on input o·s − before + t·d; those targets are distinct for one
    t, so a fancy-indexed OR per tap is exact — k passes over the mask instead of a dense product. A transposed
    axis reads the same map from the other side: input i reaches output i·s − before + t·d. With a padding mode
    the targets go through the padding map π, which can send several outputs to one input (replicate's edge,
    circular on a short axis): there the OR is unbuffered (``np.logical_or.at``).
    """
    out = mask
    for a, (op, n) in enumerate(zip(ops, size_in)):
        shape = list(out.shape)
        shape[a] = n
        pulled = np.zeros(shape, dtype=bool)
        o, i = np.arange(out.shape[a]), np.arange(n)
        for t in range(op.kernel):
            if op.transposed:
                source, target = tap(i, t, op.stride, op.before, op.dilation), i
                keep = in_range(source, out.shape[a])
            else:
                source = o
                target, keep = _read(op, n, tap(o, t, op.stride, op.before, op.dilation))
            if keep.any():
                index_in: list[Any] = [slice(None)] * out.ndim
                index_out: list[Any] = [slice(None)] * out.ndim
                index_in[a], index_out[a] = target[keep], source[keep]
                if _mode_padded(op):
                    np.logical_or.at(pulled, tuple(index_in), out[tuple(index_out)])
                else:
                    pulled[tuple(index_in)] |= out[tuple(index_out)]
        out = pulled
    return out


# --------------------------------------------------------------------------------- the computation
def _normalise_size(name: str, value: Any, ndim: int) -> tuple[int, ...]:
    values = (value,) * ndim if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if (
        not isinstance(values, (tuple, list))
        or len(values) != ndim
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values)
    ):
        raise SpecError(f"{name} must be an int ≥ 1 or a tuple of {ndim} ints ≥ 1 (one per spatial axis), got {value!r}")
    return tuple(int(v) for v in values)


def receptive_field(layers: Any, input_size: int | tuple[int, ...] | None = None) -> ReceptiveField:
    """The receptive field of ``layers``: a list of :class:`Layer` / ConvSpec / Branches, a Graph, or a torch module.

    ``input_size`` (int or one per axis) adds feature-map sizes, clipped boxes and exact masks; it
    defaults to the first layer's input size when that layer is a ConvSpec.

    >>> rf = receptive_field([Layer(3)] * 4, input_size=16)
    >>> rf.size, rf.output_size
    ((9, 9), (8, 8))
    """
    # 1. one graph, whatever the input format
    graph = graph_of(layers)
    nodes = graph.nodes
    first = nodes[1] if len(nodes) > 1 else None
    if input_size is None and first is not None and first.spec is not None and first.inputs == ("input",):
        input_size = first.spec.input_size
    ndim = graph.ndim(default=len(input_size) if isinstance(input_size, (tuple, list)) else 2)
    sizes: dict[str, tuple[int, ...] | None] = {
        "input": None if input_size is None else _normalise_size("input_size", input_size, ndim)
    }
    # 2. forward: the distinct path fields of every feature map (None behind a strided transposed layer), its size
    paths: dict[str, _Paths | None] = {"input": {((1, 1, 0),) * ndim: ((), 1)}}
    fields: list[LayerField] = []
    misaligned: list[Misalignment] = []
    inexact: str | None = None
    for node in nodes:
        if node.layer is not None:
            source = node.inputs[0]
            ops = node.layer.axes(ndim)
            paths[node.name] = _extended(paths[source], node.name, ops)
            if inexact is None and paths[node.name] is None:
                inexact = _why_inexact(node, node.layer, ops)
            sizes[node.name] = _layer_output_size(node, ops, sizes[source])
        elif node.inputs:
            misaligned.extend(_merge(node, paths, sizes, ndim))
        fields.append(_layer_field(node, paths[node.name], sizes[node.name]))
    # 3. the output's field is the last map's
    last = fields[-1]
    return ReceptiveField(graph, ndim, last.size, last.stride, last.padding, sizes["input"], last.map_size,
                          tuple(fields), tuple(misaligned), None if last.size is not None else inexact)


_Paths = dict[_Key, tuple[tuple[str, ...], int]]


def _extended(before: _Paths | None, name: str, ops: tuple[AxisOp, ...]) -> _Paths | None:
    """The path fields after one more layer; None (no exact summary) behind or at a strided transposed layer or a
    layer padded with a mode (reflect, replicate, circular)."""
    if before is None or any(op.transposed or _mode_padded(op) for op in ops):
        return None
    found: _Paths = {}
    for key, (via, count) in before.items():
        _add_path(found, tuple(_append(f, op) for f, op in zip(key, ops)), via + (name,), count)
    return found


_MODE_READS = {"circular": "cells wrapped around from the opposite border", "reflect": "mirrored cells inside the input",
               "replicate": "the edge cell once per padding cell"}


def _why_inexact(node: Node, layer: Layer, ops: tuple[AxisOp, ...]) -> str:
    a, op = next((a, op) for a, op in enumerate(ops) if op.transposed or _mode_padded(op))
    if not op.transposed:
        return (f"layer {node.name!r} ({layer.describe()}) pads with padding_mode={op.mode!r} on axis {a}: outputs "
                f"that reach its padding read {_MODE_READS[op.mode]} instead of zeros, so no one size/stride/padding "
                f"describes every output; outputs that reach no padding cell read what zero padding gives")
    return (f"layer {node.name!r} ({layer.describe()}) is a transposed convolution with stride {op.stride} on axis {a}: "
            f"its outputs read the input at stride 1/{op.stride}, so where an output's region starts and how long it "
            f"is depend on the output index modulo {op.stride}")


def _layer_field(node: Node, paths: _Paths | None, map_size: tuple[int, ...] | None) -> LayerField:
    if paths is None:
        return LayerField(node.name, node.layer, node.inputs, node.merge, None, None, None, map_size, ())
    size, stride, padding = _union(list(paths))
    path_fields = tuple(_path_field(key, via, count) for key, (via, count) in paths.items())
    return LayerField(node.name, node.layer, node.inputs, node.merge, size, stride, padding, map_size, path_fields)


def _path_field(key: _Key, via: tuple[str, ...], count: int) -> PathField:
    """A PathField from per-axis (r, S, P) triples."""
    size, stride, padding = (tuple(axis[i] for axis in key) for i in range(3))
    return PathField(via, count, size, stride, padding)


def _add_path(found: dict, key: _Key, via: tuple[str, ...], count: int) -> None:
    if key in found:
        found[key] = (found[key][0], found[key][1] + count)
    else:
        found[key] = (via, count)


def _layer_output_size(node: Node, ops: tuple[AxisOp, ...], size_in: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if node.spec is not None and size_in is not None and tuple(node.spec.input_size) != size_in:
        raise SpecError(
            f"layer {node.name!r} is a {type(node.spec).__name__} for input {'×'.join(map(str, node.spec.input_size))} "
            f"but receives a {'×'.join(map(str, size_in))} feature map"
        )
    if size_in is None:
        return None
    out = []
    for a, (op, n) in enumerate(zip(ops, size_in)):
        if _mode_padded(op):
            try:
                check_padding_mode(op.mode, max(op.before, op.after), (op.before,), (op.after,), (n,))
            except SpecError as exc:
                raise SpecError(f"layer {node.name!r} on axis {a}: {exc}") from None
        if op.output_size(n) < 1:
            span = op.dilation * (op.kernel - 1) + 1
            raise SpecError(
                f"layer {node.name!r} does not fit on axis {a}: the dilated kernel spans {span} but the padded "
                f"feature map is {n + op.before + op.after} (size {n} + padding {op.before + op.after})"
            )
        out.append(op.output_size(n))
    return tuple(out)


def _merge(node: Node, paths: dict, sizes: dict, ndim: int) -> list[Misalignment]:
    """Union of the inputs' paths at a merge; refuses different strides or sizes, reports misalignment."""
    if any(paths[name] is None for name in node.inputs):  # no summary behind a strided transposed layer
        _merged_size(node, sizes)
        paths[node.name] = None
        return []
    unions = [_union(list(paths[name])) for name in node.inputs]
    strides = [u[1] for u in unions]
    if len(set(strides)) > 1:
        shown = ", ".join(f"{name} {_axes_text(s)}" for name, s in zip(node.inputs, strides))
        raise SpecError(f"merge {node.name!r} joins branches with different effective strides ({shown}); "
                        f"their outputs cannot be aligned")
    _merged_size(node, sizes)
    merged: dict[_Key, tuple[tuple[str, ...], int]] = {}
    for name in node.inputs:
        for key, (via, count) in paths[name].items():
            _add_path(merged, key, via + (node.name,), count)
    paths[node.name] = merged
    offsets = tuple(tuple(_half(Fraction(r - 1, 2) - p) for r, p in zip(u[0], u[2])) for u in unions)
    if len(set(offsets)) > 1:
        return [Misalignment(node.name, node.inputs, offsets)]
    return []


def _merged_size(node: Node, sizes: dict) -> None:
    known = [sizes[name] for name in node.inputs]
    if known[0] is not None and len(set(known)) > 1:
        shown = ", ".join(f"{name} {_axes_text(s)}" for name, s in zip(node.inputs, known))
        raise SpecError(f"merge {node.name!r} joins feature maps of different sizes ({shown})")
    sizes[node.name] = known[0]


# ------------------------------------------------------------------------------------- one layer
def conv_inputs(spec: ConvSpec, index: tuple[int, int, int]) -> np.ndarray:
    """Exactly which inputs reach output (c, j, k) of one layer: a boolean mask of shape (C₁, H, W).

    Clipped by padding, with dilation holes, and only the input channels of c's group.

    >>> m = conv_inputs(ConvSpec(2, 2, input_size=4, kernel_size=2, dilation=2, padding=1, groups=2), (1, 0, 0))
    >>> bool(m[0].any()), m[1].astype(int).tolist()
    (False, [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    """
    ok = (
        isinstance(index, (tuple, list)) and len(index) == 1 + spec.ndim
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in index)
        and all(0 <= v < n for v, n in zip(index, spec.output_shape))
    )
    if not ok:
        raise SpecError(f"index must be (channel, row, column) within the output {spec.output_shape} (0-based), got {index!r}")
    c, *position = index
    mask = np.zeros(spec.input_shape, dtype=bool)
    group = c // spec.out_per_group
    channels = slice(group * spec.in_per_group, (group + 1) * spec.in_per_group)
    per_axis = []
    for a, (o, op) in enumerate(zip(position, Layer.from_spec(spec).axes(spec.ndim))):
        per_axis.append(_axis_matrix(op, spec.input_size[a])[o])
    spatial = per_axis[0]
    for row in per_axis[1:]:
        spatial = np.multiply.outer(spatial, row)
    mask[channels] = spatial
    return mask


# ------------------------------------------------------------------------- effective receptive field
@dataclass(frozen=True)
class AxisDistribution:
    """Along one axis: how many paths of a uniform-weight stack join the output to input offset u.

    ``counts[u]`` for u = 0 … r−1 measured from the region's start; ``mean`` and ``variance`` are
    those of u under counts/total, exact.
    """

    counts: tuple[int, ...]
    total: int
    mean: Fraction
    variance: Fraction
    size: int

    @property
    def std_over_size(self) -> float:
        """Standard deviation of the effective field over the theoretical size r."""
        return math.sqrt(self.variance) / self.size

    @property
    def support(self) -> tuple[int, int]:
        """First and last offset with a nonzero count."""
        nz = [u for u, c in enumerate(self.counts) if c]
        return nz[0], nz[-1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly (mean and variance as exact fractions in strings, and as floats)."""
        return {"size": self.size, "total": str(self.total), "mean": str(self.mean), "variance": str(self.variance),
                "mean_float": float(self.mean), "variance_float": float(self.variance),
                "std_over_size": self.std_over_size, "support": list(self.support)}


@dataclass(frozen=True)
class EffectiveField:
    """The effective receptive field of a linear stack with uniform weights, for an interior output.

    The weight of input position start + u is the number of paths reaching it; it is a product over
    axes of :class:`AxisDistribution` counts.
    """

    axes: tuple[AxisDistribution, ...]
    field: ReceptiveField = field(repr=False)

    def weights(self) -> np.ndarray:
        """The exact path counts over the region (object array of Python ints, shape = the field size)."""
        out = np.array(self.axes[0].counts, dtype=object)
        for ax in self.axes[1:]:
            out = np.multiply.outer(out, np.array(ax.counts, dtype=object))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"axes": [a.to_dict() for a in self.axes]}


def effective_receptive_field(layers: Any) -> EffectiveField:
    """Exact effective receptive field of a chain of conv/avgpool layers with uniform weights.

    Each layer adds an independent uniform offset t·d·S (t = 0 … k−1, S the stride so far), so the
    counts are the convolution of those layers' 0/1 kernels: integer convolution powers.

    >>> erf = effective_receptive_field([Layer(3)] * 2)
    >>> erf.axes[0].counts, erf.axes[0].mean, erf.axes[0].variance
    ((1, 2, 3, 2, 1), Fraction(2, 1), Fraction(4, 3))
    """
    rf = receptive_field(layers)
    chain: list[Layer] = []
    for node in rf.graph.nodes[1:]:
        if node.layer is None:
            raise SpecError(f"effective_receptive_field needs a chain of layers; {node.name!r} merges branches")
        if node.layer.kind == "maxpool":
            raise SpecError(f"effective_receptive_field needs linear layers (conv, avgpool); {node.name!r} is a maxpool")
        chain.append(node.layer)
    if rf.size is None:
        raise SpecError(f"effective_receptive_field needs a field with one size per axis; here {rf.inexact}")
    if any(r > MAX_EFFECTIVE_SIZE for r in rf.size):
        raise TooLargeError(f"effective_receptive_field: the field size {rf.size} exceeds {MAX_EFFECTIVE_SIZE:,} per axis")
    axes = []
    for a in range(rf.ndim):
        counts = np.ones(1, dtype=object)
        scale = 1
        for layer in chain:
            op = layer.axes(rf.ndim)[a]
            step = op.dilation * scale
            grown = np.zeros(len(counts) + (op.kernel - 1) * step, dtype=object)
            for t in range(op.kernel):
                grown[t * step : t * step + len(counts)] += counts
            counts, scale = grown, scale * op.stride
        values = [int(c) for c in counts]
        total = sum(values)
        mean = Fraction(sum(u * c for u, c in enumerate(values)), total)
        variance = Fraction(sum(u * u * c for u, c in enumerate(values)), total) - mean * mean
        axes.append(AxisDistribution(tuple(values), total, mean, variance, rf.size[a]))
    return EffectiveField(tuple(axes), rf)
