"""Read a hand-typed 𝒲 (or b) from a JSON file: a list of rows, each entry a number or a sum of terms.

An entry is ``0``, ``"omega_0,0,1,1"``, ``"2*omega_0,0,1,1 - omega_1,0,0,0"``, ``"b_0"``… — symbol names
as symconv prints them. The grammar is parsed here, never evaluated, so a file cannot run code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import sympy

from ...errors import SpecError

_TERM = re.compile(r"\s*([+-])?\s*(?:(\d+)\s*\*\s*)?([A-Za-z]+(?:_(?:\d+(?:,\d+)*|[A-Za-z]\w*))?|\d+)\s*")


def parse_entry(text: object, where: str) -> sympy.Expr:
    """``"2*omega_0,0,1,1 - b_0"`` → the SymPy expression; SpecError naming ``where`` otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        return sympy.Integer(text)
    if not isinstance(text, str):
        raise SpecError(f"{where} must be an int or a string like '2*omega_0,0,1,1 - b_0', got {text!r}")
    total: sympy.Expr = sympy.S.Zero
    pos = 0
    while pos < len(text):
        match = _TERM.match(text, pos)
        if not match or match.end() == pos or (pos > 0 and match.group(1) is None):
            raise SpecError(f"{where} must be a sum of [int*]symbol terms like '2*omega_0,0,1,1 - b_0', got {text!r}")
        sign, coefficient, atom = match.groups()
        value = sympy.Integer(atom) if atom.isdigit() else sympy.Symbol(atom)
        total += (-1 if sign == "-" else 1) * int(coefficient or 1) * value
        pos = match.end()
    return total


def read_matrix(path: str, what: str = "--matrix") -> sympy.Matrix:
    """A JSON list of rows (or a flat list, for a vector) as a SymPy matrix."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{what}: cannot read {path!r}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{what}: {path!r} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(rows, list) or not rows:
        raise SpecError(f"{what}: {path!r} must hold a non-empty JSON list of rows")
    if not isinstance(rows[0], list):
        rows = [[entry] for entry in rows]
    widths = {len(r) if isinstance(r, list) else -1 for r in rows}
    if len(widths) != 1 or -1 in widths:
        raise SpecError(f"{what}: every row of {path!r} must be a list of the same length")
    return sympy.Matrix(
        [[parse_entry(e, f"{what} entry [{i}][{j}]") for j, e in enumerate(row)] for i, row in enumerate(rows)]
    )
