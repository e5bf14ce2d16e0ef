"""Receptive fields checked against the product of the layers' 𝒲 matrices.

Every layer is a sparse 0/1 operator on the flattened feature map (one channel, C-order flatten, i.e.
𝒲's columns and channel-major rows in :mod:`symconv.core.symbols`):

* a convolution's pattern is the nonzero pattern of 𝒲 from the note's block construction,
  :func:`symconv.forms.blocks.block_terms` of a 1 → 1 channel :class:`~symconv.core.spec.ConvSpec` (one channel is
  enough: every channel pair has the same spatial pattern);
* a pooling layer's operator is built here from its window (it is not a 𝒲), and checked against
  PyTorch in the tests.

The graph's operator is the product of its layers' operators along each path, summed at merges, so
its row for output j lists exactly the inputs j depends on — by matrix multiplication alone, with
no receptive-field formula involved. That product cannot pin the field's size r, stride S and
padding P by itself: padding clips, so an output's support can be smaller than its box at one or
both borders — and, through an intermediate map's padding or dilation holes, even at an end that
lies inside the input. The box is a statement about positions *including* padding cells, so the
check also builds, per axis, the **unclipped product**: every map is enlarged by exactly the
padding cells its consumers read (and those read by the enlarged consumers, back to the input),
and each layer is applied as the same layer with padding 0 on that enlarged map (a convolution's
pattern again from 𝒲's blocks). Its row for output o spans the box exactly, padding positions
included. :func:`check_receptive_field` then demands:

1. **exact sets**: the masks predicted by :mod:`symconv.receptive.field` (each layer's per-axis pattern,
   :func:`~symconv.receptive.field.axis_pattern`, multiplied along each path; union over paths) equal the
   product's pattern, every row;
2. **containment**: every nonzero of row j lies in the claimed box j·S − P … j·S − P + r − 1;
3. **interior**: for outputs whose unclipped box lies inside the input (no path can meet padding),
   the product's support spans the unclipped box exactly — this ties the unclipped product to 𝒲;
4. **the claim**: for every output and axis, the claimed box equals the unclipped product's row
   span. One output pins r and P; the stride needs two outputs along the axis, so with a single
   output there it is *undetermined* — reported as such, and then the check does not hold.

Why this algorithm: SciPy is a test-only dependency, so the sparse product is NumPy: CSR × CSR one
chunk of rows at a time; the chunk's (row, column) pairs are scattered into a dense bitmap (or summed
with ``bincount`` when path counts are wanted), whose nonzeros come out already sorted — no sort of
the pairs, and memory bounded by the chunk whatever the size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from ..core.spec import ConvSpec
from ..core.taps import axis_taps, in_range, tap
from ..errors import SpecError, TooLargeError
from ..forms.blocks import block_terms
from ..forms.padding import mode_matrix_terms
from .field import ReceptiveField, _listed, axis_pattern, receptive_field
from .layers import AxisOp, Graph, Layer, Node

__all__ = [
    "AxisBoxes",
    "FieldCheck",
    "Pattern",
    "check_receptive_field",
    "graph_operator",
    "layer_operator",
    "predicted_pattern",
    "unclipped_boxes",
]

#: Bitmap cells (bytes, or 8-byte counts) of one chunk of the sparse product.
CHUNK_CELLS = 1 << 22
#: Gathered (row, column) pairs per chunk.
CHUNK_PAIRS = 1 << 21
#: Largest product (nonzeros) a check builds.
MAX_CHECK_NNZ = 200_000_000
_EXACT_FLOAT = 2**53


@dataclass(frozen=True)
class Pattern:
    """A sparse matrix in CSR form: sorted column ``indices`` per row; ``data`` None means all ones."""

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray | None = None

    @property
    def nnz(self) -> int:
        """Number of stored nonzeros."""
        return int(self.indptr[-1])

    def keys(self) -> np.ndarray:
        """row·n_columns + column of every nonzero, increasing."""
        rows = np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.indptr))
        return rows * self.shape[1] + self.indices

    def to_dense(self) -> np.ndarray:
        """Dense int64 array (small sizes only)."""
        out = np.zeros(self.shape, dtype=np.int64)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        out[rows, self.indices] = 1 if self.data is None else self.data
        return out


def _from_keys(shape: tuple[int, int], keys: np.ndarray, data: np.ndarray | None = None) -> Pattern:
    """CSR from increasing flat keys row·n_columns + column."""
    rows = keys // shape[1]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    return Pattern(shape, indptr, (keys % shape[1]).astype(np.int64), data)


def _identity(size: int, counts: bool) -> Pattern:
    return Pattern((size, size), np.arange(size + 1, dtype=np.int64), np.arange(size, dtype=np.int64),
                   np.ones(size, dtype=np.int64) if counts else None)


def _plane(ops: tuple[AxisOp, ...], size: tuple[int, ...]) -> tuple[tuple[AxisOp, ...], tuple[int, ...]]:
    """1-D stacks run as 2-D with a leading axis of size 1 (the block construction is 2-D)."""
    if len(ops) == 1:
        return (AxisOp(1, 1, 1, 0, 0), ops[0]), (1, size[0])
    if len(ops) != 2:
        raise SpecError(f"the 𝒲-product check covers 1-D and 2-D stacks, got {len(ops)} spatial axes")
    return ops, size


def layer_operator(layer: Layer, input_size: tuple[int, ...], counts: bool = False) -> Pattern:
    """One layer's sparse operator on a flattened single-channel map (conv: 𝒲's pattern; pooling: its window).

    With ``counts`` every entry is 1 (uniform weights, avgpool scaled by its window size).

    >>> layer_operator(Layer((2,)), (3,)).to_dense().tolist()
    [[1, 1, 0], [0, 1, 1]]
    """
    ops, size = _plane(layer.axes(len(input_size)), tuple(input_size))
    if layer.kind == "maxpool" and counts:
        raise SpecError("path counts need linear layers: maxpool has no uniform-weight operator")
    if layer.kind == "conv":
        shape, keys = _conv_keys(layer, ops, size)
    else:
        shape, keys = _pooling_keys(layer, ops, size)
    # a padding mode can send several taps to one input (replicate's edge): the entry is then a sum of weights
    keys, multiplicity = np.unique(keys, return_counts=True)
    return _from_keys(shape, keys, multiplicity.astype(np.int64) if counts else None)


def _conv_keys(layer: Layer, ops: tuple[AxisOp, ...], size: tuple[int, ...]) -> tuple[tuple[int, int], np.ndarray]:
    """A 2-D convolution's operator as (shape, sorted flat keys, repeated per tap that reads the cell): the pattern
    of 𝒲 for one input and one output channel (every channel pair has the same spatial pattern) — the note's
    blocks with zero padding, 𝒲_valid · P (:func:`symconv.forms.padding.mode_matrix_terms`) with a padding mode."""
    before = tuple(op.before for op in ops)
    after = tuple(op.after for op in ops)
    padding: Any = "same" if before != after else before
    spec = ConvSpec(1, 1, input_size=size, kernel_size=tuple(op.kernel for op in ops),
                    stride=tuple(op.stride for op in ops), padding=padding,
                    dilation=tuple(op.dilation for op in ops), bias="none", padding_mode=layer.padding_mode)
    if (spec.padding_before, spec.padding_after) != (before, after):
        raise SpecError(f"padding before {before} / after {after} is not expressible as a ConvSpec")
    shape = (math.prod(spec.output_size), math.prod(size))
    if layer.padding_mode != "zeros":
        terms = mode_matrix_terms(spec)  # one channel pair: the flat output and input indices are spatial
        return shape, np.sort(terms.out.astype(np.int64) * shape[1] + terms.b)
    terms = block_terms(spec)
    n_weights = math.prod(spec.weight_shape)
    valid = np.broadcast_to(terms.valid, terms.keys.shape).reshape(len(terms.keys), -1)
    columns = (terms.keys.reshape(len(terms.keys), -1) // n_weights)
    rows = np.broadcast_to(np.arange(len(terms.keys))[:, None], columns.shape)
    return shape, np.sort(rows[valid].astype(np.int64) * shape[1] + columns[valid])


def _pooling_keys(layer: Layer, ops: tuple[AxisOp, ...], size: tuple[int, ...]) -> tuple[tuple[int, int], np.ndarray]:
    """A 2-D pooling window's operator as (shape, sorted flat keys): output (a, b) reads (tap(a, m), tap(b, n)) inside."""
    out = tuple(op.output_size(n) for op, n in zip(ops, size))
    if min(out) < 1:
        raise SpecError(f"{layer.describe()} does not fit a {'×'.join(map(str, size))} feature map")
    (r, r_in), (c, c_in) = (axis_taps(n, op.kernel, op.stride, op.before, op.dilation, out=o) for op, n, o in zip(ops, size, out))
    r, c = np.broadcast_arrays(r[:, None, :, None], c[None, :, None, :])  # (out rows, out columns, m, n)
    valid = r_in[:, None, :, None] & c_in[None, :, None, :]
    rows = np.broadcast_to(np.arange(out[0] * out[1]).reshape(out[0], out[1], 1, 1), r.shape)
    shape = (out[0] * out[1], size[0] * size[1])
    return shape, np.sort(rows[valid].astype(np.int64) * shape[1] + (r[valid] * size[1] + c[valid]))


