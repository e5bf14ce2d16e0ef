"""The tap map and the padding rule, written once, per spatial axis.

On one spatial axis, output position ``o`` and kernel tap ``t`` read input position

    tap(o, t) = o·s − p + t·d          (0-based; p = the zeros added *before* the axis)

and the product meets zero padding (contributes nothing) unless ``0 ≤ tap(o, t) ≤ n − 1``. Everything in
symconv that needs "which input does this tap read" calls :func:`tap` (integers, NumPy arrays and SymPy
symbols alike): the index sum, 𝒲's blocks and N-D assembly, both proof engines, the diagnosis of user
code, receptive fields and the reports; the closed forms use the same function on SymPy symbols.

The padding rule (PyTorch's): ``padding='same'`` adds d(k−1) zeros, the odd one after; the output length is
⌊(n + before + after − d(k−1) − 1)/s⌋ + 1. Pure functions only: no SymPy import at module level.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .spec import ConvSpec

__all__ = [
    "axis_output_size",
    "axis_transposed_output_size",
    "axis_tap_count",
    "axis_taps",
    "grid_taps",
    "in_range",
    "same_padding",
    "spatial_taps",
    "spec_axis_taps",
    "tap",
]


def tap(o: Any, t: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    """The input position read by output position ``o`` through kernel tap ``t``: o·s − p + t·d.

    Works on ints, NumPy arrays (broadcast) and SymPy expressions alike.

    >>> tap(2, 1, stride=2, padding=1, dilation=3)
    6
    """
    return o * stride - padding + t * dilation


def in_range(coord: Any, size: Any) -> Any:
    """Whether input position ``coord`` lies inside an axis of length ``size`` (0 ≤ coord < size).

    >>> in_range(np.array([-1, 0, 4, 5]), 5).tolist()
    [False, True, True, False]
    """
    return (coord >= 0) & (coord < size)


def same_padding(kernel: int, dilation: int) -> tuple[int, int]:
    """PyTorch's padding='same' on one axis: d(k−1) zeros, the odd one after.

    >>> same_padding(4, 1)
    (1, 2)
    """
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def axis_output_size(n: int, kernel: int, stride: int, dilation: int, before: int, after: int) -> int:
    """PyTorch's output length on one axis, ⌊(n + before + after − d(k−1) − 1)/s⌋ + 1 (≤ 0: the kernel does not fit).

    >>> axis_output_size(7, 3, stride=2, dilation=1, before=1, after=1)
    4
    """
    return (n + before + after - dilation * (kernel - 1) - 1) // stride + 1


def axis_transposed_output_size(n: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int) -> int:
    """PyTorch's ConvTranspose output length on one axis: (n − 1)·s − 2p + d(k − 1) + a + 1 (a = output_padding).

    The same formula as :func:`symconv.closed.arithmetic.conv_transpose_output_size`, which derives it
    symbolically (closed/ sits above core/, so the integer version lives here; the tests compare the two).

    >>> axis_transposed_output_size(3, 3, stride=2, padding=1, dilation=1, output_padding=1)
    6
    """
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def axis_taps(
    n: int, kernel: int, stride: int, before: int, dilation: int, out: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All (output position, kernel tap) pairs of one axis: input positions (out, kernel) int64 and the in-range mask.

    ``out`` defaults to the output length with ``before`` zeros on both sides.

    >>> coords, inside = axis_taps(4, 3, stride=1, before=1, dilation=1)
    >>> coords.tolist()
    [[-1, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4]]
    >>> inside.sum(axis=1).tolist()
    [2, 3, 3, 2]
    """
    if out is None:
        out = axis_output_size(n, kernel, stride, dilation, before, before)
    coords = tap(np.arange(out, dtype=np.int64)[:, None], np.arange(kernel, dtype=np.int64)[None, :], stride, before, dilation)
    return coords, in_range(coords, n)


