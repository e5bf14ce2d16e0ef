"""Deciding soundly whether a supplied entry is a polynomial with exact rational coefficients.

A matrix 𝒲 handed to ``verify(matrix=…)`` may hold an entry that is exactly right but not written as a
polynomial: ``(cos²1 + sin²1)·ω``, ``Sum(ω, (t, 1, 1))``, ``UnevaluatedExpr(ω)``. Comparing such an entry
term by term reports a difference that is not there. :func:`exact_polynomial` normalises it, and answers only
when the answer is certain:

1. ``doit()`` evaluates unevaluated sums, products, integrals and ``UnevaluatedExpr``; every ``Float`` becomes
   the exact binary fraction it holds (0.1 is 3602879701896397/2⁵⁵, not 1/10).
2. If the expanded result is already a polynomial in the allowed symbols with rational coefficients (exact,
   numerators and denominators of any size as Python ints), that is the answer.
3. Otherwise a *candidate* polynomial is built: each coefficient (an expression without free symbols) is
   evaluated to 60 digits and rounded to the nearest fraction with a denominator below 10²⁵. The candidate
   is only a guess; it is accepted when the *difference* entry − candidate simplifies to exactly 0, and
   ``equals(0)`` confirms it, both symbolically and at exact rational points for the symbols.

Anything else — a coefficient that is not a real number, a symbol outside the allowed ones, a difference
SymPy cannot show to be zero — is *undetermined* (``None``), never "different": the caller reports the
entry instead of a failure.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import sympy

__all__ = ["exact_polynomial"]

#: Exact rational points at which the difference is confirmed, besides the symbolic check.
CONFIRMATION_POINTS = 3


def _monomial_of(factor_part: sympy.Expr, gens: frozenset) -> bool:
    """True when ``factor_part`` is 1 or a product of powers (positive integer exponents) of the symbols in gens."""
    for factor in sympy.Mul.make_args(factor_part):
        base, exponent = factor.as_base_exp()
        if factor != 1 and not (base in gens and exponent.is_Integer and exponent > 0):
            return False
    return True


def _as_rational_poly(expr: sympy.Expr, gens: frozenset) -> dict[sympy.Expr, sympy.Rational] | None:
    """The terms of ``expr`` (expanded) if it is a polynomial in ``gens`` with rational coefficients as written."""
    out: dict[sympy.Expr, sympy.Rational] = {}
    for monomial, coefficient in expr.as_coefficients_dict().items():
        if not coefficient.is_Rational or not _monomial_of(monomial, gens):
            return None
        if coefficient != 0:
            out[monomial] = out.get(monomial, sympy.S.Zero) + coefficient
    return {m: c for m, c in out.items() if c != 0}


def _candidate(expr: sympy.Expr, gens: list[sympy.Symbol]) -> dict[sympy.Expr, sympy.Rational] | None:
    """A guess: expr's coefficients (over the EX domain) rounded to nearby fractions; None if it has no such form."""
    try:
        poly = sympy.Poly(sympy.expand(expr), *gens) if gens else None
    except sympy.PolynomialError:
        return None
    terms = poly.terms() if poly is not None else [((), expr)]
    out: dict[sympy.Expr, sympy.Rational] = {}
    for monomial, coefficient in terms:
        c = sympy.sympify(coefficient)
        if c.free_symbols:
            return None  # a coefficient that still holds a symbol: not a polynomial in gens
        value = c.evalf(60)
        if not (value.is_real and value.is_finite) or not value.is_Number:
            return None
        q = sympy.Rational(str(value)).limit_denominator(10**25)
        if q != 0:
            out[sympy.Mul(*(g**e for g, e in zip(gens, monomial)))] = q
    return out


def _is_zero(difference: sympy.Expr) -> bool:
    """True only when SymPy shows ``difference`` is exactly 0: simplification, then ``equals(0)``."""
    if difference == 0:
        return True
    if sympy.simplify(difference) != 0:
        return False
    return difference.equals(0) is True


def exact_polynomial(expr: object, allowed_symbols: Iterable[sympy.Symbol]) -> dict[sympy.Expr, sympy.Rational] | None:
    """``{monomial: coefficient}`` if ``expr`` is exactly a polynomial in ``allowed_symbols`` with rational
    coefficients after normalisation; ``None`` when that is not certain (undetermined).

    Monomials are SymPy products of the allowed symbols (``1`` for the constant); coefficients are exact
    ``Rational`` s whose numerators and denominators are Python ints of any size. Pass ``allowed_symbols`` as a
    frozenset when calling once per entry of a large matrix (it is converted otherwise).

    >>> w = sympy.Symbol("omega")
    >>> exact_polynomial((sympy.cos(1)**2 + sympy.sin(1)**2) * w, [w])
    {omega: 1}
    >>> exact_polynomial(sympy.Sum(w, (sympy.Symbol("t"), 1, 1)), [w])
    {omega: 1}
    >>> exact_polynomial((2**64 + 1) * w, [w])
    {omega: 18446744073709551617}
    >>> exact_polynomial(sympy.sqrt(2) * w, [w]) is None
    True
    """
    allowed = allowed_symbols if isinstance(allowed_symbols, frozenset) else frozenset(allowed_symbols)
    if isinstance(expr, sympy.Expr):  # already a polynomial as written: the common case, answered without doit()
        written = _as_rational_poly(expr, allowed)
        if written is not None:
            return written
    try:
        entry = sympy.sympify(expr)
        entry = entry.doit() if isinstance(entry, sympy.Basic) else entry
    except (sympy.SympifyError, TypeError, ValueError, NotImplementedError):
        return None
    if not isinstance(entry, sympy.Expr):
        return None
    # a Float is taken at its exact binary value (never a nearby decimal: 0.1 is not 1/10), so no simplification
    # below can round: Float arithmetic would make 0.1·ω − ω/10 "simplify" to 0
    entry = entry.xreplace({f: sympy.Rational(f) for f in entry.atoms(sympy.Float)})
    exact = _as_rational_poly(sympy.expand(entry), allowed)
    if exact is not None:
        return exact
    if not entry.free_symbols <= allowed:
        return None
    gens = sorted(entry.free_symbols, key=sympy.default_sort_key)
    candidate = _candidate(entry, gens)
    if candidate is None:
        return None
    polynomial = sympy.Add(*(c * m for m, c in candidate.items()))
    difference = entry - polynomial
    try:
        if not _is_zero(difference):
            return None
        rng = random.Random(0)
        for _ in range(CONFIRMATION_POINTS if gens else 0):
            point = {g: sympy.Rational(rng.randint(-97, 97), rng.randint(1, 89)) for g in gens}
            if not _is_zero(difference.xreplace(point)):
                return None
    except (TypeError, ValueError, NotImplementedError, RecursionError):
        return None
    return candidate
