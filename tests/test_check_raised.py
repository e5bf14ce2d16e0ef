"""The user's exception is a failure of fn (FAILS, exit 1, NotEquivalentError); bad input to symconv stays exit 2."""

from __future__ import annotations

import numpy as np
import pytest

from symconv import ConvSpec
from symconv.check.implementation import verify_implementation
from symconv.cli import main
from symconv.errors import NotEquivalentError, SpecError
from symconv.testing import assert_implements_conv
from tests.buggy_convs import reference

NON_SQUARE = ConvSpec(2, 3, input_size=(5, 6), kernel_size=3)


def swapped_height_width(x, w, b):
    """Allocates the output (W', H') and writes (H', W') windows into it: fails on a non-square input."""
    n, _, height, width = x.shape
    y = np.zeros((n, w.shape[0], width - 2, height - 2), dtype=x.dtype)
    for i in range(height - 2):
        for j in range(width - 2):
            y[:, :, i, j] = np.einsum("nlmk,olmk->no", x[:, :, i:i + 3, j:j + 3], w)
    return y + b[None, :, None, None]


def test_a_crash_is_a_failure_naming_the_exception_and_the_call():
    result = verify_implementation(swapped_height_width, NON_SQUARE)
    assert result.status == "FAILS" and result.codes == ("raised",) and not result.holds
    message = result.diagnosis[0].message
    assert message.startswith("fn raised IndexError: index 3 is out of bounds for axis 3 with size 3 when called as "
                              "fn(x, weight, bias) with x ('N', 2, 5, 6), weight (3, 2, 3, 3), bias (3,)")
    with pytest.raises(NotEquivalentError, match=r"raised: fn raised IndexError"):
        assert_implements_conv(swapped_height_width, NON_SQUARE)


def test_check_impl_exits_1_on_a_crash_and_2_on_bad_arguments(tmp_path, capsys):
    path = tmp_path / "crash.py"
    path.write_text("def conv(x, w, b):\n    for x in range(3):\n        pass\n    return x.shape\n")
    layer = ["--in-channels", "1", "--out-channels", "1", "--input", "4", "--kernel", "2"]
    assert main(["check-impl", f"{path}:conv", *layer]) == 1
    out = capsys.readouterr().out
    assert ": FAILS" in out and "raised: fn raised AttributeError: 'int' object has no attribute 'shape'" in out
    assert main(["check-impl", f"{path}:conv", *layer, "--method", "bogus"]) == 2  # symconv's argument: exit 2
    assert main(["check-impl", f"{path}:nothing", *layer]) == 2


def test_a_signature_that_takes_no_bias_is_bad_input_not_a_crash():
    with pytest.raises(SpecError, match=r"^<lambda>\(x, w\) matches none of the calling conventions tried"):
        verify_implementation(lambda x, w: x, ConvSpec(1, 1, input_size=3, kernel_size=2))


def test_channels_last_code_gets_a_hint():
    spec = ConvSpec(2, 3, input_size=(5, 6), kernel_size=3)
    good = reference(spec)

    def nhwc(x, w, b):
        n, h, wd, c = x.shape  # channels last, undeclared
        assert c == w.shape[1], f"expected {w.shape[1]} channels last, got shape {x.shape}"
        return good(x.transpose(0, 3, 1, 2), w, b).transpose(0, 2, 3, 1)
    result = verify_implementation(nhwc, spec)
    assert result.codes == ("raised",)
    assert result.diagnosis[0].message.endswith("fn runs on channels-last arrays (N, H, W, C): pass layout='NHWC' "
                                                "(check-impl --layout NHWC)")
    assert verify_implementation(nhwc, spec, layout="NHWC").proved


def test_python_2_code_fails_on_import_with_exit_1(tmp_path, capsys):
    path = tmp_path / "py2.py"
    path.write_text("def conv(x, w, b):\n    print 'computing'\n    return x\n")
    layer = ["--in-channels", "1", "--out-channels", "1", "--input", "4", "--kernel", "2"]
    assert main(["check-impl", f"{path}:conv", *layer]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:conv: FAILS\n  diagnosis:\n    - raised: importing '{path}' raised SyntaxError: ")
