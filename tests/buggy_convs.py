"""Convolution implementations for the checking library's tests: one correct NumPy layer and a dozen buggy ones.

Everything here is plain NumPy written the way people write it — padding with ``np.pad``, slicing strided
windows, ``np.einsum`` over channels — and works on float arrays and on object arrays of SymPy symbols
alike, batched (N, C, H, W). It shares no code with symconv: the verifier has to find each bug from the
function's behaviour alone. ``BUGS`` lists every buggy function with the spec it is checked on and the
diagnosis code it must receive; ``good`` is the correct layer for any spec, and ``reference`` builds it.
"""

from __future__ import annotations

import itertools
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


# ------------------------------------------------------------------------------------------ any number of axes
# The same habits for Conv1d, Conv3d (and any ndim): one N-D NumPy layer written with strided slices and
# np.pad, and bugs that each change one axis. Like the 2-D ones they run on numbers and on SymPy symbols.

def correlate_nd(xpad, w, out_size, start=None, step=None, dil=None, groups=1, group_of=None):
    """y[n,i,*o] = Σ xpad[n, l, start + o·step + t·dil]·w[i,l',*t] over the group of i, any number of axes."""
    c_out, cig, *kernel = w.shape
    nd = len(kernel)
    start, step, dil = start or (0,) * nd, step or (1,) * nd, dil or (1,) * nd
    cog = c_out // groups
    group_of = group_of or (lambda i: i // cog)
    y = np.zeros((xpad.shape[0], c_out, *out_size), dtype=np.result_type(xpad, w))
    for t in itertools.product(*map(range, kernel)):
        first = [start[a] + t[a] * dil[a] for a in range(nd)]
        window = tuple(slice(f, f + (o - 1) * s + 1, s) for f, o, s in zip(first, out_size, step))
        patch = xpad[(slice(None), slice(None), *window)]
        for i in range(c_out):
            g = group_of(i)
            y[:, i] += np.einsum("nl...,l->n...", patch[:, g * cig:(g + 1) * cig], w[(i, slice(None), *t)])
    return y


def pad_nd(x, before, after):
    return np.pad(x, ((0, 0), (0, 0), *zip(before, after)), constant_values=0)


@dataclass(frozen=True)
class LayerND:
    """A correct NumPy layer for ``spec`` of any ndim (batched, channels first), with the spec's parameters."""

    spec: ConvSpec

    def products(self, x, w, before=None, after=None, **changes):
        s = self.spec
        xpad = pad_nd(x, before or s.padding_before, after or s.padding_after)
        options = {"step": s.stride, "dil": s.dilation, "groups": s.groups, **changes}
        return correlate_nd(xpad, w, s.output_size, **options)

    def add_bias(self, y, b):
        if b is None:
            return y
        return y + (b[None] if self.spec.bias == "per_location" else b.reshape(1, -1, *[1] * self.spec.ndim))

    def __call__(self, x, w, b):
        return self.add_bias(self.products(x, w), b)


def _flip(w, axes):
    index = [slice(None)] * w.ndim
    for a in axes:
        index[2 + a] = slice(None, None, -1)
    return w[tuple(index)]


def flipped_nd(spec, axes):
    """The kernel flipped on ``axes`` (all of them: a true convolution)."""
    layer = LayerND(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w=_flip(w, axes)), b)


def padding_off_by_one_nd(spec, axis):
    """One more zero before ``axis`` (and after): every tap on that axis reads one step back."""
    layer = LayerND(spec)
    more = [int(a == axis) for a in range(spec.ndim)]
    before = tuple(p + m for p, m in zip(spec.padding_before, more))
    after = tuple(p + m for p, m in zip(spec.padding_after, more))
    return lambda x, w, b: layer.add_bias(layer.products(x, w, before, after), b)


