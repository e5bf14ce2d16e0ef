"""Closed forms for all sizes from the entry formula, each proved and cross-checked on concrete layers: nnz(𝒲), the
parameter counts, the receptive field of one layer and of a stack (r_L = r_{L−1} + (k_L − 1)·d_L·Π_{i<L} s_i).

Steps (a :class:`~symconv.prove.proof.Proof`): ``nnz_intervals``, ``params``, ``rf_layer``, ``rf_stack``. prove/ reads
forms/ (above it) for the cross-checks, never closed/ or receptive/ (below it).
"""

from __future__ import annotations

import random
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import C2
from .lemmas import AXES, Q1
from .proof import Proof, ProofDisagreement, Step
from .recheck import Obligation, StepBuilder, concrete_specs, numeric
from .statement import h, o_free, tap, w

__all__ = ["CLOSED_FORM_STEPS", "axis_count", "nnz_formula", "prove_closed_forms"]

#: the steps of :func:`prove_closed_forms`, in order
CLOSED_FORM_STEPS: tuple[str, ...] = ("nnz_intervals", "params", "rf_layer", "rf_stack")

_t = sympy.Symbol("t", integer=True)
_NNZ, _PARAMS, _BIAS = sympy.Symbol("nnz(𝒲)"), sympy.Symbol("params"), sympy.Symbol("bias")
_S, _P, _R = (sympy.Symbol(x, integer=True, positive=True) for x in ("S", "P_0", "R_0"))  # a stack's jump, offset, size
_R_L, _R_PREV = sympy.Symbol("r_L"), sympy.Symbol("r_{L-1}")


def axis_count(axis: int, t: Any) -> tuple[Any, Any, Any]:
    """(first, last, count) of the outputs o whose tap t lands inside the input on one axis."""
    n_, k_, s_, p_, d_, out = AXES[axis]
    first = sympy.Max(0, sympy.ceiling((p_ - t * d_) / s_))
    last = sympy.Min(out - 1, sympy.floor((n_ - 1 + p_ - t * d_) / s_))
    return first, last, sympy.Max(0, last - first + 1)


def nnz_formula() -> sympy.Expr:
    """nnz(𝒲) for all sizes: C₂·q₁·Π_axes Σ_t #{o : 0 ≤ o·s − p + t·d < n} (each count an integer interval).

    >>> nnz_formula().subs({Q1: 1, C2: 1, h: 1, w: 1, AXES[0].n: 3, AXES[1].n: 3, AXES[0].s: 1, AXES[1].s: 1,
    ...                     AXES[0].p: 0, AXES[1].p: 0, AXES[0].d: 1, AXES[1].d: 1, AXES[0].out: 3, AXES[1].out: 3}).doit()
    9
    """
    factors = [sympy.Sum(axis_count(axis, _t)[2], (_t, 0, AXES[axis].k - 1)) for axis in (0, 1)]
    return C2 * Q1 * factors[0] * factors[1]


def prove_closed_forms(rechecks: int = 50, seed: int = 0, steps: tuple[str, ...] = CLOSED_FORM_STEPS) -> Proof:
    """Closed forms for all sizes, each proved and cross-checked on concrete layers; ``steps`` picks some of
    :data:`CLOSED_FORM_STEPS` (each stands on its own).

    >>> prove_closed_forms(rechecks=5).holds
    True
    >>> [s.name for s in prove_closed_forms(rechecks=2, steps=("params",)).steps]
    ['params']
    """
    from .construction import CONSTRUCTIONS, size_hypotheses

    unknown = [s for s in steps if s not in CLOSED_FORM_STEPS]
    if unknown or not steps:
        raise ValueError(f"steps must be some of {', '.join(CLOSED_FORM_STEPS)}, got {steps!r}")
    start = perf_counter()
    specs = concrete_specs(count=rechecks, seed=seed)
    b = StepBuilder(specs, "channel_major")
    hyps = size_hypotheses(CONSTRUCTIONS["blocks"], {})
    # 1. nnz: per axis and tap, the outputs that read inside the input form an integer interval
    if "nnz_intervals" in steps:
        _nnz_step(b, hyps)
    # 2. parameter counts: Σ over ω's index box (an exact polynomial identity) and the bias modes
    if "params" in steps:
        _params_step(b)
    # 3. receptive field of one layer: o reads [o·s − p, o·s − p + (k−1)·d], span d(k−1) + 1
    if "rf_layer" in steps:
        _rf_layer_step(b, hyps)
    # 4. a stack, by induction on its layers
    if "rf_stack" in steps:
        _rf_stack_step(b, seed)
    # the theorem: nnz, the parameter count and the stack's recurrence (rf_layer is the recurrence's base)
    statement = sympy.And(*[s.statement for s in b.steps if s.name != "rf_layer"] or [b.steps[0].statement])
    return Proof("closed forms for all sizes", statement, tuple(b.steps), {}, "channel_major",
                 perf_counter() - start, len(specs), sympy.And(*[hh for hh in hyps if hh is not sympy.true]))


