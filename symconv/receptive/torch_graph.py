"""Read the layer graph of a ``torch.nn.Module`` for receptive fields (torch is imported here only).

The module is traced with ``torch.fx.symbolic_trace``, so the module itself tells the graph: a
``Sequential`` is a chain, a ``forward`` that adds a shortcut (``x + self.body(x)``) or concatenates
branches (``torch.cat([...], dim=1)``) is a DAG. Supported nodes:

* layers: ``Conv1d/2d/3d`` (any ``padding_mode``, stride/padding/dilation/groups, ``padding='same'``),
  ``ConvTranspose1d/2d/3d`` (zero padding, any stride/padding/output_padding/dilation/groups),
  ``MaxPool1d/2d/3d`` and ``AvgPool1d/2d/3d`` (``ceil_mode=False``);
* pointwise, passed through: activations (ReLU, GELU, SiLU, Sigmoid, Tanh, …), ``Identity``,
  ``Dropout``, ``BatchNorm`` (as in eval mode — in training mode it mixes the batch), and the same as
  functions (``F.relu``, ``torch.sigmoid``, ``x.relu()``, …);
* merges: elementwise ``+ − ×`` between two maps (``torch.add``, ``x.add(y)``, …) and
  ``torch.cat(…, dim=1)``.

Anything else — adaptive or ``ceil_mode`` pooling,
normalisations over space (InstanceNorm, GroupNorm, LayerNorm), Linear/Flatten, untraceable control
flow — raises a one-line :class:`~symconv.errors.SpecError` naming the node and what is supported.
"""

from __future__ import annotations

import operator
from typing import Any

from ..errors import SpecError
from .layers import Graph, Layer, Node

__all__ = ["graph_from_module"]

SUPPORTED = ("Conv1d/2d/3d, ConvTranspose1d/2d/3d, MaxPool1d/2d/3d, AvgPool1d/2d/3d, pointwise layers "
             "(activations, BatchNorm, Dropout, Identity), + − × between maps and torch.cat(dim=1)")


def _tables() -> dict[str, Any]:
    import torch
    import torch.nn.functional as F
    from torch import nn

    pointwise_modules = (
        nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid,
        nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.Identity,
        nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.BatchNorm1d, nn.BatchNorm2d,
        nn.BatchNorm3d,
    )
    pointwise_functions: set[Any] = {
        torch.relu, torch.sigmoid, torch.tanh, torch.neg, torch.abs, torch.exp, F.relu, F.relu6, F.leaky_relu, F.elu,
        F.selu, F.gelu, F.silu, F.mish, F.hardswish, F.hardsigmoid, F.hardtanh, F.softplus, F.dropout, F.sigmoid,
        F.tanh, operator.neg,
    }
    pointwise_methods = {"relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "neg", "abs", "exp", "contiguous",
                         "clone", "float", "double", "detach"}
    elementwise_functions: set[Any] = {operator.add, operator.iadd, operator.sub, operator.isub, operator.mul, operator.imul,
                             torch.add, torch.sub, torch.mul}
    elementwise_methods = {"add", "add_", "sub", "sub_", "mul", "mul_"}
    dims = {}
    for cls, ndim in ((nn.Conv1d, 1), (nn.Conv2d, 2), (nn.Conv3d, 3), (nn.ConvTranspose1d, 1), (nn.ConvTranspose2d, 2),
                      (nn.ConvTranspose3d, 3), (nn.MaxPool1d, 1), (nn.MaxPool2d, 2),
                      (nn.MaxPool3d, 3), (nn.AvgPool1d, 1), (nn.AvgPool2d, 2), (nn.AvgPool3d, 3)):
        dims[cls] = ndim
    return {
        "torch": torch, "nn": nn, "pointwise_modules": pointwise_modules, "pointwise_functions": pointwise_functions,
        "pointwise_methods": pointwise_methods, "elementwise_functions": elementwise_functions,
        "elementwise_methods": elementwise_methods, "dims": dims, "cat": {torch.cat, torch.concat},
    }


def _per_axis(value: Any, ndim: int) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim
    return tuple(int(v) for v in values)


def _padding(value: Any, ndim: int) -> tuple[int, ...] | str:
    """A module's padding: 'same' or 'valid' as given, else one int per axis."""
    return value if isinstance(value, str) else _per_axis(value, ndim)


