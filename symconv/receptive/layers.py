"""Layers of a stack as receptive-field computations see them, and the graph they form.

A :class:`Layer` is the spatial part of a convolution or pooling layer — kernel size, stride, padding,
dilation, per axis — with PyTorch's names and meaning: output position ``o`` reads input positions
``o·s − p_before + t·d`` for ``t = 0 … k−1``, and positions outside the input are zero padding — or, with a
convolution's ``padding_mode`` (reflect, replicate, circular, as in PyTorch), read the input cell the mode
copies there.
Channels do not enter: a receptive field is spatial (with ``groups`` a channel sees fewer input
channels, but over the same spatial region).

A stack is a list of layers (:class:`Layer` or :class:`~symconv.core.spec.ConvSpec`); :class:`Branches`
inside the list makes a DAG: paths that start at the same feature map and merge (``"add"`` as in a
residual block, ``"concat"`` along channels as in an inception block). Everything is turned into one
:class:`Graph` (nodes in topological order) by :func:`build_graph`; a ``torch.nn.Module`` is read by
:mod:`symconv.receptive.torch_graph`, and :func:`symconv.receptive.build.graph_of` chooses between the two
(this module never looks at torch: the arrows run build → torch_graph → layers).

A transposed convolution (``kind="tconv"``, PyTorch's ``ConvTranspose``) reads the tap map the other way
round: its output o depends on input i iff ``o = i·s − p + t·d`` for some tap t, and it has ``output_padding``
(``op``). With stride 1 that is a convolution with padding d(k−1) − p before and d(k−1) − p + op after
(possibly negative), and :meth:`Layer.axes` says so; with stride s > 1 an output reads inputs at stride 1/s
and the axis is marked ``transposed`` (see :class:`AxisOp`).

Text syntax of one layer (command line, JSON): ``KIND:KEY=VALUE,…`` with ``KIND`` one of ``conv``,
``maxpool``, ``avgpool``, ``tconv`` and keys ``k`` (kernel, required), ``s`` (stride, default 1), ``p``
(padding, default 0; ``same``/``valid`` for conv), ``d`` (dilation, default 1), ``op`` (output padding,
tconv only, default 0), ``mode`` (PyTorch's padding_mode, conv only: ``zeros`` (default), ``reflect``,
``replicate``, ``circular``); a value is one int for every axis or one per axis joined by ``x`` —
``conv:k=3,s=2,p=1``, ``maxpool:k=2,s=2``, ``conv:k=3x1,d=2x1``, ``tconv:k=3,s=2,p=1,op=1``,
``conv:k=3,p=1,mode=circular``.

JSON (already parsed; reading the file is the caller's job): either a list of layers or
``{"input_size": [H, W], "layers": [...]}``; a layer is a text string as above, an object
``{"kind": "conv", "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1}`` (``"output_padding"`` for
``"tconv"``, ``"padding_mode"`` for ``"conv"``), or
``{"branches": [[layer, …], [layer, …], []], "merge": "add"}`` (an empty path is an identity
shortcut).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeGuard, Union

from ..core.spec import MAX_INT, PADDING_MODES, ConvSpec, axis_output_size, same_padding
from ..core.taps import axis_transposed_output_size
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError

__all__ = [
    "KINDS",
    "MERGES",
    "AxisOp",
    "Branches",
    "Graph",
    "Layer",
    "Node",
    "build_graph",
    "layers_from_json",
    "parse_layer",
]

KINDS: tuple[str, ...] = ("conv", "maxpool", "avgpool", "tconv")
_KIND_TEXT = "'conv', 'maxpool', 'avgpool' or 'tconv'"
MERGES: tuple[str, ...] = ("add", "concat")

IntOrTuple = int | tuple[int, ...]


def _is_int(value: object) -> TypeGuard[numbers.Integral]:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked(name: str, value: object, minimum: int) -> int | tuple[int, ...]:
    """``value`` as an int or a non-empty tuple of ints, each ≥ ``minimum``; SpecError otherwise."""
    if _is_int(value):
        values: tuple[int, ...] = (int(value),)
    elif isinstance(value, (tuple, list)) and value and all(_is_int(v) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise SpecError(f"{name} must be an int ≥ {minimum} or a tuple of ints ≥ {minimum}, got {value!r}")
    if any(v < minimum for v in values):
        raise SpecError(f"{name} must be ≥ {minimum}, got {value!r}")
    if any(v > MAX_INT for v in values):
        raise SpecError(f"{name} must be ≤ {MAX_INT} (2³¹ − 1), got {value!r}")
    return values[0] if _is_int(value) else values


class AxisOp(NamedTuple):
    """One layer along one axis: output o reads o·stride − before + t·dilation, t = 0 … kernel−1.

    ``transposed=True`` (a transposed convolution with stride > 1) reverses the roles: output o reads input i iff
    o = i·stride − before + t·dilation, ``before`` = the padding p and ``after`` = p − output_padding (the
    positions cropped from each end of the full transposed output).

    ``mode`` is PyTorch's ``padding_mode``: a tap that lands on padded position c < 0 or c ≥ n reads input π(c)
    (:func:`symconv.forms.padding.axis_padding_map`) instead of a zero.
    """

    kernel: int
    stride: int
    dilation: int
    before: int
    after: int
    transposed: bool = False
    mode: str = "zeros"

    def output_size(self, n: int) -> int:
        """PyTorch's ⌊(n + before + after − d(k−1) − 1)/s⌋ + 1, or (n − 1)·s − before − after + d(k − 1) + 1 when
        transposed (≤ 0: the kernel does not fit)."""
        if self.transposed:
            return axis_transposed_output_size(n, self.kernel, self.stride, self.before, self.dilation,
                                               self.before - self.after)
        return axis_output_size(n, self.kernel, self.stride, self.dilation, self.before, self.after)


@dataclass(frozen=True)
class Layer:
    """The spatial shape of a conv or pooling layer: kernel, stride, padding, dilation per axis.

    Ints apply to every axis; tuples give one value per axis (their lengths fix ``ndim``).
    ``padding`` also takes ``"valid"`` and, for convolutions with stride 1, ``"same"`` (the odd pixel
    after, as in PyTorch). ``padding_mode`` (convolutions only) is PyTorch's: zeros, reflect, replicate, circular.

    >>> Layer(3, stride=2, padding=1).describe()
    'conv:k=3,s=2,p=1,d=1'
    >>> Layer((3, 1), kind="maxpool").ndim
    2
    >>> Layer(3, stride=2, padding=1, output_padding=1, kind="tconv").describe()
    'tconv:k=3,s=2,p=1,d=1,op=1'
    >>> Layer(3, padding=1, padding_mode="circular").describe()
    'conv:k=3,s=1,p=1,d=1,mode=circular'
    >>> Layer(0)
    Traceback (most recent call last):
    ...
    symconv.errors.SpecError: kernel_size must be ≥ 1, got 0
    """

    kernel_size: IntOrTuple
    stride: IntOrTuple = 1
    padding: IntOrTuple | str = 0
    dilation: IntOrTuple = 1
    kind: str = "conv"
    output_padding: IntOrTuple = 0
    padding_mode: str = "zeros"

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        if self.kind not in KINDS:
            raise SpecError(f"kind must be {_KIND_TEXT}, got {self.kind!r}")
        set_(self, "kernel_size", _checked("kernel_size", self.kernel_size, 1))
        set_(self, "stride", _checked("stride", self.stride, 1))
        set_(self, "dilation", _checked("dilation", self.dilation, 1))
        if isinstance(self.padding, str):
            if self.padding not in ("valid", "same"):
                raise SpecError(f"padding must be an int ≥ 0, a tuple of ints ≥ 0, 'valid' or 'same', got {self.padding!r}")
            if self.padding == "same" and self.kind != "conv":
                raise SpecError(f"padding='same' is for kind='conv' only (as in PyTorch), got kind={self.kind!r}")
            if self.padding == "same" and any(s != 1 for s in _values(self.stride)):
                raise SpecError(f"padding='same' needs stride 1 on every axis (as in PyTorch), got stride={self.stride!r}")
        else:
            set_(self, "padding", _checked("padding", self.padding, 0))
        if self.kind == "avgpool" and any(d != 1 for d in _values(self.dilation)):
            raise SpecError(f"dilation must be 1 for kind='avgpool' (PyTorch's AvgPool has none), got {self.dilation!r}")
        set_(self, "output_padding", _checked("output_padding", self.output_padding, 0))
        lengths = {
            name: len(v)
            for name in ("kernel_size", "stride", "padding", "dilation", "output_padding")
            if isinstance(v := getattr(self, name), tuple)
        }
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in lengths)
            raise SpecError(f"per-axis values must all have the same number of axes, got {shown}")
        if self.padding_mode not in PADDING_MODES:
            raise SpecError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                            f"got {self.padding_mode!r}")
        if self.padding_mode != "zeros" and self.kind != "conv":
            raise SpecError(f"padding_mode={self.padding_mode!r} is for kind='conv' only (as in PyTorch), "
                            f"got kind={self.kind!r}")
        if self.kind == "tconv":
            self._check_transposed()
        elif _values(self.output_padding) != (0,) * len(_values(self.output_padding)):
            raise SpecError(f"output_padding is for kind='tconv' only, got output_padding={self.output_padding!r} "
                            f"with kind={self.kind!r}")

    def _check_transposed(self) -> None:
        """PyTorch's rules for ConvTranspose: integer padding, output_padding < stride or < dilation per axis."""
        if isinstance(self.padding, str):
            raise SpecError(f"padding must be an int ≥ 0 or a tuple of ints ≥ 0 for kind='tconv' (as in PyTorch), "
                            f"got {self.padding!r}")
        ndim = self.ndim or 1
        for a in range(ndim):
            op, s, d = _axis(self.output_padding, a), _axis(self.stride, a), _axis(self.dilation, a)
            if op >= s and op >= d:
                raise SpecError(f"output_padding must be smaller than the stride or the dilation (as in PyTorch), "
                                f"got output_padding={op}, stride={s}, dilation={d} on axis {a}")

    @property
    def ndim(self) -> int | None:
        """Number of spatial axes fixed by a tuple argument; ``None`` when every value is one int."""
        for value in (self.kernel_size, self.stride, self.padding, self.dilation, self.output_padding):
            if isinstance(value, tuple):
                return len(value)
        return None

    def axes(self, ndim: int) -> tuple[AxisOp, ...]:
        """The layer along each of ``ndim`` axes.

        >>> [tuple(op)[:6] for op in Layer((3, 2), padding="same").axes(2)]  # kernel, stride, dilation, before, after, transposed
        [(3, 1, 1, 1, 1, False), (2, 1, 1, 0, 1, False)]
        """
        if self.ndim not in (None, ndim):
            raise SpecError(f"layer {self.describe()} has {self.ndim} spatial axes, the stack has {ndim}")
        out = []
        for a in range(ndim):
            k, s, d = _axis(self.kernel_size, a), _axis(self.stride, a), _axis(self.dilation, a)
            if isinstance(self.padding, str):  # 'valid' or 'same', checked on construction (never for tconv)
                before, after = (0, 0) if self.padding == "valid" else same_padding(k, d)
                out.append(AxisOp(k, s, d, before, after, mode=self.padding_mode))
            elif self.kind == "tconv":
                out.append(_transposed_axis(k, s, d, _axis(self.padding, a), _axis(self.output_padding, a)))
            else:
                out.append(AxisOp(k, s, d, _axis(self.padding, a), _axis(self.padding, a), mode=self.padding_mode))
        return tuple(out)

    def describe(self) -> str:
        """The layer in the text syntax of :func:`parse_layer` (round-trips).

        >>> Layer((3, 1), dilation=(2, 1), kind="conv").describe()
        'conv:k=3x1,s=1,p=0,d=2x1'
        """
        parts = [f"k={_text(self.kernel_size)}", f"s={_text(self.stride)}", f"p={_text(self.padding)}"]
        if self.kind != "avgpool":
            parts.append(f"d={_text(self.dilation)}")
        if self.kind == "tconv":
            parts.append(f"op={_text(self.output_padding)}")
        if self.padding_mode != "zeros":
            parts.append(f"mode={self.padding_mode}")
        return f"{self.kind}:" + ",".join(parts)

    @classmethod
    def from_spec(cls, spec: ConvSpec | ConvTransposeSpec) -> Layer:
        """The spatial layer of a :class:`~symconv.core.spec.ConvSpec` or a
        :class:`~symconv.core.transposed.ConvTransposeSpec`.

        >>> Layer.from_spec(ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1)).describe()
        'conv:k=3x3,s=1x1,p=1x1,d=1x1'
        >>> Layer.from_spec(ConvTransposeSpec(1, 1, input_size=(4,), kernel_size=3, stride=2, output_padding=1)).describe()
        'tconv:k=3,s=2,p=0,d=1,op=1'
        """
        if isinstance(spec, ConvTransposeSpec):
            return cls(spec.kernel_size, spec.stride, spec.padding, spec.dilation, "tconv", spec.output_padding)
        return cls(spec.kernel_size, spec.stride, spec.padding, spec.dilation, "conv", padding_mode=spec.padding_mode)


