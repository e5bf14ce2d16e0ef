"""The concrete side of the all-size proof: proof obligations, re-checked by brute force at small layers.

Every statement Z3 decides is an :class:`Obligation` (hypotheses ⇒ conclusion, ∀ the indices in its ranges); a
:class:`StepBuilder` runs each through Z3 (:mod:`.lemmas`) and then evaluates it, with NumPy, over every index at
≥ 50 concrete layers (:func:`concrete_specs`: boundary cases first, then random ones) with the sizes symconv's
ConvSpec computes. A statement Z3 proved that fails at a concrete layer raises
:class:`~symconv.prove.proof.ProofDisagreement` — never a pass. ω's values are compared as injective integer codes
(ω at non-integer arguments gets a code of its own), so an entry formula and a built 𝒲 can be compared entry by entry.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from ..core.spec import BiasMode, ConvSpec
from ..core.symbols import C1, C2, g, row_permutation
from ..errors import SpecError
from .lemmas import AXES, Q1, Q2, Check, check_valid
from .proof import Counterexample, ProofDisagreement, Step
from .statement import c, floor_size, i, l, o_free, o_h, o_w, r

__all__ = [
    "CODED", "SIZE_KEYS", "Obligation", "StepBuilder", "concrete_specs", "entry_codes", "matrix_codes", "matrix_from_codes",
    "model_split", "numeric", "row_number", "size_values", "spec_from_sizes", "verify_matrix",
]

#: a step's verdict when two verdicts combine: refuted beats undetermined beats proved
_RANK = {"proved": 0, "undetermined": 1, "refuted": 2}

# ----------------------------------------------------------------------------- ω as integer codes
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


# ----------------------------------------------------------------------------- SymPy → NumPy, sizes → layers
#: the undefined functions a statement may apply (weights ω, bias b, input x), each evaluated as injective codes
CODED: dict[str, Callable[..., Any]] = {"omega": _omega_code, "b": _omega_code, "x": _omega_code}
_NUMERIC: dict[tuple[Any, tuple[Any, ...]], Callable[..., Any]] = {}


def numeric(expr: Any, symbols: list[Any]) -> Callable[..., Any]:
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
    return _compile(expr, symbols)


class _Printer(NumPyPrinter):
    """lambdify's printer for NumPy, each symbol printed as the name of its argument (a0, a1, …)."""

    def __init__(self, names: dict[Any, str]) -> None:
        super().__init__({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True})
        self.names = names

    def _print_Symbol(self, expr: Any) -> str:
        return self.names[expr]


def _compile(expr: Any, symbols: list[Any]) -> Callable[..., Any]:
    """``expr`` as a NumPy function of ``symbols`` — the code lambdify prints, without its substitution of every symbol
    by a Dummy (names like H' are not identifiers): that substitution re-evaluates the whole expression, which costs
    more than the proof's Z3 calls. ω and b are the injective codes; an expression with other symbols is lambdify's."""
    names = {sym: f"a{k}" for k, sym in enumerate(symbols)}
    if not sympy.sympify(expr).free_symbols <= set(names):
        return sympy.lambdify(symbols, expr, modules=[dict(CODED), "numpy"])
    printer = _Printer(names)
    body = printer.doprint(expr)
    namespace: dict[str, Any] = dict(CODED)
    for module in printer.module_imports:  # the printed code names them in full: numpy.select, functools.reduce, …
        top = module.split(".")[0]
        namespace[top] = importlib.import_module(top)
    exec(f"def _f({', '.join(names.values())}):\n    return {body}\n", namespace)  # printed by SymPy from our expr
    return namespace["_f"]


def size_values(spec: ConvSpec) -> dict[Any, int]:
    """Values of the size symbols for a concrete layer, output sizes as ConvSpec computes them."""
    vals: dict[Any, int] = {C1: spec.in_channels, C2: spec.out_channels, g: spec.groups,
                            Q1: spec.in_per_group, Q2: spec.out_per_group}
    for axis, (n_, k_, s_, p_, d_, out) in enumerate(AXES):
        vals.update({n_: spec.input_size[axis], k_: spec.kernel_size[axis], s_: spec.stride[axis],
                     p_: spec.padding_before[axis], d_: spec.dilation[axis], out: spec.output_size[axis]})
    return vals


