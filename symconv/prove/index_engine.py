"""Proof engine "index": the identity checked exactly as a bilinear form, in NumPy, in chunks.

Both sides of conv(x) = 𝒲x + b are bilinear in (ω, x) plus a term linear in b, so each is exactly
a list of integer terms per output row: ``key = input_flat · n_weights + weight_flat`` for
``x[input]·ω[weight]``, and ``key = −1 − bias_flat`` for ``b[bias]``, each with an integer coefficient.
The definition's terms come from :mod:`symconv.forms.direct` (the index sum); 𝒲's from
:mod:`symconv.forms.blocks` (the note's block construction, 2-D), from :mod:`symconv.forms.assembly` (any other
ndim) or from a matrix the caller supplies (:mod:`symconv.prove.supplied`).

Why this algorithm: sorting 85 M terms costs 5 s and 2.5 GB. For symconv's own 𝒲 both constructions give each key
as a spatial part plus a channel part, so each side's keys are summed chunk by chunk into two buffers allocated once
and compared with memcmp (:mod:`symconv.prove.stream`, which says why this is exact): every term of both sides is
generated and compared — nothing is factored. The measured floor is a write-once/read-once pass of as many int64
through a reused 32 MiB buffer (benchmarks/bench_verify.py); this path runs at 1.5–3× that floor. A caller's 𝒲 (or
a test's ``block_terms_fn``) goes term list by term list: the two sides' keys per chunk, equal arrays accepted
as they are, otherwise the *difference* polynomial (found − expected) merged exactly with a sort, every row left
with a nonzero coefficient a mismatch. Chunks bound the memory (``chunk_terms`` keys per side) whatever the size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from queue import SimpleQueue
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.budget import check_key_range
from ..core.spec import ConvSpec
from ..core.symbols import bias_array, check_order, input_array, output_index, row_permutation, weight_array
from ..errors import SpecError, TooLargeError
from ..forms.assembly import MatrixParts, MatrixTerms, terms_from_parts
from ..forms.blocks import bias_terms
from ..forms.built import built_parts_fn, built_terms_fn
from ..forms.direct import direct_bias, direct_parts, direct_terms
from .stream import Buffers, compare_runs, difference_rows
from .supplied import SuppliedTerms, completed, supplied_terms
from .verdict import Mismatch, Verdict

__all__ = ["CHUNK_TERMS", "MAX_INDEX_TERMS", "PROGRESS_TERMS", "Progress", "prove_index"]

#: Terms per side held at once: 32 Ki int64 keys = 256 KiB per side, so both sides of a chunk stay in a core's L2 cache.
CHUNK_TERMS = 1 << 15
#: Default ceiling on the size of one check (≈ 1–2 minutes on 2 cores); raise it with ``max_terms``.
MAX_INDEX_TERMS = 10_000_000_000
#: ``progress`` is called about every this many terms (and once at the end).
PROGRESS_TERMS = 1 << 22

#: builds 𝒲's terms for (spec, positions, channels): forms.blocks.block_terms, forms.assembly.assembly_terms or a test's
BlockTermsFn = Callable[[ConvSpec, np.ndarray, range], MatrixTerms]
#: builds 𝒲's keys as parts for (spec): forms.blocks.block_parts (2-D) or forms.assembly.assembly_parts
BlockPartsFn = Callable[[ConvSpec], MatrixParts]
#: progress(terms checked so far, total terms): called from the calling thread
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Chunk:
    positions: np.ndarray
    channels: range


def _runs(spec: ConvSpec, chunk_terms: int) -> Iterator[tuple[int, int, int, int]]:
    """Runs (first position, end position, first channel, end channel) of about ``chunk_terms`` terms, in seed-row order."""
    per_channel = spec.in_per_group * math.prod(spec.kernel_size)
    positions = math.prod(spec.output_size)
    c_out = spec.out_channels
    if per_channel * c_out <= chunk_terms:
        step = max(1, chunk_terms // (per_channel * c_out))
        for start in range(0, positions, step):
            yield start, min(start + step, positions), 0, c_out
        return
    channel_step = max(1, chunk_terms // per_channel)
    for p in range(positions):
        for c in range(0, c_out, channel_step):
            yield p, p + 1, c, min(c + channel_step, c_out)


def _chunks(spec: ConvSpec, chunk_terms: int) -> Iterator[_Chunk]:
    """:func:`_runs` as (positions, channels) chunks."""
    for p0, p1, c0, c1 in _runs(spec, chunk_terms):
        yield _Chunk(np.arange(p0, p1), range(c0, c1))


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


def _bad_rows(results: list, supplied: Any) -> np.ndarray:
    """Every seed row that differs: those the batches found, and those holding a supplied term that is not c·ω·x."""
    bad = [rows for result in results for rows in result[0]]
    bad_seed = np.unique(np.concatenate(bad)) if bad else np.empty(0, dtype=np.int64)
    if supplied is not None and supplied.foreign:
        bad_seed = np.union1d(bad_seed, np.fromiter(supplied.foreign, dtype=np.int64))
    return bad_seed


def prove_index(
    spec: ConvSpec,
    order: str = "channel_major",
    matrix: Any = None,
    bias: Any = None,
    chunk_terms: int = CHUNK_TERMS,
    max_terms: int | None = None,
    workers: int = 1,
    block_terms_fn: BlockTermsFn | None = None,
    progress: Progress | None = None,
    block_parts_fn: BlockPartsFn | None = None,
) -> Verdict:
    """Check the index sum = 𝒲x + b exactly on integer index terms, streaming in chunks.

    ``block_terms_fn`` / ``block_parts_fn`` replace the construction of 𝒲's terms / parts (tests use them to corrupt
    𝒲 at sizes too large for SymPy); ``matrix``/``bias`` check a caller's SymPy 𝒲 and b instead. ``workers`` threads
    share the chunks. ``progress(done, total)`` is called
    with the terms checked so far about every :data:`PROGRESS_TERMS` terms and once at the end.

    >>> prove_index(ConvSpec(3, 64, input_size=32, kernel_size=3, padding=1)).holds
    True
    """
    start = perf_counter()
    _check_arguments(spec, order, chunk_terms, max_terms, workers)
    if block_terms_fn is not None and block_parts_fn is not None:
        raise SpecError("pass block_terms_fn or block_parts_fn, not both")
    total = spec.n_terms + spec.n_bias_terms
    # the matrix side: a caller's pair as sorted terms, or our construction
    supplied = None
    if matrix is not None or bias is not None:
        supplied = supplied_terms(spec, order, *completed(spec, order, matrix, bias))  # a partial supply is completed by ours
    # compare: our two constructions from their parts in reused buffers, anything else term list by term list
    runs = list(_runs(spec, chunk_terms))
    per_batch = max(1, PROGRESS_TERMS // chunk_terms)  # runs between progress reports
    batches = [runs[i : i + per_batch] for i in range(0, len(runs), per_batch)]
    if supplied is None and block_terms_fn is None:
        parts = (block_parts_fn or built_parts_fn(spec))(spec)
        make_terms = partial(_terms_of_parts, parts)  # the mismatch is read from the very parts compared
        check, comparison = _streamed(spec, parts, runs, workers), "per term, both constructions' keys from their parts"
    else:
        make_terms = block_terms_fn or built_terms_fn(spec)
        check, comparison = partial(_check_batch, spec, supplied, make_terms), "per term, merged term lists"
    results = _run_batches(check, batches, workers, total, progress)
    bad_seed = _bad_rows(results, supplied)
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
        details={"chunks": len(runs), "chunk_terms": chunk_terms, "workers": workers, "comparison": comparison},
    )


Batch = list[tuple[int, int, int, int]]
BatchResult = tuple[list[np.ndarray], int]  # (arrays of differing seed rows, terms of the definition checked)


def _run_batches(
    check: Callable[[Batch], BatchResult], batches: list[Batch], workers: int, total: int, progress: Progress | None
) -> list[BatchResult]:
    """``check`` over ``batches`` on ``workers`` threads (NumPy and memcmp release the GIL), reporting progress."""
    if workers > 1 and len(batches) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return _reported(pool.map(check, batches), total, progress)
    return _reported(map(check, batches), total, progress)


def _reported(results: Iterator[BatchResult], total: int, progress: Progress | None) -> list[BatchResult]:
    if progress is None:
        return list(results)
    out, done = [], 0
    for result in results:
        out.append(result)
        done += result[1]
        progress(done, total)
    if not out:
        progress(0, total)
    return out


def _terms_of_parts(parts: MatrixParts, spec: ConvSpec, positions: np.ndarray, channels: range) -> MatrixTerms:
    """𝒲's terms for ``positions`` × ``channels``, read from ``parts`` (as block_terms / assembly_terms do)."""
    spatial = parts.spatial[positions]
    keys = terms_from_parts(spatial, parts.channel, spec.kernel_size, channels)
    return MatrixTerms(keys, (spatial >= 0).reshape(len(spatial), 1, 1, *spec.kernel_size))


