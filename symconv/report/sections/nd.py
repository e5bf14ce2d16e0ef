"""One layer of any ndim ≠ 2 (the note's construction is 2-D) and one transposed layer, shaped for the templates.

Indices are symconv's own, 0-based, as in PyTorch (the note's 1-based numbering belongs to its 2-D layer):
output channel i, input channel l, output position (j) in 1-D, (j, k, q) in 3-D, taps (m) or (m, n, u).
Only reads the frozen results of :mod:`symconv.report.gather_nd`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

from ...core.spec import ConvSpec
from ...core.transposed import ConvTransposeSpec
from ...prove.proof import Counterexample
from ...prove.verdict import Verdict
from ..figures import PatternFigure, pattern_figure
from ..gather import OutputTerms
from ..gather_nd import NdLayerResults, TransposedResults, TransposedTheorem
from ..render import Tex, escape_tex, latex, thousands
from .counts import CountsSection, counts_section
from .note import x_join
from .receptive import AxisBox
from .theorem import TheoremView, theorem_view

__all__ = ["BAND_COLUMNS", "NdLayerSection", "ProofRow", "TransposedAllSizes", "TransposedSection", "axis_letters",
           "column_bands", "nd_layer_section", "transposed_all_sizes", "transposed_section"]


def axis_letters(ndim: int) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(output indices, tap indices, axis names) for ``ndim`` spatial axes.

    >>> axis_letters(1), axis_letters(3)[0]
    ((('j',), ('m',), ('length',)), ('j', 'k', 'q'))
    """
    if ndim == 1:
        return ("j",), ("m",), ("length",)
    if ndim <= 3:
        return ("j", "k", "q")[:ndim], ("m", "n", "u")[:ndim], ("depth", "height", "width")[3 - ndim:]
    return (tuple(f"j_{a + 1}" for a in range(ndim)), tuple(f"m_{a + 1}" for a in range(ndim)),
            tuple(f"axis {a + 1}" for a in range(ndim)))


def _sub(*parts: object) -> str:
    return ",".join(str(p) for p in parts)


def _tap_latex(o: str, t: str, s: int, p: int, d: int) -> str:
    """o·s − p + t·d with this layer's numbers, simplified by SymPy."""
    return sympy.latex(sympy.Symbol(o) * s - p + sympy.Symbol(t) * d)


def _bias_latex(bias: str, outs: tuple[str, ...]) -> str:
    return {"shared": "b_{i} + ", "per_location": f"b_{{{_sub('i', *outs)}}} + ", "none": ""}[bias]


def _definition(spec: ConvSpec) -> tuple[Tex, Tex]:
    """The index sum of an N-D layer with its sizes, and the ranges of its free indices."""
    outs, taps, _ = axis_letters(spec.ndim)
    channel = "l" if spec.groups == 1 else r"\gamma_i + l"
    coords = [_tap_latex(o, t, s, p, d) for o, t, s, p, d in
              zip(outs, taps, spec.stride, spec.padding_before, spec.dilation)]
    sums = rf"\sum_{{l=0}}^{{{spec.in_per_group - 1}}}" + "".join(
        rf"\sum_{{{t}=0}}^{{{k - 1}}}" for t, k in zip(taps, spec.kernel_size))
    formula = (rf"y_{{{_sub('i', *outs)}}} = {_bias_latex(spec.bias, outs)}{sums} "
               rf"\omega_{{{_sub('i', 'l', *taps)}}}\, x_{{{_sub(channel, *coords)}}}")
    ranges = [rf"i = 0, \dots, {spec.out_channels - 1}"]
    ranges += [rf"{o} = 0, \dots, {n - 1}" for o, n in zip(outs, spec.output_size)]
    return Tex(formula), Tex(r",\; ".join(ranges))


@dataclass(frozen=True)
class ExampleSum:
    """One output written out: its name and the products (LaTeX), a few per line."""

    output: Tex
    lines: tuple[Tex, ...]
    products: int
    taps: int


