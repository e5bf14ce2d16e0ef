"""The mathematics of a report on a layer with padding_mode reflect, replicate or circular, computed once.

The report shows the definition (taps read x through the padding map π per axis), P_mode (per axis: P = I_C ⊗
P_1 ⊗ … ⊗ P_D), 𝒲_mode = 𝒲_valid·P_mode and conv(x) = 𝒲_mode x + b proved at the layer's sizes by both engines
(:func:`symconv.prove.padding_modes.prove_padding_mode`; SymPy only while the layer is small), the entries of 𝒲_mode
that are sums of weights, the counts, and for a small circular layer with stride 1 the convolution theorem. Sections
only read the frozen :class:`ModeResults`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

from ..closed.counts import Counts, counts
from ..closed.mode_counts import ModeAxisCount, mode_axis_counts
from ..core.spec import ConvSpec
from ..core.symbols import weight_array
from ..errors import SpecError
from ..forms.padding import mode_matrix_terms, padding_operator
from ..prove.padding_modes import prove_circular_theorem, prove_padding_mode
from ..prove.transposed import IdentityProof

__all__ = ["MAX_SHOWN", "ModeResults", "SYMPY_TERMS", "THEOREM_POSITIONS", "gather_mode_layer"]

#: the SymPy engine runs while the definition has at most this many products (the index engine always runs)
SYMPY_TERMS = 20_000
#: a spatial block of 𝒲_mode (and each P_a) is printed while it has at most this many rows and columns
MAX_SHOWN = 16
#: the convolution theorem is proved while the grid has at most this many positions (its check is O(positions⁴))
THEOREM_POSITIONS = 16


@dataclass(frozen=True)
class ModeResults:
    """Everything a padding-mode report shows, computed once (matrices None when too large to print)."""

    spec: ConvSpec
    padded_size: tuple[int, ...]
    axis_maps: tuple[tuple[int, ...], ...]  # π per axis: padded position q ↦ input position (0-based)
    proofs: tuple[IdentityProof, ...]  # index engine, then SymPy when small
    sympy_skipped: str | None  # why the SymPy engine did not run
    block: sympy.Matrix | None  # the (i = 0, l = 0) spatial block of 𝒲_mode, rows/columns C-order
    merged: tuple[tuple[int, int, int, int, sympy.Expr], ...]  # (i, l, row, column, entry) sums of weights, first few
    merged_count: int  # entries of 𝒲_mode that are sums of several weights
    counts: Counts
    axis_counts: tuple[ModeAxisCount, ...]
    circular: IdentityProof | None
    circular_skipped: str | None


def _circular(spec: ConvSpec) -> tuple[IdentityProof | None, str | None]:
    """The convolution theorem when it applies and is small; else None and why not."""
    if spec.padding_mode != "circular":
        return None, None
    if any(s != 1 for s in spec.stride) or spec.output_size != spec.input_size:
        return None, "it needs stride 1 and output size = input size on every axis"
    positions, pairs = math.prod(spec.input_size), spec.out_channels * spec.in_channels
    if positions > THEOREM_POSITIONS or pairs > 4:
        return None, (f"its exact check grows as positions$^4$; it runs up to {THEOREM_POSITIONS} positions and 4 "
                      f"channel pairs, this layer has {positions} and {pairs}")
    return prove_circular_theorem(spec), None


def _entries(spec: ConvSpec) -> dict[tuple[int, int], sympy.Expr]:
    """The nonzero entries of 𝒲_mode = 𝒲_valid·P (channel-major rows, C-order columns), from the block
    construction's triples (a sum of weights where several taps read one cell)."""
    terms = mode_matrix_terms(spec)
    w = weight_array(spec).reshape(-1)
    entries: dict[tuple[int, int], list[sympy.Expr]] = {}
    for r, a, c in zip(terms.out.tolist(), terms.a.tolist(), terms.b.tolist()):
        entries.setdefault((r, c), []).append(w[a])
    return {key: sympy.Add(*sorted(v, key=sympy.default_sort_key)) for key, v in sorted(entries.items())}


Merged = tuple[tuple[int, int, int, int, sympy.Expr], ...]


def _merged(spec: ConvSpec, entries: dict[tuple[int, int], sympy.Expr]) -> tuple[int, Merged]:
    """How many entries of 𝒲_mode are sums of weights, and the first 8 as (i, l, row, column, entry)."""
    rows, cols = math.prod(spec.output_size), math.prod(spec.input_size)
    found = [(r, c, v) for (r, c), v in entries.items() if isinstance(v, sympy.Add)]
    shown = tuple((r // rows, c // cols, r % rows, c % cols, v) for r, c, v in found[:8])
    return len(found), shown


def gather_mode_layer(spec: ConvSpec) -> ModeResults:
    """Compute everything the report on a reflect / replicate / circular layer shows.

    >>> r = gather_mode_layer(ConvSpec(1, 1, input_size=3, kernel_size=3, padding=1, padding_mode="reflect"))
    >>> [p.holds for p in r.proofs], r.merged_count, r.counts.nnz
    ([True, True], 24, 49)
    """
    if spec.padding_mode == "zeros":
        raise SpecError("gather_mode_layer reports padding_mode reflect, replicate or circular; got 'zeros'")
    op = padding_operator(spec)
    proofs = [prove_padding_mode(spec, method="index")]
    skipped = None
    if spec.n_terms <= SYMPY_TERMS:
        proofs.append(prove_padding_mode(spec, method="sympy"))
    else:
        skipped = f"the definition has {spec.n_terms:,} products, above the {SYMPY_TERMS:,} the SymPy engine runs on"
    entries = _entries(spec)
    rows, cols = math.prod(spec.output_size), math.prod(spec.input_size)
    block = None
    if max(rows, cols) <= MAX_SHOWN:
        block = sympy.Matrix(rows, cols, lambda r, c: entries.get((r, c), sympy.Integer(0)))
    merged_count, merged = _merged(spec, entries)
    circular, circular_skipped = _circular(spec)
    return ModeResults(spec, op.padded_size, tuple(tuple(int(v) for v in m) for m in op.axis_maps), tuple(proofs),
                       skipped, block, merged, merged_count, counts(spec),
                       mode_axis_counts(spec), circular, circular_skipped)
