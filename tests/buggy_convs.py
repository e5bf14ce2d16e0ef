"""Convolution implementations for the checking library's tests: one correct NumPy layer and a dozen buggy ones.

Everything here is plain NumPy written the way people write it — padding with ``np.pad``, slicing strided
windows, ``np.einsum`` over channels — and works on float arrays and on object arrays of SymPy symbols
alike, batched (N, C, H, W). It shares no code with symconv: the verifier has to find each bug from the
function's behaviour alone. ``BUGS`` lists every buggy function with the spec it is checked on and the
diagnosis code it must receive; ``good`` is the correct layer for any spec, and ``reference`` builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symconv import ConvSpec


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def correlate(xpad, w, out_size, start=(0, 0), step=(1, 1), dil=(1, 1), groups=1, group_of=None, einsum="nlrc,il->nirc"):
    """y[n,i,j,k] = Σ xpad[n, l, start+j·step+m·dil, …]·w[i,l',m,n] over the group of i, by strided slicing."""
    c_out, cig, kh, kw = w.shape
    cog = c_out // groups
    ho, wo = out_size
    group_of = group_of or (lambda i: i // cog)
    y = np.zeros((xpad.shape[0], c_out, ho, wo), dtype=np.result_type(xpad, w))
    for m in range(kh):
        for n in range(kw):
            r0, c0 = start[0] + m * dil[0], start[1] + n * dil[1]
            patch = xpad[:, :, r0:r0 + (ho - 1) * step[0] + 1:step[0], c0:c0 + (wo - 1) * step[1] + 1:step[1]]
            for i in range(c_out):
                g = group_of(i)
                y[:, i:i + 1] += np.einsum(einsum, patch[:, g * cig:(g + 1) * cig], w[i:i + 1, :, m, n])
    return y


def _pad(x, before, after):
    return np.pad(x, ((0, 0), (0, 0), (before[0], after[0]), (before[1], after[1])), constant_values=0)


@dataclass(frozen=True)
class Layer:
    """A correct NumPy layer for ``spec``, with the parameters a user would hard-code."""

    spec: ConvSpec

    def pads(self):
        return self.spec.padding_before, self.spec.padding_after

    def products(self, x, w, **changes):
        s = self.spec
        before, after = self.pads()
        options = {"start": (0, 0), "step": _pair(s.stride), "dil": _pair(s.dilation), "groups": s.groups}
        options.update(changes)
        xpad = _pad(x, before, after) if "xpad" not in options else options.pop("xpad")
        return correlate(xpad, w, s.output_size, **options)

    def add_bias(self, y, b):
        if b is None:
            return y
        return y + (b[None] if self.spec.bias == "per_location" else b[None, :, None, None])

    def __call__(self, x, w, b):
        return self.add_bias(self.products(x, w), b)


def reference(spec: ConvSpec) -> Callable:
    """The correct NumPy layer for ``spec``."""
    return Layer(spec)


# ------------------------------------------------------------------------------------------ the bugs
# Each takes the spec it is meant for and returns fn(x, w, b).

def flipped_kernel(spec):
    """np.convolve habits: the kernel is flipped (a true convolution)."""
    layer = Layer(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w[:, :, ::-1, ::-1]), b)


def padding_off_by_one(spec):
    """Pads one pixel too many on every side, then reads windows from the corner as if padding were right."""
    layer = Layer(spec)

    def fn(x, w, b):
        before, after = layer.pads()
        xpad = _pad(x, [p + 1 for p in before], [p + 1 for p in after])
        return layer.add_bias(layer.products(x, w, xpad=xpad), b)
    return fn


def same_padding_odd_pixel_before(spec):
    """padding='same' with an even kernel: the odd pixel goes before (top/left) instead of after."""
    layer = Layer(spec)

    def fn(x, w, b):
        before, after = layer.pads()
        xpad = _pad(x, after, before)
        return layer.add_bias(layer.products(x, w, xpad=xpad), b)
    return fn


def stride_ignored_in_index(spec):
    """Output has the strided size, but windows step by 1."""
    layer = Layer(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w, step=(1, 1)), b)


def stride_not_applied(spec):
    """Computes the stride-1 output (wrong shape)."""
    import dataclasses
    layer = Layer(dataclasses.replace(spec, stride=1))
    return layer


def dilation_ignored(spec):
    """Taps read m instead of m·d."""
    layer = Layer(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w, dil=(1, 1)), b)


def stride_dilation_swapped(spec):
    """Passes dilation where stride goes and the other way round."""
    layer = Layer(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w, step=_pair(spec.dilation), dil=_pair(spec.stride)), b)


def swapped_channels(spec):
    """Indexes the weight as (in, out, h, w): einsum 'li' instead of 'il'."""
    layer = Layer(spec)

    def fn(x, w, b):
        wt = w.transpose(1, 0, 2, 3)
        return layer.add_bias(layer.products(x, wt), b)
    return fn


def mixed_groups(spec):
    """Output channel i reads the inputs of group i mod g (round-robin) instead of i // (C₂/g)."""
    layer = Layer(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w, group_of=lambda i: i % spec.groups), b)


