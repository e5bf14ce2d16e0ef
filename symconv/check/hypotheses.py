"""The bugs the diagnosis knows, each built as a complete form: how buggy code reads x and ω (:class:`Reader`).

Why hypotheses and not heuristics: each candidate bug — a flipped kernel, off-by-one padding, a stride
or dilation applied wrongly, swapped channels, mixed groups, a transposed kernel — is a :class:`Reader`
(the definition's with some fields changed), its form is built here term by term, and the diagnosis
compares it with the implementation's. A bug is named only when its whole form matches. Input positions go
through the one tap map :func:`symconv.core.taps.tap`; a hypothesis about the tap map (off-by-one padding,
stride or dilation ignored or swapped) is that same map called with the buggy arguments.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..core.spec import ConvSpec
from ..core.taps import in_range, tap
from ..errors import TooLargeError
from .form import Form, KeySpace

__all__ = [
    "CHANNEL_MODES",
    "MAX_HYPOTHESIS_TERMS",
    "Hypothesis",
    "Reader",
    "combine",
    "reader_form",
    "reader_size",
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
    """How an implementation reads x and ω for output y[i, j, k] (0-based).

    Input row ``tap(j, m, stride[0], −offset[0], dilation[0])`` = ``offset[0] + j·stride[0] + m·dilation[0]``
    (columns likewise; ``offset`` is minus the padding before) meets kernel entry
    ``ω[i, l', m̃, ñ]`` where m̃ = h−1−m when ``flip[0]`` (ñ likewise), the two swapped when
    ``transpose_kernel``; ``transpose_input`` reads x[l, c, r]. ``channels``: ``"grouped"`` (output
    channel i in group i // (C₂/g) reads that group's input channels — PyTorch), ``"interleaved"``
    (group i mod g), ``"first-group"`` (every output reads group 0's inputs), ``"swapped"`` (reads
    ω[l, i] instead of ω[i, l] within a group: in/out channel axes exchanged).
    """

    output_shape: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    offset: tuple[int, ...]
    flip: tuple[bool, bool] = (False, False)
    transpose_kernel: bool = False
    transpose_input: bool = False
    channels: str = "grouped"


def standard_reader(spec: ConvSpec, output_shape: tuple[int, ...] | None = None) -> Reader:
    """The reader of the definition (PyTorch's cross-correlation) for ``spec``."""
    shape = spec.output_shape if output_shape is None else output_shape
    return Reader(
        output_shape=tuple(shape),
        stride=spec.stride,
        dilation=spec.dilation,
        offset=tuple(-p for p in spec.padding_before),
    )


def reader_size(spec: ConvSpec, reader: Reader) -> int:
    """Number of (output, tap) pairs a reader enumerates — an upper bound on its form's size."""
    return math.prod(reader.output_shape) * spec.in_per_group * math.prod(spec.kernel_size)


def _applies(spec: ConvSpec, reader: Reader) -> bool:
    """False when the reader would index outside ω or x (e.g. a transposed non-square kernel)."""
    kh, kw = spec.kernel_size
    _, height, width = spec.input_shape
    if reader.transpose_kernel and kh != kw:
        return False
    if reader.transpose_input and height != width:
        return False
    if reader.channels == "swapped" and spec.in_per_group != spec.out_per_group:
        return False
    return reader.output_shape[0] <= spec.out_channels


def _weight_index(spec: ConvSpec, reader: Reader, i: Any, lp: Any, m: Any, n: Any) -> tuple[Any, Any]:
    """(flat weight index, global input channel) read for output channel i, local input channel l', tap (m, n)."""
    kh, kw = spec.kernel_size
    cig, cog = spec.in_per_group, spec.out_per_group
    mm = kh - 1 - m if reader.flip[0] else m
    nn = kw - 1 - n if reader.flip[1] else n
    if reader.transpose_kernel:
        mm, nn = nn, mm
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
    return ((w_out_index * cig + w_in_index) * kh + mm) * kw + nn, g * cig + lp


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
    c_out, h_out, w_out = reader.output_shape
    c_in, height, width = spec.input_shape
    kh, kw = spec.kernel_size
    i, j, k, lp, m, n = np.ix_(
        np.arange(c_out), np.arange(h_out), np.arange(w_out), np.arange(spec.in_per_group), np.arange(kh), np.arange(kw)
    )
    # the tap map with the reader's (possibly buggy) stride, padding and dilation
    r = tap(j, m, reader.stride[0], -reader.offset[0], reader.dilation[0])
    c = tap(k, n, reader.stride[1], -reader.offset[1], reader.dilation[1])
    if reader.transpose_input:
        r, c = c, r
    weight_flat, channel = _weight_index(spec, reader, i, lp, m, n)
    valid = in_range(r, height) & in_range(c, width) & (channel < c_in)
    shape = np.broadcast_shapes(valid.shape, weight_flat.shape)
    valid = np.broadcast_to(valid, shape)
    row = np.broadcast_to((i * h_out + j) * w_out + k, shape)[valid]
    input_flat = np.broadcast_to((channel * height + r) * width + c, shape)[valid]
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


def _axes_text(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _kernel_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """The kernel read flipped or transposed."""
    kh, kw = spec.kernel_size
    out: list[Hypothesis] = []
    if kh > 1 and kw > 1:
        out.append(Hypothesis(
            "flipped-kernel",
            "kernel flipped on both axes — a true convolution, y[i,j,k] reads ω[i,l,h−1−m,w−1−n]; the spec "
            "(like PyTorch) is a cross-correlation",
            {"flip": (True, True)},
        ))
    if kh > 1:
        out.append(Hypothesis("flipped-kernel", "kernel flipped vertically only (reads ω[i,l,h−1−m,n])",
                              {"flip": (True, False)}))
    if kw > 1:
        out.append(Hypothesis("flipped-kernel", "kernel flipped horizontally only (reads ω[i,l,m,w−1−n])",
                              {"flip": (False, True)}))
    if kh == kw > 1:
        out.append(Hypothesis("transposed-kernel", "kernel axes transposed (reads ω[i,l,n,m] for ω[i,l,m,n])",
                              {"transpose_kernel": True}))
    return out


def _padding_hypotheses(spec: ConvSpec, base: Reader) -> list[Hypothesis]:
    """Every tap read one row and/or column off, or the padding left out of the tap map."""
    p = spec.padding_before
    out: list[Hypothesis] = []
    moves = {(0, -1): "one row up", (0, 1): "one row down", (1, -1): "one column left", (1, 1): "one column right"}
    for dr, dc in itertools.product((-1, 0, 1), repeat=2):
        if (dr, dc) == (0, 0):
            continue
        where = " and ".join(moves[(axis, delta)] for axis, delta in enumerate((dr, dc)) if delta)
        before = tuple(v - delta for v, delta in zip(p, (dr, dc)))
        out.append(Hypothesis("padding-off-by-one", f"padding off by one: every tap reads the input {where} (as if the "
                              f"top/left padding were {_axes_text(before)} instead of {_axes_text(p)})",
                              {"offset": (base.offset[0] + dr, base.offset[1] + dc)}))
    if any(v > 1 for v in p):
        out.append(Hypothesis("padding-ignored", f"padding {_axes_text(p)} left out of the input index "
                              f"(reads row j·s + m·d instead of j·s − p + m·d)", {"offset": (0, 0)}))
    return out


def _stride_dilation_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """Stride or dilation left out of the tap map, their axes swapped, or the two exchanged."""
    s, d = spec.stride, spec.dilation
    out: list[Hypothesis] = []
    if any(v > 1 for v in s):
        out.append(Hypothesis("stride-ignored", f"stride {_axes_text(s)} left out of the input index (reads row "
                              f"j − p + m·d instead of j·s − p + m·d; the output has the strided size)",
                              {"stride": (1, 1)}))
        if s[0] != s[1]:
            out.append(Hypothesis("stride-wrong", f"stride axes swapped (rows step {s[1]}, columns step {s[0]})",
                                  {"stride": (s[1], s[0])}))
    if any(v > 1 for v in d):
        out.append(Hypothesis("dilation-ignored", f"dilation {_axes_text(d)} left out (reads taps m instead of m·d)",
                              {"dilation": (1, 1)}))
        if d[0] != d[1]:
            out.append(Hypothesis("dilation-wrong", f"dilation axes swapped (rows {d[1]}, columns {d[0]})",
                                  {"dilation": (d[1], d[0])}))
    if s != d:
        out.append(Hypothesis("stride-wrong", f"stride and dilation exchanged (input row j·{_axes_text(d)} − p + "
                              f"m·{_axes_text(s)})", {"stride": d, "dilation": s}))
    return out


def _channel_hypotheses(spec: ConvSpec) -> list[Hypothesis]:
    """Groups mixed, in/out channels swapped, or the input's spatial axes transposed."""
    out: list[Hypothesis] = []
    if spec.groups > 1 and spec.out_per_group > 1:
        out.append(Hypothesis("mixed-groups", "groups mixed: output channel i reads the input channels of group "
                              f"i mod {spec.groups} instead of i // {spec.out_per_group}", {"channels": "interleaved"}))
    if spec.groups > 1:
        out.append(Hypothesis("mixed-groups", "groups mixed: every output channel reads group 0's input channels",
                              {"channels": "first-group"}))
    if spec.in_per_group == spec.out_per_group > 1:
        out.append(Hypothesis("swapped-channels", "in/out channels swapped: reads ω[l, i] for ω[i, l] "
                              "(weight indexed as (in, out, h, w))", {"channels": "swapped"}))
    h, w = spec.input_size
    if h == w > 1:
        out.append(Hypothesis("transposed-input", "input spatial axes transposed (reads x[l, c, r] for x[l, r, c])",
                              {"transpose_input": True}))
    return out


def same_shape_hypotheses(spec: ConvSpec, base: Reader) -> list[Hypothesis]:
    """Bugs that keep the output shape: they change where inputs are read, not how many outputs exist."""
    return [
        *_kernel_hypotheses(spec),
        *_padding_hypotheses(spec, base),
        *_stride_dilation_hypotheses(spec),
        *_channel_hypotheses(spec),
    ]


def _shape_alternatives(spec: ConvSpec) -> list[tuple[str, str, dict[str, Any]]]:
    """(code, text, ConvSpec changes) of the layers a shape bug computes instead."""
    alternatives: list[tuple[str, str, dict[str, Any]]] = []
    pads = spec.padding if isinstance(spec.padding, tuple) else spec.padding_before
    for delta in itertools.product((-1, 0, 1), repeat=2):
        new = tuple(p + dv for p, dv in zip(pads, delta))
        if delta != (0, 0) and min(new) >= 0:
            alternatives.append(("padding-off-by-one", f"padding {_axes_text(new)} instead of {_axes_text(pads)}",
                                 {"padding": new}))
    if any(pads):
        alternatives.append(("padding-ignored", "padding 0: the padding was not applied", {"padding": 0}))
    if spec.padding == "same":
        alternatives.append(("padding-ignored", "padding 0: 'same' padding was not applied", {"padding": 0}))
    if any(v > 1 for v in spec.stride):
        alternatives.append(("stride-ignored", "stride 1: the stride was not applied", {"stride": 1}))
    if spec.stride[0] != spec.stride[1]:
        alternatives.append(("stride-wrong", "stride axes swapped", {"stride": tuple(reversed(spec.stride))}))
    if any(v > 1 for v in spec.dilation):
        alternatives.append(("dilation-ignored", "dilation 1: the dilation was not applied", {"dilation": 1}))
    if spec.dilation[0] != spec.dilation[1]:
        alternatives.append(("dilation-wrong", "dilation axes swapped", {"dilation": tuple(reversed(spec.dilation))}))
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