def _layer_of(name: str, module: Any, t: dict[str, Any]) -> Layer | None:
    """The Layer of a leaf module, None for pointwise modules; SpecError for anything else."""
    nn = t["nn"]
    kind_name = type(module).__name__
    if isinstance(module, t["pointwise_modules"]):
        return None
    ndim = t["dims"].get(type(module))
    if ndim is None:
        if isinstance(module, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                                 nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
            why = "adaptive pooling has no fixed kernel (its window depends on the input size)"
        elif isinstance(module, (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.GroupNorm, nn.LayerNorm)):
            why = "it normalises over spatial positions, so every output depends on the whole map"
        else:
            why = "it is not a convolution, pooling or pointwise layer"
        raise SpecError(f"module {name!r} ({kind_name}) is not supported: {why}; supported: {SUPPORTED}")
    if "Conv" in kind_name:
        transposed = "Transpose" in kind_name
        return Layer(_per_axis(module.kernel_size, ndim), _per_axis(module.stride, ndim),
                     _padding(module.padding, ndim), _per_axis(module.dilation, ndim), "tconv" if transposed else "conv",
                     _per_axis(module.output_padding, ndim) if transposed else 0, module.padding_mode)
    if module.ceil_mode:
        raise SpecError(f"module {name!r} ({kind_name}) has ceil_mode=True; only ceil_mode=False is supported")
    if "MaxPool" in kind_name:
        if module.return_indices:
            raise SpecError(f"module {name!r} ({kind_name}) has return_indices=True; its output is a pair, not a map")
        return Layer(_per_axis(module.kernel_size, ndim), _per_axis(module.stride, ndim),
                     _padding(module.padding, ndim), _per_axis(module.dilation, ndim), "maxpool")
    return Layer(_per_axis(module.kernel_size, ndim), _per_axis(module.stride, ndim),
                 _padding(module.padding, ndim), 1, "avgpool")


def graph_from_module(module: Any) -> Graph:
    """The :class:`~symconv.receptive.layers.Graph` of a torch module, traced with torch.fx.

    >>> import torch
    >>> g = graph_from_module(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2)))
    >>> [(n.name, None if n.layer is None else n.layer.describe()) for n in g.nodes]
    [('input', None), ('0', 'conv:k=3x3,s=1x1,p=0x0,d=1x1'), ('2', 'maxpool:k=2x2,s=2x2,p=0x0,d=1x1')]
    """
    t = _tables()
    torch = t["torch"]
    if not isinstance(module, torch.nn.Module):
        raise SpecError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if type(module) in t["dims"] or isinstance(module, t["pointwise_modules"]):  # a bare layer: fx would inline it
        layer = _layer_of(type(module).__name__, module, t)
        bare = [Node("input", None, ())]
        if layer is not None:
            bare.append(Node(type(module).__name__, layer, ("input",)))
        return Graph(tuple(bare))
    try:
        traced = torch.fx.symbolic_trace(module)
    except Exception as exc:  # fx raises many types; the user needs the first line only
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SpecError(f"cannot read the graph of {type(module).__name__}: torch.fx could not trace it ({first})") from None
    alias: dict[str, str] = {}  # fx node name → our node name
    nodes: list[Node] = []
    output: str | None = None
    for node in traced.graph.nodes:
        tensor_inputs = [alias[a.name] for a in node.all_input_nodes if a.name in alias]
        if node.op == "placeholder":
            if nodes:
                raise SpecError(f"{type(module).__name__}.forward takes more than one input; one image tensor is supported")
            nodes.append(Node("input", None, ()))
            alias[node.name] = "input"
        elif node.op == "call_module":
            sub = traced.get_submodule(node.target)
            layer = _layer_of(str(node.target), sub, t)
            source = _single(node, tensor_inputs)
            if layer is None:
                alias[node.name] = source
            else:
                nodes.append(Node(str(node.target), layer, (source,)))
                alias[node.name] = str(node.target)
        elif node.op in ("call_function", "call_method"):
            alias[node.name] = _function_node(node, tensor_inputs, nodes, t)
        elif node.op == "output":
            if not hasattr(node.args[0], "name") or node.args[0].name not in alias:
                raise SpecError(f"{type(module).__name__}.forward must return one tensor, got {node.args[0]!r}")
            output = alias[node.args[0].name]
        else:  # get_attr: a parameter or buffer used as a tensor
            raise SpecError(f"node {node.name!r} ({node.op} {node.target}) is not supported; supported: {SUPPORTED}")
    if output is None:
        raise SpecError(f"{type(module).__name__}.forward returns nothing")  # pragma: no cover
    return _pruned(nodes, output)


def _single(node: Any, tensor_inputs: list[str]) -> str:
    if len(set(tensor_inputs)) != 1:
        raise SpecError(f"node {node.name!r} ({node.target}) must read exactly one feature map, got {len(set(tensor_inputs))}")
    return tensor_inputs[0]


def _function_node(node: Any, tensor_inputs: list[str], nodes: list[Node], t: dict[str, Any]) -> str:
    """A pointwise function (alias of its input) or a merge (new node); SpecError otherwise."""
    target = node.target
    is_method = node.op == "call_method"
    distinct = list(dict.fromkeys(tensor_inputs))
    label = target if is_method else getattr(target, "__name__", str(target))
    if (is_method and target in t["pointwise_methods"]) or (not is_method and target in t["pointwise_functions"]):
        return _single(node, tensor_inputs)
    elementwise = (is_method and target in t["elementwise_methods"]) or (not is_method and target in t["elementwise_functions"])
    is_cat = not is_method and target in t["cat"]
    if is_cat:
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        if dim != 1:
            raise SpecError(f"node {node.name!r} concatenates along dim={dim!r}; only channels (dim=1) keep the spatial grid")
    if not (elementwise or is_cat):
        raise SpecError(f"node {node.name!r} ({label}) is not supported; supported: {SUPPORTED}")
    if len(distinct) == 1:  # x + 1, x * x, cat([x]): still one map
        return distinct[0]
    nodes.append(Node(node.name, None, tuple(distinct), merge="concat" if is_cat else "add"))
    return node.name


def _pruned(nodes: list[Node], output: str) -> Graph:
    """Keep the nodes that reach ``output``, ending with it."""
    by_name = {n.name: n for n in nodes}
    keep = {output}
    for node in reversed(nodes):
        if node.name in keep:
            keep.update(node.inputs)
    kept = [n for n in nodes if n.name in keep]
    position = [n.name for n in kept].index(output)
    if position != len(kept) - 1:  # pragma: no cover - fx orders nodes topologically
        raise SpecError(f"the output {output!r} is not the last node")
    return Graph(tuple(by_name[n.name] for n in kept))
