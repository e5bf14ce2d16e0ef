"""Mathematics, not code: no program identifiers or SymPy method names inside math mode of any generated report.

Math mode is parsed reasonably, not fully: ``$…$``, ``\\(…\\)``, ``\\[…\\]``, the equation/align/multline/gather
environments, and the cells of tabular columns declared ``>{$…}l<{$}``; ``\\text{…}`` inside math is still
checked (code in a text box inside a formula is still code). An *underscore-word* is two words of two or more
letters joined by ``_`` (``params_weights``, ``taps_{valid h}``): a one-letter subscript such as ``d_x`` is
mathematics.
"""

from __future__ import annotations

import re

import pytest

from symconv import ConvSpec
from symconv.report import build_pdf, spec_report

from .test_report_pdf import REGENERATE

_ENVIRONMENTS = r"equation|align|multline|gather|alignat|flalign"
_MATH = re.compile(
    r"\$\$(?P<a>.+?)\$\$|(?<!\\)\$(?P<b>.+?)(?<!\\)\$|\\\((?P<c>.+?)\\\)|\\\[(?P<d>.+?)\\\]"
    rf"|\\begin\{{(?P<env>{_ENVIRONMENTS})\*?\}}(?P<e>.+?)\\end\{{(?P=env)\*?\}}",
    re.S,
)
_TABULAR = re.compile(r"\\begin\{tabular\}(?:\[\w\])?\{(?P<spec>(?:[^{}]|\{[^{}]*\})*)\}(?P<body>.+?)\\end\{tabular\}", re.S)
_SYMPY_METHODS = ("doit", "rsolve", "difference_delta", "summation", "simplify", "nsimplify", "expand", "factor",
                  "lambdify", "subs", "xreplace", "solve", "limit_seq", "Sum.doit", "sympy")
_CODE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?:\\_|_)\{?[A-Za-z]{2,}"
                   rf"|(?<![\\A-Za-z])(?:{'|'.join(re.escape(m) for m in _SYMPY_METHODS)})(?![A-Za-z])")


def _math_columns(spec: str) -> list[bool]:
    """For a tabular column spec, which columns are typeset in math mode (``>{$…}`` … ``<{$}``)."""
    columns, math = [], False
    for token in re.findall(r">\{[^{}]*\}|<\{[^{}]*\}|[lcrpmbX](?:\{[^{}]*\})?|@\{[^{}]*\}|\|", spec):
        if token.startswith(">{"):
            math = "$" in token
        elif token[0] in "lcrpmbX":
            columns.append(math)
            math = False
    return columns


def math_spans(tex: str) -> list[str]:
    """The math-mode pieces of a LaTeX source (comments and ``\\$`` removed first)."""
    tex = re.sub(r"(?<!\\)%.*", "", tex).replace(r"\$", "")
    spans = [next(g for g in (m["a"], m["b"], m["c"], m["d"], m["e"]) if g is not None) for m in _MATH.finditer(tex)]
    for table in _TABULAR.finditer(tex):
        columns = _math_columns(table["spec"])
        for row in re.split(r"\\\\", table["body"]):
            for cell, math in zip(row.split("&"), columns):
                if math:
                    spans.append(cell)
    return spans


def code_in_math(tex: str) -> list[str]:
    """Every identifier-like word or SymPy method name found inside math, with a little context."""
    found = []
    for span in math_spans(tex):
        for hit in _CODE.finditer(span):
            found.append(f"{hit.group()!r} in …{span[max(0, hit.start() - 30):hit.end() + 20]}…")
    return found


def test_the_scanner_finds_code_and_passes_mathematics():
    assert code_in_math(r"$params_weights + d_x$") and code_in_math(r"\[ taps_{valid h} \]")
    assert code_in_math(r"\begin{tabular}{l>{$}l<{$}} a_b & \text{Sum.doit} \\ \end{tabular}")
    assert not code_in_math(r"$d_x d_y$, \[ \mathcal{W}_{j,k} \] params_weights in text \$x_y\$")


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    """Every example report, and layers large enough to take the compact paths."""
    extra = {
        "3-16-32x32": spec_report(ConvSpec(3, 16, input_size=32, kernel_size=3, padding=1)),
        "groups-per-location": spec_report(ConvSpec(4, 4, input_size=6, kernel_size=3, groups=2, bias="per_location")),
    }
    return {**{name: REGENERATE.tex_for(name) for name in REGENERATE.EXAMPLES}, **extra}


def test_no_code_names_in_math(generated):
    found = {name: code_in_math(tex) for name, tex in generated.items()}
    assert not {name: hits for name, hits in found.items() if hits}, found


def test_no_shrink_to_fit(generated):
    """Long formulas are broken over lines; nothing scales mathematics down to the line width."""
    scaled = {name for name, tex in generated.items() if re.search(r"\\(resizebox|scalebox)|adjustbox", tex)}
    assert not scaled


@pytest.mark.parametrize("name", ["3-16-32x32", "groups-per-location"])
def test_large_layers_compile_without_overfull_boxes_or_undefined_references(generated, name, tmp_path):
    result = build_pdf(generated[name], tmp_path / f"{name}.pdf")
    assert (result.overfull_boxes, result.undefined_references) == (0, ())