def stride_ignored_nd(spec, axis):
    """Windows step by 1 on ``axis`` although the output has the strided size there."""
    layer = LayerND(spec)
    step = tuple(1 if a == axis else s for a, s in enumerate(spec.stride))
    return lambda x, w, b: layer.add_bias(layer.products(x, w, step=step), b)


def stride_swapped_nd(spec, a, c):
    """The strides of axes ``a`` and ``c`` exchanged (e.g. a (D, H, W) tuple read as (W, H, D)): another output shape."""
    import dataclasses
    step = list(spec.stride)
    step[a], step[c] = step[c], step[a]
    return LayerND(dataclasses.replace(spec, stride=tuple(step)))


def dilation_ignored_nd(spec):
    """Taps read t instead of t·d on every axis."""
    layer = LayerND(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w, dil=(1,) * spec.ndim), b)


def swapped_channels_nd(spec):
    """The weight indexed as (in, out, *kernel)."""
    layer = LayerND(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, np.swapaxes(w, 0, 1)), b)


def mixed_groups_nd(spec):
    """Output channel i reads the inputs of group i mod g."""
    layer = LayerND(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w, group_of=lambda i: i % spec.groups), b)


def transposed_input_nd(spec, a, c):
    """The input's spatial axes ``a`` and ``c`` exchanged before the (otherwise right) layer."""
    layer = LayerND(spec)
    return lambda x, w, b: layer(np.swapaxes(x, 2 + a, 2 + c), w, b)


def stride_not_applied_nd(spec):
    """Computes the stride-1 layer (wrong output shape)."""
    import dataclasses
    return LayerND(dataclasses.replace(spec, stride=1))


def bias_last_axis_nd(spec):
    """A (C₂,) bias added to an (N, C₂, *spatial') array: broadcast along the last axis."""
    layer = LayerND(spec)
    return lambda x, w, b: layer.products(x, w) + b


def bias_shared_nd(spec):
    """The spec has a bias per location; fn adds b[i, 0, …] everywhere."""
    layer = LayerND(spec)
    return lambda x, w, b: layer.products(x, w) + b[(None, slice(None), *[slice(0, 1)] * spec.ndim)]


def channels_last_reshaped(spec):
    """Given channels-last x (N, *spatial, C), reshapes it to (N, C, *spatial) — where a transpose belongs — then
    computes the right layer and returns it channels-last, correctly transposed."""
    layer = LayerND(spec)

    def fn(x, w, b):
        y = layer(x.reshape(x.shape[0], x.shape[-1], *x.shape[1:-1]), w, b)
        return np.moveaxis(y, 1, -1)
    return fn


def output_reshaped(spec):
    """Given channels-last x, transposes it right, computes the layer, and reshapes y (N, C₂, *spatial') to
    (N, *spatial', C₂) where a transpose belongs."""
    layer = LayerND(spec)

    def fn(x, w, b):
        y = layer(np.moveaxis(x, -1, 1), w, b)
        return y.reshape(y.shape[0], *y.shape[2:], y.shape[1])
    return fn


def correct_channels_last(spec):
    """The right layer for channels-last arrays (N, *spatial, C) (a per-location bias comes as (*spatial', C₂))."""
    layer = LayerND(spec)

    def fn(x, w, b):
        bias = np.moveaxis(b, -1, 0) if b is not None and b.ndim > 1 else b
        return np.moveaxis(layer(np.moveaxis(x, -1, 1), w, bias), 1, -1)
    return fn


@dataclass(frozen=True)
class BugND:
    name: str
    make: Callable[[ConvSpec], Callable]
    spec: ConvSpec
    code: str
    words: str  # a phrase the finding's message must contain (which axis)
    layout: str = "auto"


