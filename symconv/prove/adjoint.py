"""The transposed convolution in the all-size proof: conv_transpose(y) = 𝒲ᵀy + b_T, every size a symbol.

PyTorch's conv_transpose2d by its own index sum (0-based): input y of shape (C₂, H', W'), weight ω in PyTorch's
transposed layout (C₂, q₁, h, w) — the forward weight itself —, output z of shape (C₁, H_T, W_T) with
H_T = (H' − 1)s − 2p + d(h − 1) + a + 1 (a = output_padding, PyTorch: 0 ≤ a < max(s, d)), G(i) = ⌊i/q₂⌋:

    z_{l,r,c} = b_T(l) + Σ_{i₂,u,v} y_{i₂,u,v} Σ_{l',m,n} ω(i₂, l', m, n)·δ(l, G(i₂)q₁ + l')·δ(r, u·s − p + m·d)
                                                         ·δ(c, v·s − p + n·d)

The size symbols are the forward layer's, read from the other side: H (the forward input) is H_T, H' (the forward
output) is the transposed input. Steps (appended by ``prove_general(identities=("transposed",))``):

1. ``transposed_coefficient``: SymPy differentiates z w.r.t. the Indexed y_{i,o_h,o_w} (Kronecker deltas) and does
   the outer sums (one ``doit(deep=False)``); Z3 proves their range conditions. The constant term is b_T(l).
2. ``transposed_size``: Z3: for every PyTorch a the forward output size of H_T is H' + ⌊a/s⌋ and the kernel fits, so
   the rows (i, o_h, o_w) of y are row-blocks of 𝒲 at input H_T; with a < s it is exactly H'. Z3 refutes the
   unrestricted lemma (PyTorch allows s ≤ a < d): a finding, confirmed on a built ConvTranspose layer.
3. ``transposed_entry``: the coefficient is E(R, Q), the entry of 𝒲 the forward proof proved: Z3 solves each axis'
   tap δ on the transposed ranges, SymPy sums over taps and channels (the forward steps, re-stated here).
4. ``transposed_theorem``: z = 𝒲ᵀy + b_T, 𝒲 restricted to its rows (i, o_h, o_w) with o_h < H', o_w < W' — of its
   H' + ⌊a_h/s_h⌋ and W' + ⌊a_w/s_w⌋ output positions; all of 𝒲 iff a < s on both axes.

Every step is re-checked at ≥ 50 concrete transposed layers (some with s ≤ a < d), independently of Z3: the
obligations by brute force, E entry by entry against :func:`symconv.forms.transposed.transposed_terms` (PyTorch's
scatter form), and the whole map by :func:`symconv.prove.transposed.prove_transposed` (index engine, 𝒲ᵀ of the
built 𝒲). The negative controls (:data:`ADJOINTS`) must fail at the step that names their mistake.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy

from ..core.symbols import C1, C2, g
from ..core.taps import tap
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from .lemmas import AXES, Q1, Q2, check_valid
from .names import ADJOINT_NAMES
from .proof import Counterexample, ProofDisagreement, Step
from .recheck import CODED, Obligation, StepBuilder, numeric
from .statement import H, Ho, W, Wo, bias_fn, c, floor_size, group_channel, i, in_ranges, l, m, n, o_h, o_w, omega, r
from .statement import tau_hit as _tau_hit

__all__ = [
    "ADJOINTS", "OUTPUT_PADDING", "AdjointForms", "adjoint_named", "coefficient_step", "entry_codes_T", "entry_step",
    "layer_from_model", "pytorch_codes", "pytorch_tap", "scatter_codes", "size_step", "theorem_step",
    "transposed_hypotheses", "transposed_layers", "transposed_size", "transposed_steps", "transposed_values",
]

#: output_padding per axis (a_h, a_w), symbolic unless fixed
OUTPUT_PADDING = (sympy.Symbol("a_h", integer=True), sympy.Symbol("a_w", integer=True))
#: y, the transposed layer's input, as an IndexedBase: SymPy differentiates a Sum over y w.r.t. one y_{i,o_h,o_w}
Y = sympy.IndexedBase("y")
_i2, _u, _v, _t = (sympy.Symbol(x, integer=True) for x in ("i_2", "u", "v", "t"))
_lp = sympy.Symbol("l'", integer=True)
COEFFICIENT_T = sympy.Symbol(r"[y_{i,o_h,o_w}]\,z_{l,r,c}")


def transposed_size(n_: Any, k_: Any, s_: Any, p_: Any, d_: Any, a_: Any) -> Any:
    """PyTorch's ConvTranspose output length (n − 1)s − 2p + d(k − 1) + a + 1 (ints or SymPy).

    >>> transposed_size(3, 3, 2, 1, 1, 1)
    6
    """
    return (n_ - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + a_ + 1


def pytorch_tap(o: Any, t: Any, s_: Any, p_: Any, d_: Any, k_: Any) -> Any:
    """Where conv_transpose sends y at position o through tap t: o·s − p + t·d (the forward tap map).

    >>> pytorch_tap(2, 1, 2, 1, 3, 3)
    6
    """
    return tap(o, t, s_, p_, d_)


@dataclass(frozen=True)
class AdjointForms:
    """The transposed and backprop forms the adjoint steps prove, each a function (negative controls replace one).

    * ``transposed_tap(o, t, s, p, d, k)``: output position of y at o through tap t in conv_transpose's index sum.
    * ``transposed_size(n, k, s, p, d, a)``: conv_transpose's output length.
    * ``grad_weight_tap(o, t, s, p, d)``: the x_pad position ∂L/∂ω reads for output o and tap t.
    * ``grad_bias_summed``: ∂L/∂b_i = Σ_o g_{i,o} (shared bias) rather than g_{i,0,0}.

    >>> AdjointForms().transposed_tap(1, 2, 2, 1, 3, 3)
    7
    """

    name: str = "pytorch"
    transposed_tap: Callable[..., Any] = pytorch_tap
    transposed_size: Callable[..., Any] = transposed_size
    grad_weight_tap: Callable[..., Any] = tap
    grad_bias_summed: bool = True


#: PyTorch's forms and the negative controls, each wrong in one place
ADJOINTS: dict[str, AdjointForms] = {
    "pytorch": AdjointForms(),
    "transposed_kernel_flipped": AdjointForms("transposed_kernel_flipped",
                                              transposed_tap=lambda o, t, s_, p_, d_, k_: o * s_ - p_ + (k_ - 1 - t) * d_),
    "transposed_tap_sign": AdjointForms("transposed_tap_sign", transposed_tap=lambda o, t, s_, p_, d_, k_: o * s_ + p_ + t * d_),
    "transposed_size_no_padding": AdjointForms(
        "transposed_size_no_padding", transposed_size=lambda n_, k_, s_, p_, d_, a_: (n_ - 1) * s_ + d_ * (k_ - 1) + a_ + 1),
    "grad_weight_stride_dilation_swapped": AdjointForms("grad_weight_stride_dilation_swapped",
                                                        grad_weight_tap=lambda o, t, s_, p_, d_: o * d_ - p_ + t * s_),
    "grad_bias_not_summed": AdjointForms("grad_bias_not_summed", grad_bias_summed=False),
}
assert tuple(ADJOINTS) == ADJOINT_NAMES, (tuple(ADJOINTS), ADJOINT_NAMES)


def adjoint_named(forms: AdjointForms | str) -> AdjointForms:
    """An :class:`AdjointForms` or its name in :data:`ADJOINTS`; SpecError naming the choices otherwise.

    >>> adjoint_named("pytorch").name
    'pytorch'
    """
    if isinstance(forms, AdjointForms):
        return forms
    if forms not in ADJOINTS:
        raise SpecError(f"adjoint must be one of {', '.join(ADJOINTS)} or an AdjointForms, got {forms!r}")
    return ADJOINTS[forms]


# ----------------------------------------------------------------------------- concrete transposed layers
_BOUNDARY: tuple[dict[str, int], ...] = (
    dict(C_2=1, C_1=1, Hp=2, Wp=3, h=2, w=1, s_h=1, d_h=2, a_h=1),  # s ≤ a < d: 𝒲 has H' + 1 row-blocks
    dict(C_2=2, C_1=2, Hp=3, Wp=3, h=3, w=3, s_h=2, s_w=2, p_h=1, p_w=1, a_h=1, a_w=1),  # the usual upsampler
    dict(C_2=4, C_1=2, Hp=2, Wp=3, h=2, w=2, g=2, s_h=3, a_h=2),  # groups, a = s − 1
    dict(C_2=1, C_1=1, Hp=1, Wp=1, h=1, w=1),  # 1×1 everything
    dict(C_2=1, C_1=2, Hp=3, Wp=2, h=2, w=3, d_w=4, a_w=3, p_h=1),  # a = 3 ≥ s = 1 (d = 4): 𝒲 has W' + 3 blocks
    dict(C_2=3, C_1=3, Hp=4, Wp=2, h=3, w=2, g=3, s_h=2, p_h=2, d_h=2),  # depthwise, padding cropping
)


def _draw(rng: random.Random, base: dict[str, int], fixed: dict[str, int]) -> dict[str, int]:
    """One transposed layer's sizes (Hp, Wp: its input H', W'): ``fixed`` first, then ``base``, then random."""
    groups = fixed.get("g", base.get("g", rng.choice([1, 1, 2, 3])))
    sizes = {"g": groups, "C_2": base.get("C_2", groups * rng.randint(1, 2)),
             "C_1": base.get("C_1", groups * rng.randint(1, 2))}
    for ax, (k_, s_, p_, d_, a_) in (("h", ("h", "s_h", "p_h", "d_h", "a_h")), ("w", ("w", "s_w", "p_w", "d_w", "a_w"))):
        sizes[k_] = base.get(k_, rng.randint(1, 3))
        sizes[s_], sizes[p_] = base.get(s_, rng.randint(1, 3)), base.get(p_, rng.choice([0, 0, 1, 2]))
        sizes[d_] = base.get(d_, rng.choice([1, 1, 2, 3]))
        sizes.update({key: fixed[key] for key in (k_, s_, p_, d_) if key in fixed})
        if a_ in fixed and fixed[a_] >= max(sizes[s_], sizes[d_]):  # PyTorch: a < s or a < d; make one hold
            sizes[s_ if s_ not in fixed else d_] = fixed[a_] + 1
        sizes[a_] = fixed.get(a_, base.get(a_, rng.randrange(max(sizes[s_], sizes[d_]))))
        big = "H" if ax == "h" else "W"
        sizes[big + "p"] = base.get(big + "p", rng.randint(1, 5))
        if big in fixed:  # the transposed output is the forward input H: solve for H'
            rest = fixed[big] - 1 + 2 * sizes[p_] - sizes[d_] * (sizes[k_] - 1) - sizes[a_]
            sizes[big + "p"] = rest // sizes[s_] + 1 if rest >= 0 and rest % sizes[s_] == 0 else 0
    sizes.update({key: v for key, v in fixed.items() if key in ("C_1", "C_2")})
    return sizes


