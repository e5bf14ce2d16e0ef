"""The symbolic run: fn on NumPy object arrays of SymPy symbols, its expanded outputs read back as a Form.

Only code that computes with Python objects can run this way (plain NumPy usually does); the result is
exact — coefficients are compared as rationals, and a coefficient float64 cannot hold (a SymPy Float, or a
fraction such as (10²⁰+1)/10²⁰) is reported rather than rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import bias_symbols, input_symbols, weight_symbols
from .caller import Caller, CallFailed
from .finding import Finding
from .form import Form, KeySpace
from .options import auto_layouts

__all__ = ["SYMBOLIC_BATCH", "SYMBOLIC_GUARANTEE", "Parsed", "parse_symbolic", "per_sample_findings", "run_symbolic",
           "second_sample", "symbolic_findings"]

#: What a symbolic check shows, in words (the verdict's ``guarantee``).
SYMBOLIC_GUARANTEE = (
    "exact: fn was run on a batch of two samples of independent SymPy symbols; each output sample depends "
    "only on its own input sample, and its expanded terms equal the definition's, coefficients as exact "
    "rationals (no sampling, no tolerance). What this proves: on that call fn computed exactly the layer, "
    "as a per-sample map (so any batch size follows for a fn that treats samples alike). What it assumes, "
    "and the numeric runs below test without proving: that fn is deterministic and computes the same on "
    "numbers as on symbols (no branch on the type or the values of its input, no state kept between calls)"
)

#: How many samples of independent symbols the symbolic run passes (≥ 2: mixing samples shows).
SYMBOLIC_BATCH = 2


def second_sample(array: np.ndarray) -> np.ndarray:
    """The input symbols of the second sample: x'_… for x_… (same shape, independent symbols)."""
    flat = [sympy.Symbol("x'" + s.name[1:]) for s in array.reshape(-1).tolist()]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(array.shape)


def _input_samples(spec: ConvSpec) -> list[np.ndarray]:
    first = np.array(input_symbols(spec).tolist(), dtype=object)
    return [first, second_sample(first)][:SYMBOLIC_BATCH]


def _symbol_keys(spec: ConvSpec, inputs: np.ndarray | None = None) -> dict[sympy.Symbol, tuple[int, int]]:
    """Symbol → (kind, flat index): 0 weight, 1 bias, 2 input (``inputs``: the sample's x symbols, default x_…)."""
    table: dict[sympy.Symbol, tuple[int, int]] = {}
    x = input_symbols(spec) if inputs is None else inputs
    for kind, array in ((0, weight_symbols(spec)), (1, bias_symbols(spec)), (2, x)):
        for n, s in enumerate(np.array(array.tolist(), dtype=object).reshape(-1).tolist() if array.shape != (0,) else []):
            table[s] = (kind, n)
    return table


@dataclass(frozen=True)
class Parsed:
    """fn's symbolic outputs as a Form, plus the terms the Form cannot hold exactly.

    ``foreign``: (row, text) of terms that are not c·ω·x, c·b, c·x, c·ω or c. ``inexact``: (row, text) of
    terms whose coefficient float64 cannot hold exactly — a SymPy Float, or a fraction such as
    (10²⁰+1)/10²⁰ — kept in the Form only as an approximation; ``exact_terms`` holds the exact terms of
    every row that has one, for the mismatch table.
    """

    form: Form
    foreign: list[tuple[int, str]]
    inexact: list[tuple[int, str]]
    exact_terms: dict[int, tuple[sympy.Expr, ...]]


def _held_exactly(coefficient: sympy.Number) -> float | None:
    """The coefficient as a float64 if that is exact (an integer or a binary fraction, not a SymPy Float)."""
    if coefficient.is_Integer:
        n = int(coefficient)
        return float(n) if abs(n) <= 2**53 else None
    if not coefficient.is_Rational:
        return None  # a Float says fn computed in floating point; compared exactly it is never "the integer"
    try:
        value = float(coefficient)
    except OverflowError:
        return None
    return value if math.isfinite(value) and sympy.Rational(value) == coefficient else None


def _approximate(coefficient: sympy.Number) -> float | None:
    try:
        value = float(coefficient)
    except (OverflowError, TypeError):
        return None
    return value if math.isfinite(value) and value != 0 else None

def _term_key(space: KeySpace, table: dict[sympy.Symbol, tuple[int, int]], factors: tuple[sympy.Expr, ...]) -> int | None:
    """The key of the monomial Π factors; None when it is not 1, ω, b, x or ω·x."""
    if not factors:
        return space.constant
    kinds = [kind for kind in (table.get(f) for f in factors) if kind is not None]
    if len(kinds) != len(factors):
        return None  # a factor that is not one of the layer's symbols
    if len(kinds) == 1:
        kind, n = kinds[0]
        return int(space.w_only(n) if kind == 0 else space.bias(n) if kind == 1 else space.x_only(n))
    if len(kinds) == 2 and sorted(k for k, _ in kinds) == [0, 2]:
        w = next(n for k, n in kinds if k == 0)
        x = next(n for k, n in kinds if k == 2)
        return space.bilinear(x, w)
    return None


