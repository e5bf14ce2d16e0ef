"""verify_implementation against implementations nobody here wrote (PyTorch, SciPy) and a dozen buggy NumPy ones.

Real implementations run over the project's one table of specs (tests/cases.py) through the symconv pytest
plugin's ``symconv_spec`` fixture; every buggy one must fail with the diagnosis that names its bug.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import scipy.signal
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import ConvSpec
from symconv.check.diagnosis import expected_form, reader_form, standard_reader
from symconv.check.implementation import verify_implementation
from symconv.cli import main
from symconv.errors import SpecError, TooLargeError
from symconv.testing import assert_diagnosed, assert_implements_conv, assert_same_implementation
from tests.buggy_convs import BUGS, Layer, reference
from tests.cases import CASES

pytestmark = [
    pytest.mark.symconv_specs(CASES),
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning"),
]


def _torch_params(spec: ConvSpec) -> dict:
    return {"stride": spec.stride, "padding": spec.padding, "dilation": spec.dilation, "groups": spec.groups}


def torch_functional(spec: ConvSpec):
    """F.conv2d; a per-location bias (not a PyTorch notion) is added after."""
    if spec.bias != "per_location":
        return None
    return lambda x, w, b: F.conv2d(x, w, None, **_torch_params(spec)) + b


def torch_module(spec: ConvSpec):
    """torch.nn.Conv2d in float64 with the given weight and bias copied in."""
    module = torch.nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel_size, bias=spec.bias == "shared",
                             **_torch_params(spec)).double()

    def fn(x, w, b):
        with torch.no_grad():
            module.weight.copy_(w)
            if module.bias is not None:
                module.bias.copy_(b)
            y = module(x)
        return y + b if spec.bias == "per_location" else y
    return fn


def torch_unfold_matmul(spec: ConvSpec):
    """im2col with F.unfold, then one matrix product per group."""
    (top, left), (bottom, right) = spec.padding_before, spec.padding_after
    g, kh, kw = spec.groups, *spec.kernel_size
    ho, wo = spec.output_size

    def fn(x, w, b):
        n = x.shape[0]
        cols = F.unfold(F.pad(x, (left, right, top, bottom)), spec.kernel_size, dilation=spec.dilation, stride=spec.stride)
        cols = cols.view(n, g, spec.in_per_group * kh * kw, ho * wo)
        y = torch.einsum("gok,ngkl->ngol", w.reshape(g, spec.out_per_group, -1), cols).reshape(n, spec.out_channels, ho, wo)
        if b is None:
            return y
        return y + (b if spec.bias == "per_location" else b[None, :, None, None])
    return fn


def scipy_layer(spec: ConvSpec, op):
    """One (C, H, W) input per call: scipy.signal.correlate2d/convolve2d per channel pair, dilated kernel, strided."""
    (top, left), (bottom, right) = spec.padding_before, spec.padding_after
    (dh, dw), (sh, sw), (kh, kw) = spec.dilation, spec.stride, spec.kernel_size
    ho, wo = spec.output_size

    def fn(x, w, b):
        if x.ndim != 3:
            raise ValueError(f"expects one (C, H, W) input, got shape {x.shape}")
        xp = np.pad(x, ((0, 0), (top, bottom), (left, right)))
        y = np.zeros((spec.out_channels, ho, wo))
        for i in range(spec.out_channels):
            group = i // spec.out_per_group
            for lp in range(spec.in_per_group):
                kernel = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1))
                kernel[::dh, ::dw] = w[i, lp]
                y[i] += op(xp[group * spec.in_per_group + lp], kernel, mode="valid")[::sh, ::sw][:ho, :wo]
        if b is None:
            return y
        return y + (b if spec.bias == "per_location" else b[:, None, None])
    return fn


# ------------------------------------------------------------------------------------------ real implementations

def test_torch_functional_conv2d_as_is(symconv_spec):
    """F.conv2d itself, given stride/padding/dilation/groups by keyword (pass_params)."""
    wrapped = torch_functional(symconv_spec)
    if wrapped is None:
        result = assert_implements_conv(F.conv2d, symconv_spec, pass_params=True)
    else:
        result = assert_implements_conv(wrapped, symconv_spec)
    assert result.backend == "torch" and result.layout == "NCHW"
    assert result.method in ("onehot", "sparse")
    assert result.status.startswith("AGREES (sampled, ") and not result.proved  # probed with numbers: never a proof


def test_torch_conv2d_module(symconv_spec):
    assert_implements_conv(torch_module(symconv_spec), symconv_spec, backend="torch")


def test_torch_unfold_matmul(symconv_spec):
    assert_implements_conv(torch_unfold_matmul(symconv_spec), symconv_spec, method="sparse")


def test_scipy_correlate2d(symconv_spec):
    result = assert_implements_conv(scipy_layer(symconv_spec, scipy.signal.correlate2d), symconv_spec)
    assert result.layout == "CHW"  # no batch axis: found by trying


def test_scipy_convolve2d_is_diagnosed_as_a_flip(symconv_spec):
    fn = scipy_layer(symconv_spec, scipy.signal.convolve2d)
    if symconv_spec.kernel_size == (1, 1):  # flipping a 1×1 kernel changes nothing
        assert_implements_conv(fn, symconv_spec)
    else:
        result = assert_diagnosed(fn, symconv_spec, "flipped-kernel")
        assert result.codes == ("flipped-kernel",)
        assert "true convolution" in result.describe() or "flipped" in result.describe()


def test_numpy_reference_three_methods_agree(symconv_spec):
    """Symbolic run, one-hot probing and tagged probing read the same exact form of the same code."""
    fn = reference(symconv_spec)
    forms = [verify_implementation(fn, symconv_spec, method=m).form for m in ("symbolic", "onehot", "sparse")]
    assert all(f is not None for f in forms)
    assert forms[0] == forms[1] == forms[2]
    assert forms[0] == expected_form(symconv_spec)


def test_reader_of_the_definition_equals_the_core_index_sum(symconv_spec):
    """The diagnosis builds hypotheses with its own index arithmetic; unmodified, it must give direct_terms."""
    spec = dataclasses.replace(symconv_spec, bias="none")
    assert reader_form(spec, standard_reader(spec)) == expected_form(spec)


# ------------------------------------------------------------------------------------------ buggy implementations

@pytest.mark.parametrize("method", ["symbolic", "onehot", "sparse"])
@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_every_bug_is_found_and_named(bug, method):
    if method == "symbolic" and bug.code == "not-bilinear":
        # ReLU compares values, which SymPy symbols cannot do: the symbolic method must say so, in one line
        with pytest.raises(SpecError, match=r"^method='symbolic' needs a fn that computes with NumPy object arrays"):
            verify_implementation(bug.make(bug.spec), bug.spec, method=method)
        return
    result = assert_diagnosed(bug.make(bug.spec), bug.spec, bug.code, method=method)
    assert result.method == method
    assert bug.code in result.describe()


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_every_bug_is_found_with_float32_probes(bug):
    """float32 probes (entries in [−8, 8], digit tags) find the same bugs."""
    result = assert_diagnosed(bug.make(bug.spec), bug.spec, bug.code, method="sparse", dtype="float32")
    assert "float32" in result.guarantee or bug.code == "not-bilinear"


def test_two_bugs_at_once_are_both_named():
    spec = ConvSpec(2, 2, input_size=5, kernel_size=3, padding=1)
    layer = Layer(spec)

    def flipped_and_shifted(x, w, b):
        xpad = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
        return layer.add_bias(layer.products(x, w[:, :, ::-1, ::-1], xpad=xpad), b)
    result = assert_diagnosed(flipped_and_shifted, spec, "flipped-kernel")
    assert set(result.codes) == {"flipped-kernel", "padding-off-by-one"}
    assert "together with padding-off-by-one" in result.describe()
    flipped_without_bias = lambda x, w, b: layer.products(x, w[:, :, ::-1, ::-1])  # noqa: E731
    assert assert_diagnosed(flipped_without_bias, spec, "bias-missing").codes == ("flipped-kernel", "bias-missing")


def test_outputs_in_the_wrong_place_are_found_as_a_permutation():
    spec = ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1)
    layer = Layer(spec)
    channels = assert_diagnosed(lambda x, w, b: layer(x, w, b)[:, ::-1], spec, "outputs-permuted")
    assert "π = (2, 1, 0)" in channels.describe()
    spatial = assert_diagnosed(lambda x, w, b: layer(x, w, b).transpose(0, 1, 3, 2), spec, "outputs-permuted")
    assert "output spatial axes transposed" in spatial.describe()


def test_bugs_cover_the_issue_list():
    codes = {b.code for b in BUGS}
    wanted = {"flipped-kernel", "padding-off-by-one", "stride-ignored", "dilation-ignored", "swapped-channels",
              "mixed-groups", "transposed-kernel", "bias-missing", "bias-shared", "bias-wrong", "bias-scaled"}
    assert wanted <= codes
    assert len(BUGS) >= 12


def test_the_reference_layer_passes_where_each_bug_fails():
    for bug in BUGS:
        assert_implements_conv(reference(bug.spec), bug.spec)


def test_torch_with_a_flipped_weight():
    spec = ConvSpec(3, 4, input_size=(6, 7), kernel_size=(3, 2), padding=1, stride=(1, 2))
    fn = lambda x, w, b: F.conv2d(x, torch.flip(w, dims=(-2, -1)), b, **_torch_params(spec))  # noqa: E731
    result = assert_diagnosed(fn, spec, "flipped-kernel")
    assert result.backend == "torch"
    assert result.mismatches and result.mismatches[0].missing and result.mismatches[0].extra


def test_torch_with_padding_off_by_one_changes_the_shape():
    spec = ConvSpec(2, 2, input_size=6, kernel_size=3, padding=1)
    fn = lambda x, w, b: F.conv2d(x, w, b, padding=2)  # noqa: E731
    result = assert_diagnosed(fn, spec, "padding-off-by-one")
    assert result.output_shape == (2, 8, 8)
    assert "output-shape" in result.codes
    assert "padding 2 instead of 1" in result.describe()


def test_benchmark_layer_takes_fewer_calls_than_weights():
    """Tagged probing: about two calls per group of C₂ weights, far fewer than one per weight."""
    spec = ConvSpec(8, 8, input_size=16, kernel_size=3, stride=2, padding=1, dilation=2, groups=2)
    result = assert_implements_conv(F.conv2d, spec, pass_params=True)
    n_weights = 8 * 4 * 9
    assert result.method == "sparse"
    assert result.calls < n_weights / 2


def test_scaled_products_are_named_with_the_exact_factor():
    spec = ConvSpec(2, 2, input_size=4, kernel_size=2, bias="none")
    layer = Layer(spec)
    for method in ("symbolic", "sparse"):
        result = assert_diagnosed(lambda x, w, b: layer(x, w, b) / 4, spec, "scaled-products", method=method)
        assert "scaled by 1/4" in result.describe()


def test_constant_term():
    spec = ConvSpec(1, 2, input_size=4, kernel_size=2)
    layer = Layer(spec)
    for method in ("symbolic", "onehot", "sparse"):
        result = assert_diagnosed(lambda x, w, b: layer(x, w, b) + 1, spec, "constant-term", method=method)
        assert result.codes == ("constant-term",)


def test_squares_are_not_bilinear_symbolically():
    spec = ConvSpec(1, 1, input_size=3, kernel_size=2)
    layer = Layer(spec)
    result = assert_diagnosed(lambda x, w, b: layer(x, w, b) * layer(x, w, b), spec, "not-bilinear", method="symbolic")
    assert "not of the form" in result.describe()


def test_onehot_confirmation_catches_a_fn_that_is_not_a_fixed_form():
    """Correct on dense inputs, flipped on one-hot inputs: no bi-affine map does that; the confirmation notices."""
    spec = ConvSpec(1, 1, input_size=4, kernel_size=2)
    good, flipped = Layer(spec), Layer(spec)

    def fn(x, w, b):
        one_hot = (np.count_nonzero(x.reshape(len(x), -1), axis=1) == 1)[:, None, None, None]
        return np.where(one_hot, flipped(x, w[:, :, ::-1, ::-1], b), good(x, w, b))
    result = assert_diagnosed(fn, spec, "not-bilinear", method="onehot")
    assert "disagrees with its own extracted coefficients" in result.describe()


def test_per_location_bias_where_shared_is_declared():
    spec = ConvSpec(2, 2, input_size=4, kernel_size=2)
    per_location = dataclasses.replace(spec, bias="per_location")
    fn = lambda x, w, b: F.conv2d(x, w) + b.reshape(per_location.bias_shape)  # noqa: E731
    result = assert_diagnosed(fn, spec, "bias-per-location")
    assert "(2, 3, 3)" in result.describe()
    assert_implements_conv(fn, per_location)  # and as a per-location layer it is right


def test_channels_last_numpy_layout():
    spec = ConvSpec(2, 3, input_size=(5, 4), kernel_size=(3, 2), padding=1)
    layer = Layer(spec)

    def nhwc(x, w_hwio, b):  # x (N, H, W, C), w (h, w, in, out) as in TensorFlow
        y = layer(x.transpose(0, 3, 1, 2), w_hwio.transpose(3, 2, 0, 1), b)
        return y.transpose(0, 2, 3, 1)
    assert_implements_conv(nhwc, spec, layout="NHWC", weight_layout="HWIO", method="sparse")
    assert_implements_conv(nhwc, spec, layout="NHWC", weight_layout="HWIO", method="symbolic")


def test_float32_module_is_checked_with_float32_probes():
    spec = ConvSpec(4, 4, input_size=8, kernel_size=3, padding=1)
    module = torch.nn.Conv2d(4, 4, 3, padding=1)  # float32, as people use it

    def fn(x, w, b):
        with torch.no_grad():
            module.weight.copy_(w)
            module.bias.copy_(b)
            return module(x)
    result = assert_implements_conv(fn, spec, dtype="float32", backend="torch")
    assert "float32" in result.guarantee


def test_fft_implementation_is_read_within_the_tolerance():
    """scipy.signal.fftconvolve rounds; values come back within 1e-6 of integers and are read exactly."""
    spec = ConvSpec(1, 1, input_size=6, kernel_size=3, bias="none")

    def fn(x, w, b):
        return scipy.signal.fftconvolve(x[0], w[0, 0, ::-1, ::-1], mode="valid")[None]
    result = assert_implements_conv(fn, spec, layout="CHW", method="onehot")
    if result.level == "sampled-atol":  # FFT rounding was absorbed by the tolerance, and the words say so
        assert result.status == "AGREES (sampled, within atol 1e-06)" and "within atol=1e-06" in result.guarantee
        assert 0 < max(result.details["deviation"], result.details["slack"]) <= 1e-6
    else:
        assert result.status == "AGREES (sampled, exact values)" and "no tolerance used" in result.guarantee


def test_same_implementation_torch_and_numpy():
    spec = ConvSpec(4, 6, input_size=(7, 6), kernel_size=(3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    assert_same_implementation(lambda x, w, b: F.conv2d(x, w, b, **_torch_params(spec)), reference(spec), spec,
                               method="sparse")


# ------------------------------------------------------------------------------------------ how strong a verdict is

TINY = ConvSpec(1, 1, input_size=3, kernel_size=2)


@pytest.mark.parametrize("factor", [sympy.Rational(10**20 + 1, 10**20), sympy.Float(1.0000001), sympy.Float(1.0),
                                    sympy.Integer(2**53 + 1)], ids=["rational-1e-20", "float-1e-7", "float-one", "2^53+1"])
def test_symbolic_coefficients_are_compared_exactly(factor):
    """conv·(1 + 10⁻²⁰) rounds to conv in float64; the symbolic check must still see it (it once said HOLDS).

    The expected answer is known by construction (fn = factor·conv with factor ≠ the integer 1), and the found
    terms shown must carry the factor exactly as SymPy has it, not its float.
    """
    fn = reference(TINY)
    result = verify_implementation(lambda x, w, b: fn(x, w, b) * factor, TINY, method="auto")
    assert result.method == "symbolic" and not result.holds and result.status == "FAILS" and not result.proved
    assert result.verdict.mismatched_rows == 4  # every output
    assert result.mismatches[0].extra and all(t.as_coeff_Mul()[0] == factor for t in result.mismatches[0].found)
    assert "inexact-coefficient" in result.codes or "scaled-products" in result.codes
    if not (factor.is_Rational and sympy.Rational(float(factor)) == factor):
        assert result.codes[0] == "inexact-coefficient"
        assert re.search(r"^inexact-coefficient: 20 terms have a coefficient that is not an exact integer or binary "
                         r"fraction .*, e\.g\. .* in y\[0, 0, 0\]; the definition's coefficients are exactly 1$",
                         result.diagnosis[0].describe())


def test_an_exact_binary_fraction_is_still_diagnosed_by_its_exact_factor():
    fn = reference(TINY)
    result = assert_diagnosed(lambda x, w, b: fn(x, w, b) * sympy.Rational(3, 2), TINY, "scaled-products")
    assert result.method == "symbolic" and "scaled by 3/2" in result.describe()


def test_wording_of_each_level():
    """HOLDS (exact) only for the symbolic run; probing says 'sampled', and 'within atol' when tolerance was used."""
    fn = reference(TINY)
    exact = verify_implementation(fn, TINY, method="symbolic")
    assert (exact.level, exact.status, exact.proved) == ("exact", "HOLDS (exact)", True)
    assert exact.guarantee.startswith("exact: fn was run on a batch of two samples of independent SymPy symbols")
    assert "no tolerance" in exact.guarantee
    assert exact.describe().splitlines()[0].endswith(": HOLDS (exact)")
    for method in ("onehot", "sparse"):
        sampled = verify_implementation(fn, TINY, method=method)
        assert (sampled.level, sampled.status, sampled.proved) == ("sampled", "AGREES (sampled, exact values)", False)
        assert sampled.holds and sampled.guarantee.startswith("sampled, not a proof: ")
        assert "exact values: every value read was an integer and every comparison an equality" in sampled.guarantee
        assert "within atol" not in sampled.guarantee and "HOLDS" not in sampled.describe()
        data = sampled.to_dict()
        assert (data["status"], data["level"], data["proved"], data["holds"]) == (sampled.status, "sampled", False, True)
        assert data["details"]["level"] == "sampled" and data["details"]["proved"] is False
    not_affine = verify_implementation(lambda x, w, b: np.maximum(fn(x, w, b), 0), TINY, method="onehot")
    assert (not_affine.level, not_affine.status) == ("", "FAILS") and "not bi-affine" in not_affine.guarantee


@pytest.mark.parametrize("method", ["onehot", "sparse"])
def test_an_offset_below_atol_is_reported_as_within_atol_never_as_exact(method):
    fn = reference(TINY)
    offset = lambda x, w, b: fn(x, w, b) + 1e-7  # noqa: E731
    derived = verify_implementation(offset, TINY, method=method)  # the derived float64 bound sees the offset
    assert derived.codes == ("low-precision",) and "exceeds the float64 bound" in derived.describe()
    result = verify_implementation(offset, TINY, method=method, atol=1e-6)
    assert result.holds and not result.proved and result.level == "sampled-atol"
    assert result.status == "AGREES (sampled, within atol 1e-06)"
    assert "within atol=1e-06 (rtol=1e-12): values up to 1.0e-07 from an integer were read as that integer" in result.guarantee
    assert "exact" not in result.status and "exact values" not in result.guarantee
    assert result.to_dict()["largest_deviation"] == pytest.approx(1e-7, rel=1e-3)
    strict = verify_implementation(offset, TINY, method=method, atol=0)  # every comparison an equality: caught
    assert not strict.holds and strict.status == "FAILS"
    assert set(strict.codes) & {"constant-term", "not-bilinear"}
    float32 = verify_implementation(lambda x, w, b: fn(x, w, b) + 1e-3, TINY, method=method, dtype="float32", atol=1e-2)
    assert float32.status == "AGREES (sampled, within atol 0.01)" and "within atol=0.01" in float32.guarantee


def test_atol_zero_accepts_an_exactly_integer_fn_and_calls_it_sampled():
    result = assert_implements_conv(F.conv2d, ConvSpec(2, 2, input_size=5, kernel_size=3), pass_params=True, atol=0)
    assert result.status == "AGREES (sampled, exact values)" and result.details["rtol"] == 0.0


def test_key_range_is_checked_before_probing():
    spec = ConvSpec(1000, 1000, input_size=70_000, kernel_size=1, stride=70_000)  # 10⁶ terms, 4.9·10¹⁸ keys
    keys = 1000 * 70_000**2 * 1000 * 1000
    with pytest.raises(TooLargeError, match=rf"^verify_implementation: d_x · n_weights = {keys:,} overflows the int64 "
                                            r"term keys \(limit 2\^62\)$"):
        verify_implementation(F.conv2d, spec, pass_params=True)


# ------------------------------------------------------------------------------------------ bad input

def test_bad_choices_are_one_line_spec_errors():
    spec = ConvSpec(1, 1, input_size=3, kernel_size=2)
    fn = reference(spec)
    with pytest.raises(SpecError,
                       match=r"^layout must be one of 'auto', 'NCHW', 'CHW', 'NHWC', 'HWC' for a 2-D layer, got 'NHCW'$"):
        verify_implementation(fn, spec, layout="NHCW")
    with pytest.raises(SpecError, match=r"^method must be one of 'auto', 'symbolic', 'onehot', 'sparse', got 'exact'$"):
        verify_implementation(fn, spec, method="exact")
    with pytest.raises(SpecError, match=r"^dtype must be one of 'float64', 'float32', got 'float16'$"):
        verify_implementation(fn, spec, dtype="float16")
    with pytest.raises(SpecError, match=r"^fn must be callable as fn\(x, weight, bias\) \(or a layer object\), got int$"):
        verify_implementation(3, spec)
    with pytest.raises(SpecError, match=r"^spec must be a symconv.ConvSpec, got tuple$"):
        verify_implementation(fn, (1, 1, 3, 2))
    with pytest.raises(SpecError, match=r"^atol must be a number in \[0, 0.5\), got 1$"):
        verify_implementation(fn, spec, atol=1)
    with pytest.raises(SpecError, match=r"^method='symbolic' runs fn on NumPy object arrays; it cannot be combined"):
        verify_implementation(fn, spec, method="symbolic", backend="torch")


def test_a_fn_that_always_raises_fails_with_its_error():
    spec = ConvSpec(1, 2, input_size=3, kernel_size=2)

    def broken(x, w, b):
        raise KeyError("weights")
    result = verify_implementation(broken, spec)
    assert result.status == "FAILS" and result.codes == ("raised",)
    assert result.diagnosis[0].message == ("fn raised KeyError: 'weights' when called as fn(x, weight, bias) with "
                                           "x ('N', 1, 3, 3), weight (2, 1, 2, 2), bias (2,) (numpy, torch; layout NCHW/CHW)")


def test_symbolic_needs_a_fn_that_computes_with_objects():
    spec = ConvSpec(1, 1, input_size=3, kernel_size=2)
    with pytest.raises(SpecError, match=r"^method='symbolic' needs a fn that computes with NumPy object arrays"):
        verify_implementation(lambda x, w, b: F.conv2d(x, w, b), spec, method="symbolic")


# ------------------------------------------------------------------------------------------ command line

LAYER = ["--in-channels", "2", "--out-channels", "4", "--input", "5x6", "--kernel", "3x2", "--groups", "2"]


def test_cli_check_impl_verifies(capsys):
    assert main(["check-impl", "tests.buggy_convs:good_conv", *LAYER]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(": HOLDS (exact)") and "method symbolic" in out
    assert "\n  exact: fn was run on a batch of two samples of independent SymPy symbols" in out
    assert "numeric runs (non-integer values, a permuted batch, other values): within the rounding bound of float64" in out


def test_cli_check_impl_fails_with_the_diagnosis(capsys):
    assert main(["check-impl", "tests.buggy_convs:flipped_conv", *LAYER, "--method", "sparse"]) == 1
    out = capsys.readouterr().out
    assert ": FAILS" in out and "flipped-kernel: kernel flipped on both axes" in out


def test_cli_check_impl_json_for_torch(capsys):
    args = ["check-impl", "torch.nn.functional:conv2d", "--pass-params", *LAYER, "--stride", "2", "--padding", "1",
            "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["holds"] is True and data["backend"] == "torch" and data["calls"] > 0
    assert data["status"] == "AGREES (sampled, exact values)" and data["level"] == "sampled" and data["proved"] is False
    assert data["target"] == "torch.nn.functional:conv2d" and data["diagnosis"] == []


def test_cli_check_impl_from_a_file(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\n\ndef conv1x1(x, w, b):\n"
                    "    return np.einsum('nlrc,il->nirc', x, w[:, :, 0, 0]) + b[None, :, None, None]\n")
    assert main(["check-impl", f"{path}:conv1x1", "--in-channels", "3", "--out-channels", "2", "--input", "4",
                 "--kernel", "1"]) == 0


def test_cli_check_impl_says_sampled_and_require_exact_refuses_it(capsys):
    args = ["check-impl", "torch.nn.functional:conv2d", "--pass-params", *LAYER]
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith(": AGREES (sampled, exact values)") and "HOLDS" not in first
    assert main([*args, "--require-exact"]) == 1
    assert "--require-exact: AGREES (sampled, exact values) is not a proof" in capsys.readouterr().out
    assert main(["check-impl", "tests.buggy_convs:good_conv", *LAYER, "--require-exact"]) == 0


def test_cli_check_impl_atol_zero_catches_an_offset(tmp_path, capsys):
    path = tmp_path / "offset.py"
    path.write_text("import torch.nn.functional as F\n\ndef conv(x, w, b):\n    return F.conv2d(x, w, b, groups=2) + 1e-7\n")
    assert main(["check-impl", f"{path}:conv", *LAYER, "--atol", "1e-6"]) == 0
    assert ": AGREES (sampled, within atol 1e-06)" in capsys.readouterr().out
    assert main(["check-impl", f"{path}:conv", *LAYER]) == 1  # the derived float64 bound: 1e-7 is far above it
    assert "low-precision: on non-integer values fn exceeds the float64 bound" in capsys.readouterr().out
    assert main(["check-impl", f"{path}:conv", *LAYER, "--atol", "0"]) == 1
    assert ": FAILS" in capsys.readouterr().out


@pytest.mark.parametrize(("target", "message"), [
    ("no_colon", r"target must be MODULE:FUNCTION \(e.g. mypkg.conv:forward\), got 'no_colon'"),
    ("no_such_module_xyz:f", r"target: cannot import module 'no_such_module_xyz' \(ModuleNotFoundError: "),
    ("tests.buggy_convs:nothing", r"target: 'tests.buggy_convs' has no attribute 'nothing'"),
    ("tests.buggy_convs:BUGS", r"target: 'tests.buggy_convs:BUGS' is a list, not a function"),
    ("missing_file.py:f", r"target: no such file 'missing_file.py'"),
])
def test_cli_check_impl_bad_target_exits_2(target, message, capsys):
    assert main(["check-impl", target, *LAYER]) == 2
    assert re.match(rf"^symconv check-impl: error: {message}", capsys.readouterr().err)


# ------------------------------------------------------------------------------------------ properties

@st.composite
def small_specs(draw):
    groups = draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7)) for k, d, p in zip(kernel, dilation, padding))
    return ConvSpec(groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), input_size=size,
                    kernel_size=kernel, stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))), padding=padding,
                    dilation=dilation, groups=groups, bias=draw(st.sampled_from(["shared", "none"])))


@settings(max_examples=30, deadline=None)
@given(spec=small_specs())
def test_torch_on_random_layers_two_probing_methods_agree(spec):
    sparse = assert_implements_conv(F.conv2d, spec, pass_params=True, method="sparse")
    onehot = assert_implements_conv(F.conv2d, spec, pass_params=True, method="onehot")
    assert sparse.form == onehot.form


@settings(max_examples=30, deadline=None)
@given(spec=small_specs())
def test_torch_with_flipped_weights_on_random_layers(spec):
    fn = lambda x, w, b: F.conv2d(x, torch.flip(w, dims=(-2, -1)), b, **_torch_params(spec))  # noqa: E731
    result = verify_implementation(fn, spec, method="sparse")
    if result.form == expected_form(spec):  # a flip that cannot be seen: 1×1 kernel, or taps that never land
        assert result.holds
    else:
        assert "flipped-kernel" in result.codes


def test_fn_that_writes_into_its_arguments_is_still_read_correctly():
    spec = ConvSpec(2, 2, input_size=5, kernel_size=3, padding=1)
    layer = Layer(spec)

    def fn(x, w, b):
        y = layer(x, w, b)
        x[...] = 7
        w[...] = 0
        b[...] = 1
        return y
    for method in ("onehot", "sparse"):
        assert_implements_conv(fn, spec, method=method)


def test_torch_threads_are_restored():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert_implements_conv(F.conv2d, ConvSpec(1, 1, input_size=3, kernel_size=2), pass_params=True)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_too_large_layers_are_refused_before_probing():
    spec = ConvSpec(64, 64, input_size=56, kernel_size=3, padding=1)
    terms = 64 * 64 * (3 * 56 - 2) ** 2 + 64 * 56 * 56  # taps in range per axis: 3·56 minus the 2 that fall off
    with pytest.raises(TooLargeError, match=rf"^verify_implementation: the layer has {terms:,} terms, above the limit"):
        verify_implementation(F.conv2d, spec, pass_params=True)