def transposed_layers(fixed: dict[str, int] | None = None, count: int = 50, seed: int = 0) -> list[ConvTransposeSpec]:
    """``count`` small transposed layers (PyTorch's rules, some with s ≤ a < d) with every ``fixed`` size respected
    (H, W fixed are the transposed output, as in the forward layer they are its input).

    >>> ts = transposed_layers(count=50)
    >>> len(ts), any(t.output_padding[0] >= t.stride[0] for t in ts)
    (50, True)
    """
    fixed = dict(fixed or {})
    rng, out, attempts = random.Random(seed), [], 0
    while len(out) < count and attempts < 100 * count:
        attempts += 1
        base = _BOUNDARY[len(out)] if attempts <= len(_BOUNDARY) else {}
        sz = _draw(rng, base, fixed)
        try:
            t = ConvTransposeSpec(sz["C_2"], sz["C_1"], (sz["Hp"], sz["Wp"]), (sz["h"], sz["w"]),
                                  stride=(sz["s_h"], sz["s_w"]), padding=(sz["p_h"], sz["p_w"]),
                                  output_padding=(sz["a_h"], sz["a_w"]), dilation=(sz["d_h"], sz["d_w"]), groups=sz["g"])
        except SpecError:
            continue
        if all(t.output_size[ax] == fixed.get(key, t.output_size[ax]) for ax, key in enumerate("HW")) \
                and t.d_in * t.d_out <= 40_000:
            out.append(t)
    return out