def spec_axis_taps(spec: ConvSpec, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`axis_taps` of one spatial axis of ``spec``: (output length, kernel) input positions and in-range mask.

    >>> from symconv.core.spec import ConvSpec
    >>> coords, inside = spec_axis_taps(ConvSpec(1, 1, input_size=(3, 4), kernel_size=(1, 3), padding=(0, 1)), 1)
    >>> coords[0].tolist(), inside[0].tolist()
    ([-1, 0, 1], [False, True, True])
    """
    return axis_taps(
        spec.input_size[axis], spec.kernel_size[axis], spec.stride[axis], spec.padding_before[axis],
        spec.dilation[axis], spec.output_size[axis],
    )


def axis_tap_count(n: int, kernel: int, stride: int, before: int, dilation: int, out: int) -> int:
    """How many (output position, tap) pairs of one axis read inside the input, in O(kernel) integer arithmetic.

    >>> axis_tap_count(4, 3, stride=1, before=1, dilation=1, out=4)
    10
    """
    total = 0
    for t in range(kernel):
        # positions o with 0 ≤ tap(o, t) ≤ n − 1, clipped to 0 ≤ o ≤ out − 1
        first = max(0, -((t * dilation - before) // stride))  # ⌈(before − t·d)/s⌉
        last = min(out - 1, (n - 1 + before - t * dilation) // stride)
        total += max(0, last - first + 1)
    return total


def spatial_taps(spec: ConvSpec, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For flat output ``positions`` (C-order over the output grid) and every kernel tap (C-order over the kernel):
    the flat input position (C-order over the input grid) and whether every axis is in range; shapes (P, K).

    Out-of-range taps get a flat index that is meaningless and must be masked.

    >>> from symconv.core.spec import ConvSpec
    >>> flat, inside = spatial_taps(ConvSpec(1, 1, input_size=3, kernel_size=2, padding=1), np.array([0]))
    >>> inside.tolist()
    [[False, False, False, True]]
    >>> int(flat[0, 3])
    0
    """
    out_coords = np.unravel_index(np.asarray(positions, dtype=np.int64), spec.output_size)
    tap_coords = np.unravel_index(np.arange(math.prod(spec.kernel_size)), spec.kernel_size)
    flat = np.zeros((len(positions), tap_coords[0].size), dtype=np.int64)
    valid = np.ones(flat.shape, dtype=bool)
    for axis, size in enumerate(spec.input_size):
        coord = tap(
            out_coords[axis][:, None].astype(np.int64), tap_coords[axis][None, :].astype(np.int64),
            spec.stride[axis], spec.padding_before[axis], spec.dilation[axis],
        )
        valid &= in_range(coord, size)
        flat = flat * size + coord
    return flat, valid



def grid_taps(
    positions: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...],
    dilation: tuple[int, ...], size: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """For every position of a grid of shape ``positions`` (C-order) and kernel tap (C-order): the flat index of
    tap(q, t) in a grid of ``size`` (C-order) and whether it is in range on every axis; shapes (P, K). Any ndim.

    Unlike :func:`spatial_taps` it takes the sizes, not a spec: the transposed layer and the backward pass read
    the tap map with the roles of the grids exchanged.

    >>> flat, inside = grid_taps((2,), (2,), stride=(2,), padding=(0,), dilation=(1,), size=(3,))
    >>> flat.tolist(), inside.tolist()
    ([[0, 1], [2, 3]], [[True, True], [True, False]])
    """
    q = np.indices(positions).reshape(len(positions), -1)
    t = np.indices(kernel).reshape(len(kernel), -1)
    flat = np.zeros((q.shape[1], t.shape[1]), dtype=np.int64)
    valid = np.ones(flat.shape, dtype=bool)
    for axis, n in enumerate(size):
        coord = tap(q[axis][:, None], t[axis][None, :], stride[axis], padding[axis], dilation[axis])
        valid &= in_range(coord, n)
        flat = flat * n + coord
    return flat, valid