def _streamed(
    spec: ConvSpec, m: MatrixParts, runs: list[tuple[int, int, int, int]], workers: int
) -> Callable[[Batch], BatchResult]:
    """The check of a batch of runs for symconv's own 𝒲: both constructions' parts summed into reused buffers."""
    d = direct_parts(spec)
    expected, found = (d.spatial, d.channel), (m.spatial, m.channel)
    per_row = d.channel.shape[0] * d.channel.shape[2]  # K · C₁/g keys per (position, channel)
    capacity = max(((p1 - p0) * (c1 - c0) * per_row for p0, p1, c0, c1 in runs), default=0)
    pool: SimpleQueue[Buffers] = SimpleQueue()
    for _ in range(max(1, workers)):
        pool.put(Buffers(capacity))
    # terms of the definition per run: its taps inside the input × channels × C₁/g, plus one bias term per row
    inside = np.concatenate([[0], np.cumsum((d.spatial >= 0).sum(axis=1))]).tolist()
    bias_width = 0 if spec.bias == "none" else 1

    def check(batch: Batch) -> BatchResult:
        buffers = pool.get()
        try:
            bad = compare_runs(spec, expected, found, batch, buffers)
        finally:
            pool.put(buffers)
        bad.extend(_bias_rows(spec, batch))
        terms = sum((inside[p1] - inside[p0]) * (c1 - c0) * d.channel.shape[2] for p0, p1, c0, c1 in batch)
        terms += sum((p1 - p0) * (c1 - c0) for p0, p1, c0, c1 in batch) * bias_width
        return bad, terms

    return check