def transposed_values(t: ConvTransposeSpec, forms: AdjointForms | None = None) -> dict[Any, int]:
    """The size symbols at a transposed layer: C₂ its input channels, H' its input, H its output (``forms``' size).

    >>> v = transposed_values(ConvTransposeSpec(2, 3, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1))
    >>> v[C2], v[C1], v[Ho], v[H], v[OUTPUT_PADDING[0]]
    (2, 3, 3, 6, 1)
    """
    vals: dict[Any, int] = {C1: t.out_channels, C2: t.in_channels, g: t.groups, Q1: t.out_per_group, Q2: t.in_per_group}
    size = (forms or ADJOINTS["pytorch"]).transposed_size
    for axis, (n_, k_, s_, p_, d_, out) in enumerate(AXES):
        k, s, p, d, a = (x[axis] for x in (t.kernel_size, t.stride, t.padding, t.dilation, t.output_padding))
        vals.update({k_: k, s_: s, p_: p, d_: d, out: t.input_size[axis], OUTPUT_PADDING[axis]: a,
                     n_: int(size(t.input_size[axis], k, s, p, d, a))})
    return vals


def layer_from_model(model: dict[str, int]) -> ConvTransposeSpec:
    """The transposed layer a Z3 model names (sizes it leaves free: 1, stride 1, padding 0); SpecError if invalid.

    >>> layer_from_model({"H'": 2, "s_h": 1, "d_h": 2, "a_h": 1, "h": 2}).output_size
    (5, 1)
    """
    def get(key: str, default: int) -> int:
        return int(model.get(key, default))

    return ConvTransposeSpec(get("C_2", get("g", 1) * get("q_2", 1)), get("C_1", get("g", 1) * get("q_1", 1)),
                             (get("H'", 1), get("W'", 1)), (get("h", 1), get("w", 1)),
                             stride=(get("s_h", 1), get("s_w", 1)), padding=(get("p_h", 0), get("p_w", 0)),
                             output_padding=(get("a_h", 0), get("a_w", 0)), dilation=(get("d_h", 1), get("d_w", 1)),
                             groups=get("g", 1))