def _example(e: OutputTerms) -> ExampleSum:
    terms = [latex(w) + r"\, " + latex(x) for x, w in e.products] + [latex(b) for b in e.bias]
    lines = tuple(Tex(" + ".join(terms[n:n + 4])) for n in range(0, len(terms), 4)) or (Tex("0"),)
    return ExampleSum(Tex(f"y_{{{_sub(e.channel, *e.position)}}}"), lines, len(e.products), e.taps)


@dataclass(frozen=True)
class ProofRow:
    """One engine's verdict: method, holds, what was compared, how many outputs differ, first difference."""

    method: str
    holds: bool
    compared: int
    mismatched: int
    counterexample: str | None  # plain words (transposed engines) or LaTeX (the forward engines' first mismatch)


def _boxes(results: NdLayerResults | TransposedResults, names: tuple[str, ...], sizes: tuple[int, ...]) -> tuple[AxisBox, ...]:
    return tuple(AxisBox(name, ax.start, ax.end, Tex(f"{ax.centre:g}"), ax.size,
                         not (0 <= ax.start and ax.end < n))
                 for name, ax, n in zip(names, results.region.axes, sizes))


@dataclass(frozen=True)
class NdLayerSection:
    """The report on one N-D layer, ready to lay out (0-based indices throughout)."""

    ndim: int
    description: str
    quantities: tuple[tuple[str, str], ...]  # (words, value)
    definition: Tex
    ranges: Tex
    examples: tuple[ExampleSum, ...]
    entry: Tex  # 𝒲's entries as a formula
    W: tuple[tuple[int, int, Tex], ...] | None  # bands of columns: (first, last, the band)
    block: tuple[tuple[int, int, Tex], ...] | None
    block_shape: str
    row_name: Tex
    row: tuple[Tex, ...]
    nnz: int
    d_x: int
    d_y: int
    figure: PatternFigure | None
    runs: tuple[ProofRow, ...]
    holds: bool
    sizes: Tex  # the sizes the identity is proved for
    output: Tex  # the output position shown
    boxes: tuple[AxisBox, ...]
    cells: int
    channels: int
    agree: bool
    rows_checked: int
    disagreement: str | None
    counts: CountsSection


def _quantities(spec: ConvSpec) -> tuple[tuple[str, str], ...]:
    return (("input channels $C_1$", str(spec.in_channels)), ("output channels $C_2$", str(spec.out_channels)),
            ("input size", x_join(spec.input_size)), ("kernel size", x_join(spec.kernel_size)),
            ("stride", x_join(spec.stride)),
            ("zero padding before / after", f"{x_join(spec.padding_before)} / {x_join(spec.padding_after)}"),
            ("dilation", x_join(spec.dilation)), ("groups $G$", str(spec.groups)),
            ("bias", spec.bias.replace("_", " ")), ("output size", x_join(spec.output_size)),
            ("flattened input $d_x$", f"{spec.d_x:,}"), ("flattened output $d_y$", f"{spec.d_y:,}"))


def _entry(spec: ConvSpec) -> Tex:
    """𝒲's entry in row (i, output position) and column (l, input position), per axis."""
    outs, taps, _ = axis_letters(spec.ndim)
    ins = tuple(f"r_{{{a + 1}}}" if spec.ndim > 1 else "r" for a in range(spec.ndim))
    deltas = r"\,".join(rf"[{r} = {_tap_latex(o, t, s, p, d)}]" for r, o, t, s, p, d in
                        zip(ins, outs, taps, spec.stride, spec.padding_before, spec.dilation))
    sums = "".join(rf"\sum_{{{t}=0}}^{{{k - 1}}}" for t, k in zip(taps, spec.kernel_size))
    return Tex(rf"\symconvW_{{(i,{_sub(*outs)}),\,(l,{_sub(*ins)})}} = {sums} \omega_{{{_sub('i', 'l', *taps)}}}\,{deltas}")


#: Columns of an explicit matrix per display: wider matrices are split into bands of columns (never scaled down).
BAND_COLUMNS = 8


