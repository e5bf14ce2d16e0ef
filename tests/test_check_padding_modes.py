"""verify_implementation and check-impl for layers with padding_mode reflect, replicate and circular (issue 11).

The references nobody here wrote: PyTorch's ``nn.ConvNd(padding_mode=…)`` and ``F.pad`` + ``F.convNd``, and
NumPy's ``np.pad`` (modes "reflect", "edge", "wrap"; "symmetric" for the classic bug) inside the NumPy loop of
tests/buggy_convs.py, which runs on SymPy symbols and so is proved exactly. Each padding-mode bug must be named by
its own code and by no other; code wrong only on a second call, a second sample or non-integer values still fails.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from symconv import ConvSpec
from symconv.check.backward import verify_backward
from symconv.check.form import KeySpace, expected_form, mode_form
from symconv.check.hypotheses import reader_form, standard_reader
from symconv.check.implementation import verify_implementation
from symconv.check.padded import axis_source
from symconv.cli import main
from symconv.errors import SpecError
from tests.buggy_convs import (
    NP_PAD,
    PaddedND,
    mode_flipped,
    mode_layer,
    mode_stride_ignored,
    mode_stride_not_applied,
    swapped_wrap,
    wrap_after,
)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")

MODES = ("reflect", "replicate", "circular")
MODE_CODES = {"padding-mode-zeros", "padding-mode-wrong", "reflect-symmetric", "circular-wrong-side"}
CONV = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
CONV_F = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _torch_pad(spec: ConvSpec) -> tuple[int, ...]:
    """F.pad's argument for the spec's padding: (before, after) of the last axis first."""
    return tuple(v for b, a in reversed(list(zip(spec.padding_before, spec.padding_after))) for v in (b, a))


def torch_fn(spec: ConvSpec, mode: str | None = None):
    """F.pad(x, …, mode) then the unpadded F.convNd: PyTorch's own padding_mode, spelled out."""
    mode = mode or spec.padding_mode

    def fn(x, w, b):
        x = torch.as_tensor(x)
        xp = F.pad(x, _torch_pad(spec), mode="constant" if mode == "zeros" else mode)
        y = CONV_F[spec.ndim](xp, torch.as_tensor(w), None if b is None else torch.as_tensor(b),
                              stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
        return y.numpy()
    return fn


def _module(spec: ConvSpec) -> torch.nn.Module:
    padding = spec.padding if spec.padding == "same" else spec.padding_before
    return CONV[spec.ndim](spec.in_channels, spec.out_channels, spec.kernel_size, stride=spec.stride, padding=padding,
                           dilation=spec.dilation, groups=spec.groups, bias=spec.bias == "shared",
                           padding_mode=spec.padding_mode).double()


# ------------------------------------------------------------------------------------------ random layers

def _random_spec(rng: np.random.Generator, ndim: int, mode: str) -> ConvSpec:
    """A random layer padded with ``mode`` that fits (stride, padding incl. 'same', dilation, groups, bias)."""
    big = {1: 9, 2: 5, 3: 3}[ndim]
    while True:
        groups = int(rng.choice([1, 1, 2]))
        c1, c2 = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        size = tuple(int(v) for v in rng.integers(2, big + 1, ndim))
        kernel = tuple(int(v) for v in rng.integers(1, 4, ndim))
        stride = tuple(int(v) for v in rng.integers(1, 3, ndim))
        dilation = tuple(int(v) for v in rng.integers(1, 3, ndim))
        padding = "same" if rng.random() < 0.15 else tuple(int(v) for v in rng.integers(0, 3, ndim))
        if padding == "same":
            stride = (1,) * ndim
        bias = str(rng.choice(["shared", "shared", "none", "per_location"]))
        try:
            spec = ConvSpec(c1, c2, size, kernel, stride, padding, dilation, groups, bias, padding_mode=mode)
        except SpecError:
            continue  # the kernel does not fit, or the padding is beyond the mode's limit
        if any(spec.padding_before + spec.padding_after) and spec.n_terms <= 4000:
            return spec


RANDOM = [(mode, ndim, seed) for mode in MODES for ndim in (1, 2, 3) for seed in range(12)]  # 108 layers


@pytest.mark.parametrize("mode, ndim, seed", RANDOM)
def test_numpy_loop_with_np_pad_holds_exactly_and_agrees_with_torch(mode, ndim, seed):
    spec = _random_spec(np.random.default_rng(1100 + 100 * ndim + seed + 7 * MODES.index(mode)), ndim, mode)
    layer = mode_layer(spec)
    # the test's own oracle first: np.pad's mode is PyTorch's, on random numbers
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(2, *spec.input_shape)), rng.normal(size=spec.weight_shape)
    b = None if spec.bias == "none" else rng.normal(size=spec.bias_shape)
    if spec.bias != "per_location":
        np.testing.assert_allclose(layer(x, w, b), torch_fn(spec)(x, w, b), rtol=1e-12, atol=1e-12)
    result = verify_implementation(layer, spec, method="symbolic")
    assert result.status == "HOLDS (exact)", (spec.describe(), result.describe())
    assert result.proved


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_torch_modules_with_padding_mode_agree(mode, ndim):
    spec = {1: ConvSpec(2, 4, input_size=(7,), kernel_size=3, stride=2, padding=2, dilation=2, groups=2,
                        padding_mode=mode),
            2: ConvSpec(2, 4, input_size=(5, 6), kernel_size=(3, 2), stride=(1, 2), padding=(2, 1), groups=2,
                        padding_mode=mode),
            3: ConvSpec(1, 2, input_size=(3, 4, 3), kernel_size=2, stride=(1, 2, 1), padding=(1, 1, 2),
                        padding_mode=mode)}[ndim]
    for method in ("sparse", "onehot"):
        result = verify_implementation(_module(spec), spec, method=method, signature="module")
        assert result.holds and result.status.startswith("AGREES (sampled"), (method, result.describe())
    assert verify_implementation(torch_fn(spec), spec, method="sparse").holds


