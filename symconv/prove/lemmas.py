"""The integer side conditions of the all-size proof, discharged by Z3.

Why Z3 and not SymPy: every statement here is a ∀ over integers with *symbolic* stride, padding and
dilation — nonlinear integer arithmetic with floor division and remainders. SymPy's ``simplify``/``refine``
are not sound on such range conditions (sympy#27359), so none is discharged by them. Z3 decides each
statement by refutation: it asserts the hypotheses and the *negation* of the conclusion; ``unsat`` means the
statement holds for every size, ``sat`` gives a model — a counterexample with concrete sizes and indices —
and ``unknown``/timeout leaves the step undetermined (never a pass).

Statements are written once, in SymPy (so that a report can typeset them), and translated to Z3 by
:func:`to_z3`: integer symbols become ``Int``, ``floor(a/b)`` and ``Mod(a, b)`` become Z3's ``div``/``mod``
with the sign rule of Python/SymPy, ``Piecewise``/``KroneckerDelta``/``Min``/``Max`` become ``If``,
an applied undefined function (``omega(i, l', m, n)``, ``b(i)``) becomes an uninterpreted Z3 function
over the reals — so ω(1/2) is a value of its own, distinct from every weight, as it must be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import sympy
import z3
from sympy.core.function import AppliedUndef
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from ..core.symbols import C1, C2, g, size_symbols

__all__ = ["AXES", "INDEX", "Q1", "Q2", "Check", "check_valid", "to_z3"]

#: the two spatial axes' size symbols (n, k, s, p, d, out): (H, h, s_h, p_h, d_h, H') and (W, w, …, W')
AXES = size_symbols(2)
#: channels per group: C₁ = g·q₁, C₂ = g·q₂
Q1 = sympy.Symbol("q_1", integer=True, positive=True)
Q2 = sympy.Symbol("q_2", integer=True, positive=True)
_I = {"integer": True}
#: index symbols (0-based, no sign assumptions: their ranges are hypotheses, checked by Z3)
INDEX = {name: sympy.Symbol(name, **_I) for name in ("i", "l", "o_h", "o_w", "r", "c", "m", "n", "R", "Q")}
SIZE_NAMES = (C1, C2, g, Q1, Q2, *(sym for axis in AXES for sym in axis))

#: seconds Z3 may spend on one statement before the step is "undetermined"
TIMEOUT_MS = 20_000


class _Translator:
    """SymPy → Z3, one context (symbols and functions shared across the formulas of one check)."""

    def __init__(self) -> None:
        # one Z3 context per check: no state (learned lemmas, declarations) leaks from one statement to the next,
        # so each answer and each time depends on its statement only
        self.ctx = z3.Context()
        self.ints: dict[str, z3.ArithRef] = {}
        self.funcs: dict[tuple[str, int], z3.FuncDeclRef] = {}
        self.domain: list[Any] = []

    def symbol(self, sym: sympy.Symbol) -> z3.ArithRef:
        if not sym.is_integer:
            raise TypeError(f"only integer symbols reach Z3, got {sym} (declare it integer=True)")
        if sym.name not in self.ints:
            self.ints[sym.name] = var = z3.Int(sym.name, self.ctx)
            # the symbol's own assumptions are part of the statement (SymPy already used them, e.g. H ≥ 1 → True)
            if sym.is_positive:
                self.domain.append(var >= 1)
            elif sym.is_nonnegative:
                self.domain.append(var >= 0)
        return self.ints[sym.name]

    def func(self, name: str, arity: int) -> z3.FuncDeclRef:
        key = (name, arity)
        if key not in self.funcs:
            self.funcs[key] = z3.Function(name, *([z3.RealSort(self.ctx)] * arity), z3.RealSort(self.ctx))
        return self.funcs[key]

    def floor_div(self, num: Any, den: Any) -> Any:
        """⌊num/den⌋ for Int num, den ≠ 0 (Z3's div rounds toward −∞ only for den > 0)."""
        if z3.is_int_value(den) and den.as_long() > 0:
            return num / den
        return z3.If(den > 0, num / den, (-num) / (-den))

    def floor(self, arg: sympy.Expr) -> Any:
        num, den = sympy.fraction(sympy.together(arg))
        zn, zd = self(num), self(den)
        if den == 1:
            return zn if zn.is_int() else z3.ToInt(zn)
        if zn.is_int() and zd.is_int():
            return self.floor_div(zn, zd)
        return z3.ToInt(zn / zd)

    def __call__(self, e: Any) -> Any:
        """``e`` as a Z3 term: the first handler whose SymPy types ``e`` is an instance of (:data:`_HANDLERS`)."""
        if isinstance(e, bool):
            return z3.BoolVal(e, self.ctx)
        for types, handler in _HANDLERS:
            if isinstance(e, types):
                return handler(self, e)
        raise TypeError(f"Z3 translation: unsupported expression {type(e).__name__}: {e}")

    # ------------------------------------------------------------------ atoms and arithmetic
    def boolean(self, e: Any) -> Any:
        return z3.BoolVal(isinstance(e, BooleanTrue), self.ctx)

    def integer(self, e: sympy.Integer) -> Any:
        return z3.IntVal(int(e), self.ctx)

    def rational(self, e: sympy.Rational) -> Any:
        return z3.RealVal(f"{e.p}/{e.q}", self.ctx)

    def add(self, e: sympy.Add) -> Any:
        return z3.Sum(*[self(a) for a in e.args])

    def mul(self, e: sympy.Mul) -> Any:
        num, den = sympy.fraction(e)
        if den != 1:
            return z3.ToReal(self(num)) / z3.ToReal(self(den))
        return z3.Product(*[self(a) for a in e.args])

    def power(self, e: sympy.Pow) -> Any:
        if e.exp.is_Integer and e.exp > 0:
            return z3.Product(*[self(e.base)] * int(e.exp))
        if e.exp.is_Integer and e.exp < 0:
            return z3.RealVal(1, self.ctx) / z3.ToReal(self(e.base ** -e.exp))
        raise TypeError(f"Z3 translation: unsupported power {e}")

    # ------------------------------------------------------------------ integer functions, cases, ω
    def floor_of(self, e: sympy.floor) -> Any:
        return self.floor(e.args[0])

    def ceiling_of(self, e: sympy.ceiling) -> Any:
        return -self.floor(-e.args[0])

    def mod(self, e: sympy.Mod) -> Any:
        za, zb = self(e.args[0]), self(e.args[1])
        if za.is_int() and zb.is_int():
            return za - zb * self.floor_div(za, zb)
        return za - zb * z3.ToInt(za / zb)

    def piecewise(self, e: sympy.Piecewise) -> Any:
        out = None
        for expr, cond in reversed(e.args):
            value = self(expr)
            if out is None and cond == sympy.true:
                out = value
            else:
                out = z3.If(self(cond), value, out if out is not None else z3.RealVal(0, self.ctx))
        return out

    def delta(self, e: sympy.KroneckerDelta) -> Any:
        return z3.If(self(e.args[0]) == self(e.args[1]), z3.IntVal(1, self.ctx), z3.IntVal(0, self.ctx))

    def extremum(self, e: sympy.Min | sympy.Max) -> Any:
        args = [self(a) for a in e.args]
        out = args[0]
        for a in args[1:]:
            out = z3.If(a < out, a, out) if isinstance(e, sympy.Min) else z3.If(a > out, a, out)
        return out

    def absolute(self, e: sympy.Abs) -> Any:
        a = self(e.args[0])
        return z3.If(a < 0, -a, a)

    def applied(self, e: AppliedUndef) -> Any:
        f = self.func(e.func.__name__, len(e.args))
        return f(*[z3.ToReal(a) if a.is_int() else a for a in map(self, e.args)])

    # ------------------------------------------------------------------ relations and logic
    def relation(self, e: Any) -> Any:
        lhs, rhs = self(e.lhs), self(e.rhs)
        return _RELATIONS[type(e)](lhs, rhs)

    def connective(self, e: Any) -> Any:
        args = [self(a) for a in e.args]
        if isinstance(e, sympy.And):
            return z3.And(*args, self.ctx)
        if isinstance(e, sympy.Or):
            return z3.Or(*args, self.ctx)
        if isinstance(e, sympy.Not):
            return z3.Not(args[0])
        return z3.Implies(args[0], args[1])


_RELATIONS: dict[type, Callable[[Any, Any], Any]] = {
    sympy.Eq: lambda a, b: a == b, sympy.Ne: lambda a, b: a != b, sympy.Lt: lambda a, b: a < b,
    sympy.Le: lambda a, b: a <= b, sympy.Gt: lambda a, b: a > b, sympy.Ge: lambda a, b: a >= b,
}
#: SymPy node types → the translator's method, first match wins (Integer before Rational: it is one)
_HANDLERS: tuple[tuple[Any, Callable[[_Translator, Any], Any]], ...] = (
    ((BooleanTrue, BooleanFalse), _Translator.boolean),
    (sympy.Symbol, _Translator.symbol),
    (sympy.Integer, _Translator.integer),
    (sympy.Rational, _Translator.rational),
    (sympy.Add, _Translator.add),
    (sympy.Mul, _Translator.mul),
    (sympy.Pow, _Translator.power),
    (sympy.floor, _Translator.floor_of),
    (sympy.ceiling, _Translator.ceiling_of),
    (sympy.Mod, _Translator.mod),
    (sympy.Piecewise, _Translator.piecewise),
    (sympy.KroneckerDelta, _Translator.delta),
    ((sympy.Min, sympy.Max), _Translator.extremum),
    (sympy.Abs, _Translator.absolute),
    (AppliedUndef, _Translator.applied),
    (tuple(_RELATIONS), _Translator.relation),
    ((sympy.And, sympy.Or, sympy.Not, sympy.Implies), _Translator.connective),
)


def to_z3(expr: Any) -> Any:
    """One SymPy formula as a Z3 term (fresh context).

    >>> i = sympy.Symbol("i", integer=True)
    >>> to_z3(sympy.Mod(i, 3) < 2)
    2 > i - 3*(i/3)
    """
    return _Translator()(expr)


@dataclass(frozen=True)
class Check:
    """Z3's answer on one statement: ``status`` proved/refuted/undetermined, the model as ints, the time."""

    status: str
    seconds: float
    model: dict[str, int]
    smt: str
    reason: str = ""


def _model_ints(model: z3.ModelRef, ints: dict[str, z3.ArithRef]) -> dict[str, int]:
    out = {}
    for name, var in ints.items():
        value = model.eval(var, model_completion=True)
        out[name] = value.as_long() if z3.is_int_value(value) else int(str(value))
    return out


#: bounds on the sizes that make a counterexample small enough to build and print (tried in turn, then dropped)
SMALL_BOUNDS = (2, 4, 7)


def check_valid(hypotheses: list[Any], conclusion: Any, *, small: tuple[sympy.Symbol, ...] = SIZE_NAMES,
                timeout_ms: int = TIMEOUT_MS) -> Check:
    """Whether ``hypotheses ⇒ conclusion`` holds for all integer values of the free symbols (Z3).

    ``sat`` of hypotheses ∧ ¬conclusion is a counterexample; Z3 is asked again with every symbol in
    ``small`` bounded by :data:`SMALL_BOUND` so that the counterexample can be built concretely.

    >>> x = sympy.Symbol("x", integer=True)
    >>> check_valid([x >= 1], sympy.floor(x / 2) < x).status
    'proved'
    >>> c = check_valid([x >= 1], sympy.floor(x / 2) < x - 1); c.status, c.model
    ('refuted', {'x': 1})
    """
    tr = _Translator()
    hyps = [tr(h) for h in hypotheses]
    negated = z3.Not(tr(conclusion))
    hyps += tr.domain
    solver = z3.Solver(ctx=tr.ctx)
    solver.set("timeout", timeout_ms)
    solver.add(*hyps, negated)
    start = perf_counter()
    answer = solver.check()
    seconds = perf_counter() - start
    smt = solver.sexpr()
    if answer == z3.unsat:
        return Check("proved", seconds, {}, smt)
    if answer == z3.unknown:
        return Check("undetermined", seconds, {}, smt, reason=str(solver.reason_unknown()))
    model = _model_ints(solver.model(), tr.ints)
    # a small counterexample, if there is one, is easier to build and to read: bounds 2, 4, 7 on the sizes
    for bound in SMALL_BOUNDS:
        bounded = z3.Solver(ctx=tr.ctx)
        bounded.set("timeout", min(timeout_ms, 2_000))
        bounded.add(*hyps, negated)
        for sym in small:
            if sym.name in tr.ints:
                bounded.add(tr.ints[sym.name] <= bound)
        if bounded.check() == z3.sat:
            model = _model_ints(bounded.model(), tr.ints)
            break
    return Check("refuted", seconds, model, smt)