def column_bands(m: sympy.MatrixBase, width: int = BAND_COLUMNS) -> tuple[tuple[int, int, Tex], ...]:
    """``m`` cut into bands of at most ``width`` columns: (first column, last column, the band as LaTeX), 0-based.

    >>> [(a, b) for a, b, _ in column_bands(sympy.ones(2, 10), 4)]
    [(0, 3), (4, 7), (8, 9)]
    """
    return tuple((c, min(c + width, m.cols) - 1, latex(m[:, c:c + width])) for c in range(0, m.cols, width))


def _terms(terms: tuple[sympy.Expr, ...], limit: int = 4) -> str:
    shown = ", ".join(f"${sympy.latex(t)}$" for t in terms[:limit])
    return (shown or "none") + (f" and {len(terms) - limit} more" if len(terms) > limit else "")


def _mismatch(v: Verdict) -> Tex | None:
    """The first output where the engine found the two sides different, and the terms on one side only."""
    m = v.mismatch
    if m is None:
        return None
    return Tex(rf"output $y_{{{_sub(*m.output)}}}$; terms only in the index sum: {_terms(m.missing)}; "
               rf"only in $\symconvW x + b$: {_terms(m.extra)}")


def _row_lines(row: tuple[tuple[int, sympy.Symbol], ...], per_line: int = 6) -> tuple[Tex, ...]:
    """A row's nonzeros "column ↦ entry", ``per_line`` to a display line."""
    items = [rf"{c} \mapsto {sympy.latex(w)}" for c, w in row]
    return tuple(Tex(r",\; ".join(items[n:n + per_line])) for n in range(0, len(items), per_line))


def _sizes_shown(spec: ConvSpec) -> Tex:
    """The sizes the identity is proved for, as inline math."""
    def product(values: tuple[int, ...]) -> str:
        return r" \times ".join(map(str, values))

    return Tex(f"$C_1 = {spec.in_channels}$, $C_2 = {spec.out_channels}$, input ${product(spec.input_size)}$, "
               f"kernel ${product(spec.kernel_size)}$")


def nd_layer_section(r: NdLayerResults) -> NdLayerSection:
    """The results of :func:`symconv.report.gather_nd.gather_nd_layer`, shaped for ``nd_report.tex.j2``.

    >>> from symconv.report.gather_nd import gather_nd_layer
    >>> s = nd_layer_section(gather_nd_layer(ConvSpec(1, 1, input_size=(5,), kernel_size=3)))
    >>> print(s.definition)
    y_{i,j} = b_{i} + \\sum_{l=0}^{0}\\sum_{m=0}^{2} \\omega_{i,l,m}\\, x_{l,j + m}
    """
    spec, d = r.spec, r.disagreement
    definition, ranges = _definition(spec)
    _, _, names = axis_letters(spec.ndim)
    return NdLayerSection(
        ndim=spec.ndim, description=spec.describe(), quantities=_quantities(spec), definition=definition, ranges=ranges,
        examples=tuple(_example(e) for e in r.examples), entry=_entry(spec),
        W=None if r.W is None else column_bands(r.W), block=None if r.block is None else column_bands(r.block),
        block_shape=f"{math.prod(spec.output_size)} × {math.prod(spec.input_size)}",
        row_name=Tex(f"({_sub(0, *r.position)})"),
        row=_row_lines(r.row), nnz=r.nnz, d_x=spec.d_x, d_y=spec.d_y,
        figure=None if r.pattern is None else pattern_figure(r.pattern, spec.out_channels, spec.in_channels),
        runs=tuple(ProofRow(v.method, v.holds, v.terms, v.mismatched_rows, _mismatch(v)) for v in r.verdicts),
        holds=all(v.holds for v in r.verdicts),
        sizes=_sizes_shown(spec),
        output=Tex(f"({_sub(*r.position)})"), boxes=_boxes(r, names, spec.input_size), cells=r.cells,
        channels=spec.in_per_group, agree=d is None, rows_checked=r.rows_checked,
        disagreement=None if d is None else
        f"row of output channel {d.row}: {d.extra} columns outside the receptive field, {d.missing} missing",
        counts=counts_section(r.counts),
    )