def _nnz_step(b: StepBuilder, hyps: list[Any]) -> None:
    """Step ``nnz_intervals``: Z3 on the intervals; the formula at every concrete layer = nonzeros of the built 𝒲."""
    claims = []
    for axis in (0, 1):
        n_, k_, s_, p_, d_, out = AXES[axis]
        first, last, count = axis_count(axis, _t)
        o = o_free
        inside = sympy.And(o >= 0, o < out, tap(o, _t, s_, p_, d_) >= 0, tap(o, _t, s_, p_, d_) <= n_ - 1)
        claims.append(Obligation(hyps + [_t >= 0, _t < k_, o >= -p_ - 1, o <= out + 1],
                                 sympy.Eq(inside, sympy.And(o >= first, o <= last)), {_t: (0, k_), o: (-p_ - 1, out + 2)}))
        # without padding every tap is inside: the count is the output length
        claims.append(Obligation(hyps + [sympy.Eq(p_, 0), _t >= 0, _t < k_], sympy.Eq(count, out), {_t: (0, k_)},
                                 restricted=True))
    step = b.claim("nnz_intervals", sympy.Eq(_NNZ, nnz_formula()),
                   "Z3 lemma (both axes): 0 ≤ o < n' ∧ 0 ≤ o·s − p + t·d < n ⇔ first_t ≤ o ≤ last_t; nonzeros of 𝒲 ↔ "
                   "(i, l', o, m, n) with both taps inside (block_entries: placements complete and collision-free); "
                   "p = 0 ⇒ nnz = C₂·q₁·h·w·H'·W'", claims)
    if step.holds:
        for spec, vals in zip(b.specs, b.values):
            _recheck_nnz(spec, vals)


def _recheck_nnz(spec: ConvSpec, vals: dict[Any, int]) -> None:
    """The formula at a concrete layer, term by term (SymPy's Sum.doit() is not trusted on Max/Min summands), against
    the nonzeros of the built 𝒲 and ConvSpec.n_terms."""
    from ..forms.blocks import block_terms  # forms/ sits above prove/; imported when a proof runs

    value = vals[C2] * vals[Q1]
    sizes = sorted(vals, key=str)
    for axis in (0, 1):
        count = numeric(axis_count(axis, _t)[2], [_t, *sizes])
        taps = np.arange(vals[AXES[axis].k])
        value *= int(np.sum(count(taps, *[np.full(taps.shape, vals[x]) for x in sizes])))
    terms = block_terms(spec)
    built = int(np.broadcast_to(terms.valid, terms.keys.shape).sum())
    if not value == built == spec.n_terms:
        raise ProofDisagreement(f"nnz formula {value} ≠ built 𝒲 {built} at {spec.describe()}")


def _params_step(b: StepBuilder) -> None:
    """Step ``params``: SymPy sums 1 over ω's index box, checked as a polynomial identity, and against ConvSpec's shapes."""
    i_, lq, mm, nn = (sympy.Symbol(x, integer=True) for x in ("i", "l'", "m", "n"))
    weights = sympy.Sum(1, (i_, 0, C2 - 1), (lq, 0, Q1 - 1), (mm, 0, h - 1), (nn, 0, w - 1))
    poly_ok = sympy.expand(weights.doit() - C2 * Q1 * h * w) == 0
    Ho, Wo = AXES[0].out, AXES[1].out
    bias_counts = {"shared": C2, "per_location": C2 * Ho * Wo, "none": sympy.Integer(0)}
    for spec, vals in zip(b.specs, b.values):  # against ω's and b's shapes as ConvSpec builds them
        want = int((C2 * Q1 * h * w).subs(vals))
        bias_size = 0 if spec.bias == "none" else int(np.prod(spec.bias_shape))
        if poly_ok and (int(np.prod(spec.weight_shape)) != want or bias_size != int(bias_counts[spec.bias].subs(vals))):
            raise ProofDisagreement(f"parameter count {want} ≠ ω's shape {spec.weight_shape} at {spec.describe()}")
    b.steps.append(Step("params", sympy.Eq(_PARAMS, C2 * Q1 * h * w + _BIAS),
                        "SymPy Sum.doit() of 1 over ω's index box, checked as an exact polynomial identity; bias: "
                        "C₂ shared, C₂·H'·W' per location, 0 none (the note's C₂C₁(h−1)(w−1) is off by the −1s)",
                        "proved" if poly_ok else "refuted", rechecks=len(b.specs),
                        objects={"notes": tuple(f"bias {k}: {sympy.sstr(v)}" for k, v in bias_counts.items())}))


