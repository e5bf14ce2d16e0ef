"""forms.assembly: 𝒲 from per-axis parts, at 1-D and 3-D against PyTorch, at 2-D against the note's blocks.

The 1-D and 3-D specs here run through the assembly, the index sum and both engines unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import ConvSpec, SpecError, blocks, matrix, matrix_as_written, verify
from symconv.forms.assembly import MatrixTerms, assembled_matrix, assembly_terms
from symconv.forms.blocks import block_terms
from symconv.prove.index_engine import prove_index
from tests.cases import IDS, SPECS
from tests.numeric import evaluate_matrix, random_values, substitution


def nd_spec(*args, **kwargs) -> ConvSpec:
    """A ConvSpec of any number of spatial axes."""
    return ConvSpec(*args, **kwargs)


ND_CASES: dict[str, dict] = {
    "1d-plain": dict(in_channels=1, out_channels=2, input_size=(6,), kernel_size=(3,)),
    "1d-kernel-1": dict(in_channels=3, out_channels=2, input_size=(4,), kernel_size=(1,)),
    "1d-stride-padding-dilation": dict(in_channels=2, out_channels=2, input_size=(9,), kernel_size=(3,),
                                       stride=(2,), padding=(2,), dilation=(2,)),
    "1d-same-even": dict(in_channels=1, out_channels=1, input_size=(5,), kernel_size=(4,), padding="same"),
    "1d-groups-per-location": dict(in_channels=4, out_channels=6, input_size=(7,), kernel_size=(2,), groups=2,
                                   bias="per_location"),
    "1d-kernel-equals-input": dict(in_channels=2, out_channels=1, input_size=(4,), kernel_size=(4,)),
    "1d-padding-exceeds-kernel": dict(in_channels=1, out_channels=1, input_size=(2,), kernel_size=(2,), padding=(3,)),
    "3d-plain": dict(in_channels=1, out_channels=2, input_size=(3, 4, 3), kernel_size=(2, 2, 2)),
    "3d-everything": dict(in_channels=4, out_channels=2, input_size=(5, 4, 6), kernel_size=(3, 2, 2),
                          stride=(2, 1, 2), padding=(1, 0, 2), dilation=(1, 2, 1), groups=2, bias="per_location"),
    "3d-same-dilated": dict(in_channels=2, out_channels=2, input_size=(3, 3, 4), kernel_size=(3, 1, 2),
                            padding="same", dilation=(1, 1, 2)),
    "3d-valid-depthwise": dict(in_channels=2, out_channels=4, input_size=(4, 3, 3), kernel_size=(2, 3, 1), groups=2,
                               padding="valid", bias="none"),
    "3d-unit-axes": dict(in_channels=1, out_channels=1, input_size=(1, 5, 1), kernel_size=(1, 3, 1)),
}
ND_IDS = list(ND_CASES)
ND_SPECS = [nd_spec(**kwargs) for kwargs in ND_CASES.values()]


def torch_conv_without_bias(spec: ConvSpec, values: dict[str, np.ndarray]) -> np.ndarray:
    conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}[spec.ndim]
    y = conv(
        torch.from_numpy(values["x"])[None], torch.from_numpy(values["weight"]), bias=None,
        stride=spec.stride, padding=spec.padding, dilation=spec.dilation, groups=spec.groups,
    )
    return y[0].numpy()


def assert_matrix_is_torch(spec: ConvSpec, rng: np.random.Generator) -> None:
    """𝒲x with integer ω and x equals PyTorch's convolution, in both row orders."""
    values = random_values(spec, rng)
    subs = substitution(spec, values)
    expected = torch_conv_without_bias(spec, values)
    assert expected.shape == spec.output_shape
    cm = evaluate_matrix(assembled_matrix(spec, "channel_major"), subs) @ values["x"].reshape(-1)
    assert np.array_equal(cm, expected.reshape(-1))
    seed = evaluate_matrix(assembled_matrix(spec, "seed"), subs) @ values["x"].reshape(-1)
    assert np.array_equal(np.moveaxis(seed.reshape(*spec.output_size, spec.out_channels), -1, 0), expected)


