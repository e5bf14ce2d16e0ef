"""The backprop identities in the all-size proof, every size a symbol (0-based; g = ∂L/∂y of shape (C₂, H', W')).

With y = 𝒲x + b proved for all sizes (step ``theorem``) and L a function of y:

* ``grad_input``: ∂L/∂x_Q = Σ_R g_R·𝒲_{R,Q} = (𝒲ᵀg)_Q — SymPy differentiates Σ_R g_R(Σ_Q' 𝒲_{R,Q'}x_Q' + b_R) w.r.t.
  the Indexed x_Q (chain rule on the theorem), Z3 the range condition; and with output_padding
  a = (H + 2p − d(h − 1) − 1) mod s, Z3 proves 0 ≤ a < s and (H' − 1)s − 2p + d(h − 1) + a + 1 = H, so by
  ``transposed_theorem`` (a < s: all of 𝒲) ∂L/∂x = conv_transpose(g) with that a.
* ``grad_weight``: ∂L/∂ω[i,l',m,n] = Σ_o g_{i,o}·x_pad[G(i)q₁ + l', o_h·s − p + m·d, o_w·s − p + n·d] — SymPy
  differentiates the index sum w.r.t. the Indexed ω (Kronecker deltas, one ``doit()``); the claimed form is compared
  coefficient by coefficient of g (both sides differentiated w.r.t. g_{k,u,v}) by Z3, x_pad = x inside, 0 outside.
* ``grad_bias``: ∂L/∂b_i = Σ_o g_{i,o} (shared), ∂L/∂b_{i,o} = g_{i,o} (per location), the same way; no step without bias.

Re-checked at the concrete layers independently of Z3: ∂L/∂x as the transposed convolution of
:func:`symconv.forms.transposed.transposed_terms` = 𝒲ᵀ read off the built 𝒲 = the derivative of the forward index
sum; ∂L/∂ω against :func:`symconv.prove.backward.grad_weight_terms`; ∂L/∂b against
:func:`symconv.prove.backward.grad_bias`. Refuted claims are confirmed on the layer Z3's model names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import numpy as np
import sympy

from ..core.spec import BiasMode, ConvSpec
from ..core.symbols import C1, C2
from ..errors import SpecError
from .adjoint import AdjointForms, transposed_size
from .lemmas import AXES, Q1, Q2
from .proof import ProofDisagreement, Step
from .recheck import SIZE_KEYS, Obligation, StepBuilder, size_values, spec_from_sizes
from .statement import H, Ho, W, Wo, h, i, in_ranges, m, n, o_h, o_w, w

__all__ = ["backprop_steps", "grad_bias_step", "grad_input_step", "grad_weight_claimed", "grad_weight_codes",
           "grad_weight_step"]

X, G, OMEGA, B, WM = (sympy.IndexedBase(x) for x in ("x", "g", "omega", "b", "𝒲"))
x_fn, x_pad = sympy.Function("x"), sympy.Function("x_pad")
_R, _Q, _Qd = (sympy.Symbol(s, integer=True) for s in ("R", "Q", "Q'"))
_i2, _l2, _m2, _n2, _u, _v, _k, _uu, _vv = (sympy.Symbol(s, integer=True) for s in
                                            ("i_2", "l_2", "m_2", "n_2", "u", "v", "k", "u'", "v'"))
#: the input channel within the group of ω[i, l', m, n]
lq = sympy.Symbol("l'", integer=True)


def backprop_steps(b: StepBuilder, forms: AdjointForms, hyps: list[Any], bias: str) -> None:
    """Append ``grad_input``, ``grad_weight`` and (with a bias) ``grad_bias`` to ``b``'s proof."""
    grad_input_step(b, hyps)
    grad_weight_step(b, forms, hyps)
    if bias != "none":
        grad_bias_step(b, forms, hyps, bias)


def _padded(expr: Any) -> Any:
    """x_pad(l, r, c) → x(l, r, c) inside the input, 0 outside (what Z3 and the re-checks read)."""
    return expr.replace(lambda e: isinstance(e, sympy.core.function.AppliedUndef) and e.func == x_pad,
                        lambda e: sympy.Piecewise((x_fn(*e.args), sympy.And(e.args[0] >= 0, e.args[0] < C1, e.args[1] >= 0,
                                                                           e.args[1] < H, e.args[2] >= 0, e.args[2] < W)),
                                                  (0, True)))


