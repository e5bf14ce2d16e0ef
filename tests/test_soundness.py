"""A verifier must never say "proved" for a false identity: corrupt 𝒲 or b and demand a counterexample.

Each mutant records which rows it changed; the verdict must fail and its first mismatch must be the
first changed row (in the verdict's order), computed here from the mutation, not from the engine.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symconv import ConvSpec, bias_vector, matrix, output_index, verify
from symconv.core.budget import PADDED_KEY
from symconv.forms.assembly import MatrixParts
from symconv.forms.blocks import BlockTerms, block_parts, block_terms
from symconv.prove.index_engine import prove_index
from tests.cases import CASES

MUTANT_SPECS = {name: CASES[name] for name in ("seed-example", "everything", "padding-1", "groups-2", "stride-2")}


def _weight_index(symbol: sympy.Symbol) -> tuple[int, ...]:
    return tuple(int(v) for v in symbol.name.split("_")[1].split(","))


def _omega(index: tuple[int, ...]) -> sympy.Symbol:
    return sympy.Symbol("omega_" + ",".join(map(str, index)))


def drop_entry(spec, W, b):
    (r, c), _ = sorted(W.todok().items())[len(W.todok()) // 2]
    W = W.copy()
    W[r, c] = 0
    return W, b, {r}


def move_block(spec, W, b):
    """Shift the nonzeros of one row-block B_{l,m,k} of every row of one output position by one column."""
    W = W.copy()
    rows = sorted({r for (r, _) in W.todok()})
    r0 = rows[len(rows) // 2]
    cols = sorted(c for (r, c) in W.todok() if r == r0)
    width = spec.input_size[1]
    block = cols[0] // width  # the row-block (l, image row) of the first entry
    changed = set()
    for r in range(W.rows):
        entries = [(c, W[r, c]) for c in range(block * width, (block + 1) * width) if W[r, c] != 0]
        if not entries:
            continue
        for c, _ in entries:
            W[r, c] = 0
        for c, v in entries:
            W[r, c + 1] = v
        changed.add(r)
        if len(changed) >= 3:
            break
    return W, b, changed


def swap_kernel_indices(spec, W, b):
    """ω[i, l, m, n] → ω[i, l, n, m] in every entry (a transposed kernel); rows with some m ≠ n tap change."""
    changed = set()
    W = W.copy()
    for (r, c), v in list(W.todok().items()):
        i, l, m, n = _weight_index(v)
        if m != n and n < spec.kernel_size[0] and m < spec.kernel_size[1]:
            W[r, c] = _omega((i, l, n, m))
            changed.add(r)
    return W, b, changed


def flip_kernel(spec, W, b):
    """Convolution instead of cross-correlation: ω[i, l, m, n] → ω[i, l, h−1−m, w−1−n]."""
    kh, kw = spec.kernel_size
    W = W.copy()
    changed = set()
    for (r, c), v in list(W.todok().items()):
        i, l, m, n = _weight_index(v)
        if (m, n) != (kh - 1 - m, kw - 1 - n):
            W[r, c] = _omega((i, l, kh - 1 - m, kw - 1 - n))
            changed.add(r)
    return W, b, changed


def wrong_bias(spec, W, b):
    b = b.copy()
    r = b.rows // 2
    b[r] = b[r] + 1 if spec.bias == "none" else sympy.Symbol("b_wrong")
    return W, b, {r}


def swap_rows(spec, W, b):
    W = W.copy()
    r1, r2 = 1, W.rows - 2
    row1, row2 = W[r1, :], W[r2, :]
    W[r1, :], W[r2, :] = row2, row1
    return W, b, {r1, r2}


def doubled_entry(spec, W, b):
    (r, c), v = sorted(W.todok().items())[0]
    W = W.copy()
    W[r, c] = 2 * v
    return W, b, {r}


def foreign_entry(spec, W, b):
    """A term that is not ω·x at all (a weight squared) in an otherwise empty position."""
    W = W.copy()
    r = W.rows - 1
    c = next(c for c in range(W.cols) if W[r, c] == 0)
    W[r, c] = sympy.Symbol("omega_0,0,0,0") ** 2
    return W, b, {r}


MUTANTS = [drop_entry, move_block, swap_kernel_indices, flip_kernel, wrong_bias, swap_rows, doubled_entry, foreign_entry]


@pytest.mark.parametrize("order", ["channel_major", "seed"])
@pytest.mark.parametrize("method", ["sympy", "index"])
@pytest.mark.parametrize("mutate", MUTANTS, ids=[m.__name__ for m in MUTANTS])
@pytest.mark.parametrize("spec", list(MUTANT_SPECS.values()), ids=list(MUTANT_SPECS))
def test_mutant_fails_with_the_right_counterexample(spec, mutate, method, order):
    W, b, changed = mutate(spec, matrix(spec, order), bias_vector(spec, order))
    if not changed:
        pytest.fail(f"mutant {mutate.__name__} changed nothing for {spec.describe()}")
    verdict = verify(spec, method=method, matrix=W, bias=b, order=order)
    assert not verdict.holds, f"{mutate.__name__} was proved: {verdict.describe()}"
    assert not verdict  # truthiness follows holds
    first = min(changed)
    assert verdict.mismatch.row == first
    assert verdict.mismatch.output == output_index(spec, first, order)
    assert verdict.mismatched_rows == len(changed)
    assert verdict.mismatch.missing or verdict.mismatch.extra
    assert "first mismatch at output" in verdict.describe()


@pytest.mark.parametrize("method", ["sympy", "index"])
def test_unchanged_supplied_matrix_holds(method):
    spec = CASES["everything"]
    for order in ("channel_major", "seed"):
        verdict = verify(spec, method=method, matrix=matrix(spec, order), bias=bias_vector(spec, order), order=order)
        assert verdict.holds and verdict.source == "supplied"


@pytest.mark.parametrize("method", ["sympy", "index"])
def test_matrix_in_the_other_order_is_rejected(method):
    spec = CASES["seed-example"]
    verdict = verify(spec, method=method, matrix=matrix(spec, "seed"), order="channel_major")
    assert not verdict.holds and verdict.mismatch.row == 1  # row 0 is y[0,0,0] in both orders


@pytest.mark.parametrize("method", ["sympy", "index"])
def test_cancelling_entries_still_prove(method):
    """ω + b − b is ω: a verifier must compare polynomials, not entry spellings."""
    spec = CASES["seed-2x2-toy"]
    W = matrix(spec).copy()
    (r, c), v = sorted(W.todok().items())[0]
    W[r, c] = sympy.Add(v, sympy.Symbol("b_0"), -sympy.Symbol("b_0"), evaluate=False)
    assert verify(spec, method=method, matrix=W).holds


def _corrupt_one(spec: ConvSpec, position: int, channel: int, shift: int):
    """A block construction with one entry of one output moved by ``shift`` columns."""

    def terms(s, positions, channels) -> BlockTerms:
        t = block_terms(s, positions, channels)
        keys = t.keys.copy()
        where = np.flatnonzero(positions == position)
        if where.size and channels.start <= channel < channels.stop:
            keys[where[0], channel - channels.start, 0, 0, 0] += shift * int(np.prod(spec.weight_shape))
        return BlockTerms(keys, t.valid)

    return terms


def test_index_engine_catches_one_wrong_entry_in_85_million():
    spec = ConvSpec(3, 64, input_size=224, kernel_size=3)
    position, channel = 40_000, 37
    verdict = prove_index(spec, block_terms_fn=_corrupt_one(spec, position, channel, shift=1))
    assert not verdict.holds and verdict.mismatched_rows == 1
    row_cm = channel * int(np.prod(spec.output_size)) + position
    assert verdict.mismatch.row == row_cm
    assert verdict.mismatch.output == (channel, *np.unravel_index(position, spec.output_size))
    assert len(verdict.mismatch.missing) == 1 and len(verdict.mismatch.extra) == 1


def test_index_engine_catches_corruption_with_padding_and_channel_chunks():
    spec = ConvSpec(4, 8, input_size=(10, 9), kernel_size=3, padding=1, stride=(1, 2))
    verdict = prove_index(spec, chunk_terms=20, block_terms_fn=_corrupt_one(spec, 17, 5, shift=-1))
    assert not verdict.holds and verdict.mismatched_rows == 1
    assert verdict.mismatch.output == (5, *np.unravel_index(17, spec.output_size))


# --------------------------------------------------------------------------- the streamed path (symconv's own 𝒲)
def _corrupt_parts(how: str):
    """block_parts with one change that moves, adds or drops terms (padding included)."""

    def parts(spec: ConvSpec) -> MatrixParts:
        p = block_parts(spec)
        spatial, channel = p.spatial.copy(), p.channel.copy()
        n_weights = int(np.prod(spec.weight_shape))
        inside = np.argwhere(spatial >= 0)
        if how == "shift-a-position":  # one position reads the next input column for one tap
            spatial[tuple(inside[len(inside) // 2])] += n_weights
        elif how == "drop-a-tap":  # one inside tap treated as padding
            spatial[tuple(inside[-1])] = PADDED_KEY
        elif how == "revive-a-padded-tap":  # a padded tap gets a real key
            p0, t0 = np.argwhere(spatial < 0)[0]
            spatial[p0, t0] = 0
        elif how == "wrong-weight":  # one channel pair reads the wrong ω
            channel[0, -1, 0] += 1
        return MatrixParts(spatial, channel)

    return parts


@pytest.mark.parametrize("memcmp", [True, False], ids=["memcmp", "numpy"])
@pytest.mark.parametrize("how", ["shift-a-position", "drop-a-tap", "revive-a-padded-tap", "wrong-weight"])
def test_streamed_path_catches_corrupted_parts(how, memcmp, monkeypatch):
    import symconv.prove.stream as stream

    if not memcmp:
        monkeypatch.setattr(stream, "_MEMCMP", None)
    spec = ConvSpec(3, 5, input_size=(7, 6), kernel_size=3, padding=1, stride=(1, 2))
    truth = block_parts(spec)
    corrupted = _corrupt_parts(how)(spec)
    # the rows whose term lists change, computed here from the parts: position-major seed rows
    changed = set()
    for p in range(truth.spatial.shape[0]):
        for i in range(spec.out_channels):
            def terms(parts, p=p, i=i):
                keys = (parts.spatial[p][:, None] + parts.channel[:, i]).reshape(-1)
                return sorted(keys[keys >= 0].tolist())
            if terms(truth) != terms(corrupted):
                changed.add(p * spec.out_channels + i)
    assert changed
    for chunk_terms in (1, 50, 1 << 15):
        verdict = prove_index(spec, order="seed", chunk_terms=chunk_terms, block_parts_fn=_corrupt_parts(how))
        assert not verdict.holds and verdict.mismatched_rows == len(changed)
        assert verdict.mismatch.row == min(changed)
        assert verdict.mismatch.missing or verdict.mismatch.extra
        assert verdict.details["comparison"].startswith("per term")


def test_streamed_path_reports_progress_and_agrees_on_two_workers():
    spec = ConvSpec(8, 16, input_size=20, kernel_size=3, padding=1, groups=2, bias="per_location")
    calls: list[tuple[int, int]] = []
    one = prove_index(spec, chunk_terms=1000, progress=lambda done, total: calls.append((done, total)))
    two = prove_index(spec, chunk_terms=1000, workers=2)
    assert one.holds and two.holds and one.terms == two.terms == spec.n_terms + spec.n_bias_terms
    assert calls[-1] == (one.terms, one.terms)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize("method", ["sympy", "index"])
@pytest.mark.parametrize(
    "value", [lambda v: 1.0 * v, lambda v: sympy.Float(1) * v, lambda v: sympy.Rational(1, 2) * v + sympy.Rational(1, 2) * v],
    ids=["float-coefficient", "Float-coefficient", "halves"],
)
def test_float_coefficients_are_rejected_and_exact_ones_accepted(method, value):
    """1.0·ω is not ω (an exact check accepts no floats); ½ω + ½ω is ω."""
    spec = CASES["seed-example"]
    W = matrix(spec).copy()
    (r, c), v = sorted(W.todok().items())[0]
    W[r, c] = value(v)
    verdict = verify(spec, method=method, matrix=W)
    exact = not W[r, c].has(sympy.Float)
    assert verdict.holds == exact
    if not exact:
        assert verdict.mismatched_rows == 1 and verdict.mismatch.row == r