def _transposed_axis(k: int, s: int, d: int, p: int, op: int) -> AxisOp:
    """One axis of a transposed convolution: output o reads input i iff o = i·s − p + t·d.

    With s = 1 that is i = o − (d(k−1) − p) + (k−1−t)·d: a convolution (kernel flipped, which a receptive field
    does not see) with d(k−1) − p zeros before and d(k−1) − p + op after, so stacks keep an exact summary.
    """
    if s == 1:
        before = d * (k - 1) - p
        return AxisOp(k, 1, d, before, before + op)
    return AxisOp(k, s, d, p, p - op, transposed=True)


def _values(value: IntOrTuple) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (value,)


def _axis(value: IntOrTuple, axis: int) -> int:
    return value[axis] if isinstance(value, tuple) else value


def _text(value: object) -> str:
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)


LayerLike = Union[Layer, ConvSpec, ConvTransposeSpec, "Branches"]
_ITEMS = (Layer, ConvSpec, ConvTransposeSpec)


@dataclass(frozen=True)
class Branches:
    """Paths that start at the same feature map and merge: ``"add"`` (residual) or ``"concat"`` (channels).

    Each path is a sequence of layers (possibly with nested :class:`Branches`); an empty path is an
    identity shortcut.

    >>> block = Branches(([Layer(3, padding=1), Layer(3, padding=1)], []), merge="add")
    >>> len(block.paths), block.merge
    (2, 'add')
    """

    paths: tuple[tuple[LayerLike, ...], ...]
    merge: str = "add"

    def __post_init__(self) -> None:
        if self.merge not in MERGES:
            raise SpecError(f"merge must be 'add' or 'concat', got {self.merge!r}")
        if isinstance(self.paths, (str, bytes)) or not isinstance(self.paths, Sequence) or len(self.paths) < 2:
            raise SpecError(f"paths must be a sequence of at least 2 paths (each a list of layers), got {self.paths!r}")
        paths = []
        for path in self.paths:
            if isinstance(path, (*_ITEMS, Branches)) or not isinstance(path, Sequence):
                raise SpecError(f"each path must be a list of layers ([] for an identity shortcut), got {path!r}")
            for item in path:
                _check_item(item)
            paths.append(tuple(path))
        object.__setattr__(self, "paths", tuple(paths))


