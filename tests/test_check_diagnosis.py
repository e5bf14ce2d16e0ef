"""Diagnoses that do not mislead: a common scale, non-finite output, a wrong shape alone, a dtype mismatch."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F

from symconv import ConvSpec
from symconv.check.implementation import verify_implementation
from tests.buggy_convs import reference

SPEC = ConvSpec(2, 3, input_size=5, kernel_size=3)
GOOD = reference(SPEC)


def products_scaled_by_one_plus_1e_7(x, w, b):
    return F.conv2d(x, w * (1 + 1e-7), b)


def test_products_scaled_by_a_common_factor_are_named_with_its_value():
    result = verify_implementation(products_scaled_by_one_plus_1e_7, SPEC)
    assert result.codes == ("scaled-products",)
    assert "every product ω·x scaled by a common factor 1.0000001" in result.diagnosis[0].message
    assert "not bi-affine" not in result.guarantee


def test_symbolic_scale_names_the_inexact_coefficients_and_the_common_factor():
    result = verify_implementation(lambda x, w, b: GOOD(x, w * sympy_scale(), b), SPEC)
    assert result.codes == ("inexact-coefficient", "scaled-products")
    assert "every product ω·x scaled by 1.00000010000000" in result.diagnosis[1].message


def sympy_scale():
    import sympy
    return sympy.Float("1.0000001")


def test_nan_output_is_non_finite_not_off_by_nan():
    result = verify_implementation(lambda x, w, b: F.conv2d(x, w, b) * np.nan, SPEC)
    assert result.codes == ("non-finite",) and "fn returned nan for finite input" in result.diagnosis[0].message
    assert "off by nan" not in result.describe()


def test_a_wrong_shape_is_reported_alone():
    def extra_channel(x, w, b):
        y = GOOD(x, w, b)
        return np.concatenate([y, y[:, :1]], axis=1)
    result = verify_implementation(extra_channel, SPEC)
    assert result.codes == ("output-shape",)


def test_float32_memory_read_gets_the_dtype_hint():
    def reads_float32(x, w, b):  # what C code with float* does to a float64 buffer, emulated
        def as32(a):
            a = np.ascontiguousarray(a)
            return np.frombuffer(a.tobytes(), dtype=np.float32)[:a.size].reshape(a.shape).astype(np.float64) \
                if a.dtype == np.float64 else a.astype(np.float64)
        return GOOD(as32(x), as32(w), as32(b))
    result = verify_implementation(reads_float32, SPEC)
    assert result.codes == ("not-bilinear",)
    assert "it reads its input as float32" in result.diagnosis[0].message and "dtype='float32'" in result.diagnosis[0].message
    assert verify_implementation(reads_float32, SPEC, dtype="float32").holds


def test_bfloat16_rounding_is_named_as_rounding_with_its_format():
    import torch

    def bf16(x, w, b):
        return F.conv2d(x.to(torch.bfloat16), w.to(torch.bfloat16), b.to(torch.bfloat16))
    result = verify_implementation(bf16, SPEC)
    assert result.codes == ("not-bilinear",)
    assert "only by rounding (relative " in result.diagnosis[0].message and "probably bfloat16" in result.diagnosis[0].message
