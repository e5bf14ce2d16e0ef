"""The note's checkable claims, each encoded as the note writes it and checked by computation.

Every function here takes the audit :class:`Context` and returns a :class:`~symconv.claims.types.Claim`
whose ``holds`` is the outcome of the computation it runs — SymPy identities for all sizes, and a
walk over a grid of concrete layers (smallest first) comparing the note's formula with the objects
symconv builds (𝒲, b, the index sum) and, when it is installed, with PyTorch. Nothing here knows
the expected outcome: a claim fails only because a computation found a counterexample.

The note's formulas are written with the symbols of :mod:`symconv.closed.counts` (C₁, C₂, H, W, h, w) and
its 1-based i, j, k, l / 0-based m, n; :mod:`symconv.claims.note` builds its objects literally.

Texts (summaries, counterexample details, remarks, …) are prose with LaTeX math between ``$…$`` (see
:mod:`symconv.claims.types`); SymPy objects enter them through :func:`_tex`. Entries printed from symconv's
symbols are counted from 0 and say so ("0-based"); indices in the note's numbering say that too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from ..closed.counts import C1, C2, H, W, formula, h, note_setting, w
from ..core.spec import ConvSpec
from ..core.symbols import input_symbols, weight_symbols
from ..forms.blocks import bias_vector, blocks, matrix, matrix_as_written
from ..forms.direct import direct, direct_terms
from ..prove.verdict import Verdict
from ..prove.verify import verify
from . import torch_checks as audit_torch
from .note import (
    bias_as_written,
    index_sum_as_written,
    matrix_from_blocks,
    pattern_from_block_widths,
    weight_indices_as_written,
    x_entries_as_written,
)
from .types import Claim, Correction, Counterexample, Evidence, describe_grid, note_sizes, note_specs, search

__all__ = ["CLAIMS", "Context"]


@dataclass(frozen=True)
class Context:
    """What every check runs over: the grid of note-setting layers and whether PyTorch is consulted."""

    specs: tuple[ConvSpec, ...]
    torch: bool
    general: tuple[ConvSpec, ...] = ()  # layers beyond the note's setting, for claims that generalise


# ------------------------------------------------------------------------- helpers
def _tex(value: object) -> str:
    """A SymPy object (or a number) as prose math: ``$…$`` around SymPy's LaTeX, with plain parentheses (``\\left(``
    would keep a long formula in the text from breaking across lines)."""
    return "$" + sympy.latex(value).replace(r"\left(", "(").replace(r"\right)", ")") + "$"


def _terms(terms: tuple[sympy.Expr, ...] | list[sympy.Expr]) -> str:
    """Terms as one sum in prose math, in the order given."""
    return "$" + (" + ".join(sympy.latex(t) for t in terms) or "0") + "$"


def _shape(sizes: tuple[int, ...]) -> str:
    """A shape as prose math: ``$2 \\times 3$``."""
    return "$" + r" \times ".join(map(str, sizes)) + "$"


def _entries_word(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _values(spec: ConvSpec) -> dict[sympy.Symbol, int]:
    return dict(zip((C1, C2, H, W, h, w), note_sizes(spec)))


def _at(expr: sympy.Expr, spec: ConvSpec) -> int:
    return int(sympy.sympify(expr).xreplace({k: sympy.Integer(v) for k, v in _values(spec).items()}))


def _identity(lhs: sympy.Expr, rhs: sympy.Expr, two_lines: bool = False) -> tuple[bool, str]:
    """Whether SymPy proves lhs = rhs for all values, and the identity (or inequation) in LaTeX (``two_lines``: the
    relation starts a second line, for sides too long to share one)."""
    ok = sympy.simplify(sympy.expand(lhs - rhs)) == 0
    relation = "=" if ok else r"\neq"
    if two_lines:
        return ok, rf"\begin{{aligned}}&{sympy.latex(lhs)}\\ {relation}\ &{sympy.latex(rhs)}\end{{aligned}}"
    return ok, f"{sympy.latex(lhs)} {relation} {sympy.latex(rhs)}"


def _torch_line(ctx: Context, what: str, checked: int) -> tuple[str, ...]:
    if not ctx.torch:
        return (f"PyTorch not consulted ({'not installed' if not audit_torch.available() else 'disabled'}): {what} skipped",)
    return (f"PyTorch ({what}): agrees on all {checked} layers checked",)


def _grid(ctx: Context, specs: tuple[ConvSpec, ...] | None = None) -> str:
    return describe_grid(ctx.specs if specs is None else specs) + "; smallest first"


def _distinct_symbols(*matrices: sympy.MatrixBase) -> int:
    found: set[sympy.Symbol] = set()
    for m in matrices:
        found |= m.free_symbols
    return len(found)


def _entries(array: sympy.NDimArray) -> list[sympy.Expr]:
    """All entries of a SymPy array, in C order."""
    return list(sympy.flatten(array.tolist()))


def _per_location(spec: ConvSpec) -> ConvSpec:
    return ConvSpec(spec.in_channels, spec.out_channels, spec.input_size, spec.kernel_size, bias="per_location")


def _nonzero_pattern(m: sympy.SparseMatrix) -> np.ndarray:
    pattern = np.zeros(m.shape, dtype=bool)
    for (r, c), value in m.todok().items():
        pattern[r, c] = value != 0
    return pattern


def _grid_claim(
    ctx: Context, check: Callable[[ConvSpec], str | None], specs: tuple[ConvSpec, ...] | None = None
) -> tuple[int, Counterexample | None]:
    return search(check, ctx.specs if specs is None else specs)


def _claim(
    ctx: Context, claim_id: str, topic: str, as_written: str, check: Callable[[ConvSpec], str | None], summary: str,
    identities: tuple[tuple[bool, str], ...] = (), symbolic: str | None = None, precise: str | None = None,
) -> Claim:
    """A claim without a correction: ``check`` over the grid (smallest first) and SymPy ``identities`` (proved, LaTeX)
    for all sizes; ``symbolic`` replaces the identities' LaTeX when all are proved."""
    checked, cex = _grid_claim(ctx, check)
    proved = all(ok for ok, _ in identities)
    if symbolic is None or not proved:
        symbolic = r",\quad ".join(tex for _, tex in identities) or None
    return Claim(claim_id, topic, as_written, cex is None and proved, Evidence(summary, checked, _grid(ctx), symbolic, cex),
                 precise=precise)


# ------------------------------------------------------------------------- formulation
NOTE_DOMAIN = (C1, H, W)
NOTE_CODOMAIN = (C2, H - h + 1, W - w + 1)


