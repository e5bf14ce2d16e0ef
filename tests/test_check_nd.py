"""verify_implementation for Conv1d, Conv3d and beyond: PyTorch's conv1d/conv3d and an N-D NumPy loop hold on
random layers; buggy 1-D and 3-D code fails with the bug named, axis and all; layouts, signatures and the CLI.

PyTorch is the independent reference (nobody here wrote it); the NumPy layer of tests/buggy_convs.py shares no code
with symconv and runs on SymPy symbols too, so it is proved exactly where PyTorch can only be sampled.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from symconv import ConvSpec
from symconv.check.implementation import verify_implementation
from symconv.cli import main
from symconv.errors import SpecError
from tests.buggy_convs import BUGS_ND, LayerND, correct_channels_last

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")


# ------------------------------------------------------------------------------------------ random layers

def _random_spec(rng: np.random.Generator, ndim: int) -> ConvSpec:
    """A random layer with ``ndim`` spatial axes that fits (stride, padding incl. 'same', dilation, groups, bias)."""
    big = 14 if ndim == 1 else 5
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        c1, c2 = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        size = tuple(int(v) for v in rng.integers(1, big + 1, ndim))
        kernel = tuple(int(v) for v in rng.integers(1, 4, ndim))
        stride = tuple(int(v) for v in rng.integers(1, 3 if ndim == 3 else 4, ndim))
        dilation = tuple(int(v) for v in rng.integers(1, 3, ndim))
        padding = "same" if rng.random() < 0.15 else tuple(int(v) for v in rng.integers(0, 3, ndim))
        if padding == "same":
            stride = (1,) * ndim
        bias = str(rng.choice(["shared", "shared", "none", "per_location"]))
        try:
            return ConvSpec(c1, c2, size, kernel, stride, padding, dilation, groups, bias)
        except SpecError:
            continue  # the kernel does not fit: draw again


def _random_specs(ndim: int, count: int, seed: int) -> list[ConvSpec]:
    rng = np.random.default_rng(seed)
    return [_random_spec(rng, ndim) for _ in range(count)]


SPECS_1D = _random_specs(1, 60, 20261206)
SPECS_3D = _random_specs(3, 60, 20261207)
RANDOM = [(f"{s.ndim}d-{n:02d}", s, n) for specs in (SPECS_1D, SPECS_3D) for n, s in enumerate(specs)]


def torch_conv(spec: ConvSpec):
    """F.conv1d / F.conv3d with the spec's parameters; a per-location bias (not a PyTorch notion) added after."""
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[spec.ndim]
    params = {"stride": spec.stride, "padding": spec.padding, "dilation": spec.dilation, "groups": spec.groups}
    if spec.bias == "per_location":
        return lambda x, w, b: conv(x, w, None, **params) + b
    return lambda x, w, b: conv(x, w, b, **params)


def test_the_random_layers_cover_every_parameter():
    for specs in (SPECS_1D, SPECS_3D):
        assert any(s.groups > 1 for s in specs) and any(max(s.stride) > 1 for s in specs)
        assert any(max(s.dilation) > 1 for s in specs) and any(s.padding == "same" for s in specs)
        assert any(isinstance(s.padding, tuple) and max(s.padding) > 0 for s in specs)
        assert {s.bias for s in specs} == {"shared", "none", "per_location"}
    assert len(RANDOM) >= 100


@pytest.mark.parametrize(("spec", "n"), [(s, n) for _, s, n in RANDOM], ids=[r[0] for r in RANDOM])
def test_torch_conv1d_and_conv3d_agree(spec, n):
    method = ("sparse", "onehot", "auto")[n % 3]
    dtype = "float32" if n % 7 == 3 else "float64"
    result = verify_implementation(torch_conv(spec), spec, method=method, dtype=dtype, backend="torch")
    assert result.holds, result.describe()
    assert result.status == "AGREES (sampled, exact values)" and not result.proved
    assert result.layout == {1: "NCL", 3: "NCDHW"}[spec.ndim] and result.output_shape == spec.output_shape