_1D = ConvSpec(2, 3, input_size=(9,), kernel_size=3, padding=1)
_1D_STRIDED = ConvSpec(2, 3, input_size=(11,), kernel_size=3, stride=2, padding=1)
_3D = ConvSpec(2, 2, input_size=(3, 4, 4), kernel_size=(2, 2, 3), padding=(1, 0, 1))
_3D_STRIDED = ConvSpec(1, 2, input_size=(7, 5, 6), kernel_size=(2, 2, 3), stride=(2, 1, 3), padding=(1, 0, 0))
_3D_DILATED = ConvSpec(1, 2, input_size=(6, 5, 5), kernel_size=(2, 2, 2), dilation=(2, 1, 3))

BUGS_ND: list[BugND] = [
    BugND("1d-flipped", lambda s: flipped_nd(s, (0,)), _1D, "flipped-kernel", "a true convolution"),
    BugND("1d-padding-off-by-one", lambda s: padding_off_by_one_nd(s, 0), _1D, "padding-off-by-one",
          "one step back along the length"),
    BugND("1d-stride-ignored", lambda s: stride_ignored_nd(s, 0), _1D_STRIDED, "stride-ignored", "stride 2 left out"),
    BugND("1d-stride-not-applied", stride_not_applied_nd, _1D_STRIDED, "stride-ignored", "stride 1"),
    BugND("1d-dilation-ignored", dilation_ignored_nd, ConvSpec(1, 2, input_size=(10,), kernel_size=3, dilation=3),
          "dilation-ignored", "dilation 3 left out"),
    BugND("1d-swapped-channels", swapped_channels_nd, ConvSpec(3, 3, input_size=(6,), kernel_size=2),
          "swapped-channels", "in/out channels swapped"),
    BugND("1d-bias-last-axis", bias_last_axis_nd, ConvSpec(2, 3, input_size=(5,), kernel_size=3), "bias-wrong",
          "along the last axis"),
    BugND("1d-channels-last-read-as-first", channels_last_reshaped, _1D, "input-layout",
          "channels-last input (N, L, C) read as channels-first (N, C, L)", layout="NLC"),
    BugND("1d-output-reshaped", output_reshaped, _1D, "outputs-permuted",
          "output computed channels-first (N, C₂, L') and reshaped to (N, L', C₂)", layout="NLC"),
    BugND("3d-flipped-depth", lambda s: flipped_nd(s, (0,)), _3D, "flipped-kernel", "along the depth only"),
    BugND("3d-flipped-all", lambda s: flipped_nd(s, (0, 1, 2)), _3D, "flipped-kernel", "on every axis"),
    BugND("3d-padding-off-by-one-width", lambda s: padding_off_by_one_nd(s, 2), _3D, "padding-off-by-one",
          "one step back along the width"),
    BugND("3d-stride-ignored-depth", lambda s: stride_ignored_nd(s, 0), _3D_STRIDED, "stride-ignored",
          "on the depth only"),
    BugND("3d-stride-depth-width-swapped", lambda s: stride_swapped_nd(s, 0, 2), _3D_STRIDED, "stride-wrong",
          "stride of the depth and the width swapped"),
    BugND("3d-dilation-ignored", dilation_ignored_nd, _3D_DILATED, "dilation-ignored", "dilation 2×1×3 left out"),
    BugND("3d-swapped-channels", swapped_channels_nd, ConvSpec(2, 2, input_size=(3, 3, 3), kernel_size=2),
          "swapped-channels", "in/out channels swapped"),
    BugND("3d-mixed-groups", mixed_groups_nd, ConvSpec(4, 4, input_size=(3, 3, 3), kernel_size=2, groups=2),
          "mixed-groups", "i mod 2"),
    BugND("3d-transposed-input-height-width", lambda s: transposed_input_nd(s, 1, 2), _3D, "transposed-input",
          "input axes height and width transposed"),
    BugND("3d-bias-shared", bias_shared_nd,
          ConvSpec(1, 2, input_size=(3, 3, 3), kernel_size=2, bias="per_location"), "bias-shared", "b[i, 0, 0, 0]"),
    BugND("3d-channels-last-read-as-first", channels_last_reshaped, _3D, "input-layout",
          "(N, D, H, W, C) read as channels-first", layout="NDHWC"),
]


