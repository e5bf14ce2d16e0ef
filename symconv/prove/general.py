"""Engine "all sizes": conv(x) = 𝒲x + b proved with every size a symbol.

The theorem, entry by entry (0-based; columns of 𝒲 the C-order flatten of x, rows in the chosen order, see
:mod:`symconv.core.symbols`): for every output (i, o_h, o_w) and input (l, r, c) the entry of 𝒲 that the block
construction places equals the coefficient of x_{l,r,c} in y_{i,o_h,o_w} of the index sum,

    [x_{l,r,c}] y_{i,o} = [l ∈ group(i)] · Π_axes [d | c − o·s + p ∧ 0 ≤ τ < k] · ω(i, l − G(i)·q₁, τ_h, τ_w),
    τ = ⌊(c − o·s + p)/d⌋,  G(i) = ⌊i/q₂⌋,  C₁ = g·q₁,  C₂ = g·q₂,

and the bias vector equals the constant term; hence 𝒲x + b = conv(x).

How (pipeline of :func:`prove_general`, one step each, all kept as data in a :class:`Proof`):

1. SymPy does the algebra of sums: the coefficient is a triple Sum of KroneckerDeltas; each ``doit()`` is a
   step, and its side conditions are integer statements that **Z3** decides (:mod:`.lemmas`) — never
   ``simplify``/``refine`` (sympy#27359). SymPy's own Σ_t ω_t·δ(c, o·s − p + t·d) lacks the divisibility
   condition; Z3 refutes it (d = 2) and the step uses the guarded form, which Z3 proves.
2. The integer lemmas — window inside the padded input, maximality of the floor, injectivity of the tap map,
   bijectivity of the flattening and of both row orders, zero-block widths, group channels — each a Z3
   validity check with its time.
3. The block construction (a :class:`Construction`, overridable: the negative controls are constructions)
   places ω at (row, column); Z3 proves every placed entry equals the coefficient above, every nonzero
   coefficient is placed, and no two placements collide.
4. Every step is re-checked at ≥ 50 concrete layers, independently of Z3: the SymPy statements are evaluated
   by brute force over all indices with the sizes symconv's ConvSpec computes, the entry formula against
   the matrix that :func:`symconv.forms.blocks.matrix` builds, and that matrix by the index engine. A
   disagreement raises :class:`~symconv.prove.proof.ProofDisagreement` — it is never a pass. A refuted step's
   counterexample is confirmed the same way (on the built matrices when it names an entry).

Index symbols for a claimed entry (``entry=``) are :data:`ENTRY_SYMBOLS`; :func:`parse_entry` reads a string.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import C1, C2, check_order, g, row_permutation
from ..errors import SpecError
from .lemmas import AXES, INDEX, Q1, Q2, Check, check_valid
from .proof import Counterexample, Proof, ProofDisagreement, Step

__all__ = [
    "CONSTRUCTIONS",
    "ENTRY_SYMBOLS",
    "NOTE_LITERAL_ENTRY",
    "Construction",
    "concrete_specs",
    "entry_formula",
    "parse_entry",
    "prove_general",
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
            names = ", ".join(list(ENTRY_SYMBOLS)[:7])
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


# ----------------------------------------------------------------------------- the construction
def _floor_size(n_: Any, k_: Any, s_: Any, p_: Any, d_: Any) -> Any:
    return sympy.floor((n_ + 2 * p_ - d_ * (k_ - 1) - 1) / s_) + 1


def _tap(o: Any, t: Any, s_: Any, p_: Any, d_: Any) -> Any:
    return o * s_ - p_ + t * d_


@dataclass(frozen=True)
class Construction:
    """How a block construction lays out 𝒲 — each piece a function on SymPy expressions (or ints).

    * ``output_size(n, k, s, p, d)``: output length per axis (default PyTorch's floor).
    * ``tap(o, t, s, p, d)``: image row (column) of the block (entry) holding kernel row (column) t for output
      o; default o·s − p + t·d.
    * ``kernel_row(o, m)`` / ``kernel_col(o, n)``: which kernel row (column) that block holds; default m (n).
    * ``zero_before(o, s, p, d, unit)`` / ``gap(o, s, p, d, unit)``: widths of the zero block before the first
      B and between consecutive Bs (unit = W for row blocks, 1 inside B); default from ``tap``.
    * ``flatten(l, r, c, H, W)``: column of x_{l,r,c}; default (l·H + r)·W + c.

    >>> Construction().tap(1, 2, 2, 1, 3)
    7
    """

    name: str = "blocks"
    output_size: Callable[..., Any] = _floor_size
    tap: Callable[..., Any] = _tap
    kernel_row: Callable[[Any, Any], Any] = staticmethod(lambda o, t: t)  # type: ignore[assignment]
    kernel_col: Callable[[Any, Any], Any] = staticmethod(lambda o, t: t)  # type: ignore[assignment]
    zero_before: Callable[..., Any] | None = None
    gap: Callable[..., Any] | None = None
    flatten: Callable[..., Any] = staticmethod(lambda l_, r_, c_, H_, W_: (l_ * H_ + r_) * W_ + c_)  # type: ignore[assignment]

    def zero_width(self, o: Any, s_: Any, p_: Any, d_: Any, unit: Any) -> Any:
        if self.zero_before is not None:
            return self.zero_before(o, s_, p_, d_, unit)
        return self.tap(o, 0, s_, p_, d_) * unit

    def gap_width(self, o: Any, s_: Any, p_: Any, d_: Any, unit: Any) -> Any:
        if self.gap is not None:
            return self.gap(o, s_, p_, d_, unit)
        return (self.tap(o, 1, s_, p_, d_) - self.tap(o, 0, s_, p_, d_) - 1) * unit


#: named constructions: symconv's (``"blocks"``), the note's literal kernel row, and the negative controls
CONSTRUCTIONS: dict[str, Construction] = {
    "blocks": Construction(),
    "note_row_index": Construction("note_row_index", kernel_row=lambda o, t: o + 1 + t),
    "off_by_one_output": Construction("off_by_one_output", output_size=lambda *a: _floor_size(*a) + 1),
    "swapped_flatten": Construction("swapped_flatten", flatten=lambda l_, r_, c_, H_, W_: (l_ * W_ + c_) * H_ + r_),
    "wrong_zero_block": Construction("wrong_zero_block", zero_before=lambda o, s_, p_, d_, u: (o * s_ - p_ + 1) * u),
    "stride_not_applied": Construction("stride_not_applied", tap=lambda o, t, s_, p_, d_: o - p_ + t * d_),
    "dilation_wrong_side": Construction("dilation_wrong_side", tap=lambda o, t, s_, p_, d_: o * d_ - p_ + t * s_),
}


# ----------------------------------------------------------------------------- the statement
def _axis(axis: int) -> tuple[Any, ...]:
    return AXES[axis]


def _tau(coord: Any, o: Any, axis: int) -> tuple[Any, Any]:
    """(τ, hit) on one axis: τ = ⌊(coord − o·s + p)/d⌋, hit = d | coord − o·s + p ∧ 0 ≤ τ < k."""
    _, k_, s_, p_, d_, _ = _axis(axis)
    x = coord - o * s_ + p_
    tau = sympy.floor(x / d_)
    return tau, sympy.And(sympy.Eq(sympy.Mod(x, d_), 0), tau >= 0, tau < k_)


def _group() -> tuple[Any, Any]:
    """(l', in-group): l' = l − ⌊i/q₂⌋·q₁ and 0 ≤ l' < q₁."""
    lp = l - sympy.floor(i / Q2) * Q1
    return lp, sympy.And(lp >= 0, lp < Q1)


def entry_formula() -> sympy.Expr:
    """The coefficient of x_{l,r,c} in y_{i,o_h,o_w}, as this module proves it (symbols: :data:`ENTRY_SYMBOLS`).

    >>> entry_formula().func
    Piecewise
    """
    lp, in_group = _group()
    tau_h, hit_h = _tau(r, o_h, 0)
    tau_w, hit_w = _tau(c, o_w, 1)
    return sympy.Piecewise((omega(i, lp, tau_h, tau_w), sympy.And(in_group, hit_h, hit_w)), (0, True))


def _size_hypotheses(construction: Construction, fixed: dict[str, int]) -> list[Any]:
    hyps: list[Any] = [sympy.Eq(C1, g * Q1), sympy.Eq(C2, g * Q2)]
    for n_, k_, s_, p_, d_, out in AXES:
        hyps += [d_ * (k_ - 1) + 1 <= n_ + 2 * p_, sympy.Eq(out, construction.output_size(n_, k_, s_, p_, d_))]
    names = {str(s): s for s in (C1, C2, g, *(x for a in AXES for x in a))}
    hyps += [sympy.Eq(names[k], v) for k, v in fixed.items()]
    return hyps


def _index_ranges() -> dict[Any, tuple[Any, Any]]:
    return {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo), l: (0, C1), r: (0, H), c: (0, W)}


def _in_ranges(ranges: dict[Any, tuple[Any, Any]]) -> list[Any]:
    return [cond for v, (lo, hi) in ranges.items() for cond in (v >= lo, v < hi)]


def _row(order: str, i_: Any, oh: Any, ow: Any) -> Any:
    return (i_ * Ho + oh) * Wo + ow if order == "channel_major" else (oh * Wo + ow) * C2 + i_


def _row_decode(order: str, row: Any) -> tuple[Any, Any, Any]:
    if order == "channel_major":
        return sympy.floor(row / (Ho * Wo)), sympy.Mod(sympy.floor(row / Wo), Ho), sympy.Mod(row, Wo)
    pos = sympy.floor(row / C2)
    return sympy.Mod(row, C2), sympy.floor(pos / Wo), sympy.Mod(pos, Wo)


def _col_decode(col: Any) -> tuple[Any, Any, Any]:
    return sympy.floor(col / (H * W)), sympy.Mod(sympy.floor(col / W), H), sympy.Mod(col, W)


# ----------------------------------------------------------------------------- concrete re-checks
_BOX = 32  # ω codes: integer arguments with |a| < _BOX get distinct positive codes


def _omega_code(*args: Any) -> Any:
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
    integral = np.ones(arrs[0].shape, dtype=bool)
    code = np.zeros(arrs[0].shape)
    for a in arrs:
        integral &= (a == np.floor(a)) & (np.abs(a) < _BOX)
        code = code * (2 * _BOX) + (a + _BOX)
    return np.where(integral, code + 1, -1.0)


def _code_of_symbol(sym: Any) -> float:
    name = str(sym)
    if not name.startswith("omega_"):
        raise ProofDisagreement(f"built 𝒲 holds {sym}, not a weight")
    return float(_omega_code(*(int(v) for v in name[6:].split(","))))


def _symbol_of_code(code: float) -> Any:
    if code < 0:
        return sympy.Symbol("omega_noninteger")
    rest, parts = int(code) - 1, []
    for _ in range(4):
        rest, part = divmod(rest, 2 * _BOX)
        parts.append(part - _BOX)
    return sympy.Symbol("omega_" + ",".join(map(str, reversed(parts))))


_NUMERIC: dict[tuple[Any, tuple[Any, ...]], Callable[..., Any]] = {}


def _numeric(expr: Any, symbols: list[Any]) -> Callable[..., Any]:
    """``expr`` as a NumPy function of ``symbols`` (ω and b as injective codes), cached: lambdify is slow."""
    key = (expr, tuple(symbols))
    if key not in _NUMERIC:
        _NUMERIC[key] = _lambdify(expr, symbols)
    return _NUMERIC[key]


def _lambdify(expr: Any, symbols: list[Any]) -> Callable[..., Any]:
    expr = sympy.sympify(expr).replace(
        lambda z: isinstance(z, sympy.KroneckerDelta),
        lambda z: sympy.Piecewise((1, sympy.Eq(z.args[0], z.args[1])), (0, True)),
    )
    return sympy.lambdify(symbols, expr, modules=[{"omega": _omega_code, "b": _omega_code}, "numpy"])


def _size_values(spec: ConvSpec) -> dict[Any, int]:
    """Values of the size symbols for a concrete layer, output sizes as ConvSpec computes them."""
    vals: dict[Any, int] = {C1: spec.in_channels, C2: spec.out_channels, g: spec.groups,
                            Q1: spec.in_per_group, Q2: spec.out_per_group}
    for axis, (n_, k_, s_, p_, d_, out) in enumerate(AXES):
        vals.update({n_: spec.input_size[axis], k_: spec.kernel_size[axis], s_: spec.stride[axis],  # type: ignore[index]
                     p_: spec.padding_before[axis], d_: spec.dilation[axis], out: spec.output_size[axis]})
    return vals


_SIZE_KEYS = ("C_1", "C_2", "g", "H", "W", "h", "w", "s_h", "s_w", "p_h", "p_w", "d_h", "d_w")


def _spec_from_sizes(sizes: dict[str, int], bias: str = "shared") -> ConvSpec:
    return ConvSpec(sizes["C_1"], sizes["C_2"], (sizes["H"], sizes["W"]), (sizes["h"], sizes["w"]),
                    stride=(sizes["s_h"], sizes["s_w"]), padding=(sizes["p_h"], sizes["p_w"]),
                    dilation=(sizes["d_h"], sizes["d_w"]), groups=sizes["g"], bias=bias)


def concrete_specs(fixed: dict[str, int] | None = None, count: int = 50, seed: int = 0) -> list[ConvSpec]:
    """``count`` small layers for the re-checks: boundary cases first (h = H, stride > kernel, dilation > 1,
    padding ≥ kernel, groups, 1×1, non-square), then random ones; every ``fixed`` size is respected.

    >>> len(concrete_specs(count=50)), concrete_specs({"s_h": 2}, count=3)[0].stride[0]
    (50, 2)
    """
    fixed = dict(fixed or {})
    boundary = [
        dict(C_1=1, C_2=1, H=3, W=3, h=3, w=3),  # h = H
        dict(C_1=2, C_2=2, H=7, W=6, h=2, w=2, s_h=3, s_w=4),  # stride > kernel
        dict(C_1=1, C_2=2, H=7, W=7, h=3, w=2, d_h=2, d_w=3),  # dilation > 1
        dict(C_1=1, C_2=1, H=2, W=3, h=2, w=2, p_h=2, p_w=3),  # padding ≥ kernel
        dict(C_1=4, C_2=6, H=4, W=5, h=2, w=3, g=2, p_h=1),  # groups
        dict(C_1=3, C_2=3, H=4, W=4, h=3, w=1, g=3, p_h=1),  # depthwise
        dict(C_1=2, C_2=1, H=3, W=5, h=1, w=1),  # 1×1
        dict(C_1=1, C_2=1, H=5, W=4, h=2, w=4, s_h=2, p_h=2, d_h=3),  # everything at once
    ]
    rng = random.Random(seed)
    out: list[ConvSpec] = []
    attempts = 0
    while len(out) < count and attempts < 100 * count:
        attempts += 1
        base = boundary[len(out)] if attempts <= len(boundary) else {}
        groups = fixed.get("g", base.get("g", rng.choice([1, 1, 1, 2, 3])))
        sizes = {
            "g": groups,
            "C_1": base.get("C_1", groups * rng.randint(1, 2)), "C_2": base.get("C_2", groups * rng.randint(1, 2)),
            "H": base.get("H", rng.randint(1, 7)), "W": base.get("W", rng.randint(1, 7)),
            "h": base.get("h", rng.randint(1, 4)), "w": base.get("w", rng.randint(1, 4)),
            "s_h": base.get("s_h", rng.randint(1, 3)), "s_w": base.get("s_w", rng.randint(1, 3)),
            "p_h": base.get("p_h", rng.choice([0, 0, 1, 2, 3])), "p_w": base.get("p_w", rng.choice([0, 0, 1, 2])),
            "d_h": base.get("d_h", rng.choice([1, 1, 2, 3])), "d_w": base.get("d_w", rng.choice([1, 2])),
        }
        sizes.update(fixed)
        try:
            spec = _spec_from_sizes(sizes)
        except SpecError:
            continue
        if spec.d_x * spec.d_y <= 40_000:
            out.append(spec)
    return out


# ----------------------------------------------------------------------------- statements checked by Z3 and by brute force
@dataclass
class _Claim:
    """One integer statement: hypotheses ⇒ conclusion, ∀ the bound variables in ``ranges`` (for brute force)."""

    hypotheses: list[Any]
    conclusion: Any
    ranges: dict[Any, tuple[Any, Any]]  # variable -> (lo, hi) exclusive, in the sizes
    restricted: bool = False  # a hypothesis on the sizes narrows the claim (e.g. p = 0): may be vacuous at a layer
    z3: bool = True  # False: an instance of a lemma Z3 proved (by substitution), only re-checked concretely
    _fns: tuple[Any, ...] | None = field(default=None, repr=False)
    _size_fn: Any = field(default=None, repr=False)
    _bounds_fn: Any = field(default=None, repr=False)

    def check(self) -> Check:
        return check_valid(self.hypotheses, self.conclusion)

    def brute_force(self, values: dict[Any, int]) -> tuple[bool, dict[str, int] | None]:
        """Evaluate at concrete sizes over every index in ``ranges``; (holds, first failing indices)."""
        variables = list(self.ranges)
        sizes = sorted(values, key=str)
        if not variables:
            variables = [_o]
            ranges: dict[Any, tuple[Any, Any]] = {_o: (0, 1)}
        else:
            ranges = self.ranges
        if self._fns is None:
            hyp = sympy.And(*[hh for hh in self.hypotheses if hh not in (sympy.true,)])
            self._fns = (_numeric(hyp, variables + sizes), _numeric(self.conclusion, variables + sizes))
        if self._bounds_fn is None:
            self._bounds_fn = sympy.lambdify(sizes, [sympy.sympify(x) for lohi in ranges.values() for x in lohi])
        flat_bounds = [int(x) for x in self._bounds_fn(*[values[s] for s in sizes])]
        bounds = list(zip(flat_bounds[::2], flat_bounds[1::2]))
        if any(hi <= lo for lo, hi in bounds):
            return True, None
        grids = np.meshgrid(*[np.arange(lo, hi) for lo, hi in bounds], indexing="ij")
        flat = [gr.reshape(-1) for gr in grids]
        # every argument full-shape: lambdify's And is logical_and.reduce over a tuple, which needs equal shapes
        args = flat + [np.full(flat[0].shape, values[s]) for s in sizes]
        hyp_ok = np.broadcast_to(np.asarray(self._fns[0](*args), dtype=bool), flat[0].shape if flat else ())
        concl = np.broadcast_to(np.asarray(self._fns[1](*args), dtype=bool), hyp_ok.shape)
        bad = np.flatnonzero(hyp_ok & ~concl)
        if bad.size == 0:
            return True, None
        return False, {str(v): int(f[bad[0]]) for v, f in zip(variables, flat)}

    def hypotheses_hold(self, values: dict[Any, int]) -> bool:
        """Whether the size hypotheses (those without bound variables) hold at concrete sizes."""
        sizes = sorted(values, key=str)
        if self._size_fn is None:
            bound = set(self.ranges)
            only_sizes = [hh for hh in self.hypotheses if not (sympy.sympify(hh).free_symbols & bound)]
            self._size_fn = _numeric(sympy.And(*only_sizes), sizes)
        return bool(self._size_fn(*[np.int64(values[s]) for s in sizes]))


def _model_split(model: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    sizes = {k: v for k, v in model.items() if k in _SIZE_KEYS or k in ("q_1", "q_2", "H'", "W'")}
    return sizes, {k: v for k, v in model.items() if k not in sizes}


# ----------------------------------------------------------------------------- concrete 𝒲 from a construction / an entry
def _construction_matrix(spec: ConvSpec, cons: Construction, order: str) -> sympy.SparseMatrix:
    """𝒲 placed by ``cons`` at a concrete layer (rows in ``order``): ω at (row, flatten(l, tap_h, tap_w))."""
    vals = _size_values(spec)
    Hc, Wc = spec.input_size  # type: ignore[misc]
    Hoc, Woc = (int(cons.output_size(vals[a.n], vals[a.k], vals[a.s], vals[a.p], vals[a.d])) for a in AXES)
    entries: dict[tuple[int, int], Any] = {}
    for i_ in range(spec.out_channels):
        grp = i_ // spec.out_per_group
        for oh in range(min(Hoc, spec.output_size[0])):
            for ow in range(min(Woc, spec.output_size[1])):
                row = (i_ * spec.output_size[0] + oh) * spec.output_size[1] + ow if order == "channel_major" else \
                    (oh * spec.output_size[1] + ow) * spec.out_channels + i_
                for lp in range(spec.in_per_group):
                    l_ = grp * spec.in_per_group + lp
                    for m_ in range(spec.kernel_size[0]):  # type: ignore[index]
                        rr = int(cons.tap(oh, m_, vals[s_h], vals[p_h], vals[d_h]))
                        for n_ in range(spec.kernel_size[1]):  # type: ignore[index]
                            cc = int(cons.tap(ow, n_, vals[s_w], vals[p_w], vals[d_w]))
                            if 0 <= rr < Hc and 0 <= cc < Wc:
                                col = int(cons.flatten(l_, rr, cc, Hc, Wc))
                                if 0 <= col < spec.d_x:
                                    entries[(row, col)] = sympy.Symbol(
                                        f"omega_{i_},{lp},{int(cons.kernel_row(oh, m_))},{int(cons.kernel_col(ow, n_))}")
    return sympy.SparseMatrix(spec.d_y, spec.d_x, entries)


def _grid(spec: ConvSpec, order: str) -> dict[Any, np.ndarray]:
    """Index arrays over all (row, column) of 𝒲, decoded by symconv's own conventions (not by this module's)."""
    rows = np.arange(spec.d_y)
    if order == "seed":
        rows = row_permutation(spec, "channel_major", "seed")[rows]  # M_seed = M_cm[perm]: seed row R is cm row perm[R]
    oi, ohh, oww = np.unravel_index(rows, spec.output_shape)
    li, ri, ci = np.unravel_index(np.arange(spec.d_x), spec.input_shape)
    return {i: oi[:, None], o_h: ohh[:, None], o_w: oww[:, None], l: li[None, :], r: ri[None, :], c: ci[None, :]}


def _entry_codes(expr: Any, spec: ConvSpec, order: str, fns: dict[Any, Any]) -> np.ndarray:
    vals = _size_values(spec)
    grid = _grid(spec, order)
    sizes = sorted(vals, key=str)
    variables = [i, o_h, o_w, l, r, c]
    key = id(expr)
    if key not in fns:
        fns[key] = _numeric(expr, variables + sizes)
    shape = (spec.d_y, spec.d_x)
    out = fns[key](*[np.broadcast_to(grid[v], shape) for v in variables], *[np.full(shape, vals[s]) for s in sizes])
    return np.broadcast_to(np.asarray(out, dtype=float), (spec.d_y, spec.d_x))


def _matrix_codes(M: sympy.SparseMatrix) -> np.ndarray:
    out = np.zeros(M.shape)
    for (row, col), v in M.todok().items():
        out[row, col] = _code_of_symbol(v)
    return out


def _matrix_from_codes(codes: np.ndarray) -> sympy.SparseMatrix:
    rows, cols = np.nonzero(codes)
    return sympy.SparseMatrix(*codes.shape, {(int(a), int(b)): _symbol_of_code(codes[a, b]) for a, b in zip(rows, cols)})


def _verify(spec: ConvSpec, M: Any, order: str) -> Any:
    from .verify import verify  # the front door; imported here: verify does not depend on this module

    return verify(spec, method="index", matrix=M, order=order)


# ----------------------------------------------------------------------------- the prover
def _fixed_from(fixed: dict[str, Any] | None, kwargs: dict[str, Any]) -> dict[str, int]:
    """Normalise fixed sizes: keys like ``stride=2`` (both axes), ``s_h=2``, ``input_size=(5, 7)``."""
    raw = dict(fixed or {}) | kwargs
    out: dict[str, int] = {}
    pairs = {"input_size": ("H", "W"), "kernel_size": ("h", "w"), "stride": ("s_h", "s_w"),
             "padding": ("p_h", "p_w"), "dilation": ("d_h", "d_w")}
    single = {"in_channels": "C_1", "out_channels": "C_2", "groups": "g"}
    for key, value in raw.items():
        if value is None:
            continue
        if key in pairs:
            vals = (value, value) if isinstance(value, int) else tuple(value)
            if len(vals) != 2:
                raise SpecError(f"{key} must be an int or a pair of ints, got {value!r}")
            out.update(zip(pairs[key], vals))
        elif key in single:
            out[single[key]] = value
        elif key in _SIZE_KEYS:
            out[key] = value
        else:
            raise SpecError(f"fixed size {key!r} is not a size; use one of in_channels, out_channels, input_size, "
                            f"kernel_size, stride, padding, dilation, groups or {', '.join(_SIZE_KEYS)}")
    for key, value in out.items():
        minimum = 0 if key.startswith("p_") else 1
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise SpecError(f"{key} must be an int ≥ {minimum}, got {value!r}")
    return out


class _Builder:
    """Collects the steps of one proof; runs each claim through Z3 and through the concrete re-checks."""

    def __init__(self, specs: list[ConvSpec], order: str, construction: Construction | None = None) -> None:
        self.specs = specs
        self.values = [_size_values(sp) for sp in specs]
        self.construction_values: list[dict[Any, int] | None] = [None] * len(specs)
        if construction is not None and construction.output_size is not _floor_size:
            # the construction claims its own output size: its lemmas are re-checked at that size too (ConvSpec's
            # is the truth, used for every claim whose hypotheses it satisfies)
            self.construction_values = []
            for vals in self.values:
                alt = dict(vals)
                for a in AXES:
                    alt[a.out] = int(construction.output_size(vals[a.n], vals[a.k], vals[a.s], vals[a.p], vals[a.d]))
                self.construction_values.append(alt)
        self.order = order
        self.steps: list[Step] = []

    def claim(self, name: str, statement: Any, justification: str, claims: list[_Claim],
              notes: tuple[str, ...] = (), expect_sizes: bool = True, depends: tuple[str, ...] = (),
              concrete: Callable[[dict[Any, int]], list[dict[Any, int]]] | None = None) -> Step:
        status, seconds, model, smt, reasons = "proved", 0.0, None, [], []
        for dep in depends:  # a step that instantiates another step's lemma holds only if that one does
            if not next(st for st in self.steps if st.name == dep).holds:
                status = "undetermined"
                reasons.append(f"rests on step {dep}, which is not proved")
        for cl in claims:
            if not cl.z3:
                continue
            res = cl.check()
            seconds += res.seconds
            smt.append(res.smt)
            if res.status == "undetermined":
                reasons.append(res.reason)
                status = "undetermined" if status == "proved" else status
            elif res.status == "refuted" and status != "refuted":
                status, model, failing = "refuted", res.model, cl
        rechecks = self._recheck(name, status, claims, concrete, expect_sizes)
        counterexample = None
        if status == "refuted":
            counterexample = self._confirm(name, failing, model)  # type: ignore[arg-type]
        objects = {"smt": smt, "instances": [cl.conclusion for cl in claims if not cl.z3],
                   "notes": notes + tuple(f"not proved: {x}" for x in reasons)}
        step = Step(name, statement, justification, status, seconds, rechecks, counterexample, objects, lemma=True)
        self.steps.append(step)
        return step

    def _recheck(self, name: str, status: str, claims: list[_Claim],
                 concrete: Callable[[dict[Any, int]], list[dict[Any, int]]] | None, expect_sizes: bool) -> int:
        """Brute force every claim at every concrete layer; a claim Z3 proved must hold there (else raise)."""
        for layer, alternative in zip(self.values, self.construction_values):
            for layer_values in (concrete(layer) if concrete else [layer]):
                for cl in claims:
                    values = layer_values
                    if alternative is not None and not cl.hypotheses_hold(values):
                        values = alternative  # a claim about the construction's own output size
                    if not cl.hypotheses_hold(values):
                        if status == "proved" and expect_sizes and not cl.restricted:
                            # Z3's size hypotheses would not describe a real layer
                            raise ProofDisagreement(f"step {name}: the size hypotheses fail at a concrete layer "
                                                    f"{ {str(k): v for k, v in values.items()} }")
                        continue
                    ok, where = cl.brute_force(values)
                    if status == "proved" and not ok:
                        raise ProofDisagreement(f"step {name}: Z3 proved it but it fails at sizes "
                                                f"{ {str(k): v for k, v in values.items()} }, indices {where}")
        return len(self.values)

    def _confirm(self, name: str, claim: _Claim, model: dict[str, int]) -> Counterexample:
        """Re-evaluate a refuted claim at Z3's model with exact SymPy arithmetic (not Z3)."""
        subs = {sym: model[str(sym)] for cl_sym in [claim] for sym in _free(cl_sym) if str(sym) in model}
        hyps_ok = all(sympy.sympify(hh).subs(subs) is sympy.true for hh in claim.hypotheses)
        concl = sympy.sympify(claim.conclusion).subs(subs)
        sizes, indices = _model_split(model)
        if not hyps_ok or concl is sympy.true:
            if any(isinstance(a, sympy.core.function.AppliedUndef) for a in sympy.preorder_traversal(concl)):
                return Counterexample(sizes, indices, False, "depends on ω's values; see the entry confirmation")
            raise ProofDisagreement(f"step {name}: Z3's counterexample {model} does not falsify the statement")
        return Counterexample(sizes, indices, True, "re-evaluated with exact integer arithmetic")


def _free(claim: _Claim) -> set[Any]:
    out: set[Any] = set()
    for e in [*claim.hypotheses, claim.conclusion]:
        out |= sympy.sympify(e).free_symbols
    return out


def prove_general(
    fixed: dict[str, Any] | None = None,
    *,
    entry: Any = None,
    order: str = "channel_major",
    bias: str = "shared",
    construction: Construction | str = "blocks",
    rechecks: int = 50,
    seed: int = 0,
    **sizes: Any,
) -> Proof:
    """Prove conv(x) = 𝒲x + b for every size not given in ``fixed``/``sizes`` (Z3 + SymPy); a :class:`Proof`.

    ``entry``: a claimed formula for 𝒲's entries (SymPy expression or text in :data:`ENTRY_SYMBOLS`), proved or
    refuted at the step ``claimed_entry``. ``construction``: a :class:`Construction` or a name in
    :data:`CONSTRUCTIONS` (the negative controls). ``rechecks``: concrete layers each step is re-checked on.

    >>> proof = prove_general(stride=1, padding=0, dilation=1, groups=1, rechecks=5)
    >>> proof.holds, proof.failed_step
    (True, None)
    >>> bad = prove_general(stride=1, padding=0, dilation=1, groups=1, entry=NOTE_LITERAL_ENTRY, rechecks=5)
    >>> bad.holds, bad.failed_step.name, bad.counterexample.confirmed
    (False, 'claimed_entry', True)
    """
    start = perf_counter()
    # 1. inputs: which sizes are fixed, which construction, which claimed entry
    check_order(order)
    if bias not in ("shared", "per_location", "none"):
        raise SpecError(f"bias must be one of 'shared', 'per_location', 'none', got {bias!r}")
    fixed_sizes = _fixed_from(fixed, sizes)
    if isinstance(construction, str):
        if construction not in CONSTRUCTIONS:
            raise SpecError(f"construction must be one of {', '.join(CONSTRUCTIONS)} or a Construction, got {construction!r}")
        construction = CONSTRUCTIONS[construction]
    if isinstance(entry, str):
        entry = parse_entry(entry)
    if not isinstance(rechecks, int) or rechecks < 1:
        raise SpecError(f"rechecks must be an int ≥ 1, got {rechecks!r}")
    specs = concrete_specs(fixed_sizes, count=rechecks, seed=seed)
    if not specs:
        raise SpecError(f"no concrete layer satisfies the fixed sizes {fixed_sizes}; check that the kernel fits")
    b = _Builder(specs, order, construction)
    size_hyps = _size_hypotheses(construction, fixed_sizes)
    true_hyps = _size_hypotheses(CONSTRUCTIONS["blocks"], fixed_sizes)
    ranges = _index_ranges()
    E = entry_formula()
    lp, in_group = _group()
    l_prime = sympy.Symbol("l'", integer=True)
    t, t2 = sympy.Symbol("t", integer=True), sympy.Symbol("t_2", integer=True)

    # 2. the definition: the coefficient of x_{l,r,c} in y_{i,o} is a triple sum of Kronecker deltas
    coef = sympy.Symbol(r"[x_{l,r,c}]\,y_{i,o_h,o_w}")
    definition = sympy.Sum(
        omega(i, l_prime, m, n) * sympy.KroneckerDelta(l, sympy.floor(i / Q2) * Q1 + l_prime)
        * sympy.KroneckerDelta(r, _tap(o_h, m, s_h, p_h, d_h)) * sympy.KroneckerDelta(c, _tap(o_w, n, s_w, p_w, d_w)),
        (l_prime, 0, Q1 - 1), (m, 0, h - 1), (n, 0, w - 1))
    b.steps.append(Step("definition", sympy.Eq(coef, definition),
                        "definition of conv (index sum), coefficient of x_{l,r,c}; the tap map of core.taps",
                        "proved", objects={"notes": ("re-checked with the entry step against the index engine",)}))

    # 3. per axis: δ(c, o·s − p + t·d) = [d | c − o·s + p]·δ(t, τ)  (Z3), then SymPy's delta sum
    axis_claims, sum_claims, raw_notes = [], [], []
    for axis, (coord, o) in enumerate(((r, o_h), (c, o_w))):
        n_, k_, s_, p_, d_, out = AXES[axis]
        tau, hit = _tau(coord, o, axis)
        x = coord - o * s_ + p_
        axis_claims.append(_Claim(true_hyps + [o >= 0, o < out, coord >= 0, coord < n_, t >= 0, t < k_],
                                  sympy.Eq(sympy.Eq(coord, _tap(o, t, s_, p_, d_)),
                                           sympy.And(sympy.Eq(sympy.Mod(x, d_), 0), sympy.Eq(t, tau))),
                                  {o: (0, out), coord: (0, n_), t: (0, k_)}))
        # SymPy's own doit(): kept, and checked — it has no divisibility condition
        raw = sympy.Sum(omega(t) * sympy.KroneckerDelta(coord, _tap(o, t, s_, p_, d_)), (t, 0, k_ - 1)).doit()
        tau_sym = sympy.Symbol("tau", integer=True)
        guarded = sympy.Sum(omega(t) * sympy.KroneckerDelta(t, tau_sym), (t, 0, k_ - 1)).doit()
        guarded = guarded.subs(tau_sym, tau)
        guarded = sympy.Piecewise((guarded, sympy.Eq(sympy.Mod(x, d_), 0)), (0, True))
        truth = sympy.Piecewise((omega(tau), hit), (0, True))
        sum_claims.append(_Claim(true_hyps + [o >= 0, o < out, coord >= 0, coord < n_],
                                 sympy.Eq(guarded, truth), {o: (0, out), coord: (0, n_)}))
        # informational only (the step uses the guarded form): a short timeout
        raw_check = check_valid(true_hyps + [o >= 0, o < out, coord >= 0, coord < n_], sympy.Eq(raw, truth),
                                timeout_ms=2_000)
        if raw_check.status == "refuted":
            cx = {k_: v for k_, v in raw_check.model.items() if k_ in (str(d_), str(s_), str(p_), str(coord), str(o))}
            raw_notes.append(f"SymPy's doit() gives {sympy.sstr(raw)} — refuted by Z3 (no divisibility "
                             f"condition): {cx}; the guarded form is used")
        else:
            raw_notes.append(f"SymPy's doit() {sympy.sstr(raw)}: Z3 {raw_check.status} (not used)")
    b.claim("tap_solve", sympy.Eq(sympy.KroneckerDelta(c, _tap(o_w, t, s_w, p_w, d_w)),
                                  sympy.Piecewise((sympy.KroneckerDelta(t, _tau(c, o_w, 1)[0]),
                                                   sympy.Eq(sympy.Mod(c - o_w * s_w + p_w, d_w), 0)), (0, True))),
            "Z3 lemma (both axes): c = o·s − p + t·d ⇔ d | c − o·s + p ∧ t = ⌊(c − o·s + p)/d⌋", axis_claims)
    b.claim("sum_taps", sympy.Eq(sympy.Sum(omega(n) * sympy.KroneckerDelta(c, _tap(o_w, n, s_w, p_w, d_w)), (n, 0, w - 1)),
                                 sympy.Piecewise((omega(_tau(c, o_w, 1)[0]), _tau(c, o_w, 1)[1]), (0, True))),
            "SymPy Sum.doit() of δ(t, τ) (τ an integer) with the divisibility guard of tap_solve; side conditions by Z3",
            sum_claims, notes=tuple(raw_notes))

    # 4. the channel sum: Σ_{l'} ω(l')·δ(l, G·q₁ + l') — SymPy doit, group membership by Z3
    chan = sympy.Sum(omega(l_prime) * sympy.KroneckerDelta(l, sympy.floor(i / Q2) * Q1 + l_prime), (l_prime, 0, Q1 - 1))
    chan_done = chan.doit()
    group_claims = [
        _Claim(true_hyps + _in_ranges({i: ranges[i], l: ranges[l]}),
               sympy.And(sympy.Eq(in_group, sympy.Eq(sympy.floor(l / Q1), sympy.floor(i / Q2))),
                         sympy.floor(i / Q2) >= 0, sympy.floor(i / Q2) < g),
               {i: ranges[i], l: ranges[l]}),
        _Claim(true_hyps + _in_ranges({i: ranges[i], l: ranges[l]}),
               sympy.Eq(chan_done, sympy.Piecewise((omega(lp), in_group), (0, True))),
               {i: ranges[i], l: ranges[l]}),
    ]
    b.claim("sum_channels", sympy.Eq(chan, sympy.Piecewise((omega(lp), in_group), (0, True))),
            "SymPy Sum.doit(); Z3 lemma: l' ∈ [0, q₁) ⇔ ⌊l/q₁⌋ = ⌊i/q₂⌋ = group(i) < g, with C₁ = g·q₁, C₂ = g·q₂",
            group_claims)

    # 5. the entry: product of the three sums (steps 2–4), re-checked against the built 𝒲 and the index engine
    entry_step = _entry_step(b, coef, E, order, fixed_sizes)

    # 6. claimed entry formula, if any: Z3 compares it with the proved one, the index engine confirms
    if entry is not None:
        _claimed_entry_step(b, entry, E, true_hyps, ranges, order)

    # 7. the output size is exact: every output's taps fit the padded input; one more output would not
    for name, build, text in (
        ("window", lambda a: _Claim(size_hyps + [_o >= 0, _o < a.out, t >= 0, t < a.k],
                                    sympy.And(_tap(_o, t, a.s, a.p, a.d) >= -a.p, _tap(_o, t, a.s, a.p, a.d) <= a.n - 1 + a.p),
                                    {_o: (0, a.out), t: (0, a.k)}),
         "Z3 lemma (both axes): 0 ≤ o < n' ∧ 0 ≤ t < k ⇒ −p ≤ o·s − p + t·d ≤ n − 1 + p"),
        ("maximal", lambda a: _Claim(size_hyps, _tap(a.out, a.k - 1, a.s, a.p, a.d) > a.n - 1 + a.p, {}),
         "Z3 lemma (both axes): n'·s − p + (k−1)·d > n − 1 + p (output n' would not fit)"),
        ("injective", lambda a: _Claim(size_hyps + [t >= 0, t < a.k, t2 >= 0, t2 < a.k, sympy.Ne(t, t2), _o >= 0, _o < a.out],
                                       sympy.Ne(_tap(_o, t, a.s, a.p, a.d), _tap(_o, t2, a.s, a.p, a.d)),
                                       {_o: (0, a.out), t: (0, a.k), t2: (0, a.k)}),
         "Z3 lemma (both axes): d ≥ 1 ∧ t ≠ t₂ ⇒ o·s − p + t·d ≠ o·s − p + t₂·d"),
    ):
        claims = [build(a) for a in AXES]
        statement = sympy.And(*[cl.conclusion for cl in claims])
        b.claim(name, statement, text, claims)

    # 8. flattening of x and the row orders are bijections, inverted by div/mod (mixed radix)
    _radix_step(b)
    _flatten_step(b, construction, size_hyps)
    _row_order_step(b, size_hyps)

    # 9. the block construction: zero-block widths, then every entry it places
    _zero_blocks_step(b, construction, size_hyps)
    _block_entries_step(b, construction, size_hyps, E, order)

    # 10. the bias vector is the constant term
    _bias_step(b, size_hyps, order, bias)

    # 11. the theorem
    d_y, d_x = C2 * Ho * Wo, C1 * H * W
    Wm, xm, bm = sympy.MatrixSymbol("𝒲", d_y, d_x), sympy.MatrixSymbol("x", d_x, 1), sympy.MatrixSymbol("b", d_y, 1)
    conv = sympy.MatrixSymbol("conv(x)", d_y, 1)
    statement = sympy.Eq(sympy.MatAdd(sympy.MatMul(Wm, xm), bm), conv)
    others = [s for s in b.steps if s.name != "claimed_entry"]  # the theorem is about symconv's construction
    status = "proved" if all(s.holds for s in others) else (
        "refuted" if any(s.status == "refuted" for s in others) else "undetermined")
    b.steps.append(Step("theorem", statement,
                        "y_R = Σ_Q 𝒲_{R,Q}·x_Q + b_R for every row: entry ∧ block_entries ∧ flatten ∧ row_order ∧ bias",
                        status, rechecks=entry_step.rechecks))
    assumptions = sympy.And(*[hh for hh in size_hyps if hh is not sympy.true])
    title = "conv(x) = 𝒲x + b for all sizes" if entry is None else "a claimed formula for 𝒲's entries"
    return Proof(title, statement if entry is None else sympy.Eq(sympy.Symbol("𝒲_{R,Q}"), entry), tuple(b.steps),
                 fixed_sizes, order, perf_counter() - start, len(specs), assumptions)


_o = sympy.Symbol("o", integer=True)


def _entry_step(b: _Builder, coef: Any, E: Any, order: str, fixed: dict[str, int]) -> Step:
    """Steps 2–4 combined; re-checked: the formula against symconv's 𝒲 and 𝒲 against the index sum."""
    fns: dict[Any, Any] = {}
    from ..forms.blocks import matrix

    start = perf_counter()
    for spec in b.specs:
        M = matrix(spec, order=order)
        if not np.array_equal(_entry_codes(E, spec, order, fns), _matrix_codes(M)):
            raise ProofDisagreement(f"entry formula disagrees with the built 𝒲 at {spec.describe()}")
        if not _verify(spec, M, order).holds:
            raise ProofDisagreement(f"the index engine refutes the built 𝒲 at {spec.describe()}")
    status = "proved" if all(s.holds for s in b.steps) else "undetermined"
    step = Step("entry", sympy.Eq(coef, E), "steps definition, tap_solve, sum_taps, sum_channels (product of the sums)",
                status, perf_counter() - start, len(b.specs),
                objects={"notes": ("re-checked: formula = symconv's 𝒲 entry by entry, and 𝒲x + b = index sum "
                                   "by the index engine",)})
    b.steps.append(step)
    return step


def _claimed_entry_step(b: _Builder, entry: Any, E: Any, hyps: list[Any], ranges: dict, order: str) -> None:
    claim = _Claim(hyps + _in_ranges(ranges), sympy.Eq(entry, E), ranges)
    res = claim.check()
    fns: dict[Any, Any] = {}
    rechecks = 0
    for spec in b.specs:  # concrete: the claimed formula against the built 𝒲
        got = _entry_codes(entry, spec, order, fns)
        want = _entry_codes(E, spec, order, fns)
        if res.status == "proved" and not np.array_equal(got, want):
            raise ProofDisagreement(f"Z3 proved the claimed entry but it differs from 𝒲 at {spec.describe()}")
        rechecks += 1
    counterexample = None
    if res.status == "refuted":
        sizes, indices = _model_split(res.model)
        note, confirmed = "", False
        try:
            spec = _spec_from_sizes({k: sizes[k] for k in _SIZE_KEYS})
        except (SpecError, KeyError) as exc:
            note = f"not a valid layer for the index engine: {exc}"
        else:
            M = _matrix_from_codes(np.array(_entry_codes(entry, spec, order, fns)))
            verdict = _verify(spec, M, order)
            if verdict.holds:
                raise ProofDisagreement(f"Z3 refuted the claimed entry at {res.model}, but the index engine accepts "
                                        f"the matrix it defines at {spec.describe()}")
            mm = verdict.mismatch
            confirmed = True
            note = (f"the index engine rejects the claimed 𝒲 at {spec.describe()}: "
                    + (mm.describe().splitlines()[0] if mm is not None else "mismatch"))
            row = _row_numeric(order, spec, indices)
            col = (indices.get("l", 0) * spec.input_size[0] + indices.get("r", 0)) * spec.input_size[1] + indices.get("c", 0)  # type: ignore[index]
            at = {sym: v for sym in (i, l, o_h, o_w, r, c) if (v := indices.get(str(sym))) is not None}
            at |= {sym: v for sym, v in _size_values(spec).items()}
            indices = indices | {"row": row, "column": col, "claimed": entry.subs(at), "proved": E.subs(at)}
        counterexample = Counterexample(sizes, indices, confirmed, note)
    b.steps.append(Step("claimed_entry", sympy.Eq(sympy.Symbol("𝒲_{R,Q}"), entry),
                        "Z3: the claimed entry equals the proved entry for all sizes and indices (ω uninterpreted)",
                        res.status, res.seconds, rechecks, counterexample, {"smt": [res.smt]}, lemma=True))


def _row_numeric(order: str, spec: ConvSpec, idx: dict[str, int]) -> int:
    i_, oh, ow = idx.get("i", 0), idx.get("o_h", 0), idx.get("o_w", 0)
    Hoc, Woc = spec.output_size
    return (i_ * Hoc + oh) * Woc + ow if order == "channel_major" else (oh * Woc + ow) * spec.out_channels + i_


_A, _Cd, _Cd2, _A2 = (sympy.Symbol(x, integer=True) for x in ("a", "d", "d_2", "a_2"))
_RADIX, _BOUND = sympy.Symbol("N", integer=True, positive=True), sympy.Symbol("M", integer=True, positive=True)


def _radix_claims() -> list[_Claim]:
    """Mixed-radix facts for a symbolic radix N: a·N + d with 0 ≤ d < N is unique, in range, inverted by div/mod."""
    digit = [_Cd >= 0, _Cd < _RADIX]
    val = _A * _RADIX + _Cd
    q, rem = sympy.floor(sympy.Symbol("y", integer=True) / _RADIX), sympy.Mod(sympy.Symbol("y", integer=True), _RADIX)
    y = sympy.Symbol("y", integer=True)
    rng = {_A: (0, 3), _Cd: (0, _RADIX)}
    return [
        _Claim(digit + [_Cd2 >= 0, _Cd2 < _RADIX, sympy.Eq(val, _A2 * _RADIX + _Cd2)],
               sympy.And(sympy.Eq(_A, _A2), sympy.Eq(_Cd, _Cd2)), rng | {_A2: (0, 3), _Cd2: (0, _RADIX)}),
        _Claim(digit, sympy.And(sympy.Eq(sympy.floor(val / _RADIX), _A), sympy.Eq(sympy.Mod(val, _RADIX), _Cd)), rng),
        _Claim(digit + [_A >= 0, _A < _BOUND], sympy.And(val >= 0, val < _BOUND * _RADIX), rng),
        _Claim([y >= 0, y < _BOUND * _RADIX], sympy.And(q >= 0, q < _BOUND, rem >= 0, rem < _RADIX,
                                                       sympy.Eq(q * _RADIX + rem, y)), {y: (0, _BOUND * _RADIX)}),
    ]


def _radix_step(b: _Builder) -> None:
    claims = _radix_claims()
    b.claim("radix", sympy.And(*[cl.conclusion for cl in claims]),
            "Z3 lemma: for a symbolic radix N ≥ 1 and digit 0 ≤ d < N, a·N + d is unique, in [0, M·N) for "
            "0 ≤ a < M, and ⌊(a·N + d)/N⌋ = a, (a·N + d) mod N = d; every y ∈ [0, M·N) is ⌊y/N⌋·N + y mod N",
            claims, concrete=lambda v: [{_RADIX: v[W], _BOUND: v[C1] * v[H]}, {_RADIX: v[H], _BOUND: v[C1]},
                                        {_RADIX: v[C2], _BOUND: v[Ho] * v[Wo]}])


def _radix_instances(hyps: list[Any], high: Any, mid: Any, low: Any, sizes: tuple[Any, Any, Any],
                     rng: dict[Any, tuple[Any, Any]]) -> list[_Claim]:
    """((high·n₂ + mid)·n₃ + low) is a bijection with inverse by div/mod: the radix lemma at (a := high, N := n₂),
    then at (a := high·n₂ + mid, N := n₃) — substitution instances, re-checked concretely."""
    n1, n2, n3 = sizes
    flat = (high * n2 + mid) * n3 + low
    y = sympy.Symbol("y", integer=True)
    top, middle, bottom = sympy.floor(sympy.floor(y / n3) / n2), sympy.Mod(sympy.floor(y / n3), n2), sympy.Mod(y, n3)
    return [
        _Claim(hyps + _in_ranges(rng), sympy.And(flat >= 0, flat < n1 * n2 * n3, sympy.Eq(sympy.Mod(flat, n3), low),
                                                 sympy.Eq(sympy.Mod(sympy.floor(flat / n3), n2), mid),
                                                 sympy.Eq(sympy.floor(sympy.floor(flat / n3) / n2), high)), rng, z3=False),
        _Claim(hyps + [y >= 0, y < n1 * n2 * n3], sympy.And(top >= 0, top < n1, middle >= 0, middle < n2, bottom >= 0,
                                                            bottom < n3, sympy.Eq((top * n2 + middle) * n3 + bottom, y)),
               {y: (0, n1 * n2 * n3)}, z3=False),
    ]


def _flatten_step(b: _Builder, cons: Construction, hyps: list[Any]) -> None:
    col = cons.flatten(l, r, c, H, W)
    rng = {l: (0, C1), r: (0, H), c: (0, W)}
    # the construction's column of x_{l,r,c} is the C-order flatten: a polynomial identity, decided by Z3
    same = _Claim(hyps + _in_ranges(rng), sympy.Eq(col, (l * H + r) * W + c), rng)
    b.claim("flatten", sympy.Eq(sympy.Symbol("Q"), col),
            "Z3: the construction's column of x_{l,r,c} is (l·H + r)·W + c; radix instances (a := l, N := H), "
            "(a := l·H + r, N := W): a bijection onto [0, C₁HW) with inverse (⌊⌊Q/W⌋/H⌋, ⌊Q/W⌋ mod H, Q mod W)",
            [same, *_radix_instances(hyps, l, r, c, (C1, H, W), rng)], depends=("radix",))


def _row_order_step(b: _Builder, hyps: list[Any]) -> None:
    rng = {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo)}
    claims = [*_radix_instances(hyps, i, o_h, o_w, (C2, Ho, Wo), rng),
              *_radix_instances(hyps, o_h, o_w, i, (Ho, Wo, C2), rng)]
    b.claim("row_order", sympy.And(sympy.Eq(sympy.Symbol("R_channel_major"), _row("channel_major", i, o_h, o_w)),
                                   sympy.Eq(sympy.Symbol("R_seed"), _row("seed", i, o_h, o_w))),
            "radix instances: channel_major (a := i, N := H'), (a := i·H' + o_h, N := W'); seed (a := o_h, N := W'), "
            "(a := o_h·W' + o_w, N := C₂) — both bijections onto [0, C₂H'W') inverted by div/mod, so seed ↔ "
            "channel_major is a permutation", claims, depends=("radix",))


def _zero_blocks_step(b: _Builder, cons: Construction, hyps: list[Any]) -> None:
    claims, widths = [], []
    for axis, unit in ((0, W), (1, sympy.Integer(1))):
        n_, k_, s_, p_, d_, out = AXES[axis]
        o = (o_h, o_w)[axis]
        before, gap = cons.zero_width(o, s_, p_, d_, unit), cons.gap_width(o, s_, p_, d_, unit)
        after = n_ * unit - before - k_ * unit - (k_ - 1) * gap
        rng = {o: (0, out), _o: (0, k_)}
        # block t (B_{l,t,k} on the row axis, kernel column t inside B) starts where the tap map puts it
        claims.append(_Claim(hyps + _in_ranges(rng), sympy.Eq(before + _o * (unit + gap), _tap(o, _o, s_, p_, d_) * unit), rng))
        # without padding every block is inside: widths ≥ 0, summing to the row length n·unit
        claims.append(_Claim(hyps + [sympy.Eq(p_, 0), o >= 0, o < out],
                             sympy.And(before >= 0, gap >= 0, after >= 0), {o: (0, out)}, restricted=True))
        widths.append(sympy.Eq(sympy.Symbol(f"width_{axis}"), before + k_ * unit + (k_ - 1) * gap + after))
    statement = sympy.And(*[sympy.Eq(sympy.Symbol("O_before_h"), cons.zero_width(o_h, s_h, p_h, d_h, W)),
                            sympy.Eq(sympy.Symbol("O_gap_h"), cons.gap_width(o_h, s_h, p_h, d_h, W)),
                            sympy.Eq(sympy.Symbol("zeros_before_w"), cons.zero_width(o_w, s_w, p_w, d_w, 1))])
    b.claim("zero_blocks", statement,
            "Z3 lemma (both axes): O_{C₂×before} | B | O_{gap} | … | B | O_{after} puts block t at o·s − p + t·d; "
            "without padding before, gap, after ≥ 0 and they sum to HW (W inside B); the note (s = d = 1): "
            "(j−1)W, 0, (H−h−j+1)W and k−1, W−w−k+1", claims,
            notes=("stride 1, no padding, dilation 1: before = o_h·W = (j−1)W, after = (H − h − o_h)·W",))


def _block_entries_step(b: _Builder, cons: Construction, hyps: list[Any], E: Any, order: str) -> None:
    m2, n2 = sympy.Symbol("m_2", integer=True), sympy.Symbol("n_2", integer=True)
    rr = cons.tap(o_h, m, s_h, p_h, d_h)
    cc = cons.tap(o_w, n, s_w, p_w, d_w)
    lq = sympy.floor(i / Q2) * Q1 + sympy.Symbol("l'", integer=True)
    lpr = sympy.Symbol("l'", integer=True)
    placed = sympy.And(rr >= 0, rr < H, cc >= 0, cc < W)
    value = omega(i, lpr, cons.kernel_row(o_h, m), cons.kernel_col(o_w, n))
    rng = {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo), lpr: (0, Q1), m: (0, h), n: (0, w)}
    # column Q = flatten(l, r, c) ↔ (l, r, c) is the bijection of step flatten: compare at the placed (l, r, c)
    truth_at = E.subs({l: lq, r: rr, c: cc}, simultaneous=True)
    sound = _Claim(hyps + _in_ranges(rng) + [placed], sympy.Eq(truth_at, value), rng)
    # every nonzero coefficient is placed: witness m = τ_h, n = τ_w, l' = l − G·q₁
    tau_h, hit_h = _tau(r, o_h, 0)
    tau_w, hit_w = _tau(c, o_w, 1)
    lp, in_group = _group()
    rng_all = _index_ranges()
    complete = _Claim(hyps + _in_ranges(rng_all) + [in_group, hit_h, hit_w], sympy.And(
        sympy.Eq(cons.tap(o_h, tau_h, s_h, p_h, d_h), r), sympy.Eq(cons.tap(o_w, tau_w, s_w, p_w, d_w), c)), rng_all)
    # no two placements of one row collide (each entry of 𝒲 is one weight or 0)
    rng2 = {o_h: (0, Ho), o_w: (0, Wo), m: (0, h), n: (0, w), m2: (0, h), n2: (0, w)}
    rr2, cc2 = cons.tap(o_h, m2, s_h, p_h, d_h), cons.tap(o_w, n2, s_w, p_w, d_w)
    distinct = _Claim(hyps + _in_ranges(rng2) + [sympy.Or(sympy.Ne(m, m2), sympy.Ne(n, n2))],
                      sympy.Or(sympy.Ne(rr, rr2), sympy.Ne(cc, cc2)), rng2)
    step = b.claim("block_entries",
                   sympy.Eq(sympy.Symbol("𝒲_{R,Q}"), value),
                   "Z3: each placed ω(i, l', m, n) equals the coefficient at its (row, column); every nonzero "
                   "coefficient is placed (witness m = τ_h, n = τ_w); no two placements collide",
                   [sound, complete, distinct], depends=("flatten", "row_order"))
    if step.status == "refuted" and step.counterexample is not None:
        _confirm_construction(b, step, cons, order)