def conv_codomain(ctx: Context) -> Claim:
    """conv: ℝ^{C₁×H×W} → ℝ^{C₂×(H−h+1)×(W−w+1)}."""

    def check(spec: ConvSpec) -> str | None:
        domain, codomain = tuple(_at(e, spec) for e in NOTE_DOMAIN), tuple(_at(e, spec) for e in NOTE_CODOMAIN)
        if input_symbols(spec).shape != domain:
            return f"$x$ has shape {input_symbols(spec).shape}, the note says {domain}"
        if direct(spec).shape != codomain:
            return f"the index sum has shape {direct(spec).shape}, the note says {codomain}"
        if ctx.torch and audit_torch.output_shape(spec) != codomain:
            return f"torch.nn.functional.conv2d gives {audit_torch.output_shape(spec)}, the note says {codomain}"
        return None

    checked, cex = _grid_claim(ctx, check)
    ok_h, tex_h = _identity(note_setting(formula("output_height").expr), H - h + 1)
    ok_w, tex_w = _identity(note_setting(formula("output_width").expr), W - w + 1)
    holds = cex is None and ok_h and ok_w
    if ok_h and ok_w:  # show the general derived size and its value in the note's setting
        unit = r"\overset{s = d = 1,\ p = 0}{=}"
        tex_h = rf"H' = {sympy.latex(formula('output_height').expr)} {unit} {sympy.latex(H - h + 1)}"
        tex_w = rf"W' {unit} {sympy.latex(W - w + 1)}"
    return Claim(
        "conv-codomain", "domain and codomain of conv",
        r"\text{conv}_{\omega,b}: \mathbb{R}^{C_1\times H \times W} \longrightarrow "
        r"\mathbb{R}^{C_2 \times (H-h+1) \times (W-w+1)}",
        holds,
        Evidence(
            "the derived output size (count of window positions) at stride 1, padding 0 against $H - h + 1$, $W - w + 1$; "
            "the shapes of $x$ and of the index sum symconv builds against the note's domain and codomain",
            checked, _grid(ctx), f"{tex_h},\\quad {tex_w}", cex,
            _torch_line(ctx, "torch.nn.functional.conv2d output shape", checked),
        ),
    )


def index_sum(ctx: Context) -> Claim:
    """y_{i,j,k} = b_{i,j,k} + Σ_{l=1}^{C₁} Σ_{m=0}^{h−1} Σ_{n=0}^{w−1} x_{l,j+m,k+n} ω_{i,l,m,n} with its index ranges."""
    rng = np.random.default_rng(0)

    def check(spec: ConvSpec) -> str | None:
        spec = _per_location(spec)
        written = index_sum_as_written(spec)
        built = direct(spec)
        if written.shape != built.shape:
            return f"the note's sum has shape {written.shape}, the index sum symconv builds {built.shape}"
        allowed = input_symbols(spec).free_symbols | weight_symbols(spec).free_symbols | built.free_symbols
        stray = sorted(written.free_symbols - allowed, key=str)
        if stray:
            return f"the note's sum reads entries outside $x, \\omega, b$ (0-based): {', '.join(map(_tex, stray[:4]))}"
        for idx in np.ndindex(*written.shape):
            if sympy.expand(written[idx] - built[idx]) != 0:
                return (f"$y_{{{','.join(str(v + 1) for v in idx)}}}$ (the note's numbering) is {_tex(written[idx])}, "
                        f"the index sum gives {_tex(built[idx])} (symbols 0-based)")
        if ctx.torch:  # numerically, with small integers (exact in float64)
            x = rng.integers(-3, 4, spec.input_shape)
            omega = rng.integers(-3, 4, spec.weight_shape)
            b = rng.integers(-3, 4, spec.output_shape)
            values = {**dict(zip(np.asarray(input_symbols(spec)).reshape(-1), x.reshape(-1).tolist())),
                      **dict(zip(np.asarray(weight_symbols(spec)).reshape(-1), omega.reshape(-1).tolist()))}
            values.update({sympy.Symbol(f"b_{i},{j},{k}"): int(b[i, j, k]) for i, j, k in np.ndindex(*b.shape)})
            ours = np.array([[[int(written[i, j, k].xreplace(values)) for k in range(b.shape[2])] for j in range(b.shape[1])]
                             for i in range(b.shape[0])])
            theirs = audit_torch.conv2d(spec, x, omega) + b
            if not np.array_equal(ours, theirs):
                return (f"at integer $x, \\omega, b$ the note's sum gives {ours.tolist()}, "
                        f"torch conv2d plus $b$ gives {theirs.tolist()}")
        return None

    checked, cex = _grid_claim(ctx, check)
    return Claim(
        "index-sum", "the definition as an index sum, with its ranges",
        r"y_{i,j,k}=b_{i,j,k}+\sum_{l=1}^{C_1}\sum_{m=0}^{h-1}\sum_{n=0}^{w-1} x_{l,j+m,k+n}\cdot \omega_{i,l,m,n}",
        cex is None,
        Evidence(
            "the note's sum built literally ($i, j, k, l$ from 1, $m, n$ from 0), compared term for term with the index "
            "sum symconv builds (PyTorch's cross-correlation); every entry it reads must exist in $x, \\omega, b$",
            checked, _grid(ctx), None, cex,
            _torch_line(ctx, "conv2d with a per-location $b$ at random integer $x, \\omega, b$", checked),
        ),
        precise="$i, j, k, l$ run from 1 ($j \\le H - h + 1$, $k \\le W - w + 1$, $l \\le C_1$) and $m, n$ from 0, as the "
                "sums and the vector $x$ are written; the sum is PyTorch's cross-correlation (no kernel flip)",
    )