def _g_coefficient(expr: Any) -> Any:
    """The coefficient of g_{k,u',v'} in a form linear in g: SymPy diff w.r.t. the Indexed g, doit()."""
    return _padded(expr.diff(G[_k, _uu, _vv]).doit())


_G_RANGES = {_k: (0, C2), _uu: (0, Ho), _vv: (0, Wo)}


def grad_input_step(b: StepBuilder, hyps: list[Any]) -> None:
    """Step ``grad_input``: ∂L/∂x = 𝒲ᵀg (chain rule on the theorem) = conv_transpose(g), a = the remainder."""
    d_y, d_x = C2 * Ho * Wo, C1 * H * W
    L = sympy.Sum(G[_R] * (sympy.Sum(WM[_R, _Qd] * X[_Qd], (_Qd, 0, d_x - 1)) + B[_R]), (_R, 0, d_y - 1))
    derivative = L.diff(X[_Q]).doit()
    conditions = [pw.args[0].cond for pw in derivative.atoms(sympy.Piecewise)]
    claims = [Obligation(hyps + [_Q >= 0, _Q < d_x], sympy.And(*conditions), {_Q: (0, d_x)})]
    for n_, k_, s_, p_, d_, out in AXES:
        a_ = sympy.Mod(n_ + 2 * p_ - d_ * (k_ - 1) - 1, s_)
        claims.append(Obligation(hyps, sympy.And(a_ >= 0, a_ < s_, sympy.Eq(transposed_size(out, k_, s_, p_, d_, a_), n_)), {}))
    step = b.claim("grad_input", sympy.Eq(sympy.Symbol(r"\partial L/\partial x_Q"), derivative),
                   "chain rule on step theorem: SymPy diff of Σ_R g_R(Σ_Q' 𝒲_{R,Q'}x_Q' + b_R) w.r.t. x_Q, doit(); "
                   "Z3: 0 ≤ Q < C₁HW; Z3 lemma (both axes): a = (H + 2p − d(h − 1) − 1) mod s has 0 ≤ a < s and "
                   "(H' − 1)s − 2p + d(h − 1) + a + 1 = H, so by transposed_theorem ∂L/∂x = 𝒲ᵀg = conv_transpose(g) "
                   "with output_padding a", claims, depends=("theorem", "transposed_theorem"))
    for spec in b.specs:
        if step.holds and not _grad_input_agrees(spec):
            raise ProofDisagreement(f"step grad_input: proved, but the concrete forms disagree at {spec.describe()}")


def _grad_input_agrees(spec: ConvSpec) -> bool:
    """conv_transpose(g) (forms/transposed, a = remainder) = 𝒲ᵀg (built 𝒲) = ∂/∂x of the forward index sum."""
    from ..core.transposed import ConvTransposeSpec
    from ..forms.transposed import forward_terms, transposed_terms
    from .backward import matrix_transpose_terms

    fwd = forward_terms(spec)  # (y, ω, x): ∂/∂x_q of Σ g_y·ω·x is Σ g_y·ω over the triples with x = q
    derivative = np.stack([fwd.b, fwd.a, fwd.out], axis=1)
    derivative = derivative[np.lexsort(derivative.T[::-1])]
    transposed = transposed_terms(ConvTransposeSpec.of(spec)).canonical()
    return np.array_equal(transposed, matrix_transpose_terms(spec).canonical()) and \
        np.array_equal(transposed, derivative)


def grad_weight_claimed(forms: AdjointForms) -> Any:
    """The claimed ∂L/∂ω[i,l',m,n] = Σ_o g_{i,o}·x_pad[G(i)q₁ + l', tap(o_h, m), tap(o_w, n)] (``forms``' tap).

    >>> grad_weight_claimed(AdjointForms()).limits
    ((u, 0, H' - 1), (v, 0, W' - 1))
    """
    (_, _, s_h, p_h, d_h, _), (_, _, s_w, p_w, d_w, _) = AXES
    row, col = forms.grad_weight_tap(_u, m, s_h, p_h, d_h), forms.grad_weight_tap(_v, n, s_w, p_w, d_w)
    return sympy.Sum(G[i, _u, _v] * x_pad(sympy.floor(i / Q2) * Q1 + lq, row, col), (_u, 0, Ho - 1), (_v, 0, Wo - 1))


