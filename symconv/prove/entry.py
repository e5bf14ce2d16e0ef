"""The entry derivation of the all-size proof: the coefficient of x_{l,r,c} in y_{i,o_h,o_w}, from the index sum to the
entry formula of :func:`~symconv.prove.statement.entry_formula`, one step per ``doit()`` and per integer lemma.

SymPy does the algebra of sums (KroneckerDelta summation); every range condition is an :class:`Obligation` that Z3
decides — never ``simplify``/``refine`` (sympy#27359). SymPy's own Σ_t ω_t·δ(c, o·s − p + t·d) lacks the divisibility
condition; Z3 refutes it (d = 2) and the step uses the guarded form, which Z3 proves. The output size is exact: the
steps ``window``, ``maximal`` and ``injective``.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..errors import SpecError
from .lemmas import AXES, Q1, Q2, check_valid
from .proof import Counterexample, ProofDisagreement, Step
from .recheck import (
    SIZE_KEYS,
    Obligation,
    StepBuilder,
    entry_codes,
    matrix_codes,
    matrix_from_codes,
    model_split,
    row_number,
    size_values,
    spec_from_sizes,
    verify_matrix,
)
from .statement import (
    c,
    d_w,
    g,
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
    p_w,
    r,
    s_w,
    tap,
    tau_hit,
    w,
)

__all__ = ["channel_step", "claimed_entry_step", "definition_step", "entry_step", "output_size_steps", "tap_steps"]

_t, _t2 = sympy.Symbol("t", integer=True), sympy.Symbol("t_2", integer=True)
_l_prime = sympy.Symbol("l'", integer=True)
#: the coefficient of x_{l,r,c} in y_{i,o_h,o_w}, as a name
COEFFICIENT = sympy.Symbol(r"[x_{l,r,c}]\,y_{i,o_h,o_w}")


def definition_step(b: StepBuilder) -> None:
    """Step ``definition``: the coefficient is a triple Sum of Kronecker deltas (the index sum, the tap map)."""
    s_h, p_h, d_h = AXES[0].s, AXES[0].p, AXES[0].d
    definition = sympy.Sum(
        omega(i, _l_prime, m, n) * sympy.KroneckerDelta(l, sympy.floor(i / Q2) * Q1 + _l_prime)
        * sympy.KroneckerDelta(r, tap(o_h, m, s_h, p_h, d_h)) * sympy.KroneckerDelta(c, tap(o_w, n, s_w, p_w, d_w)),
        (_l_prime, 0, Q1 - 1), (m, 0, h - 1), (n, 0, w - 1))
    b.steps.append(Step("definition", sympy.Eq(COEFFICIENT, definition),
                        "definition of conv (index sum), coefficient of x_{l,r,c}; the tap map of core.taps",
                        "proved", objects={"notes": ("re-checked with the entry step against the index engine",)}))


def _axis_obligations(axis: int, hyps: list[Any]) -> tuple[Obligation, Obligation, str]:
    """On one axis: δ(c, o·s − p + t·d) solved for t; Σ_t by SymPy with the divisibility guard; a note on SymPy's own."""
    coord, o = ((r, o_h), (c, o_w))[axis]
    n_, k_, s_, p_, d_, out = AXES[axis]
    tau, hit = tau_hit(coord, o, axis)
    x = coord - o * s_ + p_
    solve = Obligation(hyps + [o >= 0, o < out, coord >= 0, coord < n_, _t >= 0, _t < k_],
                       sympy.Eq(sympy.Eq(coord, tap(o, _t, s_, p_, d_)), sympy.And(sympy.Eq(sympy.Mod(x, d_), 0),
                                                                                     sympy.Eq(_t, tau))),
                       {o: (0, out), coord: (0, n_), _t: (0, k_)})
    tau_sym = sympy.Symbol("tau", integer=True)
    guarded = sympy.Sum(omega(_t) * sympy.KroneckerDelta(_t, tau_sym), (_t, 0, k_ - 1)).doit().subs(tau_sym, tau)
    guarded = sympy.Piecewise((guarded, sympy.Eq(sympy.Mod(x, d_), 0)), (0, True))
    truth = sympy.Piecewise((omega(tau), hit), (0, True))
    in_axis = [o >= 0, o < out, coord >= 0, coord < n_]
    summed = Obligation(hyps + in_axis, sympy.Eq(guarded, truth), {o: (0, out), coord: (0, n_)})
    # SymPy's own doit() is kept and checked — it has no divisibility condition; informational only: a short timeout
    raw = sympy.Sum(omega(_t) * sympy.KroneckerDelta(coord, tap(o, _t, s_, p_, d_)), (_t, 0, k_ - 1)).doit()
    raw_check = check_valid(hyps + in_axis, sympy.Eq(raw, truth), timeout_ms=2_000)
    if raw_check.status != "refuted":
        return solve, summed, f"SymPy's doit() {sympy.sstr(raw)}: Z3 {raw_check.status} (not used)"
    cx = {k: v for k, v in raw_check.model.items() if k in (str(d_), str(s_), str(p_), str(coord), str(o))}
    return solve, summed, (f"SymPy's doit() gives {sympy.sstr(raw)} — refuted by Z3 (no divisibility condition): {cx}; "
                           "the guarded form is used")


