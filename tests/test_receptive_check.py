"""Receptive fields against the product of the layers' 𝒲 matrices, on a grid of stacks and DAGs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symconv import SpecError, TooLargeError
from symconv.receptive.check import (
    FieldCheck,
    _multiply,
    check_receptive_field,
    graph_operator,
    layer_operator,
    predicted_pattern,
    unclipped_boxes,
)
from symconv.receptive.field import receptive_field
from symconv.receptive.layers import Branches, Layer


def _layer_grid() -> list[Layer]:
    layers = []
    for kind, k, s, p, d in itertools.product(("conv", "maxpool", "avgpool"), (1, 2, 3), (1, 2, 3), (0, 1, 2), (1, 2)):
        if (kind == "avgpool" and d != 1) or (kind != "conv" and 2 * p > k):  # PyTorch's pooling limits
            continue
        layers.append(Layer(k, s, p, d, kind))
    layers += [Layer((3, 1), (1, 2), (1, 0), (2, 1)), Layer((2, 4), padding="same"), Layer((1, 3), dilation=(1, 3))]
    return layers


LAYERS = _layer_grid()
_rng = np.random.default_rng(7)
GRID = [[LAYERS[i] for i in _rng.choice(len(LAYERS), size=depth)] for depth in (1, 2, 3, 4) for _ in range(15)]


@pytest.mark.parametrize("stack", GRID, ids=[" ".join(x.describe() for x in g) for g in GRID])
def test_field_agrees_with_W_product_on_a_grid_of_stacks(stack):
    try:
        rf = receptive_field(stack, input_size=(17, 15))
    except SpecError:
        pytest.skip("the stack does not fit the input")
    check = check_receptive_field(rf)
    assert check.mismatch is None, check.mismatch
    _assert_pinned_unless_one_output(check)
    assert check.outputs == int(np.prod(rf.output_size))


def _assert_pinned_unless_one_output(check: FieldCheck) -> None:
    """A right field holds exactly when every axis has two outputs; otherwise its stride there is undetermined."""
    single = [a for a, n in enumerate(check.output_size) if n == 1]
    assert check.holds == (not single) and check.status == ("UNDETERMINED" if single else "AGREES")
    assert check.undetermined == tuple(f"the stride on axis {a} (one output along it: any stride fits)" for a in single)


DAGS = {
    "residual": [Layer(3, padding=1), Branches(([Layer(3, padding=1), Layer(3, padding=1)], []))],
    "downsampling-residual": [Branches(([Layer(3, 2, 1), Layer(3, padding=1)], [Layer(1, 2)]))],
    "inception": [Branches(([Layer(1)], [Layer(3, padding=1)], [Layer(5, padding=2)],
                            [Layer(3, 1, 1, kind="maxpool"), Layer(1)]), merge="concat")],
    "misaligned": [Branches(([Layer(2, stride=2, kind="maxpool")], [Layer(1, stride=2)])), Layer(3, dilation=2)],
    "nested": [Branches(([Branches(([Layer(3, padding=1)], [])), Layer(3, padding=2, dilation=2)], [])),
               Layer(2, 2, kind="avgpool")],
}


@pytest.mark.parametrize("name", list(DAGS))
def test_field_agrees_with_W_product_on_DAGs(name):
    rf = receptive_field(DAGS[name], input_size=(16, 14))
    check = check_receptive_field(rf)
    assert check.holds, check.mismatch
    assert check.interior_outputs > 0
    assert (name == "misaligned") == bool(rf.misaligned)


def test_regions_equal_the_rows_of_the_product():
    """Region.mask (the pull-back used for figures) equals the product's row, output by output."""
    for layers in (GRID[20], GRID[45], DAGS["inception"], DAGS["nested"]):
        try:
            rf = receptive_field(layers, input_size=(12, 11))
        except SpecError:
            continue
        product = graph_operator(rf)
        for row, idx in enumerate(np.ndindex(*rf.output_size)):
            expected = product.indices[product.indptr[row]:product.indptr[row + 1]]
            assert np.flatnonzero(rf.region(idx).mask.reshape(-1)).tolist() == expected.tolist(), idx


def _scipy(pattern) -> scipy.sparse.csr_matrix:
    data = np.ones(pattern.nnz, dtype=np.int64) if pattern.data is None else pattern.data
    return scipy.sparse.csr_matrix((data, pattern.indices, pattern.indptr), shape=pattern.shape)


