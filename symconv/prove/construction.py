"""The note's 2-D block construction of 𝒲 as data (:class:`Construction`), its negative controls, and the steps that
prove a construction places exactly the entries of the theorem.

The construction (0-based, rows in the chosen order): row block (i, o_h, o_w), channel block l, is
O_{before} | B_{l,0} | O_{gap} | … | B_{l,h−1} | O_{after} with block t at image row o_h·s − p + t·d, and inside B
the same layout on the columns. :data:`CONSTRUCTIONS` names symconv's (``"blocks"``), the note's literal kernel row
and the negative controls (an off-by-one output range, a swapped flattening, a wrong zero-block width, a stride not
applied, a dilation applied to the wrong side); each must fail at the step that names its mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sympy

from ..core.spec import ConvSpec
from ..core.symbols import C1, C2, g
from ..errors import SpecError
from .lemmas import AXES, Q1, Q2
from .names import CONSTRUCTION_NAMES
from .proof import ProofDisagreement, Step
from .recheck import SIZE_KEYS, Obligation, StepBuilder, size_values, spec_from_sizes, verify_matrix
from .statement import (
    H,
    Ho,
    W,
    Wo,
    bias_fn,
    c,
    d_h,
    d_w,
    floor_size,
    group_channel,
    h,
    i,
    in_ranges,
    index_ranges,
    l,
    m,
    n,
    o_free,
    o_h,
    o_w,
    omega,
    p_h,
    p_w,
    r,
    row_decode,
    row_index,
    s_h,
    s_w,
    tap,
    tau_hit,
    w,
)

__all__ = [
    "CONSTRUCTIONS", "Construction", "bias_step", "block_entries_step", "construction_matrix", "construction_named",
    "flatten_step", "radix_step", "row_order_step", "size_hypotheses", "zero_blocks_step",
]


def kernel_index(o: Any, t: Any) -> Any:
    """The kernel row (column) block t holds: t, whatever the output o."""
    return t


def c_order_flatten(l_: Any, r_: Any, c_: Any, H_: Any, W_: Any) -> Any:
    """The column of x_{l,r,c}: (l·H + r)·W + c (C order, as NumPy's reshape(-1))."""
    return (l_ * H_ + r_) * W_ + c_

@dataclass(frozen=True)
class Construction:
    """How a block construction lays out 𝒲 — each piece a function on SymPy expressions (or ints).

    * ``output_size(n, k, s, p, d)``: output length per axis (default PyTorch's floor).
    * ``tap(o, t, s, p, d)``: image row (column) of the block (entry) holding kernel row (column) t for output
      o; default o·s − p + t·d.
    * ``kernel_row(o, m)`` / ``kernel_col(o, n)``: which kernel row (column) that block holds; default m (n).
    * ``zero_before(o, s, p, d, unit)`` / ``gap(o, s, p, d, unit)``: widths of the zero block before the first
      B and between consecutive Bs (unit = W for row blocks, 1 inside B); default from ``tap``.
    * ``flatten(l, r, c, H, W)``: column of x_{l,r,c}; default (l·H + r)·W + c.

    >>> Construction().tap(1, 2, 2, 1, 3)
    7
    """

    name: str = "blocks"
    output_size: Callable[..., Any] = floor_size
    tap: Callable[..., Any] = tap  # the statement's tap map
    kernel_row: Callable[[Any, Any], Any] = kernel_index
    kernel_col: Callable[[Any, Any], Any] = kernel_index
    zero_before: Callable[..., Any] | None = None
    gap: Callable[..., Any] | None = None
    flatten: Callable[..., Any] = c_order_flatten

    def zero_width(self, o: Any, s_: Any, p_: Any, d_: Any, unit: Any) -> Any:
        """Width of the zero block before the first B (unit = W for row blocks, 1 inside B)."""
        if self.zero_before is not None:
            return self.zero_before(o, s_, p_, d_, unit)
        return self.tap(o, 0, s_, p_, d_) * unit

    def gap_width(self, o: Any, s_: Any, p_: Any, d_: Any, unit: Any) -> Any:
        """Width of the zero block between consecutive Bs."""
        if self.gap is not None:
            return self.gap(o, s_, p_, d_, unit)
        return (self.tap(o, 1, s_, p_, d_) - self.tap(o, 0, s_, p_, d_) - 1) * unit


#: named constructions: symconv's (``"blocks"``), the note's literal kernel row, and the negative controls
CONSTRUCTIONS: dict[str, Construction] = {
    "blocks": Construction(),
    "note_row_index": Construction("note_row_index", kernel_row=lambda o, t: o + 1 + t),
    "off_by_one_output": Construction("off_by_one_output", output_size=lambda *a: floor_size(*a) + 1),
    "swapped_flatten": Construction("swapped_flatten", flatten=lambda l_, r_, c_, H_, W_: (l_ * W_ + c_) * H_ + r_),
    "wrong_zero_block": Construction("wrong_zero_block", zero_before=lambda o, s_, p_, d_, u: (o * s_ - p_ + 1) * u),
    "stride_not_applied": Construction("stride_not_applied", tap=lambda o, t, s_, p_, d_: o - p_ + t * d_),
    "dilation_wrong_side": Construction("dilation_wrong_side", tap=lambda o, t, s_, p_, d_: o * d_ - p_ + t * s_),
}
# the command line offers these names without importing this module
assert tuple(CONSTRUCTIONS) == CONSTRUCTION_NAMES, (tuple(CONSTRUCTIONS), CONSTRUCTION_NAMES)


def construction_named(construction: Construction | str) -> Construction:
    """A :class:`Construction` or its name in :data:`CONSTRUCTIONS`; SpecError naming the choices otherwise."""
    if isinstance(construction, Construction):
        return construction
    if construction not in CONSTRUCTIONS:
        raise SpecError(f"construction must be one of {', '.join(CONSTRUCTIONS)} or a Construction, got {construction!r}")
    return CONSTRUCTIONS[construction]


def size_hypotheses(construction: Construction, fixed: dict[str, int]) -> list[Any]:
    """The sizes' hypotheses: C₁ = g·q₁, C₂ = g·q₂, the kernel fits the padded input, the construction's output size,
    and the ``fixed`` sizes."""
    hyps: list[Any] = [sympy.Eq(C1, g * Q1), sympy.Eq(C2, g * Q2)]
    for n_, k_, s_, p_, d_, out in AXES:
        hyps += [d_ * (k_ - 1) + 1 <= n_ + 2 * p_, sympy.Eq(out, construction.output_size(n_, k_, s_, p_, d_))]
    names = {str(s): s for s in (C1, C2, g, *(x for a in AXES for x in a))}
    hyps += [sympy.Eq(names[k], v) for k, v in fixed.items()]
    return hyps


# ----------------------------------------------------------------------------- a construction's 𝒲 at a concrete layer
def construction_matrix(spec: ConvSpec, cons: Construction, order: str) -> sympy.SparseMatrix:
    """𝒲 placed by ``cons`` at a concrete layer (rows in ``order``): ω at (row, flatten(l, tap_h, tap_w))."""
    vals = size_values(spec)
    Hc, Wc = spec.input_size
    Hoc, Woc = (int(cons.output_size(vals[a.n], vals[a.k], vals[a.s], vals[a.p], vals[a.d])) for a in AXES)
    entries: dict[tuple[int, int], Any] = {}
    for i_ in range(spec.out_channels):
        grp = i_ // spec.out_per_group
        for oh in range(min(Hoc, spec.output_size[0])):
            for ow in range(min(Woc, spec.output_size[1])):
                row = (i_ * spec.output_size[0] + oh) * spec.output_size[1] + ow if order == "channel_major" else \
                    (oh * spec.output_size[1] + ow) * spec.out_channels + i_
                for lp in range(spec.in_per_group):
                    l_ = grp * spec.in_per_group + lp
                    for m_ in range(spec.kernel_size[0]):
                        rr = int(cons.tap(oh, m_, vals[s_h], vals[p_h], vals[d_h]))
                        for n_ in range(spec.kernel_size[1]):
                            cc = int(cons.tap(ow, n_, vals[s_w], vals[p_w], vals[d_w]))
                            if 0 <= rr < Hc and 0 <= cc < Wc:
                                col = int(cons.flatten(l_, rr, cc, Hc, Wc))
                                if 0 <= col < spec.d_x:
                                    entries[(row, col)] = sympy.Symbol(
                                        f"omega_{i_},{lp},{int(cons.kernel_row(oh, m_))},{int(cons.kernel_col(ow, n_))}")
    return sympy.SparseMatrix(spec.d_y, spec.d_x, entries)


# ----------------------------------------------------------------------------- the steps about a construction
_A, _Cd, _Cd2, _A2 = (sympy.Symbol(x, integer=True) for x in ("a", "d", "d_2", "a_2"))
_RADIX, _BOUND = sympy.Symbol("N", integer=True, positive=True), sympy.Symbol("M", integer=True, positive=True)


def _radix_claims() -> list[Obligation]:
    """Mixed-radix facts for a symbolic radix N: a·N + d with 0 ≤ d < N is unique, in range, inverted by div/mod."""
    digit = [_Cd >= 0, _Cd < _RADIX]
    val = _A * _RADIX + _Cd
    q, rem = sympy.floor(sympy.Symbol("y", integer=True) / _RADIX), sympy.Mod(sympy.Symbol("y", integer=True), _RADIX)
    y = sympy.Symbol("y", integer=True)
    rng = {_A: (0, 3), _Cd: (0, _RADIX)}
    return [
        Obligation(digit + [_Cd2 >= 0, _Cd2 < _RADIX, sympy.Eq(val, _A2 * _RADIX + _Cd2)],
                   sympy.And(sympy.Eq(_A, _A2), sympy.Eq(_Cd, _Cd2)), rng | {_A2: (0, 3), _Cd2: (0, _RADIX)}),
        Obligation(digit, sympy.And(sympy.Eq(sympy.floor(val / _RADIX), _A), sympy.Eq(sympy.Mod(val, _RADIX), _Cd)), rng),
        Obligation(digit + [_A >= 0, _A < _BOUND], sympy.And(val >= 0, val < _BOUND * _RADIX), rng),
        Obligation([y >= 0, y < _BOUND * _RADIX], sympy.And(q >= 0, q < _BOUND, rem >= 0, rem < _RADIX,
                                                           sympy.Eq(q * _RADIX + rem, y)), {y: (0, _BOUND * _RADIX)}),
    ]


def radix_step(b: StepBuilder) -> None:
    """Step ``radix``: the mixed-radix lemma for a symbolic radix (flatten and row_order instantiate it)."""
    claims = _radix_claims()
    b.claim("radix", sympy.And(*[cl.conclusion for cl in claims]),
            "Z3 lemma: for a symbolic radix N ≥ 1 and digit 0 ≤ d < N, a·N + d is unique, in [0, M·N) for "
            "0 ≤ a < M, and ⌊(a·N + d)/N⌋ = a, (a·N + d) mod N = d; every y ∈ [0, M·N) is ⌊y/N⌋·N + y mod N",
            claims, concrete=lambda v: [{_RADIX: v[W], _BOUND: v[C1] * v[H]}, {_RADIX: v[H], _BOUND: v[C1]},
                                        {_RADIX: v[C2], _BOUND: v[Ho] * v[Wo]}])


def _radix_instances(hyps: list[Any], high: Any, mid: Any, low: Any, sizes: tuple[Any, Any, Any],
                     rng: dict[Any, tuple[Any, Any]]) -> list[Obligation]:
    """((high·n₂ + mid)·n₃ + low) is a bijection with inverse by div/mod: the radix lemma at (a := high, N := n₂),
    then at (a := high·n₂ + mid, N := n₃) — substitution instances, re-checked concretely."""
    n1, n2, n3 = sizes
    flat = (high * n2 + mid) * n3 + low
    y = sympy.Symbol("y", integer=True)
    top, middle, bottom = sympy.floor(sympy.floor(y / n3) / n2), sympy.Mod(sympy.floor(y / n3), n2), sympy.Mod(y, n3)
    return [
        Obligation(hyps + in_ranges(rng), sympy.And(flat >= 0, flat < n1 * n2 * n3, sympy.Eq(sympy.Mod(flat, n3), low),
                                                     sympy.Eq(sympy.Mod(sympy.floor(flat / n3), n2), mid),
                                                     sympy.Eq(sympy.floor(sympy.floor(flat / n3) / n2), high)), rng, z3=False),
        Obligation(hyps + [y >= 0, y < n1 * n2 * n3], sympy.And(top >= 0, top < n1, middle >= 0, middle < n2, bottom >= 0,
                                                                bottom < n3, sympy.Eq((top * n2 + middle) * n3 + bottom, y)),
                   {y: (0, n1 * n2 * n3)}, z3=False),
    ]


def flatten_step(b: StepBuilder, cons: Construction, hyps: list[Any]) -> None:
    """Step ``flatten``: the construction's column of x_{l,r,c} is the C-order flatten, a bijection."""
    col = cons.flatten(l, r, c, H, W)
    rng = {l: (0, C1), r: (0, H), c: (0, W)}
    # the construction's column of x_{l,r,c} is the C-order flatten: a polynomial identity, decided by Z3
    same = Obligation(hyps + in_ranges(rng), sympy.Eq(col, (l * H + r) * W + c), rng)
    b.claim("flatten", sympy.Eq(sympy.Symbol("Q"), col),
            "Z3: the construction's column of x_{l,r,c} is (l·H + r)·W + c; radix instances (a := l, N := H), "
            "(a := l·H + r, N := W): a bijection onto [0, C₁HW) with inverse (⌊⌊Q/W⌋/H⌋, ⌊Q/W⌋ mod H, Q mod W)",
            [same, *_radix_instances(hyps, l, r, c, (C1, H, W), rng)], depends=("radix",))


def row_order_step(b: StepBuilder, hyps: list[Any]) -> None:
    """Step ``row_order``: both row orders are bijections onto [0, C₂H'W'), inverted by div/mod."""
    rng = {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo)}
    claims = [*_radix_instances(hyps, i, o_h, o_w, (C2, Ho, Wo), rng),
              *_radix_instances(hyps, o_h, o_w, i, (Ho, Wo, C2), rng)]
    b.claim("row_order", sympy.And(sympy.Eq(sympy.Symbol("R_channel_major"), row_index("channel_major", i, o_h, o_w)),
                                   sympy.Eq(sympy.Symbol("R_seed"), row_index("seed", i, o_h, o_w))),
            "radix instances: channel_major (a := i, N := H'), (a := i·H' + o_h, N := W'); seed (a := o_h, N := W'), "
            "(a := o_h·W' + o_w, N := C₂) — both bijections onto [0, C₂H'W') inverted by div/mod, so seed ↔ "
            "channel_major is a permutation", claims, depends=("radix",))