def tap_steps(b: StepBuilder, hyps: list[Any]) -> None:
    """Steps ``tap_solve`` and ``sum_taps``: per axis δ(c, o·s − p + t·d) = [d | c − o·s + p]·δ(t, τ), then Σ_t."""
    solve_h, sum_h, note_h = _axis_obligations(0, hyps)
    solve_w, sum_w, note_w = _axis_obligations(1, hyps)
    tau_w, hit_w = tau_hit(c, o_w, 1)
    guard_w = sympy.Eq(sympy.Mod(c - o_w * s_w + p_w, d_w), 0)
    b.claim("tap_solve", sympy.Eq(sympy.KroneckerDelta(c, tap(o_w, _t, s_w, p_w, d_w)),
                                  sympy.Piecewise((sympy.KroneckerDelta(_t, tau_w), guard_w), (0, True))),
            "Z3 lemma (both axes): c = o·s − p + t·d ⇔ d | c − o·s + p ∧ t = ⌊(c − o·s + p)/d⌋", [solve_h, solve_w])
    b.claim("sum_taps", sympy.Eq(sympy.Sum(omega(n) * sympy.KroneckerDelta(c, tap(o_w, n, s_w, p_w, d_w)), (n, 0, w - 1)),
                                 sympy.Piecewise((omega(tau_w), hit_w), (0, True))),
            "SymPy Sum.doit() of δ(t, τ) (τ an integer) with the divisibility guard of tap_solve; side conditions by Z3",
            [sum_h, sum_w], notes=(note_h, note_w))


def channel_step(b: StepBuilder, hyps: list[Any]) -> None:
    """Step ``sum_channels``: Σ_{l'} ω(l')·δ(l, G·q₁ + l') by SymPy; group membership by Z3."""
    lp, in_group = group_channel()
    ranges = index_ranges()
    chan = sympy.Sum(omega(_l_prime) * sympy.KroneckerDelta(l, sympy.floor(i / Q2) * Q1 + _l_prime),
                     (_l_prime, 0, Q1 - 1))
    rng = {i: ranges[i], l: ranges[l]}
    group_claims = [
        Obligation(hyps + in_ranges(rng),
                   sympy.And(sympy.Eq(in_group, sympy.Eq(sympy.floor(l / Q1), sympy.floor(i / Q2))),
                             sympy.floor(i / Q2) >= 0, sympy.floor(i / Q2) < g), rng),
        Obligation(hyps + in_ranges(rng), sympy.Eq(chan.doit(), sympy.Piecewise((omega(lp), in_group), (0, True))), rng),
    ]
    b.claim("sum_channels", sympy.Eq(chan, sympy.Piecewise((omega(lp), in_group), (0, True))),
            "SymPy Sum.doit(); Z3 lemma: l' ∈ [0, q₁) ⇔ ⌊l/q₁⌋ = ⌊i/q₂⌋ = group(i) < g, with C₁ = g·q₁, C₂ = g·q₂",
            group_claims)


def entry_step(b: StepBuilder, E: Any, order: str) -> Step:
    """Step ``entry``: the product of the sums; re-checked: E against symconv's 𝒲 and 𝒲 against the index sum."""
    from ..forms.blocks import matrix  # forms/ sits above prove/; imported when a proof runs

    fns: dict[Any, Any] = {}
    start = perf_counter()
    for spec in b.specs:
        M = matrix(spec, order=order)
        if not np.array_equal(entry_codes(E, spec, order, fns), matrix_codes(M)):
            raise ProofDisagreement(f"entry formula disagrees with the built 𝒲 at {spec.describe()}")
        if not verify_matrix(spec, M, order).holds:
            raise ProofDisagreement(f"the index engine refutes the built 𝒲 at {spec.describe()}")
    status = "proved" if all(s.holds for s in b.steps) else "undetermined"
    step = Step("entry", sympy.Eq(COEFFICIENT, E),
                "steps definition, tap_solve, sum_taps, sum_channels (product of the sums)",
                status, perf_counter() - start, len(b.specs),
                objects={"notes": ("re-checked: formula = symconv's 𝒲 entry by entry, and 𝒲x + b = index sum "
                                   "by the index engine",)})
    b.steps.append(step)
    return step