@pytest.mark.parametrize("counts", [False, True])
def test_numpy_sparse_product_equals_scipy(counts):
    layers = [Layer(3, padding=1), Layer(2, 2, kind="avgpool"), Layer(3, dilation=2, padding=2), Layer(3, 2)]
    rf = receptive_field(layers, input_size=(20, 18))
    ops = []
    size = rf.input_size
    for lf in rf.layers[1:]:
        ops.append(layer_operator(lf.layer, size, counts=counts))
        size = lf.map_size
    ours = ops[0]
    expected = _scipy(ops[0])
    for op in ops[1:]:
        ours = _multiply(op, ours)
        expected = _scipy(op) @ expected
    expected.sort_indices()
    assert np.array_equal(ours.indptr, expected.indptr) and np.array_equal(ours.indices, expected.indices)
    if counts:
        assert np.array_equal(ours.data, expected.data)
    assert np.array_equal(graph_operator(layers, (20, 18), counts=counts).indices, expected.indices)


def test_small_chunks_give_the_same_product(monkeypatch):
    import symconv.receptive.check as rc

    layers = [Layer(3, padding=1), Layer(3, 2, 1), Layer(3, padding=2, dilation=2)]
    whole = graph_operator(layers, 24, counts=True)
    monkeypatch.setattr(rc, "CHUNK_CELLS", 64)
    monkeypatch.setattr(rc, "CHUNK_PAIRS", 100)
    chunked = graph_operator(layers, 24, counts=True)
    assert np.array_equal(whole.indptr, chunked.indptr) and np.array_equal(whole.indices, chunked.indices)
    assert np.array_equal(whole.data, chunked.data)


def test_a_wrong_field_is_caught():
    layers = [Layer(3, padding=1), Layer(2, 2, kind="maxpool"), Layer(3)]
    good = receptive_field(layers, input_size=16)
    wrong_size = receptive_field([Layer(3, padding=1), Layer(2, 2, kind="maxpool"), Layer(2)], input_size=16)
    check = check_receptive_field(layers, 16, claimed=wrong_size)
    assert not check and check.mismatch is not None and "outside its box" in check.mismatch
    wrong_padding = receptive_field([Layer(3), Layer(2, 2, kind="maxpool"), Layer(3)], input_size=18)
    check = check_receptive_field(good, claimed=wrong_padding)
    # true padding 1: output 1 reads rows 1..8; the claimed padding 0 puts its box at 2..9
    assert not check.holds and check.mismatch == "output (1, 0) reads input (1, 0), outside its box 2..9 on axis 0"
    assert isinstance(check, FieldCheck) and check.to_dict()["holds"] is False


def test_prediction_and_product_differ_when_the_layers_differ():
    """The exact-set comparison is not vacuous: different stacks give different patterns."""
    a = predicted_pattern([Layer(3, dilation=2)], 9)
    b = graph_operator([Layer(5)], 9)
    assert a.shape == b.shape and not np.array_equal(a.keys(), b.keys())


def test_check_refuses_what_it_cannot_do():
    with pytest.raises(SpecError, match=r"^input_size is required for the 𝒲-product check"):
        check_receptive_field([Layer(3)])
    with pytest.raises(SpecError, match=r"^the 𝒲-product check covers 1-D and 2-D stacks, got 3 spatial axes$"):
        check_receptive_field([Layer((3, 3, 3))], (5, 5, 5))
    with pytest.raises(SpecError, match=r"^path counts need linear layers"):
        graph_operator([Layer(2, kind="maxpool")], 4, counts=True)
    import symconv.receptive.check as rc

    with pytest.raises(TooLargeError, match=r"^the 𝒲 product would hold up to"):
        rc.MAX_CHECK_NNZ, old = 10, rc.MAX_CHECK_NNZ
        try:
            check_receptive_field([Layer(3)], 8)
        finally:
            rc.MAX_CHECK_NNZ = old


