"""The numeric runs that accompany every reading of fn's form: what a proof on symbols assumes, tested on numbers.

A form read from symbols (or from integer probes) says what fn computed on *those* calls. Three more calls
test what that assumes: a batch of three samples of non-integer values (A), the same batch permuted (B) and
another batch with other values, weights and biases (C). The values are dyadic — odd multiples of 2⁻¹⁰ for x
and ω, of 2⁻²⁰ for b — so every product and partial sum is exact in float64 in any order, and not exact in
float32 or narrower: a float64 layer must return the form's value up to its rounding bound
(:mod:`symconv.check.rounding`), and a layer that computes in a narrower format shows by how much.

Any disagreement is a finding: ``low-precision`` (within the bound of a narrower format only),
``batch-dependent`` (the permuted batch is not the permuted output), ``state-dependent`` (a call returned a
stale result, or fn's output on the same inputs changed between calls), ``type-dependent`` (fn computes
something else on numbers than on symbols or integer probes: it branches on the type or the values of its
input), ``non-finite`` (NaN or ±inf in the output) and ``raised`` (fn raised).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .caller import Caller, FnRaised
from .finding import Finding
from .form import Form
from .rounding import FORMATS, rounding_bound

__all__ = ["RunsOutcome", "dyadic", "numeric_runs"]


@dataclass(frozen=True)
class RunsOutcome:
    """What the numeric runs found: findings (none if fn agreed), the precision fn computes in, how close."""

    findings: tuple[Finding, ...]
    computes_in: str = ""  # the finest format whose bound every output met ("" if none, or atol was given)
    ratio: float = 0.0  # largest observed error / rounding bound of the checked format (or / atol)
    text: str = ""  # one phrase for the report: "within the rounding bound of float64 (observed/bound = 0)"


def dyadic(rng: np.random.Generator, shape: tuple[int, ...], bits: int, exponent: int) -> np.ndarray:
    """Odd integers below 2^bits in magnitude, times 2^-exponent: never integers, exact in float64 and float32."""
    return (2.0 * rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=shape) + 1.0) * 2.0**-exponent


def _where(shape: tuple[int, ...], flat: int) -> str:
    sample, row = divmod(flat, max(1, int(np.prod(shape))))
    index = ", ".join(str(int(v)) for v in np.unravel_index(row, shape))
    return f"sample {sample}, y[{index}]"


@dataclass
class _Run:
    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    y: np.ndarray
    want: np.ndarray
    magnitude: np.ndarray | None = None  # Σ|c·monomial| per output, computed only when some output differs


_PERMUTATION = np.array([2, 0, 1])  # call B: call A's samples in this order


def numeric_runs(caller: Caller, form: Form, rng: np.random.Generator, dtype: str, atol: float | None,
                 resymbolize: Callable[[], bool] | None, source: str) -> RunsOutcome:
    """Calls A (batch of 3, non-integer values), B (A permuted) and C (other values) checked against ``form``.

    ``dtype``: the format fn is checked as (its bound decides); ``atol``: an absolute tolerance instead of the
    bound; ``resymbolize``: runs fn on the symbols again and says whether its output changed (symbolic
    readings only); ``source``: what the form was read from, for the messages ("symbols", "integer probes").
    """
    # 1. the three calls; an exception or a non-finite output ends the runs
    runs = _three_runs(caller, form, rng, source)
    if isinstance(runs, RunsOutcome):
        return runs
    # 2. a stale result: the same output bit for bit although the form says the outputs differ
    stale = _stale(runs)
    if stale is not None:
        return stale
    # 3. rounding: within the bound (or atol) of the format asked for, or of a narrower one
    errors = [np.abs(r.y - r.want) for r in runs]
    requested = dtype if dtype in FORMATS else "float64"
    if not any(e.any() for e in errors):  # every output exact (the values are exact in float64): ratio 0
        text = f"within atol {atol:g} (largest difference 0)" if atol is not None else \
            f"within the rounding bound of {requested} (observed/bound = 0)"
        return RunsOutcome((), "float64", 0.0, text)
    magnitudes = _magnitudes(form, runs)
    rounding = _rounding(caller, errors, magnitudes, requested, atol)
    if rounding is not None:
        return rounding
    # 4. not rounding: which assumption failed (batch, state or type)
    return _which_assumption(caller, runs, errors, magnitudes, requested, atol, resymbolize, source)


def _three_runs(caller: Caller, form: Form, rng: np.random.Generator, source: str) -> tuple[_Run, ...] | RunsOutcome:
    """Calls A, B (A's samples permuted) and C, each with what the form gives; a finding if fn raised."""
    spec = caller.spec

    def inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        x = dyadic(rng, (3, *spec.input_shape), 12, 10)
        w = dyadic(rng, spec.weight_shape, 12, 10)
        b = None if caller.bias_shape is None else dyadic(rng, caller.bias_shape, 22, 20)
        return x, w, b

    def run(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, same_as: _Run | None = None) -> _Run:
        y = caller(x, w, b)
        if same_as is not None:  # the same samples permuted: the form's values permuted, not recomputed
            return _Run(x, w, b, y, same_as.want[_PERMUTATION])
        return _Run(x, w, b, y, form.evaluate(x.reshape(len(x), -1), w.reshape(-1), None if b is None else b.reshape(-1)))

    try:
        a = run(*inputs())
        b_run = run(a.x[_PERMUTATION], a.weight, a.bias, same_as=a)
        c = run(*inputs())
    except FnRaised as exc:  # an exception, or NaN/±inf for finite input (the caller checks every output)
        if exc.code == "non-finite":
            return RunsOutcome((Finding("non-finite", "values", f"{exc.error} (non-integer float64 input, {exc.call}), "
                                        f"after computing the layer on {source}"),))
        return RunsOutcome((Finding("raised", "call", f"fn raised {exc.error} on non-integer float64 input, after "
                                    f"computing the layer on {source} ({exc.call})"),))
    return a, b_run, c


def _stale(runs: tuple[_Run, ...]) -> RunsOutcome | None:
    a = runs[0]
    for name, r in (("B", runs[1]), ("C", runs[2])):
        if np.array_equal(r.y, a.y) and not np.allclose(r.want, a.want, rtol=1e-6, atol=0):
            return RunsOutcome((Finding("state-dependent", "state", f"call {name} returned exactly what call A returned "
                                        "for other inputs: fn returns a stored result (a cache or a counter) instead of "
                                        "computing the layer"),))
    return None


def _magnitudes(form: Form, runs: tuple[_Run, ...]) -> list[np.ndarray]:
    """Σ|c·ω·x| + |b| per output of each call: the bound scales with it (computed once some output differs)."""
    a, _, c = runs
    _, magnitude_a = form.evaluate_with_magnitude(a.x.reshape(3, -1), a.weight.reshape(-1),
                                                  None if a.bias is None else a.bias.reshape(-1))
    _, magnitude_c = form.evaluate_with_magnitude(c.x.reshape(3, -1), c.weight.reshape(-1),
                                                  None if c.bias is None else c.bias.reshape(-1))
    return [magnitude_a, magnitude_a[_PERMUTATION], magnitude_c]


def _ratio(spec: object, errors: list[np.ndarray], magnitudes: list[np.ndarray], fmt: str) -> float:
    """Largest error / rounding bound of ``fmt`` over every output of the three calls."""
    worst = 0.0
    for e, m in zip(errors, magnitudes):
        bound = rounding_bound(spec, m, fmt)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(e == 0, 0.0, e / bound)
        worst = max(worst, float(np.max(q, initial=0.0)))
    return worst


def _rounding(caller: Caller, errors: list[np.ndarray], magnitudes: list[np.ndarray], requested: str,
              atol: float | None) -> RunsOutcome | None:
    """Agreement within atol or the requested format's bound, or ``low-precision`` when a narrower format explains
    the differences; None when rounding explains nothing."""
    spec = caller.spec
    largest = max(float(np.max(e, initial=0.0)) for e in errors)
    finest = next((fmt for fmt in FORMATS if _ratio(spec, errors, magnitudes, fmt) <= 1), "")
    if atol is not None:
        if largest <= atol:
            within = f"computes within the rounding bound of {finest}" if finest else "beyond every rounding bound"
            return RunsOutcome((), finest, largest / atol if atol else 0.0,
                               f"within atol {atol:g} (largest difference {largest:.1e}; {within})")
    else:
        r = _ratio(spec, errors, magnitudes, requested)
        if r <= 1:
            return RunsOutcome((), finest, r, f"within the rounding bound of {requested} (observed/bound = {r:.2g})")
    if not (finest and FORMATS.index(finest) > FORMATS.index(requested)):
        return None
    r_req, r_fin = _ratio(spec, errors, magnitudes, requested), _ratio(spec, errors, magnitudes, finest)
    returned = f"; it returns {caller.output_dtype}" if caller.output_dtype and caller.output_dtype != requested else ""
    hint = (f"; pass dtype='{finest}' to check it as a {finest} layer" if finest == "float32"
            else f"; pass atol={largest:.0e} to accept it")
    limit = f"atol {atol:g}" if atol is not None else f"the {requested} bound"
    factor = f"×{largest / atol:.1g}" if atol else f"×{r_req:.1g}"
    return RunsOutcome((Finding("low-precision", "precision", f"on non-integer values fn exceeds {limit} {factor} "
                                f"— fn computes in {finest} (observed/bound = {r_fin:.2g} for {finest}){returned}{hint}"),),
                       finest, r_req)


def _which_assumption(caller: Caller, runs: tuple[_Run, ...], errors: list[np.ndarray], magnitudes: list[np.ndarray],
                      requested: str, atol: float | None, resymbolize: Callable[[], bool] | None,
                      source: str) -> RunsOutcome:
    """The differences are not rounding: batch-dependent, state-dependent or type-dependent, in that order."""
    spec, (a, b_run, _) = caller.spec, runs
    e = [err > (atol if atol is not None else rounding_bound(spec, m, requested)) for err, m in zip(errors, magnitudes)]
    permuted = np.abs(b_run.y - a.y[_PERMUTATION])
    if np.any(permuted > (atol if atol is not None else 2 * rounding_bound(spec, magnitudes[1], requested))):
        return RunsOutcome((Finding("batch-dependent", "batch", "on a permuted batch fn does not return the permuted "
                                    "output: a sample's output depends on the other samples or on its position"),))
    first = 0 if e[0].any() else 2
    flat = int(np.flatnonzero(e[first])[0])
    got, want = float(runs[first].y.reshape(-1)[flat]), float(runs[first].want.reshape(-1)[flat])
    where = f"{_where(tuple(caller.output_shape), flat)}: found {got:.17g}, the form gives {want:.17g}"
    if resymbolize is not None and resymbolize():
        return RunsOutcome((Finding("state-dependent", "state", "fn's output on the same symbols changed between calls: "
                                    f"it keeps state (a counter or a cache) and was right on its first call only ({where})"),))
    try:
        again = caller(a.x, a.weight, a.bias)
    except FnRaised as exc:
        again = None
        where += f"; called again with call A's inputs it raised {exc.error}"
    if again is None or not np.array_equal(again, a.y):
        return RunsOutcome((Finding("state-dependent", "state", "fn returned different outputs for the same inputs on "
                                    f"two calls: it keeps state between calls ({where})"),))
    return RunsOutcome((Finding("type-dependent", "values", f"on non-integer float64 numbers fn computes something "
                                f"else than on {source} ({where}): it branches on the type or on the values of its input "
                                "(e.g. on x.dtype == object, or on integer-valued inputs)"),))
