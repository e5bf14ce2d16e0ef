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

Everything is per spatial axis, any number of them (``ConvTranspose1d/2d/3d``): like
:class:`~symconv.core.spec.ConvSpec`, a tuple ``input_size`` gives one size per axis and a bare int is a square
2-D input unless ``ndim=`` is given. Every check raises a one-line :class:`~symconv.errors.SpecError` naming the parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import SpecError
from .spec import ConvSpec, LayerShapes, check_groups, count, per_axis, spatial_ndim
from .taps import axis_transposed_output_size

__all__ = ["ConvTransposeSpec", "axis_transposed_output_size"]

IntOrTuple = int | tuple[int, ...]


@dataclass(frozen=True, init=False)
class ConvTransposeSpec(LayerShapes):
    """One transposed convolution layer with PyTorch's semantics (``torch.nn.ConvTranspose1d/2d/3d``).

    >>> t = ConvTransposeSpec(2, 3, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1)
    >>> t.output_size, t.weight_shape
    ((6, 6), (2, 3, 3, 3))
    >>> ConvTransposeSpec(1, 1, input_size=(5,), kernel_size=4, stride=2).output_size
    (12,)
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
        ndim: int | None = None,
    ) -> None:
        set_ = object.__setattr__  # frozen: every field is validated and set once, here
        set_(self, "in_channels", count("in_channels", in_channels))
        set_(self, "out_channels", count("out_channels", out_channels))
        ndim = spatial_ndim(input_size, ndim)  # a bare int: square, 2-D unless ndim= says otherwise
        set_(self, "input_size", per_axis("input_size", input_size, ndim, 1))
        set_(self, "kernel_size", per_axis("kernel_size", kernel_size, ndim, 1))
        set_(self, "stride", per_axis("stride", stride, ndim, 1))
        if isinstance(padding, str):
            raise SpecError(f"padding must be an int ≥ 0 or a tuple of {ndim} ints ≥ 0 (ConvTranspose has no "
                            f"'same'/'valid'), got {padding!r}")
        set_(self, "padding", per_axis("padding", padding, ndim, 0))
        set_(self, "output_padding", per_axis("output_padding", output_padding, ndim, 0))
        set_(self, "dilation", per_axis("dilation", dilation, ndim, 1))
        set_(self, "groups", check_groups(groups, self.in_channels, self.out_channels))
        if not isinstance(bias, bool):
            raise SpecError(f"bias must be True or False, got {bias!r}")
        set_(self, "bias", bias)
        self._check_output()

    def _check_output(self) -> None:
        """PyTorch's limit on output_padding, and an output of at least one entry per axis."""
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
    def output_size(self) -> tuple[int, ...]:
        """Per axis (n − 1)·s − 2p + d(k − 1) + a + 1."""
        return tuple(
            axis_transposed_output_size(*axis)
            for axis in zip(self.input_size, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.output_padding)
        )

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
