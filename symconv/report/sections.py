"""Library results → plain, frozen data that the templates lay out (no LaTeX logic in templates).

Every section here reads a result of the core (a :class:`~symconv.core.spec.ConvSpec`, the note's
:func:`~symconv.forms.blocks.blocks`, a :class:`~symconv.prove.verdict.Verdict`, …) and returns a frozen
dataclass of finished pieces: SymPy objects for the ``latex`` filter, short LaTeX strings
(:class:`~symconv.report.render.Tex`) built here, plain words that templates escape.

Index conventions: symconv is 0-based. Typeset mathematics reproduces the note and uses its
numbering: ``i, j, k, l`` (and input rows/columns ``r, c``) count from 1, kernel offsets ``m, n``
from 0. :func:`to_note` renames SymPy symbols accordingly (``omega_0,0,1,2`` → ``omega_1,1,1,2``)
through :func:`symconv.core.symbols.note_index`; every block label also names the symconv call that
builds it (0-based). Figures (𝒲's sparsity, receptive-field maps) are laid out in :mod:`.figures`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy

from .._version import __version__
from ..core.spec import ConvSpec
from ..core.symbols import bias_array, input_array, note_index, weight_array
from ..errors import SpecError
from ..forms.blocks import block_terms, blocks, kernel_rows, matrix, matrix_as_written
from ..forms.direct import direct_terms
from ..prove.verdict import Verdict
from ..prove.verify import verify
from .figures import ReceptiveFigure, receptive_figure
from .render import Tex, latex

__all__ = [
    "AuditSection",
    "AxisBox",
    "BlockRow",
    "BlocksSection",
    "ClaimView",
    "CountRow",
    "CountsSection",
    "Derivation",
    "DefinitionSection",
    "Expansion",
    "Footer",
    "NamedMatrix",
    "MismatchView",
    "ProofRun",
    "ProofSection",
    "Quantity",
    "RatioRow",
    "ReceptiveSection",
    "StackRow",
    "StackSection",
    "SpecSection",
    "audit_section",
    "blocks_section",
    "counts_section",
    "definition_section",
    "footer",
    "mismatch_view",
    "proof_section",
    "receptive_section",
    "spec_section",
    "stack_section",
    "to_note",
]

# ----------------------------------------------------------------------------- note numbering
_SYMBOL_NAME = re.compile(r"^(omega|x|b)_(\d+(?:,\d+)*)$")
DOTS = {name: sympy.Symbol(rf"\{name}") for name in ("cdots", "vdots", "ddots")}


@lru_cache(maxsize=1 << 16)
def _note_symbol(symbol: sympy.Symbol) -> sympy.Symbol:
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
        return obj.xreplace({s: _note_symbol(s) for s in obj.free_symbols})
    return obj


def _tex_size(*values: int) -> Tex:
    return Tex(r"\times".join(str(v) for v in values))


def _axes(values: tuple[int, ...]) -> Tex:
    return Tex(", ".join(str(v) for v in values))


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
    if any(s != 1 for s in spec.stride):  # type: ignore[union-attr]
        out.append(f"stride {'×'.join(map(str, spec.stride))}")  # type: ignore[arg-type]
    if any(spec.padding_before) or any(spec.padding_after):
        out.append(f"zero padding {spec.padding}" if isinstance(spec.padding, str) else
                   f"zero padding {'×'.join(map(str, spec.padding))}")  # type: ignore[arg-type]
    if any(d != 1 for d in spec.dilation):  # type: ignore[union-attr]
        out.append(f"dilation {'×'.join(map(str, spec.dilation))}")  # type: ignore[arg-type]
    if spec.groups != 1:
        out.append(f"{spec.groups} groups")
    return tuple(out)


def spec_section(spec: ConvSpec) -> SpecSection:
    """The notation table and the output size, derived step by step for ``spec``.

    >>> s = spec_section(ConvSpec(2, 3, input_size=5, kernel_size=3))
    >>> s.output_size_steps[0].endswith("= 3")
    True
    """
    (height, width), (kh, kw) = spec.input_size, spec.kernel_size  # type: ignore[misc]
    rows_out, cols_out = spec.output_size
    bias = {
        "shared": (r"b \in \mathbb{R}^{C_2}", "shared by all locations"),
        "per_location": (r"b \in \mathbb{R}^{C_2 \times H' \times W'}", "one per output location (the note's formula)"),
        "none": (r"b = 0", "no bias"),
    }[spec.bias]
    padding = Tex(
        rf"{spec.padding_before[0]}, {spec.padding_after[0]} \;/\; {spec.padding_before[1]}, {spec.padding_after[1]}"
    )
    quantities = (
        Quantity("input channels", Tex("C_1"), Tex(str(spec.in_channels))),
        Quantity("output channels", Tex("C_2"), Tex(str(spec.out_channels))),
        Quantity("input height × width", Tex(r"H \times W"), _tex_size(height, width)),
        Quantity("kernel height × width", Tex(r"h \times w"), _tex_size(kh, kw)),
        Quantity("stride (rows, columns)", Tex("s_h, s_w"), _axes(spec.stride)),  # type: ignore[arg-type]
        Quantity("zero padding (top, bottom / left, right)", Tex(r"p_t, p_b \;/\; p_l, p_r"), padding),
        Quantity("dilation (rows, columns)", Tex("d_h, d_w"), _axes(spec.dilation)),  # type: ignore[arg-type]
        Quantity("groups", Tex("G"), Tex(str(spec.groups))),
        Quantity(f"bias: {bias[1]}", Tex(bias[0]), Tex(r"\text{" + spec.bias.replace("_", r"\_") + "}")),
        Quantity("output height × width", Tex(r"H' \times W'"), _tex_size(rows_out, cols_out)),
        Quantity("flattened input", Tex(r"d_x = C_1 H W"), Tex(str(spec.d_x))),
        Quantity("flattened output", Tex(r"d_y = C_2 H' W'"), Tex(str(spec.d_y))),
    )
    steps = []
    for out, n, k, s, d, before, after, names in zip(
        spec.output_size, spec.input_size, spec.kernel_size, spec.stride, spec.dilation,  # type: ignore[arg-type]
        spec.padding_before, spec.padding_after, (("H'", "H", "h", "s_h", "d_h", "p_t", "p_b"),
                                                  ("W'", "W", "w", "s_w", "d_w", "p_l", "p_r")),
    ):
        o, n_, k_, s_, d_, pb, pa = names
        steps.append(Tex(
            rf"{o} = \left\lfloor \frac{{{n_} + {pb} + {pa} - {d_}({k_}-1) - 1}}{{{s_}}} \right\rfloor + 1"
            rf" = \left\lfloor \frac{{{n} + {before} + {after} - {d}\cdot{k - 1} - 1}}{{{s}}} \right\rfloor + 1 = {out}"
        ))
    return SpecSection(spec.describe(), quantities, tuple(steps), _departures(spec))


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


def _expansion(spec: ConvSpec, i: int, position: tuple[int, int]) -> Expansion:
    """Output (i, j, k) (0-based) of the index sum, written out (note numbering)."""
    flat = position[0] * spec.output_size[1] + position[1]
    terms = direct_terms(spec, positions=np.array([flat]), channels=range(i, i + 1))
    keys = terms.keys[0, 0][np.broadcast_to(terms.valid[0, 0], terms.keys.shape[2:])].tolist()
    n_weights = math.prod(spec.weight_shape)
    weights, inputs = weight_array(spec).reshape(-1), input_array(spec).reshape(-1)
    products = [(_note_symbol(inputs[key // n_weights]), _note_symbol(weights[key % n_weights])) for key in keys]
    bias = [_note_symbol(bias_array(spec).reshape(-1)[b]) for b in terms.bias[0, 0].tolist()]
    shown = products if len(products) <= _MAX_SHOWN_TERMS else products[:_HEAD_TERMS] + [None] + products[-_TAIL_TERMS:]
    pieces = [latex(b) for b in bias] + [
        Tex(r"\cdots") if p is None else Tex(rf"{latex(p[0])}\,{latex(p[1])}") for p in shown
    ]
    if not pieces:
        pieces = [Tex("0")]
    lines = tuple(Tex(" + ".join(pieces[s : s + _TERMS_PER_LINE])) for s in range(0, len(pieces), _TERMS_PER_LINE))
    expr = sympy.Add(*bias, *(x * w for x, w in products)) if len(products) <= 4 * _MAX_SHOWN_TERMS else None
    return Expansion(
        output=latex(sympy.Symbol("y_" + ",".join(map(str, note_index((i, *position)))))),
        lines=lines,
        products=len(products),
        taps=spec.in_per_group * math.prod(spec.kernel_size),  # type: ignore[arg-type]
        shown=len(products) if len(products) <= _MAX_SHOWN_TERMS else _HEAD_TERMS + _TAIL_TERMS,
        expr=expr,
    )


def definition_section(spec: ConvSpec) -> DefinitionSection:
    """The index sum with this layer's sizes, and the first output written out.

    >>> d = definition_section(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> d.examples[0].expr
    b_1 + omega_1,1,0,0*x_1,1,1 + omega_1,1,0,1*x_1,1,2 + omega_1,1,1,0*x_1,2,1 + omega_1,1,1,1*x_1,2,2
    """
    i, j, k, l, m, n = sympy.symbols("i j k l m n", integer=True)
    # 1-based input row/column read by output (j, k) at kernel offset (m, n): (j−1)s − p + m·d + 1
    row = (j - 1) * spec.stride[0] - spec.padding_before[0] + m * spec.dilation[0] + 1  # type: ignore[index]
    col = (k - 1) * spec.stride[1] - spec.padding_before[1] + n * spec.dilation[1] + 1  # type: ignore[index]
    channel = Tex("l") if spec.groups == 1 else Tex(r"\gamma_i + l")
    bias = {"shared": "b_{i} + ", "per_location": "b_{i,j,k} + ", "none": ""}[spec.bias]
    kh, kw = spec.kernel_size  # type: ignore[misc]
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
    examples = [_expansion(spec, 0, (0, 0))]
    if examples[0].products < examples[0].taps:  # the corner meets the padding: show the centre too
        centre = (rows_out // 2, cols_out // 2)
        if centre != (0, 0):
            examples.append(_expansion(spec, 0, centre))
    return DefinitionSection(formula, ranges, groups_note, padding_note, tuple(examples))


# ----------------------------------------------------------------------------- 𝒲 and its blocks
@dataclass(frozen=True)
class NamedMatrix:
    """A block typeset: its name (note numbering), the symconv call (0-based), its size, the matrix."""

    name: Tex
    call: str
    rows: int
    cols: int
    matrix: sympy.MatrixBase  # note numbering; rows/columns elided with ⋯ when large
    elided: bool


@dataclass(frozen=True)
class BlockRow:
    """𝒲_{j,k,l} or 𝒲_{j,k} in the note's block notation: (piece | piece | …)."""

    name: Tex
    call: str
    rows: int
    cols: int
    pieces: tuple[Tex, ...]
    explicit: NamedMatrix | None


@dataclass(frozen=True)
class BlocksSection:
    """𝒲's construction for one output position: B blocks, 𝒲_{j,k,l}, 𝒲_{j,k}, b_{j,k}, maybe 𝒲."""

    position: Tex  # (j, k) in the note's numbering
    subscript: Tex  # "j,k" in the note's numbering
    position0: tuple[int, int]  # the same, 0-based
    B: tuple[NamedMatrix, ...]
    B_total: int
    B_per_line: int
    W_jkl: tuple[BlockRow, ...]
    W_jkl_total: int
    W_jk: BlockRow
    b_jk: sympy.MatrixBase | None
    W: NamedMatrix | None
    height: int
    width: int
    out_channels: int


#: Largest blocks typeset entry by entry; larger ones are elided to their corners.
MAX_ROWS, MAX_COLS = 6, 12
#: Largest 𝒲_{j,k,l}, 𝒲_{j,k} and 𝒲 typeset entry by entry (wider ones stay in block notation).
MAX_EXPLICIT_COLS, MAX_EXPLICIT_ROWS = 18, 24
_MAX_B_SHOWN = 6
_MAX_W_JKL_SHOWN = 3
_B_PAIR_MAX_WIDTH = 8  # blocks B up to this many columns are typeset two to a line


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


def _named(name: str, call: str, m: sympy.MatrixBase) -> NamedMatrix:
    shown, elided = elide(to_note(m))
    return NamedMatrix(Tex(name), call, m.rows, m.cols, shown, elided)


def _zero(rows: int, cols: int) -> Tex:
    return Tex(rf"O_{{{rows}\times {cols}}}")


def blocks_section(spec: ConvSpec, position: tuple[int, int] = (0, 0)) -> BlocksSection:
    """The note's blocks of 𝒲 for the output position ``position`` (0-based (j, k)).

    >>> s = blocks_section(ConvSpec(1, 2, input_size=3, kernel_size=2))
    >>> [str(p) for p in s.W_jkl[0].pieces]
    ['B_{1,0,1}', 'B_{1,1,1}', 'O_{2\\\\times 3}']
    """
    rows_out, cols_out = spec.output_size
    j, k = position
    if not (0 <= j < rows_out and 0 <= k < cols_out):
        raise SpecError(f"position must be within 0..{rows_out - 1} x 0..{cols_out - 1} (0-based), got {position!r}")
    b = blocks(spec)
    c2, (height, width) = spec.out_channels, spec.input_size  # type: ignore[misc]
    j1, k1 = j + 1, k + 1

    all_B: list[NamedMatrix] = []
    rows_jkl: list[BlockRow] = []
    # input row r of 𝒲_{j,k,l} holds B_{l,m,k} when r = j·s − p + m·d (the core's placement), else O
    kernel_row = {r: m for m, r in kernel_rows(spec, j)}
    for l in range(spec.in_channels):
        pieces: list[Tex] = []
        zeros = 0
        for r in range(height):
            if r not in kernel_row:
                zeros += 1
                continue
            if zeros:  # consecutive zero row-blocks merge into one O, as the note writes them
                pieces.append(_zero(c2, zeros * width))
                zeros = 0
            name = Tex(f"B_{{{l + 1},{kernel_row[r]},{k1}}}")
            pieces.append(name)
            all_B.append(_named(name, f"blocks(spec).B({l}, {kernel_row[r]}, {k})", b.B(l, kernel_row[r], k)))
        if zeros:
            pieces.append(_zero(c2, zeros * width))
        # the whole block only when it is printed: at ImageNet sizes it has millions of (zero) entries
        explicit = None
        if height * width <= MAX_EXPLICIT_COLS:
            explicit = _named(rf"\mathcal{{W}}_{{{j1},{k1},{l + 1}}}", "", b.W(j, k, l))
        rows_jkl.append(BlockRow(
            Tex(rf"\mathcal{{W}}_{{{j1},{k1},{l + 1}}}"), f"blocks(spec).W({j}, {k}, {l})", c2, height * width,
            tuple(pieces), explicit,
        ))
    W_jk_row = BlockRow(
        Tex(rf"\mathcal{{W}}_{{{j1},{k1}}}"), f"blocks(spec).W({j}, {k})", c2, spec.d_x,
        tuple(r.name for r in rows_jkl) if spec.in_channels <= 4
        else (rows_jkl[0].name, rows_jkl[1].name, Tex(r"\cdots"), rows_jkl[-1].name),
        _named(rf"\mathcal{{W}}_{{{j1},{k1}}}", "", b.W(j, k)) if spec.d_x <= MAX_EXPLICIT_COLS and spec.in_channels > 1
        else None,
    )
    # b_{j,k}: the C₂ entries of b that output position (j, k) adds
    b_jk = None
    if spec.bias != "none":
        entries = bias_array(spec) if spec.bias == "shared" else bias_array(spec)[:, j, k]
        b_jk = elide(to_note(sympy.Matrix(list(entries))))[0]
    W = None
    if spec.d_x <= MAX_EXPLICIT_COLS and spec.d_y <= MAX_EXPLICIT_ROWS:
        W = NamedMatrix(Tex(r"\mathcal{W}"), 'matrix(spec, order="seed")', spec.d_y, spec.d_x,
                        to_note(sympy.Matrix(matrix(spec, order="seed"))), False)
    shown_B = all_B if len(all_B) <= _MAX_B_SHOWN else all_B[: _MAX_B_SHOWN - 1] + all_B[-1:]
    shown_rows = rows_jkl if len(rows_jkl) <= _MAX_W_JKL_SHOWN else rows_jkl[: _MAX_W_JKL_SHOWN - 1] + rows_jkl[-1:]
    return BlocksSection(
        position=Tex(f"({j1}, {k1})"), subscript=Tex(f"{j1},{k1}"), position0=(j, k), B=tuple(shown_B), B_total=len(all_B),
        B_per_line=2 if width <= _B_PAIR_MAX_WIDTH else 1,
        W_jkl=tuple(shown_rows), W_jkl_total=len(rows_jkl), W_jk=W_jk_row, b_jk=b_jk, W=W,
        height=height, width=width, out_channels=c2,
    )


# ----------------------------------------------------------------------------- the proof
@dataclass(frozen=True)
class ProofRun:
    """One engine's verdict, ready to print."""

    method: str
    holds: bool
    terms: int
    mismatched_rows: int
    seconds: str | None  # None unless timings were asked for (they break byte-identical output)


@dataclass(frozen=True)
class MismatchView:
    """The first output where two sides differ (note numbering), with a few of the differing terms."""

    output: Tex
    missing: tuple[sympy.Expr, ...]
    missing_total: int
    extra: tuple[sympy.Expr, ...]
    extra_total: int


@dataclass(frozen=True)
class ProofSection:
    """conv(x) = 𝒲x + b for symconv's 𝒲 (one or two engines) and, in the note's setting, for the note's 𝒲 as written."""

    runs: tuple[ProofRun, ...]
    holds: bool
    d_y: int
    order: str
    mismatch: MismatchView | None
    as_written: ProofRun | None  # the note's literal block formulas, checked by the index engine
    as_written_mismatch: MismatchView | None
    as_written_skipped: bool  # the note's setting, but too large for the literal check (see the audit report)
    as_written_limit: int


#: Both engines run when the SymPy one takes well under a second.
BOTH_ENGINES_TERMS = 20_000
_MAX_TERMS_LISTED = 6
#: The note's literal 𝒲 is a SymPy sparse matrix: checked up to this many terms.
MAX_AS_WRITTEN_TERMS = 20_000


def _run(v: Verdict, timings: bool) -> ProofRun:
    return ProofRun(v.method, v.holds, v.terms, v.mismatched_rows, f"{v.seconds:.3f}" if timings else None)


def mismatch_view(v: Verdict) -> MismatchView | None:
    """The verdict's first mismatch, renamed to the note's numbering; None when it holds."""
    if v.mismatch is None:
        return None
    missing, extra = v.mismatch.missing, v.mismatch.extra
    return MismatchView(
        output=latex(sympy.Symbol("y_" + ",".join(map(str, note_index(v.mismatch.output))))),
        missing=tuple(to_note(t) for t in missing[:_MAX_TERMS_LISTED]),
        missing_total=len(missing),
        extra=tuple(to_note(t) for t in extra[:_MAX_TERMS_LISTED]),
        extra_total=len(extra),
    )


def _in_note_setting(spec: ConvSpec) -> bool:
    return not _departures(spec)


def proof_section(spec: ConvSpec, timings: bool = False) -> ProofSection:
    """Prove conv(x) = 𝒲x + b for ``spec`` (seed row order): both engines when small, else "index".

    In the note's own setting, also check the note's block formulas read literally.

    >>> p = proof_section(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> p.holds, [r.method for r in p.runs], p.as_written.holds
    (True, ['sympy', 'index'], False)
    """
    small = spec.n_terms + spec.n_bias_terms <= BOTH_ENGINES_TERMS
    verdicts = tuple(verify(spec, method=method, order="seed") for method in (("sympy", "index") if small else ("index",)))
    failed = next((v for v in verdicts if not v.holds), None)
    as_written = None
    skipped = _in_note_setting(spec) and spec.n_terms > MAX_AS_WRITTEN_TERMS
    if _in_note_setting(spec) and not skipped:
        as_written = verify(spec, method="index", matrix=matrix_as_written(spec), order="seed")
    return ProofSection(
        runs=tuple(_run(v, timings) for v in verdicts),
        holds=failed is None,
        d_y=spec.d_y,
        order=verdicts[0].order,
        mismatch=None if failed is None else mismatch_view(failed),
        as_written=None if as_written is None else _run(as_written, timings),
        as_written_mismatch=None if as_written is None else mismatch_view(as_written),
        as_written_skipped=skipped,
        as_written_limit=MAX_AS_WRITTEN_TERMS,
    )


# ----------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class CountRow:
    """One count: its title, the derived closed form, the note's setting of it, and its value here."""

    name: str
    title: str
    closed: sympy.Basic | None  # None: no closed form, SymPy evaluates the sum for concrete sizes
    note: sympy.Basic | None  # the closed form in the note's setting (stride 1, padding 0, …)
    value: sympy.Basic


@dataclass(frozen=True)
class Derivation:
    """A derived formula's steps (the sum, then the closed form) and its value for this layer."""

    name: str
    title: str
    setting: str
    steps: tuple[tuple[str, sympy.Basic], ...]
    value: sympy.Basic


@dataclass(frozen=True)
class RatioRow:
    """A conv/FC ratio as a SymPy expression in its setting, and its limit as H, W → ∞."""

    title: str
    setting: str
    expr: sympy.Basic
    limit: sympy.Basic


@dataclass(frozen=True)
class CountsSection:
    """Sizes, parameters, sparsity and cost of the layer from :mod:`symconv.closed.counts`, with derivations."""

    rows: tuple[CountRow, ...]
    derivations: tuple[Derivation, ...]
    ratios: tuple[RatioRow, ...]
    bias: str


def counts_section(spec: ConvSpec) -> CountsSection:
    """The derived counts of ``spec`` (:func:`symconv.closed.counts.counts`) and how they were derived.

    >>> c = counts_section(ConvSpec(2, 3, input_size=5, kernel_size=3))
    >>> {r.name: int(r.value) for r in c.rows}["params_conv_shared"]
    57
    """
    from ..closed.counts import counts, formula, note_setting, ratios  # issue 3's module, read only

    found = counts(spec)
    bias = "params_conv_" + spec.bias
    names = ["d_x", "d_y", "params_weights"]
    if spec.bias != "none":
        names.append("params_bias_" + spec.bias)
    names += [bias, "params_fc", "params_local", found.nnz_formula, "density" + found.nnz_formula[3:], "macs_dense"]
    rows = []
    for name in names:
        f = formula(name)
        closed = None if f.expr.has(sympy.Sum) else f.expr
        rows.append(CountRow(name, f.title, closed, None if closed is None else note_setting(closed), f.at(spec)))
    derivations = []
    for name in ("output_height", "params_weights", bias, "params_fc", found.nnz_formula):
        f = formula(name)
        derivations.append(Derivation(name, f.title, f.setting, tuple((s.label, s.expr) for s in f.steps), f.at(spec)))
    ratio_rows = tuple(RatioRow(r.title, r.setting, r.expr, r.limit) for r in ratios().values())
    return CountsSection(tuple(rows), tuple(derivations), ratio_rows, spec.bias)


# ----------------------------------------------------------------------------- receptive fields
@dataclass(frozen=True)
class AxisBox:
    """The box an output reads along one axis: first and last input index (unclipped), centre, size."""

    axis: str
    start: int
    end: int
    centre: Tex
    size: int
    clipped: bool


def _boxes(region: Any, input_size: tuple[int, ...], shift: int) -> tuple[AxisBox, ...]:
    names = ("rows", "columns")
    return tuple(
        AxisBox(names[a], ax.start + shift, ax.end + shift, Tex(f"{ax.centre + shift:g}"), ax.size,
                ax.start < 0 or ax.end > input_size[a] - 1)
        for a, ax in enumerate(region.axes)
    )


@dataclass(frozen=True)
class ReceptiveSection:
    """One layer's receptive field at one output position, and the note's statement about it, checked."""

    output: Tex  # (j, k) in the note's numbering
    subscript: Tex  # "j,k" in the note's numbering
    boxes: tuple[AxisBox, ...]  # note numbering (1-based input rows/columns)
    cells: int  # input positions read, per input channel of the group
    channels: int  # input channels each output channel reads (C₁/G)
    agree: bool
    rows_checked: int
    disagreement: str | None
    figure: ReceptiveFigure


def receptive_section(spec: ConvSpec, position: tuple[int, int] = (0, 0)) -> ReceptiveSection:
    """The region output (j, k) reads, and the note's claim "the receptive field is the non-zero columns of 𝒲_{j,k}".

    The claim is checked row by row: the nonzero columns of row i of 𝒲_{j,k} (the note's blocks,
    :func:`symconv.forms.blocks.block_terms`) against :func:`symconv.receptive.field.conv_inputs` (i, j, k).

    >>> r = receptive_section(ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1))
    >>> r.cells, r.agree, r.rows_checked
    (4, True, 3)
    """
    from ..receptive.field import conv_inputs, receptive_field  # issue 3's module, read only

    rf = receptive_field([spec])
    region = rf.region(position)
    flat = position[0] * spec.output_size[1] + position[1]
    terms = block_terms(spec, np.array([flat]))
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    n_weights = math.prod(spec.weight_shape)
    disagreement = None
    for i in range(spec.out_channels):
        from_blocks = np.zeros(spec.d_x, dtype=bool)
        from_blocks[terms.keys[0, i][valid[0, i]] // n_weights] = True
        expected = conv_inputs(spec, (i, *position)).reshape(-1)
        if not np.array_equal(from_blocks, expected):
            extra = np.flatnonzero(from_blocks & ~expected)
            missing = np.flatnonzero(expected & ~from_blocks)
            disagreement = f"row {i} of 𝒲_(j,k): {len(extra)} columns outside the receptive field, {len(missing)} missing"
            break
    return ReceptiveSection(
        output=Tex(f"({position[0] + 1}, {position[1] + 1})"),
        subscript=Tex(f"{position[0] + 1},{position[1] + 1}"),
        boxes=_boxes(region, spec.input_size, shift=1),  # type: ignore[arg-type]
        cells=int(region.mask.sum()),
        channels=spec.in_per_group,
        agree=disagreement is None,
        rows_checked=spec.out_channels,
        disagreement=disagreement,
        figure=receptive_figure(rf, position),
    )


@dataclass(frozen=True)
class StackRow:
    """One feature map of a stack: the layer that made it and the field from the input up to it."""

    name: str
    layer: str
    size: str
    stride: str
    padding: str
    map_size: str


@dataclass(frozen=True)
class StackSection:
    """The receptive field of a stack of layers, layer by layer, with its derivation and its checks."""

    rows: tuple[StackRow, ...]
    size: str
    stride: str
    padding: str
    input_size: str
    output_size: str
    index: str  # 0-based output position
    boxes: tuple[AxisBox, ...]  # 0-based
    cells: int
    interior: bool
    figure: ReceptiveFigure
    # (x, its recurrence, x₀, the general closed form, the closed form for n identical layers)
    recurrences: tuple[tuple[str, sympy.Basic, sympy.Basic, sympy.Basic, sympy.Basic], ...]
    start: sympy.Basic
    end: sympy.Basic
    proofs: tuple[tuple[str, str, bool], ...]
    check_holds: bool
    check_outputs: int
    check_interior: int
    check_nnz: int
    check_mismatch: str | None
    check_undetermined: str  # what the product cannot pin ("" when everything claimed was pinned)
    effective: tuple[tuple[str, Tex, Tex, int, str, str], ...]  # (axis, mean, variance, size r, std / r, uniform's std / r)
    effective_centred: bool  # the mean is the centre of the box, (r − 1)/2, on every axis
    effective_note: str | None
    misaligned: tuple[str, ...]
    paths: int


def _x(values: tuple[int, ...] | None) -> str:
    return "?" if values is None else "×".join(map(str, values))


def stack_section(layers: list[Any], input_size: tuple[int, int], index: tuple[int, int] | None = None) -> StackSection:
    """The receptive field of ``layers`` on an input of ``input_size``, for output ``index`` (default: the centre).

    >>> from symconv.receptive.layers import parse_layer
    >>> s = stack_section([parse_layer("conv:k=3"), parse_layer("conv:k=3,s=2")], (9, 9))
    >>> s.size, s.stride, s.check_holds
    ('5×5', '2×2', True)
    """
    from ..receptive.check import check_receptive_field
    from ..receptive.field import effective_receptive_field, receptive_field  # issue 3's modules, read only
    from ..receptive.forms import receptive_forms

    rf = receptive_field(layers, input_size=input_size)
    if index is None:
        index = tuple(n // 2 for n in rf.output_size)  # type: ignore[assignment]
    region = rf.region(index)
    rows = tuple(
        StackRow(lf.name, "" if lf.layer is None else lf.layer.describe() if lf.merge is None else lf.merge,
                 _x(lf.size), _x(lf.stride), _x(lf.padding), _x(lf.map_size))
        for lf in rf.layers
    )
    forms = receptive_forms()
    recurrences = tuple((d.name, d.recurrence, d.initial, d.closed, d.identical) for d in (forms.r, forms.S, forms.P))
    check = check_receptive_field(rf)
    effective: tuple[tuple[str, Tex, Tex, int, str, str], ...] = ()
    effective_note, centred = None, False
    try:
        erf = effective_receptive_field(layers)
        effective = tuple(
            (("rows", "columns")[a], latex(sympy.Rational(ax.mean.numerator, ax.mean.denominator)),
             latex(sympy.Rational(ax.variance.numerator, ax.variance.denominator)), ax.size, f"{ax.std_over_size:.3f}",
             f"{math.sqrt((ax.size**2 - 1) / 12) / ax.size:.3f}")  # a uniform spread over the r positions
            for a, ax in enumerate(erf.axes)
        )
        centred = all(2 * ax.mean == ax.size - 1 for ax in erf.axes)
    except SpecError as exc:  # max pooling or branches: no uniform-weight distribution
        effective_note = str(exc)
    return StackSection(
        rows=rows, size=_x(rf.size), stride=_x(rf.stride), padding=_x(rf.padding),
        input_size=_x(rf.input_size), output_size=_x(rf.output_size), index=f"({', '.join(map(str, index))})",
        boxes=_boxes(region, rf.input_size, shift=0), cells=int(region.mask.sum()), interior=bool(region.interior),
        figure=receptive_figure(rf, index), recurrences=recurrences, start=forms.start, end=forms.end,
        proofs=tuple((p.statement, p.method, p.holds) for p in forms.proofs),
        check_holds=check.holds, check_outputs=check.outputs, check_interior=check.interior_outputs, check_nnz=check.nnz,
        check_mismatch=check.mismatch, check_undetermined="; ".join(check.undetermined),
        effective=effective, effective_centred=centred, effective_note=effective_note,
        misaligned=tuple(m.describe() for m in rf.misaligned), paths=sum(p.count for p in rf.paths),
    )


# ----------------------------------------------------------------------------- the audit
@dataclass(frozen=True)
class ClaimView:
    """One claim of the note with its computed verdict, evidence and correction, ready to print.

    ``as_written``, ``symbolic`` and ``correction`` are LaTeX math written by :mod:`symconv.claims.audit`;
    the other texts are words (with ``$…$`` math, if any), escaped by the template's ``prose`` filter.
    """

    id: str
    topic: str
    as_written: Tex
    holds: bool
    precise: str | None
    summary: str
    checked: int
    grid: str
    symbolic: Tex | None
    counterexample: Tex | None  # the sizes, as math
    counterexample_detail: str | None
    cross_checks: tuple[str, ...]
    correction: Tex | None
    correction_holds: bool | None
    correction_summary: str | None
    remarks: tuple[str, ...]


@dataclass(frozen=True)
class AuditSection:
    """The audit of the note: every claim as written, holds or fails, with evidence and corrections."""

    claims: tuple[ClaimView, ...]
    failing: int
    grid_size: int
    torch: bool


_SIZE_TEX = {"C1": "C_1", "C2": "C_2"}


def _sizes(sizes: tuple[tuple[str, int], ...]) -> Tex:
    return Tex(r",\ ".join(f"{_SIZE_TEX.get(name, name)} = {value}" for name, value in sizes))


def audit_section(result: Any) -> AuditSection:
    """An :class:`symconv.claims.audit.Audit` shaped for the template.

    >>> from symconv.claims.audit import audit
    >>> a = audit_section(audit(torch=False, max_size=2))
    >>> a.claims[0].id, a.failing == sum(not c.holds for c in a.claims)
    ('conv-codomain', True)
    """
    claims = []
    for c in result.claims:
        cex, correction = c.evidence.counterexample, c.correction
        claims.append(ClaimView(
            id=c.id, topic=c.topic, as_written=Tex(c.as_written), holds=c.holds, precise=c.precise,
            summary=c.evidence.summary, checked=c.evidence.checked, grid=c.evidence.grid,
            symbolic=None if c.evidence.symbolic is None else Tex(c.evidence.symbolic),
            counterexample=None if cex is None else _sizes(cex.sizes),
            counterexample_detail=None if cex is None else cex.detail,
            cross_checks=c.evidence.cross_checks,
            correction=None if correction is None else Tex(correction.statement),
            correction_holds=None if correction is None else correction.holds,
            correction_summary=None if correction is None else correction.evidence.summary,
            remarks=c.remarks,
        ))
    return AuditSection(tuple(claims), len(result.failing), result.grid_size, result.torch)


# ----------------------------------------------------------------------------- footer
@dataclass(frozen=True)
class Footer:
    """What reproduces the document: versions and the command."""

    symconv_version: str
    sympy_version: str
    command: str | None


def footer(command: str | None) -> Footer:
    """Versions of symconv and SymPy, and the command that made the report.

    >>> footer("symconv report --audit -o a.tex").sympy_version == sympy.__version__
    True
    """
    return Footer(__version__, sympy.__version__, command)
