"""The core's named choices, importable without NumPy or SymPy (the command line offers them as they are).

Row orders of 𝒲 (see :mod:`symconv.core.symbols` for the conventions):

* ``"channel_major"`` — the C-order flatten of y, ``row = (i·H' + j)·W' + k``: what ``y.reshape(-1)`` gives.
* ``"seed"`` — the lecture note's order, location-major with channels inside: ``row = (j·W' + k)·C₂ + i``.
"""

from __future__ import annotations

from typing import Literal

from ..errors import SpecError

__all__ = ["BIAS_MODES", "ORDERS", "PADDING_MODES", "BiasMode", "check_order"]

ORDERS: tuple[str, ...] = ("channel_major", "seed")
#: bias b: one per output channel (PyTorch), one per output entry (the note's formula), or none
BiasMode = Literal["shared", "per_location", "none"]
BIAS_MODES: tuple[str, ...] = ("shared", "per_location", "none")
#: what the padding holds: PyTorch's padding_mode values
PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")


def check_order(order: str) -> str:
    """``order`` if it names a row order of 𝒲, else a one-line :class:`SpecError`.

    >>> check_order("seed")
    'seed'
    >>> check_order("rows")
    Traceback (most recent call last):
    symconv.errors.SpecError: order must be 'channel_major' or 'seed', got 'rows'
    """
    if order not in ORDERS:
        raise SpecError(f"order must be 'channel_major' or 'seed', got {order!r}")
    return order