def _confirm_construction(b: _Builder, step: Step, cons: Construction, order: str) -> None:
    """A refuted construction: build its 𝒲 at the counterexample's sizes; the index engine must reject it."""
    cx = step.counterexample
    assert cx is not None
    try:
        spec = _spec_from_sizes({k: cx.sizes[k] for k in _SIZE_KEYS})
    except (SpecError, KeyError):
        return
    verdict = _verify(spec, _construction_matrix(spec, cons, order), order)
    if verdict.holds:
        raise ProofDisagreement(f"step {step.name}: Z3 refuted the construction but its 𝒲 at {spec.describe()} "
                                "passes the index engine")
    note = f"{cx.note}; the index engine rejects this construction's 𝒲 at {spec.describe()}"
    b.steps[-1] = replace(step, counterexample=replace(cx, confirmed=True, note=note))


def _bias_step(b: _Builder, hyps: list[Any], order: str, bias: str) -> None:
    rng = {i: (0, C2), o_h: (0, Ho), o_w: (0, Wo)}
    row = _row(order, i, o_h, o_w)
    di, doh, dow = _row_decode(order, row)
    if bias == "shared":
        vec, const = bias_fn(di), bias_fn(i)
    elif bias == "per_location":
        vec, const = bias_fn(di, doh, dow), bias_fn(i, o_h, o_w)
    else:
        vec, const = sympy.Integer(0), sympy.Integer(0)
    b.claim("bias", sympy.Eq(sympy.Symbol("b_R"), const),
            f"row_order: row R = {sympy.sstr(row)} ({order}) decodes to (i, o_h, o_w), so b_R is the constant term "
            f"of y_{{i,o_h,o_w}} (bias {bias})",
            [_Claim(hyps + _in_ranges(rng), sympy.Eq(vec, const), rng, z3=False)], depends=("row_order",))


