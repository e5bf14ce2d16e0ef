"""The choices verify_implementation takes, in one place importable without NumPy (the CLI offers them as is).

Data layouts are named as PyTorch and TensorFlow users know them, one set per number of spatial axes: a batch
axis first or not (``N``), channels (``C``) before or after the spatial axes (``L``; ``HW``; ``DHW``). Layers with
more than three spatial axes take the generic names ``NC...``, ``C...``, ``N...C``, ``...C`` (and ``OI...``,
``...IO`` for the weight). :func:`layout_axes` turns a name into (batched, channels_last) for one ndim, and
refuses a name of another ndim with a one-line SpecError that lists the names valid for it.

>>> layout_axes("NLC", 1), layout_axes("auto", 3), weight_channels_last("DHWIO", 3)
((True, True), None, True)
>>> layout_name(3, batched=False, channels_last=True)
'DHWC'
"""

from __future__ import annotations

from ..errors import SpecError

__all__ = [
    "BACKENDS",
    "DTYPES",
    "IMPLEMENTATION_METHODS",
    "LAYOUTS",
    "LAYOUTS_BY_NDIM",
    "SIGNATURES",
    "WEIGHT_LAYOUTS",
    "WEIGHT_LAYOUTS_BY_NDIM",
    "auto_layouts",
    "layout_axes",
    "layout_name",
    "weight_channels_last",
]

#: Per ndim: the layouts of x and y — (batched, channels first), (unbatched, channels first), (batched, channels
#: last), (unbatched, channels last); key 0 holds the generic names used for ndim > 3.
LAYOUTS_BY_NDIM: dict[int, tuple[str, str, str, str]] = {
    1: ("NCL", "CL", "NLC", "LC"),
    2: ("NCHW", "CHW", "NHWC", "HWC"),
    3: ("NCDHW", "CDHW", "NDHWC", "DHWC"),
    0: ("NC...", "C...", "N...C", "...C"),
}
#: Per ndim: PyTorch's weight layout (C₂, C₁/g, *kernel) and TensorFlow's (*kernel, C₁/g, C₂); key 0 for ndim > 3.
WEIGHT_LAYOUTS_BY_NDIM: dict[int, tuple[str, str]] = {1: ("OIL", "LIO"), 2: ("OIHW", "HWIO"), 3: ("OIDHW", "DHWIO"),
                                                     0: ("OI...", "...IO")}

#: how x is laid out when handed to fn ("auto": batched channels-first, then unbatched channels-first)
LAYOUTS: tuple[str, ...] = ("auto", *(name for names in LAYOUTS_BY_NDIM.values() for name in names))
#: how the weight is laid out ("auto": PyTorch's (C₂, C₁/g, *kernel), i.e. OIL, OIHW or OIDHW by ndim)
WEIGHT_LAYOUTS: tuple[str, ...] = ("auto", *(name for names in WEIGHT_LAYOUTS_BY_NDIM.values() for name in names))
BACKENDS: tuple[str, ...] = ("auto", "numpy", "torch")
DTYPES: tuple[str, ...] = ("float64", "float32")
#: how fn is read: on SymPy symbols, one weight at a time, or with sparse tagged probes
IMPLEMENTATION_METHODS: tuple[str, ...] = ("auto", "symbolic", "onehot", "sparse")
#: the calling conventions recognised (symconv.check.signature)
SIGNATURES: tuple[str, ...] = ("auto", "x,w,b", "x,w,b,conv_param", "x,w,b,stride,pad", "x,w,stride,pad", "module")


def _names(ndim: int) -> tuple[str, str, str, str]:
    return LAYOUTS_BY_NDIM.get(ndim, LAYOUTS_BY_NDIM[0])


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(repr(n) for n in names)


def layout_name(ndim: int, batched: bool, channels_last: bool) -> str:
    """The name of a data layout for ``ndim`` spatial axes (e.g. ``NCDHW``, ``LC``)."""
    return _names(ndim)[2 * channels_last + (not batched)]


def layout_axes(layout: str, ndim: int) -> tuple[bool, bool] | None:
    """(batched, channels_last) of ``layout`` for ``ndim`` spatial axes; None for ``"auto"``; SpecError otherwise."""
    if layout == "auto":
        return None
    names = _names(ndim)
    if layout not in names:
        kind = f"a {ndim}-D layer" if ndim in LAYOUTS_BY_NDIM else f"a layer with {ndim} spatial axes"
        raise SpecError(f"layout must be one of {_quoted(('auto', *names))} for {kind}, got {layout!r}")
    index = names.index(layout)
    return index % 2 == 0, index >= 2


def auto_layouts(layout: str, ndim: int) -> list[str]:
    """The layouts to try for ``layout``: itself, or for ``"auto"`` batched then unbatched channels-first."""
    return [layout_name(ndim, True, False), layout_name(ndim, False, False)] if layout == "auto" else [layout]


def weight_channels_last(weight_layout: str, ndim: int) -> bool:
    """Whether ``weight_layout`` is TensorFlow's (*kernel, C₁/g, C₂) for ``ndim`` axes; SpecError for another ndim's."""
    names = WEIGHT_LAYOUTS_BY_NDIM.get(ndim, WEIGHT_LAYOUTS_BY_NDIM[0])
    if weight_layout not in ("auto", *names):
        kind = f"a {ndim}-D layer" if ndim in WEIGHT_LAYOUTS_BY_NDIM else f"a layer with {ndim} spatial axes"
        raise SpecError(f"weight_layout must be one of {_quoted(('auto', *names))} for {kind}, got {weight_layout!r}")
    return weight_layout == names[1]