def test_torch_same_padding_with_an_even_kernel_pads_asymmetrically_and_agrees():
    spec = ConvSpec(2, 2, input_size=(5, 6), kernel_size=(2, 4), padding="same", padding_mode="reflect")
    assert spec.padding_before != spec.padding_after  # PyTorch puts the odd entry after
    assert verify_implementation(_module(spec), spec, signature="module").holds
    assert verify_implementation(mode_layer(spec), spec, method="symbolic").proved


# ------------------------------------------------------------------------------------------ the expected form

@pytest.mark.parametrize("mode", MODES)
def test_expected_form_evaluates_to_torch_and_keeps_double_reads(mode, rng):
    spec = ConvSpec(2, 4, input_size=(2, 3), kernel_size=3, padding=(1, 2), dilation=(1, 2), groups=2,
                    padding_mode=mode if mode != "reflect" else "replicate")
    form = expected_form(spec)
    x = rng.integers(-9, 10, (3, *spec.input_shape)).astype(float)
    w, b = rng.integers(-9, 10, spec.weight_shape).astype(float), rng.integers(-9, 10, spec.bias_shape).astype(float)
    want = _module(spec)
    with torch.no_grad():
        want.weight.copy_(torch.as_tensor(w))
        want.bias.copy_(torch.as_tensor(b))
        y = want(torch.as_tensor(x)).numpy()
    assert np.array_equal(form.evaluate(x.reshape(3, -1), w.reshape(-1), b), y.reshape(3, -1))
    # every tap is a term: an output reads one x through several weights (x[0,0] reads ω[0,0] and ω[0,1] …)
    assert len(form.part(0)) == math.prod(spec.output_shape) * spec.in_per_group * math.prod(spec.kernel_size)
    inputs = form.part(0).keys // KeySpace(spec).n_w
    rows = form.part(0).rows
    assert max(np.unique(inputs[rows == r]).size for r in range(4)) < spec.in_per_group * 9