def transposed_hypotheses(forms: AdjointForms, fixed: dict[str, int]) -> list[Any]:
    """C₁ = g·q₁, C₂ = g·q₂, PyTorch's 0 ≤ a < max(s, d) and output ≥ 1, H = the form's output size; ``fixed``."""
    hyps: list[Any] = [sympy.Eq(C1, g * Q1), sympy.Eq(C2, g * Q2)]
    for (n_, k_, s_, p_, d_, out), a_ in zip(AXES, OUTPUT_PADDING):
        hyps += [a_ >= 0, sympy.Or(a_ < s_, a_ < d_), transposed_size(out, k_, s_, p_, d_, a_) >= 1,
                 sympy.Eq(n_, forms.transposed_size(out, k_, s_, p_, d_, a_))]
    names = {str(x): x for x in (C1, C2, g, *OUTPUT_PADDING, *(x for ax in AXES for x in ax))}
    return hyps + [sympy.Eq(names[k], v) for k, v in fixed.items()]


# ----------------------------------------------------------------------------- the steps
def transposed_steps(b: StepBuilder, forms: AdjointForms, fixed: dict[str, int], layers: list[ConvTransposeSpec],
                     E: Any) -> None:
    """Append the transposed steps to ``b``'s proof; re-checks at ``layers``, Z3 under ``fixed``."""
    tb = b.with_values([transposed_values(t) for t in layers], [transposed_values(t, forms) for t in layers])
    hyps, true_hyps = transposed_hypotheses(forms, fixed), transposed_hypotheses(ADJOINTS["pytorch"], fixed)
    coefficient_step(tb, forms, true_hyps)
    size_step(tb, hyps, true_hyps)
    entry_step(tb, forms, true_hyps, layers, E)
    theorem_step(tb, layers, true_hyps)


