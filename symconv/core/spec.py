"""ConvSpec: the shape of one convolution layer, validated once, on construction.

Parameter names and semantics are PyTorch's (``torch.nn.Conv2d``): ``stride``, ``padding``,
``dilation`` and ``groups`` take an int or one value per spatial axis; ``padding`` also takes
``"valid"`` (no padding) and ``"same"`` (output size = input size; PyTorch puts the odd pixel of
padding after, i.e. bottom/right). Everything is stored per spatial axis so that the same class
serves 1-D and 3-D convolutions later; today exactly two spatial axes are accepted.

Every check raises :class:`~symconv.errors.SpecError` with a one-line message that names the
parameter and the allowed range.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal, TypeGuard

from ..errors import SpecError
from .taps import axis_output_size, axis_tap_count, same_padding

__all__ = ["BIAS_MODES", "MAX_INT", "ConvSpec", "axis_output_size", "require_ndim", "same_padding"]

BiasMode = Literal["shared", "per_location", "none"]
BIAS_MODES: tuple[str, ...] = ("shared", "per_location", "none")
SUPPORTED_NDIM: tuple[int, ...] = (2,)
_AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}

IntOrTuple = int | tuple[int, ...]

#: Largest value any size, count, stride, padding or dilation may take: PyTorch's int32 range, and far
#: beyond anything symconv can build; larger ints would overflow NumPy's int64 index arithmetic.
MAX_INT = 2**31 - 1


def _is_int(value: object) -> TypeGuard[int]:
    # any Integral (NumPy's too) but not bool; typed as int because every use treats it as one
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _per_axis(name: str, value: object, ndim: int, minimum: int) -> tuple[int, ...]:
    """``value`` as a tuple of ``ndim`` ints ≥ ``minimum``; a bare int is repeated."""
    values = (value,) * ndim if _is_int(value) else value
    if not isinstance(values, (tuple, list)) or not all(_is_int(v) for v in values):
        raise SpecError(
            f"{name} must be an int or a tuple of {ndim} ints ≥ {minimum}, got {value!r}"
        )
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
    if not _is_int(value):  # narrows value to an Integral below
        raise SpecError(f"{name} must be an int ≥ 1, got {value!r}")
    if value < 1:
        raise SpecError(f"{name} must be ≥ 1, got {value!r}")
    if value > MAX_INT:
        raise SpecError(f"{name} must be ≤ {MAX_INT} (2³¹ − 1), got {value!r}")
    return int(value)


def _spatial_ndim(input_size: object) -> int:
    """The number of spatial axes ``input_size`` gives: a bare int means a square 2-D input, a tuple one entry per axis."""
    if _is_int(input_size):
        ndim = 2
    elif isinstance(input_size, (tuple, list)):
        ndim = len(input_size)
    else:
        ndim = 0
    if ndim not in SUPPORTED_NDIM:
        raise SpecError(
            f"input_size must be an int or a (height, width) pair of ints ≥ 1, "
            f"got {input_size!r}"
        )
    return ndim


def _padding(padding: object, stride: tuple[int, ...], ndim: int) -> tuple[int, ...] | str:
    """``padding`` as per-axis ints, or the mode 'valid' / 'same' (which needs stride 1)."""
    if not isinstance(padding, str):
        return _per_axis("padding", padding, ndim, 0)
    if padding not in ("valid", "same"):
        raise SpecError(
            f"padding must be an int ≥ 0, a tuple of {ndim} ints ≥ 0, 'valid' or 'same', "
            f"got {padding!r}"
        )
    if padding == "same" and any(s != 1 for s in stride):
        raise SpecError(
            f"padding='same' needs stride 1 on every axis (as in PyTorch), "
            f"got stride={stride!r}"
        )
    return padding


def _groups(groups: object, in_channels: int, out_channels: int) -> int:
    if not _is_int(groups) or groups < 1:
        raise SpecError(f"groups must be an int ≥ 1, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise SpecError(
            f"groups must divide in_channels={in_channels} and "
            f"out_channels={out_channels}, got groups={groups}"
        )
    return int(groups)


def _bias_mode(bias: object) -> BiasMode:
    """The bias mode; PyTorch's bias=True/False (and None) read as 'shared'/'none'."""
    mode = ("shared" if bias else "none") if isinstance(bias, bool) or bias is None else bias
    if mode == "shared" or mode == "per_location" or mode == "none":
        return mode
    raise SpecError(f"bias must be one of 'shared', 'per_location', 'none', got {bias!r}")