def _check_item(item: object) -> None:
    if not isinstance(item, (*_ITEMS, Branches)):
        raise SpecError(f"a layer must be a symconv.Layer, a ConvSpec, a ConvTransposeSpec or Branches, got {item!r}")


@dataclass(frozen=True)
class Node:
    """One feature map of the graph: the input, a layer's output, or a merge of several maps.

    ``layer`` is None for the input and for merges; ``spec`` keeps the ConvSpec a layer came from,
    whose input size must then match.
    """

    name: str
    layer: Layer | None
    inputs: tuple[str, ...]
    merge: str | None = None
    spec: ConvSpec | ConvTransposeSpec | None = None


@dataclass(frozen=True)
class Graph:
    """A DAG of layers, nodes in topological order: the first is ``"input"``, the last the output.

    >>> g = build_graph([Layer(3), Layer(2, stride=2, kind="maxpool")])
    >>> [n.name for n in g.nodes]
    ['input', 'conv1', 'maxpool2']
    """

    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for position, node in enumerate(self.nodes):
            if position == 0 and (node.layer is not None or node.inputs):
                raise SpecError(f"the first node must be the input (no layer, no inputs), got {node.name!r}")
            if position > 0 and not node.inputs:
                raise SpecError(f"node {node.name!r} has no inputs; only the first node is the graph's input")
            if node.name in seen:
                raise SpecError(f"node names must be unique, got {node.name!r} twice")
            for source in node.inputs:
                if source not in seen:
                    raise SpecError(f"node {node.name!r} reads {source!r}, which is not an earlier node")
            if node.layer is None and position > 0 and (len(node.inputs) < 2 or node.merge not in MERGES):
                raise SpecError(f"node {node.name!r} without a layer must merge ≥ 2 inputs with 'add' or 'concat'")
            if node.layer is not None and len(node.inputs) != 1:
                raise SpecError(f"layer node {node.name!r} must read exactly one input, got {node.inputs!r}")
            seen.add(node.name)
        if not self.nodes:
            raise SpecError("a graph needs at least its input node")
        reaching = {self.nodes[-1].name}
        for node in reversed(self.nodes):
            if node.name in reaching:
                reaching.update(node.inputs)
        for node in self.nodes:
            if node.name not in reaching:
                raise SpecError(f"node {node.name!r} does not reach the output {self.nodes[-1].name!r}; remove it")

    @property
    def output(self) -> Node:
        """The last node, whose outputs the receptive field describes."""
        return self.nodes[-1]

    def ndim(self, default: int = 2) -> int:
        """Spatial axes fixed by the layers (``default`` when every layer uses bare ints)."""
        found = {n.layer.ndim for n in self.nodes if n.layer is not None and n.layer.ndim is not None}
        if len(found) > 1:
            raise SpecError(f"layers disagree on the number of spatial axes: {sorted(found)}")
        return found.pop() if found else default