def zero_blocks_step(b: StepBuilder, cons: Construction, hyps: list[Any]) -> None:
    """Step ``zero_blocks``: the zero-block widths put block t at the tap map, nonnegative and summing to HW."""
    claims, widths = [], []
    for axis, unit in ((0, W), (1, sympy.Integer(1))):
        n_, k_, s_, p_, d_, out = AXES[axis]
        o = (o_h, o_w)[axis]
        before, gap = cons.zero_width(o, s_, p_, d_, unit), cons.gap_width(o, s_, p_, d_, unit)
        after = n_ * unit - before - k_ * unit - (k_ - 1) * gap
        rng = {o: (0, out), o_free: (0, k_)}
        # block t (B_{l,t,k} on the row axis, kernel column t inside B) starts where the tap map puts it
        starts = sympy.Eq(before + o_free * (unit + gap), tap(o, o_free, s_, p_, d_) * unit)
        claims.append(Obligation(hyps + in_ranges(rng), starts, rng))
        # without padding every block is inside: widths ≥ 0, summing to the row length n·unit
        claims.append(Obligation(hyps + [sympy.Eq(p_, 0), o >= 0, o < out],
                                 sympy.And(before >= 0, gap >= 0, after >= 0), {o: (0, out)}, restricted=True))
        widths.append(sympy.Eq(sympy.Symbol(f"width_{axis}"), before + k_ * unit + (k_ - 1) * gap + after))
    statement = sympy.And(*[sympy.Eq(sympy.Symbol("O_before_h"), cons.zero_width(o_h, s_h, p_h, d_h, W)),
                            sympy.Eq(sympy.Symbol("O_gap_h"), cons.gap_width(o_h, s_h, p_h, d_h, W)),
                            sympy.Eq(sympy.Symbol("zeros_before_w"), cons.zero_width(o_w, s_w, p_w, d_w, 1))])
    b.claim("zero_blocks", statement,
            "Z3 lemma (both axes): O_{C₂×before} | B | O_{gap} | … | B | O_{after} puts block t at o·s − p + t·d; "
            "without padding before, gap, after ≥ 0 and they sum to HW (W inside B); the note (s = d = 1): "
            "(j−1)W, 0, (H−h−j+1)W and k−1, W−w−k+1", claims,
            notes=("stride 1, no padding, dilation 1: before = o_h·W = (j−1)W, after = (H − h − o_h)·W",))