def test_mode_form_of_zeros_is_the_direct_definitions_form():
    for spec in (ConvSpec(2, 4, input_size=(5, 4), kernel_size=3, padding=(1, 2), stride=2, groups=2,
                          bias="per_location"),
                 ConvSpec(2, 3, input_size=(6,), kernel_size=3, padding=2, dilation=2)):
        assert mode_form(spec, "zeros") == expected_form(spec)


@pytest.mark.parametrize("mode", MODES)
def test_the_readers_padding_is_the_forms(mode):
    """The diagnosis's reader (axis_source) and the definition (forms.padding.mode_terms) are two constructions."""
    for spec in (ConvSpec(2, 2, input_size=(4, 5), kernel_size=3, padding=(2, 1), stride=(2, 1), padding_mode=mode),
                 ConvSpec(1, 2, input_size=(3, 3, 4), kernel_size=2, padding=1, dilation=(1, 2, 1), padding_mode=mode)):
        assert reader_form(spec, standard_reader(spec)) == expected_form(spec).part(0)


@pytest.mark.parametrize("padding", ["reflect", "replicate", "circular", "symmetric", "zeros"])
def test_axis_source_is_np_pad(padding, rng):
    for _ in range(20):
        n = int(rng.integers(2, 7))
        before, after = int(rng.integers(0, n)), int(rng.integers(0, n))
        mode = NP_PAD.get(padding, padding)
        options = {"constant_values": -1} if mode == "constant" else {}
        padded = np.pad(np.arange(n), (before, after), mode=mode, **options)
        assert axis_source(padding, np.arange(-before, n + after), n, before, after).tolist() == padded.tolist()


def test_axis_source_of_the_circular_bugs_is_their_np_code(rng):
    for _ in range(20):
        n = int(rng.integers(2, 7))
        before, after = int(rng.integers(0, n + 1)), int(rng.integers(0, n + 1))
        c = np.arange(-before, n + after)
        swapped = swapped_wrap(np.arange(n)[None, None], (before,), (after,))[0, 0]
        assert axis_source("circular-swapped", c, n, before, after).tolist() == swapped.tolist()
        after_all = np.pad(np.arange(n), (0, before + after), mode="wrap")
        assert axis_source("circular-after", c, n, before, after).tolist() == after_all.tolist()
        before_all = np.pad(np.arange(n), (before + after, 0), mode="wrap")
        assert axis_source("circular-before", c, n, before, after).tolist() == before_all.tolist()


# ------------------------------------------------------------------------------------------ the bugs

R2 = ConvSpec(2, 2, input_size=(5, 6), kernel_size=3, padding=(2, 1), padding_mode="reflect")
R1 = ConvSpec(2, 3, input_size=(7,), kernel_size=3, padding=1, padding_mode="reflect")
R1_WIDE = ConvSpec(2, 3, input_size=(7,), kernel_size=5, stride=2, padding=2, padding_mode="reflect")
P2 = ConvSpec(2, 2, input_size=(4, 5), kernel_size=3, padding=2, padding_mode="replicate")
C2 = ConvSpec(2, 2, input_size=(5, 6), kernel_size=3, padding=(2, 1), padding_mode="circular")
C3 = ConvSpec(1, 2, input_size=(3, 4, 4), kernel_size=(2, 3, 3), padding=(1, 1, 2), padding_mode="circular")
R_STRIDED = ConvSpec(2, 2, input_size=(7, 6), kernel_size=3, stride=2, padding=1, padding_mode="reflect")
C_GROUPS = ConvSpec(4, 4, input_size=(4, 4), kernel_size=2, padding=1, groups=2, padding_mode="circular")