def transposed_kernel(spec):
    """Kernel axes exchanged: w[..., n, m]."""
    layer = Layer(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w.transpose(0, 1, 3, 2)), b)


def bias_missing(spec):
    """Forgets the bias."""
    layer = Layer(spec)
    return lambda x, w, b: layer.products(x, w)


def bias_last_axis(spec):
    """Adds a (C₂,) bias to an (N, C₂, H', W') array: NumPy broadcasts it along W'."""
    layer = Layer(spec)
    return lambda x, w, b: layer.products(x, w) + b


def bias_in_loop(spec):
    """Adds the bias once per input channel (inside the channel loop)."""
    layer = Layer(spec)
    return lambda x, w, b: layer.products(x, w) + spec.in_per_group * b[None, :, None, None]


def bias_shared_not_per_location(spec):
    """The spec has one bias per output location (the note's formula); fn uses b[i, 0, 0] everywhere."""
    layer = Layer(spec)
    return lambda x, w, b: layer.products(x, w) + b[None, :, :1, :1]


def relu_applied(spec):
    """Applies ReLU: not bilinear."""
    layer = Layer(spec)
    return lambda x, w, b: np.maximum(layer(x, w, b), 0)


def residual_added(spec):
    """Adds the input as a residual connection (C₁ = C₂, same size)."""
    layer = Layer(spec)
    return lambda x, w, b: layer(x, w, b) + x


@dataclass(frozen=True)
class Bug:
    name: str
    make: Callable[[ConvSpec], Callable]
    spec: ConvSpec
    code: str


_SQUARE = ConvSpec(2, 2, input_size=(6, 6), kernel_size=(3, 3), padding=1)
_STRIDED = ConvSpec(2, 3, input_size=(8, 7), kernel_size=(3, 2), stride=(2, 3), padding=(1, 0))
_DILATED = ConvSpec(1, 2, input_size=(9, 8), kernel_size=(3, 2), dilation=(2, 3))
_GROUPED = ConvSpec(4, 4, input_size=(5, 5), kernel_size=(2, 2), groups=2)
_BROADCAST = ConvSpec(2, 3, input_size=(4, 5), kernel_size=(2, 3))  # output width 3 = C₂: y + b broadcasts

BUGS: list[Bug] = [
    Bug("flipped-kernel", flipped_kernel, ConvSpec(2, 3, input_size=(5, 5), kernel_size=(3, 3)), "flipped-kernel"),
    Bug("padding-off-by-one", padding_off_by_one, _SQUARE, "padding-off-by-one"),
    Bug("same-padding-odd-pixel", same_padding_odd_pixel_before,
        ConvSpec(1, 2, input_size=(5, 4), kernel_size=(2, 4), padding="same"), "padding-off-by-one"),
    Bug("stride-ignored-in-index", stride_ignored_in_index, _STRIDED, "stride-ignored"),
    Bug("stride-not-applied", stride_not_applied, _STRIDED, "stride-ignored"),
    Bug("dilation-ignored", dilation_ignored, _DILATED, "dilation-ignored"),
    Bug("stride-dilation-swapped", stride_dilation_swapped,
        ConvSpec(1, 1, input_size=(9, 9), kernel_size=(2, 2), stride=2, dilation=3), "stride-wrong"),
    Bug("swapped-channels", swapped_channels, ConvSpec(3, 3, input_size=(4, 4), kernel_size=(2, 2)), "swapped-channels"),
    Bug("mixed-groups", mixed_groups, _GROUPED, "mixed-groups"),
    Bug("transposed-kernel", transposed_kernel, _SQUARE, "transposed-kernel"),
    Bug("bias-missing", bias_missing, _SQUARE, "bias-missing"),
    Bug("bias-last-axis", bias_last_axis, _BROADCAST, "bias-wrong"),
    Bug("bias-in-loop", bias_in_loop, ConvSpec(3, 2, input_size=(4, 4), kernel_size=(2, 2)), "bias-scaled"),
    Bug("bias-shared", bias_shared_not_per_location,
        ConvSpec(2, 2, input_size=(4, 4), kernel_size=(2, 2), bias="per_location"), "bias-shared"),
    Bug("relu", relu_applied, _SQUARE, "not-bilinear"),
    Bug("residual", residual_added, _SQUARE, "extra-input-term"),
]


# ------------------------------------------------------------------------------------------ for the CLI
# Plain fn(x, w, b) for stride 1, no padding, no dilation, groups from the shapes — what a user would point
# `symconv check-impl tests.buggy_convs:good_conv` at.

def good_conv(x, w, b):
    """A valid cross-correlation, batched NCHW, groups = C₁ / w.shape[1]."""
    groups = x.shape[1] // w.shape[1]
    out = (x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1)
    y = correlate(x, w, out, groups=groups)
    return y if b is None else y + b[None, :, None, None]


def flipped_conv(x, w, b):
    """The same with the kernel flipped: a true convolution."""
    return good_conv(x, w[:, :, ::-1, ::-1], b)
