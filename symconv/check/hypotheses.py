"""The bugs the diagnosis knows, each built as a complete form: how buggy code reads x and ω (:class:`Reader`).

Why hypotheses and not heuristics: each candidate bug — a flipped kernel, off-by-one padding, a stride
or dilation applied wrongly, swapped channels, mixed groups, a transposed kernel, an input read in the other
channel order — is a :class:`Reader` (the definition's with some fields changed), its form is built here term by
term, and the diagnosis compares it with the implementation's. A bug is named only when its whole form matches.
Input positions go through the one tap map :func:`symconv.core.taps.tap`; a hypothesis about the tap map
(off-by-one padding, stride or dilation ignored or swapped) is that same map called with the buggy arguments.

For a layer padded with reflect, replicate or circular every reader reads through that padding
(:mod:`symconv.check.padded`), so the bugs above are found on top of the mode, and the padding itself is a
hypothesis: zeros, another of PyTorch's modes, NumPy's symmetric, a circular wrap from the wrong end.

Every hypothesis is per spatial axis, for any number of axes, and its words name the axes: length (1-D);
rows and columns (2-D); depth, height and width (3-D); axis k beyond. A swap of two axes (a transposed kernel
or input, strides exchanged) needs two axes of equal size and is only built then.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..core.spec import ConvSpec, axis_names, check_padding_mode
from ..core.taps import tap
from ..errors import SpecError, TooLargeError
from .form import Form, KeySpace
from .padded import axis_source

__all__ = [
    "CHANNEL_MODES",
    "MAX_HYPOTHESIS_TERMS",
    "Hypothesis",
    "Reader",
    "combine",
    "reader_form",
    "reader_size",
    "reordered",
    "axis_words",
    "same_shape_hypotheses",
    "shape_hypotheses",
    "standard_reader",
]

#: Hypotheses whose forms would exceed this many terms are not built (diagnosis says so).
MAX_HYPOTHESIS_TERMS = 20_000_000

CHANNEL_MODES: tuple[str, ...] = ("grouped", "interleaved", "first-group", "swapped")


# ------------------------------------------------------------------------------------------ readers

@dataclass(frozen=True)
class Reader:
    """How an implementation reads x and ω for output y[i, o₀, o₁, …] (0-based, one o per spatial axis).

    On axis a, input position ``tap(o_a, t_a, stride[a], −offset[a], dilation[a])`` = ``offset[a] + o_a·stride[a]
    + t_a·dilation[a]`` (``offset`` is minus the padding before) meets kernel entry ``ω[i, l', t̃₀, t̃₁, …]``
    where t̃_a = k_a−1−t_a when ``flip[a]`` (no axis flipped when ``flip`` is empty); ``transpose_kernel`` = (a, b)
    exchanges the kernel axes a and b, ``transpose_input`` = (a, b) the input's spatial axes a and b.
    ``channels``: ``"grouped"`` (output channel i in group i // (C₂/g) reads that group's input channels —
    PyTorch), ``"interleaved"`` (group i mod g), ``"first-group"`` (every output reads group 0's inputs),
    ``"swapped"`` (reads ω[l, i] instead of ω[i, l] within a group: in/out channel axes exchanged).
    ``input_order``: ``"channels-last"`` reads x's channels-first buffer as if it were (*spatial, C₁),
    ``"channels-first"`` a channels-last buffer as (C₁, *spatial) — a reshape where a transpose belongs.
    ``padding``: what a coordinate outside x reads (:func:`symconv.check.padded.axis_source`): ``"zeros"``
    (nothing), PyTorch's ``"reflect"``, ``"replicate"``, ``"circular"``, or a buggy padding (``"symmetric"``, …).
    """

    output_shape: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    offset: tuple[int, ...]
    flip: tuple[bool, ...] = ()
    transpose_kernel: tuple[int, ...] = ()
    transpose_input: tuple[int, ...] = ()
    channels: str = "grouped"
    input_order: str = ""
    padding: str = "zeros"


def standard_reader(spec: ConvSpec, output_shape: tuple[int, ...] | None = None) -> Reader:
    """The reader of the definition (PyTorch's cross-correlation) for ``spec``."""
    shape = spec.output_shape if output_shape is None else output_shape
    return Reader(
        output_shape=tuple(shape),
        stride=spec.stride,
        dilation=spec.dilation,
        offset=tuple(-p for p in spec.padding_before),
        padding=spec.padding_mode,
    )


def reader_size(spec: ConvSpec, reader: Reader) -> int:
    """Number of (output, tap) pairs a reader enumerates — an upper bound on its form's size."""
    return math.prod(reader.output_shape) * spec.in_per_group * math.prod(spec.kernel_size)


def _swaps(sizes: tuple[int, ...], pair: tuple[int, ...]) -> bool:
    """Whether exchanging the axes ``pair`` keeps every index in range (a swap needs two axes of equal size)."""
    return not pair or (len(pair) == 2 and sizes[pair[0]] == sizes[pair[1]])


def _applies(spec: ConvSpec, reader: Reader) -> bool:
    """False when the reader would index outside ω or x (e.g. a transposed non-square kernel)."""
    if not (_swaps(spec.kernel_size, reader.transpose_kernel) and _swaps(spec.input_size, reader.transpose_input)):
        return False
    if reader.channels == "swapped" and spec.in_per_group != spec.out_per_group:
        return False
    return reader.output_shape[0] <= spec.out_channels


def _weight_index(spec: ConvSpec, reader: Reader, i: Any, lp: Any, taps: list[Any]) -> tuple[Any, Any]:
    """(flat weight index, global input channel) read for output channel i, local input channel l', taps t."""
    kernel = spec.kernel_size
    cig, cog = spec.in_per_group, spec.out_per_group
    read = [k - 1 - t if reader.flip and reader.flip[a] else t for a, (k, t) in enumerate(zip(kernel, taps))]
    if reader.transpose_kernel:
        a, b = reader.transpose_kernel
        read[a], read[b] = read[b], read[a]
    g = i // cog
    if reader.channels == "interleaved":
        g = i % spec.groups
    if reader.channels == "first-group":
        g = np.zeros_like(i)
    if reader.channels == "swapped":
        # ω[(group of i)·C₂/g + l', i mod C₂/g]: the in/out axes exchanged inside the group
        w_out_index, w_in_index = (i // cog) * cog + lp, i % cog
    else:
        w_out_index, w_in_index = i, lp
    flat = w_out_index * cig + w_in_index
    for k, t in zip(kernel, read):
        flat = flat * k + t
    return flat, g * cig + lp


def reordered(channels: int, positions: int, order: str, flat: np.ndarray) -> np.ndarray:
    """Where a reshape that should have been a transpose takes entry ``flat`` (channel-major, C-order) from.

    ``order="channels-last"``: (c, p) is taken from entry p·C + c of a channels-first array (read as (P, C));
    ``"channels-first"``: from the entry a channels-last array holds at c·P + p (read as (C, P)).

    >>> reordered(2, 3, "channels-last", np.arange(6)).tolist(), reordered(2, 3, "channels-first", np.arange(6)).tolist()
    ([0, 2, 4, 1, 3, 5], [0, 3, 1, 4, 2, 5])
    """
    channel, position = flat // positions, flat % positions
    if order == "channels-last":
        return position * channels + channel
    return (flat % channels) * positions + flat // channels


def reader_form(spec: ConvSpec, reader: Reader) -> Form | None:
    """The bilinear form (products ω·x only, coefficient 1) of ``reader``; None if it cannot apply.

    A reader cannot apply when it would index outside ω (e.g. a transposed non-square kernel).

    >>> from symconv.check.form import expected_form
    >>> spec = ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1, bias="none")
    >>> reader_form(spec, standard_reader(spec)) == expected_form(spec)
    True
    """
    if not _applies(spec, reader):
        return None
    if reader_size(spec, reader) > MAX_HYPOTHESIS_TERMS:
        raise TooLargeError(f"diagnosis: a hypothesis form would hold {reader_size(spec, reader):,} terms")
    nd = spec.ndim
    c_out, *out = reader.output_shape
    grids = np.ix_(np.arange(c_out), *map(np.arange, out), np.arange(spec.in_per_group), *map(np.arange, spec.kernel_size))
    i, positions, lp, taps = grids[0], grids[1:1 + nd], grids[1 + nd], list(grids[2 + nd:])
    # the tap map with the reader's (possibly buggy) stride, padding and dilation
    coords = [tap(positions[a], taps[a], reader.stride[a], -reader.offset[a], reader.dilation[a]) for a in range(nd)]
    if reader.transpose_input:
        a, b = reader.transpose_input
        coords[a], coords[b] = coords[b], coords[a]
    weight_flat, channel = _weight_index(spec, reader, i, lp, taps)
    valid = channel < spec.in_channels
    row, input_flat = i, channel
    for a in range(nd):  # the coordinate read through the reader's padding (zeros: inside x only)
        source = axis_source(reader.padding, coords[a], spec.input_size[a], spec.padding_before[a], spec.padding_after[a])
        valid = valid & (source >= 0)
        row = row * out[a] + positions[a]
        input_flat = input_flat * spec.input_size[a] + source
    shape = np.broadcast_shapes(valid.shape, weight_flat.shape, input_flat.shape)
    valid = np.broadcast_to(valid, shape)
    row = np.broadcast_to(row, shape)[valid]
    input_flat = np.broadcast_to(input_flat, shape)[valid]
    if reader.input_order:
        input_flat = reordered(spec.in_channels, math.prod(spec.input_size), reader.input_order, input_flat)
    weight_flat = np.broadcast_to(weight_flat, shape)[valid]
    space = KeySpace(spec)
    return Form.build(spec, reader.output_shape, row, space.bilinear(input_flat, weight_flat))


# --------------------------------------------------------------------------------------- hypotheses

@dataclass(frozen=True)
class Hypothesis:
    """A bug: its code, its description, and the :class:`Reader` fields it changes."""

    code: str
    text: str
    changes: dict[str, Any] = field(default_factory=dict)  # Reader field → value
    parts: tuple[Hypothesis, ...] = ()  # for a pair of bugs: the two single hypotheses


def axis_words(ndim: int) -> tuple[str, ...]:
    """What the diagnosis calls each spatial axis: length (1-D); rows, columns (2-D); depth, height, width (3-D).

    >>> axis_words(1), axis_words(2), axis_words(3)
    (('length',), ('rows', 'columns'), ('depth', 'height', 'width'))
    """
    return {1: ("length",), 2: ("rows", "columns")}.get(ndim) or axis_names(ndim)


def _axes_text(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _subsets(axes: list[int]) -> list[tuple[int, ...]]:
    """Non-empty subsets of ``axes``, the largest first (all axes, then all but one, …)."""
    return [c for size in range(len(axes), 0, -1) for c in itertools.combinations(axes, size)]


def _flip_text(spec: ConvSpec, axes: tuple[int, ...]) -> str:
    """How a kernel flipped on ``axes`` reads ω (2-D keeps the words of the 2-D diagnosis)."""
    nd, words = spec.ndim, axis_words(spec.ndim)
    every = len(axes) == sum(k > 1 for k in spec.kernel_size)
    if nd == 2 and len(axes) == 1:
        return ("kernel flipped vertically only (reads ω[i,l,h−1−m,n])" if axes == (0,) else
                "kernel flipped horizontally only (reads ω[i,l,m,w−1−n])")
    if nd == 2:
        return ("kernel flipped on both axes — a true convolution, y[i,j,k] reads ω[i,l,h−1−m,w−1−n]; the spec "
                "(like PyTorch) is a cross-correlation")
    if nd == 1:
        return ("kernel flipped — a true convolution (np.convolve), y[i,o] reads ω[i,l,k−1−t]; the spec (like "
                "PyTorch) is a cross-correlation")
    if every:
        return (f"kernel flipped on every axis ({_listed(list(words))}) — a true convolution, tap t read as k−1−t; "
                "the spec (like PyTorch) is a cross-correlation")
    return f"kernel flipped along {_listed([f'the {words[a]}' for a in axes])} only (tap t read as k−1−t there)"


def _kernel_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """The kernel read flipped (on every subset of its axes) or with two axes transposed."""
    kernel, words = spec.kernel_size, axis_words(spec.ndim)
    out = [Hypothesis("flipped-kernel", _flip_text(spec, axes), {"flip": tuple(a in axes for a in range(spec.ndim))})
           for axes in _subsets([a for a, k in enumerate(kernel) if k > 1])]
    for a, b in itertools.combinations(range(spec.ndim), 2):
        if kernel[a] == kernel[b] > 1:
            text = ("kernel axes transposed (reads ω[i,l,n,m] for ω[i,l,m,n])" if spec.ndim == 2 else
                    f"kernel axes {words[a]} and {words[b]} transposed (the two kernel axes exchanged)")
            out.append(Hypothesis("transposed-kernel", text, {"transpose_kernel": (a, b)}))
    return out


def _moves_text(spec: ConvSpec, deltas: tuple[int, ...]) -> str:
    """Where every tap reads when moved by ``deltas`` (2-D: rows up/down, columns left/right)."""
    if spec.ndim == 2:
        moves = {(0, -1): "one row up", (0, 1): "one row down", (1, -1): "one column left", (1, 1): "one column right"}
        return " and ".join(moves[(axis, delta)] for axis, delta in enumerate(deltas) if delta)
    words = axis_words(spec.ndim)
    return " and ".join(f"one step {'back' if delta < 0 else 'forward'} along the {words[a]}"
                        for a, delta in enumerate(deltas) if delta)


def _padding_hypotheses(spec: ConvSpec, base: Reader) -> list[Hypothesis]:
    """Every tap read one step off on some axes, or the padding left out of the tap map."""
    p = spec.padding_before
    before_words = "top/left padding" if spec.ndim == 2 else "padding before"
    out: list[Hypothesis] = []
    for deltas in itertools.product((-1, 0, 1), repeat=spec.ndim):
        if not any(deltas):
            continue
        before = tuple(v - delta for v, delta in zip(p, deltas))
        out.append(Hypothesis("padding-off-by-one", f"padding off by one: every tap reads the input "
                              f"{_moves_text(spec, deltas)} (as if the {before_words} were {_axes_text(before)} instead "
                              f"of {_axes_text(p)})", {"offset": tuple(o + d for o, d in zip(base.offset, deltas))}))
    if any(v > 1 for v in p):
        out.append(Hypothesis("padding-ignored", f"padding {_axes_text(p)} left out of the input index "
                              f"(reads o·s + t·d instead of o·s − p + t·d)", {"offset": (0,) * spec.ndim}))
    return out


def _ignored_hypotheses(spec: ConvSpec, name: str, values: tuple[int, ...]) -> list[Hypothesis]:
    """Stride (or dilation) left out of the tap map on every axis, or on one axis only."""
    words = axis_words(spec.ndim)
    what = ("(reads o − p + t·d instead of o·s − p + t·d; the output has the strided size)" if name == "stride" else
            "(reads taps t instead of t·d)")
    out = []
    if any(v > 1 for v in values):
        out.append(Hypothesis(f"{name}-ignored", f"{name} {_axes_text(values)} left out of the input index {what}",
                              {name: (1,) * spec.ndim}))
    if sum(v > 1 for v in values) > 1:
        for a, v in enumerate(values):
            if v > 1:
                one = tuple(1 if b == a else u for b, u in enumerate(values))
                out.append(Hypothesis(f"{name}-ignored", f"{name} {v} left out of the input index on the {words[a]} "
                                      f"only (reads {name} {_axes_text(one)} instead of {_axes_text(values)})",
                                      {name: one}))
    return out


def _swapped_hypotheses(spec: ConvSpec, name: str, values: tuple[int, ...]) -> list[Hypothesis]:
    """Stride (or dilation) of two axes exchanged."""
    words = axis_words(spec.ndim)
    out = []
    for a, b in itertools.combinations(range(spec.ndim), 2):
        if values[a] != values[b]:
            swapped = list(values)
            swapped[a], swapped[b] = values[b], values[a]
            if spec.ndim == 2:
                text = (f"stride axes swapped (rows step {values[1]}, columns step {values[0]})" if name == "stride"
                        else f"dilation axes swapped (rows {values[1]}, columns {values[0]})")
            else:
                text = f"{name} of the {words[a]} and the {words[b]} swapped ({name} {_axes_text(tuple(swapped))})"
            out.append(Hypothesis(f"{name}-wrong", text, {name: tuple(swapped)}))
    return out


def _stride_dilation_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """Stride or dilation left out of the tap map, their axes swapped, or the two exchanged."""
    s, d = spec.stride, spec.dilation
    out = [*_ignored_hypotheses(spec, "stride", s), *_swapped_hypotheses(spec, "stride", s),
           *_ignored_hypotheses(spec, "dilation", d), *_swapped_hypotheses(spec, "dilation", d)]
    if s != d:
        out.append(Hypothesis("stride-wrong", f"stride and dilation exchanged (input position o·{_axes_text(d)} − p + "
                              f"t·{_axes_text(s)})", {"stride": d, "dilation": s}))
    return out


def _input_order_hypothesis(spec: ConvSpec, channels_last: bool) -> list[Hypothesis]:
    """x's buffer read in the other channel order than the caller's layout: a reshape where a transpose belongs."""
    if spec.in_channels == 1 or math.prod(spec.input_size) == 1:
        return []
    letters = {1: "L", 2: "H, W", 3: "D, H, W"}.get(spec.ndim, "*spatial")
    first, last = f"(N, C, {letters})", f"(N, {letters}, C)"
    if channels_last:
        return [Hypothesis("input-layout", f"channels-last input {last} read as channels-first {first}: x reshaped "
                           "where a transpose belongs", {"input_order": "channels-first"})]
    return [Hypothesis("input-layout", f"channels-first input {first} read as channels-last {last}: x reshaped where a "
                       "transpose belongs (or a channels-last implementation given channels-first data)",
                       {"input_order": "channels-last"})]


def _channel_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """Groups mixed, in/out channels swapped, or two of the input's spatial axes transposed."""
    out: list[Hypothesis] = []
    if spec.groups > 1 and spec.out_per_group > 1:
        out.append(Hypothesis("mixed-groups", "groups mixed: output channel i reads the input channels of group "
                              f"i mod {spec.groups} instead of i // {spec.out_per_group}", {"channels": "interleaved"}))
    if spec.groups > 1:
        out.append(Hypothesis("mixed-groups", "groups mixed: every output channel reads group 0's input channels",
                              {"channels": "first-group"}))
    if spec.in_per_group == spec.out_per_group > 1:
        out.append(Hypothesis("swapped-channels", "in/out channels swapped: reads ω[l, i] for ω[i, l] "
                              "(weight indexed as (in, out, *kernel))", {"channels": "swapped"}))
    words = axis_words(spec.ndim)
    for a, b in itertools.combinations(range(spec.ndim), 2):
        if spec.input_size[a] == spec.input_size[b] > 1:
            text = ("input spatial axes transposed (reads x[l, c, r] for x[l, r, c])" if spec.ndim == 2 else
                    f"input axes {words[a]} and {words[b]} transposed (the two axes of x exchanged)")
            out.append(Hypothesis("transposed-input", text, {"transpose_input": (a, b)}))
    return out


#: How each padding reads the entry just before x on an axis (x[−1]) and the one before it (x[−2]).
_READS = {
    "zeros": "zeros outside x",
    "reflect": "a mirror without the edge: x[−1] reads x[1], x[−2] reads x[2]",
    "replicate": "the nearest edge: x[−1] and x[−2] read x[0]",
    "circular": "a wrap-around: x[−1] reads x[n−1]",
    "symmetric": "a mirror with the edge repeated: x[−1] reads x[0], x[−2] reads x[1]",
}


def _wrong_side_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """Circular padding with the wrap taken from the wrong end of x (or all of it put on one side: a cyclic shift)."""
    p, q = _axes_text(spec.padding_before), _axes_text(spec.padding_after)
    right = "[x[n−p:], x, x[:q]]"
    sizes = f"p = {p} before, q = {q} after"
    return [
        Hypothesis("circular-wrong-side", f"circular padding with each wrap taken from the wrong end of x: padded as "
                   f"[x[:p], x, x[n−q:]] instead of {right} ({sizes})", {"padding": "circular-swapped"}),
        Hypothesis("circular-wrong-side", f"circular padding all put after x, [x, x[:p+q]] instead of {right} "
                   f"({sizes}): the output shifted cyclically, input c read as x[(c + p) mod n]",
                   {"padding": "circular-after"}),
        Hypothesis("circular-wrong-side", f"circular padding all put before x, [x[n−p−q:], x] instead of {right} "
                   f"({sizes}): the output shifted cyclically, input c read as x[(c − q) mod n]",
                   {"padding": "circular-before"}),
    ]


def _mode_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """For a layer padded with reflect, replicate or circular: x padded with zeros, another mode, or a buggy one."""
    mode = spec.padding_mode
    if mode == "zeros" or not any(spec.padding_before + spec.padding_after):
        return []
    conv = f"F.conv{spec.ndim}d(padding=p)" if spec.ndim <= 3 else "a convolution's padding=p"
    out = [Hypothesis("padding-mode-zeros", f"padded with zeros instead of padding_mode='{mode}' (e.g. {conv} or "
                      f"np.pad's default): taps outside x read 0, where {mode} reads {_READS[mode]}", {"padding": "zeros"})]
    for other in ("reflect", "replicate", "circular"):
        try:
            check_padding_mode(other, spec.padding, spec.padding_before, spec.padding_after, spec.input_size)
        except SpecError:
            continue  # PyTorch refuses this mode for this padding: no implementation uses it
        if other != mode:
            out.append(Hypothesis("padding-mode-wrong", f"padded with {other} instead of {mode} ({other}: "
                                  f"{_READS[other]}; {mode}: {_READS[mode]})", {"padding": other}))
    widest = max(max(b, a) - n for b, a, n in zip(spec.padding_before, spec.padding_after, spec.input_size))
    if widest <= 0:  # np.pad's symmetric mode needs padding ≤ n
        code = "reflect-symmetric" if mode == "reflect" else "padding-mode-wrong"
        out.append(Hypothesis(code, f"padded with NumPy's np.pad mode='symmetric' instead of {mode}: "
                              f"{_READS['symmetric']}, where {mode} reads {_READS[mode]}", {"padding": "symmetric"}))
    return out + (_wrong_side_hypotheses(spec) if mode == "circular" else [])


def same_shape_hypotheses(spec: ConvSpec, base: Reader, channels_last: bool = False) -> list[Hypothesis]:
    """Bugs that keep the output shape: they change where inputs are read, not how many outputs exist.

    ``channels_last``: whether fn was given channels-last arrays (the input-order hypothesis reads the other order).
    """
    return [
        *_mode_hypotheses(spec),  # first: a shift-like mode bug is also a padding bug, and is named as the mode's
        *_kernel_hypotheses(spec),
        *_padding_hypotheses(spec, base),
        *_stride_dilation_hypotheses(spec),
        *_channel_hypotheses(spec),
        *_input_order_hypothesis(spec, channels_last),
    ]


def _axis_alternatives(spec: ConvSpec, name: str, values: tuple[int, ...]) -> list[tuple[str, str, dict[str, Any]]]:
    """Stride (or dilation) 1 on every axis or on one, or two axes swapped: (code, text, ConvSpec changes)."""
    words = axis_words(spec.ndim)
    out: list[tuple[str, str, dict[str, Any]]] = []
    if any(v > 1 for v in values):
        out.append((f"{name}-ignored", f"{name} 1: the {name} was not applied", {name: 1}))
    if sum(v > 1 for v in values) > 1:
        for a, v in enumerate(values):
            if v > 1:
                out.append((f"{name}-ignored", f"{name} 1 on the {words[a]}: the {name} was not applied there",
                            {name: tuple(1 if b == a else u for b, u in enumerate(values))}))
    for a, b in itertools.combinations(range(spec.ndim), 2):
        if values[a] != values[b]:
            swapped = list(values)
            swapped[a], swapped[b] = values[b], values[a]
            text = f"{name} axes swapped" if spec.ndim == 2 else f"{name} of the {words[a]} and the {words[b]} swapped"
            out.append((f"{name}-wrong", text, {name: tuple(swapped)}))
    return out


def _shape_alternatives(spec: ConvSpec) -> list[tuple[str, str, dict[str, Any]]]:
    """(code, text, ConvSpec changes) of the layers a shape bug computes instead."""
    alternatives: list[tuple[str, str, dict[str, Any]]] = []
    pads = spec.padding if isinstance(spec.padding, tuple) else spec.padding_before
    for delta in itertools.product((-1, 0, 1), repeat=spec.ndim):
        new = tuple(p + dv for p, dv in zip(pads, delta))
        if any(delta) and min(new) >= 0:
            alternatives.append(("padding-off-by-one", f"padding {_axes_text(new)} instead of {_axes_text(pads)}",
                                 {"padding": new}))
    if any(pads):
        alternatives.append(("padding-ignored", "padding 0: the padding was not applied", {"padding": 0}))
    if spec.padding == "same":
        alternatives.append(("padding-ignored", "padding 0: 'same' padding was not applied", {"padding": 0}))
    alternatives += _axis_alternatives(spec, "stride", spec.stride)
    alternatives += _axis_alternatives(spec, "dilation", spec.dilation)
    if spec.stride != spec.dilation:
        alternatives.append(("stride-wrong", "stride and dilation exchanged", {"stride": spec.dilation, "dilation": spec.stride}))
    return alternatives


def shape_hypotheses(spec: ConvSpec, found_shape: tuple[int, ...]) -> list[Hypothesis]:
    """Other layers whose output shape is the one the implementation returned."""
    out = []
    for code, text, change in _shape_alternatives(spec):
        try:
            alt = replace(spec, **change)
        except ValueError:
            continue
        if alt.output_shape != tuple(found_shape):
            continue
        reader = standard_reader(alt)
        out.append(Hypothesis(code, f"output shape {tuple(found_shape)} is that of {text}",
                              {"output_shape": reader.output_shape, "stride": reader.stride,
                               "dilation": reader.dilation, "offset": reader.offset}))
    return out


def combine(a: Hypothesis, b: Hypothesis) -> Hypothesis | None:
    """Both bugs at once, when they change different fields; None otherwise."""
    if set(a.changes) & set(b.changes) or a.code == b.code:
        return None
    return Hypothesis(f"{a.code}+{b.code}", f"{a.text}; and {b.text}", {**a.changes, **b.changes}, parts=(a, b))
