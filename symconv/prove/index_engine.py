"""Proof engine "index": the identity checked exactly as a bilinear form, in NumPy, in chunks.

Both sides of conv(x) = 𝒲x + b are bilinear in (ω, x) plus a term linear in b, so each is exactly
a list of integer terms per output row: ``key = input_flat · n_weights + weight_flat`` for
``x[input]·ω[weight]``, and ``key = −1 − bias_flat`` for ``b[bias]``, each with an integer coefficient.
The definition's terms come from :func:`symconv.forms.direct.direct_terms` (the index sum); 𝒲's from
:func:`symconv.forms.blocks.block_terms` (the note's block construction, 2-D), from
:func:`symconv.forms.assembly.assembly_terms` (any other ndim) or from a matrix the caller supplies
(:mod:`symconv.prove.supplied`).

Why this algorithm: sorting 85 M terms costs 5 s and 2.5 GB; but both generators emit their terms in
canonical order (rows position-major, keys increasing within a row), so the fast path is plain array
equality — equal arrays are equal term lists, hence equal polynomials, whatever the order (soundness
never rests on the order; the order only avoids false alarms). Only a chunk whose arrays differ goes
the slow way: the *difference* polynomial (found − expected) is merged exactly with a sort, and every
row left with a nonzero coefficient is a mismatch. Chunks bound the memory (``chunk_terms`` keys per
side) whatever the layer size; two threads share them, since NumPy releases the GIL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.budget import check_key_range
from ..core.spec import ConvSpec
from ..core.symbols import bias_array, check_order, input_array, output_index, row_permutation, weight_array
from ..errors import SpecError, TooLargeError
from ..forms.assembly import MatrixTerms, assembly_terms
from ..forms.blocks import bias_terms, block_terms
from ..forms.direct import direct_terms
from .supplied import SuppliedTerms, completed, supplied_terms
from .verdict import Mismatch, Verdict

__all__ = ["CHUNK_TERMS", "MAX_INDEX_TERMS", "prove_index"]

#: Terms per side held at once: 4 Mi int64 keys ≈ 32 MiB per array.
CHUNK_TERMS = 1 << 22
#: Default ceiling on the size of one check (≈ 1–2 minutes on 2 cores); raise it with ``max_terms``.
MAX_INDEX_TERMS = 10_000_000_000

#: builds 𝒲's terms for (spec, positions, channels): forms.blocks.block_terms, forms.assembly.assembly_terms or a test's
BlockTermsFn = Callable[[ConvSpec, np.ndarray, range], MatrixTerms]


@dataclass(frozen=True)
class _Chunk:
    positions: np.ndarray
    channels: range


def _chunks(spec: ConvSpec, chunk_terms: int) -> Iterator[_Chunk]:
    """Runs of (positions × channels) with about ``chunk_terms`` terms each, in seed-row order."""
    per_channel = spec.in_per_group * math.prod(spec.kernel_size)
    positions = math.prod(spec.output_size)
    if per_channel * spec.out_channels <= chunk_terms:
        step = max(1, chunk_terms // (per_channel * spec.out_channels))
        for start in range(0, positions, step):
            yield _Chunk(np.arange(start, min(start + step, positions)), range(spec.out_channels))
        return
    channel_step = max(1, chunk_terms // per_channel)
    for p in range(positions):
        for c in range(0, spec.out_channels, channel_step):
            yield _Chunk(np.array([p]), range(c, min(c + channel_step, spec.out_channels)))


def _rows_of(spec: ConvSpec, chunk: _Chunk) -> np.ndarray:
    """Seed-order row numbers of a chunk's rows, (P·C,)."""
    channels = np.arange(chunk.channels.start, chunk.channels.stop)
    return (chunk.positions[:, None] * spec.out_channels + channels[None, :]).reshape(-1)


