"""Real-world-style implementations, each in the calling convention its style uses, checked without an adapter.

The six layers below are written the way the issue found them in public code: CS231n's naive loops and its
stride-trick layer (``(x, w, b, conv_param)`` returning ``(out, cache)``), an im2col layer taking ints
``(x, w, b, stride, pad)``, a SciPy layer without bias ``(X, W, stride, pad)``, a ``torch.nn.Conv2d`` module, and a
numpy-ml-style layer object (weights in ``parameters["W"]`` as (h, w, C₁, C₂), bias (1, 1, 1, C₂), channels last,
dilation counted as d − 1). ``check-impl`` is pointed at each of them as they are.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

from symconv import ConvSpec
from symconv.check.implementation import verify_implementation
from symconv.cli import main
from symconv.errors import SpecError

SPEC = ConvSpec(2, 3, input_size=(6, 5), kernel_size=3, stride=2, padding=1)
LAYER = ["--in-channels", "2", "--out-channels", "3", "--input", "6x5", "--kernel", "3", "--stride", "2", "--padding", "1"]


def conv_forward_naive(x, w, b, conv_param):
    """CS231n: loops over samples, filters and output positions."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    h_out, w_out = 1 + (h + 2 * pad - hh) // stride, 1 + (wd + 2 * pad - ww) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((n, f, h_out, w_out), dtype=x.dtype)
    for i in range(n):
        for k in range(f):
            for r in range(h_out):
                for s in range(w_out):
                    window = x_pad[i, :, r * stride:r * stride + hh, s * stride:s * stride + ww]
                    out[i, k, r, s] = np.sum(window * w[k]) + b[k]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_forward_strides(x, w, b, conv_param):
    """CS231n's fast layer: as_strided windows, one tensordot."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    p = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    h_out, w_out = (h + 2 * pad - hh) // stride + 1, (wd + 2 * pad - ww) // stride + 1
    shape = (c, hh, ww, n, h_out, w_out)
    item = p.itemsize
    strides = (item * p.shape[2] * p.shape[3], item * p.shape[3], item, item * c * p.shape[2] * p.shape[3],
               item * stride * p.shape[3], item * stride)
    p = np.ascontiguousarray(p)
    windows = np.lib.stride_tricks.as_strided(p, shape=shape, strides=strides)
    cols = np.ascontiguousarray(windows).reshape(c * hh * ww, n * h_out * w_out)
    res = w.reshape(f, -1).dot(cols) + b.reshape(-1, 1)
    out = res.reshape(f, n, h_out, w_out).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), (x, w, b, conv_param, cols)


def im2col_conv(x, w, b, stride, pad):
    """An im2col layer with int stride and pad."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    cols = np.empty((n, c * kh * kw, ho * wo), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            cols[:, :, i * wo + j] = patch.reshape(n, -1)
    out = np.einsum("fk,nkp->nfp", w.reshape(f, -1), cols)
    return out.reshape(n, f, ho, wo) + b[None, :, None, None]


def scipy_conv_no_bias(X, W, stride, pad):
    """SciPy's correlate2d per (sample, filter, channel), then strided; no bias."""
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = []
    for xs in Xp:
        out.append([sum(scipy.signal.correlate2d(xs[c], W[f, c], mode="valid") for c in range(W.shape[1]))
                    [::stride, ::stride] for f in range(W.shape[0])])
    return np.array(out)


class NumpyMLConv2D:
    """numpy-ml style: parameters {"W": (fr, fc, in, out), "b": (1, 1, 1, out)}, NHWC input, dilation d − 1."""

    def __init__(self, out_ch, kernel_shape, pad=0, stride=1, dilation=0):
        self.out_ch, self.kernel_shape, self.pad, self.stride, self.dilation = out_ch, kernel_shape, pad, stride, dilation
        self.parameters = {"W": None, "b": None}

    def forward(self, X):
        W, b = self.parameters["W"], self.parameters["b"]
        s, p, d = self.stride, self.pad, self.dilation + 1  # numpy-ml counts dilation from 0
        fr, fc, _, out_ch = W.shape
        n, h, wd, _ = X.shape
        Xp = np.pad(X, ((0, 0), (p, p), (p, p), (0, 0)))
        ho, wo = (h + 2 * p - d * (fr - 1) - 1) // s + 1, (wd + 2 * p - d * (fc - 1) - 1) // s + 1
        Z = np.zeros((n, ho, wo, out_ch), dtype=X.dtype)
        for m in range(fr):
            for k in range(fc):
                window = Xp[:, m * d:m * d + (ho - 1) * s + 1:s, k * d:k * d + (wo - 1) * s + 1:s, :]
                Z = Z + np.einsum("nhwc,co->nhwo", window, W[m, k])
        return Z + b