#: the sizes a counterexample names, in the order a layer needs them
SIZE_KEYS = ("C_1", "C_2", "g", "H", "W", "h", "w", "s_h", "s_w", "p_h", "p_w", "d_h", "d_w")


def spec_from_sizes(sizes: dict[str, int], bias: BiasMode = "shared") -> ConvSpec:
    """The layer with the sizes :data:`SIZE_KEYS` names (SpecError if it is not a valid layer)."""
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
            spec = spec_from_sizes(sizes)
        except SpecError:
            continue
        if spec.d_x * spec.d_y <= 40_000:
            out.append(spec)
    return out


# ----------------------------------------------------------------------------- statements checked by Z3 and by brute force
@dataclass
class Obligation:
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
            variables = [o_free]
            ranges: dict[Any, tuple[Any, Any]] = {o_free: (0, 1)}
        else:
            ranges = self.ranges
        if self._fns is None:
            hyp = sympy.And(*[hh for hh in self.hypotheses if hh not in (sympy.true,)])
            self._fns = (numeric(hyp, variables + sizes), numeric(self.conclusion, variables + sizes))
        if self._bounds_fn is None:
            self._bounds_fn = _compile(sympy.Tuple(*[x for lohi in ranges.values() for x in lohi]), sizes)
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
            self._size_fn = numeric(sympy.And(*only_sizes), sizes)
        return bool(self._size_fn(*[np.int64(values[s]) for s in sizes]))