def _definition(forms: AdjointForms) -> Any:
    """z_{l,r,c}: PyTorch's conv_transpose index sum (with ``forms``' tap), bias b_T(l)."""
    (_, h_, s_h, p_h, d_h, _), (_, w_, s_w, p_w, d_w, _) = AXES
    inner = sympy.Sum(omega(_i2, _lp, m, n) * sympy.KroneckerDelta(l, sympy.floor(_i2 / Q2) * Q1 + _lp)
                      * sympy.KroneckerDelta(r, forms.transposed_tap(_u, m, s_h, p_h, d_h, h_))
                      * sympy.KroneckerDelta(c, forms.transposed_tap(_v, n, s_w, p_w, d_w, w_)),
                      (_lp, 0, Q1 - 1), (m, 0, h_ - 1), (n, 0, w_ - 1))
    return bias_fn(l) + sympy.Sum(Y[_i2, _u, _v] * inner, (_i2, 0, C2 - 1), (_u, 0, Ho - 1), (_v, 0, Wo - 1))


def coefficient_step(b: StepBuilder, forms: AdjointForms, hyps: list[Any]) -> None:
    """Step ``transposed_coefficient``: ∂z_{l,r,c}/∂y_{i,o_h,o_w} by SymPy, the outer sums done, ranges by Z3."""
    z = _definition(forms)
    coefficient = z.diff(Y[i, o_h, o_w]).doit(deep=False)
    constant = z.replace(lambda e: isinstance(e, sympy.Indexed) and e.base == Y, lambda e: sympy.Integer(0)).doit()
    if constant != bias_fn(l):
        raise ProofDisagreement(f"conv_transpose's constant term is {constant}, not b_T(l)")
    conditions = [pw.args[0].cond for pw in coefficient.atoms(sympy.Piecewise)]
    rng = {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo)}
    b.claim("transposed_coefficient",
            sympy.And(sympy.Eq(sympy.Symbol("z_{l,r,c}"), z), sympy.Eq(COEFFICIENT_T, coefficient)),
            "definition of conv_transpose (PyTorch's index sum, weight (C₂, q₁, h, w)); SymPy: diff w.r.t. the Indexed "
            "y_{i,o_h,o_w} gives δ(i, i₂)δ(o_h, u)δ(o_w, v), doit() of the outer sums; Z3: their range conditions "
            "hold for 0 ≤ i < C₂, 0 ≤ o < H'; the constant term is b_T(l), one bias per output channel",
            [Obligation(hyps + in_ranges(rng), sympy.And(*conditions), rng)],
            notes=("SymPy nests the inner sums (Σ_n δ(c, …)·Σ_m δ(r, …)·Σ_{l'} ω·δ(l, …)); their summand is the one of "
                   "the forward step definition at output (o_h, o_w), input (l, r, c)",))


def size_step(b: StepBuilder, hyps: list[Any], true_hyps: list[Any]) -> None:
    """Step ``transposed_size``: the forward output size of H_T is H' + ⌊a/s⌋ (= H' iff a < s); the finding."""
    claims = []
    for (n_, k_, s_, p_, d_, out), a_ in zip(AXES, OUTPUT_PADDING):
        forward = floor_size(n_, k_, s_, p_, d_)
        claims.append(Obligation(hyps, sympy.And(sympy.Eq(forward, out + sympy.floor(a_ / s_)),
                                                 d_ * (k_ - 1) + 1 <= n_ + 2 * p_), {}))
        claims.append(Obligation(hyps + [a_ < s_], sympy.Eq(forward, out), {}, restricted=True))
    finding, note = _finding(true_hyps)
    step = b.claim("transposed_size", sympy.And(*[cl.conclusion for cl in claims]),
                   "Z3 lemma (both axes): with H_T = (H' − 1)s − 2p + d(h − 1) + a + 1, 0 ≤ a, a < s ∨ a < d: "
                   "⌊(H_T + 2p − d(h − 1) − 1)/s⌋ + 1 = H' + ⌊a/s⌋ and the kernel fits; a < s ⇒ it is H'",
                   claims, notes=(note,))
    b.steps[-1] = replace(step, objects=step.objects | {"finding": finding})
    if step.status == "refuted" and step.counterexample is not None:
        b.steps[-1] = _confirm_size(b.steps[-1])