def _rf_layer_step(b: StepBuilder, hyps: list[Any]) -> None:
    """Step ``rf_layer``: every tap of output o lies in [o·s − p, o·s − p + (k−1)·d], both ends attained."""
    n_, k_, s_, p_, d_, out = AXES[0]
    o = o_free
    lo, hi = o * s_ - p_, o * s_ - p_ + (k_ - 1) * d_
    layer = [Obligation(hyps + [_t >= 0, _t < k_], sympy.And(tap(o, _t, s_, p_, d_) >= lo, tap(o, _t, s_, p_, d_) <= hi),
                        {_t: (0, k_), o: (0, out)}),
             Obligation(hyps, sympy.And(sympy.Eq(tap(o, 0, s_, p_, d_), lo), sympy.Eq(tap(o, k_ - 1, s_, p_, d_), hi)),
                        {o: (0, out)})]
    b.claim("rf_layer", sympy.Eq(sympy.Symbol("r"), d_ * (k_ - 1) + 1),
            "Z3 lemma: every tap of output o lies in [o·s − p, o·s − p + (k−1)·d], both ends attained", layer)


def _rf_stack_step(b: StepBuilder, seed: int) -> None:
    """Step ``rf_stack``: the induction step by Z3 (no concrete sizes: S, P, R are free), re-checked by walking the tap
    maps of random stacks back to the input."""
    _, k_, s_, p_, d_, _ = AXES[0]
    o, u = o_free, sympy.Symbol("u", integer=True)
    # the field (jump S, offset P, size R) of layers 1…L−1, then layer L: its tap t reads output o2 of the stack below
    o2 = tap(o, _t, s_, p_, d_)
    S2, P2, R2 = _S * s_, _P + p_ * _S, _R + (k_ - 1) * d_ * _S
    read = o2 * _S - _P + u
    stack = [Obligation([s_ >= 1, d_ >= 1, k_ >= 1, _t >= 0, _t < k_, u >= 0, u < _R],
                        sympy.And(read >= o * S2 - P2, read <= o * S2 - P2 + R2 - 1), {}),
             Obligation([s_ >= 1, d_ >= 1, k_ >= 1],
                        sympy.And(sympy.Eq(tap(o, 0, s_, p_, d_) * _S - _P, o * S2 - P2),
                                  sympy.Eq(tap(o, k_ - 1, s_, p_, d_) * _S - _P + _R - 1, o * S2 - P2 + R2 - 1)), {})]
    results = [cl.check() for cl in stack]
    statuses = {res.status for res in results}
    status = "refuted" if "refuted" in statuses else "undetermined" if "undetermined" in statuses else "proved"
    if status == "proved":
        _walk_random_stacks(len(b.specs), seed)
    b.steps.append(Step("rf_stack", sympy.Eq(_R_L, _R_PREV + (k_ - 1) * d_ * _S),
                        "Z3 lemma (induction step, S = Π_{i<L} s_i): if outputs of layers 1…L−1 read "
                        "[o·S − P, o·S − P + R − 1], then layer L's output o reads [o·S·s − (P + p·S), … + R + (k−1)·d·S − 1], "
                        "both ends attained; base r_0 = 1, S = 1, P = 0; re-checked by walking the tap maps of random stacks",
                        status, sum(res.seconds for res in results), len(b.specs), lemma=True))


def _walk_random_stacks(count: int, seed: int) -> None:
    """``count`` random stacks: the recurrence's field size against the taps walked back from two outputs."""
    rng = random.Random(seed)
    for _ in range(count):
        shapes = [(rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 2), rng.randint(1, 3))
                  for _ in range(rng.randint(1, 4))]
        size, jump = 1, 1
        for k0, s0, _p0, d0 in shapes:  # r_L = r_{L−1} + (k_L − 1)·d_L·Π_{i<L} s_i
            size, jump = size + (k0 - 1) * d0 * jump, jump * s0
        for out_pos in (0, 3):
            reached = {out_pos}
            for k0, s0, p0, d0 in reversed(shapes):
                reached = {tap(q, t0, s0, p0, d0) for q in reached for t0 in range(k0)}
            if max(reached) - min(reached) + 1 != size:
                raise ProofDisagreement(f"receptive field recurrence {size} ≠ {max(reached) - min(reached) + 1} "
                                        f"(taps walked back) for the stack {shapes}")
