"""Sizes, parameters, sparsity and cost of the layer, with the derivations and ratios they came from."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ..gather import CountResults
from ..render import Tex, latex, percent, thousands
from .lines import broken

__all__ = ["CountRow", "CountsSection", "Derivation", "RatioRow", "counts_section"]


@dataclass(frozen=True)
class CountRow:
    """One count: its title, the derived closed form, the note's setting of it, and its value here."""

    name: str
    title: str
    closed: sympy.Basic | None  # None: no closed form, SymPy evaluates the sum for concrete sizes
    note: sympy.Basic | None  # the closed form in the note's setting (stride 1, padding 0, …)
    value: sympy.Basic
    shown: Tex  # the value as printed: digits grouped, a density as a percentage


@dataclass(frozen=True)
class Derivation:
    """A derived formula's steps (the sum, then the closed form) and its value for this layer."""

    name: str
    title: str
    setting: str
    symbol: Tex  # the count's name in the document (N_ω, H', …)
    steps: tuple[tuple[str, tuple[Tex, ...]], ...]  # (what was done, the result broken over display lines)
    value: sympy.Basic
    shown: Tex


@dataclass(frozen=True)
class RatioRow:
    """A conv/FC ratio as a SymPy expression in its setting, and its limit as H, W → ∞."""

    title: str
    setting: str
    lines: tuple[Tex, ...]  # the ratio, broken over display lines
    limit: sympy.Basic


@dataclass(frozen=True)
class CountsSection:
    """Sizes, parameters, sparsity and cost of the layer from :mod:`symconv.closed.counts`, with derivations."""

    rows: tuple[CountRow, ...]
    derivations: tuple[Derivation, ...]
    ratios: tuple[RatioRow, ...]
    bias: str


# How the counts that other counts are summed from are named in the document (SymPy calls them by their
# program names); and program words in the derivation labels, said as mathematics.
_COUNT_SYMBOLS = {
    "output_height": "H'", "output_width": "W'", "d_x": "d_x", "d_y": "d_y",
    "params_weights": r"N_{\omega}", "params_bias_shared": r"N_{b}", "params_bias_per_location": r"N_{b}",
    "params_conv_shared": "N", "params_conv_per_location": "N", "params_conv_none": "N",
    "params_fc_weights": r"N_{\mathrm{FC}}^{\omega}", "params_fc_bias": r"N_{\mathrm{FC}}^{b}",
    "params_fc": r"N_{\mathrm{FC}}", "params_fc_none": r"N_{\mathrm{FC}}",
    "params_local_weights": r"N_{\mathrm{loc}}^{\omega}", "params_local": r"N_{\mathrm{loc}}",
}
_LABEL_WORDS = (
    (re.compile(r"\s*\((?:Sum\.doit|solve|rsolve|summation)[^)]*\)"), ""),
    (re.compile(r"\btaps_(?:valid_|clipped_)?h\b"), "$t_h$"),
    (re.compile(r"\btaps_(?:valid_|clipped_)?w\b"), "$t_w$"),
    (re.compile(r"·"), r"$\cdot$"),
)


def count_symbol(name: str) -> Tex:
    """The document's name for the count ``name``: the note's symbol, or N with a subscript.

    >>> print(count_symbol("params_weights"), count_symbol("nnz_valid"))
    N_{\\omega} \\operatorname{nnz}(\\mathcal{W})
    """
    if name in _COUNT_SYMBOLS:
        return Tex(_COUNT_SYMBOLS[name])
    if name.startswith("nnz"):
        return Tex(r"\operatorname{nnz}(\mathcal{W})")
    if name.startswith("density"):
        return Tex(r"\rho")
    if name.startswith("macs"):
        return Tex(r"M")
    return Tex(r"N")


def _as_mathematics(expr: sympy.Basic) -> sympy.Basic:
    """Replace the program-named count symbols (``\\mathrm{params\\_weights}``) by the document's symbols."""
    names = {}
    for symbol in expr.free_symbols:
        match = re.fullmatch(r"\\mathrm\{(.*)\}", symbol.name)
        if match:
            names[symbol] = sympy.Symbol(count_symbol(match.group(1).replace("\\_", "_")))
    return expr.xreplace(names)


def _label(text: str) -> str:
    """A derivation step's label with program words (``Sum.doit``, ``taps_h``) said as mathematics."""
    for pattern, words in _LABEL_WORDS:
        text = pattern.sub(lambda _, words=words: words, text)
    return text


def shown(name: str, value: sympy.Basic) -> Tex:
    """A count as printed: integers with grouped digits, densities as percentages, anything else by SymPy.

    >>> print(shown("nnz_valid", sympy.Integer(483388358656)), shown("density_valid", sympy.Rational(112225, 62940744)))
    483\\,388\\,358\\,656 0.18\\,\\%
    """
    if name.startswith("density"):
        return percent(value)
    if isinstance(value, sympy.Integer):
        return thousands(int(value))
    return latex(value)


def counts_section(c: CountResults) -> CountsSection:
    """The counts gathered by :func:`symconv.report.gather.gather_counts`, as table rows and derivations.

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.report.gather import gather_counts
    >>> s = counts_section(gather_counts(ConvSpec(2, 3, input_size=5, kernel_size=3)))
    >>> {r.name: int(r.value) for r in s.rows}["params_conv_shared"]
    57
    """
    rows = tuple(CountRow(r.formula.name, r.formula.title, None if r.closed is None else _as_mathematics(r.closed),
                          None if r.note is None else _as_mathematics(r.note), r.value, shown(r.formula.name, r.value))
                 for r in c.rows)
    derivations = tuple(
        Derivation(d.formula.name, d.formula.title, d.formula.setting, count_symbol(d.formula.name),
                   tuple((_label(s.label), broken(_as_mathematics(s.expr))) for s in d.formula.steps), d.value,
                   shown(d.formula.name, d.value))
        for d in c.derivations
    )
    ratios = tuple(RatioRow(r.title, r.setting, broken(r.expr), r.limit) for r in c.ratios)
    return CountsSection(rows, derivations, ratios, c.counts.spec.bias)
