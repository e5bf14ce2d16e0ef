"""The note's numbering and small typesetting helpers shared by the sections.

symconv is 0-based. Typeset mathematics reproduces the note and uses its numbering: ``i, j, k, l``
(and input rows/columns ``r, c``) count from 1, kernel offsets ``m, n`` from 0. :func:`to_note`
renames SymPy symbols accordingly (``omega_0,0,1,2`` → ``omega_1,1,1,2``) through
:func:`symconv.core.symbols.note_index`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import sympy

from ...core.symbols import note_index
from ..render import Tex

__all__ = ["DOTS", "MAX_COLS", "MAX_ROWS", "axes", "elide", "note_symbol", "tex_size", "to_note", "x_join"]

_SYMBOL_NAME = re.compile(r"^(omega|x|b)_(\d+(?:,\d+)*)$")
DOTS = {name: sympy.Symbol(rf"\{name}") for name in ("cdots", "vdots", "ddots")}
#: Largest blocks typeset entry by entry; larger ones are elided to their corners.
MAX_ROWS, MAX_COLS = 6, 12


@lru_cache(maxsize=1 << 16)
def note_symbol(symbol: sympy.Symbol) -> sympy.Symbol:
    """One ω, x or b symbol renamed to the note's numbering; other symbols unchanged.

    >>> note_symbol(sympy.Symbol("omega_0,1,2,0"))
    omega_1,2,2,0
    """
    match = _SYMBOL_NAME.match(symbol.name)
    if not match:
        return symbol
    kind, index = match.group(1), tuple(int(v) for v in match.group(2).split(","))
    # ω_{i,l,m,n}: the note counts i, l from 1 and the kernel offsets m, n from 0
    shifted = (*note_index(index[:2]), *index[2:]) if kind == "omega" else note_index(index)
    return sympy.Symbol(f"{kind}_{','.join(map(str, shifted))}")


def to_note(obj: Any) -> Any:
    """A SymPy expression or matrix with ω, x, b renamed to the note's 1-based numbering.

    >>> to_note(sympy.Symbol("omega_0,1,2,0") * sympy.Symbol("x_1,2,0"))
    omega_1,2,2,0*x_2,3,1
    """
    if isinstance(obj, sympy.MatrixBase):
        return obj.applyfunc(to_note)
    if isinstance(obj, sympy.Basic):
        return obj.xreplace({s: note_symbol(s) for s in obj.free_symbols if isinstance(s, sympy.Symbol)})
    return obj


def elide(m: sympy.MatrixBase, max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS) -> tuple[sympy.Matrix, bool]:
    """``m`` with middle rows/columns replaced by ⋮/⋯ when it exceeds ``max_rows`` × ``max_cols``.

    >>> elide(sympy.eye(20), 4, 4)[0].shape
    (4, 4)
    """
    rows = list(range(m.rows)) if m.rows <= max_rows else [*range(max_rows - 2), None, m.rows - 1]
    cols = list(range(m.cols)) if m.cols <= max_cols else [*range(max_cols - 2), None, m.cols - 1]
    if len(rows) == m.rows and len(cols) == m.cols:
        return sympy.Matrix(m), False
    cells = [
        [
            DOTS["ddots"] if r is None and c is None else DOTS["vdots"] if r is None else DOTS["cdots"] if c is None
            else m[r, c]
            for c in cols
        ]
        for r in rows
    ]
    return sympy.Matrix(cells), True


def tex_size(*values: int) -> Tex:
    """Sizes joined by ``\\times``."""
    return Tex(r"\times".join(str(v) for v in values))


def axes(values: tuple[int, ...]) -> Tex:
    """Per-axis values, comma separated."""
    return Tex(", ".join(str(v) for v in values))


def x_join(values: tuple[int, ...] | None) -> str:
    """Per-axis values joined by ×, "?" when unknown."""
    return "?" if values is None else "×".join(map(str, values))