def grad_weight_step(b: StepBuilder, forms: AdjointForms, hyps: list[Any]) -> None:
    """Step ``grad_weight``: SymPy's ∂L/∂ω of the index sum = the claimed cross-correlation of x with g."""
    (_, _, s_h, p_h, d_h, _), (_, _, s_w, p_w, d_w, _) = AXES
    inner = OMEGA[_i2, _l2, _m2, _n2] * x_pad(sympy.floor(_i2 / Q2) * Q1 + _l2, _u * s_h - p_h + _m2 * d_h,
                                                _v * s_w - p_w + _n2 * d_w)
    L = sympy.Sum(G[_i2, _u, _v] * inner, (_i2, 0, C2 - 1), (_l2, 0, Q1 - 1), (_m2, 0, h - 1), (_n2, 0, w - 1),
                  (_u, 0, Ho - 1), (_v, 0, Wo - 1))
    derived = L.diff(OMEGA[i, lq, m, n]).doit()
    claimed = grad_weight_claimed(forms)
    rng = {i: (0, C2), lq: (0, Q1), m: (0, h), n: (0, w)} | _G_RANGES
    claim = Obligation(hyps + in_ranges(rng), sympy.Eq(_g_coefficient(derived), _g_coefficient(claimed)), rng)
    step = b.claim("grad_weight", sympy.Eq(sympy.Symbol(r"\partial L/\partial\omega_{i,l',m,n}"), claimed),
                   "SymPy diff of L = Σ g·(index sum) w.r.t. the Indexed ω[i, l', m, n] (Kronecker deltas), doit(): "
                   f"{sympy.sstr(derived)}; Z3: its coefficient of every g_{{k,u',v'}} equals the claimed one "
                   "(x_pad = x inside the input, 0 outside; x uninterpreted)", [claim], depends=("theorem",))
    for spec in b.specs:
        if step.holds and not np.array_equal(grad_weight_codes(spec, forms), _backward_codes(spec)):
            raise ProofDisagreement(f"step grad_weight: proved, but it differs from prove.backward at {spec.describe()}")
    if step.status == "refuted" and step.counterexample is not None:
        _confirm(b, step, lambda spec: np.array_equal(grad_weight_codes(spec, forms), _backward_codes(spec)),
                 "the claimed ∂L/∂ω differs from prove.backward's cross-correlation (grad_weight_terms)")