def block_entries_step(b: StepBuilder, cons: Construction, hyps: list[Any], E: Any, order: str) -> None:
    """Step ``block_entries``: every placed ω is the coefficient E there, every nonzero is placed, none collide."""
    m2, n2 = sympy.Symbol("m_2", integer=True), sympy.Symbol("n_2", integer=True)
    rr = cons.tap(o_h, m, s_h, p_h, d_h)
    cc = cons.tap(o_w, n, s_w, p_w, d_w)
    lq = sympy.floor(i / Q2) * Q1 + sympy.Symbol("l'", integer=True)
    lpr = sympy.Symbol("l'", integer=True)
    placed = sympy.And(rr >= 0, rr < H, cc >= 0, cc < W)
    value = omega(i, lpr, cons.kernel_row(o_h, m), cons.kernel_col(o_w, n))
    rng = {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo), lpr: (0, Q1), m: (0, h), n: (0, w)}
    # column Q = flatten(l, r, c) ↔ (l, r, c) is the bijection of step flatten: compare at the placed (l, r, c)
    truth_at = E.subs({l: lq, r: rr, c: cc}, simultaneous=True)
    sound = Obligation(hyps + in_ranges(rng) + [placed], sympy.Eq(truth_at, value), rng)
    # every nonzero coefficient is placed: witness m = τ_h, n = τ_w, l' = l − G·q₁
    tau_h, hit_h = tau_hit(r, o_h, 0)
    tau_w, hit_w = tau_hit(c, o_w, 1)
    lp, in_group = group_channel()
    rng_all = index_ranges()
    complete = Obligation(hyps + in_ranges(rng_all) + [in_group, hit_h, hit_w], sympy.And(
        sympy.Eq(cons.tap(o_h, tau_h, s_h, p_h, d_h), r), sympy.Eq(cons.tap(o_w, tau_w, s_w, p_w, d_w), c)), rng_all)
    # no two placements of one row collide (each entry of 𝒲 is one weight or 0)
    rng2 = {o_h: (0, Ho), o_w: (0, Wo), m: (0, h), n: (0, w), m2: (0, h), n2: (0, w)}
    rr2, cc2 = cons.tap(o_h, m2, s_h, p_h, d_h), cons.tap(o_w, n2, s_w, p_w, d_w)
    distinct = Obligation(hyps + in_ranges(rng2) + [sympy.Or(sympy.Ne(m, m2), sympy.Ne(n, n2))],
                          sympy.Or(sympy.Ne(rr, rr2), sympy.Ne(cc, cc2)), rng2)
    step = b.claim("block_entries",
                   sympy.Eq(sympy.Symbol("𝒲_{R,Q}"), value),
                   "Z3: each placed ω(i, l', m, n) equals the coefficient at its (row, column); every nonzero "
                   "coefficient is placed (witness m = τ_h, n = τ_w); no two placements collide",
                   [sound, complete, distinct], depends=("flatten", "row_order"))
    if step.status == "refuted" and step.counterexample is not None:
        _confirm_construction(b, step, cons, order)


