"""The note's claims about the matrix form conv(x) = 𝒲x + b: sizes, the shapes of 𝒲 and its blocks, the zero blocks,
the order of x and b, and the block construction itself."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ..closed.counts import formula, note_setting
from ..core.spec import ConvSpec
from ..core.symbols import C1, C2, input_symbols, note_index, size_symbols, weight_symbols
from ..forms.blocks import blocks
from ..prove.verdict import Verdict
from ..prove.verify import verify
from . import note
from .common import (
    Context,
    at,
    built_direct,
    built_matrix,
    entries,
    grid_claim,
    grid_text,
    identity,
    nonzero_pattern,
    note_tex,
    per_location,
    shape_tex,
    simple_claim,
    sum_tex,
)
from .note import (
    bias_as_written,
    matrix_from_blocks,
    pattern_from_block_widths,
    x_entries_as_written,
)
from .types import Claim, Correction, Evidence, note_specs

# the note's size symbols, one family per axis from the core: (H, h, …) and (W, w, …)
(H, h, *_), (W, w, *_) = size_symbols(2)
# The note's formulas and its 𝒲 as written are read as ``note.NAME`` when a check runs: one place says what the note
# writes (and a test can change it there).

__all__ = ["b_jk", "b_shape", "block_construction", "dims", "w_shape", "wjk_shape", "wjkl_shape", "x_order", "zero_blocks"]


def dims(ctx: Context) -> Claim:
    """d_x = C₁×H×W, d_y = C₂×(H−h+1)×(W−w+1)."""
    d_x, d_y = C1 * H * W, C2 * (H - h + 1) * (W - w + 1)

    def check(spec: ConvSpec) -> str | None:
        n_x, n_y = len(entries(input_symbols(spec))), len(entries(built_direct(spec)))
        if (n_x, n_y) != (at(d_x, spec), at(d_y, spec)):
            return f"$x$ has {n_x} entries and $y$ {n_y}; the note says $d_x = {at(d_x, spec)}$, $d_y = {at(d_y, spec)}$"
        return None

    return simple_claim(
        ctx, "d_x-d_y", "the flattened sizes of x and y",
        r"d_x=C_1\times H\times W,\quad d_y=C_2\times (H-h+1) \times (W-w+1)", check,
        "the derived counts of entries of $x$ and $y$ (Sum over the index ranges) and the entries of the built $x$, $y$",
        (identity(formula("d_x").expr, d_x), identity(note_setting(formula("d_y").expr), d_y)),
        rf"d_x = {sympy.latex(formula('d_x').steps[0].expr)} = {sympy.latex(d_x)},\quad "
        rf"d_y = {sympy.latex(note_setting(formula('d_y').steps[0].expr))} = {sympy.latex(d_y)}",
    )


def w_shape(ctx: Context) -> Claim:
    """𝒲 = (𝒲_{1,1}; 𝒲_{1,2}; …; 𝒲_{H−h+1,W−w+1}) is d_y × d_x."""

    def check(spec: ConvSpec) -> str | None:
        d_x, d_y = at(C1 * H * W, spec), at(C2 * (H - h + 1) * (W - w + 1), spec)
        stacked = at(C2, spec) * at(H - h + 1, spec) * at(W - w + 1, spec)  # C₂ rows per (j, k), j ≤ H−h+1, k ≤ W−w+1
        for name, m in ((r"the built $\mathcal{W}$", built_matrix(spec, "seed")),
                        (r"the note's $\mathcal{W}$ as written", note.matrix_as_written(spec))):
            if m.shape != (d_y, d_x):
                return rf"{name} is {shape_tex(m.shape)}, the note says $d_y \times d_x = {d_y} \times {d_x}$"
        if stacked != d_y:
            return rf"stacking the $\mathcal{{W}}_{{j,k}}$ gives {stacked} rows, not $d_y = {d_y}$"
        return None

    return simple_claim(
        ctx, "W-shape", "the shape of 𝒲",
        r"\mathcal{W} :=\begin{pmatrix}\mathcal{W}_{1,1}\\ \mathcal{W}_{1,2}\\ \vdots\\ \mathcal{W}_{H-h+1,W-w+1}"
        r"\end{pmatrix}_{d_y\times d_x}", check,
        r"the shape of $\mathcal{W}$ built by symconv and of the note's $\mathcal{W}$ as written; rows from stacking the "
        r"$\mathcal{W}_{j,k}$",
        precise=r"$(j, k) \in \mathbb{Z}^{H-h+1} \times \mathbb{Z}^{W-w+1}$ read as $j \in \{1, \dots, H-h+1\}$, "
                r"$k \in \{1, \dots, W-w+1\}$",
    )


def wjk_shape(ctx: Context) -> Claim:
    """𝒲_{j,k} = (𝒲_{j,k,1} | … | 𝒲_{j,k,C₁}) is C₂ × C₁HW; conv_{j,k}: ℝ^{d_x} → ℝ^{C₂}."""
    l = sympy.Symbol("l", integer=True, positive=True)

    def check(spec: ConvSpec) -> str | None:
        b = blocks(spec)
        want = (at(C2, spec), at(C1 * H * W, spec))
        for j, k in np.ndindex(*spec.output_size):
            if b.W(j, k).shape != want:
                return rf"$\mathcal{{W}}_{{{j + 1},{k + 1}}}$ is {shape_tex(b.W(j, k).shape)}, the note says {shape_tex(want)}"
        return None

    return simple_claim(
        ctx, "Wjk-shape", "the shape of a row block of 𝒲 (one output position)",
        r"\mathcal{W}_{j,k}:=\begin{pmatrix}\mathcal{W}_{j,k,1}|\mathcal{W}_{j,k,2}|\dots|\mathcal{W}_{j,k,C_1}"
        r"\end{pmatrix}_{C_2\times C_1HW}", check,
        "$C_1$ blocks of width $HW$ side by side (SymPy sum); the blocks symconv builds",
        (identity(sympy.Sum(H * W, (l, 1, C1)).doit(), C1 * H * W),), rf"\sum_{{l=1}}^{{C_1}} HW = {sympy.latex(C1 * H * W)}",
    )


def wjkl_shape(ctx: Context) -> Claim:
    """𝒲_{j,k,l} = (O_{C₂×(j−1)W} | B_{l,j,k} | … | B_{l,j+h−1,k} | O_{C₂×(H−h−j+1)W}) is C₂ × HW."""
    j = sympy.Symbol("j", integer=True, positive=True)
    widths = ((j - 1) * W, h * W, (H - h - j + 1) * W)

    def check(spec: ConvSpec) -> str | None:
        b = blocks(spec)
        want = (at(C2, spec), at(H * W, spec))
        for jj in range(1, at(H - h + 1, spec) + 1):
            parts = [at(e.xreplace({j: sympy.Integer(jj)}), spec) for e in widths]
            if min(parts) < 0 or sum(parts) != want[1]:
                return f"at $j = {jj}$ the widths as written are {parts}"
        for jj, kk in np.ndindex(*spec.output_size):
            for ll in range(spec.in_channels):
                if b.W(jj, kk, ll).shape != want:
                    return (rf"$\mathcal{{W}}_{{{jj + 1},{kk + 1},{ll + 1}}}$ is {shape_tex(b.W(jj, kk, ll).shape)}, "
                            f"the note says {shape_tex(want)}")
        return None

    return simple_claim(
        ctx, "Wjkl-shape", "the shape of a channel block of 𝒲",
        r"\mathcal{W}_{j,k,l}:=\begin{pmatrix}O_{C_2\times (j-1) W}|B_{l,j,k}|\dots|B_{l,j+h-1,k}|"
        r"O_{C_2\times (H-h-j+1)W}\end{pmatrix}_{C_2\times HW}", check,
        r"the widths as written summed by SymPy for all $j$, and checked $\ge 0$ with sum $HW$ for $1 \le j \le H-h+1$; "
        "the shapes of the blocks symconv builds", (identity(sympy.Add(*widths, evaluate=False), H * W),),
    )


def b_shape(ctx: Context) -> Claim:
    """B_{l,j,k} = (0…0 (k−1) | ω_{·,l,j,0} … ω_{·,l,j,w−1} | 0…0 (W−w−k+1)) is C₂ × W."""
    k = sympy.Symbol("k", integer=True, positive=True)
    widths = (k - 1, w, W - w - k + 1)

    def check(spec: ConvSpec) -> str | None:
        b = blocks(spec)
        want = (at(C2, spec), at(W, spec))
        for kk in range(1, at(W - w + 1, spec) + 1):
            parts = [at(e.xreplace({k: sympy.Integer(kk)}), spec) for e in widths]
            if min(parts) < 0 or sum(parts) != want[1]:
                return f"at $k = {kk}$ the widths as written are {parts}"
            for ll in range(spec.in_channels):
                for mm in range(at(h, spec)):
                    if b.B(ll, mm, kk - 1).shape != want:
                        return f"$B$ is {shape_tex(b.B(ll, mm, kk - 1).shape)}, the note says {shape_tex(want)}"
        return None

    return simple_claim(
        ctx, "B-shape", "the shape of the blocks B",
        r"B_{l,j,k}=\begin{pmatrix}\underbrace{0 \dots 0}_{k-1} & \omega_{i,l,j,0} & \dots & \omega_{i,l,j,w-1} & "
        r"\underbrace{0 \dots 0}_{W-w-k+1}\end{pmatrix}_{C_2\times W}", check,
        r"the widths as written summed by SymPy for all $k$, and checked $\ge 0$ with sum $W$ for $1 \le k \le W-w+1$; "
        "the shapes of the blocks symconv builds", (identity(sympy.Add(*widths, evaluate=False), W),),
    )


def zero_blocks(ctx: Context) -> Claim:
    """The zero blocks (j−1)W, (H−h−j+1)W, k−1, W−w−k+1 sit where 𝒲 is zero."""

    def check(spec: ConvSpec) -> str | None:
        layout = pattern_from_block_widths(spec)
        for name, m in ((r"the built $\mathcal{W}$", built_matrix(spec, "seed")),
                        (r"the note's $\mathcal{W}$ as written", note.matrix_as_written(spec))):
            actual = nonzero_pattern(m)
            if not np.array_equal(layout, actual):
                r, c = np.argwhere(layout != actual)[0]
                return (f"row {r + 1}, column {c + 1}: the widths leave {'an entry' if layout[r, c] else 'zero'}, "
                        f"{name} has the opposite")
        return None

    return simple_claim(
        ctx, "zero-blocks", "the widths of the zero blocks",
        r"O_{C_2\times (j-1) W},\ O_{C_2\times (H-h-j+1)W},\ \underbrace{0 \dots 0}_{k-1},\ \underbrace{0 \dots 0}_{W-w-k+1}",
        check, r"the zero/nonzero layout the widths give, entry by entry, against the nonzero pattern of the built "
               r"$\mathcal{W}$ and of the note's $\mathcal{W}$ as written",
    )


def x_order(ctx: Context) -> Claim:
    """x = (x_{1,1,1}, x_{1,1,2}, …, x_{1,1,W}, x_{1,2,1}, …, x_{C₁,H,W})."""

    def check(spec: ConvSpec) -> str | None:
        columns = np.asarray(input_symbols(spec)).reshape(-1)  # the columns of the built 𝒲
        for pos, (l, r, c) in x_entries_as_written(spec):
            want = sympy.Symbol(f"x_{l - 1},{r - 1},{c - 1}")
            if columns[pos] != want:
                return (f"the note shows $x_{{{l},{r},{c}}}$ at position {pos + 1}, column {pos + 1} of "
                        rf"$\mathcal{{W}}$ multiplies {note_tex(columns[pos])}")
        return None

    return simple_claim(
        ctx, "x-order", "the order of the entries of x",
        r"x = (x_{1,1,1}, x_{1,1,2}, \dots, x_{1,1,W}, x_{1,2,1}, x_{1,2,2}, \dots, x_{C_1,H,W})^T", check,
        r"the entries the note shows, at their positions, against the column order of the built $\mathcal{W}$ "
        "(x.reshape(-1), C order as in NumPy/PyTorch)",
    )


def b_jk(ctx: Context) -> Claim:
    """b_{j,k} = (b_{1,j,k}, b_{2,j,k}, …, x_{C₂,j,k})."""
    specs = note_specs(channels=(1, 2), out_channels=(3, 4), max_size=2)

    def check_with(last: str) -> Callable[[ConvSpec], str | None]:
        def check(spec: ConvSpec) -> str | None:
            spec = per_location(spec)
            verdict = verify(spec, matrix=built_matrix(spec, "seed"), bias=bias_as_written(spec, last=last), order="seed")
            if not verdict.holds:
                mismatch = verdict.mismatch
                assert mismatch is not None
                missing = ", ".join(map(note_tex, mismatch.missing)) or "nothing"
                extra = ", ".join(map(note_tex, mismatch.extra)) or "nothing"
                return (rf"with the built $\mathcal{{W}}$, output $y_{{{','.join(map(str, note_index(mismatch.output)))}}}$ "
                        f"misses {missing} and has {extra} instead ({verdict.mismatched_rows} of {spec.d_y} outputs differ)")
            return None
        return check

    checked, cex = grid_claim(ctx, check_with("x"), specs)
    c_checked, c_cex = grid_claim(ctx, check_with("b"), specs)
    return Claim(
        "b_jk-entries", "the entries of a block of b (one output position)",
        r"b_{j,k}=\begin{pmatrix}b_{1,j,k}\\ b_{2,j,k}\\ \vdots\\ x_{C_2,j,k}\end{pmatrix}",
        cex is None,
        Evidence(r"$\text{conv}(x) = \mathcal{W}x + b$ proved or refuted (symconv.verify) with the built $\mathcal{W}$ and "
                 r"$b$ stacked from the $b_{j,k}$ as written", checked, grid_text(ctx, specs), None, cex),
        Correction(
            r"b_{j,k}=\begin{pmatrix}b_{1,j,k}& b_{2,j,k}& \dots& b_{C_2,j,k}\end{pmatrix}^T",
            c_cex is None,
            Evidence(r"symconv.verify with the built $\mathcal{W}$ and the corrected $b$", c_checked, grid_text(ctx, specs), None,
                     c_cex),
        ),
        precise=r"the list is read as entries $1, 2, \dots, C_2$; it is unambiguous for $C_2 \ge 3$ only, so the search "
                r"starts at $C_2 = 3$",
    )


def _differs(verdict: Verdict) -> str:
    """Where a failing ``verdict`` differs: the first output and both sides' terms, in the note's numbering."""
    mismatch = verdict.mismatch
    assert mismatch is not None
    where = ",".join(map(str, note_index(mismatch.output)))
    return (f"{verdict.mismatched_rows} of {verdict.spec.d_y} outputs differ; first $y_{{{where}}}$: the index sum is "
            rf"{sum_tex(mismatch.expected)}, $\mathcal{{W}}x + b$ is {sum_tex(mismatch.found)}")


def _kernel_covers_input(spec: ConvSpec) -> bool:
    """Whether the kernel is the whole input (h = H and w = W): 𝒲 is then one block row, so a counterexample there shows
    no block placement — only an entry of ω that does not exist."""
    return tuple(spec.kernel_size) == tuple(spec.input_size)


def _placed(ctx: Context) -> tuple[tuple[ConvSpec, ...], str]:
    """The layers whose smallest counterexample the block construction shows, and that grid as prose: those where the
    kernel does not cover the input (the others fail too, and are counted, but show no wrong block placement)."""
    placed = tuple(s for s in ctx.specs if not _kernel_covers_input(s))
    if not placed:
        return ctx.specs, grid_text(ctx)
    left_out = len(ctx.specs) - len(placed)
    return placed, f"{grid_text(ctx, placed)}, leaving out the {left_out} layers with $h = H$ and $w = W$"


def block_construction(ctx: Context) -> Claim:
    """conv(x) = 𝒲x + b with 𝒲 built from the blocks exactly as written."""

    def check(spec: ConvSpec) -> str | None:
        spec = per_location(spec)
        written = note.matrix_as_written(spec)
        verdict = verify(spec, matrix=written, order="seed")
        if verdict.holds:
            return None
        foreign = sorted(written.free_symbols - weight_symbols(spec).free_symbols, key=str)
        detail = _differs(verdict)
        if foreign:
            detail += (rf"; entries of $\omega$ that do not exist: {', '.join(map(note_tex, foreign[:3]))}"
                       f"{', …' if len(foreign) > 3 else ''}")
        return detail

    placed, shown = _placed(ctx)
    checked, cex = grid_claim(ctx, check, placed)
    failing = sum(not verify(local, matrix=note.matrix_as_written(local), order="seed").holds
                  for local in map(per_location, ctx.specs))

    def corrected(spec: ConvSpec) -> str | None:
        spec = per_location(spec)
        verdict = verify(spec, matrix=matrix_from_blocks(spec, lambda j, t: t), order="seed")
        return None if verdict.holds else _differs(verdict)

    c_checked, c_cex = grid_claim(ctx, corrected)

    def shifted(spec: ConvSpec) -> str | None:  # the same layout with the kernel row counted from 1: j − 1 + t
        spec = per_location(spec)
        verdict = verify(spec, matrix=matrix_from_blocks(spec, lambda j, t: j - 1 + t), order="seed")
        return None if verdict.holds else f"{verdict.mismatched_rows} of {spec.d_y} outputs differ"

    s_checked, s_cex = grid_claim(ctx, shifted)
    remark = (r"not only the index base: read with kernel rows counted from 1 (block $t$ of $\mathcal{W}_{j,k,l}$ holding row "
              r"$j - 1 + t$), " + (f"the construction holds on all {s_checked} layers" if s_cex is None
                                   else f"it still fails, smallest counterexample {s_cex.math()}: {s_cex.detail}"))
    return Claim(
        "block-construction", "𝒲 built from the blocks equals the index sum",
        r"\text{conv}(x) = \mathcal{W} x + b,\quad "
        r"\mathcal{W}_{j,k,l}=\begin{pmatrix}O|B_{l,j,k}|B_{l,j+1,k}|\dots|B_{l,j+h-1,k}|O"
        r"\end{pmatrix},\ B_{l,j,k} \ni \omega_{i,l,j,0},\dots,\omega_{i,l,j,w-1}",
        cex is None,
        Evidence(f"symconv.verify(spec, matrix=matrix_as_written(spec), order='seed') against the index sum; it fails on "
                 f"{failing} of {len(ctx.specs)} layers of the grid. The counterexample shown is the smallest layer where "
                 r"the kernel does not cover the input ($H > h$ or $W > w$): where it does, $\mathcal{W}$ is a single "
                 "block row and shows no block placement", checked, shown, None, cex),
        Correction(
            r"\begin{gathered}\mathcal{W}_{j,k,l}=\begin{pmatrix}O_{C_2\times (j-1) W}|B_{l,0,k}|B_{l,1,k}|\dots|B_{l,h-1,k}|"
            r"O_{C_2\times (H-h-j+1)W}\end{pmatrix},\\ "
            r"B_{l,m,k} = \begin{pmatrix}0 \dots 0 & \omega_{i,l,m,0} & \dots & \omega_{i,l,m,w-1} & 0\dots 0\end{pmatrix}"
            r"\ \text{(block } m \text{ holds kernel row } m \text{, not } j+m)\end{gathered}",
            c_cex is None,
            Evidence(r"symconv.verify with $\mathcal{W}$ laid out from the note's widths, block $m$ holding kernel row $m$",
                     c_checked, grid_text(ctx), None, c_cex),
        ),
        remarks=(remark,),
    )