# --------------------------------------------------------------------------- 1-D and 3-D: against PyTorch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("spec", ND_SPECS, ids=ND_IDS)
def test_assembled_matrix_is_torch_conv1d_and_conv3d(spec, rng):
    assert spec.ndim in (1, 3)
    assert_matrix_is_torch(spec, rng)


@st.composite
def nd_specs(draw):
    ndim = draw(st.sampled_from([1, 3]))
    groups = draw(st.integers(1, 2))
    axis = st.tuples(*[st.integers(1, 5)] * ndim)
    kernel = st.tuples(*[st.integers(1, 3)] * ndim)
    small = st.tuples(*[st.integers(1, 2)] * ndim)
    padding = draw(st.one_of(st.tuples(*[st.integers(0, 2)] * ndim), st.sampled_from(["same", "valid"])))
    try:
        return nd_spec(groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), draw(axis), draw(kernel),
                       draw(small), padding, draw(small), groups, draw(st.sampled_from(["shared", "per_location", "none"])))
    except SpecError:
        return draw(st.nothing())


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=40, deadline=None)
@given(spec=nd_specs(), seed=st.integers(0, 2**32 - 1))
def test_property_assembly_is_torch_and_engines_prove_it(spec, seed):
    assert_matrix_is_torch(spec, np.random.default_rng(seed))
    assert verify(spec, method="index").holds
    assert verify(spec, method="sympy").holds


@pytest.mark.parametrize("spec", ND_SPECS, ids=ND_IDS)
def test_engines_prove_the_index_sum_equals_the_assembly(spec):
    """The index sum (core.taps.spatial_taps) and the assembly (per-axis parts) are independent constructions."""
    for method in ("sympy", "index"):
        verdict = verify(spec, method=method)
        assert verdict.holds, verdict.describe()
    verdict = prove_index(spec, chunk_terms=3)  # chunks split positions and channels
    assert verdict.holds and verdict.terms == spec.n_terms + spec.n_bias_terms
    assert verdict.details["chunks"] > 1 or spec.d_y == 1


def test_index_engine_catches_one_moved_entry_of_a_3d_assembly():
    spec = ND_SPECS[ND_IDS.index("3d-everything")]
    position, channel = 17, 1  # output (1, 1, 2): every axis has taps inside

    def corrupted(s, positions, channels) -> MatrixTerms:
        t = assembly_terms(s, positions, channels)
        keys = t.keys.copy()
        where = np.flatnonzero(positions == position)
        if where.size and channels.start <= channel < channels.stop:
            valid = np.broadcast_to(t.valid, t.keys.shape)[where[0], channel - channels.start]
            first = tuple(int(v) for v in np.argwhere(valid)[0])
            keys[(where[0], channel - channels.start, *first)] += int(np.prod(spec.weight_shape))  # one column on
        return MatrixTerms(keys, t.valid)

    verdict = prove_index(spec, chunk_terms=10, block_terms_fn=corrupted)
    assert not verdict.holds and verdict.mismatched_rows == 1
    assert verdict.mismatch.output == (channel, *np.unravel_index(position, spec.output_size))
    assert len(verdict.mismatch.missing) == 1 and len(verdict.mismatch.extra) == 1


def test_a_supplied_3d_matrix_is_checked_entry_by_entry():
    spec = ND_SPECS[ND_IDS.index("3d-plain")]
    W = assembled_matrix(spec).as_mutable()
    assert verify(spec, method="index", matrix=W).holds
    r, c = next(iter(W.todok()))
    W[r, c] = 2 * W[r, c]
    for method in ("index", "sympy"):
        verdict = verify(spec, method=method, matrix=W)
        assert not verdict.holds and verdict.mismatch.row == r


