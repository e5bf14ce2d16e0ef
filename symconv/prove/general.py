"""Engine "all sizes": conv(x) = 𝒲x + b proved with every size a symbol.

The theorem, entry by entry (0-based; columns of 𝒲 the C-order flatten of x, rows in the chosen order, see
:mod:`symconv.core.symbols`): for every output (i, o_h, o_w) and input (l, r, c) the entry of 𝒲 that the block
construction places equals the coefficient of x_{l,r,c} in y_{i,o_h,o_w} of the index sum,

    [x_{l,r,c}] y_{i,o} = [l ∈ group(i)] · Π_axes [d | c − o·s + p ∧ 0 ≤ τ < k] · ω(i, l − G(i)·q₁, τ_h, τ_w),
    τ = ⌊(c − o·s + p)/d⌋,  G(i) = ⌊i/q₂⌋,  C₁ = g·q₁,  C₂ = g·q₂,

and the bias vector equals the constant term; hence 𝒲x + b = conv(x).

How (pipeline of :func:`prove_general`, one step each, all kept as data in a :class:`Proof`):

1. SymPy does the algebra of sums: the coefficient is a triple Sum of KroneckerDeltas; each ``doit()`` is a
   step, and its side conditions are integer statements that **Z3** decides (:mod:`.lemmas`) — never
   ``simplify``/``refine`` (sympy#27359). SymPy's own Σ_t ω_t·δ(c, o·s − p + t·d) lacks the divisibility
   condition; Z3 refutes it (d = 2) and the step uses the guarded form, which Z3 proves.
2. The integer lemmas — window inside the padded input, maximality of the floor, injectivity of the tap map,
   bijectivity of the flattening and of both row orders, zero-block widths, group channels — each a Z3
   validity check with its time.
3. The block construction (a :class:`Construction`, overridable: the negative controls are constructions)
   places ω at (row, column); Z3 proves every placed entry equals the coefficient above, every nonzero
   coefficient is placed, and no two placements collide.
4. Every step is re-checked at ≥ 50 concrete layers, independently of Z3: the SymPy statements are evaluated
   by brute force over all indices with the sizes symconv's ConvSpec computes, the entry formula against
   the matrix that :func:`symconv.forms.blocks.matrix` builds, and that matrix by the index engine. A
   disagreement raises :class:`~symconv.prove.proof.ProofDisagreement` — it is never a pass. A refuted step's
   counterexample is confirmed the same way (on the built matrices when it names an entry).

Index symbols for a claimed entry (``entry=``) are :data:`ENTRY_SYMBOLS`; :func:`parse_entry` reads a string.

This module is the front door; the work is in one module per job: :mod:`.statement` (symbols, the entry formula),
:mod:`.entry` (the entry derivation), :mod:`.construction` (the block construction and the negative controls),
:mod:`.recheck` (obligations and the concrete re-checks), :mod:`.closed_forms` (nnz, parameters, receptive fields).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import sympy

from ..core.symbols import C1, C2, check_order
from ..errors import SpecError
from .adjoint import ADJOINTS, AdjointForms, adjoint_named, transposed_hypotheses, transposed_layers, transposed_steps
from .backprop import backprop_steps
from .closed_forms import nnz_formula, prove_closed_forms
from .construction import (
    CONSTRUCTIONS,
    Construction,
    bias_step,
    block_entries_step,
    construction_named,
    flatten_step,
    radix_step,
    row_order_step,
    size_hypotheses,
    zero_blocks_step,
)
from .entry import channel_step, claimed_entry_step, definition_step, entry_step, output_size_steps, tap_steps
from .lemmas import AXES, Q1, Q2
from .names import BIAS_MODES, IDENTITIES
from .proof import Proof, Step
from .recheck import SIZE_KEYS, StepBuilder, concrete_specs
from .statement import ENTRY_SYMBOLS, NOTE_LITERAL_ENTRY, entry_formula, parse_entry

__all__ = [
    "ADJOINTS",
    "AXES",
    "CONSTRUCTIONS",
    "ENTRY_SYMBOLS",
    "NOTE_LITERAL_ENTRY",
    "Q1",
    "Q2",
    "AdjointForms",
    "Construction",
    "concrete_specs",
    "entry_formula",
    "nnz_formula",
    "parse_entry",
    "prove_closed_forms",
    "prove_general",
]


def _fixed_from(fixed: dict[str, Any] | None, kwargs: dict[str, Any]) -> dict[str, int]:
    """Normalise fixed sizes: keys like ``stride=2`` (both axes), ``s_h=2``, ``input_size=(5, 7)``."""
    raw = dict(fixed or {}) | kwargs
    out: dict[str, int] = {}
    pairs = {"input_size": ("H", "W"), "kernel_size": ("h", "w"), "stride": ("s_h", "s_w"),
             "padding": ("p_h", "p_w"), "dilation": ("d_h", "d_w")}
    single = {"in_channels": "C_1", "out_channels": "C_2", "groups": "g"}
    for key, value in raw.items():
        if value is None:
            continue
        if key in pairs:
            vals = (value, value) if isinstance(value, int) else tuple(value)
            if len(vals) != 2:
                raise SpecError(f"{key} must be an int or a pair of ints, got {value!r}")
            out.update(zip(pairs[key], vals))
        elif key in single:
            out[single[key]] = value
        elif key == "output_padding":
            vals = (value, value) if isinstance(value, int) else tuple(value)
            if len(vals) != 2:
                raise SpecError(f"{key} must be an int or a pair of ints, got {value!r}")
            out.update(zip(("a_h", "a_w"), vals))
        elif key in SIZE_KEYS or key in ("a_h", "a_w"):
            out[key] = value
        else:
            raise SpecError(f"fixed size {key!r} is not a size; use one of in_channels, out_channels, input_size, "
                            f"kernel_size, stride, padding, dilation, groups, output_padding or "
                            f"{', '.join(SIZE_KEYS)}, a_h, a_w")
    for key, value in out.items():
        minimum = 0 if key.startswith(("p_", "a_")) else 1
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise SpecError(f"{key} must be an int ≥ {minimum}, got {value!r}")
    return out



def prove_general(fixed: dict[str, Any] | None = None, *, entry: Any = None, order: str = "channel_major",
                  bias: str = "shared", construction: Construction | str = "blocks", rechecks: int = 50, seed: int = 0,
                  identities: tuple[str, ...] = ("forward",), adjoint: AdjointForms | str = "pytorch",
                  **sizes: Any) -> Proof:
    """Prove conv(x) = 𝒲x + b for every size not given in ``fixed``/``sizes`` (Z3 + SymPy); a :class:`Proof`.

    ``entry``: a claimed formula for 𝒲's entries (SymPy expression or text in :data:`ENTRY_SYMBOLS`), proved or
    refuted at the step ``claimed_entry``. ``construction``: a :class:`Construction` or a name in
    :data:`CONSTRUCTIONS` (the negative controls). ``rechecks``: concrete layers each step is re-checked on.
    ``identities``: also "transposed" (:mod:`.adjoint`; ``output_padding=`` fixes a), "backward" (:mod:`.backprop`,
    adds the transposed steps); ``adjoint``: their forms, an :class:`AdjointForms` or a name in :data:`ADJOINTS`.

    >>> prove_general(stride=1, padding=0, dilation=1, groups=1, rechecks=5).failed_step is None
    True
    >>> bad = prove_general(stride=1, padding=0, dilation=1, groups=1, entry=NOTE_LITERAL_ENTRY, rechecks=5)
    >>> bad.holds, bad.failed_step.name, bad.counterexample.confirmed
    (False, 'claimed_entry', True)
    """
    start = perf_counter()
    # 1. inputs: which sizes are fixed, which construction, which claimed entry, which concrete layers
    fixed_sizes, cons, claimed = _inputs(fixed, sizes, order, bias, construction, entry, rechecks)
    extra, forms, all_fixed = _adjoint_inputs(identities, adjoint, fixed_sizes)
    b = StepBuilder(_concrete(fixed_sizes, rechecks, seed), order, cons.output_size)
    size_hyps = size_hypotheses(cons, fixed_sizes)  # the construction's own output size: a control may claim one
    true_hyps = size_hypotheses(CONSTRUCTIONS["blocks"], fixed_sizes)
    E = entry_formula()

    # 2. the entry: the index sum's coefficient, its sums over taps and channels, their product
    definition_step(b)
    tap_steps(b, true_hyps)
    channel_step(b, true_hyps)
    entry_checked = entry_step(b, E, order)

    # 3. a claimed entry formula, if any: Z3 compares it with the proved one, the index engine confirms
    if claimed is not None:
        claimed_entry_step(b, claimed, E, true_hyps, order)

    # 4. the output size is exact: every output's taps fit the padded input; one more output would not
    output_size_steps(b, size_hyps)

    # 5. flattening of x and the row orders are bijections, inverted by div/mod (mixed radix)
    radix_step(b)
    flatten_step(b, cons, size_hyps)
    row_order_step(b, size_hyps)

    # 6. the block construction: zero-block widths, then every entry it places; the bias vector
    zero_blocks_step(b, cons, size_hyps)
    block_entries_step(b, cons, size_hyps, E, order)
    bias_step(b, size_hyps, order, bias)

    # 7. the theorem, from every step but the claimed entry (the theorem is about symconv's construction)
    statement = _theorem_step(b, entry_checked.rechecks)
    title = "conv(x) = 𝒲x + b for all sizes"
    if claimed is not None:
        title, statement = "a claimed formula for 𝒲's entries", sympy.Eq(sympy.Symbol("𝒲_{R,Q}"), claimed)
    assumptions = sympy.And(*[hh for hh in size_hyps if hh is not sympy.true])
    # 8. the adjoint identities, if asked: conv_transpose = 𝒲ᵀ on transposed layers, then backprop (citing both)
    title, statement = _adjoint_steps(b, extra, forms, all_fixed, true_hyps, E, bias, rechecks, seed, title, statement)
    return Proof(title, statement, tuple(b.steps), all_fixed, order, perf_counter() - start, len(b.specs), assumptions,
                 _conditions(extra, forms, all_fixed))


def _conditions(extra: tuple[str, ...], forms: AdjointForms, fixed: dict[str, int]) -> tuple[tuple[str, Any], ...]:
    """The hypotheses of the adjoint parts of the theorem (the transposed layer's sizes), if there are any."""
    return (("the conv_transpose identities", sympy.And(*transposed_hypotheses(forms, fixed))),) if extra else ()


def _adjoint_inputs(identities: Any, adjoint: AdjointForms | str, fixed_sizes: dict[str, int],
                    ) -> tuple[tuple[str, ...], AdjointForms, dict[str, int]]:
    """(the identities beyond forward, in proof order; the adjoint forms; every fixed size) — output_padding
    leaves ``fixed_sizes`` (the forward layer has none); SpecError naming the parameter."""
    if isinstance(identities, str) or not isinstance(identities, (tuple, list)) or \
            any(x not in IDENTITIES for x in identities):
        raise SpecError(f"identities must be a tuple of {', '.join(map(repr, IDENTITIES))}, got {identities!r}")
    extra = tuple(x for x in IDENTITIES[1:] if x in identities or (x == "transposed" and "backward" in identities))
    forms = adjoint_named(adjoint)
    all_fixed = dict(fixed_sizes)
    for key in ("a_h", "a_w"):
        fixed_sizes.pop(key, None)
    if "transposed" not in extra and len(all_fixed) > len(fixed_sizes):
        raise SpecError("output_padding is a size of the transposed identity; add 'transposed' to identities "
                       "(symconv prove --transposed)")
    for ax in "hw":
        a_, s_, d_ = (all_fixed.get(f"{x}_{ax}") for x in "asd")
        if a_ is not None and s_ is not None and d_ is not None and a_ >= max(s_, d_):
            raise SpecError(f"output_padding must be < stride or < dilation on every axis (as in PyTorch), got "
                            f"a_{ax}={a_}, s_{ax}={s_}, d_{ax}={d_}")
    return extra, forms, all_fixed


def _adjoint_steps(b: StepBuilder, extra: tuple[str, ...], forms: AdjointForms, fixed: dict[str, int],
                   hyps: list[Any], E: Any, bias: str, rechecks: int, seed: int, title: str, statement: Any,
                   ) -> tuple[str, Any]:
    """The transposed (and backprop) steps, if ``extra`` asks for them; the proof's title and statement."""
    if not extra:
        return title, statement
    layers = transposed_layers(fixed, count=rechecks, seed=seed)
    if not layers:
        raise SpecError(f"no concrete transposed layer satisfies the fixed sizes {fixed}; check that output_padding "
                        "< max(stride, dilation) and the output has at least one entry")
    transposed_steps(b, forms, fixed, layers, E)
    statements = [statement, b.step("transposed_theorem").statement]
    # all of 𝒲ᵀ only where a < s follows from the fixed sizes; else its rows o < H' (all of them iff a < s)
    transposed = "𝒲ᵀy + b_T" if isinstance(statements[1], sympy.Eq) else "𝒲ᵀ_{o<H'}y + b_T (𝒲ᵀy + b_T iff a < s)"
    title = f"{title.removesuffix(' for all sizes')}, conv_transpose(y) = {transposed}"  # a claimed entry's title stays
    if "backward" in extra:
        backprop_steps(b, forms, hyps, bias)
        statements += [s.statement for s in b.steps if s.name.startswith("grad_")]
        title += " and the backprop identities"
    return f"{title} for all sizes", sympy.Tuple(*statements)


def _inputs(fixed: dict[str, Any] | None, sizes: dict[str, Any], order: str, bias: str,
            construction: Construction | str, entry: Any, rechecks: int) -> tuple[dict[str, int], Construction, Any]:
    """(fixed sizes, construction, claimed entry parsed), each option checked in turn (SpecError naming it)."""
    check_order(order)
    if bias not in BIAS_MODES:
        raise SpecError(f"bias must be one of {', '.join(map(repr, BIAS_MODES))}, got {bias!r}")
    fixed_sizes = _fixed_from(fixed, sizes)
    cons = construction_named(construction)
    claimed = parse_entry(entry) if isinstance(entry, str) else entry
    if not isinstance(rechecks, int) or rechecks < 1:
        raise SpecError(f"rechecks must be an int ≥ 1, got {rechecks!r}")
    return fixed_sizes, cons, claimed


def _concrete(fixed_sizes: dict[str, int], rechecks: int, seed: int) -> list[Any]:
    """The concrete layers every step is re-checked on (SpecError if none satisfies the fixed sizes)."""
    specs = concrete_specs(fixed_sizes, count=rechecks, seed=seed)
    if not specs:
        raise SpecError(f"no concrete layer satisfies the fixed sizes {fixed_sizes}; check that the kernel fits")
    return specs


def _theorem_step(b: StepBuilder, rechecks: int) -> Any:
    """Step ``theorem``: y_R = Σ_Q 𝒲_{R,Q}·x_Q + b_R for every row, from the steps before it; its statement."""
    Ho, Wo = AXES[0].out, AXES[1].out
    H, W = AXES[0].n, AXES[1].n
    d_y, d_x = C2 * Ho * Wo, C1 * H * W
    Wm, xm, bm = sympy.MatrixSymbol("𝒲", d_y, d_x), sympy.MatrixSymbol("x", d_x, 1), sympy.MatrixSymbol("b", d_y, 1)
    conv = sympy.MatrixSymbol("conv(x)", d_y, 1)
    statement = sympy.Eq(sympy.MatAdd(sympy.MatMul(Wm, xm), bm), conv)
    others = [s for s in b.steps if s.name != "claimed_entry"]
    status = "proved" if all(s.holds for s in others) else (
        "refuted" if any(s.status == "refuted" for s in others) else "undetermined")
    b.steps.append(Step("theorem", statement,
                        "y_R = Σ_Q 𝒲_{R,Q}·x_Q + b_R for every row: entry ∧ block_entries ∧ flatten ∧ row_order ∧ bias",
                        status, rechecks=rechecks))
    return statement