def _finding(true_hyps: list[Any]) -> tuple[Counterexample | None, str]:
    """Z3 on the unrestricted lemma 'the forward output size of H_T is H'' (a ≥ s allowed), confirmed on a layer."""
    res = check_valid(true_hyps, sympy.And(*[sympy.Eq(floor_size(n_, k_, s_, p_, d_), out)
                                             for n_, k_, s_, p_, d_, out in AXES]))
    if res.status == "proved":
        return None, "a < s follows from the fixed sizes: the forward output size of H_T is exactly H' (Z3)"
    if res.status != "refuted":
        return None, f"the unrestricted size lemma (a ≥ s allowed) is {res.status} ({res.reason})"
    try:
        t = layer_from_model(res.model)
    except SpecError as exc:
        return None, f"finding — Z3 refutes the unrestricted size lemma at {res.model}, not a valid layer: {exc}"
    forward = t.forward_spec().output_size
    if forward == t.input_size:
        raise ProofDisagreement(f"Z3 refuted the size lemma at {res.model}, but {t.describe()} satisfies it")
    cx = Counterexample({k: v for k, v in res.model.items()}, {}, True,
                        f"{t.describe()}: the forward layer of input {t.output_size} has output {forward} ≠ {t.input_size}")
    return cx, ("finding — without a < s (PyTorch allows s ≤ a < d) Z3 refutes 'the forward output size of H_T is H'' "
                f"at {cx.describe()}; conv_transpose is then 𝒲ᵀ restricted to the rows o < H' of its H' + ⌊a/s⌋ output positions")


def _confirm_size(step: Step) -> Step:
    """A refuted size step: the layer Z3 names, built; its true output size must differ from the claimed one."""
    cx = step.counterexample
    assert cx is not None
    try:
        t = layer_from_model(cx.sizes | cx.indices)
    except SpecError as exc:
        return replace(step, counterexample=replace(cx, note=f"{cx.note}; not a valid ConvTranspose layer: {exc}"))
    claimed = tuple(cx.sizes.get(k, t.output_size[ax]) for ax, k in enumerate("HW"))
    lemma = all(t.forward_spec().output_size[ax] == t.input_size[ax] + t.output_padding[ax] // t.stride[ax]
                for ax in range(2))
    if claimed == t.output_size and lemma:
        raise ProofDisagreement(f"Z3 refuted {step.name} at {cx.sizes}, but {t.describe()} satisfies it")
    return replace(step, counterexample=replace(cx, confirmed=True, note=f"{cx.note}; {t.describe()} has output "
                                                f"{t.output_size}, the claimed size formula gives {claimed}"))


def _entry_claims(forms: AdjointForms, hyps: list[Any]) -> list[Obligation]:
    """Per axis: δ(coord, tap(o, t)) solved for t (the form's tap), Σ_t with the divisibility guard; Σ over channels."""
    claims = []
    for axis, (coord, o) in enumerate(((r, o_h), (c, o_w))):
        n_, k_, s_, p_, d_, out = AXES[axis]
        tau, hit = _tau_hit(coord, o, axis)
        x = coord - o * s_ + p_
        divides = sympy.Eq(sympy.Mod(x, d_), 0)
        in_axis = [o >= 0, o < out, coord >= 0, coord < n_]
        claims.append(Obligation(hyps + in_axis + [_t >= 0, _t < k_],
                                 sympy.Eq(sympy.Eq(coord, forms.transposed_tap(o, _t, s_, p_, d_, k_)),
                                          sympy.And(divides, sympy.Eq(_t, tau))),
                                 {o: (0, out), coord: (0, n_), _t: (0, k_)}))
        tau_sym = sympy.Symbol("tau", integer=True)
        summed = sympy.Sum(omega(_t) * sympy.KroneckerDelta(_t, tau_sym), (_t, 0, k_ - 1)).doit().subs(tau_sym, tau)
        claims.append(Obligation(hyps + in_axis, sympy.Eq(sympy.Piecewise((summed, divides), (0, True)),
                                                          sympy.Piecewise((omega(tau), hit), (0, True))),
                                 {o: (0, out), coord: (0, n_)}))
    lp, in_group = group_channel()
    chan = sympy.Sum(omega(_lp) * sympy.KroneckerDelta(l, sympy.floor(i / Q2) * Q1 + _lp), (_lp, 0, Q1 - 1)).doit()
    rng = {i: (0, C2), l: (0, C1)}
    claims.append(Obligation(hyps + in_ranges(rng), sympy.Eq(chan, sympy.Piecewise((omega(lp), in_group), (0, True))), rng))
    return claims


