"""One :class:`~symconv.receptive.layers.Graph` from whatever a caller passes: the dispatch on torch modules.

A ``torch.nn.Module`` goes to :func:`symconv.receptive.torch_graph.graph_from_module`, everything else (a list of
layers, Branches, a Graph) to :func:`symconv.receptive.layers.build_graph`. The choice lives here, above both, so
that the imports run one way: build → torch_graph → layers, build → layers.
"""

from __future__ import annotations

import sys
from typing import Any

from .layers import Graph, build_graph
from .torch_graph import graph_from_module

__all__ = ["graph_of", "is_torch_module"]


def is_torch_module(obj: object) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module``, without importing torch (only a module someone built needs it).

    >>> is_torch_module([])
    False
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def graph_of(layers: Any) -> Graph:
    """The :class:`~symconv.receptive.layers.Graph` of a list of layers, a Graph, or a ``torch.nn.Module``.

    >>> from symconv.receptive.layers import Layer
    >>> [n.name for n in graph_of([Layer(3), Layer(2, kind="maxpool")]).nodes]
    ['input', 'conv1', 'maxpool2']
    """
    if is_torch_module(layers):
        return graph_from_module(layers)
    return build_graph(layers)