def _bugs():
    """(id, fn, spec, the codes it must get, a phrase the findings must contain)."""
    bugs = []
    for spec in (R2, R1, P2, C2, C3):
        bugs.append((f"zeros-for-{spec.padding_mode}-{spec.ndim}d", mode_layer(spec, "zeros"), spec,
                     {"padding-mode-zeros"}, f"padding_mode='{spec.padding_mode}'"))
    for spec, other in ((R2, "replicate"), (R2, "circular"), (R1, "circular"), (P2, "reflect"), (C2, "reflect"),
                        (C3, "replicate"), (P2, "circular")):
        bugs.append((f"{other}-for-{spec.padding_mode}-{spec.ndim}d", mode_layer(spec, other), spec,
                     {"padding-mode-wrong"}, f"padded with {other} instead of {spec.padding_mode}"))
    bugs += [
        ("symmetric-for-reflect-2d", PaddedND(R2, "symmetric"), R2, {"reflect-symmetric"}, "mode='symmetric'"),
        ("symmetric-for-reflect-1d", PaddedND(R1_WIDE, "symmetric"), R1_WIDE, {"reflect-symmetric"}, "edge repeated"),
        ("symmetric-for-replicate-pad-2", PaddedND(P2, "symmetric"), P2, {"padding-mode-wrong"}, "mode='symmetric'"),
        ("wrap-swapped-2d", PaddedND(C2, pad=swapped_wrap), C2, {"circular-wrong-side"}, "wrong end"),
        ("wrap-swapped-3d", PaddedND(C3, pad=swapped_wrap), C3, {"circular-wrong-side"}, "wrong end"),
        ("wrap-all-after", wrap_after(C2), C2, {"circular-wrong-side"}, "shifted cyclically"),
        ("wrap-all-before", PaddedND(C2, "wrap", sides=((4, 0), (2, 0))), C2, {"circular-wrong-side"}, "all put before"),
        ("flipped-under-reflect", mode_flipped(R2), R2, {"flipped-kernel"}, "a true convolution"),
        ("flipped-under-circular-3d", mode_flipped(C3), C3, {"flipped-kernel"}, "on every axis"),
        ("stride-ignored-under-reflect", mode_stride_ignored(R_STRIDED), R_STRIDED, {"stride-ignored"}, "stride 2"),
        ("stride-not-applied-under-reflect", mode_stride_not_applied(R_STRIDED), R_STRIDED,
         {"output-shape", "stride-ignored"}, "stride 1"),
        ("mixed-groups-under-circular", lambda x, w, b: mode_layer(C_GROUPS).add_bias(
            mode_layer(C_GROUPS).products(x, w, group_of=lambda i: i % 2), b), C_GROUPS, {"mixed-groups"}, "i mod 2"),
        ("bias-missing-under-replicate", lambda x, w, b: mode_layer(P2).products(x, w), P2, {"bias-missing"}, "no output"),
        ("zeros-and-flipped", mode_flipped(ConvSpec(2, 2, input_size=(5, 6), kernel_size=3, padding=(2, 1))), R2,
         {"padding-mode-zeros", "flipped-kernel"}, "together with"),
    ]
    return bugs


BUGS = _bugs()


@pytest.mark.parametrize("name, fn, spec, codes, words", BUGS, ids=[b[0] for b in BUGS])
def test_each_padding_mode_bug_fails_with_its_code_only(name, fn, spec, codes, words):
    result = verify_implementation(fn, spec)
    assert result.status == "FAILS" and result.method == "symbolic", result.describe()
    assert set(result.codes) == codes, result.describe()
    assert all(f.exact for f in result.diagnosis), result.describe()
    assert words in " ".join(f.message for f in result.diagnosis), result.describe()


@pytest.mark.parametrize("spec, other, code", [(R2, "zeros", "padding-mode-zeros"), (R2, "replicate", "padding-mode-wrong"),
                                               (C2, "reflect", "padding-mode-wrong"), (P2, "zeros", "padding-mode-zeros")])
def test_torch_padding_bugs_are_named_when_probed(spec, other, code):
    result = verify_implementation(torch_fn(spec, other), spec, method="sparse")
    assert result.codes == (code,), result.describe()


def test_torch_conv2d_with_padding_p_is_zero_padding_under_pass_params():
    result = verify_implementation(F.conv2d, R2, backend="torch", pass_params=True, method="sparse")
    assert result.codes == ("padding-mode-zeros",), result.describe()


