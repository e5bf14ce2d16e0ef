"""ConvSpec: the shape of one convolution layer, validated once, on construction.

Parameter names and semantics are PyTorch's (``torch.nn.Conv2d``): ``stride``, ``padding``,
``dilation`` and ``groups`` take an int or one value per spatial axis; ``padding`` also takes
``"valid"`` (no padding) and ``"same"`` (output size = input size; PyTorch puts the odd pixel of
padding after, i.e. bottom/right). Everything is stored per spatial axis so that the same class
serves ``Conv1d``, ``Conv2d``, ``Conv3d`` and any number of spatial axes ≥ 1: a tuple ``input_size`` gives one
size per axis; a bare int is a square 2-D input unless ``ndim=`` says how many axes (``ConvSpec(1, 1, 16, 3,
ndim=1)`` is a Conv1d). Axes are named width (1-D), height, width (2-D), depth, height, width (3-D), axis k beyond.

``padding_mode`` is PyTorch's: ``"zeros"`` (default), ``"reflect"`` (padding < input size on every axis),
``"replicate"``, ``"circular"`` (padding ≤ input size). The zero-padded index sum and 𝒲 are the layer's for
``"zeros"`` only; for the other modes 𝒲_mode = 𝒲_valid · P_mode (:mod:`symconv.forms.padding`).

Every check raises :class:`~symconv.errors.SpecError` with a one-line message that names the
parameter and the allowed range.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TypeGuard

from ..errors import SpecError
from .choices import BIAS_MODES, PADDING_MODES, BiasMode
from .taps import axis_output_size, axis_tap_count, same_padding

__all__ = [
    "BIAS_MODES",
    "DEFAULT_NDIM",
    "MAX_INT",
    "PADDING_MODES",
    "ConvSpec",
    "axis_names",
    "axis_output_size",
    "check_groups",
    "check_padding_mode",
    "count",
    "per_axis",
    "require_ndim",
    "require_zeros_padding",
    "same_padding",
    "spatial_ndim",
]

#: spatial axes of a bare-int ``input_size`` when ``ndim=`` is not given (a square Conv2d input)
DEFAULT_NDIM = 2
_AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}

IntOrTuple = int | tuple[int, ...]

#: Largest value any size, count, stride, padding or dilation may take: PyTorch's int32 range, and far
#: beyond anything symconv can build; larger ints would overflow NumPy's int64 index arithmetic.
MAX_INT = 2**31 - 1


def _is_int(value: object) -> TypeGuard[int]:
    # any Integral (NumPy's too) but not bool; typed as int because every use treats it as one
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def axis_names(ndim: int) -> tuple[str, ...]:
    """Names of the spatial axes: width; height, width; depth, height, width; ``axis k`` (0-based) beyond 3-D.

    >>> axis_names(1), axis_names(3), axis_names(4)[0]
    (('width',), ('depth', 'height', 'width'), 'axis 0')
    """
    return _AXIS_NAMES.get(ndim) or tuple(f"axis {a}" for a in range(ndim))


def per_axis(name: str, value: object, ndim: int, minimum: int) -> tuple[int, ...]:
    """``value`` as a tuple of ``ndim`` ints in [``minimum``, MAX_INT]; a bare int is repeated; SpecError otherwise.

    >>> per_axis("stride", 2, 3, 1), per_axis("padding", (0, 1), 2, 0)
    ((2, 2, 2), (0, 1))
    """
    values = (value,) * ndim if _is_int(value) else value
    if not isinstance(values, (tuple, list)) or not all(_is_int(v) for v in values):
        raise SpecError(
            f"{name} must be an int or a tuple of {ndim} ints ≥ {minimum}, got {value!r}"
        )
    if len(values) != ndim:
        raise SpecError(
            f"{name} must have {ndim} entries (one per spatial axis: {', '.join(axis_names(ndim))}), got {value!r}"
        )
    shown = value if _is_int(value) else tuple(values)
    for v in values:
        if v < minimum:
            raise SpecError(f"{name} must be ≥ {minimum}, got {shown!r}")
        if v > MAX_INT:
            raise SpecError(f"{name} must be ≤ {MAX_INT} (2³¹ − 1), got {shown!r}")
    return tuple(int(v) for v in values)


def count(name: str, value: object) -> int:
    """``value`` as an int in [1, MAX_INT] (a channel count); SpecError otherwise."""
    if not _is_int(value):  # narrows value to an Integral below
        raise SpecError(f"{name} must be an int ≥ 1, got {value!r}")
    if value < 1:
        raise SpecError(f"{name} must be ≥ 1, got {value!r}")
    if value > MAX_INT:
        raise SpecError(f"{name} must be ≤ {MAX_INT} (2³¹ − 1), got {value!r}")
    return int(value)


def spatial_ndim(input_size: object, ndim: object = None) -> int:
    """The number of spatial axes: ``ndim`` if given, else one per entry of a tuple ``input_size``, else 2 (a bare int).

    >>> spatial_ndim(16), spatial_ndim(16, ndim=1), spatial_ndim((8, 8, 8))
    (2, 1, 3)
    """
    if ndim is not None and (not _is_int(ndim) or ndim < 1):
        raise SpecError(f"ndim must be an int ≥ 1 (the number of spatial axes) or None, got {ndim!r}")
    if _is_int(input_size):
        return DEFAULT_NDIM if ndim is None else int(ndim)
    if isinstance(input_size, (tuple, list)) and len(input_size) >= 1:
        if ndim is not None and len(input_size) != ndim:
            raise SpecError(f"input_size must have ndim={ndim} entries (one per spatial axis), got {input_size!r}")
        return len(input_size)
    raise SpecError(
        f"input_size must be an int (a square input, 2-D unless ndim= is given) or a tuple of ints ≥ 1, "
        f"one per spatial axis, got {input_size!r}"
    )


def check_padding_mode(mode: object, padding: object, padding_before: tuple[int, ...], padding_after: tuple[int, ...],
                       input_size: tuple[int, ...]) -> str:
    """``mode`` if it is one of PADDING_MODES within PyTorch's limits for this padding; a one-line SpecError otherwise.

    ``padding`` is shown in the message as given; the limits apply to the zeros added before/after each axis.

    >>> check_padding_mode("reflect", 1, (1,), (1,), (4,))
    'reflect'
    """
    if mode not in PADDING_MODES:
        raise SpecError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got {mode!r}")
    widest = tuple(max(b, a) for b, a in zip(padding_before, padding_after))
    if mode == "reflect" and any(w >= n for w, n in zip(widest, input_size)):
        raise SpecError(
            f"padding must be < input_size on every axis for padding_mode='reflect' (as in PyTorch), got "
            f"padding={padding!r} for input_size={input_size!r}"
        )
    if mode == "circular" and any(w > n for w, n in zip(widest, input_size)):
        raise SpecError(
            f"padding must be ≤ input_size on every axis for padding_mode='circular' (as in PyTorch), got "
            f"padding={padding!r} for input_size={input_size!r}"
        )
    return str(mode)


def _padding(padding: object, stride: tuple[int, ...], ndim: int) -> tuple[int, ...] | str:
    """``padding`` as per-axis ints, or the mode 'valid' / 'same' (which needs stride 1)."""
    if not isinstance(padding, str):
        return per_axis("padding", padding, ndim, 0)
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


def check_groups(groups: object, in_channels: int, out_channels: int) -> int:
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


class LayerShapes:
    """Channel and array shapes shared by a layer's specs (forward and transposed): C_in/groups, C_out/groups, the
    shapes of x and y. Subclasses define ``in_channels``, ``out_channels``, ``groups``, ``input_size`` and
    ``output_size``."""

    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, ...]

    @property
    def output_size(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        """Number of spatial axes (1 for Conv1d, 2 for Conv2d, 3 for Conv3d)."""
        return len(self.input_size)

    @property
    def in_per_group(self) -> int:
        """Input channels per group, C₁/groups."""
        return self.in_channels // self.groups

    @property
    def out_per_group(self) -> int:
        """Output channels per group, C₂/groups."""
        return self.out_channels // self.groups

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(C₁, *input_size): the shape of x."""
        return (self.in_channels, *self.input_size)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """(C₂, *output_size): the shape of y."""
        return (self.out_channels, *self.output_size)