def grad_weight_codes(spec: ConvSpec, forms: AdjointForms) -> np.ndarray:
    """The claimed ∂L/∂ω at ``spec`` as sorted triples (ω flat, x flat, g flat), x_pad's zeros dropped.

    >>> spec = ConvSpec(1, 1, input_size=3, kernel_size=2, stride=2, padding=1)
    >>> from symconv.prove.backward import grad_weight_terms
    >>> bool((grad_weight_codes(spec, AdjointForms()) == grad_weight_terms(spec).canonical()).all())
    True
    """
    C2c, q1, (kh, kw), (Hc, Wc), (Hoc, Woc) = (spec.out_channels, spec.in_per_group, spec.kernel_size, spec.input_size,
                                               spec.output_size)
    ii, ll, mm, nn, uu, vv = np.meshgrid(np.arange(C2c), np.arange(q1), np.arange(kh), np.arange(kw), np.arange(Hoc),
                                         np.arange(Woc), indexing="ij")
    rr = forms.grad_weight_tap(uu, mm, spec.stride[0], spec.padding_before[0], spec.dilation[0])
    cc = forms.grad_weight_tap(vv, nn, spec.stride[1], spec.padding_before[1], spec.dilation[1])
    inside = (rr >= 0) & (rr < Hc) & (cc >= 0) & (cc < Wc)
    channel = (ii // spec.out_per_group) * q1 + ll
    triples = np.stack([(((ii * q1 + ll) * kh + mm) * kw + nn)[inside], ((channel * Hc + rr) * Wc + cc)[inside],
                        ((ii * Hoc + uu) * Woc + vv)[inside]], axis=1).astype(np.int64)
    return triples[np.lexsort(triples.T[::-1])]


def _backward_codes(spec: ConvSpec) -> np.ndarray:
    from .backward import grad_weight_terms

    return grad_weight_terms(spec).canonical()


def _confirm(b: StepBuilder, step: Step, agrees: Any, what: str) -> None:
    """A refuted step: the layer Z3's model names must show the mismatch concretely, else the provers disagree."""
    cx = step.counterexample
    assert cx is not None
    sizes = {"C_1": 1, "C_2": 1, "g": 1, "H": 1, "W": 1, "h": 1, "w": 1, "s_h": 1, "s_w": 1, "p_h": 0, "p_w": 0,
             "d_h": 1, "d_w": 1} | {k: v for k, v in cx.sizes.items() if k in SIZE_KEYS}
    try:
        spec = spec_from_sizes(sizes)
    except SpecError:
        return
    if agrees(spec):
        raise ProofDisagreement(f"Z3 refuted {step.name} at {cx.sizes}, but the concrete forms agree at {spec.describe()}")
    b.steps[-1] = replace(step, counterexample=replace(cx, confirmed=True, note=f"{cx.note}; {what} at {spec.describe()}"))


def grad_bias_step(b: StepBuilder, forms: AdjointForms, hyps: list[Any], bias: str) -> None:
    """Step ``grad_bias``: ∂L/∂b_i = Σ_o g_{i,o} (shared) or ∂L/∂b_{i,o} = g_{i,o} (per location), by SymPy diff."""
    shared = bias == "shared"
    term = B[_i2] if shared else B[_i2, _u, _v]
    L = sympy.Sum(G[_i2, _u, _v] * term, (_i2, 0, C2 - 1), (_u, 0, Ho - 1), (_v, 0, Wo - 1))
    derived = L.diff(B[i] if shared else B[i, o_h, o_w]).doit()
    if not forms.grad_bias_summed:
        claimed: Any = G[i, 0, 0]
    else:
        claimed = sympy.Sum(G[i, _u, _v], (_u, 0, Ho - 1), (_v, 0, Wo - 1)) if shared else G[i, o_h, o_w]
    rng = ({i: (0, C2)} if shared else {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo)}) | _G_RANGES
    claim = Obligation(hyps + in_ranges(rng), sympy.Eq(_g_coefficient(derived), _g_coefficient(claimed)), rng)
    name = r"\partial L/\partial b_i" if shared else r"\partial L/\partial b_{i,o_h,o_w}"
    step = b.claim("grad_bias", sympy.Eq(sympy.Symbol(name), claimed),
                   f"SymPy diff of Σ g·b w.r.t. the Indexed b (bias {bias}), doit(): {sympy.sstr(derived)}; Z3: its "
                   "coefficient of every g_{k,u',v'} equals the claimed one", [claim], depends=("theorem",))
    for spec in b.specs:
        if step.holds and not _bias_agrees(spec, forms, bias):
            raise ProofDisagreement(f"step grad_bias: proved, but it differs from prove.backward at {spec.describe()}")
    if step.status == "refuted" and step.counterexample is not None:
        _confirm(b, step, lambda spec: _bias_agrees(spec, forms, bias),
                 "the claimed ∂L/∂b differs from prove.backward's grad_bias")


def _bias_agrees(spec: ConvSpec, forms: AdjointForms, bias: str) -> bool:
    """The claimed ∂L/∂b at ``spec`` (g = distinct integers) against :func:`symconv.prove.backward.grad_bias`."""
    from .backward import grad_bias

    sizes = {str(k): v for k, v in size_values(spec).items() if str(k) in SIZE_KEYS}
    layer = spec_from_sizes(sizes, bias=cast(BiasMode, bias))
    g_values = np.arange(1, layer.d_y + 1).reshape(layer.output_shape)
    if not forms.grad_bias_summed:
        claimed = g_values[:, 0, 0]
    else:
        claimed = g_values.reshape(layer.out_channels, -1).sum(axis=1) if bias == "shared" else g_values
    return np.array_equal(claimed, grad_bias(layer, g_values))
