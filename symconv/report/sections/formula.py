"""The all-size prover's statements typeset as a mathematician writes them, broken over lines, never shrunk.

The prover (:mod:`symconv.prove.general`) states its steps with SymPy functions and program-flavoured symbol
names; :func:`note_names` renames them as the report's text names them (``omega(i, l', m, n)`` → ω_{i,l′,m,n},
``b(i)`` → b_i, ``R_seed`` → R, the 𝒲 of a symbol name → ``\\symconvW``) and abbreviates the offsets of an input
position from the start of its window, u_h = r − o_h·s_h + p_h and u_w = c − o_w·s_w + p_w. The printer writes
``Mod(a, d) = 0`` as d ∣ a, joins a lower and an upper bound of one quantity into one range, and breaks the
conditions of a ``Piecewise`` and the conjuncts of an ``And`` into lines of at most :data:`WIDTH` visible characters
(an estimate; the compile tests check that no line is overfull).
"""

from __future__ import annotations

import re
from typing import Any

import sympy
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

from ..render import Tex

__all__ = ["ABBREVIATIONS", "WIDTH", "conjunct_lines", "display", "note_names", "visible"]

#: Visible characters per display line (the text block holds about 75 at 10 pt; kept well below).
WIDTH = 62

#: Symbols renamed for the page: the prover's names → the report's.
_RENAMED = {
    "R_seed": "R", "R_channel_major": "R'",
    "O_before_h": r"z_{\mathrm{before}}", "O_gap_h": r"z_{\mathrm{gap}}", "zeros_before_w": r"z_{B}",
}
_MATRICES = {"conv(x)": r"\operatorname{conv}(x)", "conv_transpose(y)": r"\operatorname{conv}^{\top}(y)"}
#: u_h, u_w: the offset of input row r (column c) from the first row (column) of output (o_h, o_w)'s window.
ABBREVIATIONS = (("u_h", ("r", "o_h", "s_h", "p_h")), ("u_w", ("c", "o_w", "s_w", "p_w")))


def _symbol_name(name: str) -> str:
    """A program-style name as mathematics: known names renamed, 𝒲 as the macro, word subscripts upright."""
    if name in _RENAMED:
        return _RENAMED[name]
    name = name.replace("𝒲", r"\symconvW")
    head, _, tail = name.partition("_")
    if tail and re.fullmatch(r"[A-Za-z]{2,}(?:_[A-Za-z]+)*", tail):  # mode_words: an upright subscript
        return rf"{head}_{{\mathrm{{{tail.replace('_', ' ')}}}}}"
    return name


def note_names(expr: Any, abbreviate: bool = True) -> Any:
    """``expr`` with the prover's functions and symbols renamed as the report names them (see the module doc).

    >>> i, l = sympy.symbols("i l'")
    >>> sympy.latex(note_names(sympy.Function("omega")(i, l, 0, 1) + sympy.Symbol("R_seed")))
    "R + {\\\\omega}_{i,l',0,1}"
    """
    if not isinstance(expr, sympy.Basic):
        return expr
    replace: dict[sympy.Basic, sympy.Basic] = {}
    for call in expr.atoms(AppliedUndef):
        if call.func.__name__ in ("omega", "b"):
            replace[call] = sympy.IndexedBase(call.func.__name__)[call.args]
    for matrix in expr.atoms(sympy.MatrixSymbol):  # the theorem's 𝒲x + b = conv(x)
        name = _MATRICES.get(matrix.name, _symbol_name(matrix.name))
        if name != matrix.name:
            replace[matrix] = sympy.MatrixSymbol(name, *matrix.shape)
    for symbol in expr.free_symbols:
        if isinstance(symbol, sympy.Symbol) and _symbol_name(symbol.name) != symbol.name:
            replace[symbol] = sympy.Symbol(_symbol_name(symbol.name), **symbol.assumptions0)
    renamed = expr.xreplace(replace) if replace else expr
    if not abbreviate:
        return renamed
    names = {str(s): s for s in expr.free_symbols}
    offsets = {}
    for short, (position, output, stride, padding) in ABBREVIATIONS:
        if all(n in names for n in (position, output, stride, padding)):
            offsets[names[position] - names[output] * names[stride] + names[padding]] = sympy.Symbol(short, integer=True)
    return renamed.xreplace(offsets) if offsets else renamed


def visible(tex: str) -> int:
    """About how many characters wide ``tex`` prints (commands count one, layout commands and braces none)."""
    text = re.sub(r"\\(?:left|right|big|Big|mathrm|operatorname|text|phantom)\b|\\[,;:!]", "", tex)
    text = re.sub(r"\\(?:quad|bmod)\b", "xxx", text)  # a quad is about as wide as three letters
    while True:  # a fraction is as wide as its wider part
        shorter = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: max(m[1], m[2], key=len), text)
        if shorter == text:
            break
        text = shorter
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    return len(re.sub(r"[{}^_\s&]", "", text))


