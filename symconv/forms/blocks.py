"""The note's block construction of 𝒲, generalised to stride, padding, dilation and groups.

The note (0-based here; its 1-based j, k, l are restored by :func:`symconv.core.symbols.note_index`):

* ``B_{l,m,k}`` (C₂ × W): row ``i`` holds kernel row ``m`` of ω[i, l', ·, ·] — ω[i,l',m,0 … w−1] — at
  columns ``c = k·s_w − p_left + n·d_w`` (n = 0 … w−1; taps outside the input are dropped). In the note
  (stride 1, no padding) this is "k−1 zeros, one kernel row, zeros". Rows of output channels outside
  the group of input channel ``l`` are zero.
* ``𝒲_{j,k,l}`` (C₂ × HW) = ``(O | … | B_{l,m,k} | … | O)``: H row-blocks of width W; image row
  ``r = j·s_h − p_top + m·d_h`` holds ``B_{l,m,k}``, every other row-block is ``O_{C₂×W}``.
* ``𝒲_{j,k}`` (C₂ × C₁HW) = ``(𝒲_{j,k,0} | 𝒲_{j,k,1} | … | 𝒲_{j,k,C₁−1})``.
* ``𝒲`` stacks ``𝒲_{0,0}, 𝒲_{0,1}, …`` — the "seed" row order (see :mod:`symconv.core.symbols`).

Two renderings of the same construction:

* :class:`Blocks` builds each block as a SymPy matrix, literally by ``hstack``/``vstack``, for
  display and for checking the fast path on small sizes;
* :func:`block_parts` / :func:`block_terms` place the blocks by their column offsets in NumPy, for any size;
  :func:`matrix` turns that into a SymPy ``SparseMatrix``.

:func:`matrix_as_written` keeps the note's *literal* formulas — ``𝒲_{j,k,l} = (O_{C₂×(j−1)W} |
B_{l,j,k} | B_{l,j+1,k} | … | B_{l,j+h−1,k} | O)`` with ``B_{l,j,k}`` holding ω_{·,l,j,·} — so that the
audit can test the note as written.

All of this is the note's 2-D construction and refuses other ndim (:func:`symconv.core.spec.require_ndim`);
:mod:`symconv.forms.assembly` builds the same 𝒲 from per-axis parts for any number of spatial axes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..core.budget import PADDED_KEY, check_symbolic_size
from ..core.spec import ConvSpec, require_ndim, require_zeros_padding
from ..core.symbols import bias_array, check_order, row_permutation, weight_array
from ..core.taps import in_range, spec_axis_taps, tap
from ..errors import SpecError
from .assembly import MatrixParts, MatrixTerms, matrix_from_terms, terms_from_parts

__all__ = [
    "BlockTerms", "Blocks", "bias_terms", "bias_vector", "block_parts", "block_terms", "blocks", "matrix", "matrix_as_written",
]


#: what the 2-D guard names: only the note's own construction stays 2-D (forms.assembly builds 𝒲 for any ndim)
NOTE_CONSTRUCTION = "the note's block construction"


def _require_2d(spec: ConvSpec) -> None:
    # ConvSpec takes any ndim; the note's construction (and its blocks B, 𝒲_{j,k,l}, 𝒲_{j,k}) is 2-D by nature
    require_ndim(spec, 2, NOTE_CONSTRUCTION)


def _group_rows(spec: ConvSpec, l: int) -> range:
    """Output channels that read input channel ``l``."""
    group = l // spec.in_per_group
    return range(group * spec.out_per_group, (group + 1) * spec.out_per_group)


def _placed(spec: ConvSpec, axis: int, o: int) -> list[tuple[int, int]]:
    """(t, tap(o, t)) for the kernel taps of ``axis`` that read inside the input from output position ``o``."""
    s, p, d, size = spec.stride[axis], spec.padding_before[axis], spec.dilation[axis], spec.input_size[axis]
    placed = [(t, tap(o, t, s, p, d)) for t in range(spec.kernel_size[axis])]
    return [(t, n) for t, n in placed if in_range(n, size)]


def kernel_columns(spec: ConvSpec, k: int) -> list[tuple[int, int]]:
    """(n, c): kernel column n sits at input column c = k·s − p + n·d inside B; outside taps dropped."""
    return _placed(spec, 1, k)


def kernel_rows(spec: ConvSpec, j: int) -> list[tuple[int, int]]:
    """(m, r): B_{l,m,k} is the row-block of image row r = j·s − p + m·d; outside rows dropped."""
    return _placed(spec, 0, j)


@dataclass(frozen=True)
class Blocks:
    """The note's blocks as SymPy matrices (0-based indices), built literally with hstack.

    >>> b = blocks(ConvSpec(1, 2, input_size=3, kernel_size=2))
    >>> b.B(0, 1, 1)
    Matrix([
    [0, omega_0,0,1,0, omega_0,0,1,1],
    [0, omega_1,0,1,0, omega_1,0,1,1]])
    >>> b.W(0, 0).shape
    (2, 9)
    """

    spec: ConvSpec

    def __post_init__(self) -> None:
        _require_2d(self.spec)

    def B(self, l: int, m: int, k: int) -> sympy.Matrix:
        """B_{l,m,k} (C₂ × W): kernel row m of input channel l, placed for output column k."""
        spec = self.spec
        block = sympy.zeros(spec.out_channels, spec.input_size[1])
        weights = weight_array(spec)
        for i in _group_rows(spec, l):
            for n, c in kernel_columns(spec, k):
                block[i, c] = weights[i, l % spec.in_per_group, m, n]
        return block

    def row_blocks(self, j: int, k: int, l: int) -> list[tuple[str, sympy.Matrix]]:
        """The H row-blocks of 𝒲_{j,k,l}, each labelled ``"B_{l,m,k}"`` or ``"O"``."""
        spec = self.spec
        by_row = {r: m for m, r in kernel_rows(spec, j)}
        out = []
        for r in range(spec.input_size[0]):
            if r in by_row:
                out.append((f"B_{{{l},{by_row[r]},{k}}}", self.B(l, by_row[r], k)))
            else:
                out.append(("O", sympy.zeros(spec.out_channels, spec.input_size[1])))
        return out

    def W(self, j: int, k: int, l: int | None = None) -> sympy.Matrix:
        """𝒲_{j,k,l} (C₂ × HW) when ``l`` is given, else 𝒲_{j,k} (C₂ × C₁HW)."""
        if l is not None:
            return sympy.Matrix.hstack(*(block for _, block in self.row_blocks(j, k, l)))
        return sympy.Matrix.hstack(*(self.W(j, k, l) for l in range(self.spec.in_channels)))

    def full(self) -> sympy.Matrix:
        """𝒲 in the seed order, stacked from 𝒲_{j,k} literally (small sizes only)."""
        check_symbolic_size(self.spec, "Blocks.full()", max_terms=200_000)
        rows, cols = self.spec.output_size
        return sympy.Matrix.vstack(*(self.W(j, k) for j in range(rows) for k in range(cols)))


def blocks(spec: ConvSpec) -> Blocks:
    """The note's blocks B, 𝒲_{j,k,l}, 𝒲_{j,k} of ``spec`` for display; see :class:`Blocks`."""
    _require_2d(spec)
    require_zeros_padding(spec, "blocks(spec)", "mode_matrix(spec) (symconv.forms.padding)")
    return Blocks(spec)