def weight_shape(ctx: Context) -> Claim:
    """ω ∈ ℝ^{C₁×C₂×h×w}, indexed ω_{i,l,m,n} with i the output channel."""

    def fits(shape_expr: tuple[sympy.Expr, ...]) -> Callable[[ConvSpec], str | None]:
        def check(spec: ConvSpec) -> str | None:
            sizes = tuple(_at(e, spec) for e in shape_expr)
            bases = (1, 1, 0, 0)  # i, l from 1; m, n from 0 (the note's ranges)
            for index in weight_indices_as_written(spec):
                for axis, (v, base, size) in enumerate(zip(index, bases, sizes)):
                    if not base <= v < base + size:
                        name = "ilmn"[axis]
                        space = r" \times ".join(map(str, sizes))
                        return (f"the sum reads $\\omega_{{{','.join(map(str, index))}}}$ (the note's numbering): "
                                f"${name} = {v}$ but axis {axis + 1} of $\\mathbb{{R}}^{{{space}}}$ has {_entries_word(size)}")
            if ctx.torch:
                torch_shape = audit_torch.conv2d_parameters(spec, bias=True)[1]
                if torch_shape != sizes:
                    return f"torch.nn.Conv2d weight has shape {torch_shape}, the statement says {sizes}"
            if weight_symbols(spec).shape != sizes:
                return f"symconv's $\\omega$ has shape {weight_symbols(spec).shape}, the statement says {sizes}"
            return None
        return check

    written = (C1, C2, h, w)
    checked, cex = _grid_claim(ctx, fits(written))
    corrected = (C2, C1, h, w)
    c_checked, c_cex = _grid_claim(ctx, fits(corrected))
    return Claim(
        "weight-shape", "the shape of the kernel ω",
        r"\omega \in \mathbb{R}^{C_1\times C_2 \times h \times w},\ \text{indexed } \omega_{i,l,m,n},\ "
        r"i \le C_2 \text{ (output channel)},\ l \le C_1",
        cex is None,
        Evidence("every index $(i, l, m, n)$ the note's sum reads, against the declared shape, $\\omega$ of symconv and "
                 "of torch.nn.Conv2d", checked, _grid(ctx), None, cex),
        Correction(
            r"\omega \in \mathbb{R}^{C_2\times C_1 \times h \times w} "
            r"\text{ (output channel first, as indexed and as in PyTorch)}",
            c_cex is None,
            Evidence("every index the sum reads against the corrected shape, and symconv's and PyTorch's weight shapes",
                     c_checked, _grid(ctx), None, c_cex, _torch_line(ctx, "torch.nn.Conv2d weight shape", c_checked)),
        ),
    )


def bias_shape(ctx: Context) -> Claim:
    """b ∈ 𝓡^{C₂} while the sum adds b_{i,j,k}."""

    def check(spec: ConvSpec) -> str | None:
        spec = _per_location(spec)
        used = {s for s in index_sum_as_written(spec).free_symbols if s.name.startswith("b_")}
        c2 = _at(C2, spec)
        if len(used) > c2:
            return f"the sum adds {len(used)} distinct $b_{{i,j,k}}$ but $b \\in \\mathbb{{R}}^{{C_2}}$ has {_entries_word(c2)}"
        return None

    checked, cex = _grid_claim(ctx, check)

    def corrected(spec: ConvSpec) -> str | None:
        local = _per_location(spec)
        used = {s for s in index_sum_as_written(local).free_symbols if s.name.startswith("b_")}
        shape = (_at(C2, spec), _at(H - h + 1, spec), _at(W - w + 1, spec))
        if len(used) != int(np.prod(shape)):
            space = r" \times ".join(map(str, shape))
            return f"per location: the sum adds {len(used)} distinct $b$, $\\mathbb{{R}}^{{{space}}}$ has {int(np.prod(shape))}"
        shared = {s for s in direct(spec).free_symbols if s.name.startswith("b_")}
        if len(shared) != _at(C2, spec):
            return f"shared: the index sum with $b_i$ has {len(shared)} distinct $b$, not $C_2 = {_at(C2, spec)}$"
        if ctx.torch and audit_torch.conv2d_parameters(spec, bias=True)[2] != (_at(C2, spec),):
            return f"torch.nn.Conv2d bias has shape {audit_torch.conv2d_parameters(spec, bias=True)[2]}"
        return None

    c_checked, c_cex = _grid_claim(ctx, corrected)
    return Claim(
        "bias-shape", "the shape of the bias b",
        r"b\in \mathcal{R}^{C_2} \ \text{ but } y_{i,j,k}=b_{i,j,k}+\dots",
        cex is None,
        Evidence("distinct bias entries $b_{i,j,k}$ the note's sum adds, against the $C_2$ entries of $b$", checked,
                 _grid(ctx), None, cex),
        Correction(
            r"b\in \mathbb{R}^{C_2\times (H-h+1)\times (W-w+1)} \text{ with } b_{i,j,k} \text{ (per location), or } "
            r"b\in \mathbb{R}^{C_2} \text{ with } b_i \text{ (shared, as in PyTorch)}",
            c_cex is None,
            Evidence("per location: the sum's distinct $b$ against the entries of "
                     "$\\mathbb{R}^{C_2\\times(H-h+1)\\times(W-w+1)}$; shared: the distinct $b$ of the index sum with $b_i$ "
                     "against $C_2$", c_checked, _grid(ctx), None, c_cex,
                     _torch_line(ctx, "torch.nn.Conv2d bias shape", c_checked)),
        ),
        remarks=("the note also writes $\\mathcal{R}$ for $\\mathbb{R}$ here (a typo; not checkable by computation)",),
    )


def is_linear(ctx: Context) -> Claim:
    """"Notice that convolution is a linear transformation" — then conv(x) = 𝒲x + b."""

    def inputs_to_zero(spec: ConvSpec) -> dict[sympy.Symbol, int]:
        return dict.fromkeys(np.asarray(input_symbols(spec)).reshape(-1).tolist(), 0)

    def check(spec: ConvSpec) -> str | None:
        y = direct(spec)
        at_zero = [e.xreplace(inputs_to_zero(spec)) for e in _entries(y)]
        nonzero = [e for e in at_zero if e != 0]
        if nonzero:
            shown = ", ".join(sympy.latex(e) for e in at_zero[:3]) + (r", \dots" if len(at_zero) > 3 else "")
            return rf"$\text{{conv}}(0) = ({shown}) \ne 0$ (symbols 0-based), so conv is not linear"
        return None

    checked, cex = _grid_claim(ctx, check)

    scale = sympy.Symbol("lambda")

    def affine(spec: ConvSpec) -> str | None:
        zero = inputs_to_zero(spec)
        scaled = {x: scale * x for x in zero}
        for e in _entries(direct(spec)):
            part = e - e.xreplace(zero)  # conv(x) − conv(0)
            if sympy.expand(part.xreplace(scaled) - scale * part) != 0:
                return (r"$\text{conv}(\lambda x) - \text{conv}(0) \ne \lambda(\text{conv}(x) - \text{conv}(0))$ for the "
                        f"output {_tex(e)} (symbols 0-based)")
        return None

    c_checked, c_cex = _grid_claim(ctx, affine)
    return Claim(
        "conv-linear", "convolution is a linear transformation",
        r"\text{Notice that convolution is a linear transformation} \ \dots\ \text{conv}(x) = \mathcal{W} x + b",
        cex is None,
        Evidence(r"$\text{conv}(0)$, computed from the index sum with $x = 0$", checked, _grid(ctx), None, cex),
        Correction(
            r"\text{conv is affine: } \text{conv}(x) = \mathcal{W}x + b,\ "
            r"x \mapsto \mathcal{W}x = \text{conv}(x) - \text{conv}(0) "
            r"\text{ is linear (linear iff } b = 0)",
            c_cex is None,
            Evidence(r"$\text{conv}(x) - \text{conv}(0)$, a polynomial in $x, \omega, b$, tested for homogeneity of degree 1 "
                     r"in $x$: does scaling $x$ by a symbol $\lambda$ scale it by $\lambda$ (SymPy expand)?",
                     c_checked, _grid(ctx), None, c_cex),
        ),
        precise=r"‘linear’ read in the strict sense $f(\alpha x + \beta z) = \alpha f(x) + \beta f(z)$, which forces $f(0) = 0$",
    )


