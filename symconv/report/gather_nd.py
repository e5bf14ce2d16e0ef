"""What the reports on a 1-D/3-D (any ndim ≠ 2) layer and on a transposed layer print, computed once.

The sibling of :mod:`.gather` for the layers the note does not cover: its block construction of 𝒲 is 2-D, so
𝒲 here is symconv's per-axis assembly (:func:`symconv.forms.built.built_matrix_terms`, rows channel-major:
row ``i·P' + o`` for output channel i and flat output position o, columns ``l·P + q``; P, P' the numbers of
input and output positions, all flat indices C-order and 0-based). The all-size prover is 2-D: for N-D layers
what is proved is the identity at the layer's own sizes, by both exact engines; a 2-D transposed layer also gets
the prover's theorem conv_transpose(y) = 𝒲ᵀ_{o<H'}y + b_T for all sizes (:func:`transposed_theorem`, proved once
per process). Nothing here knows LaTeX.

>>> from symconv.core.spec import ConvSpec
>>> r = gather_nd_layer(ConvSpec(1, 1, input_size=(5,), kernel_size=3))
>>> [v.method for v in r.verdicts], r.W.shape, r.cells, r.disagreement
(['sympy', 'index'], (3, 5), 3, None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy

from ..closed.counts import TransposedCounts, transposed_counts
from ..core.budget import MAX_ARRAY_TERMS, check_terms
from ..core.spec import ConvSpec
from ..core.symbols import weight_array
from ..core.transposed import ConvTransposeSpec
from ..forms.built import built_matrix, built_matrix_terms, channel_major_entries
from ..forms.transposed import (
    ZeroInsertion,
    transposed_bias,
    transposed_input,
    transposed_matrix,
    transposed_matrix_terms,
    transposed_terms,
    zero_insertion,
)
from ..prove.proof import Counterexample
from ..prove.transposed import IdentityProof, check_size, prove_transposed
from ..prove.verdict import Verdict
from ..prove.verify import verify
from ..receptive.field import ReceptiveField, Region, conv_inputs, receptive_field
from ..receptive.layers import Layer
from .gather import (
    BOTH_ENGINES_TERMS,
    MAX_EXPLICIT_COLS,
    MAX_EXPLICIT_ROWS,
    CountResults,
    FieldDisagreement,
    OutputTerms,
    StepProof,
    check_position,
    flat_position,
    gather_counts,
    gather_definition,
    general_proof,
    step_proof,
)

__all__ = [
    "MAX_DRAWN_COLS",
    "MAX_DRAWN_ROWS",
    "MAX_EXPLICIT_WT_ROWS",
    "MatrixEntries",
    "NdLayerResults",
    "TRANSPOSED_CLAIM",
    "TransposedResults",
    "TransposedTheorem",
    "gather_nd_layer",
    "gather_transposed",
    "transposed_general",
    "transposed_theorem",
    "matrix_entries",
]

#: 𝒲's pattern is drawn entry by entry up to this size (rows × columns); larger layers get no figure.
MAX_DRAWN_ROWS, MAX_DRAWN_COLS = 256, 320
#: 𝒲ᵀ of an upsampling layer is tall and narrow: printed up to this many rows (and MAX_EXPLICIT_COLS columns).
MAX_EXPLICIT_WT_ROWS = 40


@dataclass(frozen=True)
class MatrixEntries:
    """𝒲's nonzeros as flat arrays: channel-major row, C-order column (input entry), flat weight index."""

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    shape: tuple[int, int]

    def row(self, r: int) -> tuple[tuple[int, int], ...]:
        """(column, weight index) of row ``r``'s nonzeros, by column."""
        at = self.rows == r
        return tuple(sorted(zip(self.cols[at].tolist(), self.weights[at].tolist())))

    def pattern(self) -> np.ndarray:
        """The (rows, columns) boolean nonzero pattern."""
        dense = np.zeros(self.shape, dtype=bool)
        dense[self.rows, self.cols] = True
        return dense