#: the block construction's terms: same contract as the N-D assembly's (seed-order rows, keys col·n_weights + weight)
BlockTerms = MatrixTerms


def block_parts(spec: ConvSpec, positions: np.ndarray | None = None) -> MatrixParts:
    """The block construction's keys for ``positions`` (flat output positions, default all) as column offsets.

    Row (p, i) of 𝒲_{j,k} holds ω[i, l', m, n] at column l·HW + r·W + c; the offset inside 𝒲_{j,k,l}
    (r·W + c, from B_{l,m,k}'s place) is the spatial part, the offset of 𝒲_{j,k,l} (l·HW) with ω's index the
    channel part (see :class:`symconv.forms.assembly.MatrixParts`).

    >>> parts = block_parts(ConvSpec(1, 1, input_size=3, kernel_size=2, padding=1))
    >>> (parts.spatial[0] >= 0).tolist(), parts.channel.shape
    ([False, False, False, True], (4, 1, 1))
    """
    _require_2d(spec)
    rows_out, cols_out = spec.output_size
    height, width = spec.input_size
    kh, kw = spec.kernel_size
    if positions is None:
        positions = np.arange(rows_out * cols_out)
    positions = np.asarray(positions, dtype=np.int64)
    j, k = positions // cols_out, positions % cols_out
    n_weights = math.prod(spec.weight_shape)
    c_out, c_in_g = spec.out_channels, spec.in_per_group

    # B_{l,m,k}: kernel column n at in-block column c = k·s − p + n·d          → (P, w)
    columns, columns_inside = spec_axis_taps(spec, 1)
    c, c_inside = columns[k], columns_inside[k]
    # 𝒲_{j,k,l}: B_{l,m,k} is row-block r = j·s − p + m·d, at column offset r·W  → (P, h)
    image_rows, image_rows_inside = spec_axis_taps(spec, 0)
    r, r_inside = image_rows[j], image_rows_inside[j]
    in_block = (r * width * n_weights)[:, :, None] + (c * n_weights)[:, None, :]
    inside = r_inside[:, :, None] & c_inside[:, None, :]
    spatial = np.where(inside, in_block, PADDED_KEY).reshape(len(positions), kh * kw)
    # 𝒲_{j,k}: 𝒲_{j,k,l} sits at column offset l·HW; rows i outside l's group are zero
    i = np.arange(c_out)[:, None]
    l = (i // spec.out_per_group) * c_in_g + np.arange(c_in_g)[None, :]  # (C₂, C₁/g) global l
    weight = np.arange(n_weights, dtype=np.int64).reshape(c_out, c_in_g, kh * kw)  # ω[i, l', m, n], (m, n) flat
    # (K, C₂, C₁/g), written once: offset l·HW·n_weights of each (i, l') plus ω's flat index, tap by tap
    channel = np.empty((kh * kw, c_out, c_in_g), dtype=np.int64)
    np.add((l * height * width * n_weights)[None], weight.transpose(2, 0, 1), out=channel)
    return MatrixParts(spatial, channel)


def block_terms(
    spec: ConvSpec, positions: np.ndarray | None = None, channels: range | None = None
) -> BlockTerms:
    """The block construction for ``positions`` (flat output positions, default all) in NumPy.

    With ``channels``, only those rows of each 𝒲_{j,k} (output channels) are built. Keys are
    :func:`block_parts` summed per row.

    >>> t = block_terms(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> int(np.broadcast_to(t.valid, t.keys.shape).sum())
    16
    """
    parts = block_parts(spec, positions)
    channels = range(spec.out_channels) if channels is None else channels
    keys = terms_from_parts(parts.spatial, parts.channel, spec.kernel_size, channels)
    valid = (parts.spatial >= 0).reshape(len(parts.spatial), 1, 1, *spec.kernel_size)
    return BlockTerms(keys, valid)


def bias_terms(spec: ConvSpec, positions: np.ndarray, channels: range | None = None) -> np.ndarray:
    """Flat bias index of each row of the stacked b_{j,k}: (P, C, 1), or (P, C, 0) without bias.

    b_{j,k} = (b_0, …, b_{C₂−1}) when shared, (b_{0,j,k}, …, b_{C₂−1,j,k}) per location.
    """
    channels = range(spec.out_channels) if channels is None else channels
    i = np.arange(channels.start, channels.stop, dtype=np.int64)
    positions = np.asarray(positions, dtype=np.int64)
    if spec.bias == "none":
        return np.empty((len(positions), len(i), 0), dtype=np.int64)
    if spec.bias == "shared":
        return np.broadcast_to(i[None, :, None], (len(positions), len(i), 1))
    return (i[None, :, None] * math.prod(spec.output_size)) + positions[:, None, None]


def matrix(spec: ConvSpec, order: str = "channel_major", max_terms: int | None = None) -> sympy.SparseMatrix:
    """𝒲 (d_y × d_x) as a SymPy sparse matrix of weight symbols, assembled from the note's blocks.

    Columns: C-order flatten of x. Rows: ``order`` = ``"channel_major"`` (C-order flatten of y) or
    ``"seed"`` (the note's location-major order).

    >>> W = matrix(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> W.shape, W[0, 0], W[0, 4]
    ((4, 9), omega_0,0,0,0, omega_0,0,1,1)
    """
    check_order(order)
    require_zeros_padding(spec, "matrix(spec)", "mode_matrix(spec) (symconv.forms.padding)")
    check_symbolic_size(spec, "matrix(spec)", max_terms)
    return matrix_from_terms(spec, block_terms(spec), order)


def bias_vector(spec: ConvSpec, order: str = "channel_major") -> sympy.Matrix:
    """b as a d_y × 1 SymPy matrix in ``order`` (zeros when bias='none').

    >>> bias_vector(ConvSpec(2, 2, input_size=2, kernel_size=1), order="seed").T
    Matrix([[b_0, b_1, b_0, b_1, b_0, b_1, b_0, b_1]])
    """
    check_order(order)
    if spec.bias == "none":
        return sympy.zeros(spec.d_y, 1)
    biases = bias_array(spec)
    if spec.bias == "shared":
        biases = np.broadcast_to(biases.reshape(-1, *([1] * spec.ndim)), spec.output_shape)
    flat = biases.reshape(-1)  # channel_major
    if order == "seed":
        flat = flat[row_permutation(spec, "channel_major", "seed")]
    return sympy.Matrix(spec.d_y, 1, flat.tolist())


def matrix_as_written(spec: ConvSpec) -> sympy.SparseMatrix:
    """𝒲 exactly as the note's formulas write it (seed order), for the audit.

    The note (1-based j, k, l; kernel indices m, n from 0) writes 𝒲_{j,k,l} = (O_{C₂×(j−1)W} |
    B_{l,j,k} | B_{l,j+1,k} | … | B_{l,j+h−1,k} | O_{C₂×(H−h−j+1)W}) with B_{l,j,k} holding
    ω_{i,l,j,0…w−1} after k−1 zeros. Read literally, the block at image row j+m uses kernel row j+m —
    which may not exist; such weights appear as symbols ``omega_i,l,r,n`` outside ω's range.
    Only the note's own setting is accepted: stride 1, no padding, dilation 1, groups 1.

    >>> matrix_as_written(ConvSpec(1, 1, input_size=3, kernel_size=2))[0, :]
    Matrix([[omega_0,0,1,0, omega_0,0,1,1, 0, omega_0,0,2,0, omega_0,0,2,1, 0, 0, 0, 0]])
    """
    _require_2d(spec)
    if (spec.stride, spec.padding_before, spec.padding_after, spec.dilation, spec.groups) != (
        (1, 1), (0, 0), (0, 0), (1, 1), 1
    ):
        raise SpecError(
            "matrix_as_written covers the note's setting only: stride 1, padding 0, dilation 1, groups 1; "
            f"got {spec.describe()}"
        )
    check_symbolic_size(spec, "matrix_as_written(spec)")
    height, width = spec.input_size
    kh, kw = spec.kernel_size
    rows_out, cols_out = spec.output_size
    entries: dict[tuple[int, int], sympy.Expr] = {}
    for j1 in range(1, rows_out + 1):  # the note's 1-based position indices
        for k1 in range(1, cols_out + 1):
            row0 = ((j1 - 1) * cols_out + (k1 - 1)) * spec.out_channels
            for l1 in range(1, spec.in_channels + 1):
                # 𝒲_{j,k,l}: (j−1)·W zero columns, then B_{l,j,k}, …, B_{l,j+h−1,k}
                for block_index, jj in enumerate(range(j1, j1 + kh)):
                    col0 = (l1 - 1) * height * width + ((j1 - 1) + block_index) * width
                    for i1 in range(1, spec.out_channels + 1):
                        for n in range(kw):  # B_{l,jj,k}: k−1 zeros, then ω_{i,l,jj,0…w−1}
                            entries[(row0 + i1 - 1, col0 + (k1 - 1) + n)] = sympy.Symbol(
                                f"omega_{i1 - 1},{l1 - 1},{jj},{n}"
                            )
    return sympy.SparseMatrix(spec.d_y, spec.d_x, entries)