def claimed_entry_step(b: StepBuilder, entry: Any, E: Any, hyps: list[Any], order: str) -> None:
    """Step ``claimed_entry``: Z3 compares a claimed formula with E; the index engine confirms a refutation."""
    ranges = index_ranges()
    res = Obligation(hyps + in_ranges(ranges), sympy.Eq(entry, E), ranges).check()
    fns: dict[Any, Any] = {}
    for spec in b.specs:  # concrete: the claimed formula against the built 𝒲
        if res.status == "proved" and not np.array_equal(entry_codes(entry, spec, order, fns),
                                                         entry_codes(E, spec, order, fns)):
            raise ProofDisagreement(f"Z3 proved the claimed entry but it differs from 𝒲 at {spec.describe()}")
    counterexample = None
    if res.status == "refuted":
        counterexample = _confirm_claimed(entry, E, res.model, order, fns)
    b.steps.append(Step("claimed_entry", sympy.Eq(sympy.Symbol("𝒲_{R,Q}"), entry),
                        "Z3: the claimed entry equals the proved entry for all sizes and indices (ω uninterpreted)",
                        res.status, res.seconds, len(b.specs), counterexample, {"smt": [res.smt]}, lemma=True))


def _confirm_claimed(entry: Any, E: Any, model: dict[str, int], order: str, fns: dict[Any, Any]) -> Counterexample:
    """Z3's counterexample to a claimed entry, on the built matrices: the index engine must reject the claimed 𝒲."""
    sizes, indices = model_split(model)
    try:
        spec = spec_from_sizes({k: sizes[k] for k in SIZE_KEYS})
    except (SpecError, KeyError) as exc:
        return Counterexample(sizes, indices, False, f"not a valid layer for the index engine: {exc}")
    verdict = verify_matrix(spec, matrix_from_codes(np.array(entry_codes(entry, spec, order, fns))), order)
    if verdict.holds:
        raise ProofDisagreement(f"Z3 refuted the claimed entry at {model}, but the index engine accepts "
                                f"the matrix it defines at {spec.describe()}")
    mm = verdict.mismatch
    note = (f"the index engine rejects the claimed 𝒲 at {spec.describe()}: "
            + (mm.describe().splitlines()[0] if mm is not None else "mismatch"))
    H_, W_ = spec.input_size
    col = (indices.get("l", 0) * H_ + indices.get("r", 0)) * W_ + indices.get("c", 0)
    at = {sym: v for sym in (i, l, o_h, o_w, r, c) if (v := indices.get(str(sym))) is not None}
    at |= size_values(spec)
    indices = indices | {"row": row_number(order, spec, indices), "column": col, "claimed": entry.subs(at),
                         "proved": E.subs(at)}
    return Counterexample(sizes, indices, True, note)


def output_size_steps(b: StepBuilder, hyps: list[Any]) -> None:
    """Steps ``window``, ``maximal``, ``injective``: every output's taps fit the padded input, one more output would
    not, and distinct taps read distinct inputs (both axes)."""
    t, t2, o = _t, _t2, o_free
    for name, build, text in (
        ("window", lambda a: Obligation(hyps + [o >= 0, o < a.out, t >= 0, t < a.k],
                                        sympy.And(tap(o, t, a.s, a.p, a.d) >= -a.p, tap(o, t, a.s, a.p, a.d) <= a.n - 1 + a.p),
                                        {o: (0, a.out), t: (0, a.k)}),
         "Z3 lemma (both axes): 0 ≤ o < n' ∧ 0 ≤ t < k ⇒ −p ≤ o·s − p + t·d ≤ n − 1 + p"),
        ("maximal", lambda a: Obligation(hyps, tap(a.out, a.k - 1, a.s, a.p, a.d) > a.n - 1 + a.p, {}),
         "Z3 lemma (both axes): n'·s − p + (k−1)·d > n − 1 + p (output n' would not fit)"),
        ("injective", lambda a: Obligation(hyps + [t >= 0, t < a.k, t2 >= 0, t2 < a.k, sympy.Ne(t, t2), o >= 0, o < a.out],
                                           sympy.Ne(tap(o, t, a.s, a.p, a.d), tap(o, t2, a.s, a.p, a.d)),
                                           {o: (0, a.out), t: (0, a.k), t2: (0, a.k)}),
         "Z3 lemma (both axes): d ≥ 1 ∧ t ≠ t₂ ⇒ o·s − p + t·d ≠ o·s − p + t₂·d"),
    ):
        claims = [build(a) for a in AXES]
        b.claim(name, sympy.And(*[cl.conclusion for cl in claims]), text, claims)
