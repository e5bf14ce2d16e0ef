"""𝒲 evaluated with random integer weights against code nobody here wrote: PyTorch and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import ConvSpec, SpecError, bias_vector, direct, matrix, verify
from tests.cases import IDS, SPECS
from tests.numeric import evaluate_matrix, random_values, substitution


def _torch_conv(spec: ConvSpec, values: dict[str, np.ndarray]) -> np.ndarray:
    bias = torch.from_numpy(values["bias"]) if spec.bias == "shared" else None
    y = torch.nn.functional.conv2d(
        torch.from_numpy(values["x"])[None],
        torch.from_numpy(values["weight"]),
        bias=bias,
        stride=spec.stride,
        padding=spec.padding,
        dilation=spec.dilation,
        groups=spec.groups,
    )[0].numpy()
    if spec.bias == "per_location":
        y = y + values["bias"]
    return y


def _matrix_form(spec: ConvSpec, values: dict[str, np.ndarray], order: str = "channel_major") -> np.ndarray:
    subs = substitution(spec, values)
    W = evaluate_matrix(matrix(spec, order), subs)
    b = evaluate_matrix(bias_vector(spec, order), subs)[:, 0]
    return W @ values["x"].reshape(-1) + b


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_matrix_matches_torch_conv2d(spec, rng):
    values = random_values(spec, rng)
    expected = _torch_conv(spec, values)
    assert np.array_equal(_matrix_form(spec, values), expected.reshape(-1))
    # the seed order is the note's location-major stacking of the same numbers
    seed = _matrix_form(spec, values, "seed").reshape(*spec.output_size, spec.out_channels)
    assert np.array_equal(np.moveaxis(seed, -1, 0), expected)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_direct_matches_torch_conv2d(spec, rng):
    values = random_values(spec, rng)
    subs = substitution(spec, values)
    y = np.array([[[float(e.xreplace(subs)) for e in row] for row in ch] for ch in direct(spec).tolist()])
    assert np.array_equal(y, _torch_conv(spec, values))


STRIDE1_NO_PADDING = [s for s in SPECS if s.stride == (1, 1) and s.padding_before == (0, 0)
                      and s.padding_after == (0, 0) and s.dilation == (1, 1) and s.groups == 1]


@pytest.mark.parametrize("spec", STRIDE1_NO_PADDING, ids=[s.describe()[:60] for s in STRIDE1_NO_PADDING])
def test_matrix_matches_scipy_correlate(spec, rng):
    """scipy.signal.correlate over (channel, row, col) in 'valid' mode is the note's stride-1 sum."""
    values = random_values(spec, rng)
    y = np.stack([scipy.signal.correlate(values["x"], values["weight"][i], mode="valid")[0]
                  for i in range(spec.out_channels)])
    bias = values["bias"]
    y = y + (bias[:, None, None] if spec.bias == "shared" else bias if spec.bias == "per_location" else 0)
    assert np.array_equal(_matrix_form(spec, values), y.reshape(-1))


@st.composite
def small_specs(draw):
    groups = draw(st.integers(1, 2))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    size = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.sampled_from(["same", "valid"])))
    bias = draw(st.sampled_from(["shared", "per_location", "none"]))
    try:
        return ConvSpec(c_in, c_out, size, kernel, stride, padding, dilation, groups, bias)
    except SpecError:
        return draw(st.nothing())


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=60, deadline=None)
@given(spec=small_specs(), seed=st.integers(0, 2**32 - 1))
def test_property_engines_and_torch_agree(spec, seed):
    assert verify(spec, method="sympy").holds
    assert verify(spec, method="index").holds
    values = random_values(spec, np.random.default_rng(seed))
    assert np.array_equal(_matrix_form(spec, values), _torch_conv(spec, values).reshape(-1))