def _flat(keys: np.ndarray, valid: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row counts, keys, bias keys) of a chunk, rows in chunk order, keys in generation order."""
    rows = keys.shape[0] * keys.shape[1]
    if valid.all():
        counts = np.full(rows, keys.size // max(rows, 1), dtype=np.int64)
        flat = keys.reshape(-1)
    else:
        full = np.broadcast_to(valid, keys.shape)
        counts = full.reshape(rows, -1).sum(axis=1)
        flat = keys[full]
    return counts, flat, (-1 - bias).reshape(rows, -1)


def _difference(
    rows: np.ndarray, expected: tuple[np.ndarray, np.ndarray, np.ndarray], found: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """Seed rows where found − expected ≠ 0; each side is (row ids per term, keys, coefficients)."""
    row = np.concatenate([expected[0], found[0]])
    key = np.concatenate([expected[1], found[1]])
    coefficient = np.concatenate([-expected[2], found[2]])
    order = np.lexsort((key, row))
    row, key, coefficient = row[order], key[order], coefficient[order]
    starts = np.flatnonzero(np.r_[True, (row[1:] != row[:-1]) | (key[1:] != key[:-1])])
    sums = np.add.reduceat(coefficient, starts) if len(starts) else coefficient[:0]
    return np.unique(row[starts[sums != 0]])


def _expand(
    counts: np.ndarray, keys: np.ndarray, bias: np.ndarray, row_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Terms with their row ids and unit coefficients: (rows, keys, coefficients)."""
    term_rows = np.concatenate([np.repeat(row_ids, counts), np.repeat(row_ids, bias.shape[1])])
    term_keys = np.concatenate([keys, bias.reshape(-1)])
    return term_rows, term_keys, np.ones(term_keys.size, dtype=np.int64)


def _terms_as_sympy(spec: ConvSpec, keys: np.ndarray, coefficients: np.ndarray) -> list[sympy.Expr]:
    weights, inputs, biases = weight_array(spec).reshape(-1), input_array(spec).reshape(-1), bias_array(spec).reshape(-1)
    n_weights = weights.size
    out = []
    for key, coefficient in zip(keys.tolist(), coefficients.tolist()):
        term = biases[-1 - key] if key < 0 else weights[key % n_weights] * inputs[key // n_weights]
        out.append(coefficient * term)
    return out


def prove_index(
    spec: ConvSpec,
    order: str = "channel_major",
    matrix: Any = None,
    bias: Any = None,
    chunk_terms: int = CHUNK_TERMS,
    max_terms: int | None = None,
    workers: int = 2,
    block_terms_fn: BlockTermsFn | None = None,
) -> Verdict:
    """Check the index sum = 𝒲x + b exactly on integer index terms, streaming in chunks.

    ``block_terms_fn`` replaces the construction of 𝒲's terms (tests use it to corrupt 𝒲 at sizes too large
    for SymPy); ``matrix``/``bias`` check a caller's SymPy 𝒲 and b instead.

    >>> prove_index(ConvSpec(3, 64, input_size=32, kernel_size=3, padding=1)).holds
    True
    """
    start = perf_counter()
    _check_arguments(spec, order, chunk_terms, max_terms)
    # the matrix side: a caller's pair as sorted terms, or our construction generated chunk by chunk
    supplied = None
    if matrix is not None or bias is not None:
        supplied = supplied_terms(spec, order, *completed(spec, order, matrix, bias))  # a partial supply is completed by ours
    make_terms = block_terms_fn or built_terms_fn(spec)
    # compare chunk by chunk, then add the rows whose supplied terms are not bilinear
    chunks = list(_chunks(spec, chunk_terms))
    check = partial(_check_chunk, spec, supplied, make_terms)
    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(check, chunks))
    else:
        results = [check(chunk) for chunk in chunks]
    bad_seed = np.concatenate([r[0] for r in results]) if results else np.empty(0, dtype=np.int64)
    if supplied is not None and supplied.foreign:
        bad_seed = np.union1d(bad_seed, np.fromiter(supplied.foreign, dtype=np.int64))
    # the first mismatch in the caller's order, both sides as SymPy terms
    mismatch = _first_mismatch(spec, order, bad_seed, supplied, make_terms) if bad_seed.size else None
    return Verdict(
        holds=bad_seed.size == 0,
        method="index",
        spec=spec,
        order=order,
        terms=sum(r[1] for r in results),
        seconds=perf_counter() - start,
        mismatch=mismatch,
        mismatched_rows=int(bad_seed.size),
        source="built" if supplied is None else "supplied",
        details={"chunks": len(chunks), "chunk_terms": chunk_terms, "workers": workers},
    )


def built_terms_fn(spec: ConvSpec) -> BlockTermsFn:
    """symconv's own 𝒲 as terms: the note's block construction for 2-D, the per-axis assembly for any other ndim."""
    return block_terms if spec.ndim == 2 else assembly_terms


