"""The one Jinja environment that lays finished results out as LaTeX — the only module importing jinja2.

Delimiters are LaTeX-safe (``\\VAR{…}``, ``\\BLOCK{…}``, ``\\#{…}``) so that templates stay
readable TeX; undefined names fail loudly (``StrictUndefined``). Every ``\\VAR{}`` passes through
:func:`_finalize`: text that is not already LaTeX (:class:`Tex`) is escaped, so user text (titles,
names) prints literally even where a template forgets the ``tex`` filter; SymPy objects must go
through the ``latex`` filter (SymPy's LaTeX printer) and anything else is refused.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

import jinja2
import sympy

from ..errors import SpecError

__all__ = ["Tex", "environment", "escape_tex", "latex", "pdf_string", "percent", "prose", "render", "texjoin", "thousands",
           "title_tex"]


class Tex(str):
    """A string that is already LaTeX: printed as is by templates."""

    __slots__ = ()


# Characters that TeX treats specially, and how to print each literally (T1 font encoding).
_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "&": r"\&",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Non-Latin characters that show up in symconv's own descriptions (layer summaries, claims, proofs);
# pdflatex's utf8 input does not know them.
_MATH = {
    "×": r"\times", "→": r"\to", "←": r"\leftarrow", "↦": r"\mapsto", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow",
    "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "≡": r"\equiv", "≪": r"\ll", "≫": r"\gg",
    "·": r"\cdot", "−": "-", "±": r"\pm", "∓": r"\mp", "∈": r"\in", "∋": r"\ni", "∉": r"\notin", "∞": r"\infty",
    "∑": r"\sum", "∏": r"\prod", "√": r"\surd", "∪": r"\cup", "∩": r"\cap", "⊂": r"\subset", "⊆": r"\subseteq",
    "∀": r"\forall", "∃": r"\exists", "∂": r"\partial", "∇": r"\nabla", "′": r"\prime", "∘": r"\circ",
    "⌊": r"\lfloor", "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil", "⋯": r"\cdots", "⋮": r"\vdots",
    "𝒲": r"\mathcal{W}", "ℝ": r"\mathbb{R}", "ℤ": r"\mathbb{Z}", "ℕ": r"\mathbb{N}",
}
_GREEK = "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ"
_GREEK_NAMES = (
    "alpha beta gamma delta varepsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi "
    "omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega"
).split()
_MATH.update({g: "\\" + name for g, name in zip(_GREEK, _GREEK_NAMES)})
_UNICODE = {ch: r"\ensuremath{" + tex + "}" for ch, tex in _MATH.items()}
_UNICODE.update({"…": r"\ldots{}", "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''"})
_UNICODE.update({chr(0x2080 + d): rf"\textsubscript{{{d}}}" for d in range(10)})  # ₀ … ₉
_UNICODE.update({chr(c): rf"\textsuperscript{{{d}}}" for d, c in enumerate((0x2070, 0xB9, 0xB2, 0xB3, *range(0x2074, 0x207A)))})
_UNICODE["ᵏ"] = r"\textsuperscript{k}"
# ASCII that T1 fonts would turn into ligatures or other glyphs (--, <<, ``, ?`) printed as typed
_SPECIALS.update({
    "<": r"\textless{}", ">": r"\textgreater{}", "`": r"\textasciigrave{}", "'": r"\textquotesingle{}",
    '"': r"\textquotedbl{}", "|": r"\textbar{}", "-": "-{}",
})
_TOKEN = re.compile(r"[\\{}$%#_&~^<>`'\"|]|-(?=-)|\s+|[^\x20-\x7e]")


def _latin(ch: str) -> bool:
    """Characters pdflatex typesets from utf8 input with the T1 encoding (Latin-1, Latin Extended-A)."""
    return "\u00a0" <= ch <= "\u017f" and ch not in "\u00ad"


def escape_tex(text: object, unicode: bool = False) -> Tex:
    """``text`` as LaTeX that prints it literally (one line; whitespace runs become one space).

    Characters pdflatex cannot typeset raise a one-line :class:`SpecError`; with ``unicode`` (LuaLaTeX) they
    pass through as they are.

    >>> print(escape_tex(r"50% of \\input{x} & $y_1$ ~ 2^3 #1"))
    50\\% of \\textbackslash{}input\\{x\\} \\& \\$y\\_1\\$ \\textasciitilde{} 2\\textasciicircum{}3 \\#1
    """
    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token in _SPECIALS:
            return _SPECIALS[token]
        if token.isspace():
            return " "
        if token in _UNICODE:
            return _UNICODE[token]
        if _latin(token) or (unicode and token.isprintable()):
            return token
        raise SpecError(f"text must be printable by pdflatex; {token!r} (U+{ord(token):04X}) is not supported")

    return Tex(_TOKEN.sub(replace, str(text)))


def prose(text: str) -> Tex:
    """Words with ``$…$`` math: the math is kept as LaTeX, everything else escaped (unbalanced ``$``: all escaped).

    >>> print(prose("x_1 grows like $\\\\sqrt{n}$ (50%)"))
    x\\_1 grows like $\\sqrt{n}$ (50\\%)
    """
    pieces = text.split("$")
    if len(pieces) % 2 == 0:
        return escape_tex(text)
    return Tex("".join(f"${piece}$" if odd else escape_tex(piece) for odd, piece in
                       ((n % 2 == 1, piece) for n, piece in enumerate(pieces))))


# Inline math a user may put in a title: letters, digits, operators, and these commands only. Anything else
# (\\input, \\def, \\catcode, …) is refused, so a title can never run TeX code.
_TITLE_COMMANDS = frozenset(_GREEK_NAMES) | {
    "times", "to", "cdot", "le", "ge", "leq", "geq", "ne", "neq", "in", "infty", "ldots", "cdots", "dots", "sum",
    "prod", "frac", "sqrt", "mathcal", "mathbb", "mathrm", "mathbf", "operatorname", "left", "right", "quad", ",",
    "prime", "mapsto", "rightarrow", "leftarrow", "approx", "ll", "gg", "lfloor", "rfloor", "lceil", "rceil", "star",
    "ast", "circ", "varphi", "epsilon", "ell",
}
_TITLE_MATH = re.compile(r"\\([A-Za-z]+|,)|[A-Za-z0-9\s+\-=()\[\],.^_{}<>|/*:;!']")


def title_tex(text: str, unicode: bool = False) -> Tex:
    """A title with inline ``$…$`` math: the math checked against a whitelist, everything else escaped.

    With an unpaired ``$`` there is no math and the whole title prints literally.

    >>> print(title_tex(r"Layer $\\mathcal{W}_{j,k} \\in \\mathbb{R}^{C_2}$ & more"))
    Layer $\\mathcal{W}_{j,k} \\in \\mathbb{R}^{C_2}$ \\& more
    >>> title_tex(r"$\\input{x}$")
    Traceback (most recent call last):
    symconv.errors.SpecError: title math may use letters, digits, operators and common commands; \\input is not allowed
    """
    pieces = text.split("$")
    if len(pieces) % 2 == 0:  # an unpaired $ is no math: the whole title prints literally, as prose does
        return escape_tex(text, unicode)
    out = []
    for n, piece in enumerate(pieces):
        if n % 2 == 0:
            out.append(escape_tex(piece, unicode))
            continue
        position = 0
        for match in _TITLE_MATH.finditer(piece):
            if match.start() != position:
                break
            if match.group(1) and match.group(1) not in _TITLE_COMMANDS:
                raise SpecError("title math may use letters, digits, operators and common commands; "
                                f"\\{match.group(1)} is not allowed")
            position = match.end()
        if position != len(piece):
            raise SpecError(f"title math may use letters, digits, operators and common commands; {piece[position]!r} "
                            "is not allowed")
        depth = 0
        for ch in piece:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if depth < 0:
                break
        if depth != 0:
            raise SpecError(f"title math must have balanced braces, got ${piece}$")
        out.append(f"${piece}$")
    return Tex("".join(out))


def pdf_string(text: str, unicode: bool = False) -> Tex:
    """Plain text for the PDF's metadata (hyperref's pdftitle): math signs as ASCII, then escaped.

    >>> print(pdf_string(r"The convolution 2 → 3 channels, 5×5 input, $\\mathcal{W}_{j,k}$"))
    The convolution 2 to 3 channels, 5x5 input, Wj,k
    """
    pieces = str(text).split("$")
    for n in range(1, len(pieces), 2):  # math: commands dropped or spelled out, braces and scripts dropped
        math = re.sub(r"\\(?:mathcal|mathbb|mathrm|mathbf|operatorname|left|right)\b", "", pieces[n])
        pieces[n] = re.sub(r"[{}^_]", "", re.sub(r"\\([A-Za-z]+)", r" \1 ", math)).strip()
    plain = re.sub(r" +", " ", "".join(pieces))
    for ch, ascii_ in (("→", "to"), ("×", "x"), ("−", "-"), ("·", "*"), ("…", "..."), ("𝒲", "W"),
                       *zip(_GREEK, _GREEK_NAMES)):
        plain = plain.replace(ch, ascii_)
    if unicode:  # LuaLaTeX writes Unicode into the PDF string as is; only TeX's specials need escaping
        return Tex("".join(ch if ord(ch) > 127 else escape_tex(ch) for ch in plain))
    return escape_tex("".join(ch for ch in plain if ch < "\u0080" or _latin(ch)))


def percent(value: Any, digits: int = 2) -> Tex:
    """A fraction as a percentage with ``digits`` decimals (exact rationals rounded once).

    >>> print(percent(sympy.Rational(112225, 62940744)))
    0.18\\,\\%
    """
    return Tex(f"{float(value) * 100:.{digits}f}" + r"\,\%")


def latex(value: Any, **options: Any) -> Tex:
    """A SymPy object (or number) through SymPy's LaTeX printer; matrices in parentheses.

    >>> print(latex(sympy.Matrix([[sympy.Symbol("omega_1,1,0,0"), 0]])))
    \\left(\\begin{matrix}\\omega_{1,1,0,0} & 0\\end{matrix}\\right)
    """
    options.setdefault("mat_delim", "(")
    return Tex(sympy.latex(value, **options))


def thousands(value: int) -> Tex:
    """An integer with thin spaces between groups of three digits.

    >>> print(thousands(88316928))
    88\\,316\\,928
    """
    return Tex(f"{int(value):,}".replace(",", r"\,"))


def texjoin(items: Any, separator: str = "") -> Tex:
    """Join pieces with a separator written in a template; pieces that are not LaTeX get escaped.

    >>> print(texjoin([Tex(r"\\alpha"), "a_b"], r" \\mid "))
    \\alpha \\mid a\\_b
    """
    return Tex(separator.join(item if isinstance(item, Tex) else escape_tex(item) for item in items))


def raw(value: str) -> Tex:
    """Trusted LaTeX written by symconv itself (never user text)."""
    return Tex(value)


def _finalize(value: Any) -> str:
    """Every ``\\VAR{}`` output: LaTeX passes, ints print, text is escaped, anything else is refused."""
    if isinstance(value, Tex):
        return value
    if isinstance(value, jinja2.Undefined):
        return str(value)  # StrictUndefined raises UndefinedError naming the missing variable
    if isinstance(value, bool) or value is None:
        raise TypeError(f"refusing to print {value!r} into LaTeX; write the words in the template")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return escape_tex(value)
    raise TypeError(f"refusing to print {type(value).__name__} into LaTeX; use the 'latex' or 'tex' filter")


@lru_cache(maxsize=8)
def environment(template_dir: str | None = None) -> jinja2.Environment:
    """The Jinja environment for ``symconv/report/templates`` (one per process and ``template_dir``).

    A ``template_dir`` comes first (a Jinja ``ChoiceLoader``): a file there replaces the shipped template of
    the same name, e.g. ``section_counts.tex.j2``; every other template is still the package's.

    >>> environment().from_string(r"\\VAR{x | latex} costs \\VAR{p}").render(x=sympy.Symbol("omega"), p="5%")
    '\\\\omega costs 5\\\\%'
    """
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            *([jinja2.FileSystemLoader(template_dir)] if template_dir is not None else []),
            jinja2.PackageLoader("symconv.report", "templates"),
        ]),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # LaTeX escaping happens in _finalize, not HTML escaping
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
    )
    env.filters.update(latex=latex, tex=escape_tex, prose=prose, texjoin=texjoin, thousands=thousands, raw=raw,
                       percent=percent)
    return env


def render(template: str, template_dir: str | os.PathLike[str] | None = None, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context`` (templates in ``template_dir`` override the shipped ones).

    >>> from symconv.report.sections import footer
    >>> "symconv report -{}-audit" in render("section_footer.tex.j2", footer=footer("symconv report --audit"))
    True
    """
    if template_dir is not None and not os.path.isdir(template_dir):
        raise SpecError(f"template directory {str(template_dir)!r} does not exist")
    env = environment(None if template_dir is None else os.path.abspath(template_dir))
    return env.get_template(template).render(**context)
