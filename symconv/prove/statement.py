"""The statement of the all-size theorem: its symbols, the entry formula, the tap map and the output size.

0-based indices; columns of 𝒲 the C-order flatten of x, rows in the chosen order (see :mod:`symconv.core.symbols`).
For every output (i, o_h, o_w) and input (l, r, c) the coefficient of x_{l,r,c} in y_{i,o_h,o_w} is

    [l ∈ group(i)] · Π_axes [d | c − o·s + p ∧ 0 ≤ τ < k] · ω(i, l − G(i)·q₁, τ_h, τ_w),
    τ = ⌊(c − o·s + p)/d⌋,  G(i) = ⌊i/q₂⌋,  C₁ = g·q₁,  C₂ = g·q₂.

A claimed entry (``prove_general(entry=…)``) is written in :data:`ENTRY_SYMBOLS`; :func:`parse_entry` reads a string.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy

from ..core.symbols import C1, C2, g
from ..errors import SpecError
from .lemmas import AXES, INDEX, Q1, Q2
from .names import ENTRY_NAMES

__all__ = [
    "ENTRY_SYMBOLS", "NOTE_LITERAL_ENTRY", "bias_fn", "entry_formula", "floor_size", "group_channel", "in_ranges",
    "index_ranges", "o_free", "omega", "parse_entry", "row_decode", "row_index", "tap", "tau_hit",
]

# ----------------------------------------------------------------------------- symbols
omega = sympy.Function("omega")  # ω(i, l', m, n): output channel, input channel within the group, kernel row, column
bias_fn = sympy.Function("b")  # b(i) shared, b(i, o_h, o_w) per location
i, l, o_h, o_w, r, c, m, n, R, Q = (INDEX[k] for k in ("i", "l", "o_h", "o_w", "r", "c", "m", "n", "R", "Q"))
(H, h, s_h, p_h, d_h, Ho), (W, w, s_w, p_w, d_w, Wo) = AXES

#: names a claimed entry may use (``prove_general(entry=…)``, ``symconv prove --entry``): the 0-based indices
#: i (output channel), o_h, o_w (output row, column), l (input channel), r, c (input row, column); ω as
#: ``omega(i, l', m, n)`` (l' the input channel within i's group); the sizes C_1, C_2, g, q_1 = C_1/g,
#: q_2 = C_2/g, H, W, h, w, s_h, s_w, p_h, p_w, d_h, d_w and H_out, W_out (H', W'); and SymPy's Piecewise,
#: KroneckerDelta, floor, ceiling, Mod, Min, Max, Abs, Eq, Ne, Lt, Le, Gt, Ge, And, Or, Not.
ENTRY_SYMBOLS: dict[str, Any] = {
    "i": i, "l": l, "o_h": o_h, "o_w": o_w, "r": r, "c": c, "omega": omega,
    "C_1": C1, "C_2": C2, "g": g, "q_1": Q1, "q_2": Q2, "H": H, "W": W, "h": h, "w": w,
    "s_h": s_h, "s_w": s_w, "p_h": p_h, "p_w": p_w, "d_h": d_h, "d_w": d_w, "H_out": Ho, "W_out": Wo,
}
_ENTRY_FUNCTIONS: dict[str, Any] = {
    name: getattr(sympy, name) for name in (
        "Piecewise", "KroneckerDelta", "floor", "ceiling", "Mod", "Min", "Max", "Abs",
        "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "And", "Or", "Not",
    )
} | {"true": sympy.true, "false": sympy.false}

#: the note's B_{l,j,k} read literally, 0-based (stride 1, padding 0, dilation 1, groups 1): image row r of
#: 𝒲_{j,k,l} holds B_{l,r+1,k}, i.e. kernel row r + 1 (the note's 1-based j + m) instead of r − o_h
NOTE_LITERAL_ENTRY = (
    "Piecewise((omega(i, l, r + 1, c - o_w), (r - o_h >= 0) & (r - o_h < h) & (c - o_w >= 0) & (c - o_w < w)), (0, True))"
)


def parse_entry(text: str) -> sympy.Expr:
    """A claimed entry formula from text, with only :data:`ENTRY_SYMBOLS` and SymPy's functions allowed.

    The text is checked name by name (Python's ``ast``) before SymPy reads it; anything else — attributes,
    unknown names, lambdas, comparisons with ``==`` — is a one-line SpecError naming the parameter.

    >>> parse_entry("KroneckerDelta(r, o_h) * omega(i, l, 0, c - o_w)")
    omega(i, l, 0, c - o_w)*KroneckerDelta(o_h, r)
    >>> parse_entry("__import__('os')")
    Traceback (most recent call last):
    ...
    symconv.errors.SpecError: entry: unknown name '__import__'; allowed: i, l, o_h, o_w, r, c, omega, ... (see ENTRY_SYMBOLS)
    """
    allowed = ENTRY_SYMBOLS | _ENTRY_FUNCTIONS
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"entry: not a formula ({exc.msg} at column {exc.offset}), got {text!r}") from None
    ok = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant, ast.Tuple,
          ast.operator, ast.unaryop, ast.Compare, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
    for node in ast.walk(tree):  # names first: the most useful message
        if isinstance(node, ast.Name) and node.id not in allowed:
            names = ", ".join(ENTRY_NAMES)
            raise SpecError(f"entry: unknown name {node.id!r}; allowed: {names}, ... (see ENTRY_SYMBOLS)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) != 1:
            raise SpecError(f"entry: chained comparisons are ambiguous; write And(a < b, b < c), got {text!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int):
            raise SpecError(f"entry: only integer constants are allowed, got {node.value!r}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and not node.keywords):
            raise SpecError(f"entry: only calls of allowed functions without keywords, got {text!r}")
        if not isinstance(node, ok):
            raise SpecError(f"entry: {type(node).__name__} is not allowed in a formula "
                            f"(use Eq(a, b) for equality), got {text!r}")
    glob = {"__builtins__": {}, "Integer": sympy.Integer, "Symbol": sympy.Symbol, "Rational": sympy.Rational}
    expr = sympy.parse_expr(text, local_dict=dict(allowed), global_dict=glob)
    if not isinstance(expr, sympy.Expr):
        raise SpecError(f"entry: must be an expression (an entry value), got {type(expr).__name__} from {text!r}")
    return expr


# ----------------------------------------------------------------------------- the tap map and the output size
def floor_size(n_: Any, k_: Any, s_: Any, p_: Any, d_: Any) -> Any:
    """PyTorch's output length ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 of one axis."""
    return sympy.floor((n_ + 2 * p_ - d_ * (k_ - 1) - 1) / s_) + 1


def tap(o: Any, t: Any, s_: Any, p_: Any, d_: Any) -> Any:
    """The input coordinate that kernel tap t of output o reads: o·s − p + t·d."""
    return o * s_ - p_ + t * d_


# ----------------------------------------------------------------------------- the statement
def tau_hit(coord: Any, o: Any, axis: int) -> tuple[Any, Any]:
    """(τ, hit) on one axis: τ = ⌊(coord − o·s + p)/d⌋, hit = d | coord − o·s + p ∧ 0 ≤ τ < k."""
    _, k_, s_, p_, d_, _ = AXES[axis]
    x = coord - o * s_ + p_
    tau = sympy.floor(x / d_)
    return tau, sympy.And(sympy.Eq(sympy.Mod(x, d_), 0), tau >= 0, tau < k_)


def group_channel() -> tuple[Any, Any]:
    """(l', in-group): l' = l − ⌊i/q₂⌋·q₁ and 0 ≤ l' < q₁."""
    lp = l - sympy.floor(i / Q2) * Q1
    return lp, sympy.And(lp >= 0, lp < Q1)


def entry_formula() -> sympy.Expr:
    """The coefficient of x_{l,r,c} in y_{i,o_h,o_w}, as this module proves it (symbols: :data:`ENTRY_SYMBOLS`).

    >>> entry_formula().func
    Piecewise
    """
    lp, in_group = group_channel()
    tau_h, hit_h = tau_hit(r, o_h, 0)
    tau_w, hit_w = tau_hit(c, o_w, 1)
    return sympy.Piecewise((omega(i, lp, tau_h, tau_w), sympy.And(in_group, hit_h, hit_w)), (0, True))


def index_ranges() -> dict[Any, tuple[Any, Any]]:
    """Each index of an entry of 𝒲 with its range [lo, hi) in the size symbols."""
    return {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo), l: (0, C1), r: (0, H), c: (0, W)}