def test_a_bug_identical_to_another_on_this_layer_is_named_once_and_the_other_said():
    """Padding 1: np.pad's symmetric reads x[−1] = x[0], as replicate does; one code, both bugs in the message."""
    result = verify_implementation(PaddedND(R1, "symmetric"), R1)
    assert result.codes == ("padding-mode-wrong",), result.describe()
    message = result.diagnosis[0].message
    assert "padded with replicate instead of reflect" in message
    assert "on this layer identical to reflect-symmetric: padded with NumPy's np.pad mode='symmetric'" in message


def test_indistinguishable_paddings_hold():
    """With padding 1, np.pad's symmetric is replicate; with padding 0 every mode is the unpadded layer."""
    spec = ConvSpec(2, 2, input_size=(4, 5), kernel_size=3, padding=1, padding_mode="replicate")
    assert verify_implementation(PaddedND(spec, "symmetric"), spec).proved
    unpadded = ConvSpec(2, 2, input_size=(4, 5), kernel_size=3, padding=0, padding_mode="circular")
    assert verify_implementation(mode_layer(unpadded, "zeros"), unpadded).proved


# ------------------------------------------------------------------------------------------ soundness under a mode

def _second_call_zeros(spec):
    layer, wrong, calls = mode_layer(spec), mode_layer(spec, "zeros"), []

    def fn(x, w, b):
        calls.append(1)
        return (layer if len(calls) == 1 else wrong)(x, w, b)
    return fn


def _second_sample_zeros(spec):
    layer, wrong = mode_layer(spec), mode_layer(spec, "zeros")
    return lambda x, w, b: np.concatenate([layer(x[:1], w, b), wrong(x[1:], w, b)])


def _zeros_on_fractions(spec):
    layer, wrong = mode_layer(spec), mode_layer(spec, "zeros")

    def fn(x, w, b):
        numbers = x.dtype != object and w.dtype != object
        return (wrong if numbers and not np.array_equal(x, np.round(x)) else layer)(x, w, b)
    return fn


def _torch_zeros_on_fractions(spec):
    right, wrong = torch_fn(spec), torch_fn(spec, "zeros")
    return lambda x, w, b: (wrong if not np.array_equal(x, np.round(x)) else right)(x, w, b)


@pytest.mark.parametrize("make, method, code", [
    (_second_call_zeros, "auto", "state-dependent"),
    (_second_sample_zeros, "auto", "batch-dependent"),
    (_zeros_on_fractions, "auto", "type-dependent"),
    (_torch_zeros_on_fractions, "sparse", None),
    (_second_call_zeros, "sparse", None),
], ids=["second-call", "second-sample", "fractions-symbolic", "fractions-sparse", "second-call-sparse"])
def test_code_wrong_only_where_a_lazy_check_does_not_look_fails_under_a_mode(make, method, code):
    result = verify_implementation(make(R2), R2, method=method)
    assert not result.holds and result.status == "FAILS", result.describe()
    if code is not None:
        assert code in result.codes, result.describe()
    assert result.mismatches or result.diagnosis


def _corner_read_once(spec):
    """Replicate padding right except at y[:, :, 0, 0], where x[0, 0] is read through one tap too few (ω[…,0,0]
    dropped): wrong only where the mode makes one output read one x through several weights."""
    layer = mode_layer(spec)

    def fn(x, w, b):
        y = layer(x, w, b)
        y[:, :, 0, 0] -= np.einsum("nl,il->ni", x[:, :, 0, 0], w[:, :, 0, 0])
        return y
    return fn


def _reflect_before_zeros_after(spec):
    """Reflect on the first side of every axis, zeros on the last: right on most outputs."""
    def pad(x, before, after):
        xp = np.pad(x, ((0, 0), (0, 0), *[(p, 0) for p in before]), mode="reflect")
        return np.pad(xp, ((0, 0), (0, 0), *[(0, q) for q in after]))
    return PaddedND(spec, pad=pad)


