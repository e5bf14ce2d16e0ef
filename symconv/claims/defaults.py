"""The audit's defaults, importable without SymPy or NumPy (``symconv audit --help`` reads them).

>>> DEFAULT_MAX_SIZE
3
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_SIZE", "MAX_SIZES"]

#: The largest input side of the grid by default: C₁, C₂ ∈ {1, 2}, 1 ≤ h ≤ H ≤ 3, 1 ≤ w ≤ W ≤ 3 (144 layers).
DEFAULT_MAX_SIZE = 3
#: the largest input sides the audit accepts
MAX_SIZES = range(1, 7)
