"""The layer itself: its notation table, output size, and the note's index sum with its sizes."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ...core.spec import ConvSpec
from ...core.symbols import note_index
from ...core.taps import tap
from ..gather import DefinitionResults, OutputTerms
from ..render import Tex, latex
from .note import axes, note_symbol, tex_size

__all__ = ["DefinitionSection", "Expansion", "Quantity", "SpecSection", "definition_section", "spec_section"]


# ----------------------------------------------------------------------------- spec & notation
@dataclass(frozen=True)
class Quantity:
    """One row of the notation table: words, symbol, value for this layer."""

    name: str
    symbol: Tex
    value: Tex


@dataclass(frozen=True)
class SpecSection:
    """The layer, its notation and sizes, and the output-size derivation per axis."""

    description: str
    quantities: tuple[Quantity, ...]
    output_size_steps: tuple[Tex, ...]
    departures: tuple[str, ...]  # how the layer goes beyond the note's setting, in words


def _departures(spec: ConvSpec) -> tuple[str, ...]:
    out = []
    if any(s != 1 for s in spec.stride):
        out.append(f"stride {'×'.join(map(str, spec.stride))}")
    if any(spec.padding_before) or any(spec.padding_after):
        out.append(f"zero padding {spec.padding}" if isinstance(spec.padding, str) else
                   f"zero padding {'×'.join(map(str, spec.padding))}")
    if any(d != 1 for d in spec.dilation):
        out.append(f"dilation {'×'.join(map(str, spec.dilation))}")
    if spec.groups != 1:
        out.append(f"{spec.groups} groups")
    return tuple(out)


_BIAS = {
    "shared": (r"b \in \mathbb{R}^{C_2}", "shared by all locations"),
    "per_location": (r"b \in \mathbb{R}^{C_2 \times H' \times W'}", "one per output location (the note's formula)"),
    "none": (r"b = 0", "no bias"),
}
_AXIS_NAMES = (("H'", "H", "h", "s_h", "d_h", "p_t", "p_b"), ("W'", "W", "w", "s_w", "d_w", "p_l", "p_r"))


def _quantities(spec: ConvSpec) -> tuple[Quantity, ...]:
    (height, width), (kh, kw) = spec.input_size, spec.kernel_size
    rows_out, cols_out = spec.output_size
    bias = _BIAS[spec.bias]
    padding = Tex(
        rf"{spec.padding_before[0]}, {spec.padding_after[0]} \;/\; {spec.padding_before[1]}, {spec.padding_after[1]}"
    )
    return (
        Quantity("input channels", Tex("C_1"), Tex(str(spec.in_channels))),
        Quantity("output channels", Tex("C_2"), Tex(str(spec.out_channels))),
        Quantity("input height × width", Tex(r"H \times W"), tex_size(height, width)),
        Quantity("kernel height × width", Tex(r"h \times w"), tex_size(kh, kw)),
        Quantity("stride (rows, columns)", Tex("s_h, s_w"), axes(spec.stride)),
        Quantity("zero padding (top, bottom / left, right)", Tex(r"p_t, p_b \;/\; p_l, p_r"), padding),
        Quantity("dilation (rows, columns)", Tex("d_h, d_w"), axes(spec.dilation)),
        Quantity("groups", Tex("G"), Tex(str(spec.groups))),
        Quantity(f"bias: {bias[1]}", Tex(bias[0]), Tex(r"\text{" + spec.bias.replace("_", " ") + "}")),
        Quantity("output height × width", Tex(r"H' \times W'"), tex_size(rows_out, cols_out)),
        Quantity("flattened input", Tex(r"d_x = C_1 H W"), Tex(str(spec.d_x))),
        Quantity("flattened output", Tex(r"d_y = C_2 H' W'"), Tex(str(spec.d_y))),
    )


def spec_section(spec: ConvSpec) -> SpecSection:
    """The notation table and the output size, derived step by step for ``spec``.

    >>> s = spec_section(ConvSpec(2, 3, input_size=5, kernel_size=3))
    >>> s.output_size_steps[0].endswith("= 3")
    True
    """
    steps = []
    for out, n, k, s, d, before, after, names in zip(
        spec.output_size, spec.input_size, spec.kernel_size, spec.stride, spec.dilation,
        spec.padding_before, spec.padding_after, _AXIS_NAMES,
    ):
        o, n_, k_, s_, d_, pb, pa = names
        steps.append(Tex(
            rf"{o} = \left\lfloor \frac{{{n_} + {pb} + {pa} - {d_}({k_}-1) - 1}}{{{s_}}} \right\rfloor + 1"
            rf" = \left\lfloor \frac{{{n} + {before} + {after} - {d}\cdot{k - 1} - 1}}{{{s}}} \right\rfloor + 1 = {out}"
        ))
    return SpecSection(spec.describe(), _quantities(spec), tuple(steps), _departures(spec))


# ----------------------------------------------------------------------------- the index sum
@dataclass(frozen=True)
class Expansion:
    """One output written out term by term (note numbering), in lines of a few terms."""

    output: Tex
    lines: tuple[Tex, ...]
    products: int  # x·ω products in the sum
    taps: int  # products the sum would have without padding (C₁/G · h · w)
    shown: int  # products typeset (the rest elided)
    expr: sympy.Expr | None  # the whole sum as SymPy (note numbering); None when too large to build


@dataclass(frozen=True)
class DefinitionSection:
    """The note's index sum, generalised, instantiated with this layer's sizes, and written out."""

    formula: Tex  # y_{i,j,k} = … with this spec's bounds and index expressions
    ranges: Tex
    groups_note: Tex | None
    padding_note: bool
    examples: tuple[Expansion, ...]


_TERMS_PER_LINE = 4
_MAX_SHOWN_TERMS = 24
_HEAD_TERMS, _TAIL_TERMS = 12, 4


def _expansion(terms: OutputTerms) -> Expansion:
    """One output of the index sum written out in the note's numbering, long sums elided in the middle."""
    products = [(note_symbol(x), note_symbol(w)) for x, w in terms.products]
    bias = [note_symbol(b) for b in terms.bias]
    shown = products if len(products) <= _MAX_SHOWN_TERMS else products[:_HEAD_TERMS] + products[-_TAIL_TERMS:]
    pieces = [latex(b) for b in bias] + [Tex(rf"{latex(x)}\,{latex(w)}") for x, w in shown]
    if len(products) > _MAX_SHOWN_TERMS:
        pieces.insert(len(bias) + _HEAD_TERMS, Tex(r"\cdots"))
    if not pieces:
        pieces = [Tex("0")]
    lines = tuple(Tex(" + ".join(pieces[s : s + _TERMS_PER_LINE])) for s in range(0, len(pieces), _TERMS_PER_LINE))
    expr = sympy.Add(*bias, *(x * w for x, w in products)) if len(products) <= 4 * _MAX_SHOWN_TERMS else None
    return Expansion(
        output=latex(sympy.Symbol("y_" + ",".join(map(str, note_index((terms.channel, *terms.position)))))),
        lines=lines,
        products=len(products),
        taps=terms.taps,
        shown=len(shown),
        expr=expr,
    )