def build_graph(layers: Any) -> Graph:
    """A :class:`Graph` from a list of layers (with :class:`Branches`) or a Graph.

    A ``torch.nn.Module`` is read by :func:`symconv.receptive.build.graph_of`, which calls this for everything else.

    >>> g = build_graph([Layer(3), Branches(([Layer(3, padding=1)], []))])
    >>> [(n.name, n.inputs) for n in g.nodes]
    [('input', ()), ('conv1', ('input',)), ('add2.0.conv1', ('conv1',)), ('add2', ('add2.0.conv1', 'conv1'))]
    """
    if isinstance(layers, Graph):
        return layers
    if isinstance(layers, (*_ITEMS, Branches)):
        layers = [layers]
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise SpecError(
            f"layers must be a list of symconv.Layer / ConvSpec / Branches, a Graph or a torch.nn.Module, got {layers!r}"
        )
    nodes: list[Node] = [Node("input", None, ())]
    _append_chain(nodes, list(layers), "input", prefix="")
    return Graph(tuple(nodes))


def _append_chain(nodes: list[Node], chain: list, source: str, prefix: str) -> str:
    """Append ``chain`` after node ``source``; returns the name of its last node."""
    for position, item in enumerate(chain, start=1):
        _check_item(item)
        if isinstance(item, Branches):
            name = f"{prefix}{item.merge}{position}"
            ends = [
                _append_chain(nodes, list(path), source, prefix=f"{name}.{b}.")
                for b, path in enumerate(item.paths)
            ]
            if len(set(ends)) == 1:  # every path is an identity: nothing to merge
                continue
            nodes.append(Node(name, None, tuple(ends), merge=item.merge))
        elif isinstance(item, (ConvSpec, ConvTransposeSpec)):
            layer = Layer.from_spec(item)
            name = f"{prefix}{layer.kind}{position}"
            nodes.append(Node(name, layer, (source,), spec=item))
        else:
            name = f"{prefix}{item.kind}{position}"
            nodes.append(Node(name, item, (source,)))
        source = name
    return source


