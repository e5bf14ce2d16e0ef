"""Receptive fields against the product of the layers' 𝒲 matrices, on a grid of stacks and DAGs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symconv import SpecError, TooLargeError
from symconv.layers import Branches, Layer
from symconv.receptive import receptive_field
from symconv.receptive_check import (
    FieldCheck,
    _multiply,
    check_receptive_field,
    graph_operator,
    layer_operator,
    predicted_pattern,
)


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
    assert check.holds, check.mismatch
    assert check.outputs == int(np.prod(rf.output_size))


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
    import symconv.receptive_check as rc

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
    import symconv.receptive_check as rc

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
    assert check.holds, check.mismatch


@pytest.mark.parametrize("n", [1, 2, 3])
def test_one_d_stacks(n):
    layers = [Layer((3,), stride=(2,), padding=(1,)), Layer((2,), dilation=(3,)), Layer((2,), kind="maxpool")][:n]
    rf = receptive_field(layers, input_size=30)
    assert rf.ndim == 1
    assert check_receptive_field(rf).holds


@pytest.mark.parametrize("stack", GRID[::4], ids=[" ".join(x.describe() for x in g) for g in GRID[::4]])
def test_sympy_closed_forms_agree_with_W_products(stack):
    """The derived closed forms (Sum/Product, evaluated per axis), put under test directly against the product."""
    import dataclasses

    from symconv.receptive_forms import receptive_forms

    try:
        rf = receptive_field(stack, input_size=(17, 15))
    except SpecError:
        pytest.skip("the stack does not fit the input")
    per_axis = [receptive_forms().evaluate([(op.kernel, op.stride, op.before, op.dilation) for op in
                                            (layer.axes(2)[a] for layer in stack)]) for a in range(2)]
    claimed = dataclasses.replace(rf, size=tuple(v[0] for v in per_axis), stride=tuple(v[1] for v in per_axis),
                                  padding=tuple(v[2] for v in per_axis))
    check = check_receptive_field(rf, claimed=claimed)
    assert check.holds, check.mismatch