def model_split(model: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Z3's model split into (sizes, indices)."""
    sizes = {k: v for k, v in model.items() if k in SIZE_KEYS or k in ("q_1", "q_2", "H'", "W'", "a_h", "a_w")}
    return sizes, {k: v for k, v in model.items() if k not in sizes}


# ----------------------------------------------------------------------------- 𝒲 entry by entry, as codes
def _grid(spec: ConvSpec, order: str) -> dict[Any, np.ndarray]:
    """Index arrays over all (row, column) of 𝒲, decoded by symconv's own conventions (not by this module's)."""
    rows = np.arange(spec.d_y)
    if order == "seed":
        rows = row_permutation(spec, "channel_major", "seed")[rows]  # M_seed = M_cm[perm]: seed row R is cm row perm[R]
    oi, ohh, oww = np.unravel_index(rows, spec.output_shape)
    li, ri, ci = np.unravel_index(np.arange(spec.d_x), spec.input_shape)
    return {i: oi[:, None], o_h: ohh[:, None], o_w: oww[:, None], l: li[None, :], r: ri[None, :], c: ci[None, :]}


def entry_codes(expr: Any, spec: ConvSpec, order: str, fns: dict[Any, Any]) -> np.ndarray:
    """``expr`` (in the index symbols) at every (row, column) of 𝒲 at ``spec``, rows in ``order``, as codes."""
    vals = size_values(spec)
    grid = _grid(spec, order)
    sizes = sorted(vals, key=str)
    variables = [i, o_h, o_w, l, r, c]
    key = id(expr)
    if key not in fns:
        fns[key] = numeric(expr, variables + sizes)
    shape = (spec.d_y, spec.d_x)
    out = fns[key](*[np.broadcast_to(grid[v], shape) for v in variables], *[np.full(shape, vals[s]) for s in sizes])
    return np.broadcast_to(np.asarray(out, dtype=float), (spec.d_y, spec.d_x))


def matrix_codes(M: sympy.SparseMatrix) -> np.ndarray:
    """A built 𝒲 (entries ω symbols) as codes."""
    out = np.zeros(M.shape)
    for (row, col), v in M.todok().items():
        out[row, col] = _code_of_symbol(v)
    return out


def matrix_from_codes(codes: np.ndarray) -> sympy.SparseMatrix:
    """The 𝒲 whose entries have these codes (ω symbols again)."""
    rows, cols = np.nonzero(codes)
    return sympy.SparseMatrix(*codes.shape, {(int(a), int(b)): _symbol_of_code(codes[a, b]) for a, b in zip(rows, cols)})


def verify_matrix(spec: ConvSpec, M: Any, order: str) -> Any:
    """The index engine's verdict on 𝒲 = ``M`` (rows in ``order``) at ``spec``."""
    from .verify import verify  # the front door; imported here: verify does not depend on this module

    return verify(spec, method="index", matrix=M, order=order)


# ----------------------------------------------------------------------------- the steps of one proof
@dataclass
class _Solved:
    """Z3's answers on a step's obligations, combined: the worst status, the first refuted obligation and its model."""

    status: str = "proved"
    seconds: float = 0.0
    smt: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    failing: Obligation | None = None
    model: dict[str, int] = field(default_factory=dict)

    def worsen(self, status: str, reason: str = "") -> None:
        if _RANK[status] > _RANK[self.status]:
            self.status = status
        if reason:
            self.reasons.append(reason)


class StepBuilder:
    """Collects the steps of one proof; runs each obligation through Z3 and through the concrete re-checks.

    ``output_size``: a construction's own output length per axis (a negative control may claim one); its
    obligations are also re-checked at that size where ConvSpec's size does not satisfy their hypotheses.
    """

    def __init__(self, specs: list[ConvSpec], order: str, output_size: Callable[..., Any] | None = None) -> None:
        self.specs = specs
        self.values = [size_values(sp) for sp in specs]
        self.construction_values: list[dict[Any, int] | None] = [None] * len(specs)
        if output_size is not None and output_size is not floor_size:
            self.construction_values = [_with_output_size(vals, output_size) for vals in self.values]
        self.order = order
        self.steps: list[Step] = []

    def with_values(self, values: list[dict[Any, int]], alternative: list[dict[Any, int] | None] | None = None,
                    ) -> StepBuilder:
        """A builder that appends to this one's steps but re-checks at other concrete ``values`` (e.g. the sizes of
        transposed layers); ``alternative``: per layer, the values a negative control's own sizes give."""
        other = StepBuilder([], self.order)
        other.specs, other.values, other.steps = self.specs, values, self.steps
        other.construction_values = alternative if alternative is not None else [None] * len(values)
        return other

    def step(self, name: str) -> Step:
        """The step called ``name`` (StopIteration if none yet)."""
        return next(st for st in self.steps if st.name == name)

    def claim(self, name: str, statement: Any, justification: str, claims: list[Obligation],
              notes: tuple[str, ...] = (), expect_sizes: bool = True, depends: tuple[str, ...] = (),
              concrete: Callable[[dict[Any, int]], list[dict[Any, int]]] | None = None) -> Step:
        """A step from its obligations: Z3 on each, then the concrete re-checks, then a refutation confirmed."""
        solved = _Solved()
        # a step that instantiates another step's lemma holds only if that one does
        for dep in depends:
            if not self.step(dep).holds:
                solved.worsen("undetermined", f"rests on step {dep}, which is not proved")
        # Z3 on every obligation that is not only an instance of a proved lemma
        _solve(solved, claims)
        # brute force at every concrete layer; a disagreement raises
        rechecks = self._recheck(name, solved.status, claims, concrete, expect_sizes)
        # a refutation, re-evaluated at Z3's model with exact arithmetic
        counterexample = None
        if solved.failing is not None:
            counterexample = self._confirm(name, solved.failing, solved.model)
        objects = {"smt": solved.smt, "instances": [cl.conclusion for cl in claims if not cl.z3],
                   "notes": notes + tuple(f"not proved: {x}" for x in solved.reasons)}
        step = Step(name, statement, justification, solved.status, solved.seconds, rechecks, counterexample, objects,
                    lemma=True)
        self.steps.append(step)
        return step

    def _recheck(self, name: str, status: str, claims: list[Obligation],
                 concrete: Callable[[dict[Any, int]], list[dict[Any, int]]] | None, expect_sizes: bool) -> int:
        """Brute force every claim at every concrete layer; a claim Z3 proved must hold there (else raise)."""
        for layer, alternative in zip(self.values, self.construction_values):
            for layer_values in (concrete(layer) if concrete else [layer]):
                for cl in claims:
                    _recheck_one(name, status, cl, layer_values, alternative, expect_sizes)
        return len(self.values)

    def _confirm(self, name: str, claim: Obligation, model: dict[str, int]) -> Counterexample:
        """Re-evaluate a refuted claim at Z3's model with exact SymPy arithmetic (not Z3)."""
        subs = {sym: model[str(sym)] for sym in _free(claim) if str(sym) in model}
        hyps_ok = all(sympy.sympify(hh).subs(subs) is sympy.true for hh in claim.hypotheses)
        concl = sympy.sympify(claim.conclusion).subs(subs)
        sizes, indices = model_split(model)
        if not hyps_ok or concl is sympy.true:
            if any(isinstance(a, sympy.core.function.AppliedUndef) for a in sympy.preorder_traversal(concl)):
                return Counterexample(sizes, indices, False, "depends on ω's values; see the entry confirmation")
            raise ProofDisagreement(f"step {name}: Z3's counterexample {model} does not falsify the statement")
        return Counterexample(sizes, indices, True, "re-evaluated with exact integer arithmetic")


def _with_output_size(vals: dict[Any, int], output_size: Callable[..., Any]) -> dict[Any, int]:
    """``vals`` with the output lengths a construction claims (ConvSpec's stay the truth elsewhere)."""
    alt = dict(vals)
    for a in AXES:
        alt[a.out] = int(output_size(vals[a.n], vals[a.k], vals[a.s], vals[a.p], vals[a.d]))
    return alt


def _solve(solved: _Solved, claims: list[Obligation]) -> None:
    for cl in claims:
        if not cl.z3:
            continue
        res = cl.check()
        solved.seconds += res.seconds
        solved.smt.append(res.smt)
        if res.status == "undetermined":
            solved.worsen("undetermined", res.reason)
        elif res.status == "refuted" and solved.failing is None:
            solved.worsen("refuted")
            solved.failing, solved.model = cl, res.model


def _recheck_one(name: str, status: str, cl: Obligation, values: dict[Any, int], alternative: dict[Any, int] | None,
                 expect_sizes: bool) -> None:
    if alternative is not None and not cl.hypotheses_hold(values):
        values = alternative  # a claim about the construction's own output size
    if not cl.hypotheses_hold(values):
        if status == "proved" and expect_sizes and not cl.restricted:
            # Z3's size hypotheses would not describe a real layer
            raise ProofDisagreement(f"step {name}: the size hypotheses fail at a concrete layer "
                                    f"{ {str(k): v for k, v in values.items()} }")
        return
    ok, where = cl.brute_force(values)
    if status == "proved" and not ok:
        raise ProofDisagreement(f"step {name}: Z3 proved it but it fails at sizes "
                                f"{ {str(k): v for k, v in values.items()} }, indices {where}")


def _free(claim: Obligation) -> set[Any]:
    out: set[Any] = set()
    for e in [*claim.hypotheses, claim.conclusion]:
        out |= sympy.sympify(e).free_symbols
    return out


def row_number(order: str, spec: ConvSpec, idx: dict[str, int]) -> int:
    """The row of 𝒲 (in ``order``) of the output that a counterexample's indices name."""
    i_, oh, ow = idx.get("i", 0), idx.get("o_h", 0), idx.get("o_w", 0)
    Hoc, Woc = spec.output_size
    return (i_ * Hoc + oh) * Woc + ow if order == "channel_major" else (oh * Woc + ow) * spec.out_channels + i_