# ------------------------------------------------------------------------------ text and JSON input
_KEYS = {"k": "kernel_size", "kernel": "kernel_size", "s": "stride", "stride": "stride",
         "p": "padding", "padding": "padding", "d": "dilation", "dilation": "dilation",
         "op": "output_padding", "output_padding": "output_padding", "mode": "padding_mode",
         "padding_mode": "padding_mode"}
_SYNTAX = ("layer must look like 'conv:k=3,s=2,p=1,d=1' (kinds conv, maxpool, avgpool, tconv; keys k, s, p, d, "
           "op for tconv, mode for conv; per axis 3x1)")


def parse_layer(text: str) -> Layer:
    """A :class:`Layer` from the text syntax ``KIND:k=…,s=…,p=…,d=…[,op=…][,mode=…]``.

    >>> parse_layer("maxpool:k=2,s=2")
    Layer(kernel_size=2, stride=2, padding=0, dilation=1, kind='maxpool', output_padding=0, padding_mode='zeros')
    >>> parse_layer("tconv:k=3,s=2,p=1,op=1").axes(1)
    (AxisOp(kernel=3, stride=2, dilation=1, before=1, after=0, transposed=True, mode='zeros'),)
    >>> parse_layer("conv:k=3x1,p=same").axes(2)[0].before
    1
    >>> parse_layer("conv:k=3,p=1,mode=circular").axes(1)[0].mode
    'circular'
    >>> parse_layer("pool:k=2")
    Traceback (most recent call last):
    ...
    symconv.errors.SpecError: kind must be 'conv', 'maxpool', 'avgpool' or 'tconv', got 'pool'
    """
    if not isinstance(text, str):
        raise SpecError(f"{_SYNTAX}, got {text!r}")
    kind, _, rest = text.strip().partition(":")
    if kind not in KINDS:
        raise SpecError(f"kind must be {_KIND_TEXT}, got {kind!r}")
    values: dict[str, Any] = {}
    for part in filter(None, rest.split(",")):
        key, eq, value = part.partition("=")
        field = _KEYS.get(key.strip())
        if not eq or field is None:
            raise SpecError(f"{_SYNTAX}, got {text!r}")
        if field in values:
            raise SpecError(f"{field} is given twice in {text!r}")
        value = value.strip()
        if field == "padding_mode":
            if value not in PADDING_MODES:
                raise SpecError(f"padding_mode (mode=) must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                                f"got {value!r} in {text!r}")
            values[field] = value
            continue
        if field == "padding" and value in ("same", "valid"):
            values[field] = value
            continue
        if not re.fullmatch(r"\d+([x×]\d+)*", value):
            raise SpecError(f"{field} must be an int or one int per axis like 3x1, got {value!r} in {text!r}")
        ints = tuple(int(v) for v in re.split(r"[x×]", value))
        values[field] = ints[0] if len(ints) == 1 else ints
    if "kernel_size" not in values:
        raise SpecError(f"the kernel size k is required, e.g. '{kind}:k=3', got {text!r}")
    return Layer(kind=kind, **values)


_JSON_FIELDS = ("kind", "kernel_size", "stride", "padding", "dilation", "output_padding", "padding_mode")


def _layer_from_json(item: object) -> LayerLike:
    if isinstance(item, str):
        return parse_layer(item)
    if isinstance(item, dict) and "branches" in item:
        unknown = set(item) - {"branches", "merge"}
        if unknown:
            raise SpecError(f"a branches object has keys 'branches' and 'merge', got {sorted(unknown)!r}")
        paths = item["branches"]
        if not isinstance(paths, list) or not all(isinstance(p, list) for p in paths):
            raise SpecError(f"'branches' must be a list of paths, each a list of layers, got {paths!r}")
        return Branches(tuple(tuple(_layer_from_json(x) for x in p) for p in paths), merge=item.get("merge", "add"))
    if isinstance(item, dict):
        unknown = set(item) - set(_JSON_FIELDS)
        if unknown or "kernel_size" not in item:
            raise SpecError(
                f"a layer object has keys {', '.join(_JSON_FIELDS)} (kernel_size required), got {sorted(item)!r}"
            )
        args: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}
        return Layer(**args)
    raise SpecError(f"a layer must be a string like 'conv:k=3', an object with kernel_size, or a branches object, got {item!r}")


def layers_from_json(data: object) -> tuple[list[LayerLike], int | tuple[int, ...] | None]:
    """(layers, input_size or None) from parsed JSON: a list of layers or ``{"input_size", "layers"}``.

    >>> layers_from_json({"input_size": [8, 8], "layers": ["conv:k=3", {"kind": "maxpool", "kernel_size": 2}]})[1]
    (8, 8)
    """
    input_size: int | tuple[int, ...] | None = None
    if isinstance(data, dict):
        unknown = set(data) - {"input_size", "layers"}
        if unknown or "layers" not in data:
            raise SpecError(f"the JSON object needs 'layers' (and optionally 'input_size'), got keys {sorted(data)!r}")
        raw = data.get("input_size")
        if raw is not None:
            input_size = _checked("input_size", tuple(raw) if isinstance(raw, list) else raw, 1)
        data = data["layers"]
    if not isinstance(data, list):
        raise SpecError(f"the JSON must be a list of layers or an object with 'layers', got {type(data).__name__}")
    return [_layer_from_json(item) for item in data], input_size
