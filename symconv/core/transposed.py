"""ConvTransposeSpec: one transposed convolution layer (PyTorch's ``ConvTranspose2d``), validated once.

Parameter names and semantics are PyTorch's: the layer maps ``(in_channels, *input_size)`` to
``(out_channels, *output_size)`` with, per spatial axis,

    output = (input − 1)·s − 2p + d(k − 1) + a + 1          (a = output_padding)

and weight of shape ``(in_channels, out_channels/groups, *kernel_size)``. It is the transpose 𝒲ᵀ of the
forward convolution :meth:`ConvTransposeSpec.forward_spec` (``out_channels → in_channels`` on the transposed
layer's output size, same kernel, stride, padding, dilation, groups): that forward layer's weight has the
very same shape, so one ω serves both. ``a`` picks which of the ``s`` forward input sizes that give the same
forward output is meant (PyTorch: a < s or a < d on every axis). When a ≥ s (only possible with d > s) the
forward layer has more outputs than the transposed layer has inputs; the transposed layer then uses the first
``input_size`` of them (:attr:`ConvTransposeSpec.forward_rows`).

Everything is per spatial axis; like :class:`~symconv.core.spec.ConvSpec` today exactly two spatial axes
are accepted. Every check raises a one-line :class:`~symconv.errors.SpecError` naming the parameter.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from ..errors import SpecError
from .spec import MAX_INT, ConvSpec

__all__ = ["ConvTransposeSpec", "axis_transposed_output_size"]

#: spatial axes accepted today (the forward ConvSpec is 2-D only); the code below is per axis.
SUPPORTED_NDIM: tuple[int, ...] = (2,)

IntOrTuple = int | tuple[int, ...]


def axis_transposed_output_size(n: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int) -> int:
    """PyTorch's ConvTranspose output length on one axis: (n − 1)·s − 2p + d(k − 1) + a + 1.

    The same formula as :func:`symconv.closed.arithmetic.conv_transpose_output_size`, which derives it
    symbolically (closed/ sits above core/, so the integer version lives here; the tests compare the two).

    >>> axis_transposed_output_size(3, 3, stride=2, padding=1, dilation=1, output_padding=1)
    6
    """
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _per_axis(name: str, value: object, ndim: int, minimum: int) -> tuple[int, ...]:
    values = (value,) * ndim if _is_int(value) else value
    if not isinstance(values, (tuple, list)) or not all(_is_int(v) for v in values):
        raise SpecError(f"{name} must be an int or a tuple of {ndim} ints ≥ {minimum}, got {value!r}")
    if len(values) != ndim:
        raise SpecError(f"{name} must have {ndim} entries (one per spatial axis), got {value!r}")
    shown = value if _is_int(value) else tuple(values)
    for v in values:
        if v < minimum:
            raise SpecError(f"{name} must be ≥ {minimum}, got {shown!r}")
        if v > MAX_INT:
            raise SpecError(f"{name} must be ≤ {MAX_INT} (2³¹ − 1), got {shown!r}")
    return tuple(int(v) for v in values)


def _count(name: str, value: object) -> int:
    if not _is_int(value) or value < 1:  # type: ignore[operator]
        raise SpecError(f"{name} must be an int ≥ 1, got {value!r}")
    if value > MAX_INT:  # type: ignore[operator]
        raise SpecError(f"{name} must be ≤ {MAX_INT} (2³¹ − 1), got {value!r}")
    return int(value)  # type: ignore[arg-type]


@dataclass(frozen=True, init=False)
class ConvTransposeSpec:
    """One transposed convolution layer with PyTorch's semantics (``torch.nn.ConvTranspose2d``).

    >>> t = ConvTransposeSpec(2, 3, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1)
    >>> t.output_size, t.weight_shape
    ((6, 6), (2, 3, 3, 3))
    >>> t.forward_spec().output_size == t.input_size
    True
    """

    in_channels: int
    out_channels: int
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    bias: bool

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size: IntOrTuple,
        kernel_size: IntOrTuple,
        stride: IntOrTuple = 1,
        padding: IntOrTuple = 0,
        output_padding: IntOrTuple = 0,
        dilation: IntOrTuple = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        set_ = object.__setattr__  # frozen: every field is validated and set once, here
        set_(self, "in_channels", _count("in_channels", in_channels))
        set_(self, "out_channels", _count("out_channels", out_channels))
        # a bare int means a square input; a tuple's length is the number of spatial axes
        ndim = 2 if _is_int(input_size) else len(input_size) if isinstance(input_size, (tuple, list)) else 0
        if ndim not in SUPPORTED_NDIM:
            raise SpecError(
                f"input_size must be an int or a (height, width) pair of ints ≥ 1 (transposed convolution is 2-D "
                f"until ConvSpec is N-D), got {input_size!r}"
            )
        set_(self, "input_size", _per_axis("input_size", input_size, ndim, 1))
        set_(self, "kernel_size", _per_axis("kernel_size", kernel_size, ndim, 1))
        set_(self, "stride", _per_axis("stride", stride, ndim, 1))
        if isinstance(padding, str):
            raise SpecError(f"padding must be an int ≥ 0 or a tuple of {ndim} ints ≥ 0 (ConvTranspose has no "
                            f"'same'/'valid'), got {padding!r}")
        set_(self, "padding", _per_axis("padding", padding, ndim, 0))
        set_(self, "output_padding", _per_axis("output_padding", output_padding, ndim, 0))
        set_(self, "dilation", _per_axis("dilation", dilation, ndim, 1))
        if not _is_int(groups) or groups < 1:
            raise SpecError(f"groups must be an int ≥ 1, got {groups!r}")
        if self.in_channels % groups or self.out_channels % groups:
            raise SpecError(
                f"groups must divide in_channels={self.in_channels} and out_channels={self.out_channels}, "
                f"got groups={groups}"
            )
        set_(self, "groups", int(groups))
        if not isinstance(bias, bool):
            raise SpecError(f"bias must be True or False, got {bias!r}")
        set_(self, "bias", bias)
        for a, s, d in zip(self.output_padding, self.stride, self.dilation):
            if not (a < s or a < d):
                raise SpecError(
                    f"output_padding must be < stride or < dilation on every axis (as in PyTorch), got "
                    f"output_padding={self.output_padding!r}, stride={self.stride!r}, dilation={self.dilation!r}"
                )
        for n, k, s, p, d, a in zip(self.input_size, self.kernel_size, self.stride, self.padding,
                                    self.dilation, self.output_padding):
            if axis_transposed_output_size(n, k, s, p, d, a) < 1:
                raise SpecError(
                    f"padding must leave an output of size ≥ 1 on every axis, (n − 1)·s − 2p + d(k − 1) + a + 1 "
                    f"= {self.output_size!r}, got padding={self.padding!r}"
                )

    # ----------------------------------------------------------------- derived sizes
    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.input_size)

    @property
    def output_size(self) -> tuple[int, ...]:
        """Per axis (n − 1)·s − 2p + d(k − 1) + a + 1."""
        return tuple(
            axis_transposed_output_size(*axis)
            for axis in zip(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.output_padding)
        )

    @property
    def in_per_group(self) -> int:
        """Input channels per group, C₁/groups."""
        return self.in_channels // self.groups

    @property
    def out_per_group(self) -> int:
        """Output channels per group, C₂/groups (the weight's second axis)."""
        return self.out_channels // self.groups

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(C₁, H, W)."""
        return (self.in_channels, *self.input_size)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """(C₂, H_out, W_out)."""
        return (self.out_channels, *self.output_size)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """(C₁, C₂/groups, h, w): PyTorch's ConvTranspose layout, = the forward layer's (C₂_f, C₁_f/groups, h, w)."""
        return (self.in_channels, self.out_per_group, *self.kernel_size)

    @property
    def bias_shape(self) -> tuple[int, ...]:
        """(C₂,) with bias, (0,) without."""
        return (self.out_channels,) if self.bias else (0,)

    @property
    def d_in(self) -> int:
        """Length of the flattened input, C₁·H·W."""
        return math.prod(self.input_shape)

    @property
    def d_out(self) -> int:
        """Length of the flattened output, C₂·H_out·W_out."""
        return math.prod(self.output_shape)

    def forward_spec(self) -> ConvSpec:
        """The forward convolution whose 𝒲ᵀ this layer is: out_channels → in_channels on ``output_size``, no bias.

        >>> ConvTransposeSpec(4, 2, input_size=5, kernel_size=3, stride=2).forward_spec().describe()
        'Conv2d 2→4, input 11×11, kernel 3×3, stride 2×2, padding 0×0, dilation 1×1, groups 1, bias none, output 5×5'
        """
        return ConvSpec(
            self.out_channels, self.in_channels, input_size=self.output_size, kernel_size=self.kernel_size,
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups, bias="none",
        )

    @property
    def forward_rows(self) -> tuple[int, ...]:
        """Per axis, how many of the forward layer's output positions the transposed layer reads (= input_size).

        Equal to the forward output size unless output_padding ≥ stride (then it is smaller).
        """
        return self.input_size

    @classmethod
    def of(cls, spec: ConvSpec, bias: bool = False) -> ConvTransposeSpec:
        """The transposed layer whose 𝒲ᵀ is ``spec``'s 𝒲ᵀ (the gradient of ``spec`` with respect to its input).

        ``output_padding`` is the remainder a = (n + 2p − d(k − 1) − 1) mod s, so the output size is ``spec``'s input size.

        >>> s = ConvSpec(1, 1, input_size=8, kernel_size=3, stride=2, padding=1)
        >>> ConvTransposeSpec.of(s).output_size, ConvTransposeSpec.of(s).output_padding
        ((8, 8), (1, 1))
        """
        if spec.padding_before != spec.padding_after:
            raise SpecError(
                f"padding must be the same before and after every axis to transpose as ConvTranspose, got "
                f"padding={spec.padding!r} (before {spec.padding_before}, after {spec.padding_after})"
            )
        remainder = tuple(
            (n + 2 * p - d * (k - 1) - 1) % s
            for n, k, s, p, d in zip(spec.input_size, spec.kernel_size, spec.stride, spec.padding_before,
                                     spec.dilation)
        )
        return cls(
            spec.out_channels, spec.in_channels, input_size=spec.output_size, kernel_size=spec.kernel_size,
            stride=spec.stride, padding=spec.padding_before, output_padding=remainder, dilation=spec.dilation,
            groups=spec.groups, bias=bias,
        )

    def describe(self) -> str:
        """One line, e.g. ``ConvTranspose2d 2→3, input 3×3, kernel 3×3, stride 2×2, …, output 6×6``."""
        def axes(values: tuple[int, ...]) -> str:
            return "×".join(str(v) for v in values)

        return (
            f"ConvTranspose{self.ndim}d {self.in_channels}→{self.out_channels}, input {axes(self.input_size)}, "
            f"kernel {axes(self.kernel_size)}, stride {axes(self.stride)}, padding {axes(self.padding)}, "
            f"output_padding {axes(self.output_padding)}, dilation {axes(self.dilation)}, groups {self.groups}, "
            f"bias {self.bias}, output {axes(self.output_size)}"
        )
