"""The SymPy-derived closed forms against the numbers: recurrences, identical layers, effective field."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
import sympy

from symconv.receptive.field import effective_receptive_field, receptive_field
from symconv.receptive.forms import L, d, effective_forms, k, n, p, receptive_forms, s
from symconv.receptive.layers import Layer


def test_every_derivation_step_is_proved():
    forms = receptive_forms()
    assert len(forms.proofs) >= 13
    failed = [proof.statement for proof in forms.proofs if not proof.holds]
    assert failed == []
    assert all(proof.holds for proof in effective_forms().proofs)


def test_recurrences_have_the_expected_shape():
    """The derived recurrences, read back: r and P add a multiple of S_{L−1}, S multiplies by s_L."""
    forms = receptive_forms()
    S_prev = sympy.Symbol("S_prev")
    assert forms.S.a != 1 and forms.S.b == 0
    assert forms.r.a == 1 and forms.P.a == 1
    assert sympy.expand(forms.r.b / S_prev).free_symbols.isdisjoint({S_prev})  # b = β·S_{L−1}
    # P_L grows with the layer's padding only; r_L with (k_L − 1) and d_L only
    assert sympy.diff(forms.P.b, sympy.Indexed("k", L)) == 0
    assert sympy.diff(forms.r.b, sympy.Indexed("p", L)) == 0


STACK_GRID = [
    [(3, 1, 1, 1)] * 3,
    [(3, 2, 1, 1), (3, 1, 0, 2), (2, 2, 0, 1)],
    [(7, 2, 3, 1), (3, 2, 1, 1), (1, 1, 0, 1), (3, 1, 2, 2), (5, 3, 0, 1)],
    [(2, 3, 1, 4), (4, 1, 0, 1)],
    [(1, 1, 0, 1)],
]


@pytest.mark.parametrize("axis_layers", STACK_GRID)
def test_general_closed_form_agrees_with_receptive_field(axis_layers):
    layers = [Layer(kk, ss, pp, dd) for kk, ss, pp, dd in axis_layers]
    rf = receptive_field(layers)
    assert receptive_forms().evaluate(axis_layers) == (rf.size[0], rf.stride[0], rf.padding[0])
    # and the region of output j from the derived start/end/centre
    forms = receptive_forms()
    values = {sympy.Indexed(base, q): v for q, layer in enumerate(axis_layers, start=1)
              for base, v in zip("kspd", layer)}
    for jj in (0, 3):
        box = rf.box((jj, jj))[0]
        for expr, expected in ((forms.start, box.start), (forms.end, box.end), (forms.centre, box.centre)):
            value = sympy.expand(expr.subs({L: len(axis_layers), sympy.Symbol("j", integer=True, nonnegative=True): jj})
                                 .doit()).xreplace(values)
            assert value.is_Rational and float(value) == expected


@pytest.mark.parametrize(("kk", "ss", "pp", "dd"), list(itertools.product((1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2)))[::3])
def test_identical_layers_rsolve_forms_agree_with_receptive_field(kk, ss, pp, dd):
    forms = receptive_forms()
    for count in (1, 2, 5, 9):
        rf = receptive_field([Layer(kk, ss, pp, dd)] * count)
        got = [sympy.piecewise_fold(f.identical).subs({n: count, k: kk, s: ss, p: pp, d: dd})
               for f in (forms.r, forms.S, forms.P)]
        assert got == [rf.size[0], rf.stride[0], rf.padding[0]]


def _exact_moments(counts: list[int]) -> tuple[Fraction, Fraction]:
    total = sum(counts)
    mean = Fraction(sum(u * c for u, c in enumerate(counts)), total)
    return mean, Fraction(sum(u * u * c for u, c in enumerate(counts)), total) - mean**2


def _convolution_power(kernel: list[int], times: int) -> list[int]:
    """Integer convolution power, written out with plain loops (independent of the library's code)."""
    out = [1]
    for _ in range(times):
        new = [0] * (len(out) + len(kernel) - 1)
        for a, x in enumerate(out):
            for b, y in enumerate(kernel):
                new[a + b] += x * y
        out = new
    return out


@pytest.mark.parametrize(("layers_n", "kk"), [(nn, kk) for nn in (1, 2, 3, 5, 8) for kk in (1, 2, 3, 4, 7)])
def test_effective_field_moments_in_n_and_k(layers_n, kk):
    forms = effective_forms()
    counts = _convolution_power([1] * kk, layers_n)
    erf = effective_receptive_field([Layer((kk,))] * layers_n)
    assert list(erf.axes[0].counts) == counts
    mean, var = _exact_moments(counts)
    assert forms.mean_nk.subs({n: layers_n, k: kk}) == sympy.Rational(mean.numerator, mean.denominator)
    assert forms.variance_nk.subs({n: layers_n, k: kk}) == sympy.Rational(var.numerator, var.denominator)
    assert (erf.axes[0].mean, erf.axes[0].variance) == (mean, var)
    # theoretical size r = n(k − 1) + 1 is the support of the distribution
    assert forms.size_nk.subs({n: layers_n, k: kk}) == len(counts) == erf.axes[0].size
    assert erf.axes[0].support == (0, len(counts) - 1)


@pytest.mark.parametrize(("layers_n", "kk", "ss", "dd"), [(2, 3, 2, 1), (3, 2, 2, 2), (4, 3, 3, 1), (2, 5, 1, 3)])
def test_effective_field_moments_with_stride_and_dilation(layers_n, kk, ss, dd):
    erf = effective_receptive_field([Layer((kk,), stride=ss, dilation=dd)] * layers_n)
    mean, var = effective_forms().moments(layers_n, kk, ss, dd)
    assert (mean, var) == (sympy.Rational(erf.axes[0].mean), sympy.Rational(erf.axes[0].variance))
    # the mean sits at the centre of the theoretical field
    assert erf.axes[0].mean == Fraction(erf.axes[0].size - 1, 2)


def test_effective_field_shrinks_relative_to_the_theoretical_size():
    forms = effective_forms()
    nn = sympy.Symbol("n", positive=True)
    ratios = []
    for layers_n in (4, 16, 64, 256):
        erf = effective_receptive_field([Layer((3,))] * layers_n)
        ratios.append(erf.axes[0].std_over_size)
        assert math.isclose(float(forms.ratio.subs({n: layers_n, k: 3})), ratios[-1], rel_tol=1e-12)
    assert ratios == sorted(ratios, reverse=True)
    # √n·σ/r approaches the derived limit (k = 3: √(4/24) = 0.408…)
    limit = float(forms.scaled_limit.subs(k, 3))
    assert abs(math.sqrt(256) * ratios[-1] - limit) < abs(math.sqrt(4) * ratios[0] - limit)
    assert abs(math.sqrt(256) * ratios[-1] - limit) < 0.01
    assert forms.ratio_limit == 0 and sympy.limit(forms.ratio.subs(n, nn), nn, sympy.oo) == 0