@pytest.mark.parametrize(("spec", "n"), [(s, n) for _, s, n in RANDOM], ids=[r[0] for r in RANDOM])
def test_a_numpy_loop_is_proved_or_agrees(spec, n):
    small = spec.n_terms + spec.n_bias_terms <= 1500
    result = verify_implementation(LayerND(spec), spec, method="symbolic" if small else "sparse")
    assert result.holds, result.describe()
    assert result.proved == small


# ------------------------------------------------------------------------------------------ bugs, named per axis

@pytest.mark.parametrize("bug", BUGS_ND, ids=[b.name for b in BUGS_ND])
def test_a_buggy_1d_or_3d_layer_fails_with_its_bug_named(bug):
    result = verify_implementation(bug.make(bug.spec), bug.spec, layout=bug.layout)
    assert result.status == "FAILS"
    assert bug.code in result.codes, result.describe()
    assert "wrong-layout" not in result.codes  # fn is wrong in every layout, not only in the one given
    named = [f for f in result.diagnosis if f.code == bug.code]
    assert named[0].exact and any(bug.words in f.message for f in named), [f.message for f in named]


@pytest.mark.parametrize("bug", [b for b in BUGS_ND if b.name.startswith("3d")], ids=lambda b: b.name)
def test_probing_names_the_same_3d_bugs(bug):
    result = verify_implementation(bug.make(bug.spec), bug.spec, layout=bug.layout, method="sparse")
    assert result.status == "FAILS" and result.method in ("sparse", "onehot")
    assert bug.code in result.codes and any(bug.words in f.message for f in result.diagnosis)


@pytest.mark.parametrize("bug", BUGS_ND, ids=[b.name for b in BUGS_ND])
def test_the_correct_layer_on_the_same_spec_is_proved(bug):
    layer = correct_channels_last(bug.spec) if bug.layout != "auto" else LayerND(bug.spec)
    result = verify_implementation(layer, bug.spec, layout=bug.layout)
    assert result.proved and result.diagnosis == ()


@pytest.mark.parametrize("method", ["symbolic", "sparse"])
def test_a_bug_plus_one_wrong_term_is_never_an_exact_match(method):
    """The kernel flipped along the depth, and one product more at the last output: the closest hypothesis is
    reported as not exact, never as the bug."""
    from tests.buggy_convs import flipped_nd

    spec = ConvSpec(2, 2, input_size=(3, 3, 4), kernel_size=2)
    flipped = flipped_nd(spec, (0,))

    def fn(x, w, b):
        y = flipped(x, w, b)
        y[:, -1, -1, -1, -1] = y[:, -1, -1, -1, -1] + w[0, 0, 0, 0, 0] * x[:, 0, 0, 0, 0]
        return y
    result = verify_implementation(fn, spec, method=method)
    assert result.status == "FAILS" and result.codes == ("flipped-kernel",)
    assert not result.diagnosis[0].exact and "agrees on 384 of 385 products" in result.diagnosis[0].message


def test_torch_with_a_flipped_depth_axis_is_named():
    spec = ConvSpec(2, 3, input_size=(4, 5, 5), kernel_size=(3, 2, 2), padding=1)
    fn = torch_conv(spec)
    result = verify_implementation(lambda x, w, b: fn(x, w.flip(2), b), spec)
    assert result.codes == ("flipped-kernel",) and result.method in ("onehot", "sparse")
    assert result.diagnosis[0].message == "kernel flipped along the depth only (tap t read as k−1−t there)"


def test_a_swap_of_two_axes_needs_two_axes():
    """1-D has no transposed kernel or input; 3-D builds one per pair of equal axes and names them."""
    from symconv.check.hypotheses import same_shape_hypotheses, standard_reader

    one = ConvSpec(3, 3, input_size=(6,), kernel_size=3)
    codes = {h.code for h in same_shape_hypotheses(one, standard_reader(one))}
    assert "transposed-kernel" not in codes and "transposed-input" not in codes and "flipped-kernel" in codes
    three = ConvSpec(1, 1, input_size=(4, 5, 5), kernel_size=(2, 2, 3))
    texts = [h.text for h in same_shape_hypotheses(three, standard_reader(three)) if h.code.startswith("transposed")]
    assert texts == ["kernel axes depth and height transposed (the two kernel axes exchanged)",
                     "input axes height and width transposed (the two axes of x exchanged)"]


