"""The note's claims about the definition: domain and codomain, the index sum, the shapes of ω and b, linearity."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ..closed.counts import formula, note_setting
from ..core.spec import ConvSpec
from ..core.symbols import C1, C2, input_symbols, note_index, size_symbols, weight_symbols
from . import note
from . import torch_checks as audit_torch
from .common import (
    Context,
    at,
    built_direct,
    entries,
    entries_word,
    grid_claim,
    grid_text,
    identity,
    note_symbols,
    note_tex,
    per_location,
    torch_line,
)
from .note import (
    index_sum_as_written,
    weight_indices_as_written,
)
from .types import Claim, Correction, Evidence

# the note's size symbols, one family per axis from the core: (H, h, …) and (W, w, …)
(H, h, *_), (W, w, *_) = size_symbols(2)
# The note's formulas and its 𝒲 as written are read as ``note.NAME`` when a check runs: one place says what the note
# writes (and a test can change it there).

__all__ = ["bias_shape", "conv_codomain", "index_sum", "is_linear", "weight_shape"]


def conv_codomain(ctx: Context) -> Claim:
    """conv: ℝ^{C₁×H×W} → ℝ^{C₂×(H−h+1)×(W−w+1)}."""

    def check(spec: ConvSpec) -> str | None:
        domain, codomain = tuple(at(e, spec) for e in note.NOTE_DOMAIN), tuple(at(e, spec) for e in note.NOTE_CODOMAIN)
        if input_symbols(spec).shape != domain:
            return f"$x$ has shape {input_symbols(spec).shape}, the note says {domain}"
        if built_direct(spec).shape != codomain:
            return f"the index sum has shape {built_direct(spec).shape}, the note says {codomain}"
        if ctx.torch and audit_torch.output_shape(spec) != codomain:
            return f"torch.nn.functional.conv2d gives {audit_torch.output_shape(spec)}, the note says {codomain}"
        return None

    checked, cex = grid_claim(ctx, check)
    ok_h, tex_h = identity(note_setting(formula("output_height").expr), H - h + 1)
    ok_w, tex_w = identity(note_setting(formula("output_width").expr), W - w + 1)
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
            checked, grid_text(ctx), f"{tex_h},\\quad {tex_w}", cex,
            torch_line(ctx, "torch.nn.functional.conv2d output shape", checked),
        ),
    )


def index_sum(ctx: Context) -> Claim:
    """y_{i,j,k} = b_{i,j,k} + Σ_{l=1}^{C₁} Σ_{m=0}^{h−1} Σ_{n=0}^{w−1} x_{l,j+m,k+n} ω_{i,l,m,n} with its index ranges."""
    rng = np.random.default_rng(0)

    def check(spec: ConvSpec) -> str | None:
        spec = per_location(spec)
        written = index_sum_as_written(spec)
        built = built_direct(spec)
        if written.shape != built.shape:
            return f"the note's sum has shape {written.shape}, the index sum symconv builds {built.shape}"
        allowed = input_symbols(spec).free_symbols | weight_symbols(spec).free_symbols | built.free_symbols
        stray = sorted(written.free_symbols - allowed, key=str)
        if stray:
            return f"the note's sum reads entries outside $x, \\omega, b$: {', '.join(map(note_tex, stray[:4]))}"
        for idx in np.ndindex(*written.shape):
            if sympy.expand(written[idx] - built[idx]) != 0:
                return (f"$y_{{{','.join(map(str, note_index(idx)))}}}$ is {note_tex(written[idx])}, "
                        f"the index sum gives {note_tex(built[idx])}")
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

    checked, cex = grid_claim(ctx, check)
    return Claim(
        "index-sum", "the definition as an index sum, with its ranges",
        r"y_{i,j,k}=b_{i,j,k}+\sum_{l=1}^{C_1}\sum_{m=0}^{h-1}\sum_{n=0}^{w-1} x_{l,j+m,k+n}\cdot \omega_{i,l,m,n}",
        cex is None,
        Evidence(
            "the note's sum built literally ($i, j, k, l$ from 1, $m, n$ from 0), compared term for term with the index "
            "sum symconv builds (PyTorch's cross-correlation); every entry it reads must exist in $x, \\omega, b$",
            checked, grid_text(ctx), None, cex,
            torch_line(ctx, "conv2d with a per-location $b$ at random integer $x, \\omega, b$", checked),
        ),
        precise="$i, j, k, l$ run from 1 ($j \\le H - h + 1$, $k \\le W - w + 1$, $l \\le C_1$) and $m, n$ from 0, as the "
                "sums and the vector $x$ are written; the sum is PyTorch's cross-correlation (no kernel flip)",
    )


def weight_shape(ctx: Context) -> Claim:
    """ω ∈ ℝ^{C₁×C₂×h×w}, indexed ω_{i,l,m,n} with i the output channel."""

    def fits(shape_expr: tuple[sympy.Expr, ...]) -> Callable[[ConvSpec], str | None]:
        def check(spec: ConvSpec) -> str | None:
            sizes = tuple(at(e, spec) for e in shape_expr)
            bases = (1, 1, 0, 0)  # i, l from 1; m, n from 0 (the note's ranges)
            for index in weight_indices_as_written(spec):
                for axis, (v, base, size) in enumerate(zip(index, bases, sizes)):
                    if not base <= v < base + size:
                        name = "ilmn"[axis]
                        space = r" \times ".join(map(str, sizes))
                        return (f"the sum reads $\\omega_{{{','.join(map(str, index))}}}$ (the note's numbering): "
                                f"${name} = {v}$ but axis {axis + 1} of $\\mathbb{{R}}^{{{space}}}$ has {entries_word(size)}")
            if ctx.torch:
                torch_shape = audit_torch.conv2d_parameters(spec, bias=True)[1]
                if torch_shape != sizes:
                    return f"torch.nn.Conv2d weight has shape {torch_shape}, the statement says {sizes}"
            if weight_symbols(spec).shape != sizes:
                return f"symconv's $\\omega$ has shape {weight_symbols(spec).shape}, the statement says {sizes}"
            return None
        return check

    written = (C1, C2, h, w)
    checked, cex = grid_claim(ctx, fits(written))
    corrected = (C2, C1, h, w)
    c_checked, c_cex = grid_claim(ctx, fits(corrected))
    return Claim(
        "weight-shape", "the shape of the kernel ω",
        r"\omega \in \mathbb{R}^{C_1\times C_2 \times h \times w},\ \text{indexed } \omega_{i,l,m,n},\ "
        r"i \le C_2 \text{ (output channel)},\ l \le C_1",
        cex is None,
        Evidence("every index $(i, l, m, n)$ the note's sum reads, against the declared shape, $\\omega$ of symconv and "
                 "of torch.nn.Conv2d", checked, grid_text(ctx), None, cex),
        Correction(
            r"\omega \in \mathbb{R}^{C_2\times C_1 \times h \times w} "
            r"\text{ (output channel first, as indexed and as in PyTorch)}",
            c_cex is None,
            Evidence("every index the sum reads against the corrected shape, and symconv's and PyTorch's weight shapes",
                     c_checked, grid_text(ctx), None, c_cex, torch_line(ctx, "torch.nn.Conv2d weight shape", c_checked)),
        ),
    )


def bias_shape(ctx: Context) -> Claim:
    """b ∈ 𝓡^{C₂} while the sum adds b_{i,j,k}."""

    def check(spec: ConvSpec) -> str | None:
        spec = per_location(spec)
        used = {s for s in index_sum_as_written(spec).free_symbols if s.name.startswith("b_")}
        c2 = at(C2, spec)
        if len(used) > c2:
            return f"the sum adds {len(used)} distinct $b_{{i,j,k}}$ but $b \\in \\mathbb{{R}}^{{C_2}}$ has {entries_word(c2)}"
        return None

    checked, cex = grid_claim(ctx, check)

    def corrected(spec: ConvSpec) -> str | None:
        local = per_location(spec)
        used = {s for s in index_sum_as_written(local).free_symbols if s.name.startswith("b_")}
        shape = (at(C2, spec), at(H - h + 1, spec), at(W - w + 1, spec))
        if len(used) != int(np.prod(shape)):
            space = r" \times ".join(map(str, shape))
            return f"per location: the sum adds {len(used)} distinct $b$, $\\mathbb{{R}}^{{{space}}}$ has {int(np.prod(shape))}"
        shared = {s for s in built_direct(spec).free_symbols if s.name.startswith("b_")}
        if len(shared) != at(C2, spec):
            return f"shared: the index sum with $b_i$ has {len(shared)} distinct $b$, not $C_2 = {at(C2, spec)}$"
        if ctx.torch and audit_torch.conv2d_parameters(spec, bias=True)[2] != (at(C2, spec),):
            return f"torch.nn.Conv2d bias has shape {audit_torch.conv2d_parameters(spec, bias=True)[2]}"
        return None

    c_checked, c_cex = grid_claim(ctx, corrected)
    return Claim(
        "bias-shape", "the shape of the bias b",
        r"b\in \mathcal{R}^{C_2} \ \text{ but } y_{i,j,k}=b_{i,j,k}+\dots",
        cex is None,
        Evidence("distinct bias entries $b_{i,j,k}$ the note's sum adds, against the $C_2$ entries of $b$", checked,
                 grid_text(ctx), None, cex),
        Correction(
            r"b\in \mathbb{R}^{C_2\times (H-h+1)\times (W-w+1)} \text{ with } b_{i,j,k} \text{ (per location), or } "
            r"b\in \mathbb{R}^{C_2} \text{ with } b_i \text{ (shared, as in PyTorch)}",
            c_cex is None,
            Evidence("per location: the sum's distinct $b$ against the entries of "
                     "$\\mathbb{R}^{C_2\\times(H-h+1)\\times(W-w+1)}$; shared: the distinct $b$ of the index sum with $b_i$ "
                     "against $C_2$", c_checked, grid_text(ctx), None, c_cex,
                     torch_line(ctx, "torch.nn.Conv2d bias shape", c_checked)),
        ),
        remarks=("the note also writes $\\mathcal{R}$ for $\\mathbb{R}$ here (a typo; not checkable by computation)",),
    )


def is_linear(ctx: Context) -> Claim:
    """"Notice that convolution is a linear transformation" — then conv(x) = 𝒲x + b."""

    def inputs_to_zero(spec: ConvSpec) -> dict[sympy.Symbol, int]:
        return dict.fromkeys(entries(input_symbols(spec)), 0)

    def check(spec: ConvSpec) -> str | None:
        y = built_direct(spec)
        at_zero = [e.xreplace(inputs_to_zero(spec)) for e in entries(y)]
        nonzero = [e for e in at_zero if e != 0]
        if nonzero:
            shown = ", ".join(sympy.latex(note_symbols(e)) for e in at_zero[:3]) + (r", \dots" if len(at_zero) > 3 else "")
            return rf"$\text{{conv}}(0) = ({shown}) \ne 0$, so conv is not linear"
        return None

    checked, cex = grid_claim(ctx, check)

    scale = sympy.Symbol("lambda")

    def affine(spec: ConvSpec) -> str | None:
        zero = inputs_to_zero(spec)
        scaled = {x: scale * x for x in zero}
        for e in entries(built_direct(spec)):
            part = e - e.xreplace(zero)  # conv(x) − conv(0)
            if sympy.expand(part.xreplace(scaled) - scale * part) != 0:
                return (r"$\text{conv}(\lambda x) - \text{conv}(0) \ne \lambda(\text{conv}(x) - \text{conv}(0))$ for the "
                        f"output {note_tex(e)}")
        return None

    c_checked, c_cex = grid_claim(ctx, affine)
    return Claim(
        "conv-linear", "convolution is a linear transformation",
        r"\text{Notice that convolution is a linear transformation} \ \dots\ \text{conv}(x) = \mathcal{W} x + b",
        cex is None,
        Evidence(r"$\text{conv}(0)$, computed from the index sum with $x = 0$", checked, grid_text(ctx), None, cex),
        Correction(
            r"\text{conv is affine: } \text{conv}(x) = \mathcal{W}x + b,\ "
            r"x \mapsto \mathcal{W}x = \text{conv}(x) - \text{conv}(0) "
            r"\text{ is linear (linear iff } b = 0)",
            c_cex is None,
            Evidence(r"$\text{conv}(x) - \text{conv}(0)$, a polynomial in $x, \omega, b$, tested for homogeneity of degree 1 "
                     r"in $x$: does scaling $x$ by a symbol $\lambda$ scale it by $\lambda$ (SymPy expand)?",
                     c_checked, grid_text(ctx), None, c_cex),
        ),
        precise=r"‘linear’ read in the strict sense $f(\alpha x + \beta z) = \alpha f(x) + \beta f(z)$, which forces $f(0) = 0$",
    )