# ----------------------------------------------------------------------------- closed forms, proved
def _axis_count(axis: int, t: Any) -> tuple[Any, Any, Any]:
    """(first, last, count) of the outputs o whose tap t lands inside the input on one axis."""
    n_, k_, s_, p_, d_, out = AXES[axis]
    first = sympy.Max(0, sympy.ceiling((p_ - t * d_) / s_))
    last = sympy.Min(out - 1, sympy.floor((n_ - 1 + p_ - t * d_) / s_))
    return first, last, sympy.Max(0, last - first + 1)


def nnz_formula() -> sympy.Expr:
    """nnz(𝒲) for all sizes: C₂·q₁·Π_axes Σ_t #{o : 0 ≤ o·s − p + t·d < n} (each count an integer interval).

    >>> nnz_formula().subs({Q1: 1, C2: 1, h: 1, w: 1, H: 3, W: 3, s_h: 1, s_w: 1, p_h: 0, p_w: 0, d_h: 1, d_w: 1,
    ...                     Ho: 3, Wo: 3}).doit()
    9
    """
    t = sympy.Symbol("t", integer=True)
    factors = [sympy.Sum(_axis_count(axis, t)[2], (t, 0, AXES[axis].k - 1)) for axis in (0, 1)]
    return C2 * Q1 * factors[0] * factors[1]