# ----------------------------------------------------------------------------- a transposed layer
@dataclass(frozen=True)
class TransposedSection:
    """The report on one transposed layer, ready to lay out (0-based indices, PyTorch's semantics)."""

    ndim: int
    description: str
    forward: str
    quantities: tuple[tuple[str, str], ...]
    definition: Tex
    ranges: Tex
    sizes: tuple[Tex, ...]  # per axis: the output size formula with this layer's numbers
    runs: tuple[tuple[str, ProofRow], ...]  # (identity name, the engine's result)
    holds: bool
    stretch: tuple[Tex, ...]  # per axis: stretched size, p′, a
    direct: str
    WT: tuple[tuple[int, int, Tex], ...] | None
    WT_shape: str
    output: Tex
    position: Tex
    products: tuple[Tex, ...]
    n_products: int
    boxes: tuple[AxisBox, ...]
    cells: int
    inexact: str | None
    agree: bool
    extra: int
    missing: int
    counts: tuple[tuple[str, Tex, Tex], ...]  # (words, closed form, value)
    all_sizes: TransposedAllSizes | None = None  # the all-size theorem (2-D layers only)
    #: the axes where a ≥ s: there the forward convolution has more outputs than this layer has inputs (𝒲 = its rows)
    wide_axes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransposedAllSizes:
    """The all-size theorem on conv_transpose and what it gives for this layer (0-based, the forward layer's names).

    ``restricted`` names the axes where a ≥ s (empty: conv^T = 𝒲ᵀy + b at this layer's sizes, an instance), with
    ``forward_outputs`` the output size of the convolution at this layer's output size (bigger than the input
    there); ``finding`` the prover's counterexample to the unrestricted size lemma, in words.
    """

    view: TheoremView
    values: Tex  # this layer's sizes as the theorem's symbols
    restricted: tuple[Tex, ...]  # per axis with a ≥ s: "height ($a_h = 1 \ge s_h = 1$)"
    inputs: str
    forward_outputs: str
    finding: Tex | None


#: How the transposed report points at the forward index sum from the forward steps' words.
_FORWARD_DEFINITION = r" of $\operatorname{conv}$, the convolution this layer transposes,"


def transposed_all_sizes(spec: ConvTransposeSpec, theorem: TransposedTheorem) -> TransposedAllSizes:
    """The all-size theorem ``theorem`` shaped for the transposed report of the 2-D layer ``spec``.

    >>> from symconv.report.gather_nd import transposed_theorem
    >>> t = transposed_all_sizes(ConvTransposeSpec(1, 1, input_size=3, kernel_size=2, dilation=2, output_padding=1),
    ...                          transposed_theorem())
    >>> t.view.status, [str(r).split()[0] for r in t.restricted], t.forward_outputs
    ('proved', ['height', 'width'], '4×4')
    """
    names = ("C_1", "C_2", "g", "q_1", "q_2", "H'", "W'", "H", "W", "h", "w", "s_h", "s_w", "p_h", "p_w", "d_h", "d_w",
             "a_h", "a_w")
    numbers = (spec.out_channels, spec.in_channels, spec.groups, spec.out_channels // spec.groups,
               spec.in_channels // spec.groups, *spec.input_size, *spec.output_size, *spec.kernel_size,
               *spec.stride, *spec.padding, *spec.dilation, *spec.output_padding)
    values = ", ".join(f"${n} = {v}$" for n, v in zip(names, numbers))
    restricted = tuple(Tex(rf"{axis} ($a_{x} = {a} \ge s_{x} = {s}$)") for axis, x, a, s in
                       zip(("height", "width"), "hw", spec.output_padding, spec.stride) if a >= s)
    return TransposedAllSizes(
        view=theorem_view(theorem.proof, "shared", _FORWARD_DEFINITION), values=Tex(values), restricted=restricted,
        inputs=x_join(spec.input_size), forward_outputs=x_join(spec.forward_spec().output_size),
        finding=None if theorem.finding is None else _finding(theorem.finding))