def entry_step(b: StepBuilder, forms: AdjointForms, hyps: list[Any], layers: list[ConvTransposeSpec], E: Any) -> None:
    """Step ``transposed_entry``: [y_{i,o}] z_{l,r,c} = E(R, Q) on the transposed ranges; re-checked against PyTorch's
    scatter form (forms/transposed) entry by entry, and the form's own map against it."""
    step = b.claim("transposed_entry", sympy.Eq(COEFFICIENT_T, E),
                   "Z3 lemma (both axes, ranges o < H', coordinate < H_T): c = o·s − p + t·d ⇔ d | c − o·s + p ∧ "
                   "t = ⌊(c − o·s + p)/d⌋; SymPy Σ_t and Σ_{l'} doit() as in the forward steps sum_taps, sum_channels: "
                   "the entry E(R, Q) of 𝒲 (step entry) at row R = (i, o_h, o_w), column Q = (l, r, c)",
                   _entry_claims(forms, hyps), depends=("entry", "transposed_coefficient"))
    for t in layers:
        truth = scatter_codes(t, ADJOINTS["pytorch"])
        if not np.array_equal(truth, pytorch_codes(t)):
            raise ProofDisagreement(f"the scatter form disagrees with forms.transposed at {t.describe()}")
        if step.holds and not (np.array_equal(entry_codes_T(E, t), truth)
                               and np.array_equal(scatter_codes(t, forms), truth)):
            raise ProofDisagreement(f"step transposed_entry: Z3 proved it but it fails at {t.describe()}")
    if step.status == "refuted" and step.counterexample is not None:
        cx = step.counterexample
        try:
            t = layer_from_model(cx.sizes | cx.indices)
        except SpecError:
            return
        if np.array_equal(scatter_codes(t, forms), pytorch_codes(t)):
            raise ProofDisagreement(f"Z3 refuted transposed_entry at {cx.sizes}, but the form's map equals "
                                    f"PyTorch's at {t.describe()}")
        b.steps[-1] = replace(step, counterexample=replace(cx, confirmed=True, note=(
            f"{cx.note}; the form's conv_transpose differs from PyTorch's scatter form (forms/transposed) "
            f"at {t.describe()}")))


def _flat_omega_codes(t: ConvTransposeSpec, weight_flat: np.ndarray) -> np.ndarray:
    return CODED["omega"](*np.unravel_index(weight_flat, t.weight_shape))


def pytorch_codes(t: ConvTransposeSpec) -> np.ndarray:
    """The transposed map at ``t`` as a (d_in × d_out) array of ω codes: entry (y index, z index), from
    :func:`symconv.forms.transposed.transposed_terms` (PyTorch's scatter form, written independently of this module).

    >>> t = ConvTransposeSpec(1, 1, input_size=2, kernel_size=2, stride=2)
    >>> pytorch_codes(t).shape, int((pytorch_codes(t) > 0).sum())
    ((4, 16), 16)
    """
    from ..forms.transposed import transposed_terms  # forms/ sits above prove/; imported when a proof runs

    terms = transposed_terms(t)
    out = np.zeros((t.d_in, t.d_out))
    out[terms.b, terms.out] = _flat_omega_codes(t, terms.a)
    return out


