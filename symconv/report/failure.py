"""The LaTeX of a failed assertion (:mod:`symconv.testing`): layer, how it was checked, diagnosis, mismatches.

:mod:`symconv.testing` reaches this module only when a report's LaTeX is asked for (``FailureReport.latex``,
the pytest plugin's ``--symconv-report``), so that importing the assertions never loads Jinja2. Indices are
printed as symconv computes them (0-based, the verdict's row order); text goes through :func:`tex`, which
never refuses: a failure report must not fail.

>>> print(expr_latex(sympy.Symbol("a"), 0, sympy.Symbol("a")).splitlines()[0])
\\textbf{the expressions differ}
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import sympy

from ..core.spec import ConvSpec
from ..errors import SpecError
from ..prove.verdict import Mismatch
from .render import escape_tex

__all__ = ["closed_form_latex", "document", "expr_latex", "tex", "titled", "verdict_latex"]


def tex(text: str) -> str:
    """Plain text as LaTeX that prints it literally (:func:`symconv.report.render.escape_tex`).

    A character pdflatex cannot typeset is written as its Unicode name in brackets rather than refused.

    >>> print(tex("50% ☃"))
    50\\% [snowman]
    """
    try:
        return escape_tex(text)
    except SpecError:
        pass

    def printable(ch: str) -> str:
        try:
            escape_tex(ch)
        except SpecError:
            return f"[{unicodedata.name(ch, f'U+{ord(ch):04X}').lower()}]"
        return ch
    return escape_tex("".join(printable(ch) if ord(ch) > 127 else ch for ch in str(text)))


def document(heading: str, body: str) -> str:
    """A complete LaTeX document: ``heading`` (plain text, e.g. the test id) over the fragment ``body``."""
    return (
        "\\documentclass[10pt]{article}\n\\usepackage[margin=2cm]{geometry}\n\\usepackage{amsmath,amssymb}\n"
        "\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n\\begin{document}\n"
        f"\\section*{{symconv: {tex(heading)}}}\n{body}\n\\end{{document}}\n"
    )


def titled(title: str, body: str) -> str:
    """``body`` under a bold ``title`` (plain text)."""
    return f"\\textbf{{{tex(title)}}}\\\\\n{body}"


def _math(terms: tuple[sympy.Expr, ...]) -> str:
    return sympy.latex(sympy.Add(*terms)) if terms else "0"


def _mismatch_latex(mismatches: Sequence[Mismatch]) -> str:
    if not mismatches:
        return ""
    items = []
    for m in mismatches:
        index = ",".join(map(str, m.output))
        lines = [f"\\item $y_{{{index}}}$ (0-based)\\\\ expected: ${_math(m.expected)}$\\\\ found: ${_math(m.found)}$"]
        if m.missing:
            lines.append(f"\\\\ missing: ${_math(m.missing)}$")
        if m.extra:
            lines.append(f"\\\\ extra: ${_math(m.extra)}$")
        items.append("".join(lines))
    return "\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}\n"


def verdict_latex(title: str, spec: ConvSpec, lines: Sequence[str], mismatches: Sequence[Mismatch],
                  findings: Sequence[str]) -> str:
    """A verdict that does not hold: title, layer, how it was checked, diagnosis, the first differing outputs."""
    parts = [f"\\textbf{{{tex(title)}}}\\\\", f"Layer: {tex(spec.describe())}\\\\"]
    parts += [tex(line) + "\\\\" for line in lines]
    if findings:
        parts.append("Diagnosis:\n\\begin{itemize}\n" + "\n".join(f"\\item {tex(f)}" for f in findings) + "\n\\end{itemize}")
    body = "\n".join(parts) + "\n"
    if mismatches:
        body += "First outputs that differ:\n" + _mismatch_latex(mismatches)
    return body


def expr_latex(left: sympy.Basic, right: sympy.Basic, difference: sympy.Basic) -> str:
    """Two expressions that differ, and their difference."""
    return (f"\\textbf{{the expressions differ}}\n\\begin{{align*}}\n\\text{{left}} &= {sympy.latex(left)}\\\\\n"
            f"\\text{{right}} &= {sympy.latex(right)}\\\\\n\\text{{left}}-\\text{{right}} &= {sympy.latex(difference)}\n"
            "\\end{align*}\n")


def closed_form_latex(expr: sympy.Basic, failures: Sequence[tuple[dict[str, Any], Any, Any]], total: int,
                      checked: int) -> str:
    """A closed form against counts: the points shown in ``failures`` (point, formula, count), of ``total`` failing."""
    table = "\n".join(
        f"{tex(', '.join(f'{k}={v}' for k, v in p.items()))} & ${sympy.latex(f)}$ & "
        f"${sympy.latex(sympy.sympify(c))}$ \\\\"
        for p, f, c in failures
    )
    return (f"\\textbf{{closed form ${sympy.latex(expr)}$ differs from the count at {total} of "
            f"{checked} points}}\n\n\\begin{{tabular}}{{lrr}}\npoint & formula & count\\\\\n\\hline\n{table}\n"
            "\\end{tabular}\n")