def _finding(cx: Counterexample) -> Tex:
    """Where Z3 refutes the unrestricted size lemma (math) and how a built layer confirms it (words)."""
    at = ", ".join(f"${name} = {value}$" for name, value in cx.sizes.items())
    how = f", confirmed on a built layer: {escape_tex(cx.note)}" if cx.confirmed else ""
    return Tex(at + how)


def _transposed_definition(spec: ConvTransposeSpec) -> tuple[Tex, Tex]:
    """z_{j,o} = b_j + Σ_c Σ_q Σ_t [o = q·s − p + t·d] ω_{c,j,t} y_{c,q} with this layer's sizes."""
    outs, taps, _ = axis_letters(spec.ndim)
    ins = tuple(f"q_{{{a + 1}}}" if spec.ndim > 1 else "q" for a in range(spec.ndim))
    conds = r"\,".join(rf"[{o} = {_tap_latex(q, t, s, p, d)}]" for o, q, t, s, p, d in
                       zip(outs, ins, taps, spec.stride, spec.padding, spec.dilation))
    sums = rf"\sum_{{c=0}}^{{{spec.in_channels - 1}}}" + "".join(
        rf"\sum_{{{q}=0}}^{{{n - 1}}}" for q, n in zip(ins, spec.input_size)) + "".join(
        rf"\sum_{{{t}=0}}^{{{k - 1}}}" for t, k in zip(taps, spec.kernel_size))
    channel = "i" if spec.groups == 1 else r"i - \gamma_c"
    bias = "b_{i} + " if spec.bias else ""
    formula = (rf"z_{{{_sub('i', *outs)}}} = {bias}{sums} {conds}\; "
               rf"\omega_{{{_sub('c', channel, *taps)}}}\, y_{{{_sub('c', *ins)}}}")
    ranges = [rf"i = 0, \dots, {spec.out_channels - 1}"] + [rf"{o} = 0, \dots, {n - 1}"
                                                          for o, n in zip(outs, spec.output_size)]
    return Tex(formula), Tex(r",\; ".join(ranges))


def _output_sizes(spec: ConvTransposeSpec) -> tuple[Tex, ...]:
    _, _, names = axis_letters(spec.ndim)
    return tuple(
        Tex(rf"\text{{{name}: }} ({n} - 1)\cdot {s} - 2\cdot {p} + {d}\cdot({k} - 1) + {a} + 1 = {out}")
        for name, n, k, s, p, d, a, out in zip(names, spec.input_size, spec.kernel_size, spec.stride, spec.padding,
                                               spec.dilation, spec.output_padding, spec.output_size))


def _stretch(t: TransposedResults) -> tuple[Tex, ...]:
    spec, form = t.spec, t.form
    _, _, names = axis_letters(spec.ndim)
    return tuple(
        Tex(rf"\text{{{name}: }} ({n} - 1)\cdot {s} + 1 = {st},\quad p' = {d}\cdot({k} - 1) - {p} = {pp},\quad a = {a}")
        for name, n, s, st, d, k, p, pp, a in zip(names, spec.input_size, spec.stride, form.stretched, spec.dilation,
                                                  spec.kernel_size, spec.padding, form.padding, form.remainder))