def scatter_codes(t: ConvTransposeSpec, forms: AdjointForms) -> np.ndarray:
    """The map ``forms`` defines at ``t`` (its tap, PyTorch's output size), as :func:`pytorch_codes`: a loop over
    (input channel, channel within the group, position, tap) — no shared code with forms/transposed.

    >>> t = ConvTransposeSpec(2, 2, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1, groups=2)
    >>> bool((scatter_codes(t, AdjointForms()) == pytorch_codes(t)).all())
    True
    """
    out = np.zeros((t.d_in, t.d_out))
    (Hi, Wi), (Hz, Wz), (kh, kw) = t.input_size, t.output_size, t.kernel_size
    for ci in range(t.in_channels):
        for j in range(t.out_per_group):
            lz = (ci // t.in_per_group) * t.out_per_group + j
            for u in range(Hi):
                for v in range(Wi):
                    for mm in range(kh):
                        rr = int(forms.transposed_tap(u, mm, t.stride[0], t.padding[0], t.dilation[0], kh))
                        for nn in range(kw):
                            cc = int(forms.transposed_tap(v, nn, t.stride[1], t.padding[1], t.dilation[1], kw))
                            if 0 <= rr < Hz and 0 <= cc < Wz:
                                out[(ci * Hi + u) * Wi + v, (lz * Hz + rr) * Wz + cc] = CODED["omega"](ci, j, mm, nn)
    return out


def entry_codes_T(E: Any, t: ConvTransposeSpec) -> np.ndarray:
    """E(R, Q) at every (y index, z index) of ``t`` as ω codes: R = (i, o_h, o_w) over y, Q = (l, r, c) over z.

    >>> from symconv.prove.statement import entry_formula
    >>> t = ConvTransposeSpec(1, 2, input_size=2, kernel_size=2, stride=1, dilation=2, output_padding=1)
    >>> bool((entry_codes_T(entry_formula(), t) == pytorch_codes(t)).all())
    True
    """
    vals = transposed_values(t)
    sizes = sorted(vals, key=str)
    rows = np.unravel_index(np.arange(t.d_in), t.input_shape)
    cols = np.unravel_index(np.arange(t.d_out), t.output_shape)
    shape = (t.d_in, t.d_out)
    grid = [np.broadcast_to(a[:, None], shape) for a in rows] + [np.broadcast_to(a[None, :], shape) for a in cols]
    fn = numeric(E, [i, o_h, o_w, l, r, c, *sizes])
    out = fn(*grid, *[np.full(shape, vals[s]) for s in sizes])
    return np.broadcast_to(np.asarray(out, dtype=float), shape)


def theorem_step(b: StepBuilder, layers: list[ConvTransposeSpec], hyps: list[Any]) -> None:
    """Step ``transposed_theorem``: z = 𝒲ᵀy + b_T (𝒲 at input H_T, its rows o < H'); re-checked by the
    index engine of :func:`symconv.prove.transposed.prove_transposed` (definition = 𝒲ᵀ of the built 𝒲)."""
    from .transposed import prove_transposed

    names = ("theorem", "transposed_coefficient", "transposed_size", "transposed_entry")
    deps = [b.step(name) for name in names]
    status = "proved" if all(s.holds for s in deps) else (
        "refuted" if any(s.status == "refuted" for s in deps) else "undetermined")
    for t in layers:
        if status == "proved" and not prove_transposed(t, method="index").holds:
            raise ProofDisagreement(f"step transposed_theorem: proved, but the index engine refutes {t.describe()}")
    full = check_valid(hyps, sympy.And(*[a_ < ax.s for a_, ax in zip(OUTPUT_PADDING, AXES)])).status == "proved"
    Wm = sympy.MatrixSymbol("𝒲" if full else "𝒲_{o<H'}", C2 * Ho * Wo, C1 * H * W)
    y, bT = sympy.MatrixSymbol("y", C2 * Ho * Wo, 1), sympy.MatrixSymbol("b_T", C1 * H * W, 1)
    statement: Any = sympy.Eq(sympy.MatAdd(sympy.MatMul(sympy.Transpose(Wm), y), bT),
                              sympy.MatrixSymbol("conv_transpose(y)", C1 * H * W, 1))
    if not full:  # and with a < s the restriction is all of 𝒲 (transposed_size)
        below = sympy.And(*[a_ < ax.s for a_, ax in zip(OUTPUT_PADDING, AXES)])
        statement = sympy.Tuple(statement, sympy.Implies(below, sympy.Eq(sympy.Symbol("𝒲_{o<H'}"), sympy.Symbol("𝒲"))))
    rows = ("𝒲 of the forward layer at input H_T (a < s: the forward output size is H', transposed_size)" if full else
            "𝒲_{o<H'}: the rows (i, o_h, o_w) with o_h < H', o_w < W' of 𝒲 at input H_T, which has H' + ⌊a/s⌋ "
            "output positions per axis (transposed_size) — all of 𝒲 iff a < s")
    b.steps.append(Step("transposed_theorem", statement,
                        f"{' ∧ '.join(names)}: every entry of conv_transpose's matrix is E(R, Q), so it is {rows}; "
                        "b_T(l) per output channel", status, rechecks=len(layers),
                        objects={"notes": (f"for all sizes satisfying {sympy.sstr(sympy.And(*hyps))}",
                                           "re-checked: conv_transpose = 𝒲ᵀy by the index engine (prove_transposed)")}))