def _bias_rows(spec: ConvSpec, batch: Batch) -> list[np.ndarray]:
    """Seed rows of the batch's runs whose bias terms differ (one bias term per row at most, so arrays are small)."""
    p0, c_first = batch[0][0], batch[0][2]
    p1, c_last = batch[-1][1], batch[-1][3]
    positions = np.arange(p0, p1)
    channels = range(c_first, c_last) if p1 - p0 == 1 else range(spec.out_channels)
    expected, found = direct_bias(spec, positions, channels), bias_terms(spec, positions, channels)
    if expected.shape == found.shape and np.array_equal(expected, found):
        return []
    rows = _rows_of(spec, _Chunk(positions, channels))
    return [difference_rows(_expand_bias(expected, rows), _expand_bias(found, rows))]


def _expand_bias(bias: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = (-1 - bias).reshape(-1)
    return np.repeat(rows, bias.shape[2]), keys, np.ones(keys.size, dtype=np.int64)


def _check_arguments(spec: ConvSpec, order: str, chunk_terms: int, max_terms: int | None, workers: int) -> None:
    """One-line errors for a bad order, chunk size or worker count, and refusals above the size limit or the key range."""
    check_order(order)
    if not (isinstance(chunk_terms, int) and chunk_terms >= 1):
        raise SpecError(f"chunk_terms must be an int ≥ 1, got {chunk_terms!r}")
    if not (isinstance(workers, int) and workers >= 1):
        raise SpecError(f"workers must be an int ≥ 1, got {workers!r}")
    limit = MAX_INDEX_TERMS if max_terms is None else max_terms
    total = spec.n_terms + spec.n_bias_terms
    if total > limit:
        raise TooLargeError(
            f"verify(method='index'): {total:,} terms is above max_terms={limit:,} (≈ {total / 5e7:,.0f} s); "
            f"pass a larger max_terms to run it anyway"
        )
    check_key_range(spec, "verify(method='index')")


def _check_batch(
    spec: ConvSpec, supplied: SuppliedTerms | None, make_terms: BlockTermsFn, batch: Batch
) -> BatchResult:
    """The general path: the batch's runs as term lists (𝒲 from ``make_terms`` or the caller's), merged exactly."""
    bad, checked = [], 0
    for p0, p1, c0, c1 in batch:
        rows, terms = _check_chunk(spec, supplied, make_terms, _Chunk(np.arange(p0, p1), range(c0, c1)))
        bad.append(rows)
        checked += terms
    return bad, checked


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
    return difference_rows(_expand(*expected, row_ids), found_terms), checked


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
