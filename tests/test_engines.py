"""Both proof engines on the whole case table, and the forms they prove checked by SymPy's own arithmetic."""

import numpy as np
import pytest
import sympy

import symconv
from symconv import ConvSpec, bias_vector, blocks, direct, input_symbols, matrix, verify
from symconv.forms.blocks import block_terms
from symconv.forms.direct import direct_terms
from tests.cases import IDS, SPECS


@pytest.mark.parametrize("order", symconv.ORDERS)
@pytest.mark.parametrize("method", ["sympy", "index"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_engines_prove_every_case(spec, method, order):
    verdict = verify(spec, method=method, order=order)
    assert verdict.holds, verdict.describe()
    assert verdict.method == method
    assert verdict.mismatch is None and verdict.mismatched_rows == 0
    assert verdict.terms == spec.n_terms + spec.n_bias_terms


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_sympy_expand_agrees_on_small_cases(spec):
    """The identity by plain SymPy arithmetic: expand(direct − (𝒲x + b)) is the zero array."""
    x = sympy.Matrix(np.array(input_symbols(spec).tolist(), dtype=object).reshape(-1).tolist())
    y = sympy.Matrix(np.array(direct(spec).tolist(), dtype=object).reshape(-1).tolist())
    difference = (y - (matrix(spec) * x + bias_vector(spec))).expand()
    assert difference == sympy.zeros(spec.d_y, 1)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_literal_block_assembly_equals_fast_matrix(spec):
    """𝒲 stacked literally from SymPy blocks (hstack/vstack) equals the offset-placed sparse 𝒲."""
    assert blocks(spec).full() == matrix(spec, order="seed")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_orders_are_a_row_permutation(spec):
    cm, seed = matrix(spec, "channel_major"), matrix(spec, "seed")
    perm = symconv.row_permutation(spec, "channel_major", "seed")
    assert cm.extract(perm.tolist(), list(range(spec.d_x))) == seed
    back = symconv.row_permutation(spec, "seed", "channel_major")
    assert seed.extract(back.tolist(), list(range(spec.d_x))) == cm
    for row in range(spec.d_y):  # output_index reads both orders consistently
        assert symconv.output_index(spec, int(perm[row]), "channel_major") == symconv.output_index(spec, row, "seed")


def test_block_shapes_follow_the_note():
    spec = ConvSpec(2, 3, input_size=(5, 6), kernel_size=(3, 2))
    b = blocks(spec)
    H, W = spec.input_size
    assert b.B(0, 0, 0).shape == (3, W)
    assert b.W(1, 2, 0).shape == (3, H * W)
    assert b.W(1, 2).shape == (3, 2 * H * W)
    labels = [label for label, _ in b.row_blocks(1, 2, 0)]
    # position j=1 (0-based): j zero blocks, then the h kernel rows, then zeros — H blocks in all
    assert labels == ["O"] + [f"B_{{0,{m},2}}" for m in range(3)] + ["O"]
    # B_{l,m,k}: k leading zeros (0-based k), then one kernel row
    row = list(b.B(1, 2, 3)[0, :])
    assert row[:3] == [0, 0, 0] and row[3:5] == [sympy.Symbol("omega_0,1,2,0"), sympy.Symbol("omega_0,1,2,1")]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_generators_emit_canonical_order(spec):
    """Within each row keys strictly increase: the index engine's fast path relies on it (not its soundness)."""
    for terms in (direct_terms(spec), block_terms(spec)):
        keys = terms.keys.reshape(terms.keys.shape[0], terms.keys.shape[1], -1)
        valid = np.broadcast_to(terms.valid, terms.keys.shape).reshape(keys.shape)
        for p in range(keys.shape[0]):
            for i in range(keys.shape[1]):
                row = keys[p, i][valid[p, i]]
                assert np.all(np.diff(row) > 0)


def test_index_engine_chunking_does_not_change_the_verdict():
    spec = ConvSpec(4, 6, input_size=(9, 8), kernel_size=3, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    from symconv.prove.index_engine import prove_index

    verdicts = [prove_index(spec, chunk_terms=c, workers=w) for c in (1, 7, 100, 1 << 22) for w in (1, 2)]
    assert all(v.holds for v in verdicts)
    assert len({v.terms for v in verdicts}) == 1
    assert verdicts[0].details["chunks"] > verdicts[-1].details["chunks"]


def test_auto_picks_sympy_when_small_and_index_when_large():
    assert verify(ConvSpec(1, 1, input_size=4, kernel_size=2)).method == "sympy"
    assert verify(ConvSpec(8, 8, input_size=32, kernel_size=3)).method == "index"


def test_large_layers_by_index():
    spec = ConvSpec(16, 32, input_size=(64, 48), kernel_size=(5, 3), stride=2, padding="valid", dilation=(1, 2), groups=4)
    verdict = verify(spec, method="index")
    assert verdict.holds and verdict.terms == spec.n_terms + spec.n_bias_terms


def test_verdict_json_fields():
    d = verify(ConvSpec(1, 2, input_size=3, kernel_size=2)).to_dict()
    assert d["holds"] is True and d["method"] == "sympy" and d["terms"] == 2 * 4 * 4 + 8 and d["seconds"] >= 0
    assert d["spec"]["output_size"] == [2, 2]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(method="exact"), r"^method must be one of 'auto', 'sympy', 'index', got 'exact'$"),
        (dict(order="row_major"), r"^order must be 'channel_major' or 'seed', got 'row_major'$"),
        (dict(max_terms=0), r"^max_terms must be an int ≥ 1 \(or None for the default\), got 0$"),
        (
            dict(matrix=[[1, 2]]),
            r"^matrix must be d_y × d_x = 4 × 9 \(rows in 'channel_major' order, columns the C-order flatten of x\), got 1 × 2$",
        ),
        (dict(bias=[1, 2, 3]), r"^bias must have d_y = 4 entries \(in 'channel_major' order\), got shape 3 × 1$"),
    ],
)
@pytest.mark.parametrize("method", ["sympy", "index"])
def test_verify_rejects_bad_arguments_in_one_line(kwargs, message, method):
    from symconv import SpecError

    kwargs = {"method": method} | kwargs
    with pytest.raises(SpecError, match=message):
        verify(ConvSpec(1, 1, input_size=3, kernel_size=2), **kwargs)


@pytest.mark.parametrize("method", ["sympy", "index"])
def test_verify_reports_progress_up_to_the_total(method):
    spec = ConvSpec(4, 4, input_size=40, kernel_size=3, padding=1)
    calls = []
    verdict = verify(spec, method=method, progress=lambda done, total: calls.append((done, total)))
    assert verdict.holds and calls and calls[-1] == (verdict.terms, verdict.terms)
    assert all(total == verdict.terms and 0 <= done <= total for done, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
