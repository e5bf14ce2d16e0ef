"""The two named row orders of 𝒲 (see :mod:`symconv.core.symbols` for the conventions), importable without SymPy.

* ``"channel_major"`` — the C-order flatten of y, ``row = (i·H' + j)·W' + k``: what ``y.reshape(-1)`` gives.
* ``"seed"`` — the lecture note's order, location-major with channels inside: ``row = (j·W' + k)·C₂ + i``.
"""

from __future__ import annotations

from ..errors import SpecError

__all__ = ["ORDERS", "check_order"]

ORDERS: tuple[str, ...] = ("channel_major", "seed")


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