def definition_section(results: DefinitionResults) -> DefinitionSection:
    """The index sum with the layer's sizes, and the outputs gathered in ``results`` written out.

    >>> from symconv.report.gather import gather_definition
    >>> definition_section(gather_definition(ConvSpec(1, 1, input_size=3, kernel_size=2))).examples[0].expr
    b_1 + omega_1,1,0,0*x_1,1,1 + omega_1,1,0,1*x_1,1,2 + omega_1,1,1,0*x_1,2,1 + omega_1,1,1,1*x_1,2,2
    """
    spec = results.spec
    i, j, k, l, m, n = sympy.symbols("i j k l m n", integer=True)
    # 1-based input row/column read by output (j, k) at kernel offset (m, n): the tap map of (j−1, m), plus 1
    row = tap(j - 1, m, spec.stride[0], spec.padding_before[0], spec.dilation[0]) + 1
    col = tap(k - 1, n, spec.stride[1], spec.padding_before[1], spec.dilation[1]) + 1
    channel = Tex("l") if spec.groups == 1 else Tex(r"\gamma_i + l")
    bias = {"shared": "b_{i} + ", "per_location": "b_{i,j,k} + ", "none": ""}[spec.bias]
    kh, kw = spec.kernel_size
    formula = Tex(
        rf"y_{{i,j,k}} = {bias}\sum_{{l=1}}^{{{spec.in_per_group}}} \sum_{{m=0}}^{{{kh - 1}}} \sum_{{n=0}}^{{{kw - 1}}}"
        rf" x_{{{channel},\, {latex(row)},\, {latex(col)}}}\, \omega_{{i,l,m,n}}"
    )
    rows_out, cols_out = spec.output_size
    ranges = Tex(
        rf"1 \le i \le {spec.out_channels},\quad 1 \le j \le {rows_out},\quad 1 \le k \le {cols_out}"
    )
    groups_note = None
    if spec.groups != 1:
        groups_note = Tex(
            rf"\gamma_i = {spec.in_per_group}\left\lfloor (i-1)/{spec.out_per_group} \right\rfloor"
        )
    padding_note = any(spec.padding_before) or any(spec.padding_after)
    return DefinitionSection(formula, ranges, groups_note, padding_note, tuple(_expansion(t) for t in results.examples))