def good_conv_nd(x, w, b):
    """A valid cross-correlation for any ndim, batched channels-first, groups = C₁ / w.shape[1]."""
    out = tuple(n - k + 1 for n, k in zip(x.shape[2:], w.shape[2:]))
    y = correlate_nd(x, w, out, groups=x.shape[1] // w.shape[1])
    return y if b is None else y + b.reshape(1, -1, *[1] * (x.ndim - 2))


def flipped_conv_nd(x, w, b):
    """The same with the kernel flipped on every axis: a true convolution."""
    return good_conv_nd(x, w[(slice(None), slice(None), *[slice(None, None, -1)] * (w.ndim - 2))], b)


# ------------------------------------------------------------------------------------------ padding modes
# PyTorch's padding_mode written with np.pad, as NumPy users write it, and the classic mistakes: zeros padding
# (np.pad's default), another mode, NumPy's "symmetric" for PyTorch's reflect, a circular wrap from the wrong end.

#: np.pad's name for each of PyTorch's modes.
NP_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def swapped_wrap(x, before, after):
    """Circular padding with each wrap from the wrong end: [x[:p], x, x[n−q:]] on every spatial axis."""
    for a, (p, q) in enumerate(zip(before, after)):
        axis = 2 + a
        n = x.shape[axis]
        parts = [np.take(x, range(p), axis=axis), x, np.take(x, range(n - q, n), axis=axis)]
        x = np.concatenate(parts, axis=axis)
    return x


@dataclass(frozen=True)
class PaddedND(LayerND):
    """The layer with x padded by ``np.pad(mode=np_mode)`` (any ndim, batched channels-first); ``pad`` replaces it."""

    np_mode: str = "constant"
    pad: Callable | None = None
    sides: tuple[tuple[int, int], ...] | None = None  # (before, after) per axis, default the spec's

    def products(self, x, w, before=None, after=None, **changes):
        s = self.spec
        sides = self.sides or tuple(zip(s.padding_before, s.padding_after))
        before = before or tuple(p for p, _ in sides)
        after = after or tuple(q for _, q in sides)
        if self.pad is not None:
            xpad = self.pad(x, before, after)
        else:
            xpad = np.pad(x, ((0, 0), (0, 0), *zip(before, after)), mode=self.np_mode)
        options = {"step": s.stride, "dil": s.dilation, "groups": s.groups, **changes}
        return correlate_nd(xpad, w, s.output_size, **options)


def mode_layer(spec: ConvSpec, mode: str | None = None) -> PaddedND:
    """The right NumPy layer for ``spec`` padded with PyTorch's ``mode`` (default the spec's) through np.pad."""
    return PaddedND(spec, NP_PAD[mode or spec.padding_mode])


def wrap_after(spec: ConvSpec) -> PaddedND:
    """Circular padding all after x, np.pad(x, (0, p + q), mode="wrap"): the output shifted cyclically."""
    sides = tuple((0, p + q) for p, q in zip(spec.padding_before, spec.padding_after))
    return PaddedND(spec, "wrap", sides=sides)


def mode_flipped(spec: ConvSpec):
    """The right padding, the kernel flipped on every axis."""
    layer = mode_layer(spec)
    return lambda x, w, b: layer(x, _flip(w, range(spec.ndim)), b)


def mode_stride_ignored(spec: ConvSpec):
    """The right padding, windows stepping by 1 although the output has the strided size."""
    layer = mode_layer(spec)
    return lambda x, w, b: layer.add_bias(layer.products(x, w, step=(1,) * spec.ndim), b)


def mode_stride_not_applied(spec: ConvSpec):
    """The right padding, the stride-1 layer computed (wrong output shape)."""
    import dataclasses
    return mode_layer(dataclasses.replace(spec, stride=1))