def parse_symbolic(spec: ConvSpec, y: np.ndarray, inputs: np.ndarray | None = None) -> Parsed:
    """An object array of SymPy outputs (C, *spatial') as a Form; terms that are not affine per argument or
    whose coefficient is not exactly a float64 are listed apart (see :class:`Parsed`). ``inputs``: the x
    symbols of the sample (default x_…)."""
    space = KeySpace(spec)
    table = _symbol_keys(spec, inputs)
    rows: list[int] = []
    keys: list[int] = []
    coefficients: list[float] = []
    foreign: list[tuple[int, str]] = []
    inexact: list[tuple[int, str]] = []
    exact_terms: dict[int, tuple[sympy.Expr, ...]] = {}
    for row, value in enumerate(y.reshape(-1).tolist()):
        terms = sympy.Add.make_args(sympy.expand(sympy.sympify(value)))
        for term in terms:
            if term == 0:
                continue
            coefficient, rest = term.as_coeff_Mul()  # the numeric factor, Floats included
            key = _term_key(space, table, sympy.Mul.make_args(rest) if rest != 1 else ())
            if key is None or not (coefficient.is_number and coefficient.is_real):
                foreign.append((row, str(term)))
                continue
            held = _held_exactly(coefficient)
            if held is None:
                inexact.append((row, str(term)))
                exact_terms[row] = tuple(t for t in terms if t != 0)
                held = _approximate(coefficient)  # for the diagnosis only: the row is a mismatch regardless
                if held is None:
                    continue
            rows.append(row)
            keys.append(key)
            coefficients.append(held)
    form = Form.build(spec, tuple(y.shape), np.array(rows, dtype=np.int64), np.array(keys, dtype=np.int64),
                      np.array(coefficients, dtype=np.float64))
    return Parsed(form, foreign, inexact, exact_terms)


def run_symbolic(caller: Caller, layout: str) -> np.ndarray | None:
    """fn's output on a batch of :data:`SYMBOLIC_BATCH` samples of independent symbols, (k, C, *spatial') object
    array; None when fn does not compute with symbols."""
    spec = caller.spec
    x = np.stack(_input_samples(spec))
    w = np.array(weight_symbols(spec).tolist(), dtype=object)
    b = np.array(bias_symbols(spec).tolist(), dtype=object) if spec.bias != "none" else None
    for lay in auto_layouts(layout, spec.ndim):
        try:
            y = caller.invoke(x, w, b, lay, "numpy", symbolic=True)
        except CallFailed:
            continue
        entries = y.reshape(-1).tolist()
        # SymPy objects without symbols are still exact (a layer whose every tap reads padding is all S.Zero)
        if any(isinstance(e, sympy.Basic) and e.free_symbols for e in entries) or \
                all(isinstance(e, sympy.Basic) for e in entries):
            caller.layout = lay
            return y
        return None  # fn turned the symbols into numbers: not a symbolic computation
    return None


def _free(entries: list) -> set:
    out: set = set()
    for e in entries:
        if isinstance(e, sympy.Basic):
            out |= e.free_symbols
    return out


def per_sample_findings(spec: ConvSpec, y: np.ndarray, first: Parsed) -> list[Finding]:
    """A batch-dependent Finding unless every output sample is the same form of its own input sample only.

    ``y``: fn's (k, C, *spatial') output on :func:`run_symbolic`'s samples; ``first``: sample 0's output parsed.
    """
    samples = _input_samples(spec)
    own = [set(s.reshape(-1).tolist()) for s in samples]
    for n in range(y.shape[0]):
        read = _free(y[n].reshape(-1).tolist())
        for other in range(y.shape[0]):
            if other != n and read & own[other]:
                example = sorted(map(str, read & own[other]))[0]
                return [Finding("batch-dependent", "batch", f"output sample {n} depends on input sample {other} "
                                f"(e.g. on {example}): fn mixes the samples of a batch (a reshape where a "
                                "transpose belongs, a batch index dropped, a batch statistic, a copied sample)")]
    for n in range(1, y.shape[0]):
        parsed = parse_symbolic(spec, y[n], samples[n])
        if parsed.form != first.form or len(parsed.foreign) != len(first.foreign):
            return [Finding("batch-dependent", "batch", f"output sample {n} is not the same function of its input "
                            "as output sample 0: fn treats the samples of a batch differently")]
    return []


def symbolic_findings(parsed: Parsed, shape: tuple[int, ...]) -> list[Finding]:
    """Findings for terms the Form cannot hold: not bi-affine, or with a coefficient float64 cannot hold exactly."""

    def where(row: int) -> str:
        return f"y[{', '.join(str(int(v)) for v in np.unravel_index(row, shape))}]"

    findings = []
    if parsed.foreign:
        row, text = parsed.foreign[0]
        findings.append(Finding("not-bilinear", "linearity", f"{len(parsed.foreign)} terms are not of the form "
                                f"c·ω·x, c·b, c·x, c·ω or c, e.g. {text} in {where(row)}"))
    if parsed.inexact:
        row, text = parsed.inexact[0]
        findings.append(Finding("inexact-coefficient", "coefficients", f"{len(parsed.inexact)} terms have a "
                                "coefficient that is not an exact integer or binary fraction (a SymPy Float, or "
                                f"a fraction float64 cannot hold), e.g. {text} in {where(row)}; the definition's "
                                "coefficients are exactly 1"))
    return findings