@dataclass(frozen=True, init=False)
class ConvSpec:
    """One convolution layer: channels, sizes, stride, padding, dilation, groups and bias mode.

    >>> spec = ConvSpec(2, 3, input_size=(5, 5), kernel_size=3)
    >>> spec.output_size
    (3, 3)
    >>> ConvSpec(1, 1, input_size=7, kernel_size=3, stride=2, padding=1).output_size
    (4, 4)
    """

    in_channels: int
    out_channels: int
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...] | str
    dilation: tuple[int, ...]
    groups: int
    bias: BiasMode
    padding_mode: str

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size: IntOrTuple,
        kernel_size: IntOrTuple,
        stride: IntOrTuple = 1,
        padding: IntOrTuple | str = 0,
        dilation: IntOrTuple = 1,
        groups: int = 1,
        bias: BiasMode | bool | None = "shared",
        padding_mode: str = "zeros",
    ) -> None:
        set_ = object.__setattr__  # frozen: every field is set once, here, then normalised
        for name, value in (
            ("in_channels", in_channels), ("out_channels", out_channels), ("input_size", input_size),
            ("kernel_size", kernel_size), ("stride", stride), ("padding", padding), ("dilation", dilation),
            ("groups", groups), ("bias", bias), ("padding_mode", padding_mode),
        ):
            set_(self, name, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here, in the order the errors are reported
        set_(self, "in_channels", _count("in_channels", self.in_channels))
        set_(self, "out_channels", _count("out_channels", self.out_channels))
        ndim = _spatial_ndim(self.input_size)
        set_(self, "input_size", _per_axis("input_size", self.input_size, ndim, 1))
        set_(self, "kernel_size", _per_axis("kernel_size", self.kernel_size, ndim, 1))
        set_(self, "stride", _per_axis("stride", self.stride, ndim, 1))
        set_(self, "dilation", _per_axis("dilation", self.dilation, ndim, 1))
        set_(self, "padding", _padding(self.padding, self.stride, ndim))
        set_(self, "groups", _groups(self.groups, self.in_channels, self.out_channels))
        set_(self, "bias", _bias_mode(self.bias))
        if self.padding_mode != "zeros":
            raise SpecError(f"padding_mode must be 'zeros' (the only mode so far), got {self.padding_mode!r}")
        self._check_kernel_fits()

    def _check_kernel_fits(self) -> None:
        for axis, (n, k, d, before, after) in enumerate(
            zip(self.input_size, self.kernel_size, self.dilation, self.padding_before, self.padding_after)
        ):
            span = d * (k - 1) + 1
            if span > n + before + after:
                name = _AXIS_NAMES[self.ndim][axis]
                raise SpecError(
                    f"kernel_size must fit the padded input: on the {name} axis the dilated kernel "
                    f"spans {span} but the padded input is {n + before + after} "
                    f"(input {n} + padding {before + after}), got kernel_size={self.kernel_size!r}"
                )

    # ----------------------------------------------------------------- derived sizes
    @property
    def ndim(self) -> int:
        """Number of spatial axes (2 for Conv2d)."""
        return len(self.input_size)

    @property
    def padding_before(self) -> tuple[int, ...]:
        """Zeros added before each spatial axis (top, left)."""
        return tuple(pair[0] for pair in self._padding_pairs)

    @property
    def padding_after(self) -> tuple[int, ...]:
        """Zeros added after each spatial axis (bottom, right)."""
        return tuple(pair[1] for pair in self._padding_pairs)

    @property
    def _padding_pairs(self) -> tuple[tuple[int, int], ...]:
        if self.padding == "valid":
            return tuple((0, 0) for _ in self.kernel_size)
        if self.padding == "same":
            return tuple(same_padding(k, d) for k, d in zip(self.kernel_size, self.dilation))
        if isinstance(self.padding, str):  # unreachable: the two modes are handled above
            raise SpecError(f"padding mode {self.padding!r} has no per-axis zeros")
        return tuple((p, p) for p in self.padding)

    @property
    def output_size(self) -> tuple[int, ...]:
        """Spatial output size, PyTorch's ⌊(N + p_before + p_after − d(k−1) − 1)/s⌋ + 1 per axis."""
        return tuple(
            axis_output_size(n, k, s, d, before, after)
            for n, k, s, d, before, after in zip(
                self.input_size, self.kernel_size, self.stride, self.dilation,
                self.padding_before, self.padding_after,
            )
        )

    @property
    def in_per_group(self) -> int:
        """Input channels seen by each output channel, C₁/groups."""
        return self.in_channels // self.groups

    @property
    def out_per_group(self) -> int:
        """Output channels per group, C₂/groups."""
        return self.out_channels // self.groups

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(C₁, H, W): the shape of x."""
        return (self.in_channels, *self.input_size)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """(C₂, H', W'): the shape of y."""
        return (self.out_channels, *self.output_size)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """(C₂, C₁/groups, h, w), PyTorch's layout of ω."""
        return (self.out_channels, self.in_per_group, *self.kernel_size)

    @property
    def bias_shape(self) -> tuple[int, ...]:
        """(C₂,) shared, (C₂, H', W') per location, (0,) without bias."""
        if self.bias == "shared":
            return (self.out_channels,)
        if self.bias == "per_location":
            return self.output_shape
        return (0,)

    @property
    def d_x(self) -> int:
        """Length of the flattened input, C₁·H·W."""
        return math.prod(self.input_shape)

    @property
    def d_y(self) -> int:
        """Length of the flattened output, C₂·H'·W'."""
        return math.prod(self.output_shape)

    @property
    def n_terms(self) -> int:
        """Exact number of (output, weight, input) products in the index sum = nnz(𝒲)."""
        return self.out_channels * self.in_per_group * math.prod(self.taps_in_range)

    @property
    def n_bias_terms(self) -> int:
        """Bias terms in y: one per output entry unless bias='none'."""
        return 0 if self.bias == "none" else self.d_y

    @property
    def taps_in_range(self) -> tuple[int, ...]:
        """Per axis: the number of (output position, kernel tap) pairs that land inside the input."""
        return tuple(
            axis_tap_count(n, k, s, before, d, out)
            for n, k, s, d, before, out in zip(
                self.input_size, self.kernel_size, self.stride, self.dilation, self.padding_before, self.output_size
            )
        )

    def describe(self) -> str:
        """One line, e.g. ``Conv2d 2→3, input 5×5, kernel 3×3, stride 1, padding 0, …``."""
        def axes(values: tuple[int, ...]) -> str:
            return "×".join(str(v) for v in values)

        pad = self.padding if isinstance(self.padding, str) else axes(self.padding)
        return (
            f"Conv{self.ndim}d {self.in_channels}→{self.out_channels}, input {axes(self.input_size)}, "
            f"kernel {axes(self.kernel_size)}, stride {axes(self.stride)}, padding {pad}, "
            f"dilation {axes(self.dilation)}, groups {self.groups}, bias {self.bias}, "
            f"output {axes(self.output_size)}"
        )


def require_ndim(spec: ConvSpec, ndim: int, what: str) -> None:
    """A one-line :class:`SpecError` unless ``spec`` has ``ndim`` spatial axes; ``what`` names the construction.

    >>> require_ndim(ConvSpec(1, 1, input_size=4, kernel_size=2), 2, "the note's block construction")
    """
    if spec.ndim != ndim:
        raise SpecError(
            f"{what} needs {ndim} spatial axes, got {spec.ndim} (input_size={spec.input_size!r})"
        )
