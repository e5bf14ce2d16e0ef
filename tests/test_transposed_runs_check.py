"""Soundness of the transposed check: code wrong only where a lazy check does not look must FAIL, with a reason.

Each fn below is PyTorch's layer (or the hand-written scatter of test_transposed_check) except on the second call,
on the second sample, on non-integer values, on a permuted batch, or by a tiny offset; the check must say FAILS,
name why (state, batch, type, precision) and show where. The rounding bound is checked against a hand count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from symconv import SpecError
from symconv.check.implementation import verify_implementation
from symconv.check.rounding import gamma
from symconv.check.transposed_runs import transposed_rounding_bound
from symconv.cli import main
from symconv.core.transposed import ConvTransposeSpec
from tests.test_transposed_check import scatter, torch_fn

torch = pytest.importorskip("torch")

SPEC = ConvTransposeSpec(2, 3, input_size=(3, 3), kernel_size=3, stride=2, padding=1, output_padding=1)
RIGHT = torch_fn(SPEC)


def loop(x, w, b):
    return scatter(x, w, b, SPEC)


def _on_call(right, wrong_call):
    calls = []

    def fn(x, w, b):
        y = right(x, w, b)  # calls that raise (PyTorch given NumPy arrays) do not count
        calls.append(1)
        return y + 1 if len(calls) == wrong_call else y
    return fn


@pytest.mark.parametrize("right", [RIGHT, loop], ids=["torch", "symbols"])
def test_wrong_only_on_the_second_call(right):
    result = verify_implementation(_on_call(right, 2), SPEC)
    assert result.status == "FAILS" and result.codes == ("state-dependent",), result.describe()
    assert "found" in result.describe() or "on an integer probe at output" in result.describe()


@pytest.mark.parametrize("right", [RIGHT, loop], ids=["torch", "symbols"])
def test_wrong_only_on_the_second_sample(right):
    def fn(x, w, b):
        y = right(x, w, b)
        y[1, 0, 2, 3] = y[1, 0, 2, 3] + 1
        return y
    result = verify_implementation(fn, SPEC)
    assert result.status == "FAILS" and result.codes == ("batch-dependent",), result.describe()
    assert "z[0, 2, 3]" in result.describe() or "sample 1" in result.describe()


def test_wrong_only_for_non_integer_values():
    def fn(x, w, b):
        y = RIGHT(x, w, b)
        return y if bool((x == x.round()).all()) else y * 3
    result = verify_implementation(fn, SPEC)
    assert result.status == "FAILS" and result.codes == ("type-dependent",), result.describe()
    assert "the definition gives" in result.describe()


def test_wrong_only_for_non_integer_values_after_symbols():
    def fn(x, w, b):
        y = loop(x, w, b)
        return y if x.dtype == object or np.all(x == np.floor(x)) else y * 3
    result = verify_implementation(fn, SPEC)
    assert result.method == "symbolic" and result.status == "FAILS" and result.codes == ("type-dependent",)


def test_wrong_only_on_a_permuted_batch():
    seen = {}

    def fn(x, w, b):  # a cache keyed on the set of samples: a permuted batch gets the unpermuted output
        key = (frozenset(s.numpy().tobytes() for s in x), w.numpy().tobytes())
        if key not in seen:
            seen[key] = RIGHT(x, w, b)
        return seen[key]
    result = verify_implementation(fn, SPEC)
    assert result.status == "FAILS" and result.codes == ("batch-dependent",), result.describe()


@pytest.mark.parametrize("right", [RIGHT, loop], ids=["torch", "symbols"])
def test_a_tiny_offset_fails(right):
    result = verify_implementation(lambda x, w, b: right(x, w, b) + 1e-7, SPEC)
    assert result.status == "FAILS", result.describe()
    assert result.mismatches or "found" in result.describe()


def test_the_bound_is_derived_not_fixed():
    """A relative error of 2⁻⁴⁰ on numbers passed the old fixed bound 2⁻⁴⁰·Σ|ω||y|; the derived γ(n + 1) bound
    rejects it, and accepts a relative error of 2⁻⁵² (below γ₂ of float64)."""
    def scaled(factor):
        return lambda x, w, b: loop(x, w, b) if x.dtype == object else loop(x, w, b) * factor
    coarse = verify_implementation(scaled(1 + 2.0**-40), SPEC)
    assert coarse.status == "FAILS" and coarse.codes == ("low-precision",), coarse.describe()
    fine = verify_implementation(scaled(1 + 2.0**-52), SPEC)
    assert fine.status == "HOLDS (exact)" and "within the rounding bound of float64" in fine.describe(), fine.describe()
    assert 0 < fine.details["rounding_ratio"] <= 1


def test_float32_inside_is_low_precision_and_atol_accepts_it():
    def fn(x, w, b):
        if x.dtype == object:
            return loop(x, w, b)
        return loop(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)).astype(np.float64)
    result = verify_implementation(fn, SPEC)
    assert result.status == "FAILS" and result.codes == ("low-precision",) and "float32" in result.describe()
    assert verify_implementation(fn, SPEC, atol=1e-3).status == "HOLDS (exact)"


def test_rounding_bound_against_a_hand_count():
    """1-D, k = 3, s = 2, input 3: output o receives the taps 2q + t = o, counted by hand: 1 1 2 1 2 1 1."""
    spec = ConvTransposeSpec(1, 1, input_size=(3,), kernel_size=3, stride=2)
    magnitude = np.arange(1.0, 8.0).reshape(1, 1, 7)
    for fmt, u, extra in (("float64", 2.0**-53, 0), ("float32", 2.0**-24, 2)):
        by_hand = [(gamma(c + 1 + extra, u) + gamma(c + 1, 2.0**-53)) * m
                   for c, m in zip([1, 1, 2, 1, 2, 1, 1], range(1, 8))]
        assert np.allclose(transposed_rounding_bound(spec, magnitude, fmt).reshape(-1), by_hand, rtol=1e-15, atol=0)
    assert math.isclose(gamma(3, 2.0**-53), 3 * 2.0**-53 / (1 - 3 * 2.0**-53))


def test_non_finite_and_raising_fn_fail_with_the_reason():
    nan = verify_implementation(lambda x, w, b: RIGHT(x, w, b) * float("nan"), SPEC)
    assert nan.status == "FAILS" and nan.codes == ("non-finite",)

    def channels_last(x, w, b):  # written for (N, *size, C₁): einsum over the wrong axis raises
        return torch.einsum("nhwc,cjkl->nhwj", x, w)
    raised = verify_implementation(channels_last, SPEC)
    assert raised.status == "FAILS" and raised.codes == ("raised",), raised.describe()
    message = raised.diagnosis[0].message
    assert "x as (N, C₁, *input) = (2, 2, 3, 3)" in message and "(C₁, C₂/g, *k) = (2, 3, 3, 3)" in message
    assert "NumPy arrays" in message and "PyTorch float64 tensors" in message and "wrap fn" in message


def test_a_wrong_output_layout_says_what_was_passed():
    result = verify_implementation(lambda x, w, b: RIGHT(x, w, b).permute(0, 2, 3, 1), SPEC)
    assert result.status == "FAILS" and result.codes[0] == "output-shape"
    assert "fn was called as fn(x, weight, bias) with x as (N, C₁, *input)" in result.diagnosis[0].message


def test_fn_that_needs_keywords_is_bad_input_and_the_cli_exits_2(tmp_path, capsys, monkeypatch):
    def needs(x, w, b, stride, padding):
        return RIGHT(x, w, b)
    with pytest.raises(SpecError, match=r"^fn does not take \(x, weight, bias\): .*pass pass_params=True"):
        verify_implementation(needs, SPEC)
    (tmp_path / "tk.py").write_text("def up(x, w, b, stride, padding):\n    return x\n")
    monkeypatch.chdir(tmp_path)
    code = main(["check-impl", "tk:up", "--transposed", "--in-channels", "2", "--out-channels", "2", "--input", "3",
                 "--kernel", "3", "--output-padding", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "fn does not take (x, weight, bias)" in err and len(err.strip().splitlines()) == 1


def test_atol_must_be_a_number():
    with pytest.raises(SpecError, match=r"^atol must be a number ≥ 0 or None, got -1$"):
        verify_implementation(RIGHT, SPEC, atol=-1)


@pytest.mark.parametrize("numbers", [False, True], ids=["numpy", "torch"])
def test_fn_that_overwrites_its_input_or_reuses_its_output_fails(numbers):
    def zeroes_its_input(x, w, b):  # the layer of zeros, after wiping x: only b is left
        x[...] = 0
        return (RIGHT if numbers else loop)(x, w, b)
    result = verify_implementation(zeroes_its_input, SPEC)
    assert result.status == "FAILS", result.describe()
    buffer = []

    def reuses_its_output(x, w, b):  # returns one buffer, overwritten by the next call
        y = RIGHT(x, w, b) if numbers else np.asarray(loop(x, w, b), dtype=np.float64)
        if not buffer or buffer[0].shape != y.shape:
            buffer[:] = [y]
        buffer[0][...] = y
        return buffer[0]
    assert verify_implementation(reuses_its_output, SPEC).holds  # each call's output is right when returned


def test_wrong_only_on_integer_values_after_symbols():
    def fn(x, w, b):
        y = loop(x, w, b)
        return y if x.dtype == object or not np.all(x == np.round(x)) else y + 1
    result = verify_implementation(fn, SPEC)
    assert result.method == "symbolic" and result.status == "FAILS" and result.codes == ("type-dependent",)
    assert "on an integer probe at output" in result.describe()


def test_pytorch_in_float32_is_low_precision():
    def in_float32(x, w, b):
        return torch_fn(SPEC)(x.float(), w.float(), b.float()).double()
    result = verify_implementation(in_float32, SPEC)
    assert result.status == "FAILS" and result.codes == ("low-precision",), result.describe()
    assert "float32" in result.diagnosis[0].message


def test_the_verdict_as_json_says_what_was_found():
    import json

    flipped = verify_implementation(lambda x, w, b: scatter(x, w, b, SPEC, flip=True), SPEC).to_dict()
    assert json.loads(json.dumps(flipped))["diagnosis"][0]["code"] == "missing-flip" and flipped["mismatches"]
    agreed = json.loads(json.dumps(verify_implementation(RIGHT, SPEC).to_dict()))
    assert agreed["status"] == "AGREES (sampled, exact values)" and agreed["computes_in"] == "float64"
    assert agreed["rounding_ratio"] == 0 and agreed["transposed"].startswith("ConvTranspose2d 2→3")
    failed = verify_implementation(_on_call(RIGHT, 2), SPEC).to_dict()
    assert failed["counterexample"].startswith("on an integer probe at output")