@dataclass(frozen=True, init=False)
class ConvSpec(LayerShapes):
    """One convolution layer: channels, sizes, stride, padding, dilation, groups and bias mode.

    >>> spec = ConvSpec(2, 3, input_size=(5, 5), kernel_size=3)
    >>> spec.output_size
    (3, 3)
    >>> ConvSpec(1, 1, input_size=7, kernel_size=3, stride=2, padding=1).output_size
    (4, 4)
    >>> ConvSpec(1, 1, input_size=16, kernel_size=3, ndim=1).output_size, ConvSpec(1, 1, (8, 8, 8), 3).output_size
    ((14,), (6, 6, 6))
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
        ndim: int | None = None,
    ) -> None:
        set_ = object.__setattr__  # frozen: every field is set once, here, then normalised
        for name, value in (
            ("in_channels", in_channels), ("out_channels", out_channels), ("input_size", input_size),
            ("kernel_size", kernel_size), ("stride", stride), ("padding", padding), ("dilation", dilation),
            ("groups", groups), ("bias", bias), ("padding_mode", padding_mode),
        ):
            set_(self, name, value)
        # ndim is not a field (it is len(input_size)): it only says how many axes a bare int input_size means
        self._normalise(ndim)

    def _normalise(self, ndim: int | None) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here, in the order the errors are reported
        set_(self, "in_channels", count("in_channels", self.in_channels))
        set_(self, "out_channels", count("out_channels", self.out_channels))
        ndim = spatial_ndim(self.input_size, ndim)
        set_(self, "input_size", per_axis("input_size", self.input_size, ndim, 1))
        set_(self, "kernel_size", per_axis("kernel_size", self.kernel_size, ndim, 1))
        set_(self, "stride", per_axis("stride", self.stride, ndim, 1))
        set_(self, "dilation", per_axis("dilation", self.dilation, ndim, 1))
        set_(self, "padding", _padding(self.padding, self.stride, ndim))
        set_(self, "groups", check_groups(self.groups, self.in_channels, self.out_channels))
        set_(self, "bias", _bias_mode(self.bias))
        self._check_kernel_fits()
        set_(self, "padding_mode", check_padding_mode(
            self.padding_mode, self.padding, self.padding_before, self.padding_after, self.input_size))

    def _check_kernel_fits(self) -> None:
        for axis, (n, k, d, before, after) in enumerate(
            zip(self.input_size, self.kernel_size, self.dilation, self.padding_before, self.padding_after)
        ):
            span = d * (k - 1) + 1
            if span > n + before + after:
                name = axis_names(self.ndim)[axis]
                raise SpecError(
                    f"kernel_size must fit the padded input: on the {name} axis the dilated kernel "
                    f"spans {span} but the padded input is {n + before + after} "
                    f"(input {n} + padding {before + after}), got kernel_size={self.kernel_size!r}"
                )

    # ----------------------------------------------------------------- derived sizes
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
        """Per axis: the number of (output position, kernel tap) pairs that read an input entry.

        With zero padding, those that land inside the input; with any other mode every tap reads one.
        """
        if self.padding_mode != "zeros":
            return tuple(out * k for out, k in zip(self.output_size, self.kernel_size))
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
            + (f"padding_mode {self.padding_mode}, " if self.padding_mode != "zeros" else "")
            + f"output {axes(self.output_size)}"
        )


def require_zeros_padding(spec: ConvSpec, what: str, instead: str) -> None:
    """A one-line :class:`SpecError` unless ``spec`` pads with zeros: ``what`` builds the zero-padded layer only.

    >>> spec = ConvSpec(1, 1, input_size=4, kernel_size=3, padding=1, padding_mode="reflect")
    >>> require_zeros_padding(spec, "direct(spec)", "mode_direct(spec)")
    Traceback (most recent call last):
    symconv.errors.SpecError: direct(spec) builds the zero-padded layer; spec has padding_mode='reflect': use mode_direct(spec)
    """
    if spec.padding_mode != "zeros":
        raise SpecError(
            f"{what} builds the zero-padded layer; spec has padding_mode={spec.padding_mode!r}: use {instead}"
        )


def require_ndim(spec: ConvSpec, ndim: int, what: str) -> None:
    """A one-line :class:`SpecError` unless ``spec`` has ``ndim`` spatial axes; ``what`` names the construction.

    >>> require_ndim(ConvSpec(1, 1, input_size=4, kernel_size=2), 2, "the note's block construction")
    """
    if spec.ndim != ndim:
        raise SpecError(
            f"{what} needs {ndim} spatial axes, got {spec.ndim} (input_size={spec.input_size!r})"
        )