@pytest.mark.parametrize("spec", ND_SPECS + SPECS, ids=ND_IDS + IDS)
def test_assembly_terms_are_in_canonical_order(spec):
    """Within each row keys strictly increase: what lets the index engine compare without sorting."""
    terms = assembly_terms(spec)
    assert terms.keys.shape == (len(np.arange(np.prod(spec.output_size))), spec.out_channels, spec.in_per_group,
                                *spec.kernel_size)
    keys = terms.keys.reshape(*terms.keys.shape[:2], -1)
    valid = np.broadcast_to(terms.valid, terms.keys.shape).reshape(keys.shape)
    assert int(valid.sum()) == spec.n_terms
    for p in range(keys.shape[0]):
        for i in range(keys.shape[1]):
            assert np.all(np.diff(keys[p, i][valid[p, i]]) > 0)


# --------------------------------------------------------------------------- 2-D: the note's blocks, exactly
@pytest.mark.parametrize("order", ["channel_major", "seed"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_assembly_is_the_block_construction_in_2d(spec, order):
    assert assembled_matrix(spec, order) == matrix(spec, order)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_assembly_terms_are_the_block_terms_in_2d(spec):
    """Same terms in the same order, also for a run of positions and a slice of channels (the engine's chunks)."""
    positions = np.arange(np.prod(spec.output_size))[1::2]
    channels = range(spec.out_channels // 2, spec.out_channels)
    for args in ((), (positions, channels)):
        ours, notes = assembly_terms(spec, *args), block_terms(spec, *args)
        assert ours.keys.shape == notes.keys.shape
        ours_valid = np.broadcast_to(ours.valid, ours.keys.shape)
        assert np.array_equal(ours_valid, np.broadcast_to(notes.valid, notes.keys.shape))
        assert np.array_equal(ours.keys[ours_valid], notes.keys[ours_valid])


def test_seed_and_channel_major_differ_by_the_row_permutation():
    spec = ND_SPECS[ND_IDS.index("1d-groups-per-location")]
    cm, seed = assembled_matrix(spec, "channel_major"), assembled_matrix(spec, "seed")
    positions = int(np.prod(spec.output_size))
    for i in range(spec.out_channels):
        for p in range(positions):
            assert seed.row(p * spec.out_channels + i) == cm.row(i * positions + p)


# --------------------------------------------------------------------------- what stays 2-D
@pytest.mark.parametrize("build", [blocks, block_terms, matrix, matrix_as_written], ids=lambda f: f.__name__)
def test_the_note_construction_refuses_other_ndim_in_one_line(build):
    spec = ND_SPECS[ND_IDS.index("3d-plain")]
    with pytest.raises(SpecError, match=r"^the note's block construction needs 2 spatial axes, "
                                        r"got 3 \(input_size=\(3, 4, 3\)\)$"):
        build(spec)


def test_assembled_matrix_refuses_a_bad_order():
    with pytest.raises(SpecError, match=r"^order must be 'channel_major' or 'seed', got 'rows'$"):
        assembled_matrix(SPECS[0], "rows")


def test_assembled_1d_matrix_is_the_banded_toeplitz_by_hand():
    """A 1-D, 1-channel, stride-1 layer: row o holds ω_0 … ω_{k−1} from column o − p on (written out by hand)."""
    spec = nd_spec(1, 1, input_size=(5,), kernel_size=(3,), padding=(1,))
    w0, w1, w2 = (sympy.Symbol(f"omega_0,0,{t}") for t in range(3))
    expected = sympy.Matrix([
        [w1, w2, 0, 0, 0],
        [w0, w1, w2, 0, 0],
        [0, w0, w1, w2, 0],
        [0, 0, w0, w1, w2],
        [0, 0, 0, w0, w1],
    ])
    assert assembled_matrix(spec) == expected