def in_ranges(ranges: dict[Any, tuple[Any, Any]]) -> list[Any]:
    """The hypotheses lo ≤ v < hi of ``ranges``."""
    return [cond for v, (lo, hi) in ranges.items() for cond in (v >= lo, v < hi)]


def row_index(order: str, i_: Any, oh: Any, ow: Any) -> Any:
    """Row of y_{i,o_h,o_w} in 𝒲: channel_major (i·H' + o_h)·W' + o_w, seed (o_h·W' + o_w)·C₂ + i."""
    return (i_ * Ho + oh) * Wo + ow if order == "channel_major" else (oh * Wo + ow) * C2 + i_


def row_decode(order: str, row: Any) -> tuple[Any, Any, Any]:
    """(i, o_h, o_w) of a row in ``order``, by div/mod."""
    if order == "channel_major":
        return sympy.floor(row / (Ho * Wo)), sympy.Mod(sympy.floor(row / Wo), Ho), sympy.Mod(row, Wo)
    pos = sympy.floor(row / C2)
    return sympy.Mod(row, C2), sympy.floor(pos / Wo), sympy.Mod(pos, Wo)


#: an output coordinate bound by a lemma (∀ o), apart from the index symbols o_h, o_w
o_free = sympy.Symbol("o", integer=True)