# ------------------------------------------------------------------------- the matrix form
def dims(ctx: Context) -> Claim:
    """d_x = C₁×H×W, d_y = C₂×(H−h+1)×(W−w+1)."""
    d_x, d_y = C1 * H * W, C2 * (H - h + 1) * (W - w + 1)

    def check(spec: ConvSpec) -> str | None:
        n_x, n_y = len(_entries(input_symbols(spec))), len(_entries(direct(spec)))
        if (n_x, n_y) != (_at(d_x, spec), _at(d_y, spec)):
            return f"$x$ has {n_x} entries and $y$ {n_y}; the note says $d_x = {_at(d_x, spec)}$, $d_y = {_at(d_y, spec)}$"
        return None

    return _claim(
        ctx, "d_x-d_y", "the flattened sizes of x and y",
        r"d_x=C_1\times H\times W,\quad d_y=C_2\times (H-h+1) \times (W-w+1)", check,
        "the derived counts of entries of $x$ and $y$ (Sum over the index ranges) and the entries of the built $x$, $y$",
        (_identity(formula("d_x").expr, d_x), _identity(note_setting(formula("d_y").expr), d_y)),
        rf"d_x = {sympy.latex(formula('d_x').steps[0].expr)} = {sympy.latex(d_x)},\quad "
        rf"d_y = {sympy.latex(note_setting(formula('d_y').steps[0].expr))} = {sympy.latex(d_y)}",
    )