def _pack(pieces: list[str], separator: str, width: int) -> list[str]:
    """Greedy lines of ``pieces`` joined by ``separator``, each at most ``width`` visible characters when possible."""
    lines: list[str] = []
    for piece in pieces:
        if lines and visible(lines[-1] + separator + piece) <= width:
            lines[-1] += separator + piece
        else:
            lines.append(piece)
    return lines


def _bounds(rel: sympy.Basic) -> list[tuple[sympy.Basic, str, sympy.Basic, bool]]:
    """The ways to read ``rel`` as a bound: (quantity, "lower"/"upper", bound, strict)."""
    if not isinstance(rel, (sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan, sympy.StrictLessThan)):
        return []
    strict = isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan))
    big, small = (rel.lhs, rel.rhs) if isinstance(rel, (sympy.GreaterThan, sympy.StrictGreaterThan)) else (rel.rhs, rel.lhs)
    return [(big, "lower", small, strict), (small, "upper", big, strict)]


_LESS = {True: "<", False: r"\le"}


class _Printer(LatexPrinter):
    """SymPy's LaTeX printer with divisibility, ranges, and Piecewise conditions broken over lines."""

    def __init__(self, width: int = WIDTH) -> None:
        super().__init__({"mat_delim": "("})
        self.width = width

    def _print_Equality(self, expr: sympy.Eq) -> str:  # noqa: N802 (SymPy's dispatch name)
        if isinstance(expr.lhs, sympy.Mod) and expr.rhs == 0:
            value, divisor = expr.lhs.args
            return rf"{self._print(divisor)} \mid {self.parenthesize(value, 60)}"
        return super()._print_Relational(expr)

    def conditions(self, cond: sympy.Basic) -> list[str]:
        """The conjuncts of ``cond`` as separate pieces: divisibility first, then ranges, then the rest."""
        args = list(cond.args) if isinstance(cond, sympy.And) else [cond]
        used: set[int] = set()
        ranges = []
        candidates = [(n, b) for n, arg in enumerate(args) for b in _bounds(arg)]
        for n, (x, kind, bound, strict) in candidates:
            if n in used or kind != "lower":
                continue
            upper = next(((m, b) for m, b in candidates if m != n and m not in used and b[0] == x and b[1] == "upper"), None)
            if upper is not None:
                m, (_, _, top, top_strict) = upper
                used |= {n, m}
                ranges.append(f"{self._print(bound)} {_LESS[strict]} {self._print(x)} {_LESS[top_strict]} {self._print(top)}")
        divides = [self._print(a) for n, a in enumerate(args)
                   if n not in used and isinstance(a, sympy.Eq) and isinstance(a.lhs, sympy.Mod)]
        rest = [self._print(a) for n, a in enumerate(args)
                if n not in used and not (isinstance(a, sympy.Eq) and isinstance(a.lhs, sympy.Mod))]
        return divides + ranges + rest

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:  # noqa: N802
        rows = []
        for value, cond in expr.args:
            if cond == sympy.true:
                rows.append(rf"{self._print(value)} & \text{{otherwise}}")
                continue
            lines = _pack(self.conditions(cond), r",\ ", self.width - visible(self._print(value)) - 4)
            rows.append(rf"{self._print(value)} & \text{{if }} {lines[0]}")
            rows += [rf"& \phantom{{\text{{if }}}} {line}" for line in lines[1:]]
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def display(expr: Any, width: int = WIDTH) -> Tex:
    """One statement as display math: renamed, Piecewise conditions and long conjunctions broken into lines.

    An ``And`` becomes lines of conjuncts (``\\\\`` between lines, for a ``gathered`` environment).

    >>> x, d = sympy.symbols("x d", integer=True)
    >>> print(display(sympy.And(sympy.Eq(sympy.Mod(x, d), 0), x >= 0, x < 5)))
    d \\mid x,\\quad 0 \\le x < 5
    """
    printer = _Printer(width)
    expr = note_names(expr)
    if isinstance(expr, sympy.And):
        return Tex(r" \\ ".join(_pack(printer.conditions(expr), r",\quad ", width)))
    return Tex(printer.doprint(expr))


def conjunct_lines(expr: Any, width: int = WIDTH) -> tuple[Tex, ...]:
    """The conjuncts of ``expr`` (renamed, ranges joined) packed into lines, for prose or a ``gathered`` display."""
    printer = _Printer(width)
    return tuple(Tex(line) for line in _pack(printer.conditions(note_names(expr)), r",\quad ", width))


def side(expr: Any, width: int = WIDTH) -> Tex:
    """One side of an equation (renamed, abbreviated) as LaTeX."""
    return Tex(_Printer(width).doprint(note_names(expr)))