# ------------------------------------------------------------------------------------------ soundness in 1-D and 3-D

SOUND_1D = ConvSpec(2, 3, input_size=(7,), kernel_size=3, padding=1)
SOUND_3D = ConvSpec(2, 2, input_size=(3, 3, 4), kernel_size=(2, 2, 2), padding=(1, 0, 1))


def _corruptions(spec: ConvSpec):
    good = LayerND(spec)
    flip = (slice(None), slice(None), *[slice(None, None, -1)] * spec.ndim)

    def counter():
        calls = []

        def fn(x, w, b):
            calls.append(1)
            return good(x, w if len(calls) == 1 else w[flip], b)
        return fn

    def cache():
        store: dict = {}

        def fn(x, w, b):
            if x.shape not in store:
                store[x.shape] = good(x, w, b)
            return store[x.shape]
        return fn

    return {
        "second-call": (counter, "state-dependent"),
        "cache-keyed-by-shape": (cache, "state-dependent"),
        "second-sample-copied": (lambda: lambda x, w, b: np.concatenate([good(x[:1], w, b)] * x.shape[0]),
                                 "batch-dependent"),
        "samples-mixed-by-reshape": (lambda: lambda x, w, b: good(x.swapaxes(0, 1).reshape(x.shape), w, b),
                                     "batch-dependent"),
        "batch-mean": (lambda: lambda x, w, b: good(x.mean(axis=0, keepdims=True).repeat(x.shape[0], axis=0), w, b),
                       "batch-dependent"),
        "bias-dropped-on-numbers": (lambda: lambda x, w, b: good(x, w, b if x.dtype == object else 0 * b),
                                    "type-dependent"),
        "rounds-non-integer-values": (lambda: lambda x, w, b: good(x if x.dtype == object else np.round(x), w, b),
                                      "type-dependent"),
    }


CORRUPT = [(f"{spec.ndim}d-{name}", spec, name) for spec in (SOUND_1D, SOUND_3D) for name in _corruptions(spec)]