def w_shape(ctx: Context) -> Claim:
    """𝒲 = (𝒲_{1,1}; 𝒲_{1,2}; …; 𝒲_{H−h+1,W−w+1}) is d_y × d_x."""

    def check(spec: ConvSpec) -> str | None:
        d_x, d_y = _at(C1 * H * W, spec), _at(C2 * (H - h + 1) * (W - w + 1), spec)
        stacked = _at(C2, spec) * _at(H - h + 1, spec) * _at(W - w + 1, spec)  # C₂ rows per (j, k), j ≤ H−h+1, k ≤ W−w+1
        for name, m in ((r"the built $\mathcal{W}$", matrix(spec, "seed")),
                        (r"the note's $\mathcal{W}$ as written", matrix_as_written(spec))):
            if m.shape != (d_y, d_x):
                return rf"{name} is {_shape(m.shape)}, the note says $d_y \times d_x = {d_y} \times {d_x}$"
        if stacked != d_y:
            return rf"stacking the $\mathcal{{W}}_{{j,k}}$ gives {stacked} rows, not $d_y = {d_y}$"
        return None

    return _claim(
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
        want = (_at(C2, spec), _at(C1 * H * W, spec))
        for j, k in np.ndindex(*spec.output_size):
            if b.W(j, k).shape != want:
                return rf"$\mathcal{{W}}_{{{j + 1},{k + 1}}}$ is {_shape(b.W(j, k).shape)}, the note says {_shape(want)}"
        return None

    return _claim(
        ctx, "Wjk-shape", "the shape of a row block of 𝒲 (one output position)",
        r"\mathcal{W}_{j,k}:=\begin{pmatrix}\mathcal{W}_{j,k,1}|\mathcal{W}_{j,k,2}|\dots|\mathcal{W}_{j,k,C_1}"
        r"\end{pmatrix}_{C_2\times C_1HW}", check,
        "$C_1$ blocks of width $HW$ side by side (SymPy sum); the blocks symconv builds",
        (_identity(sympy.Sum(H * W, (l, 1, C1)).doit(), C1 * H * W),), rf"\sum_{{l=1}}^{{C_1}} HW = {sympy.latex(C1 * H * W)}",
    )


def wjkl_shape(ctx: Context) -> Claim:
    """𝒲_{j,k,l} = (O_{C₂×(j−1)W} | B_{l,j,k} | … | B_{l,j+h−1,k} | O_{C₂×(H−h−j+1)W}) is C₂ × HW."""
    j = sympy.Symbol("j", integer=True, positive=True)
    widths = ((j - 1) * W, h * W, (H - h - j + 1) * W)

    def check(spec: ConvSpec) -> str | None:
        b = blocks(spec)
        want = (_at(C2, spec), _at(H * W, spec))
        for jj in range(1, _at(H - h + 1, spec) + 1):
            parts = [int(e.subs(_values(spec)).subs(j, jj)) for e in widths]
            if min(parts) < 0 or sum(parts) != want[1]:
                return f"at $j = {jj}$ the widths as written are {parts}"
        for jj, kk in np.ndindex(*spec.output_size):
            for ll in range(spec.in_channels):
                if b.W(jj, kk, ll).shape != want:
                    return (rf"$\mathcal{{W}}_{{{jj + 1},{kk + 1},{ll + 1}}}$ is {_shape(b.W(jj, kk, ll).shape)}, "
                            f"the note says {_shape(want)}")
        return None

    return _claim(
        ctx, "Wjkl-shape", "the shape of a channel block of 𝒲",
        r"\mathcal{W}_{j,k,l}:=\begin{pmatrix}O_{C_2\times (j-1) W}|B_{l,j,k}|\dots|B_{l,j+h-1,k}|"
        r"O_{C_2\times (H-h-j+1)W}\end{pmatrix}_{C_2\times HW}", check,
        r"the widths as written summed by SymPy for all $j$, and checked $\ge 0$ with sum $HW$ for $1 \le j \le H-h+1$; "
        "the shapes of the blocks symconv builds", (_identity(sympy.Add(*widths, evaluate=False), H * W),),
    )


def b_shape(ctx: Context) -> Claim:
    """B_{l,j,k} = (0…0 (k−1) | ω_{·,l,j,0} … ω_{·,l,j,w−1} | 0…0 (W−w−k+1)) is C₂ × W."""
    k = sympy.Symbol("k", integer=True, positive=True)
    widths = (k - 1, w, W - w - k + 1)

    def check(spec: ConvSpec) -> str | None:
        b = blocks(spec)
        want = (_at(C2, spec), _at(W, spec))
        for kk in range(1, _at(W - w + 1, spec) + 1):
            parts = [int(e.subs(_values(spec)).subs(k, kk)) for e in widths]
            if min(parts) < 0 or sum(parts) != want[1]:
                return f"at $k = {kk}$ the widths as written are {parts}"
            for ll in range(spec.in_channels):
                for mm in range(_at(h, spec)):
                    if b.B(ll, mm, kk - 1).shape != want:
                        return f"$B$ is {_shape(b.B(ll, mm, kk - 1).shape)}, the note says {_shape(want)}"
        return None

    return _claim(
        ctx, "B-shape", "the shape of the blocks B",
        r"B_{l,j,k}=\begin{pmatrix}\underbrace{0 \dots 0}_{k-1} & \omega_{i,l,j,0} & \dots & \omega_{i,l,j,w-1} & "
        r"\underbrace{0 \dots 0}_{W-w-k+1}\end{pmatrix}_{C_2\times W}", check,
        r"the widths as written summed by SymPy for all $k$, and checked $\ge 0$ with sum $W$ for $1 \le k \le W-w+1$; "
        "the shapes of the blocks symconv builds", (_identity(sympy.Add(*widths, evaluate=False), W),),
    )


def zero_blocks(ctx: Context) -> Claim:
    """The zero blocks (j−1)W, (H−h−j+1)W, k−1, W−w−k+1 sit where 𝒲 is zero."""

    def check(spec: ConvSpec) -> str | None:
        layout = pattern_from_block_widths(spec)
        for name, m in ((r"the built $\mathcal{W}$", matrix(spec, "seed")),
                        (r"the note's $\mathcal{W}$ as written", matrix_as_written(spec))):
            actual = _nonzero_pattern(m)
            if not np.array_equal(layout, actual):
                r, c = np.argwhere(layout != actual)[0]
                return (f"row {r}, column {c} (0-based): the widths leave {'an entry' if layout[r, c] else 'zero'}, "
                        f"{name} has the opposite")
        return None

    return _claim(
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
                return (f"the note shows $x_{{{l},{r},{c}}}$ (its numbering) at position {pos + 1}, column {pos + 1} of "
                        rf"$\mathcal{{W}}$ multiplies {_tex(columns[pos])} (0-based)")
        return None

    return _claim(
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
            spec = _per_location(spec)
            verdict = verify(spec, matrix=matrix(spec, "seed"), bias=bias_as_written(spec, last=last), order="seed")
            if not verdict.holds:
                mismatch = verdict.mismatch
                assert mismatch is not None
                missing = ", ".join(map(_tex, mismatch.missing)) or "nothing"
                extra = ", ".join(map(_tex, mismatch.extra)) or "nothing"
                return (rf"with the built $\mathcal{{W}}$, output $y_{{{','.join(str(v + 1) for v in mismatch.output)}}}$ "
                        f"(the note's numbering) misses {missing} and has {extra} instead (symbols 0-based; "
                        f"{verdict.mismatched_rows} of {spec.d_y} outputs differ)")
            return None
        return check

    checked, cex = _grid_claim(ctx, check_with("x"), specs)
    c_checked, c_cex = _grid_claim(ctx, check_with("b"), specs)
    return Claim(
        "b_jk-entries", "the entries of a block of b (one output position)",
        r"b_{j,k}=\begin{pmatrix}b_{1,j,k}\\ b_{2,j,k}\\ \vdots\\ x_{C_2,j,k}\end{pmatrix}",
        cex is None,
        Evidence(r"$\text{conv}(x) = \mathcal{W}x + b$ proved or refuted (symconv.verify) with the built $\mathcal{W}$ and "
                 r"$b$ stacked from the $b_{j,k}$ as written", checked, _grid(ctx, specs), None, cex),
        Correction(
            r"b_{j,k}=\begin{pmatrix}b_{1,j,k}& b_{2,j,k}& \dots& b_{C_2,j,k}\end{pmatrix}^T",
            c_cex is None,
            Evidence(r"symconv.verify with the built $\mathcal{W}$ and the corrected $b$", c_checked, _grid(ctx, specs), None,
                     c_cex),
        ),
        precise=r"the list is read as entries $1, 2, \dots, C_2$; it is unambiguous for $C_2 \ge 3$ only, so the search "
                r"starts at $C_2 = 3$",
    )


def _differs(verdict: Verdict) -> str:
    """Where a failing ``verdict`` differs: the first output in the note's numbering, both sides' terms (0-based symbols)."""
    mismatch = verdict.mismatch
    assert mismatch is not None
    where = ",".join(str(v + 1) for v in mismatch.output)
    return (f"{verdict.mismatched_rows} of {verdict.spec.d_y} outputs differ; first $y_{{{where}}}$ (the note's numbering), "
            rf"in symconv's 0-based symbols: the index sum is {_terms(mismatch.expected)}, $\mathcal{{W}}x + b$ is "
            f"{_terms(mismatch.found)}")


def block_construction(ctx: Context) -> Claim:
    """conv(x) = 𝒲x + b with 𝒲 built from the blocks exactly as written."""

    def check(spec: ConvSpec) -> str | None:
        spec = _per_location(spec)
        written = matrix_as_written(spec)
        verdict = verify(spec, matrix=written, order="seed")
        if verdict.holds:
            return None
        foreign = sorted(written.free_symbols - weight_symbols(spec).free_symbols, key=str)
        detail = _differs(verdict)
        if foreign:
            detail += (rf"; entries of $\omega$ that do not exist: {', '.join(map(_tex, foreign[:3]))}"
                       f"{', …' if len(foreign) > 3 else ''}")
        return detail

    checked, cex = _grid_claim(ctx, check)
    failing = sum(not verify(_per_location(s), matrix=matrix_as_written(_per_location(s)), order="seed").holds for s in ctx.specs)

    def corrected(spec: ConvSpec) -> str | None:
        spec = _per_location(spec)
        verdict = verify(spec, matrix=matrix_from_blocks(spec, lambda j, t: t), order="seed")
        return None if verdict.holds else _differs(verdict)

    c_checked, c_cex = _grid_claim(ctx, corrected)

    def shifted(spec: ConvSpec) -> str | None:  # the same layout with the kernel row counted from 1: j − 1 + t
        spec = _per_location(spec)
        verdict = verify(spec, matrix=matrix_from_blocks(spec, lambda j, t: j - 1 + t), order="seed")
        return None if verdict.holds else f"{verdict.mismatched_rows} of {spec.d_y} outputs differ"

    s_checked, s_cex = _grid_claim(ctx, shifted)
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
                 f"{failing} of {len(ctx.specs)} layers of the grid", checked, _grid(ctx), None, cex),
        Correction(
            r"\begin{gathered}\mathcal{W}_{j,k,l}=\begin{pmatrix}O_{C_2\times (j-1) W}|B_{l,0,k}|B_{l,1,k}|\dots|B_{l,h-1,k}|"
            r"O_{C_2\times (H-h-j+1)W}\end{pmatrix},\\ "
            r"B_{l,m,k} = \begin{pmatrix}0 \dots 0 & \omega_{i,l,m,0} & \dots & \omega_{i,l,m,w-1} & 0\dots 0\end{pmatrix}"
            r"\ \text{(block } m \text{ holds kernel row } m \text{, not } j+m)\end{gathered}",
            c_cex is None,
            Evidence(r"symconv.verify with $\mathcal{W}$ laid out from the note's widths, block $m$ holding kernel row $m$",
                     c_checked, _grid(ctx), None, c_cex),
        ),
        remarks=(remark,),
    )


# ------------------------------------------------------------------------- parameter counts
NOTE_PARAMS_LOCAL = C2 * C1 * (h - 1) * (w - 1) + C2 * (H - h + 1) * (W - w + 1)
NOTE_PARAMS_SHARED = C2 * C1 * (h - 1) * (w - 1) + C2
NOTE_PARAMS_SHARED_FACTORED = C2 * (C1 * (h - 1) * (w - 1) + 1)
NOTE_FC = C1 * H * W * C2 * (H - h + 1) * (W - w + 1) + C2 * (H - h + 1) * (W - w + 1)


def _count_check(ctx: Context, expr: sympy.Expr, bias: str) -> Callable[[ConvSpec], str | None]:
    def check(spec: ConvSpec) -> str | None:
        spec = ConvSpec(spec.in_channels, spec.out_channels, spec.input_size, spec.kernel_size, bias=bias)
        built = _distinct_symbols(matrix(spec), bias_vector(spec))
        stated = _at(expr, spec)
        if stated != built:
            return rf"the formula gives {stated}, the built $\mathcal{{W}}$ and $b$ have {built} distinct parameters"
        if ctx.torch:  # PyTorch has no per-location bias: its weights plus one bias per output entry
            theirs = (audit_torch.conv2d_parameters(spec, bias=True)[0] if bias == "shared"
                      else audit_torch.conv2d_parameters(spec, bias=False)[0] + int(np.prod(audit_torch.output_shape(spec))))
            if theirs != built:
                return rf"PyTorch counts {theirs}, the built $\mathcal{{W}}$ and $b$ {built}"
        return None
    return check


def _params_claim(ctx: Context, claim_id: str, bias: str, as_written: str, written: sympy.Expr, torch_what: str) -> Claim:
    """The note's parameter count for ``bias`` against the built 𝒲, b (and PyTorch); corrected by the derived count."""
    checked, cex = _grid_claim(ctx, _count_check(ctx, written, bias))
    derived = note_setting(formula(f"params_conv_{bias}").expr)
    c_checked, c_cex = _grid_claim(ctx, _count_check(ctx, derived, bias))
    mode = bias.replace("_", " ")
    return Claim(
        claim_id, f"number of parameters, bias {mode}", as_written,
        cex is None,
        Evidence(rf"the formula against the distinct symbols of the built $\mathcal{{W}}$ and $b$ (bias {mode})", checked,
                 _grid(ctx), _identity(written, derived)[1], cex),
        Correction(
            sympy.latex(sympy.factor(derived) if bias == "shared" else derived)
            + r"\quad (m, n \text{ run over } h, w \text{ values } 0,\dots,h-1 \text{ and } 0,\dots,w-1)",
            c_cex is None,
            Evidence(r"the count derived by SymPy (Sum over the index ranges of $\omega$ and $b$) against the distinct symbols "
                     r"of the built $\mathcal{W}$, $b$", c_checked, _grid(ctx), None, c_cex,
                     _torch_line(ctx, torch_what, c_checked)),
        ),
    )


def params_per_location(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂(H−h+1)(W−w+1) parameters (bias per location)."""
    return _params_claim(ctx, "params-per-location", "per_location", r"C_2C_1(h-1)(w-1)+C_2(H-h+1)(W-w+1)", NOTE_PARAMS_LOCAL,
                         "torch.nn.Conv2d weights + one bias per output entry")


def params_shared(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂ parameters (shared bias)."""
    return _params_claim(ctx, "params-shared", "shared", r"C_2C_1(h-1)(w-1)+C_2", NOTE_PARAMS_SHARED,
                         "torch.nn.Conv2d parameter count")


def params_factorisation(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂ = C₂(C₁(h−1)(w−1) + 1)."""
    def check(spec: ConvSpec) -> str | None:
        a, b = _at(NOTE_PARAMS_SHARED, spec), _at(NOTE_PARAMS_SHARED_FACTORED, spec)
        return None if a == b else rf"${a} \ne {b}$"

    return _claim(
        ctx, "params-factorisation", "the factorisation of the shared count", r"C_2C_1(h-1)(w-1)+C_2=C_2(C_1(h-1)(w-1)+1)",
        check, "SymPy expands both sides (an identity of polynomials, true for all values); both sides on the grid",
        (_identity(NOTE_PARAMS_SHARED, NOTE_PARAMS_SHARED_FACTORED),),
    )


def params_resolution(ctx: Context) -> Claim:
    """The shared count is independent of H and W; it depends on C₁, C₂, h, w only."""
    extra = sorted(map(str, NOTE_PARAMS_SHARED.free_symbols - {C1, C2, h, w}))
    derived = note_setting(formula("params_conv_shared").expr)
    derived_extra = sorted(map(str, derived.free_symbols - {C1, C2, h, w}))
    seen: dict[tuple[int, ...], tuple[int, ConvSpec]] = {}

    def check(spec: ConvSpec) -> str | None:
        key = (spec.in_channels, spec.out_channels, *spec.kernel_size)  # type: ignore[misc]
        count = _distinct_symbols(matrix(spec), bias_vector(spec))
        if key in seen and seen[key][0] != count:
            before = _shape(seen[key][1].input_size)  # type: ignore[arg-type]
            return (rf"the built layer has {count} parameters, at $H \times W =$ {before} it had {seen[key][0]} "
                    "(same $C_1, C_2, h, w$)")
        seen.setdefault(key, (count, spec))
        return None

    checked, cex = _grid_claim(ctx, check)
    holds = not extra and not derived_extra and cex is None
    return Claim(
        "params-resolution", "the shared count does not depend on the image size",
        r"\text{independent of the resolution of the image (i.e. } W, H\text{); depends only on } C_1, C_2, h, w",
        holds,
        Evidence("free symbols of the note's count and of the derived count; the distinct parameters of built layers with the "
                 "same $C_1, C_2, h, w$ and different $H, W$", checked, _grid(ctx),
                 rf"\mathrm{{free}}({sympy.latex(NOTE_PARAMS_SHARED)}) \setminus \{{C_1, C_2, h, w\}} = "
                 + (r"\emptyset" if not extra else r"\{" + ", ".join(extra) + r"\}"), cex),
    )


def dxdy(ctx: Context) -> Claim:
    """d_x d_y = C₁HWC₂(H−h+1)(W−w+1)."""
    product = note_setting(formula("d_x").expr * formula("d_y").expr)
    written = C1 * H * W * C2 * (H - h + 1) * (W - w + 1)

    def check(spec: ConvSpec) -> str | None:
        rows, cols = matrix(spec).shape
        stated = _at(written, spec)
        return None if rows * cols == stated else rf"$\mathcal{{W}}$ has {rows * cols} entries, the formula gives {stated}"

    return _claim(
        ctx, "dxdy", "the product of the flattened sizes", r"d_xd_y =C_1HWC_2(H-h+1)(W-w+1)", check,
        r"product of the derived $d_x$, $d_y$ (SymPy); the number of entries of the built $\mathcal{W}$",
        (_identity(product, written),),
    )


def fc_count(ctx: Context) -> Claim:
    """A fully-connected layer ℝ^{d_x} → ℝ^{d_y} has d_x d_y + C₂(H−h+1)(W−w+1) parameters."""
    derived = note_setting(formula("params_fc").expr)
    ok, tex = _identity(derived, NOTE_FC, two_lines=True)

    def check(spec: ConvSpec) -> str | None:
        stated = _at(NOTE_FC, spec)
        if ctx.torch and audit_torch.linear_parameters(spec.d_x, spec.d_y) != stated:
            theirs = audit_torch.linear_parameters(spec.d_x, spec.d_y)
            return f"torch.nn.Linear with $d_x$ inputs and $d_y$ outputs has {theirs}, the formula {stated}"
        return None

    checked, cex = _grid_claim(ctx, check)
    return Claim(
        "fc-count", "number of parameters of the fully-connected layer",
        r"d_xd_y + C_2(H-h+1)(W-w+1)",
        ok and cex is None,
        Evidence(r"the derived count (dense $d_y \times d_x$ weights + one bias per output, Sum.doit) against the note's "
                 "right-hand side", checked, _grid(ctx), tex, cex,
                 _torch_line(ctx, "parameter count of torch.nn.Linear with $d_x$ inputs, $d_y$ outputs", checked)),
        precise=r"the right-hand side of the first ‘$\ll$’ read as the parameters of a fully-connected layer with one bias "
                "per output",
    )


def _much_less(
    ctx: Context, lhs: sympy.Expr, rhs: sympy.Expr, true_lhs: sympy.Expr, true_rhs: sympy.Expr
) -> tuple[Evidence, tuple[str, ...], bool]:
    """Strict '<' on the grid and the ratio's limit as H, W → ∞, as written and with the true counts."""
    t = sympy.Symbol("t", positive=True)

    def strict(a: sympy.Expr, b: sympy.Expr) -> Callable[[ConvSpec], str | None]:
        def check(spec: ConvSpec) -> str | None:
            left, right = _at(a, spec), _at(b, spec)
            return None if left < right else f"left side {left}, right side {right}"
        return check

    def limits(a: sympy.Expr, b: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
        ratio = sympy.simplify(a / b)
        return sympy.limit(sympy.limit(ratio, H, sympy.oo), W, sympy.oo), sympy.limit(ratio.subs({H: t, W: t}), t, sympy.oo)

    checked, cex = _grid_claim(ctx, strict(lhs, rhs))
    limit, diagonal = limits(lhs, rhs)
    holds = cex is None and limit == 0 and diagonal == 0
    evidence = Evidence(
        rf"‘$<$’ at every layer of the grid{'' if cex is None else ' fails'}; the ratio $\to {sympy.latex(limit)}$ as "
        rf"$H \to \infty$ then $W \to \infty$ ($\to {sympy.latex(diagonal)}$ along $H = W \to \infty$), SymPy limit with the "
        "other sizes fixed",
        checked, _grid(ctx),
        rf"\lim_{{W\to\infty}}\lim_{{H\to\infty}} \frac{{{sympy.latex(lhs)}}}{{{sympy.latex(rhs)}}} = {sympy.latex(limit)}", cex,
    )
    t_checked, t_cex = _grid_claim(ctx, strict(true_lhs, true_rhs))
    t_limit, _ = limits(true_lhs, true_rhs)
    pairs = [(spec, _at(true_lhs, spec), _at(true_rhs, spec)) for spec in ctx.specs]
    above = [spec for spec, a, b in pairs if a > b]
    equal = [spec for spec, a, b in pairs if a == b]
    full_kernel = [spec for spec in ctx.specs if spec.kernel_size == spec.input_size]
    if t_cex is None:
        remark = f"the true counts, derived, are {_tex(true_lhs)} and {_tex(true_rhs)}; with them ‘$<$’ holds on the grid too"
    else:
        where = ("exactly at the layers with $h = H$ and $w = W$" if equal == full_kernel
                 else "at " + "; ".join(Counterexample.at(s, "").math() for s in equal[:3]))
        remark = (f"the true counts, derived, are {_tex(true_lhs)} and {_tex(true_rhs)}; with them "
                  rf"the ratio still $\to {sympy.latex(t_limit)}$, but ‘$<$’ fails — smallest counterexample {t_cex.math()}: "
                  rf"{t_cex.detail}; ‘$\le$’ {'holds' if not above else 'fails'} on all {len(pairs)} layers, "
                  f"equality at {len(equal)} of them, {where}")
    return evidence, (remark,), holds


def conv_much_less_than_fc(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂(H−h+1)(W−w+1) ≪ d_x d_y + C₂(H−h+1)(W−w+1)."""
    true_lhs = note_setting(formula("params_conv_per_location").expr)
    true_rhs = note_setting(formula("params_fc").expr)
    evidence, remarks, holds = _much_less(ctx, NOTE_PARAMS_LOCAL, NOTE_FC, true_lhs, true_rhs)
    return Claim(
        "conv-much-less-than-fc", "conv has far fewer parameters than a fully-connected layer",
        r"C_2C_1(h-1)(w-1)+C_2(H-h+1)(W-w+1)<<d_xd_y + C_2(H-h+1)(W-w+1)",
        holds, evidence,
        precise=r"‘$\ll$’ made precise as: ‘$<$’ at every size with $1 \le h \le H$, $1 \le w \le W$ (checked on the grid), "
                r"and the ratio left/right $\to 0$ as $H, W \to \infty$ with $C_1, C_2, h, w$ fixed (SymPy limit); it is not a "
                "bound at fixed sizes",
        remarks=remarks,
    )


def kernel_much_less(ctx: Context) -> Claim:
    """(h−1)(w−1) ≪ HW(H−h+1)(W−w+1)."""
    lhs, rhs = (h - 1) * (w - 1), H * W * (H - h + 1) * (W - w + 1)
    per_pair = note_setting(formula("params_weights").expr) / (C1 * C2)  # weights per channel pair, derived: h·w
    per_pair_fc = note_setting(formula("params_fc_none").expr) / (C1 * C2)
    evidence, remarks, holds = _much_less(ctx, lhs, rhs, sympy.simplify(per_pair), sympy.simplify(per_pair_fc))
    return Claim(
        "kernel-much-less", "kernel size against the fully-connected size",
        r"(h-1)(w-1)<<HW(H-h+1)(W-w+1)",
        holds, evidence,
        precise=r"‘$\ll$’ made precise as for conv-much-less-than-fc: ‘$<$’ on the grid and the ratio $\to 0$ as "
                r"$H, W \to \infty$",
        remarks=remarks,
    )


# ------------------------------------------------------------------------- receptive field
def _general_specs() -> tuple[ConvSpec, ...]:
    return (
        ConvSpec(1, 2, input_size=5, kernel_size=3, stride=2, padding=1),
        ConvSpec(2, 2, input_size=(6, 5), kernel_size=(2, 3), dilation=(2, 1), padding=(1, 0)),
        ConvSpec(4, 4, input_size=4, kernel_size=2, groups=2),
        ConvSpec(2, 2, input_size=(4, 5), kernel_size=3, padding="same"),
        ConvSpec(1, 1, input_size=2, kernel_size=2, padding=2),
    )


def receptive_field(ctx: Context) -> Claim:
    """The receptive field of output (j, k) = the entries of x not multiplied by 0 in 𝒲_{j,k}x."""

    def supports(spec: ConvSpec, m: sympy.SparseMatrix) -> dict[int, set[int]]:
        by_row: dict[int, set[int]] = {}
        for (r, c), value in m.todok().items():
            if value != 0:
                by_row.setdefault(r // spec.out_channels, set()).add(c)  # seed order: C₂ rows per position
        return by_row

    def check(spec: ConvSpec) -> str | None:
        note = spec in ctx.specs
        built = supports(spec, matrix(spec, "seed"))
        written = supports(spec, matrix_as_written(spec)) if note else None
        terms = direct_terms(spec)
        n_weights = int(np.prod(spec.weight_shape))
        valid = np.broadcast_to(terms.valid, terms.keys.shape)
        rows, cols = spec.output_size
        gradients = audit_torch.gradient_supports(spec) if ctx.torch else None
        for p in range(rows * cols):
            j, k = divmod(p, cols)
            from_sum = set((terms.keys[p][valid[p]] // n_weights).tolist())
            from_w = built.get(p, set())
            if from_w != from_sum:
                return (rf"output $({j + 1},{k + 1})$: nonzero columns of $\mathcal{{W}}_{{j,k}}$ {sorted(from_w)}, "
                        f"inputs of the index sum {sorted(from_sum)} (columns 0-based)")
            if written is not None and written.get(p, set()) != from_sum:
                return (rf"output $({j + 1},{k + 1})$: nonzero columns of the note's $\mathcal{{W}}_{{j,k}}$ "
                        f"{sorted(written.get(p, set()))}, inputs of the index sum {sorted(from_sum)} (columns 0-based)")
            if note:  # the window the note's formula reads: x_{l, j+m, k+n}
                c1, _, height, width, kh, kw = note_sizes(spec)
                window = {(l * height + j + m) * width + k + n for l in range(c1) for m in range(kh) for n in range(kw)}
                if window != from_w:
                    return (f"output $({j + 1},{k + 1})$: the note's window {sorted(window)}, nonzero columns "
                            f"{sorted(from_w)} (columns 0-based)")
            gradient = from_w if gradients is None else gradients[p]
            if gradient != from_w:
                return (f"output $({j + 1},{k + 1})$: PyTorch's gradient is nonzero at {sorted(gradient)}, "
                        rf"$\mathcal{{W}}_{{j,k}}$ at {sorted(from_w)} (columns 0-based)")
        return None

    specs = ctx.specs + ctx.general
    checked, cex = search(check, specs)
    return Claim(
        "receptive-field", "the receptive field from a row block of 𝒲",
        r"\text{the receptive field of the } (j,k) \text{ output are the values of } x \text{ not multiplied by } 0 \text{ in } "
        r"\text{conv}_{j,k}(x) = \mathcal{W}_{j,k} x+ b_{j,k}",
        cex is None,
        Evidence(r"for every output position, compared: nonzero columns of $\mathcal{W}_{j,k}$ (built, and as written), inputs "
                 r"of the index sum, the window $x_{l,j+m,k+n}$, PyTorch's gradient pattern", checked,
                 f"{len(specs)} layers: {_grid(ctx)}, then {len(ctx.general)} layers with stride, padding, dilation or "
                 "groups", None, cex,
                 _torch_line(ctx, r"autograd gradient nonzero pattern of $\sum_i y_{i,j,k}$", checked)),
        precise=r"with $\omega$ symbolic (generic): an input is ‘not multiplied by 0’ when its column of $\mathcal{W}_{j,k}$ "
                "is not identically zero; numeric weights that happen to be 0 can shrink it",
    )


#: The claims in the order the note makes them.
CLAIMS: tuple[Callable[[Context], Claim], ...] = (
    conv_codomain,
    index_sum,
    weight_shape,
    bias_shape,
    is_linear,
    dims,
    w_shape,
    wjk_shape,
    wjkl_shape,
    b_shape,
    zero_blocks,
    x_order,
    b_jk,
    block_construction,
    params_per_location,
    conv_much_less_than_fc,
    fc_count,
    dxdy,
    kernel_much_less,
    params_shared,
    params_factorisation,
    params_resolution,
    receptive_field,
)