def _confirm_construction(b: StepBuilder, step: Step, cons: Construction, order: str) -> None:
    """A refuted construction: build its 𝒲 at the counterexample's sizes; the index engine must reject it."""
    cx = step.counterexample
    assert cx is not None
    try:
        spec = spec_from_sizes({k: cx.sizes[k] for k in SIZE_KEYS})
    except (SpecError, KeyError):
        return
    verdict = verify_matrix(spec, construction_matrix(spec, cons, order), order)
    if verdict.holds:
        raise ProofDisagreement(f"step {step.name}: Z3 refuted the construction but its 𝒲 at {spec.describe()} "
                                "passes the index engine")
    note = f"{cx.note}; the index engine rejects this construction's 𝒲 at {spec.describe()}"
    b.steps[-1] = replace(step, counterexample=replace(cx, confirmed=True, note=note))


def bias_step(b: StepBuilder, hyps: list[Any], order: str, bias: str) -> None:
    """Step ``bias``: b_R is the constant term of the output that row R decodes to."""
    rng = {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo)}
    row = row_index(order, i, o_h, o_w)
    di, doh, dow = row_decode(order, row)
    if bias == "shared":
        vec, const = bias_fn(di), bias_fn(i)
    elif bias == "per_location":
        vec, const = bias_fn(di, doh, dow), bias_fn(i, o_h, o_w)
    else:
        vec, const = sympy.Integer(0), sympy.Integer(0)
    b.claim("bias", sympy.Eq(sympy.Symbol("b_R"), const),
            f"row_order: row R = {sympy.sstr(row)} ({order}) decodes to (i, o_h, o_w), so b_R is the constant term "
            f"of y_{{i,o_h,o_w}} (bias {bias})",
            [Obligation(hyps + in_ranges(rng), sympy.Eq(vec, const), rng, z3=False)], depends=("row_order",))