@pytest.mark.parametrize(("spec", "name"), [(s, n) for _, s, n in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_corrupted_code_is_never_proved(spec, name):
    make, code = _corruptions(spec)[name]
    result = verify_implementation(make(), spec)
    assert not result.holds and not result.proved and result.codes == (code,), result.describe()


@pytest.mark.parametrize("spec", [SOUND_1D, SOUND_3D], ids=["1d", "3d"])
def test_corrupted_code_is_right_on_one_symbolic_sample(spec):
    """The premise of the corruptions above: each computes the layer on the first call with one sample of symbols."""
    from symconv.check.form import expected_form
    from symconv.check.symbolic import parse_symbolic
    from symconv.core.symbols import bias_symbols, input_symbols, weight_symbols

    x = np.array(input_symbols(spec).tolist(), dtype=object)[None]
    w = np.array(weight_symbols(spec).tolist(), dtype=object)
    b = np.array(bias_symbols(spec).tolist(), dtype=object)
    for name, (make, _) in _corruptions(spec).items():
        assert parse_symbolic(spec, make()(x.copy(), w, b)[0]).form == expected_form(spec), name


def _wrong_at_the_last_output(spec: ConvSpec, what: str):
    """The right layer, except at the very last output (last channel, last position on every axis)."""
    good = LayerND(spec)
    last = (slice(None), -1, *[-1] * spec.ndim)
    first = (slice(None), 0, *[0] * spec.ndim)

    def fn(x, w, b):
        y = good(x, w, b)
        if what == "extra-product":  # one more product, ω[0, 0, 0…]·x[0, 0…], at the last output only
            y[last] = y[last] + w[(0, 0, *[0] * spec.ndim)] * x[first]
        elif what == "tap-dropped":  # the last tap of the last input channel left out there
            tap = (spec.out_channels - 1, spec.in_per_group - 1, *[k - 1 for k in spec.kernel_size])
            y[last] = y[last] - w[tap] * x[(slice(None), spec.in_channels - 1, *[-1] * spec.ndim)]
        else:  # the bias added twice there
            y[last] = y[last] + b[-1]
        return y
    return fn


ONE_OUTPUT = [(f"{s.ndim}d-{what}-{method}", s, what, method)
              for s in (ConvSpec(2, 3, input_size=(7,), kernel_size=3), ConvSpec(2, 2, input_size=(3, 3, 4), kernel_size=2))
              for what in ("extra-product", "tap-dropped", "bias-twice") for method in ("symbolic", "sparse", "onehot")]


@pytest.mark.parametrize(("spec", "what", "method"), [c[1:] for c in ONE_OUTPUT], ids=[c[0] for c in ONE_OUTPUT])
def test_code_wrong_at_one_corner_output_fails_with_that_output(spec, what, method):
    """Only the last output of the last axis is wrong: every method must read that far and name it."""
    result = verify_implementation(_wrong_at_the_last_output(spec, what), spec, method=method)
    assert result.status == "FAILS" and result.verdict.mismatched_rows == 1, result.describe()
    assert result.mismatches[0].output == (spec.out_channels - 1, *[o - 1 for o in spec.output_size])


# ------------------------------------------------------------------------------------------ layouts

def test_channels_last_layers_hold_in_1d_and_3d():
    one = ConvSpec(2, 3, input_size=(8,), kernel_size=3, stride=2, padding=1)
    assert verify_implementation(correct_channels_last(one), one, layout="NLC").proved
    three = ConvSpec(2, 2, input_size=(3, 4, 5), kernel_size=2, padding=(0, 1, 0), bias="per_location")
    result = verify_implementation(correct_channels_last(three), three, layout="NDHWC", method="sparse")
    assert result.holds and result.layout == "NDHWC"
    torch_last = torch_conv(one)
    result = verify_implementation(lambda x, w, b: torch_last(x.transpose(1, 2), w, b).transpose(1, 2), one,
                                   layout="NLC", backend="torch")
    assert result.holds and result.layout == "NLC"


def test_unbatched_layouts_are_found_or_named():
    spec = ConvSpec(2, 2, input_size=(3, 3, 3), kernel_size=2)
    layer = LayerND(spec)
    assert verify_implementation(lambda x, w, b: layer(x[None], w, b)[0], spec).layout == "CDHW"
    one = ConvSpec(1, 2, input_size=(6,), kernel_size=2)
    last = correct_channels_last(one)
    result = verify_implementation(lambda x, w, b: last(x[None], w, b)[0], one, layout="LC", method="onehot")
    assert result.holds and result.layout == "LC"


def test_tensorflow_weight_layouts():
    one = ConvSpec(2, 3, input_size=(7,), kernel_size=3)
    layer = LayerND(one)
    assert verify_implementation(lambda x, w, b: layer(x, w.transpose(2, 1, 0), b), one, weight_layout="LIO").proved
    three = ConvSpec(2, 2, input_size=(3, 4, 3), kernel_size=(2, 3, 2))
    layer3 = LayerND(three)
    result = verify_implementation(lambda x, w, b: layer3(x, w.transpose(4, 3, 0, 1, 2), b), three,
                                   weight_layout="DHWIO", method="sparse")
    assert result.holds


def test_more_than_three_axes_use_the_generic_names():
    spec = ConvSpec(1, 2, input_size=(3, 2, 3, 2), kernel_size=2)
    result = verify_implementation(LayerND(spec), spec)
    assert result.proved and result.layout == "NC..."
    assert verify_implementation(correct_channels_last(spec), spec, layout="N...C", method="onehot").holds
    flipped = verify_implementation(lambda x, w, b: LayerND(spec)(x, w[:, :, :, ::-1], b), spec)
    assert flipped.codes == ("flipped-kernel",) and "along the axis 1 only" in flipped.diagnosis[0].message


@pytest.mark.parametrize(("spec", "layout", "message"), [
    (ConvSpec(1, 1, input_size=(8,), kernel_size=3), "NCHW",
     "layout must be one of 'auto', 'NCL', 'CL', 'NLC', 'LC' for a 1-D layer, got 'NCHW'"),
    (ConvSpec(1, 1, input_size=(4, 4, 4), kernel_size=3), "NHWC",
     "layout must be one of 'auto', 'NCDHW', 'CDHW', 'NDHWC', 'DHWC' for a 3-D layer, got 'NHWC'"),
    (ConvSpec(1, 1, input_size=5, kernel_size=3), "NCL",
     "layout must be one of 'auto', 'NCHW', 'CHW', 'NHWC', 'HWC' for a 2-D layer, got 'NCL'"),
    (ConvSpec(1, 1, input_size=(3, 3, 3, 3), kernel_size=2), "NCDHW",
     "layout must be one of 'auto', 'NC...', 'C...', 'N...C', '...C' for a layer with 4 spatial axes, got 'NCDHW'"),
])
def test_a_layout_of_another_ndim_is_a_one_line_error(spec, layout, message):
    with pytest.raises(SpecError) as info:
        verify_implementation(LayerND(spec), spec, layout=layout)
    assert str(info.value) == message


def test_a_weight_layout_of_another_ndim_is_a_one_line_error():
    spec = ConvSpec(1, 1, input_size=(4, 4, 4), kernel_size=3)
    with pytest.raises(SpecError, match=r"^weight_layout must be one of 'auto', 'OIDHW', 'DHWIO' for a 3-D layer, "
                                        r"got 'HWIO'$"):
        verify_implementation(LayerND(spec), spec, weight_layout="HWIO")
    with pytest.raises(SpecError, match=r"^weight_layout must be one of 'auto', 'OIL', 'LIO' for a 1-D layer, got 'OIHW'$"):
        verify_implementation(LayerND(spec), ConvSpec(1, 1, input_size=(4,), kernel_size=3), weight_layout="OIHW")


def test_a_channels_last_fn_given_channels_first_arrays_gets_the_hint():
    spec = ConvSpec(2, 3, input_size=(3, 4, 5), kernel_size=2)
    result = verify_implementation(correct_channels_last(spec), spec, method="sparse")
    assert result.codes == ("raised",)
    assert result.diagnosis[0].message.endswith("fn runs on channels-last arrays (N, D, H, W, C): pass layout='NDHWC' "
                                                "(check-impl --layout NDHWC)")


@pytest.mark.parametrize(("spec", "layout", "fn", "other"), [
    (ConvSpec(4, 3, input_size=(4,), kernel_size=2), "auto", correct_channels_last, "NLC"),
    (ConvSpec(2, 2, input_size=(2, 2, 2), kernel_size=1), "auto", correct_channels_last, "NDHWC"),
    (ConvSpec(2, 3, input_size=(2,), kernel_size=1), "NLC", LayerND, "NCL"),
], ids=["1d-channels-last-given-NCL", "3d-channels-last-given-NCDHW", "1d-channels-first-given-NLC"])
def test_a_layout_mix_up_that_runs_is_named_with_the_layout_to_pass(spec, layout, fn, other):
    """Shapes where the other channel placement still runs (C = L): the form is wrong, the layout is the cause."""
    result = verify_implementation(fn(spec), spec, layout=layout)
    assert result.status == "FAILS" and result.codes[0] == "wrong-layout"
    assert result.diagnosis[0].message.endswith(f"pass layout='{other}' (check-impl --layout {other})")
    assert verify_implementation(fn(spec), spec, layout=other).proved


# ------------------------------------------------------------------------------------------ signatures, modules

def test_stride_pad_conventions_in_1d_and_3d():
    one = ConvSpec(2, 2, input_size=(9,), kernel_size=3, stride=2, padding=1)
    three = ConvSpec(1, 2, input_size=(4, 5, 6), kernel_size=2, stride=(1, 2, 3), padding=(1, 0, 1))
    for spec in (one, three):
        seen = []

        def fn(x, w, b, stride, pad, spec=spec, seen=seen):
            seen.append((stride, pad))
            return LayerND(spec)(x, w, b)
        assert verify_implementation(fn, spec).proved
        assert seen[0] == ((2, 1) if spec.ndim == 1 else ((1, 2, 3), (1, 0, 1)))


def test_cs231n_conv_param_in_1d():
    spec = ConvSpec(2, 2, input_size=(9,), kernel_size=3, stride=2, padding=1)
    seen = []

    def conv_forward_naive(x, w, b, conv_param):
        seen.append(dict(conv_param))
        return LayerND(spec)(x, w, b), (x, w, b, conv_param)
    result = verify_implementation(conv_forward_naive, spec)
    assert result.proved and seen[0] == {"stride": 2, "pad": 1}


def test_a_torch_conv3d_module():
    spec = ConvSpec(2, 4, input_size=(3, 4, 4), kernel_size=(1, 2, 3), padding=(0, 1, 1), groups=2)
    module = torch.nn.Conv3d(2, 4, (1, 2, 3), padding=(0, 1, 1), groups=2).double()
    result = verify_implementation(module, spec)
    assert result.holds and result.backend == "torch"


# ------------------------------------------------------------------------------------------ CLI

ONE = ["--in-channels", "2", "--out-channels", "3", "--input", "9", "--ndim", "1", "--kernel", "3"]
THREE = ["--in-channels", "2", "--out-channels", "2", "--input", "3x4x4", "--kernel", "2"]


def test_cli_check_impl_1d_and_3d(capsys):
    assert main(["check-impl", "tests.buggy_convs:good_conv_nd", *ONE]) == 0
    out = capsys.readouterr().out
    assert "as Conv1d 2→3, input 9, kernel 3" in out and ": HOLDS (exact)" in out and "layout NCL" in out
    assert main(["check-impl", "tests.buggy_convs:good_conv_nd", *THREE, "--method", "sparse"]) == 0
    out = capsys.readouterr().out
    assert "Conv3d 2→2, input 3×4×4" in out and "AGREES (sampled, exact values)" in out and "layout NCDHW" in out
    assert main(["check-impl", "torch.nn.functional:conv3d", *THREE, "--pass-params", "--stride", "1x2x1"]) == 0


def test_cli_check_impl_fails_with_the_axis_named(capsys):
    assert main(["check-impl", "tests.buggy_convs:flipped_conv_nd", *ONE]) == 1
    assert "flipped-kernel: kernel flipped — a true convolution (np.convolve)" in capsys.readouterr().out
    assert main(["check-impl", "tests.buggy_convs:flipped_conv_nd", *THREE, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "FAILS" and data["output_shape"] == [2, 2, 3, 3]
    assert data["diagnosis"][0]["message"].startswith("kernel flipped on every axis (depth, height and width)")


@pytest.mark.parametrize(("args", "message"), [
    ([*ONE, "--layout", "NCHW"], "layout must be one of 'auto', 'NCL', 'CL', 'NLC', 'LC' for a 1-D layer, got 'NCHW'"),
    ([*THREE, "--weight-layout", "OIL"], "weight_layout must be one of 'auto', 'OIDHW', 'DHWIO' for a 3-D layer, got 'OIL'"),
    ([*THREE, "--layout", "NCL"], "layout must be one of 'auto', 'NCDHW', 'CDHW', 'NDHWC', 'DHWC' for a 3-D layer, "
                                  "got 'NCL'"),
])
def test_cli_check_impl_wrong_layout_for_the_ndim_is_exit_2(capsys, args, message):
    assert main(["check-impl", "tests.buggy_convs:good_conv_nd", *args]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"symconv check-impl: error: {message}"]


# ------------------------------------------------------------------------------------------ symconv.testing

def test_pytest_assertions_in_1d_and_3d():
    from symconv.errors import NotEquivalentError
    from symconv.testing import assert_diagnosed, assert_implements_conv
    from tests.buggy_convs import flipped_conv_nd, good_conv_nd

    one = ConvSpec(2, 3, input_size=(6,), kernel_size=3)
    assert assert_implements_conv(good_conv_nd, one, require_exact=True).proved
    assert assert_diagnosed(flipped_conv_nd, one, "flipped-kernel").codes == ("flipped-kernel",)
    three = ConvSpec(1, 2, input_size=(3, 3, 3), kernel_size=2)
    with pytest.raises(NotEquivalentError) as info:
        assert_implements_conv(flipped_conv_nd, three, method="sparse")
    assert "flipped-kernel: kernel flipped on every axis (depth, height and width)" in str(info.value)
    assert "y[0, 0, 0, 0]" in str(info.value)
