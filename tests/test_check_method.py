"""method='auto' by cost: the first calls are timed and one-hot reading is used only when it fits the budget."""

from __future__ import annotations

import time

import numpy as np
import pytest

from symconv import ConvSpec
from symconv.check.implementation import verify_implementation
from symconv.cli import main
from symconv.errors import SpecError

SPEC = ConvSpec(2, 3, input_size=5, kernel_size=3)


def pure_python_loops(x, w, b):
    """Seven nested Python loops on floats (float() refuses symbols, so this layer is probed)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    out = np.zeros((n, f, h - kh + 1, wd - kw + 1))
    for i in range(n):
        for k in range(f):
            for r in range(h - kh + 1):
                for s in range(wd - kw + 1):
                    acc = float(b[k])
                    for ch in range(c):
                        for m in range(kh):
                            for q in range(kw):
                                acc += float(x[i, ch, r + m, s + q]) * float(w[k, ch, m, q])
                    out[i, k, r, s] = acc
    return out


def test_a_pure_python_loop_layer_is_checked_within_the_budget():
    started = time.perf_counter()
    result = verify_implementation(pure_python_loops, SPEC)
    seconds = time.perf_counter() - started
    assert result.holds and seconds <= 10 and result.details["method_reason"].startswith("auto: one-hot ")


def test_a_slow_layer_is_read_sparse_because_one_hot_would_not_fit():
    def slow(x, w, b):  # 5 ms per sample: one-hot's 2,700 inputs would take ≈ 13 s
        time.sleep(0.005 * x.shape[0])
        return _numpy_layer(x, w, b)
    started = time.perf_counter()
    result = verify_implementation(slow, SPEC)
    assert result.holds and result.method == "sparse" and time.perf_counter() - started <= 10
    assert result.details["method_reason"].startswith("auto: one-hot would take ≈ ")
    assert "above half the 10 s time budget" in result.details["method_reason"]


def test_a_fast_layer_gets_one_hot_and_says_why():
    fast = verify_implementation(_numpy_layer, SPEC)
    assert fast.method == "onehot" and fast.details["method_reason"].startswith("auto: one-hot fits the 10 s time budget")


def _numpy_layer(x, w, b):
    x = np.asarray(x, dtype=np.float64)  # numbers only: probed
    y = np.zeros((x.shape[0], 3, 3, 3))
    for m in range(3):
        for n in range(3):
            y += np.einsum("nlrc,il->nirc", x[:, :, m:m + 3, n:n + 3], w[:, :, m, n])
    return y + b[None, :, None, None]


def test_method_overrides_and_the_reason_says_so():
    result = verify_implementation(_numpy_layer, SPEC, method="sparse")
    assert result.details["method_reason"] == "method='sparse' as asked"
    assert "method='sparse' as asked" in result.describe().splitlines()[1]


def test_a_small_budget_moves_auto_to_sparse():
    result = verify_implementation(_numpy_layer, SPEC, time_budget=1e-6)
    assert result.method == "sparse" and "above half the 1e-06 s time budget" in result.details["method_reason"]


def test_time_budget_is_validated_and_on_the_command_line(capsys):
    with pytest.raises(SpecError, match=r"^time_budget must be a number of seconds > 0, got 0$"):
        verify_implementation(_numpy_layer, SPEC, time_budget=0)
    layer = ["--in-channels", "2", "--out-channels", "3", "--input", "5", "--kernel", "3"]
    assert main(["check-impl", "tests.test_check_method:_numpy_layer", *layer, "--time-budget", "1e-6"]) == 0
    assert "auto: one-hot would take" in capsys.readouterr().out
