"""Optional cross-checks of the audit against PyTorch — an implementation nobody here wrote.

PyTorch is a test-only dependency of symconv: :func:`available` says whether it can be imported,
and the audit reports a cross-check as skipped when it cannot. Nothing here decides a verdict; these
functions only return what PyTorch computes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np

from ..core.spec import ConvSpec

__all__ = [
    "available", "conv2d", "conv2d_parameters", "gradient_supports", "linear_parameters", "output_shape", "single_thread",
]


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether PyTorch can be imported here."""
    return importlib.util.find_spec("torch") is not None


def _torch() -> Any:
    import torch

    return torch


@contextmanager
def single_thread() -> Iterator[None]:
    """Run PyTorch on one thread meanwhile (thousands of tiny ops; threads only add latency), then restore."""
    torch = _torch()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _conv_kwargs(spec: ConvSpec) -> dict[str, Any]:
    padding = spec.padding if isinstance(spec.padding, str) else tuple(spec.padding)
    return {"stride": tuple(spec.stride), "padding": padding, "dilation": tuple(spec.dilation), "groups": spec.groups}


def output_shape(spec: ConvSpec) -> tuple[int, ...]:
    """(C₂, H', W') of ``torch.nn.functional.conv2d`` on an input of ``spec``'s shape."""
    torch = _torch()
    x = torch.zeros((1, *spec.input_shape), dtype=torch.float64)
    weight = torch.zeros(spec.weight_shape, dtype=torch.float64)
    return tuple(torch.nn.functional.conv2d(x, weight, **_conv_kwargs(spec)).shape[1:])


def conv2d(spec: ConvSpec, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``torch.nn.functional.conv2d(x, weight)`` (no bias) in float64, as a NumPy array of shape (C₂, H', W')."""
    torch = _torch()
    out = torch.nn.functional.conv2d(
        torch.from_numpy(np.asarray(x, dtype=np.float64))[None], torch.from_numpy(np.asarray(weight, dtype=np.float64)),
        **_conv_kwargs(spec),
    )
    return out[0].numpy()


def conv2d_parameters(spec: ConvSpec, bias: bool) -> tuple[int, tuple[int, ...], tuple[int, ...] | None]:
    """(number of parameters, weight shape, bias shape) of ``torch.nn.Conv2d`` for ``spec``."""
    torch = _torch()
    layer = torch.nn.Conv2d(spec.in_channels, spec.out_channels, tuple(spec.kernel_size), bias=bias, device="meta",
                            **_conv_kwargs(spec))
    count = sum(p.numel() for p in layer.parameters())
    return count, tuple(layer.weight.shape), None if layer.bias is None else tuple(layer.bias.shape)


def linear_parameters(d_x: int, d_y: int) -> int:
    """Number of parameters of ``torch.nn.Linear(d_x, d_y)`` (with bias)."""
    torch = _torch()
    return sum(p.numel() for p in torch.nn.Linear(d_x, d_y, device="meta").parameters())


def gradient_supports(spec: ConvSpec) -> list[set[int]]:
    """For each output position (C order over (H', W')): the flat input indices (C order over (C₁, H, W)) where
    the gradient of Σ_i y[i, j, k] is nonzero.

    Weights are all ones, so no two contributions cancel: the pattern is the dependence pattern. One batched
    backward pass computes every position's gradient.
    """
    torch = _torch()
    x = torch.zeros((1, *spec.input_shape), dtype=torch.float64, requires_grad=True)
    weight = torch.ones(spec.weight_shape, dtype=torch.float64)
    y = torch.nn.functional.conv2d(x, weight, **_conv_kwargs(spec))[0].sum(dim=0)  # (H', W')
    positions = y.numel()
    one_hot = torch.eye(positions, dtype=torch.float64).reshape(positions, *y.shape)
    (grads,) = torch.autograd.grad(y, x, grad_outputs=one_hot, is_grads_batched=True)
    flat = grads.reshape(positions, -1).numpy()
    return [set(np.flatnonzero(row).tolist()) for row in flat]
