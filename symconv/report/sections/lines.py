"""Long formulas broken over lines at + and · instead of shrunk to fit (no \\resizebox, no adjustbox).

The width of a formula is estimated from its LaTeX source (commands and braces do not print; a ``\\frac`` or
a ``\\substack`` stacks its parts); the estimate only decides where to break, the PDF log's overfull-box count
is what the tests check.
"""

from __future__ import annotations

import re

import sympy

from ..render import Tex, latex

__all__ = ["MAX_WIDTH", "broken", "width"]

#: Estimated printed characters per display line (A4, 10 pt, 2.2 cm margins, with an aligned left-hand side).
MAX_WIDTH = 62
_COMMAND = re.compile(r"\\(?:left|right|bigl|bigr|displaystyle|mathrm|operatorname|mathcal|mathbb|text|substack)\b|"
                      r"\\[A-Za-z]+|[{}^_&]")


def width(tex: str) -> int:
    """Printed characters of ``tex``, roughly: a command counts one, fraction parts and stacked limits the widest.

    >>> width(r"\\frac{a + b}{c}"), width(r"\\omega_{i,l} + x")
    (3, 6)
    """
    while True:  # innermost fractions and stacks first: they take the width of their widest part
        match = re.search(r"\\(?:frac|dfrac)\{([^{}]*)\}\{([^{}]*)\}|\\substack\{([^{}]*)\}", tex)
        if not match:
            break
        if match.group(3) is not None:
            parts = match.group(3).split(r"\\")
        else:
            parts = [match.group(1), match.group(2)]
        wide = max(parts, key=lambda p: width(p))
        tex = tex[: match.start()] + "{" + wide.replace("\\", "\\\\") + "}" + tex[match.end():]
        tex = tex.replace("\\\\", "\\")
    printed = _COMMAND.sub(lambda m: "" if m.group() in "{}^_&" or m.group()[1:] in (
        "left", "right", "bigl", "bigr", "displaystyle", "mathrm", "operatorname", "mathcal", "mathbb", "text",
        "substack") else "x", tex)
    return len(printed.replace(" ", ""))


def _pieces(expr: sympy.Basic) -> tuple[str, list[sympy.Basic]]:
    """How ``expr`` splits at its top level: terms of a sum, factors of a product, or not at all."""
    if isinstance(expr, sympy.Add):
        return "+", list(expr.as_ordered_terms())
    if isinstance(expr, sympy.Mul) and len(expr.args) > 1:
        return r"\cdot", list(expr.as_ordered_factors())
    return "", [expr]


def broken(expr: sympy.Basic, budget: int = MAX_WIDTH) -> tuple[Tex, ...]:
    """``expr`` as display lines no wider than ``budget`` (estimated), split at + or ·; the first line has no sign.

    >>> x = sympy.symbols("x0:12")
    >>> lines = broken(sympy.Add(*[s**2 for s in x]), budget=20)
    >>> len(lines) > 1, lines[1].startswith("+ ")
    (True, True)
    """
    whole = latex(expr)
    if width(whole) <= budget:
        return (whole,)
    operator, parts = _pieces(expr)
    if len(parts) == 1:
        return (whole,)  # an atom, a sum or a function call: nothing to split at this level
    lines: list[str] = []
    current = ""
    for n, part in enumerate(parts):
        if operator == "+":
            negative = part.could_extract_minus_sign()
            text = latex(-part if negative else part, order="none")
            sign = "- " if negative else ("+ " if n else "")
            if isinstance(-part if negative else part, sympy.Add):
                text = rf"\left({text}\right)"
        else:
            text = latex(part)
            if isinstance(part, sympy.Add):
                text = rf"\left({text}\right)"
            sign = r"\cdot " if n else ""
        piece = sign + text
        if current and width(current + piece) > budget:
            lines.append(current)
            current = piece
        else:
            current = current + (" " if current else "") + piece
    lines.append(current)
    return tuple(Tex(line) for line in lines)
