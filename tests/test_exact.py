"""symconv.core.exact: exact entries normalised soundly; anything uncertain is undetermined (None), never wrong."""

from __future__ import annotations

import sympy

from symconv.core.exact import exact_polynomial

W, V, X = sympy.symbols("omega_0 omega_1 x")
T = sympy.Symbol("t")


def test_the_issue_entries_are_exactly_omega():
    assert exact_polynomial((sympy.cos(1)**2 + sympy.sin(1)**2) * W, [W]) == {W: 1}
    assert exact_polynomial(sympy.Sum(W, (T, 1, 1)), [W]) == {W: 1}
    assert exact_polynomial(sympy.UnevaluatedExpr(W), [W]) == {W: 1}


def test_polynomials_with_rationals_pass_through_exactly():
    assert exact_polynomial(W + V, [W, V]) == {W: 1, V: 1}
    assert exact_polynomial(sympy.Rational(1, 3) * W * V + 2, [W, V]) == {W * V: sympy.Rational(1, 3), 1: 2}
    assert exact_polynomial(0, [W]) == {}


def test_big_coefficients_stay_python_ints():
    result = exact_polynomial((2**64 + 1) * W - sympy.Rational(1, 3**50) * V, [W, V])
    assert result == {W: 2**64 + 1, V: -sympy.Rational(1, 3**50)}
    assert int(result[W]) == 18446744073709551617


def test_a_rational_written_transcendentally_is_recovered():
    assert exact_polynomial((sympy.exp(sympy.log(3)) / 2) * W, [W]) == {W: sympy.Rational(3, 2)}
    assert exact_polynomial(sympy.sqrt(2) ** 2 * W + sympy.sin(sympy.pi / 6) * V, [W, V]) == {W: 2, V: sympy.Rational(1, 2)}


def test_not_rational_or_not_polynomial_is_undetermined():
    assert exact_polynomial(sympy.sqrt(2) * W, [W]) is None
    assert exact_polynomial(W**2 / V, [W, V]) is None
    assert exact_polynomial(sympy.sin(W), [W]) is None
    assert exact_polynomial(W * X, [W]) is None  # a symbol outside the allowed ones



def test_a_float_is_its_exact_binary_value_never_the_decimal_it_looks_like():
    assert exact_polynomial(sympy.Float("0.1") * W, [W]) == {W: sympy.Rational(3602879701896397, 2**55)}
    assert exact_polynomial(sympy.Float("0.5") * W, [W]) == {W: sympy.Rational(1, 2)}


def test_a_near_rational_is_never_rounded_to_it():
    """1 + 10⁻³⁰ is within the candidate's rounding of 1, but the difference is not zero: undetermined, not 1."""
    almost = (1 + sympy.Rational(1, 10**30) * sympy.cos(1) ** 0) * W
    assert exact_polynomial(almost, [W]) == {W: 1 + sympy.Rational(1, 10**30)}
    assert exact_polynomial((1 + sympy.exp(-80)) * W, [W]) is None


def test_identity_in_the_symbols_themselves():
    # cos²ω + sin²ω is 1, but ω sits inside cos: not a polynomial as written, and no candidate is guessed
    assert exact_polynomial(sympy.cos(W) ** 2 + sympy.sin(W) ** 2 + V, [W, V]) is None
    assert exact_polynomial((W + 1) ** 2 - W**2, [W]) == {W: 2, 1: 1}
