"""Closed forms of receptive fields, derived with SymPy from the layer definition — never typed in.

The pipeline (each stage one function, results frozen):

1. **Recurrence** (:func:`_one_more_layer`). Layer L's output j reads map positions j·s_L − p_L + t·d_L
   (t = 0 … k_L − 1); a map position i reads the input box [i·S − P, i·S − P + r − 1] of the stack
   below. The new box's start and end are expanded; S_L is the coefficient of j in the start, P_L
   minus its constant term, r_L = end − start + 1. Each comes out as x_L = a_L·x_{L−1} + b_L.
2. **General solution** (:func:`_solve_first_order`): x_L = x₀·∏a_l + Σ_l b_l·∏_{i>l} a_i with S_{l−1}
   inside b_l replaced by its own closed form — Sum/Product over layer-indexed symbols k[l], s[l], ….
   Checked: the base case, the induction step for sums (``difference_delta``), and agreement with
   the recurrence unrolled symbolically for L = 1 … 8.
3. **Identical layers** (:func:`_identical`): the recurrences with constant k, s, p, d solved by
   ``sympy.rsolve`` (s ≠ 1 and s = 1 separately, joined in a Piecewise), checked by substitution
   into the recurrence and against stage 2.
4. **Effective field** (:func:`effective_forms`): a layer adds the offset c·t, t uniform on
   0 … k−1, c = d·S_{L−1}; its generating function gives the mean and variance increments by
   summation; that means and variances add under composition (a product of generating functions)
   is proved with abstract functions; the L-layer mean and variance follow by ``rsolve``.

The forms are those of zero padding; with a padding mode (reflect, replicate, circular) they describe exactly the
outputs that reach no padding cell — the others read cells the mode copies in, and
:func:`symconv.receptive.field.receptive_field` gives no summary for them (see its module docstring).

Why SymPy's own solvers: they do the algebra a reader would otherwise have to trust; the results are
then checked numerically against 𝒲 products and exact convolution powers (tests, receptive_check).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy.series.limitseq import difference_delta

from ..core.taps import tap

__all__ = ["Derivation", "EffectiveForms", "Proof", "ReceptiveForms", "effective_forms", "receptive_forms"]

#: Unrolled checks of the general closed forms run for L = 1 … UNROLL.
UNROLL = 8

# layer-indexed symbols (l = 1 … L) and scalar ones for identical layers
L, l, i, j = sympy.symbols("L l i j", integer=True, nonnegative=True)
n = sympy.Symbol("n", integer=True, nonnegative=True)
k_, s_, p_, d_ = (sympy.IndexedBase(name) for name in ("k", "s", "p", "d"))
k, s, p, d = sympy.symbols("k s p d", positive=True)


@dataclass(frozen=True)
class Proof:
    """One checked statement: what, how, and whether it held."""

    statement: str
    method: str
    holds: bool


@dataclass(frozen=True)
class Derivation:
    """One quantity x ∈ {r, S, P}: x_L = a_L·x_{L−1} + b_L, its general and identical-layer closed forms."""

    name: str
    recurrence: sympy.Eq  # x_L = a_L·x_{L−1} + b_L, with S_{L−1} written as the symbol S_prev
    initial: sympy.Expr
    a: sympy.Expr
    b: sympy.Expr
    closed: sympy.Expr  # in L with k[l], s[l], p[l], d[l]
    identical: sympy.Expr  # in n with k, s, p, d (n identical layers)


@dataclass(frozen=True)
class ReceptiveForms:
    """The derived recurrences and closed forms of r, S, P, and the region of output j.

    >>> f = receptive_forms()
    >>> f.S.closed
    Product(s[i], (i, 1, L))
    >>> sympy.factor(f.r.identical.args[1][0])
    (d*k*s**n - d*k - d*s**n + d + s - 1)/(s - 1)
    >>> f.r.identical.args[0][0]
    d*k*n - d*n + 1
    >>> all(proof.holds for proof in f.proofs)
    True
    """

    r: Derivation
    S: Derivation
    P: Derivation
    start: sympy.Expr  # j·S_L − P_L
    end: sympy.Expr  # start + r_L − 1
    centre: sympy.Expr  # start + (r_L − 1)/2
    proofs: tuple[Proof, ...]

    def evaluate(self, layers: list[tuple[int, int, int, int]]) -> tuple[int, int, int]:
        """(r, S, P) of one axis of a stack given as (k, s, p_before, d) per layer, from the closed forms.

        >>> receptive_forms().evaluate([(3, 1, 1, 1), (2, 2, 0, 1), (3, 1, 0, 2)])
        (12, 2, 1)
        """
        values: dict[sympy.Basic, int] = {}
        for position, (kk, ss, pp, dd) in enumerate(layers, start=1):
            values.update({k_[position]: kk, s_[position]: ss, p_[position]: pp, d_[position]: dd})
        r, S, P = (int(_unrolled(form.closed, len(layers)).xreplace(values)) for form in (self.r, self.S, self.P))
        return r, S, P


@lru_cache(maxsize=256)
def _unrolled(expr: sympy.Expr, length: int) -> sympy.Expr:
    """A closed form at L = ``length``, sums and products written out."""
    return sympy.expand(expr.subs(L, length).doit())


def _one_more_layer() -> dict[str, tuple[sympy.Expr, sympy.Expr, sympy.Symbol]]:
    """Stage 1: x_L as a_L·x_{L−1} + b_L for x = S, P, r, from the box of one more layer."""
    r0, S0, P0 = sympy.symbols("r_prev S_prev P_prev")
    kL, sL, pL, dL = k_[L], s_[L], p_[L], d_[L]
    first = tap(j, 0, sL, pL, dL)  # layer L, output j: the first and the last map position it reads
    last = tap(j, kL - 1, sL, pL, dL)
    # map position i reads the input box i·S − P … i·S − P + r − 1: the stack below acts as one layer with kernel r,
    # stride S, padding P, dilation 1, whose first and last taps are the box's ends
    start = sympy.expand(tap(first, 0, S0, P0, 1))
    end = sympy.expand(tap(last, r0 - 1, S0, P0, 1))
    S_new = start.coeff(j)
    P_new = -start.subs(j, 0)
    r_new = sympy.expand(end - start + 1)
    if sympy.expand(start - (j * S_new - P_new)) != 0 or r_new.has(j):
        raise AssertionError("the box of one more layer is not j·S − P … j·S − P + r − 1")  # pragma: no cover
    out = {}
    for name, new, prev in (("S", S_new, S0), ("P", P_new, P0), ("r", r_new, r0)):
        a = sympy.expand(new).coeff(prev)
        out[name] = (a, sympy.expand(new - a * prev), prev)
    return out


def _solve_first_order(a: sympy.Expr, b: sympy.Expr, x0: sympy.Expr, S_closed: sympy.Expr | None) -> sympy.Expr:
    """Stage 2: x_L = x₀·∏_{l≤L} a_l + Σ_{l≤L} b_l·∏_{l<i≤L} a_i, with S_{l−1} in b_l by its closed form."""
    S_prev = sympy.Symbol("S_prev")
    b_l = sympy.factor_terms(b.subs(L, l))
    if S_closed is not None:
        b_l = b_l.subs(S_prev, S_closed.subs(L, l - 1))
    head = x0 * sympy.Product(a.subs(L, i), (i, 1, L)).doit()
    tail = sympy.Sum(b_l * sympy.Product(a.subs(L, i), (i, l + 1, L)).doit(), (l, 1, L))
    return head + (tail if b != 0 else 0)


def _identical(a: sympy.Expr, b: sympy.Expr, x0: sympy.Expr, S_identical: sympy.Expr | None) -> sympy.Expr:
    """Stage 3: n identical layers, solved by rsolve; b is β·S_{n−1}, solved with β lumped into one symbol."""
    S_prev = sympy.Symbol("S_prev")
    scalars = {k_[L]: k, s_[L]: s, p_[L]: p, d_[L]: d}
    a_c = a.xreplace(scalars)
    b_c = sympy.expand(b.xreplace(scalars))
    beta = b_c.coeff(S_prev)
    x = sympy.Function("x")
    C = sympy.Symbol("C")
    if beta == 0:  # homogeneous: S_n = s·S_{n−1}
        return sympy.rsolve(x(n) - a_c * x(n - 1), x(n), {x(0): x0})
    if S_identical is None or sympy.expand(b_c - beta * S_prev) != 0 or a_c != 1:
        raise AssertionError("expected x_n = x_{n−1} + β·S_{n−1}")  # pragma: no cover
    cases = []
    for condition, stride in ((sympy.Eq(s, 1), sympy.Integer(1)), (True, s)):
        forcing = C * S_identical.subs(s, stride).subs(n, n - 1)
        solved = sympy.rsolve(x(n) - x(n - 1) - forcing, x(n), {x(0): x0})
        cases.append((sympy.factor_terms(sympy.expand(solved.subs(C, beta.subs(s, stride)))), condition))
    return sympy.Piecewise(*cases)


@lru_cache(maxsize=1)
def receptive_forms() -> ReceptiveForms:
    """Derive (and check) the recurrences and closed forms of r, S, P; cached."""
    steps = _one_more_layer()
    initial = {"S": sympy.Integer(1), "P": sympy.Integer(0), "r": sympy.Integer(1)}
    symbol = {"S": sympy.Symbol("S_L"), "P": sympy.Symbol("P_L"), "r": sympy.Symbol("r_L")}
    derived: dict[str, Derivation] = {}
    proofs: list[Proof] = []
    for name in ("S", "P", "r"):  # S first: the others' increments contain S_{L−1}
        a, b, prev = steps[name]
        S_closed = derived["S"].closed if name != "S" else None
        S_ident = derived["S"].identical if name != "S" else None
        closed = _solve_first_order(a, b, initial[name], S_closed)
        identical = _identical(a, b, initial[name], S_ident)
        recurrence = sympy.Eq(symbol[name], a * prev + b)
        derived[name] = Derivation(name, recurrence, initial[name], a, b, closed, identical)
        proofs.extend(_check(derived[name], derived["S"]))
    r, S, P = derived["r"], derived["S"], derived["P"]
    start = tap(j, 0, S.closed, P.closed, 1)
    end = tap(j, r.closed - 1, S.closed, P.closed, 1)
    centre = start + (r.closed - 1) / 2
    return ReceptiveForms(r, S, P, start, end, centre, tuple(proofs))


def _check(form: Derivation, S: Derivation) -> list[Proof]:
    """Base case, induction step (sums), unrolled agreement, and the rsolve solution's residual."""
    S_prev = sympy.Symbol("S_prev")
    proofs = [Proof(f"{form.name}_0 = {form.initial}", "substitution L = 0",
                    sympy.simplify(form.closed.subs(L, 0).doit() - form.initial) == 0)]
    if form.a == 1:
        step = difference_delta(form.closed, L) - form.b.subs(L, L + 1).subs(S_prev, S.closed)
        proofs.append(Proof(f"{form.name}_(L+1) − {form.name}_L = b_(L+1)", "difference_delta, symbolic in L",
                            sympy.simplify(step) == 0))
    # the recurrence unrolled from the initial value, layer by layer, against the closed form at L = m
    x, S_run = form.initial, sympy.Integer(1)
    agree = True
    for m in range(1, UNROLL + 1):
        x = sympy.expand(form.a.subs(L, m) * x + form.b.subs(L, m).subs(S_prev, S_run))
        S_run = sympy.expand(S.a.subs(L, m) * S_run)
        agree &= sympy.expand(_unrolled(form.closed, m) - x) == 0
    proofs.append(Proof(f"closed form of {form.name} = recurrence unrolled, L = 1…{UNROLL}", "expand", bool(agree)))
    # rsolve's answer: initial value, recurrence residual, and agreement with the general form
    x_n = form.identical
    S_n = S.identical
    scalars = {k_[L]: k, s_[L]: s, p_[L]: p, d_[L]: d}
    a_c, b_c = form.a.xreplace(scalars), form.b.xreplace(scalars).subs(S_prev, S_n.subs(n, n - 1))
    residual = sympy.piecewise_fold(x_n - a_c * x_n.subs(n, n - 1) - b_c)
    branches = residual.args if isinstance(residual, sympy.Piecewise) else ((residual, True),)
    ok = all(sympy.simplify(expr.subs(s, 1) if cond == sympy.Eq(s, 1) else expr) == 0 for expr, cond in branches)
    ok &= sympy.simplify(x_n.subs(n, 0) - form.initial) == 0
    proofs.append(Proof(f"{form.name}(n) of n identical layers solves its recurrence", "rsolve, then substitution", bool(ok)))
    same = True
    for m in range(1, 6):
        equal_layers = {base[q]: value for q in range(1, m + 1) for base, value in ((k_, k), (s_, s), (p_, p), (d_, d))}
        general = _unrolled(form.closed, m).xreplace(equal_layers)
        for stride in (1, 2, s):
            same &= sympy.simplify((general - x_n.subs(n, m)).subs(s, stride)) == 0
    proofs.append(Proof(f"{form.name}(n) = general closed form with equal layers, n = 1…5, s ∈ {{1, 2, s}}",
                        "simplify", bool(same)))
    return proofs