def _check_arguments(spec: ConvSpec, order: str, chunk_terms: int, max_terms: int | None) -> None:
    """One-line errors for a bad order or chunk size, and refusals above the size limit or the int64 key range."""
    check_order(order)
    if not (isinstance(chunk_terms, int) and chunk_terms >= 1):
        raise SpecError(f"chunk_terms must be an int ≥ 1, got {chunk_terms!r}")
    limit = MAX_INDEX_TERMS if max_terms is None else max_terms
    total = spec.n_terms + spec.n_bias_terms
    if total > limit:
        raise TooLargeError(
            f"verify(method='index'): {total:,} terms is above max_terms={limit:,} (≈ {total / 5e7:,.0f} s); "
            f"pass a larger max_terms to run it anyway"
        )
    check_key_range(spec, "verify(method='index')")


def _check_chunk(
    spec: ConvSpec, supplied: SuppliedTerms | None, make_terms: BlockTermsFn, chunk: _Chunk
) -> tuple[np.ndarray, int]:
    """(seed rows of the chunk where the two sides differ, terms of the definition checked)."""
    d = direct_terms(spec, chunk.positions, chunk.channels)
    expected = _flat(d.keys, d.valid, d.bias)
    checked = int(expected[1].size + expected[2].size)
    row_ids = _rows_of(spec, chunk)
    if supplied is None:
        built = make_terms(spec, chunk.positions, chunk.channels)
        found = _flat(built.keys, built.valid, bias_terms(spec, chunk.positions, chunk.channels))
        if all(np.array_equal(a, b) for a, b in zip(expected, found)):  # the fast path: same terms, same order
            return np.empty(0, dtype=np.int64), checked
        found_terms = _expand(*found, row_ids)
    else:
        found_terms = supplied.slice(int(row_ids.min()), int(row_ids.max()))
    return _difference(row_ids, _expand(*expected, row_ids), found_terms), checked


def _first_mismatch(
    spec: ConvSpec, order: str, bad_seed: np.ndarray, supplied: SuppliedTerms | None, make_terms: BlockTermsFn
) -> Mismatch:
    """The mismatch at the lowest row in ``order`` among the differing seed rows ``bad_seed``."""
    # row_permutation(cm → seed)[s] is the channel-major row of seed row s
    from_seed = np.arange(spec.d_y) if order == "seed" else row_permutation(spec, "channel_major", "seed")
    first = int(np.argmin(from_seed[bad_seed]))
    return _mismatch(spec, order, int(from_seed[bad_seed[first]]), int(bad_seed[first]), supplied, make_terms)


def _mismatch(
    spec: ConvSpec, order: str, row: int, seed_row: int, supplied: SuppliedTerms | None, make_terms: BlockTermsFn
) -> Mismatch:
    """Both sides' terms of one output, as SymPy expressions."""
    position, channel = divmod(seed_row, spec.out_channels)
    chunk = _Chunk(np.array([position]), range(channel, channel + 1))
    d = direct_terms(spec, chunk.positions, chunk.channels)
    counts, keys, bias = _flat(d.keys, d.valid, d.bias)
    expected_keys = np.concatenate([keys, bias.reshape(-1)])
    expected = _terms_as_sympy(spec, expected_keys, np.ones(expected_keys.size, dtype=np.int64))
    if supplied is None:
        built = make_terms(spec, chunk.positions, chunk.channels)
        counts, keys, bias = _flat(built.keys, built.valid, bias_terms(spec, chunk.positions, chunk.channels))
        found_keys = np.concatenate([keys, bias.reshape(-1)])
        found = _terms_as_sympy(spec, found_keys, np.ones(found_keys.size, dtype=np.int64))
    else:
        _, keys, coefficients = supplied.slice(seed_row, seed_row)
        found = _terms_as_sympy(spec, keys, coefficients) + supplied.foreign.get(seed_row, [])
    # merge repeated terms (a corrupted 𝒲 may hold the same ω twice in a row)
    return Mismatch(row, output_index(spec, row, order), tuple(_merge(expected)), tuple(_merge(found)))


def _merge(terms: list[sympy.Expr]) -> list[sympy.Expr]:
    total: dict[sympy.Expr, Any] = {}
    for term in terms:
        coefficient, monomial = term.as_coeff_Mul()
        total[monomial] = total.get(monomial, 0) + coefficient
    return [c * m for m, c in total.items() if c != 0]