@pytest.mark.parametrize("method", ["symbolic", "onehot", "sparse"])
def test_a_double_read_with_one_tap_missing_fails_at_that_output_only(method):
    result = verify_implementation(_corner_read_once(P2), P2, method=method)
    assert result.status == "FAILS", result.describe()
    assert result.verdict.mismatched_rows == P2.out_channels  # y[i, 0, 0] for each output channel i
    assert result.mismatches[0].output == (0, 0, 0)
    assert not any(f.exact and f.code in MODE_CODES for f in result.diagnosis), result.describe()


def test_the_right_padding_on_one_side_only_fails_and_names_no_mode_bug():
    result = verify_implementation(_reflect_before_zeros_after(R2), R2)
    assert result.status == "FAILS", result.describe()
    assert not any(f.exact for f in result.diagnosis if f.part == "products"), result.describe()


# ------------------------------------------------------------------------------------------ CLI and refusals

_GOOD = '''
import numpy as np
def conv(x, w, b, mode="{mode}"):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode=mode)
    h, k = x.shape[2], x.shape[3]
    y = np.zeros((x.shape[0], w.shape[0], h, k), dtype=np.result_type(x, w))
    for m in range(3):
        for n in range(3):
            y += np.einsum("nlrc,il->nirc", xp[:, :, m:m + h, n:n + k], w[:, :, m, n])
    return y + b[None, :, None, None]
'''


@pytest.mark.parametrize("np_mode, mode, status", [("reflect", "reflect", 0), ("edge", "replicate", 0),
                                                   ("wrap", "circular", 0), ("constant", "reflect", 1),
                                                   ("edge", "reflect", 1), ("symmetric", "reflect", 1)])
def test_cli_check_impl_padding_mode(tmp_path, capsys, np_mode, mode, status):
    path = tmp_path / "mine.py"
    path.write_text(_GOOD.format(mode=np_mode))
    layer = ["--in-channels", "2", "--out-channels", "2", "--input", "4x5", "--kernel", "3", "--padding", "1"]
    assert main(["check-impl", f"{path}:conv", *layer, "--padding-mode", mode]) == status
    out = capsys.readouterr().out
    assert f"padding_mode {mode}" in out and ("HOLDS (exact)" in out if status == 0 else "FAILS" in out)
    if np_mode == "symmetric":
        assert "reflect-symmetric:" in out


@pytest.mark.parametrize("extra, message", [
    (["--input", "2", "--padding", "2", "--padding-mode", "reflect"],
     "padding must be < input_size on every axis for padding_mode='reflect' (as in PyTorch), got padding=(2, 2)"),
    (["--input", "2", "--padding", "3", "--padding-mode", "circular"],
     "padding must be ≤ input_size on every axis for padding_mode='circular'"),
    (["--input", "4", "--padding", "1", "--padding-mode", "circular", "--transposed"],
     "--padding-mode must be 'zeros' for --transposed (ConvTranspose pads with zeros only), got 'circular'"),
    (["--input", "4", "--padding", "1", "--padding-mode", "mirror"], "argument --padding-mode: invalid choice: 'mirror'"),
])
def test_cli_bad_padding_mode_input_is_one_line_exit_2(tmp_path, capsys, extra, message):
    path = tmp_path / "mine.py"
    path.write_text(_GOOD.format(mode="reflect"))
    argv = ["check-impl", f"{path}:conv", "--in-channels", "2", "--out-channels", "2", "--kernel", "1", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_verify_backward_does_not_pass_the_zero_padded_gradients_for_a_padding_mode():
    def zero_padded_grads(x, w, g):
        x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
        b = torch.zeros(w.shape[0], dtype=x.dtype, requires_grad=True)
        F.conv2d(x, w, b, padding=1).backward(g)
        return x.grad, w.grad, b.grad
    spec = ConvSpec(1, 2, input_size=5, kernel_size=3, padding=1, padding_mode="reflect")
    result = verify_backward(zero_padded_grads, spec)  # once it reported this as holding (zero-padded closed forms)
    assert not result.holds and "padding-mode-ignored" in result.codes, result.describe()