def _transposed_counts(t: TransposedResults) -> tuple[tuple[str, Tex, Tex], ...]:
    spec, c = t.spec, t.counts
    kernel = r"\,".join(f"k_{{{a + 1}}}" for a in range(spec.ndim)) if spec.ndim > 1 else "k"
    groups = "/G" if spec.groups != 1 else ""
    rows = [("weights $N_\\omega$", Tex(rf"C_{{\mathrm{{in}}}} C_{{\mathrm{{out}}}} {kernel}{groups}"),
             thousands(c.params_weights)),
            ("biases", Tex(r"C_{\mathrm{out}}" if spec.bias else "0"), thousands(c.params_bias)),
            ("parameters", Tex(rf"C_{{\mathrm{{in}}}} C_{{\mathrm{{out}}}} {kernel}{groups}"
                               + (r" + C_{\mathrm{out}}" if spec.bias else "")), thousands(c.params)),
            ("flattened input $d_{\\mathrm{in}}$", Tex(r"C_{\mathrm{in}} \prod_a n_a"), thousands(c.d_in)),
            ("flattened output $d_{\\mathrm{out}}$", Tex(r"C_{\mathrm{out}} \prod_a n'_a"), thousands(c.d_out)),
            ("nonzeros of $\\symconvW^\\top$ (= multiply-adds of the scatter)", Tex(r"\operatorname{nnz}(\symconvW)"),
             thousands(c.nnz)),
            ("multiply-adds counting every tap", Tex(rf"C_{{\mathrm{{in}}}} C_{{\mathrm{{out}}}} {kernel}{groups} \prod_a n_a"),
             thousands(c.macs_dense))]
    return tuple(rows)


def transposed_section(t: TransposedResults) -> TransposedSection:
    """The results of :func:`symconv.report.gather_nd.gather_transposed`, shaped for ``transposed_report.tex.j2``.

    >>> from symconv.report.gather_nd import gather_transposed
    >>> s = transposed_section(gather_transposed(ConvTransposeSpec(1, 1, input_size=(3,), kernel_size=3, stride=2)))
    >>> s.holds
    True
    >>> print(s.sizes[0])
    \\text{length: } (3 - 1)\\cdot 2 - 2\\cdot 0 + 1\\cdot(3 - 1) + 0 + 1 = 7
    """
    spec = t.spec
    definition, ranges = _transposed_definition(spec)
    _, _, names = axis_letters(spec.ndim)
    products = [rf"{sympy.latex(w)}\, {sympy.latex(y)}" for w, y in t.products]
    products += [] if t.bias is None else [sympy.latex(t.bias)]
    lines = tuple(Tex(" + ".join(products[n:n + 4])) for n in range(0, len(products), 4)) or (Tex("0"),)
    return TransposedSection(
        ndim=spec.ndim, description=spec.describe(), forward=spec.forward_spec().describe(),
        quantities=_transposed_quantities(spec), definition=definition, ranges=ranges, sizes=_output_sizes(spec),
        runs=tuple((i.name, ProofRow(p.method, i.holds, i.compared, i.mismatched, i.counterexample))
                   for p in t.proofs for i in p.identities),
        holds=all(p.holds for p in t.proofs), stretch=_stretch(t), direct=t.form.direct.describe(),
        WT=None if t.WT is None else column_bands(t.WT), WT_shape=f"{spec.d_out} × {spec.d_in}",
        output=Tex(f"z_{{{_sub(0, *t.position)}}}"), position=Tex(f"({_sub(*t.position)})"), products=lines,
        n_products=len(t.products),
        boxes=_boxes(t, names, spec.input_size), cells=t.cells, inexact=t.field.inexact,
        agree=t.extra == 0 and t.missing == 0, extra=t.extra, missing=t.missing, counts=_transposed_counts(t),
        all_sizes=None if t.theorem is None else transposed_all_sizes(spec, t.theorem),
        wide_axes=tuple(name for name, a, st in zip(names, spec.output_padding, spec.stride) if a >= st),
    )


def _transposed_quantities(spec: ConvTransposeSpec) -> tuple[tuple[str, str], ...]:
    return (("input channels $C_{\\mathrm{in}}$", str(spec.in_channels)),
            ("output channels $C_{\\mathrm{out}}$", str(spec.out_channels)),
            ("input size $n$", x_join(spec.input_size)), ("kernel size $k$", x_join(spec.kernel_size)),
            ("stride $s$", x_join(spec.stride)), ("padding $p$", x_join(spec.padding)),
            ("output padding $a$", x_join(spec.output_padding)), ("dilation $d$", x_join(spec.dilation)),
            ("groups $G$", str(spec.groups)), ("bias", "one per output channel" if spec.bias else "none"),
            ("output size $n'$", x_join(spec.output_size)),
            ("weight shape (PyTorch)", x_join(spec.weight_shape)))
