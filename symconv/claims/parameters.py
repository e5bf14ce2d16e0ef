"""The note's claims about parameter counts: per location and shared bias, the factorisation, independence of the
image size, d_x·d_y, the fully-connected count and the two ‘≪’ comparisons."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ..closed.counts import formula, note_setting
from ..core.spec import BiasMode, ConvSpec
from ..core.symbols import C1, C2, size_symbols
from ..forms.blocks import bias_vector
from . import note
from . import torch_checks as audit_torch
from .common import (
    Context,
    at,
    built_matrix,
    distinct_symbols,
    grid_claim,
    grid_text,
    identity,
    shape_tex,
    simple_claim,
    tex,
    torch_line,
)
from .types import Claim, Correction, Counterexample, Evidence

# the note's size symbols, one family per axis from the core: (H, h, …) and (W, w, …)
(H, h, *_), (W, w, *_) = size_symbols(2)
# The note's formulas and its 𝒲 as written are read as ``note.NAME`` when a check runs: one place says what the note
# writes (and a test can change it there).

__all__ = [
    "conv_much_less_than_fc",
    "dxdy",
    "fc_count",
    "kernel_much_less",
    "params_factorisation",
    "params_per_location",
    "params_resolution",
    "params_shared",
]


def _count_check(ctx: Context, expr: sympy.Expr, bias: BiasMode) -> Callable[[ConvSpec], str | None]:
    def check(spec: ConvSpec) -> str | None:
        spec = ConvSpec(spec.in_channels, spec.out_channels, spec.input_size, spec.kernel_size, bias=bias)
        built = distinct_symbols(built_matrix(spec), bias_vector(spec))
        stated = at(expr, spec)
        if stated != built:
            return rf"the formula gives {stated}, the built $\mathcal{{W}}$ and $b$ have {built} distinct parameters"
        if ctx.torch:  # PyTorch has no per-location bias: its weights plus one bias per output entry
            theirs = (audit_torch.conv2d_parameters(spec, bias=True)[0] if bias == "shared"
                      else audit_torch.conv2d_parameters(spec, bias=False)[0] + int(np.prod(audit_torch.output_shape(spec))))
            if theirs != built:
                return rf"PyTorch counts {theirs}, the built $\mathcal{{W}}$ and $b$ {built}"
        return None
    return check


def _params_claim(ctx: Context, claim_id: str, bias: BiasMode, as_written: str, written: sympy.Expr, torch_what: str) -> Claim:
    """The note's parameter count for ``bias`` against the built 𝒲, b (and PyTorch); corrected by the derived count."""
    checked, cex = grid_claim(ctx, _count_check(ctx, written, bias))
    derived = note_setting(formula(f"params_conv_{bias}").expr)
    c_checked, c_cex = grid_claim(ctx, _count_check(ctx, derived, bias))
    mode = bias.replace("_", " ")
    return Claim(
        claim_id, f"number of parameters, bias {mode}", as_written,
        cex is None,
        Evidence(rf"the formula against the distinct symbols of the built $\mathcal{{W}}$ and $b$ (bias {mode})", checked,
                 grid_text(ctx), identity(written, derived)[1], cex),
        Correction(
            sympy.latex(sympy.factor(derived) if bias == "shared" else derived)
            + r"\quad (m, n \text{ run over } h, w \text{ values } 0,\dots,h-1 \text{ and } 0,\dots,w-1)",
            c_cex is None,
            Evidence(r"the count derived by SymPy (Sum over the index ranges of $\omega$ and $b$) against the distinct symbols "
                     r"of the built $\mathcal{W}$, $b$", c_checked, grid_text(ctx), None, c_cex,
                     torch_line(ctx, torch_what, c_checked)),
        ),
    )