def _chunks(A: Pattern, B: Pattern) -> list[tuple[int, int]]:
    """Row ranges of A whose gathered pairs and bitmap fit one chunk."""
    entry_cost = np.diff(B.indptr)[A.indices]
    cum = np.concatenate(([0], np.cumsum(entry_cost)))[A.indptr]
    max_rows = max(1, CHUNK_CELLS // max(B.shape[1], 1))
    ranges, r0, m = [], 0, A.shape[0]
    while r0 < m:
        r1 = int(np.searchsorted(cum, cum[r0] + CHUNK_PAIRS, side="right")) - 1
        r1 = min(max(r1, r0 + 1), r0 + max_rows, m)
        ranges.append((r0, r1))
        r0 = r1
    return ranges


def _multiply(A: Pattern, B: Pattern) -> Pattern:
    """A @ B for sparse nonnegative matrices; 0/1 pattern when both have ``data`` None, else exact counts."""
    if A.shape[1] != B.shape[0]:
        raise SpecError(f"shape mismatch: {A.shape} @ {B.shape}")
    counts = A.data is not None or B.data is not None
    p = B.shape[1]
    b_len = np.diff(B.indptr)
    pieces, row_counts, values = [], [], []
    for r0, r1 in _chunks(A, B):
        lo, hi = A.indptr[r0], A.indptr[r1]
        a_cols = A.indices[lo:hi]
        a_rows = np.repeat(np.arange(r1 - r0, dtype=np.int64), np.diff(A.indptr[r0 : r1 + 1]))
        lengths = b_len[a_cols]
        starts = np.repeat(B.indptr[a_cols] - (np.cumsum(lengths) - lengths), lengths)
        gather = starts + np.arange(int(lengths.sum()), dtype=np.int64)
        flat = np.repeat(a_rows, lengths) * p + B.indices[gather]
        if counts:
            a_vals = np.ones(hi - lo) if A.data is None else A.data[lo:hi].astype(np.float64)
            b_vals = np.ones(len(gather)) if B.data is None else B.data[gather].astype(np.float64)
            acc = np.bincount(flat, weights=np.repeat(a_vals, lengths) * b_vals, minlength=(r1 - r0) * p)
            if acc.size and acc.max() >= _EXACT_FLOAT:  # all terms ≥ 0: a total < 2⁵³ means every step was exact
                raise TooLargeError("path counts reach 2^53 and would lose exactness; use effective_receptive_field")
            nz = np.flatnonzero(acc)
            values.append(acc[nz].astype(np.int64))
        else:
            bitmap = np.zeros((r1 - r0) * p, dtype=bool)
            bitmap[flat] = True
            nz = np.flatnonzero(bitmap)
        pieces.append(nz % p)
        row_counts.append(np.bincount(nz // p, minlength=r1 - r0))
    indptr = np.zeros(A.shape[0] + 1, dtype=np.int64)
    if row_counts:
        np.cumsum(np.concatenate(row_counts), out=indptr[1:])
    indices = np.concatenate(pieces).astype(np.int64) if pieces else np.zeros(0, dtype=np.int64)
    data = (np.concatenate(values) if values else np.zeros(0, dtype=np.int64)) if counts else None
    return Pattern((A.shape[0], p), indptr, indices, data)


def _add(patterns: list[Pattern]) -> Pattern:
    """Sum of same-shape sparse matrices (union of patterns)."""
    shape = patterns[0].shape
    keys = np.concatenate([q.keys() for q in patterns])
    if all(q.data is None for q in patterns):
        return _from_keys(shape, _sorted_unique(keys))
    vals = np.concatenate([np.ones(q.nnz, dtype=np.int64) if q.data is None else q.data for q in patterns])
    unique, inverse = np.unique(keys, return_inverse=True)
    return _from_keys(shape, unique, np.bincount(inverse, weights=vals.astype(np.float64)).astype(np.int64))


def _field_and_size(layers: Any, input_size: Any) -> ReceptiveField:
    rf = layers if isinstance(layers, ReceptiveField) else receptive_field(layers, input_size)
    transposed = [n.name for n in rf.graph.nodes if n.layer is not None and n.layer.kind == "tconv"]
    if transposed:  # the operators here are 𝒲's blocks of forward layers
        raise SpecError(f"the 𝒲-product check covers conv and pooling layers; {transposed[0]!r} is a transposed "
                        f"convolution (its exact region masks are checked against PyTorch autograd in the tests)")
    _sizes(rf)
    return rf


def _summary(rf: ReceptiveField) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The claimed (size, stride, padding); SpecError when the field has none (see ReceptiveField.inexact)."""
    if rf.size is None or rf.stride is None or rf.padding is None:
        raise SpecError(f"the claimed field has no size, stride and padding to check: {rf.inexact}")
    return rf.size, rf.stride, rf.padding


def _sizes(rf: ReceptiveField) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(input size, output size) of ``rf``; SpecError when it was built without an input size."""
    if rf.input_size is None or rf.output_size is None:
        raise SpecError("input_size is required for the 𝒲-product check (an int or one per axis)")
    return rf.input_size, rf.output_size


def _map_sizes(rf: ReceptiveField) -> dict[str, tuple[int, ...]]:
    """Every feature map's spatial size, by node name (known once the input size is)."""
    _sizes(rf)
    return {lf.name: lf.map_size for lf in rf.layers if lf.map_size is not None}


def graph_operator(layers: Any, input_size: Any = None, counts: bool = False) -> Pattern:
    """The product of the layers' operators along the graph (sum at merges): rows outputs, columns inputs.

    With ``counts``, entry [j, i] is the number of paths from input i to output j (uniform weights).

    >>> graph_operator([Layer((2,)), Layer((2,))], 4, counts=True).to_dense().tolist()
    [[1, 2, 1, 0], [0, 1, 2, 1]]
    """
    rf = _field_and_size(layers, input_size)
    graph: Graph = rf.graph
    sizes = _map_sizes(rf)
    last_use = {name: position for position, node in enumerate(graph.nodes) for name in node.inputs}
    operators: dict[str, Pattern] = {}
    for position, node in enumerate(graph.nodes):
        if position == 0:
            operators[node.name] = _identity(math.prod(sizes[node.name]), counts)
        elif node.layer is not None:
            source = node.inputs[0]
            op = layer_operator(node.layer, sizes[source], counts)
            operators[node.name] = op if source == "input" else _multiply(op, operators[source])
        else:
            operators[node.name] = _add([operators[name] for name in node.inputs])
        for name in node.inputs:  # free what no later node reads
            if last_use.get(name) == position:
                del operators[name]
    return operators[graph.nodes[-1].name]


def predicted_pattern(layers: Any, input_size: Any = None) -> Pattern:
    """The exact dependence pattern predicted by :mod:`symconv.receptive.field`: per-axis patterns, union over paths.

    >>> predicted_pattern([Layer((2,)), Layer((2,))], 4).to_dense().tolist()
    [[1, 1, 1, 0], [0, 1, 1, 1]]
    """
    rf = _field_and_size(layers, input_size)
    in_size, out_size = _sizes(rf)
    sizes = _map_sizes(rf)
    per_path: dict[str, dict[bytes, tuple[np.ndarray, ...]]] = {}
    for position, node in enumerate(rf.graph.nodes):
        if position == 0:
            eye = tuple(np.eye(n, dtype=bool) for n in in_size)
            per_path[node.name] = {b"": eye}
        elif node.layer is not None:
            source = node.inputs[0]
            ops = node.layer.axes(rf.ndim)
            found = {}
            for mats in per_path[source].values():
                new = tuple((axis_pattern(op, n).astype(np.int64) @ m.astype(np.int64)) > 0
                            for op, n, m in zip(ops, sizes[source], mats))
                found[b"|".join(x.tobytes() + bytes(str(x.shape), "ascii") for x in new)] = new
            per_path[node.name] = found
        else:
            merged: dict[bytes, tuple[np.ndarray, ...]] = {}
            for name in node.inputs:
                merged.update(per_path[name])
            per_path[node.name] = merged
    keys = [_kron_keys(mats, out_size, in_size) for mats in per_path[rf.graph.nodes[-1].name].values()]
    return _from_keys((math.prod(out_size), math.prod(in_size)), _sorted_unique(np.concatenate(keys)))


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct keys (a plain sort: NumPy's hash-based unique is slower here)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def _kron_keys(mats: tuple[np.ndarray, ...], out_size: tuple[int, ...], in_size: tuple[int, ...]) -> np.ndarray:
    """Flat keys (row·d_in + column) of the Kronecker product of per-axis patterns (C-order flatten)."""
    rows = np.zeros(1, dtype=np.int64)
    cols = np.zeros(1, dtype=np.int64)
    for m, n_out, n_in in zip(mats, out_size, in_size):
        r, c = np.nonzero(m)
        rows = (rows[:, None] * n_out + r[None, :]).reshape(-1)
        cols = (cols[:, None] * n_in + c[None, :]).reshape(-1)
    return rows * math.prod(in_size) + cols


@dataclass(frozen=True)
class AxisBoxes:
    """Along one axis, the unclipped box of every output o: ``starts[o]`` … ``ends[o]`` (padding cells counted).

    ``extension`` is how many padding cells the enlarged input has before and after the real one.
    """

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    extension: tuple[int, int]


def unclipped_boxes(layers: Any, input_size: Any = None) -> tuple[AxisBoxes, ...]:
    """Per axis, each output's span in the unclipped product: padding cells kept as positions (negative = before 0).

    Every feature map is enlarged by the padding cells its consumers read, back to the input, and each
    layer runs with padding 0 on the enlarged map; a convolution's pattern is 𝒲's, from its blocks.

    >>> [(b.starts, b.ends) for b in unclipped_boxes([Layer((3,), padding=(2,), dilation=(2,))], 3)]
    [((-2, -1, 0), (2, 3, 4))]
    """
    rf = _field_and_size(layers, input_size)
    return tuple(_unclipped_axis(rf, a) for a in range(rf.ndim))


def _shifted(pattern: Pattern, offset: int, width: int) -> Pattern:
    """The same rows with every column moved right by ``offset``, in ``width`` columns."""
    if offset < 0 or offset + pattern.shape[1] > width:
        raise RuntimeError(f"internal: columns 0..{pattern.shape[1] - 1} shifted by {offset} leave a width of {width}")
    return Pattern((pattern.shape[0], width), pattern.indptr, pattern.indices + offset)


def _unclipped_axis(rf: ReceptiveField, a: int) -> AxisBoxes:
    """The unclipped product along axis ``a`` (see the module docstring), as row spans."""
    nodes = rf.graph.nodes
    size = {name: map_size[a] for name, map_size in _map_sizes(rf).items()}
    ops = {n.name: n.layer.axes(rf.ndim)[a] for n in nodes if n.layer is not None}
    # 1. backwards: how many cells before / after each map its consumers read (the output: none)
    extension = _extensions(rf, size, ops)
    width = {name: size[name] + b + e for name, (b, e) in extension.items()}
    rows = _pulled_back(rf, size, ops, extension, width)
    lengths = np.diff(rows.indptr)
    if rows.shape[0] != size[nodes[-1].name] or not lengths.all():
        raise RuntimeError("internal: an output reads nothing in the unclipped product")
    offset = extension[nodes[0].name][0]
    starts = rows.indices[rows.indptr[:-1]] - offset
    ends = rows.indices[rows.indptr[1:] - 1] - offset
    return AxisBoxes(tuple(int(v) for v in starts), tuple(int(v) for v in ends), extension[nodes[0].name])


def _extensions(rf: ReceptiveField, size: dict[str, int], ops: dict[str, AxisOp]) -> dict[str, tuple[int, int]]:
    """Per map, the padding cells (before, after) its consumers read, enlarged consumers included (one axis)."""
    nodes = rf.graph.nodes
    consumers: dict[str, list[Node]] = {n.name: [] for n in nodes}
    for n in nodes:
        for source in n.inputs:
            consumers[source].append(n)
    extension = {nodes[-1].name: (0, 0)}
    for node in reversed(nodes[:-1]):
        before = after = 0
        for c in consumers[node.name]:
            c_before, c_after = extension[c.name]
            if c.layer is not None:
                # the enlarged consumer's first and last outputs, −c_before and size − 1 + c_after, through their
                # first and last taps: how far before and after this map they read
                op = ops[c.name]
                c_before = -tap(-c_before, 0, op.stride, op.before, op.dilation)
                last = tap(size[c.name] - 1 + c_after, op.kernel - 1, op.stride, op.before, op.dilation)
                c_after = last - (size[node.name] - 1)
            before, after = max(before, c_before), max(after, c_after)
        extension[node.name] = (before, after)
    return extension


def _pulled_back(
    rf: ReceptiveField, size: dict[str, int], ops: dict[str, AxisOp], extension: dict[str, tuple[int, int]],
    width: dict[str, int],
) -> Pattern:
    """The outputs' rows on the enlarged input: each layer run without padding on its enlarged input (one axis)."""
    nodes = rf.graph.nodes
    # 2. backwards again: the outputs' rows pulled through each layer run without padding on its enlarged input
    pulled: dict[str, list[Pattern]] = {n.name: [] for n in nodes}
    rows = _identity(size[nodes[-1].name], False)
    for position in range(len(nodes) - 1, -1, -1):
        node = nodes[position]
        if position < len(nodes) - 1:
            parts = pulled.pop(node.name)
            if not parts:  # a map no output reads
                continue
            rows = parts[0] if len(parts) == 1 else _add(parts)
        for source in node.inputs:
            if node.layer is None:  # a merge: the same positions in each input
                pulled[source].append(_shifted(rows, extension[source][0] - extension[node.name][0], width[source]))
                continue
            op = ops[node.name]
            span = tap(width[node.name] - 1, op.kernel - 1, op.stride, 0, op.dilation) + 1  # input its outputs need
            unpadded = Layer((op.kernel,), (op.stride,), 0, (op.dilation,), node.layer.kind)
            operator = layer_operator(unpadded, (span,))
            if operator.shape != (width[node.name], span):
                raise RuntimeError(f"internal: the unpadded {unpadded.describe()} has shape {operator.shape}")
            # the first enlarged output, at −extension, reads from tap(−extension, 0); shifted into the enlarged input
            first = extension[source][0] + tap(-extension[node.name][0], 0, op.stride, op.before, op.dilation)
            pulled[source].append(_shifted(_multiply(rows, operator), first, width[source]))
    return rows


@dataclass(frozen=True)
class FieldCheck:
    """Whether a receptive field agrees with the 𝒲 product: exact sets, containment, interior spans, the claim.

    ``holds`` is True only when every claimed quantity was pinned by the data and matches;
    ``undetermined`` names what the data cannot pin (the stride along an axis with one output), and
    ``status`` is ``"AGREES"``, ``"DISAGREES"`` (``mismatch`` says where) or ``"UNDETERMINED"``.
    ``outputs`` rows were checked, ``interior_outputs`` of them have their unclipped box inside the
    input; ``nnz`` is the product's number of nonzeros. A check is truthy iff it holds.

    A stack with padding modes has no exact summary (``size``, ``stride``, ``padding`` None, see
    :attr:`ReceptiveField.inexact`): the check is then the exact sets against the product of the 𝒲_mode patterns,
    and ``regions`` counts the outputs whose :meth:`ReceptiveField.region` mask was compared with its product row.
    """

    holds: bool
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    size: tuple[int, ...] | None
    stride: tuple[int, ...] | None
    padding: tuple[int, ...] | None
    outputs: int
    interior_outputs: int
    nnz: int
    seconds: float
    mismatch: str | None = None
    undetermined: tuple[str, ...] = ()
    regions: int = 0

    def __bool__(self) -> bool:
        return self.holds

    @property
    def status(self) -> str:
        """AGREES, DISAGREES or UNDETERMINED."""
        return "AGREES" if self.holds else "DISAGREES" if self.mismatch is not None else "UNDETERMINED"

    def describe(self) -> str:
        """One to three lines."""
        head = (f"receptive field (size {_t(self.size)}, stride {_t(self.stride)}, padding {_t(self.padding)}) "
                f"{self.status} with the 𝒲 product on {_t(self.input_size)} → {_t(self.output_size)}: {self.outputs:,} "
                f"output{'s' * (self.outputs != 1)} ({self.interior_outputs:,} interior), {self.nnz:,} nonzeros, "
                f"{self.seconds:.3f} s")
        lines = [head]
        if self.mismatch is not None:
            lines.append(f"  {self.mismatch}")
        if self.size is None:
            lines.append(f"  the stack has no exact size/stride/padding (padding modes): exact sets checked, "
                         f"{self.regions:,} region masks among them")
        if self.undetermined:
            lines.append(f"  undetermined: {'; '.join(self.undetermined)} — the data cannot pin it, so the check does not hold")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"holds": self.holds, "status": self.status, "input_size": list(self.input_size),
                "output_size": list(self.output_size), "size": _listed(self.size), "stride": _listed(self.stride),
                "padding": _listed(self.padding), "regions": self.regions, "outputs": self.outputs,
                "interior_outputs": self.interior_outputs,
                "nnz": self.nnz, "seconds": round(self.seconds, 6), "mismatch": self.mismatch,
                "undetermined": list(self.undetermined)}


def _t(values: tuple[int, ...] | None) -> str:
    return "?" if values is None else "×".join(map(str, values))


def check_receptive_field(layers: Any, input_size: Any = None, claimed: ReceptiveField | None = None) -> FieldCheck:
    """Check the receptive field of ``layers`` on an input of ``input_size`` against the 𝒲 product.

    ``claimed`` (default: the field passed as ``layers``, or :func:`~symconv.receptive.field.receptive_field`
    of the layers) supplies the size, stride and padding under test.

    >>> check_receptive_field([Layer(3, stride=2, padding=1), Layer(3, dilation=2)], (12, 12)).holds
    True
    >>> check_receptive_field([Layer(3, stride=2)], (4, 4)).status  # one output per axis: the stride is unpinned
    'UNDETERMINED'
    """
    started = perf_counter()
    # 1. the field under test, and the sizes (recomputed from the graph: a passed field is a claim, not data)
    given = _field_and_size(layers, input_size)
    claimed = given if claimed is None else claimed
    rf = receptive_field(given.graph, given.input_size)
    if rf.inexact is not None:  # padding modes: no summary is exact, the exact sets are the whole claim
        return _check_sets_only(rf, claimed, started)
    size, stride, padding = _summary(claimed)
    if len(size) != rf.ndim:
        raise SpecError(f"claimed field has {len(size)} axes, the stack {rf.ndim}")
    in_size, out_size = _sizes(rf)
    _check_budget(out_size, _summary(rf)[0], in_size)
    # 2. the product of the layers' operators, the prediction, and the unclipped product per axis
    product = graph_operator(rf)
    predicted = predicted_pattern(rf)
    boxes = tuple(_unclipped_axis(rf, a) for a in range(rf.ndim))
    interior = _interior(boxes, out_size, in_size)
    # 3.–6. the first failure, in this order: exact sets, containment, interior spans, the claimed boxes
    mismatch = (
        _exact_sets(product, predicted, out_size, in_size)
        or _outside_box(product, claimed, out_size, in_size)
        or _interior_spans(product, boxes, interior, out_size, in_size)
        or _claimed_boxes(boxes, claimed, out_size)
    )
    # one output along an axis cannot pin the stride
    undetermined = tuple(f"the stride on axis {a} (one output along it: any stride fits)"
                         for a in range(rf.ndim) if out_size[a] == 1)
    return FieldCheck(mismatch is None and not undetermined, in_size, out_size, size, stride,
                      padding, product.shape[0], int(interior.sum()), product.nnz, perf_counter() - started,
                      mismatch, undetermined)


#: At most this many outputs get their region() mask compared with the product row (evenly spread beyond).
MAX_REGION_OUTPUTS = 512


def _check_budget(out_size: tuple[int, ...], field_size: tuple[int, ...], in_size: tuple[int, ...]) -> None:
    estimate = math.prod(out_size) * math.prod(min(r, n) for r, n in zip(field_size, in_size))
    if estimate > MAX_CHECK_NNZ:
        raise TooLargeError(f"the 𝒲 product would hold up to {estimate:,} nonzeros, above {MAX_CHECK_NNZ:,}")


def _check_sets_only(rf: ReceptiveField, claimed: ReceptiveField, started: float) -> FieldCheck:
    """The check of a field without an exact summary (padding modes): the predicted sets and the region masks
    equal the product of the layers' 𝒲_mode patterns; a claimed summary is refused with a counterexample."""
    in_size, out_size = _sizes(rf)
    _check_budget(out_size, in_size, in_size)
    product = graph_operator(rf)
    mismatch = _exact_sets(product, predicted_pattern(rf), out_size, in_size)
    rows = np.unique(np.linspace(0, product.shape[0] - 1, min(product.shape[0], MAX_REGION_OUTPUTS)).astype(np.int64))
    mismatch = mismatch or _region_masks(rf, product, rows)
    if mismatch is None and claimed.size is not None:  # a summary claimed where none is exact
        mismatch = (_outside_box(product, claimed, out_size, in_size)
                    or f"a size {_t(claimed.size)}, stride {_t(claimed.stride)}, padding {_t(claimed.padding)} is "
                       f"claimed, but no summary is exact: {rf.inexact}")
    return FieldCheck(mismatch is None, in_size, out_size, None, None, None, product.shape[0], 0, product.nnz,
                      perf_counter() - started, mismatch, (), len(rows))


def _region_masks(rf: ReceptiveField, product: Pattern, rows: np.ndarray) -> str | None:
    """Each output in ``rows`` (C-order flat): its :meth:`ReceptiveField.region` mask equals its product row."""
    in_size, out_size = _sizes(rf)
    for row in rows.tolist():
        index = tuple(int(v) for v in np.unravel_index(row, out_size))
        mask = rf.region(index, masks=True).mask
        expected = product.indices[product.indptr[row]:product.indptr[row + 1]]
        found = np.flatnonzero(mask.reshape(-1)) if mask is not None else np.zeros(0, dtype=np.int64)
        if not np.array_equal(found, expected):
            extra = sorted(set(found.tolist()) - set(expected.tolist()))[:6]
            missing = sorted(set(expected.tolist()) - set(found.tolist()))[:6]
            shown = [[tuple(int(v) for v in np.unravel_index(c, in_size)) for c in cols] for cols in (extra, missing)]
            return (f"output {index}: region() reads {len(found)} inputs, the 𝒲 product {len(expected)}; only in "
                    f"the region: {shown[0] or 'none'}; only in the product: {shown[1] or 'none'}")
    return None


def _exact_sets(product: Pattern, predicted: Pattern, out_size: tuple[int, ...], in_size: tuple[int, ...]) -> str | None:
    """Step 3: the product's pattern is the predicted one, row by row."""
    if np.array_equal(product.keys(), predicted.keys()):
        return None
    return _first_difference(product, predicted, out_size, in_size)


def _outside_box(product: Pattern, claimed: ReceptiveField, out_size: tuple[int, ...], in_size: tuple[int, ...]) -> str | None:
    """Step 4, containment: every nonzero of row j inside the claimed box tap(j, 0) … tap(j, r − 1) (kernel r, stride S,
    padding P, dilation 1)."""
    rows = np.repeat(np.arange(product.shape[0]), np.diff(product.indptr))
    out_coords = np.unravel_index(rows, out_size)
    in_coords = np.unravel_index(product.indices, in_size)
    for a in range(len(out_size)):
        r, S, P = (values[a] for values in _summary(claimed))
        start = tap(out_coords[a], 0, S, P, 1)
        outside = ~in_range(in_coords[a] - start, r)
        if outside.any():
            e = int(np.argmax(outside))
            return (f"output {_index(out_coords, e)} reads input {_index(in_coords, e)}, outside its box "
                    f"{int(start[e])}..{int(start[e]) + r - 1} on axis {a}")
    return None


def _interior(boxes: tuple[AxisBoxes, ...], out_size: tuple[int, ...], in_size: tuple[int, ...]) -> np.ndarray:
    """Per output (C order), whether its unclipped box lies inside the input on every axis (no path meets padding)."""
    all_rows = np.unravel_index(np.arange(math.prod(out_size)), out_size)
    interior = np.ones(math.prod(out_size), dtype=bool)
    for a, b in enumerate(boxes):
        starts, ends = np.array(b.starts, dtype=np.int64)[all_rows[a]], np.array(b.ends, dtype=np.int64)[all_rows[a]]
        interior &= in_range(starts, in_size[a]) & in_range(ends, in_size[a])
    return interior


def _interior_spans(
    product: Pattern, boxes: tuple[AxisBoxes, ...], interior: np.ndarray, out_size: tuple[int, ...], in_size: tuple[int, ...]
) -> str | None:
    """Step 5: an output whose unclipped box lies inside the input reads exactly that box."""
    all_rows = np.unravel_index(np.arange(product.shape[0]), out_size)
    in_coords = np.unravel_index(product.indices, in_size)
    nonempty = np.diff(product.indptr) > 0
    if (interior & ~nonempty).any():
        e = int(np.argmax(interior & ~nonempty))
        return f"output {_index(all_rows, e)} reads nothing, but its box lies inside the input"
    for a, b in enumerate(boxes):
        starts, ends = np.array(b.starts, dtype=np.int64)[all_rows[a]], np.array(b.ends, dtype=np.int64)[all_rows[a]]
        lows = np.full(product.shape[0], np.iinfo(np.int64).max)
        highs = np.full(product.shape[0], np.iinfo(np.int64).min)
        if product.nnz:  # rows are contiguous runs of the CSR arrays
            first = product.indptr[:-1][nonempty]
            lows[nonempty] = np.minimum.reduceat(in_coords[a], first)
            highs[nonempty] = np.maximum.reduceat(in_coords[a], first)
        wrong = interior & ((lows != starts) | (highs != ends))
        if wrong.any():
            e = int(np.argmax(wrong))
            return (f"output {_index(all_rows, e)} reads {int(lows[e])}..{int(highs[e])} on axis {a}, but its "
                    f"unclipped box, inside the input, is {int(starts[e])}..{int(ends[e])}")
    return None


def _claimed_boxes(boxes: tuple[AxisBoxes, ...], claimed: ReceptiveField, out_size: tuple[int, ...]) -> str | None:
    """Step 6, the claim: every output's claimed box tap(o, 0) … tap(o, r − 1) is its span in the unclipped product."""
    for a, b in enumerate(boxes):
        r, S, P = (values[a] for values in _summary(claimed))
        o = np.arange(out_size[a], dtype=np.int64)
        wrong = (tap(o, 0, S, P, 1) != np.array(b.starts)) | (tap(o, r - 1, S, P, 1) != np.array(b.ends))
        if wrong.any():
            e = int(np.argmax(wrong))
            return (f"axis {a}: output {e} spans {b.starts[e]}..{b.ends[e]} in the unclipped product (padding cells "
                    f"counted), the claimed size {r}, stride {S}, padding {P} give "
                    f"{tap(e, 0, S, P, 1)}..{tap(e, r - 1, S, P, 1)}")
    return None


def _index(coords: tuple[np.ndarray, ...], e: int) -> tuple[int, ...]:
    return tuple(int(c[e]) for c in coords)


def _first_difference(product: Pattern, predicted: Pattern, out_size: tuple[int, ...], in_size: tuple[int, ...]) -> str:
    found, expected = set(product.keys().tolist()), set(predicted.keys().tolist())
    first = min(found ^ expected)
    row = first // product.shape[1]
    row_found = sorted(k % product.shape[1] for k in found if k // product.shape[1] == row)
    row_expected = sorted(k % product.shape[1] for k in expected if k // product.shape[1] == row)

    def show(cols: list[int]) -> str:
        shown = ", ".join(str(tuple(int(v) for v in np.unravel_index(c, in_size))) for c in cols[:6])
        return shown + (f", … ({len(cols) - 6} more)" if len(cols) > 6 else "")

    extra = [c for c in row_found if c not in set(row_expected)]
    missing = [c for c in row_expected if c not in set(row_found)]
    index = tuple(int(v) for v in np.unravel_index(row, out_size))
    return (f"output {index}: the 𝒲 product reads {len(row_found)} inputs, the receptive field predicts "
            f"{len(row_expected)}; only in the product: {show(extra) or 'none'}; only predicted: {show(missing) or 'none'}")