def matrix_entries(spec: ConvSpec) -> MatrixEntries:
    """𝒲's nonzeros from symconv's construction (the note's blocks in 2-D, the per-axis assembly otherwise).

    >>> e = matrix_entries(ConvSpec(1, 1, input_size=(4,), kernel_size=2))
    >>> e.row(1), e.shape
    (((1, 0), (2, 1)), (3, 4))
    """
    rows, keys = channel_major_entries(spec, built_matrix_terms(spec))
    n_weights = math.prod(spec.weight_shape)
    return MatrixEntries(rows.astype(np.int64), keys // n_weights, keys % n_weights, (spec.d_y, spec.d_x))


@dataclass(frozen=True)
class NdLayerResults:
    """Everything the report on one N-D layer prints; ``position`` (0-based, one index per axis) is the output shown.

    ``W`` is the whole 𝒲 (channel-major rows) when small, ``block`` its block 𝒲_{0,0} (output channel 0 against
    input channel 0) when that is small, ``row`` the nonzeros (column, weight symbol) of row (0, ``position``).
    """

    spec: ConvSpec
    position: tuple[int, ...]
    examples: tuple[OutputTerms, ...]
    W: sympy.MatrixBase | None
    block: sympy.MatrixBase | None
    row: tuple[tuple[int, sympy.Symbol], ...]
    nnz: int
    pattern: np.ndarray | None
    verdicts: tuple[Verdict, ...]
    field: ReceptiveField
    region: Region
    cells: int
    rows_checked: int
    disagreement: FieldDisagreement | None
    counts: CountResults


def _channel_block(spec: ConvSpec, entries: MatrixEntries) -> sympy.MatrixBase | None:
    """𝒲_{0,0}: the rows of output channel 0 against the columns of input channel 0, when small enough to print."""
    p_out, p_in = math.prod(spec.output_size), math.prod(spec.input_size)
    if p_out > MAX_EXPLICIT_ROWS or p_in > MAX_EXPLICIT_COLS:
        return None
    weights = weight_array(spec).reshape(-1)
    block = sympy.zeros(p_out, p_in)
    at = (entries.rows < p_out) & (entries.cols < p_in)
    for r, c, w in zip(entries.rows[at].tolist(), entries.cols[at].tolist(), entries.weights[at].tolist()):
        block[r, c] += weights[w]
    return block


def _row_disagreement(spec: ConvSpec, entries: MatrixEntries, position: tuple[int, ...]) -> FieldDisagreement | None:
    """The first output channel i whose row of 𝒲 at ``position`` has nonzero columns other than conv_inputs(i, …)."""
    flat = flat_position(spec, position)
    for i in range(spec.out_channels):
        from_matrix = np.zeros(spec.d_x, dtype=bool)
        from_matrix[[c for c, _ in entries.row(i * math.prod(spec.output_size) + flat)]] = True
        expected = conv_inputs(spec, (i, *position)).reshape(-1)
        if not np.array_equal(from_matrix, expected):
            return FieldDisagreement(i, int(np.count_nonzero(from_matrix & ~expected)),
                                     int(np.count_nonzero(expected & ~from_matrix)))
    return None


def gather_nd_layer(spec: ConvSpec, position: tuple[int, ...] | None = None) -> NdLayerResults:
    """Every result of the report on one layer of any ndim: index sum, 𝒲 (assembly), proofs, receptive field, counts.

    ``position`` (0-based, one index per axis; default the centre of the output) is where the row of 𝒲 and the
    receptive field are shown.
    """
    position = tuple(n // 2 for n in spec.output_size) if position is None else tuple(position)
    check_position(spec, position)
    check_terms("the report on a layer of ndim ≠ 2", spec.n_terms + spec.n_bias_terms, MAX_ARRAY_TERMS,
                "it holds 𝒲's entries whole: check a smaller layer (symconv verify --method index proves conv(x) = 𝒲x + b "
                "at any size)")
    entries = matrix_entries(spec)
    small = spec.d_x <= MAX_EXPLICIT_COLS and spec.d_y <= MAX_EXPLICIT_ROWS
    drawn = spec.d_y <= MAX_DRAWN_ROWS and spec.d_x <= MAX_DRAWN_COLS
    weights = weight_array(spec).reshape(-1)
    both = spec.n_terms + spec.n_bias_terms <= BOTH_ENGINES_TERMS
    rf = receptive_field([spec])
    region = rf.region(position)
    row = entries.row(flat_position(spec, position))
    return NdLayerResults(
        spec=spec, position=position, examples=gather_definition(spec).examples,
        W=sympy.Matrix(built_matrix(spec)) if small else None, block=_channel_block(spec, entries),
        row=tuple((c, weights[w]) for c, w in row), nnz=len(entries.rows),
        pattern=entries.pattern() if drawn else None,
        verdicts=tuple(verify(spec, method=m) for m in (("sympy", "index") if both else ("index",))),
        field=rf, region=region, cells=int(region.mask.sum()) if region.mask is not None else 0,
        rows_checked=spec.out_channels, disagreement=_row_disagreement(spec, entries, position),
        counts=gather_counts(spec),
    )


# ----------------------------------------------------------------------------- a transposed layer
#: What the all-size prover proves about conv_transpose, as the report states it (𝒲 restricted to its rows o < H').
TRANSPOSED_CLAIM = sympy.Eq(sympy.Symbol(r"\operatorname{conv}^{\top}(y)"),
                            sympy.Symbol(r"\symconvW_{o<H'}^{\top} y + b_T"), evaluate=False)


@dataclass(frozen=True)
class TransposedTheorem:
    """The all-size theorem on 2-D conv_transpose: the prover's proof (its hypotheses the conv_transpose part's) and
    its finding: where the unrestricted size lemma fails (s ≤ a < d), the prover's counterexample, or None."""

    proof: StepProof
    finding: Counterexample | None


def transposed_general() -> Any:
    """The prover's :class:`~symconv.prove.proof.Proof` of conv(x) = 𝒲x + b and conv_transpose(y) = 𝒲ᵀ_{o<H'}y + b_T
    for every size of a 2-D layer (rows channel-major, as the transposed report flattens), cached per process."""
    return general_proof("channel_major", "shared", identities=("transposed",))


def transposed_theorem() -> TransposedTheorem:
    """The all-size transposed theorem ready for the report: hypotheses, steps, lemmas, verdict, the finding.

    >>> t = transposed_theorem()
    >>> t.proof.status, [s.name for s in t.proof.steps][-1], t.finding is not None
    ('proved', 'transposed_theorem', True)
    """
    proof = transposed_general()
    hypotheses = dict(getattr(proof, "conditions", ())).get("the conv_transpose identities")
    sizes = next((s for s in proof.steps if s.name == "transposed_size"), None)
    finding = None if sizes is None else getattr(sizes, "objects", {}).get("finding")
    theorem = replace(step_proof(proof, TRANSPOSED_CLAIM), assumptions=hypotheses)
    return TransposedTheorem(theorem, finding if isinstance(finding, Counterexample) else None)

@dataclass(frozen=True)
class TransposedResults:
    """Everything the report on one transposed layer prints; ``position`` (0-based) is the output written out.

    ``proofs`` are :func:`symconv.prove.transposed.prove_transposed` by each engine run; ``WT`` the explicit 𝒲ᵀ
    when small; ``products`` the (ω, y) products of output (0, ``position``) by the definition (PyTorch's scatter),
    ``bias`` its bias symbol; ``region`` the input cells that output reads, checked against the nonzero columns of
    its row of 𝒲ᵀ (``extra``/``missing`` columns: 0 and 0 when they agree); ``theorem`` the all-size theorem
    (2-D only, else None).
    """

    spec: ConvTransposeSpec
    position: tuple[int, ...]
    proofs: tuple[IdentityProof, ...]
    form: ZeroInsertion
    WT: sympy.MatrixBase | None
    products: tuple[tuple[sympy.Symbol, sympy.Symbol], ...]
    bias: sympy.Symbol | None
    counts: TransposedCounts
    field: ReceptiveField
    region: Region
    cells: int
    extra: int
    missing: int
    theorem: TransposedTheorem | None = None


def _transposed_position(spec: ConvTransposeSpec, position: tuple[int, ...] | None) -> tuple[int, ...]:
    """The output position shown, checked against the transposed layer's output (0-based)."""
    if position is None:
        return tuple(n // 2 for n in spec.output_size)
    check_position(ConvSpec(1, 1, input_size=spec.output_size, kernel_size=1), tuple(position))
    return tuple(position)


def _output_products(spec: ConvTransposeSpec, flat: int) -> tuple[tuple[sympy.Symbol, sympy.Symbol], ...]:
    """The (ω, y) products the definition adds into output (0, flat), in the order of (input, weight) index."""
    terms = transposed_terms(spec)
    at = terms.out == flat  # output channel 0: flat indices 0 … P'−1
    weights, inputs = weight_array(spec.forward_spec()).reshape(-1), transposed_input(spec).reshape(-1)
    pairs = sorted(zip(terms.b[at].tolist(), terms.a[at].tolist()))
    return tuple((weights[a], inputs[b]) for b, a in pairs)


def _row_columns(spec: ConvTransposeSpec, flat: int) -> np.ndarray:
    """The input positions (of input channel 0) in the nonzero columns of row (0, flat) of 𝒲ᵀ, as a mask."""
    terms = transposed_matrix_terms(spec)
    p_in = math.prod(spec.input_size)
    at = (terms.out == flat) & (terms.b < p_in)
    mask = np.zeros(p_in, dtype=bool)
    mask[terms.b[at]] = True
    return mask


def gather_transposed(spec: ConvTransposeSpec, position: tuple[int, ...] | None = None) -> TransposedResults:
    """Every result of the report on one transposed layer: the proofs (both engines when small), the direct form,
    𝒲ᵀ, a worked output, the counts and the receptive field of output ``position`` (default: the centre).

    >>> t = gather_transposed(ConvTransposeSpec(1, 1, input_size=(3,), kernel_size=3, stride=2))
    >>> [p.method for p in t.proofs], t.WT.shape, t.cells, (t.extra, t.missing)
    (['sympy', 'index'], (7, 3), 1, (0, 0))
    """
    check_size(spec.forward_spec(), "the transposed report", "index")  # before anything is built
    position = _transposed_position(spec, position)
    flat = int(np.ravel_multi_index(position, spec.output_size))
    small = spec.forward_spec().n_terms <= BOTH_ENGINES_TERMS
    explicit = spec.d_in <= MAX_EXPLICIT_COLS and spec.d_out <= MAX_EXPLICIT_WT_ROWS
    rf = receptive_field([Layer.from_spec(spec)], input_size=spec.input_size)
    region = rf.region(position)
    read = region.mask.reshape(-1) if region.mask is not None else np.zeros(0, dtype=bool)
    columns = _row_columns(spec, flat)
    return TransposedResults(
        spec=spec, position=position,
        proofs=tuple(prove_transposed(spec, method=m) for m in (("sympy", "index") if small else ("index",))),
        form=zero_insertion(spec), WT=sympy.Matrix(transposed_matrix(spec)) if explicit else None,
        products=_output_products(spec, flat), bias=transposed_bias(spec)[0] if spec.bias else None,
        counts=transposed_counts(spec), field=rf, region=region, cells=int(read.sum()),
        extra=int(np.count_nonzero(columns & ~read)), missing=int(np.count_nonzero(read & ~columns)),
        theorem=transposed_theorem() if spec.ndim == 2 else None,
    )