layer_strategy = st.builds(
    lambda kind, k, s, p, d: Layer(k, s, min(p, k // 2) if kind != "conv" else p, 1 if kind == "avgpool" else d, kind),
    st.sampled_from(("conv", "conv", "maxpool", "avgpool")), st.integers(1, 4), st.integers(1, 3),
    st.integers(0, 2), st.integers(1, 3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(layer_strategy, min_size=1, max_size=4), st.integers(8, 20), st.integers(1, 20), st.booleans())
def test_random_stacks_and_residuals_agree_with_W_products(stack, height, width, residual):
    layers: list = stack
    if residual and all(x.kind == "conv" and x.axes(2)[0].stride == 1 for x in stack):
        # a residual block is valid only when the body keeps the size; 'same' convolutions do
        layers = [Branches(([Layer(x.kernel_size, padding="same", dilation=x.dilation) for x in stack], []))]
    try:
        rf = receptive_field(layers, input_size=(height, width))
    except SpecError:
        return
    check = check_receptive_field(rf)
    assert check.mismatch is None, check.mismatch
    _assert_pinned_unless_one_output(check)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_one_d_stacks(n):
    layers = [Layer((3,), stride=(2,), padding=(1,)), Layer((2,), dilation=(3,)), Layer((2,), kind="maxpool")][:n]
    rf = receptive_field(layers, input_size=30)
    assert rf.ndim == 1
    assert check_receptive_field(rf).holds


@pytest.mark.parametrize("stack", GRID[::4], ids=[" ".join(x.describe() for x in g) for g in GRID[::4]])
def test_sympy_closed_forms_agree_with_W_products(stack):
    """The derived closed forms (Sum/Product, evaluated per axis), put under test directly against the product.

    On 17×15 some stacks have one output along an axis (their stride is then undetermined there) or no
    interior output; a 61×61 input pins every quantity, so each closed form is tested on at least one input.
    """
    import dataclasses

    from symconv.receptive.forms import receptive_forms

    per_axis = [receptive_forms().evaluate([(op.kernel, op.stride, op.before, op.dilation) for op in
                                            (layer.axes(2)[a] for layer in stack)]) for a in range(2)]
    pinned = 0
    for size in ((17, 15), (61, 61)):
        try:
            rf = receptive_field(stack, input_size=size)
        except SpecError:
            continue
        claimed = dataclasses.replace(rf, size=tuple(v[0] for v in per_axis), stride=tuple(v[1] for v in per_axis),
                                      padding=tuple(v[2] for v in per_axis))
        check = check_receptive_field(rf, claimed=claimed)
        assert check.mismatch is None, check.mismatch
        _assert_pinned_unless_one_output(check)
        pinned += check.holds
    assert pinned >= 1


# ------------------------------------------------------------------------- soundness: a wrong claim never holds
def _mutations(rf, a: int) -> list[tuple[str, object]]:
    """The claim with one quantity of axis ``a`` off: r ± 1, S ± 1, S × 2, P ± 1 (the impossible r = 0, S = 0 left out)."""
    import dataclasses

    out = []
    for name, field in (("size", "size"), ("stride", "stride"), ("padding", "padding")):
        value = getattr(rf, field)[a]
        changes = {value - 1, value + 1} | ({2 * value} if name == "stride" else set())
        for wrong in sorted(changes):
            if wrong < (0 if name == "padding" else 1):
                continue
            values = list(getattr(rf, field))
            values[a] = wrong
            out.append((name, dataclasses.replace(rf, **{field: tuple(values)})))
    return out


MUTATED = GRID[::2] + [DAGS[name] for name in DAGS]


@pytest.mark.parametrize("stack", MUTATED, ids=[f"stack{i}" for i in range(len(MUTATED))])
def test_every_perturbed_size_stride_or_padding_is_refuted(stack):
    """r ± 1, S ± 1, S × 2, P ± 1 on either axis: DISAGREES, or UNDETERMINED only for a stride no data can pin."""
    for size in ((17, 15), (9, 1)):
        try:
            rf = receptive_field(stack, input_size=size)
        except SpecError:
            continue
        for a in range(2):
            for name, claimed in _mutations(rf, a):
                check = check_receptive_field(rf, claimed=claimed)
                assert not check.holds, (name, a, claimed)
                can_be_undetermined = name == "stride" and rf.output_size[a] == 1
                assert check.status == "DISAGREES" or (can_be_undetermined and check.status == "UNDETERMINED"), (name, a)


def test_no_wrong_claim_passes_on_small_one_layer_stacks():
    """Brute force: 1-D conv/pool layers k ≤ 3, s ≤ 3, p ≤ 2, d ≤ 2 on inputs 1…6; every claim near the truth.

    Only the true (r, S, P) may hold, and it holds exactly when there are two outputs (else its stride is undetermined).
    """
    import dataclasses

    checked = refuted = 0
    for kind, k, s, p, d, n in itertools.product(("conv", "maxpool", "avgpool"), (1, 2, 3), (1, 2, 3), (0, 1, 2), (1, 2),
                                                 range(1, 7)):
        if (kind == "avgpool" and d != 1) or (kind != "conv" and 2 * p > k) or (kind != "conv" and n > 4):
            continue
        try:
            rf = receptive_field([Layer((k,), (s,), (p,), (d,), kind)], input_size=n)
        except SpecError:
            continue
        (r,), (S,), (P,) = rf.size, rf.stride, rf.padding
        for claim in itertools.product(range(max(1, r - 1), r + 2), sorted({max(1, S - 1), S, S + 1, 2 * S}),
                                       range(P - 1, P + 2)):
            check = check_receptive_field(rf, claimed=dataclasses.replace(rf, size=claim[:1], stride=claim[1:2],
                                                                           padding=claim[2:]))
            checked += 1
            if claim == (r, S, P):
                assert check.mismatch is None and check.holds == (rf.output_size[0] > 1), (kind, k, s, p, d, n)
            else:
                assert not check.holds, (kind, k, s, p, d, n, claim)
                refuted += check.status == "DISAGREES"
    assert checked > 5000 and refuted > 0.9 * checked


def test_the_reviewers_counterexamples_are_refuted():
    import dataclasses

    rf = receptive_field([Layer(3)], (4, 4))  # true r = 3, P = 0; no output has its claimed 5×5 box inside
    check = check_receptive_field([Layer(3)], (4, 4), claimed=dataclasses.replace(rf, size=(5, 5), padding=(1, 1)))
    assert check.status == "DISAGREES" and check.mismatch == (
        "axis 0: output 0 spans 0..2 in the unclipped product (padding cells counted), the claimed size 5, stride 1, "
        "padding 1 give -1..3")
    rf = receptive_field([Layer(2, stride=2)], (3, 3))  # one output per axis: no stride can be read off
    check = check_receptive_field([Layer(2, stride=2)], (3, 3), claimed=dataclasses.replace(rf, stride=(4, 4)))
    assert not check.holds and check.status == "UNDETERMINED" and check.mismatch is None
    assert check.to_dict()["undetermined"] == ["the stride on axis 0 (one output along it: any stride fits)",
                                               "the stride on axis 1 (one output along it: any stride fits)"]
    assert "UNDETERMINED" in check.describe() and "the data cannot pin it" in check.describe()
    # a field passed as the layers is a claim too, not data
    assert check_receptive_field(dataclasses.replace(receptive_field([Layer(3)], 6), padding=(1, 1))).status == "DISAGREES"


def test_an_end_inside_the_input_can_be_clipped():
    """Why the claim is compared with the unclipped product and not with the clipped box: output 1 of this stack
    reads inputs 0..3 only (the pool's map has 2 cells, so the conv's third tap is padding), yet its box is 0..5 and
    the input is 0..4 — the true field's box clipped to the input (0..4) is not the support (0..3)."""
    stack = [Layer((2,), stride=(2,)), Layer((3,), padding=(1,))]
    rf = receptive_field(stack, input_size=5)
    product = graph_operator(rf)
    assert product.indices[product.indptr[1]:product.indptr[2]].tolist() == [0, 1, 2, 3]
    boxes = unclipped_boxes(rf)[0]
    assert (boxes.starts, boxes.ends) == ((-2, 0), (3, 5)) == tuple(tuple(j * 2 - 2 + e for j in (0, 1)) for e in (0, 5))
    assert check_receptive_field(rf).holds


ENLARGED = [(stack, (17, 15)) for stack in GRID[::3]] + [(stack, (16, 14)) for stack in DAGS.values()]


@pytest.mark.parametrize(("stack", "size"), ENLARGED, ids=[f"stack{i}" for i in range(len(ENLARGED))])
def test_unclipped_boxes_equal_the_W_product_on_an_enlarged_input(stack, size):
    """The unclipped product (padding cells kept) against the ordinary 𝒲 product on an input enlarged by E = c·S cells
    before and F after (past every box): output j + c reads exactly its box shifted by E, as no path meets padding any more."""
    rf = receptive_field(stack, input_size=size)
    shift = tuple(-(-p // s) + 1 for p, s in zip(rf.padding, rf.stride))  # c > P / S
    before = tuple(c * s for c, s in zip(shift, rf.stride))
    after = tuple(max(0, (m - 1) * s - p + r - n) + s  # past the last box's end
                  for m, s, p, r, n in zip(rf.output_size, rf.stride, rf.padding, rf.size, rf.input_size))
    big = receptive_field(stack, input_size=tuple(n + e + f for n, e, f in zip(rf.input_size, before, after)))
    product = graph_operator(big)
    boxes = unclipped_boxes(rf)
    for j in np.ndindex(*rf.output_size):
        row = np.ravel_multi_index(tuple(v + c for v, c in zip(j, shift)), big.output_size)
        coords = np.unravel_index(product.indices[product.indptr[row]:product.indptr[row + 1]], big.input_size)
        for a in range(2):
            span = (int(coords[a].min()) - before[a], int(coords[a].max()) - before[a])
            assert span == (boxes[a].starts[j[a]], boxes[a].ends[j[a]]), (j, a)