# -------------------------------------------------------------------------------- effective field
@dataclass(frozen=True)
class EffectiveForms:
    """Mean and variance of the effective field of n identical uniform layers (kernel k, stride s, dilation d).

    ``mean_nk``/``variance_nk`` are the stride-1, dilation-1 forms in n and k; ``ratio`` is
    σ / r for those, ``ratio_limit`` its limit n → ∞ and ``scaled_limit`` that of √n·σ/r.

    >>> e = effective_forms()
    >>> e.mean_nk, sympy.factor(e.variance_nk)
    (n*(k - 1)/2, n*(k - 1)*(k + 1)/12)
    >>> e.ratio_limit, e.scaled_limit
    (0, sqrt(3*k**2 - 3)/(6*(k - 1)))
    """

    layer_mean: sympy.Expr  # of c·t, t uniform on 0 … k−1
    layer_variance: sympy.Expr
    mean: sympy.Expr  # n identical layers, Piecewise in s
    variance: sympy.Expr
    mean_nk: sympy.Expr
    variance_nk: sympy.Expr
    size_nk: sympy.Expr
    ratio: sympy.Expr
    ratio_limit: sympy.Expr
    scaled_limit: sympy.Expr
    proofs: tuple[Proof, ...]

    def moments(self, n_layers: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[sympy.Rational, sympy.Rational]:
        """(mean, variance) of the offset for concrete values, from the closed forms.

        >>> effective_forms().moments(2, 3)
        (2, 4/3)
        """
        values = {n: n_layers, k: kernel, s: stride, d: dilation}
        return tuple(sympy.nsimplify(sympy.piecewise_fold(f).subs(values)) for f in (self.mean, self.variance))


@lru_cache(maxsize=1)
def effective_forms() -> EffectiveForms:
    """Derive (and check) the effective field's mean and variance for n identical uniform layers; cached."""
    z, c, t = sympy.symbols("z c t")
    kk = sympy.Symbol("k", integer=True, positive=True)
    proofs = []
    # one layer: offset c·t with t uniform on 0 … k−1, generating function g(z) = Σ z^(c·t) / k
    g = sympy.Sum(z ** (c * t), (t, 0, kk - 1)) / kk

    def mean_of(G: sympy.Expr) -> sympy.Expr:
        return sympy.diff(G, z).subs(z, 1)

    def variance_of(G: sympy.Expr) -> sympy.Expr:
        return (sympy.diff(G, z, 2) + sympy.diff(G, z) - sympy.diff(G, z) ** 2).subs(z, 1)

    layer_mean = sympy.factor(mean_of(g).doit()).subs(kk, k)
    layer_variance = sympy.factor(sympy.simplify(variance_of(g).doit())).subs(kk, k)
    # stacking multiplies generating functions (paths add offsets); with F(1) = G(1) = 1, moments add
    F, G = sympy.Function("F"), sympy.Function("G")
    product = F(z) * G(z)
    normal = {F(1): 1, G(1): 1}
    adds = all(
        sympy.simplify((moment(product) - moment(F(z)) - moment(G(z))).subs(normal)) == 0
        for moment in (mean_of, variance_of)
    )
    proofs.append(Proof("mean and variance add when generating functions multiply", "abstract F, G", adds))
    # n identical layers: layer m has c = d·s^(m−1); mean_n = mean_{n−1} + c·μ(k), var likewise with c²
    S_n = receptive_forms().S.identical
    mean = _sum_of_scaled(layer_mean, S_n, c)
    variance = _sum_of_scaled(layer_variance, S_n, c)
    mean_nk = sympy.factor(sympy.piecewise_fold(mean).subs({s: 1, d: 1}))
    mean_nk = mean_nk.args[0][0] if isinstance(mean_nk, sympy.Piecewise) else mean_nk
    variance_nk = sympy.piecewise_fold(variance).subs({s: 1, d: 1})
    variance_nk = variance_nk.args[0][0] if isinstance(variance_nk, sympy.Piecewise) else variance_nk
    r_n = receptive_forms().r.identical
    size_nk = r_n.subs({s: 1, d: 1})
    size_nk = size_nk.args[0][0] if isinstance(size_nk, sympy.Piecewise) else size_nk
    # the mean sits at the centre of the theoretical field, for every stride and dilation
    centred = sympy.piecewise_fold(mean - (r_n - 1) / 2)
    branches = centred.args if isinstance(centred, sympy.Piecewise) else ((centred, True),)
    at_centre = all(sympy.simplify(e.subs(s, 1) if cond == sympy.Eq(s, 1) else e) == 0 for e, cond in branches)
    proofs.append(Proof("effective mean = (r − 1)/2, the centre of the theoretical field", "simplify", at_centre))
    nn = sympy.Symbol("n", positive=True)
    ratio = sympy.sqrt(variance_nk) / size_nk
    ratio_limit = sympy.limit(ratio.subs(n, nn), nn, sympy.oo)
    scaled_limit = sympy.simplify(sympy.limit((sympy.sqrt(nn) * ratio).subs(n, nn), nn, sympy.oo))
    return EffectiveForms(layer_mean, layer_variance, mean, variance, sympy.factor(mean_nk), sympy.expand(variance_nk),
                          sympy.expand(size_nk), ratio, ratio_limit, scaled_limit, tuple(proofs))


def _sum_of_scaled(per_layer: sympy.Expr, S_n: sympy.Expr, c: sympy.Symbol) -> sympy.Expr:
    """Solve x_n = x_{n−1} + per_layer(c = d·S_{n−1}) by rsolve with x_0 = 0, for s = 1 and s ≠ 1.

    ``per_layer`` is β·c^q; β·d^q is lumped into one symbol so that rsolve sees C·S_{n−1}^q only.
    """
    x = sympy.Function("x")
    C = sympy.Symbol("C")
    power = sympy.degree(per_layer, c)
    beta = sympy.expand(per_layer).coeff(c, power)
    cases = []
    for condition, stride in ((sympy.Eq(s, 1), sympy.Integer(1)), (True, s)):
        forcing = C * S_n.subs(s, stride).subs(n, n - 1) ** power
        solved = sympy.rsolve(x(n) - x(n - 1) - forcing, x(n), {x(0): 0})
        cases.append((sympy.factor_terms(sympy.expand(solved.subs(C, beta * d**power))), condition))
    return sympy.Piecewise(*cases)