NUMPY_ML = NumpyMLConv2D(3, (3, 3), pad=1, stride=2, dilation=0)
DILATED = ConvSpec(2, 3, input_size=(7, 6), kernel_size=2, dilation=2)
NUMPY_ML_DILATED = NumpyMLConv2D(3, (2, 2), dilation=1)  # d = 2 written as 1
TORCH_MODULE = torch.nn.Conv2d(2, 3, 3, stride=2, padding=1)
NO_BIAS = ["--bias", "none"]

REAL_WORLD = [
    ("cs231n-naive", "conv_forward_naive", [], "HOLDS (exact)"),
    ("cs231n-strides", "conv_forward_strides", [], None),
    ("im2col-ints", "im2col_conv", [], "HOLDS (exact)"),
    ("scipy-no-bias", "scipy_conv_no_bias", NO_BIAS, None),
    ("torch-module", "TORCH_MODULE", [], None),
    ("numpy-ml", "NUMPY_ML", ["--layout", "NHWC", "--weight-layout", "HWIO"], "HOLDS (exact)"),
]


@pytest.mark.parametrize(("name", "attr", "flags", "status"), REAL_WORLD, ids=[r[0] for r in REAL_WORLD])
def test_check_impl_runs_real_world_styles_without_an_adapter(name, attr, flags, status, capsys):
    assert main(["check-impl", f"tests.test_check_signatures:{attr}", *LAYER, *flags]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert (status or "") in out.splitlines()[0]


def test_numpy_ml_dilation_counted_from_zero():
    result = verify_implementation(NUMPY_ML_DILATED, DILATED, layout="NHWC", weight_layout="HWIO")
    assert result.proved


def test_explicit_signatures_and_attribute_paths():
    assert verify_implementation(conv_forward_naive, SPEC, signature="x,w,b,conv_param").proved
    assert verify_implementation(NUMPY_ML, SPEC, signature="module:parameters[W],parameters[b]", layout="NHWC",
                                 weight_layout="HWIO").proved
    assert verify_implementation(TORCH_MODULE, SPEC, signature="module").holds


def test_a_bug_in_cs231n_style_is_still_named():
    def flipped(x, w, b, conv_param):
        return conv_forward_naive(x, w[:, :, ::-1, ::-1], b, conv_param)
    assert verify_implementation(flipped, SPEC).codes == ("flipped-kernel",)


def test_no_bias_convention_needs_a_layer_without_bias():
    with pytest.raises(SpecError, match=r"^fn is called as fn\(x, w, stride, pad\) without bias, which takes no bias, "
                                        r"but the layer has one: check the layer with bias='none'"):
        verify_implementation(scipy_conv_no_bias, SPEC)


def test_a_signature_matching_no_convention_lists_them_and_an_adapter():
    def odd(x, w, b, stride, pad, dilation, groups, extra):
        return x
    with pytest.raises(SpecError) as info:
        verify_implementation(odd, SPEC)
    message = str(info.value)
    assert message.startswith("odd(x, w, b, stride, pad, dilation, groups, extra) matches none of the calling "
                              "conventions tried (fn(x, weight, bias); fn(x, w, b, conv_param)")
    assert "    def conv(x, weight, bias):" in message and len(message.splitlines()) == 5


def test_unknown_signature_is_a_one_line_spec_error():
    with pytest.raises(SpecError, match=r"^signature must be one of 'auto', 'x,w,b', .* or 'module:WEIGHT,BIAS', got 'xyz'$"):
        verify_implementation(conv_forward_naive, SPEC, signature="xyz")