def params_per_location(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂(H−h+1)(W−w+1) parameters (bias per location)."""
    return _params_claim(ctx, "params-per-location", "per_location", r"C_2C_1(h-1)(w-1)+C_2(H-h+1)(W-w+1)",
                         note.NOTE_PARAMS_LOCAL, "torch.nn.Conv2d weights + one bias per output entry")


def params_shared(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂ parameters (shared bias)."""
    return _params_claim(ctx, "params-shared", "shared", r"C_2C_1(h-1)(w-1)+C_2", note.NOTE_PARAMS_SHARED,
                         "torch.nn.Conv2d parameter count")


def params_factorisation(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂ = C₂(C₁(h−1)(w−1) + 1)."""
    def check(spec: ConvSpec) -> str | None:
        a, b = at(note.NOTE_PARAMS_SHARED, spec), at(note.NOTE_PARAMS_SHARED_FACTORED, spec)
        return None if a == b else rf"${a} \ne {b}$"

    return simple_claim(
        ctx, "params-factorisation", "the factorisation of the shared count", r"C_2C_1(h-1)(w-1)+C_2=C_2(C_1(h-1)(w-1)+1)",
        check, "SymPy expands both sides (an identity of polynomials, true for all values); both sides on the grid",
        (identity(note.NOTE_PARAMS_SHARED, note.NOTE_PARAMS_SHARED_FACTORED),),
    )


def params_resolution(ctx: Context) -> Claim:
    """The shared count is independent of H and W; it depends on C₁, C₂, h, w only."""
    extra = sorted(map(str, note.NOTE_PARAMS_SHARED.free_symbols - {C1, C2, h, w}))
    derived = note_setting(formula("params_conv_shared").expr)
    derived_extra = sorted(map(str, derived.free_symbols - {C1, C2, h, w}))
    seen: dict[tuple[int, ...], tuple[int, ConvSpec]] = {}

    def check(spec: ConvSpec) -> str | None:
        key = (spec.in_channels, spec.out_channels, *spec.kernel_size)
        count = distinct_symbols(built_matrix(spec), bias_vector(spec))
        if key in seen and seen[key][0] != count:
            before = shape_tex(seen[key][1].input_size)
            return (rf"the built layer has {count} parameters, at $H \times W =$ {before} it had {seen[key][0]} "
                    "(same $C_1, C_2, h, w$)")
        seen.setdefault(key, (count, spec))
        return None

    checked, cex = grid_claim(ctx, check)
    holds = not extra and not derived_extra and cex is None
    return Claim(
        "params-resolution", "the shared count does not depend on the image size",
        r"\text{independent of the resolution of the image (i.e. } W, H\text{); depends only on } C_1, C_2, h, w",
        holds,
        Evidence("free symbols of the note's count and of the derived count; the distinct parameters of built layers with the "
                 "same $C_1, C_2, h, w$ and different $H, W$", checked, grid_text(ctx),
                 rf"\mathrm{{free}}({sympy.latex(note.NOTE_PARAMS_SHARED)}) \setminus \{{C_1, C_2, h, w\}} = "
                 + (r"\emptyset" if not extra else r"\{" + ", ".join(extra) + r"\}"), cex),
    )


def dxdy(ctx: Context) -> Claim:
    """d_x d_y = C₁HWC₂(H−h+1)(W−w+1)."""
    product = note_setting(formula("d_x").expr * formula("d_y").expr)
    written = C1 * H * W * C2 * (H - h + 1) * (W - w + 1)

    def check(spec: ConvSpec) -> str | None:
        rows, cols = built_matrix(spec).shape
        stated = at(written, spec)
        return None if rows * cols == stated else rf"$\mathcal{{W}}$ has {rows * cols} entries, the formula gives {stated}"

    return simple_claim(
        ctx, "dxdy", "the product of the flattened sizes", r"d_xd_y =C_1HWC_2(H-h+1)(W-w+1)", check,
        r"product of the derived $d_x$, $d_y$ (SymPy); the number of entries of the built $\mathcal{W}$",
        (identity(product, written),),
    )


def fc_count(ctx: Context) -> Claim:
    """A fully-connected layer ℝ^{d_x} → ℝ^{d_y} has d_x d_y + C₂(H−h+1)(W−w+1) parameters."""
    derived = note_setting(formula("params_fc").expr)
    ok, tex = identity(derived, note.NOTE_FC, two_lines=True)

    def check(spec: ConvSpec) -> str | None:
        stated = at(note.NOTE_FC, spec)
        if ctx.torch and audit_torch.linear_parameters(spec.d_x, spec.d_y) != stated:
            theirs = audit_torch.linear_parameters(spec.d_x, spec.d_y)
            return f"torch.nn.Linear with $d_x$ inputs and $d_y$ outputs has {theirs}, the formula {stated}"
        return None

    checked, cex = grid_claim(ctx, check)
    return Claim(
        "fc-count", "number of parameters of the fully-connected layer",
        r"d_xd_y + C_2(H-h+1)(W-w+1)",
        ok and cex is None,
        Evidence(r"the derived count (dense $d_y \times d_x$ weights + one bias per output, Sum.doit) against the note's "
                 "right-hand side", checked, grid_text(ctx), tex, cex,
                 torch_line(ctx, "parameter count of torch.nn.Linear with $d_x$ inputs, $d_y$ outputs", checked)),
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
            left, right = at(a, spec), at(b, spec)
            return None if left < right else f"left side {left}, right side {right}"
        return check

    def limits(a: sympy.Expr, b: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
        ratio = sympy.cancel(a / b)  # a rational function: cancel is enough for the limit (and 20× cheaper)
        return sympy.limit(sympy.limit(ratio, H, sympy.oo), W, sympy.oo), sympy.limit(ratio.subs({H: t, W: t}), t, sympy.oo)

    checked, cex = grid_claim(ctx, strict(lhs, rhs))
    limit, diagonal = limits(lhs, rhs)
    holds = cex is None and limit == 0 and diagonal == 0
    evidence = Evidence(
        rf"‘$<$’ at every layer of the grid{'' if cex is None else ' fails'}; the ratio $\to {sympy.latex(limit)}$ as "
        rf"$H \to \infty$ then $W \to \infty$ ($\to {sympy.latex(diagonal)}$ along $H = W \to \infty$), SymPy limit with the "
        "other sizes fixed",
        checked, grid_text(ctx),
        rf"\lim_{{W\to\infty}}\lim_{{H\to\infty}} \frac{{{sympy.latex(lhs)}}}{{{sympy.latex(rhs)}}} = {sympy.latex(limit)}", cex,
    )
    t_checked, t_cex = grid_claim(ctx, strict(true_lhs, true_rhs))
    t_limit, _ = limits(true_lhs, true_rhs)
    pairs = [(spec, at(true_lhs, spec), at(true_rhs, spec)) for spec in ctx.specs]
    above = [spec for spec, a, b in pairs if a > b]
    equal = [spec for spec, a, b in pairs if a == b]
    full_kernel = [spec for spec in ctx.specs if spec.kernel_size == spec.input_size]
    if t_cex is None:
        remark = f"the true counts, derived, are {tex(true_lhs)} and {tex(true_rhs)}; with them ‘$<$’ holds on the grid too"
    else:
        where = ("exactly at the layers with $h = H$ and $w = W$" if equal == full_kernel
                 else "at " + "; ".join(Counterexample.at(s, "").math() for s in equal[:3]))
        remark = (f"the true counts, derived, are {tex(true_lhs)} and {tex(true_rhs)}; with them "
                  rf"the ratio still $\to {sympy.latex(t_limit)}$, but ‘$<$’ fails — smallest counterexample {t_cex.math()}: "
                  rf"{t_cex.detail}; ‘$\le$’ {'holds' if not above else 'fails'} on all {len(pairs)} layers, "
                  f"equality at {len(equal)} of them, {where}")
    return evidence, (remark,), holds


def conv_much_less_than_fc(ctx: Context) -> Claim:
    """C₂C₁(h−1)(w−1) + C₂(H−h+1)(W−w+1) ≪ d_x d_y + C₂(H−h+1)(W−w+1)."""
    true_lhs = note_setting(formula("params_conv_per_location").expr)
    true_rhs = note_setting(formula("params_fc").expr)
    evidence, remarks, holds = _much_less(ctx, note.NOTE_PARAMS_LOCAL, note.NOTE_FC, true_lhs, true_rhs)
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

