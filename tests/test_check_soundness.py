"""What "proved" covers: code that is right on a batch of one, on its first call, or on symbols only is not proved.

Each class of the issue's point 1 has one small named implementation here; each is correct on the call a
single symbolic run makes, and wrong for some batch, call or value a user's code will meet.
"""

from __future__ import annotations

import numpy as np
import pytest

from symconv import ConvSpec
from symconv.check.implementation import verify_implementation
from symconv.errors import NotEquivalentError
from symconv.testing import assert_implements_conv
from tests.buggy_convs import reference

SPEC = ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1)
GOOD = reference(SPEC)


def _im2col(x):
    """Patches (N, C₁·3·3, 25) of a padded 5×5 input, for a 3×3 kernel with padding 1."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = [xp[:, :, m:m + 5, n:n + 5].reshape(x.shape[0], x.shape[1], 25) for m in range(3) for n in range(3)]
    return np.stack(cols, axis=2).reshape(x.shape[0], -1, 25)  # (N, C₁·9, 25), channels outer, taps inner


def reshape_instead_of_transpose(x, w, b):
    """im2col with the batch folded by reshape where a transpose belongs: samples mix for N ≥ 2."""
    cols = _im2col(x)  # (N, K, P)
    n, k, p = cols.shape
    flat = cols.reshape(k, n * p)  # should be cols.transpose(1, 0, 2).reshape(k, n * p)
    y = w.reshape(w.shape[0], -1) @ flat  # (C₂, N·P)
    return y.reshape(w.shape[0], n, 5, 5).transpose(1, 0, 2, 3) + b[None, :, None, None]


def batch_index_dropped(x, w, b):
    """einsum without the batch index on the output: every sample gets the sum over the batch."""
    cols = _im2col(x)
    y = np.einsum("nkp,ok->op", cols, w.reshape(w.shape[0], -1))
    return np.stack([y.reshape(-1, 5, 5)] * x.shape[0]) + b[None, :, None, None]


def batch_mean_for_every_sample(x, w, b):
    """Convolves the batch mean (axis 0 where a per-sample statistic was meant) for every sample."""
    return GOOD(x.mean(axis=0, keepdims=True).repeat(x.shape[0], axis=0), w, b)


def sample_zero_copied(x, w, b):
    """Computes the first sample and copies it to every position of the batch."""
    return np.concatenate([GOOD(x[:1], w, b)] * x.shape[0])


def right_on_first_call_only():
    """A counter: the first call is right, later calls flip the kernel."""
    calls = []

    def fn(x, w, b):
        calls.append(1)
        return GOOD(x, w if len(calls) == 1 else w[:, :, ::-1, ::-1], b)
    return fn


def cached_by_shape():
    """A cache keyed by the input's shape: a second batch of the same shape gets the first one's output."""
    cache: dict = {}

    def fn(x, w, b):
        if x.shape not in cache:
            cache[x.shape] = GOOD(x, w, b)
        return cache[x.shape]
    return fn


def branches_on_object_dtype(x, w, b):
    """Right on symbols; on numbers a fast path that forgets the bias."""
    if x.dtype == object:
        return GOOD(x, w, b)
    return GOOD(x, w, 0 * b)


def branches_on_integer_values(x, w, b):
    """Right on symbols and integers; on non-integer values it rounds the input first."""
    if x.dtype != object and not np.all(x == np.round(x)):
        return GOOD(np.round(x), w, b)
    return GOOD(x, w, b)


POINT_1 = [
    ("reshape-instead-of-transpose", reshape_instead_of_transpose, "batch-dependent"),
    ("batch-index-dropped", batch_index_dropped, "batch-dependent"),
    ("batch-mean-for-every-sample", batch_mean_for_every_sample, "batch-dependent"),
    ("sample-zero-copied", sample_zero_copied, "batch-dependent"),
    ("counter-right-on-first-call", right_on_first_call_only(), "state-dependent"),
    ("cache-keyed-by-shape", cached_by_shape(), "state-dependent"),
    ("branch-on-object-dtype", branches_on_object_dtype, "type-dependent"),
    ("branch-on-integer-values", branches_on_integer_values, "type-dependent"),
]


@pytest.mark.parametrize(("name", "fn", "code"), POINT_1, ids=[p[0] for p in POINT_1])
def test_no_code_of_point_1_is_proved(name, fn, code):
    if code == "state-dependent":  # a fresh closure per run: its state starts at the first call
        fn = {"counter-right-on-first-call": right_on_first_call_only, "cache-keyed-by-shape": cached_by_shape}[name]()
    with pytest.raises(NotEquivalentError) as info:
        assert_implements_conv(fn, SPEC)
    assert f"{code}:" in str(info.value)
    if code == "state-dependent":
        fn = {"counter-right-on-first-call": right_on_first_call_only, "cache-keyed-by-shape": cached_by_shape}[name]()
    result = verify_implementation(fn, SPEC)
    assert not result.holds and not result.proved and result.codes == (code,)


def test_each_of_them_is_right_on_a_single_symbolic_sample():
    """The premise: on one call with one sample of symbols every one of them computes the layer."""
    from symconv.check.form import expected_form
    from symconv.check.symbolic import parse_symbolic
    from symconv.core.symbols import bias_symbols, input_symbols, weight_symbols

    x = np.array(input_symbols(SPEC).tolist(), dtype=object)[None]
    w = np.array(weight_symbols(SPEC).tolist(), dtype=object)
    b = np.array(bias_symbols(SPEC).tolist(), dtype=object)
    for name, fn, code in POINT_1:
        if code == "state-dependent":
            fn = {"counter-right-on-first-call": right_on_first_call_only, "cache-keyed-by-shape": cached_by_shape}[name]()
        assert parse_symbolic(SPEC, fn(x.copy(), w, b)[0]).form == expected_form(SPEC), name


def test_a_correct_layer_is_proved_and_says_what_was_assumed():
    result = verify_implementation(GOOD, SPEC)
    assert result.proved and result.status == "HOLDS (exact)"
    assert "batch of two samples of independent SymPy symbols" in result.guarantee
    assert "deterministic" in result.guarantee
    assert result.details["rounding"] == "within the rounding bound of float64 (observed/bound = 0)"
    assert result.details["computes_in"] == "float64"


def test_float32_inside_a_float64_layer_is_flagged_with_its_ratio():
    def float32_inside(x, w, b):
        return GOOD(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32))
    result = verify_implementation(float32_inside, SPEC)
    assert result.codes == ("low-precision",)
    message = result.diagnosis[0].message
    assert "exceeds the float64 bound ×" in message and "fn computes in float32 (observed/bound = " in message
    assert "it returns float32" in message and "pass dtype='float32'" in message
    as_float32 = verify_implementation(float32_inside, SPEC, dtype="float32")
    assert as_float32.holds and as_float32.details["rounding"].startswith("within the rounding bound of float32 "
                                                                          "(observed/bound = ")
    assert 0 < as_float32.details["rounding_ratio"] <= 1


def test_atol_overrides_the_bound():
    def float32_inside(x, w, b):
        return GOOD(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32))
    result = verify_implementation(float32_inside, SPEC, atol=1e-4)
    assert result.holds and result.details["rounding"].startswith("within atol 0.0001 (largest difference ")


def test_non_finite_output_is_named():
    def nan_for_negative(x, w, b):
        y = GOOD(x, w, b)
        return y if x.dtype == object else np.where(y < -100, np.nan, y) + np.where(x.min() < 0, np.nan, 0)
    result = verify_implementation(nan_for_negative, SPEC)
    assert result.codes == ("non-finite",) and "fn returned nan" in result.diagnosis[0].message


def test_a_crash_on_numbers_after_symbols_is_a_failure_with_the_exception():
    def only_symbols(x, w, b):
        if x.dtype != object:
            raise ZeroDivisionError("division by zero in the fast path")
        return GOOD(x, w, b)
    result = verify_implementation(only_symbols, SPEC)
    assert result.codes == ("raised",)
    assert "ZeroDivisionError: division by zero in the fast path" in result.diagnosis[0].message