def prove_closed_forms(rechecks: int = 50, seed: int = 0) -> Proof:
    """Closed forms for all sizes, each proved and cross-checked on concrete layers: nnz(𝒲), parameter counts,
    the receptive field of one layer and of a stack (r_L = r_{L−1} + (k_L − 1)·d_L·Π_{i<L} s_i).

    >>> prove_closed_forms(rechecks=5).holds
    True
    """
    from ..forms.blocks import block_terms  # prove/ reads forms/ (above it), never closed/ or receptive/ (below)

    start = perf_counter()
    specs = concrete_specs(count=rechecks, seed=seed)
    b = _Builder(specs, "channel_major")
    hyps = _size_hypotheses(CONSTRUCTIONS["blocks"], {})
    t = sympy.Symbol("t", integer=True)

    # 1. per axis and tap, the outputs that read inside the input form the integer interval [first, last]
    claims = []
    for axis in (0, 1):
        n_, k_, s_, p_, d_, out = AXES[axis]
        first, last, _ = _axis_count(axis, t)
        inside = sympy.And(_o >= 0, _o < out, _tap(_o, t, s_, p_, d_) >= 0, _tap(_o, t, s_, p_, d_) <= n_ - 1)
        claims.append(_Claim(hyps + [t >= 0, t < k_, _o >= -p_ - 1, _o <= out + 1],
                             sympy.Eq(inside, sympy.And(_o >= first, _o <= last)),
                             {t: (0, k_), _o: (-p_ - 1, out + 2)}))
        # without padding every tap is inside: the count is the output length
        claims.append(_Claim(hyps + [sympy.Eq(p_, 0), t >= 0, t < k_], sympy.Eq(_axis_count(axis, t)[2], out),
                             {t: (0, k_)}, restricted=True))
    nnz = nnz_formula()
    step = b.claim("nnz_intervals", sympy.Eq(sympy.Symbol("nnz(𝒲)"), nnz),
                   "Z3 lemma (both axes): 0 ≤ o < n' ∧ 0 ≤ o·s − p + t·d < n ⇔ first_t ≤ o ≤ last_t; nonzeros of 𝒲 ↔ "
                   "(i, l', o, m, n) with both taps inside (block_entries: placements complete and collision-free); "
                   "p = 0 ⇒ nnz = C₂·q₁·h·w·H'·W'", claims)
    # cross-check: the formula at concrete sizes = nonzeros of the built 𝒲 = ConvSpec.n_terms
    for spec, vals in zip(specs, b.values):
        # evaluated term by term: SymPy's Sum.doit() is not trusted on Max/Min summands
        value = vals[C2] * vals[Q1]
        sizes = sorted(vals, key=str)
        for axis in (0, 1):
            count = _numeric(_axis_count(axis, t)[2], [t, *sizes])
            taps = np.arange(vals[AXES[axis].k])
            value *= int(np.sum(count(taps, *[np.full(taps.shape, vals[x]) for x in sizes])))
        terms = block_terms(spec)
        built = int(np.broadcast_to(terms.valid, terms.keys.shape).sum())
        if step.holds and not value == built == spec.n_terms:
            raise ProofDisagreement(f"nnz formula {value} ≠ built 𝒲 {built} at {spec.describe()}")

    # 2. parameter counts: Σ over ω's index box (an exact polynomial identity) and the bias modes
    i_, lq, mm, nn = (sympy.Symbol(x, integer=True) for x in ("i", "l'", "m", "n"))
    weights = sympy.Sum(1, (i_, 0, C2 - 1), (lq, 0, Q1 - 1), (mm, 0, h - 1), (nn, 0, w - 1))
    done = weights.doit()
    poly_ok = sympy.expand(done - C2 * Q1 * h * w) == 0
    bias_counts = {"shared": C2, "per_location": C2 * Ho * Wo, "none": sympy.Integer(0)}
    for spec, vals in zip(specs, b.values):  # against ω's and b's shapes as ConvSpec builds them
        want = int((C2 * Q1 * h * w).subs(vals))
        bias_size = 0 if spec.bias == "none" else int(np.prod(spec.bias_shape))
        if poly_ok and (int(np.prod(spec.weight_shape)) != want or bias_size != int(bias_counts[spec.bias].subs(vals))):
            raise ProofDisagreement(f"parameter count {want} ≠ ω's shape {spec.weight_shape} at {spec.describe()}")
    b.steps.append(Step("params", sympy.Eq(sympy.Symbol("params"), C2 * Q1 * h * w + sympy.Symbol("bias")),
                        "SymPy Sum.doit() of 1 over ω's index box, checked as an exact polynomial identity; bias: "
                        "C₂ shared, C₂·H'·W' per location, 0 none (the note's C₂C₁(h−1)(w−1) is off by the −1s)",
                        "proved" if poly_ok else "refuted", rechecks=len(specs),
                        objects={"notes": tuple(f"bias {k}: {sympy.sstr(v)}" for k, v in bias_counts.items())}))

    # 3. receptive field of one layer: o reads [o·s − p, o·s − p + (k−1)·d], span d(k−1) + 1
    n_, k_, s_, p_, d_, out = AXES[0]
    lo, hi = _o * s_ - p_, _o * s_ - p_ + (k_ - 1) * d_
    layer = [_Claim(hyps + [t >= 0, t < k_], sympy.And(_tap(_o, t, s_, p_, d_) >= lo, _tap(_o, t, s_, p_, d_) <= hi),
                    {t: (0, k_), _o: (0, out)}),
             _Claim(hyps, sympy.And(sympy.Eq(_tap(_o, 0, s_, p_, d_), lo), sympy.Eq(_tap(_o, k_ - 1, s_, p_, d_), hi)),
                    {_o: (0, out)})]
    b.claim("rf_layer", sympy.Eq(sympy.Symbol("r"), d_ * (k_ - 1) + 1),
            "Z3 lemma: every tap of output o lies in [o·s − p, o·s − p + (k−1)·d], both ends attained", layer)

    # 4. a stack, by induction on its layers: the field (jump S, offset P, size R) of layers 1…L−1, then layer L
    S, P, Rf = (sympy.Symbol(x, integer=True, positive=True) for x in ("S", "P_0", "R_0"))
    u = sympy.Symbol("u", integer=True)
    o2 = _tap(_o, t, s_, p_, d_)  # the output of layers 1…L−1 that layer L's tap t reads
    S2, P2, R2 = S * s_, P + p_ * S, Rf + (k_ - 1) * d_ * S
    read = o2 * S - P + u
    stack = [_Claim([s_ >= 1, d_ >= 1, k_ >= 1, t >= 0, t < k_, u >= 0, u < Rf],
                    sympy.And(read >= _o * S2 - P2, read <= _o * S2 - P2 + R2 - 1), {}),
             _Claim([s_ >= 1, d_ >= 1, k_ >= 1],
                    sympy.And(sympy.Eq(_tap(_o, 0, s_, p_, d_) * S - P, _o * S2 - P2),
                              sympy.Eq(_tap(_o, k_ - 1, s_, p_, d_) * S - P + Rf - 1, _o * S2 - P2 + R2 - 1)), {})]
    results = [cl.check() for cl in stack]
    seconds = sum(res.seconds for res in results)
    statuses = {res.status for res in results}
    status = "refuted" if "refuted" in statuses else "undetermined" if "undetermined" in statuses else "proved"
    rng = random.Random(seed)
    for _ in range(len(specs)):  # cross-check the recurrence: walk the tap maps of random stacks back to the input
        shapes = [(rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 2), rng.randint(1, 3))
                  for _ in range(rng.randint(1, 4))]
        size, jump = 1, 1
        for k0, s0, _p0, d0 in shapes:  # r_L = r_{L−1} + (k_L − 1)·d_L·Π_{i<L} s_i
            size, jump = size + (k0 - 1) * d0 * jump, jump * s0
        for out_pos in (0, 3):
            reached = {out_pos}
            for k0, s0, p0, d0 in reversed(shapes):
                reached = {_tap(q, t0, s0, p0, d0) for q in reached for t0 in range(k0)}
            if status == "proved" and max(reached) - min(reached) + 1 != size:
                raise ProofDisagreement(f"receptive field recurrence {size} ≠ {max(reached) - min(reached) + 1} "
                                        f"(taps walked back) for the stack {shapes}")
    b.steps.append(Step("rf_stack", sympy.Eq(sympy.Symbol("r_L"), sympy.Symbol("r_{L-1}") + (k_ - 1) * d_ * S),
                        "Z3 lemma (induction step, S = Π_{i<L} s_i): if outputs of layers 1…L−1 read "
                        "[o·S − P, o·S − P + R − 1], then layer L's output o reads [o·S·s − (P + p·S), … + R + (k−1)·d·S − 1], "
                        "both ends attained; base r_0 = 1, S = 1, P = 0; re-checked by walking the tap maps of random stacks",
                        status, seconds, len(specs), lemma=True))
    statement = sympy.And(sympy.Eq(sympy.Symbol("nnz(𝒲)"), nnz),
                          sympy.Eq(sympy.Symbol("params"), C2 * Q1 * h * w + sympy.Symbol("bias")),
                          sympy.Eq(sympy.Symbol("r_L"), sympy.Symbol("r_{L-1}") + (k_ - 1) * d_ * S))
    return Proof("closed forms for all sizes", statement, tuple(b.steps), {}, "channel_major",
                 perf_counter() - start, len(specs), sympy.And(*[hh for hh in hyps if hh is not sympy.true]))
