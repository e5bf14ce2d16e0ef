"""Where a reader of padded x reads: the input position behind any coordinate, for each way of padding an axis.

The diagnosis's readers (:mod:`symconv.check.hypotheses`) compute a coordinate c on each axis with the tap map and
read x at c when 0 ≤ c < n; outside, what they read depends on how x was padded. PyTorch's modes are those of
:func:`symconv.forms.padding.axis_padding_map` (the one place their formulas live); the others are bugs people
write: NumPy's ``np.pad(mode="symmetric")`` (the edge repeated) where PyTorch's reflect excludes it, and circular
padding with the wrap taken from the wrong end. A coordinate is read as if x were padded as far as it needs on
each side (a reflection is local to its edge, so this is what padding with the reader's own amounts gives).
"""

from __future__ import annotations

import numpy as np

from ..core.choices import PADDING_MODES
from ..forms.padding import axis_padding_map

__all__ = ["READER_PADDINGS", "axis_source"]

#: Every padding a reader may use: PyTorch's four, then the buggy ones.
READER_PADDINGS: tuple[str, ...] = (*PADDING_MODES, "symmetric", "circular-swapped", "circular-after", "circular-before")


def axis_source(padding: str, c: np.ndarray, n: int, before: int, after: int) -> np.ndarray:
    """The input position read at coordinate ``c`` (any ints) of an axis of length ``n``; −1 where nothing is read.

    ``before``/``after`` are the layer's padding on this axis (used by the circular bugs only):
    ``"circular-swapped"`` pads as [x[:before], x, x[n−after:]] (each wrap from the wrong end);
    ``"circular-after"`` as [x, x[:before + after]] and ``"circular-before"`` as [x[n−before−after:], x]
    (the whole wrap on one side: a cyclic shift by ``before``, or by −``after``).

    >>> c = np.arange(-2, 6)
    >>> axis_source("reflect", c, 4, 2, 2).tolist(), axis_source("symmetric", c, 4, 2, 2).tolist()
    ([2, 1, 0, 1, 2, 3, 2, 1], [1, 0, 0, 1, 2, 3, 3, 2])
    >>> axis_source("circular-swapped", c, 4, 2, 2).tolist(), axis_source("circular-after", c, 4, 2, 2).tolist()
    ([0, 1, 0, 1, 2, 3, 2, 3], [0, 1, 2, 3, 0, 1, 2, 3])
    """
    c = np.asarray(c, dtype=np.int64)
    if padding in PADDING_MODES:
        low, high = int(c.min(initial=0)), int(c.max(initial=0))
        need_before, need_after = max(0, -low), max(0, high - n + 1)
        table = axis_padding_map(n, need_before, need_after, padding)
        source = table[np.clip(c + need_before, 0, table.size - 1)]
    elif padding == "symmetric":
        source = np.where(c < 0, -1 - c, np.where(c >= n, 2 * n - 1 - c, c))
    elif padding == "circular-swapped":
        source = np.where(c < 0, c + before, np.where(c >= n, c - after, c))
    elif padding == "circular-after":
        source = (c + before) % n
    elif padding == "circular-before":
        source = (c - after) % n
    else:
        raise ValueError(f"padding must be one of {READER_PADDINGS}, got {padding!r}")
    return np.where((source >= 0) & (source < n), source, -1)
