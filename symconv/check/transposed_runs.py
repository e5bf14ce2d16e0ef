"""The numeric runs of a transposed layer: non-integer values, a permuted batch, other values, a repeated call.

What a reading on symbols or integer probes assumes, tested on numbers (as :mod:`symconv.check.runs` does for
forward layers): call A (a batch of three non-integer samples), B (A's samples permuted), C (other values, weights
and bias) and, when something differs, A's inputs again. The values are dyadic (:func:`symconv.check.runs.dyadic`:
odd multiples of 2⁻¹⁰, b of 2⁻²⁰), so every product and sum of the definition is exact in float64 in any order.

The tolerance is derived, not fixed: output z[o] of the transposed layer is a sum of n_o products ω·y (counted
from the definition's terms; at most C₁/g·∏k) plus b, so computed in a format of unit roundoff u its error is at
most γ(n_o + 1 + e)·(Σ|ω||y| + |b|) with e = 2 when fn rounds its float64 input to a narrower format
(:func:`symconv.check.rounding.gamma`, Higham §3.1), plus γ(n_o + 1) of float64 for symconv's own evaluation.
``atol`` replaces the bound when given.

Findings, when the outputs differ beyond it — tested in this order, so that one cause is named:
``state-dependent`` (A's inputs again give another output: fn keeps state), ``batch-dependent`` (B is not A's
output permuted), ``low-precision`` (within the bound of float32/float16/bfloat16 only), ``type-dependent``
(fn computes something else on non-integer numbers than on symbols or integer probes), plus ``raised`` /
``non-finite`` / ``output-shape`` when a call fails or changes shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.transposed import ConvTransposeSpec
from ..forms.transposed import transposed_terms
from .finding import Finding
from .rounding import FORMATS, UNIT_ROUNDOFF, gamma
from .runs import dyadic
from .transposed_caller import TransposedCaller, TransposedCallFailed

__all__ = ["TransposedRuns", "expected_output", "finest_format", "transposed_numeric_runs", "transposed_rounding_bound"]

_PERMUTATION = np.array([2, 0, 1])  # call B: call A's samples in this order


@dataclass(frozen=True)
class TransposedRuns:
    """What the numeric runs found: findings (none if fn agreed), the finest format whose bound held, how close."""

    findings: tuple[Finding, ...]
    computes_in: str = ""
    ratio: float = 0.0  # largest error / bound of the format checked (or / atol)
    text: str = ""


def expected_output(spec: ConvTransposeSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The definition on a batch (numbers or symbols): (N, C₂, *output_size).

    >>> t = ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=2, stride=2)
    >>> expected_output(t, np.array([[[1.0, 10.0]]]), np.array([[[1.0, 2.0]]]), np.array([0.5])).tolist()
    [[[1.5, 2.5, 10.5, 20.5]]]
    """
    terms = transposed_terms(spec)
    out = np.stack([terms.evaluate(w, sample) for sample in x])
    return out if b is None else out + np.asarray(b).reshape(1, -1, *([1] * spec.ndim))


def transposed_rounding_bound(spec: ConvTransposeSpec, magnitude: np.ndarray, fmt: str) -> np.ndarray:
    """Largest error of each output computed in ``fmt``: (γ(n + e, u) + γ(n, 2⁻⁵³))·magnitude, n = products + 1.

    >>> t = ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=2, stride=2, bias=False)
    >>> float(transposed_rounding_bound(t, np.ones((1, 1, 4)), "float64")[0, 0, 0]) == 2 * (2 * 2.0**-53 / (1 - 2 * 2.0**-53))
    True
    """
    n = np.bincount(transposed_terms(spec).out, minlength=math.prod(spec.output_shape)) + 1
    extra = 0 if fmt == "float64" else 2
    values, inverse = np.unique(n, return_inverse=True)
    per = np.array([gamma(int(k) + extra, UNIT_ROUNDOFF[fmt]) + gamma(int(k), UNIT_ROUNDOFF["float64"])
                    for k in values])
    return per[inverse].reshape(spec.output_shape) * magnitude


def finest_format(spec: ConvTransposeSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                  error: np.ndarray) -> str:
    """The finest format (:data:`~symconv.check.rounding.FORMATS`) whose rounding bound covers ``error`` on every
    output of the batch x, or "" when none does.

    >>> t = ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=2, stride=2, bias=False)
    >>> x, w = np.ones((1, 1, 2)), np.ones((1, 1, 2))
    >>> finest_format(t, x, w, None, np.zeros((1, 1, 4))), finest_format(t, x, w, None, np.full((1, 1, 4), 1e-9))
    ('float64', 'float32')
    """
    magnitude = expected_output(spec, np.abs(x), np.abs(w), None if b is None else np.abs(b))
    return next((f for f in FORMATS if (error <= transposed_rounding_bound(spec, magnitude, f)).all()), "")


def _where(spec: ConvTransposeSpec, flat: int) -> str:
    sample, row = divmod(flat, math.prod(spec.output_shape))
    return f"sample {sample}, z[{', '.join(str(int(v)) for v in np.unravel_index(row, spec.output_shape))}]"


def _call(call: TransposedCaller, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """fn's output as float64 (a fn returning something that is not numbers fails the run)."""
    out = call(x, w, b)
    try:
        return np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise TransposedCallFailed(f"fn returned {out.dtype} values that are not numbers for numeric input",
                                   "type-dependent") from None


def _ratio(spec: ConvTransposeSpec, errors: list[np.ndarray], magnitudes: list[np.ndarray], fmt: str) -> float:
    worst = 0.0
    for e, m in zip(errors, magnitudes):
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(e == 0, 0.0, e / transposed_rounding_bound(spec, m, fmt))
        worst = max(worst, float(np.max(q, initial=0.0)))
    return worst


def transposed_numeric_runs(call: TransposedCaller, spec: ConvTransposeSpec, rng: np.random.Generator,
                            atol: float | None, source: str) -> TransposedRuns:
    """Calls A, B (A permuted), C against the definition within the rounding bound (or ``atol``); see the module.

    ``source``: what fn's earlier reading was made on ("symbols", "integer probes"), for the messages.

    >>> t = ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=2, stride=2)
    >>> call = TransposedCaller(lambda x, w, b: expected_output(t, x, w, b) + 1e-9, t, False)
    >>> transposed_numeric_runs(call, t, np.random.default_rng(0), None, "symbols").findings[0].code
    'low-precision'
    """
    # 1. the three calls (a failure of fn, or a changed shape, ends the runs)
    def inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return (dyadic(rng, (3, *spec.input_shape), 12, 10), dyadic(rng, spec.weight_shape, 12, 10),
                dyadic(rng, (spec.out_channels,), 22, 20) if spec.bias else None)
    (xa, wa, ba), (xc, wc, bc) = inputs(), inputs()
    try:
        ya, yb, yc = _call(call, xa, wa, ba), _call(call, xa[_PERMUTATION], wa, ba), _call(call, xc, wc, bc)
    except TransposedCallFailed as exc:
        return TransposedRuns((Finding(exc.code, "values", f"{exc} (non-integer float64 input, after computing the "
                                       f"layer on {source})"),))
    shape = (3, *spec.output_shape)
    if any(y.shape != shape for y in (ya, yb, yc)):
        got = next(y.shape for y in (ya, yb, yc) if y.shape != shape)
        return TransposedRuns((Finding("output-shape", "shape", f"on non-integer float64 input fn returned shape {got}, "
                                       f"not {shape} as on {source}"),))
    want_a, want_c = expected_output(spec, xa, wa, ba), expected_output(spec, xc, wc, bc)
    mags = [expected_output(spec, np.abs(x), np.abs(w), None if b is None else np.abs(b)) for x, w, b in
            ((xa, wa, ba), (xc, wc, bc))]
    ys, wants, magnitudes = [ya, yb, yc], [want_a, want_a[_PERMUTATION], want_c], [mags[0], mags[0][_PERMUTATION], mags[1]]
    errors = [np.abs(y - want) for y, want in zip(ys, wants)]
    # 2. within the bound of float64 (or atol): agreed
    largest = max(float(e.max(initial=0.0)) for e in errors)
    finest = next((f for f in FORMATS if _ratio(spec, errors, magnitudes, f) <= 1), "")
    ratio = largest / atol if atol else _ratio(spec, errors, magnitudes, "float64")
    if (largest <= atol) if atol is not None else ratio <= 1:
        limit = f"atol {atol:g}" if atol is not None else "the rounding bound of float64"
        return TransposedRuns((), finest, ratio, f"within {limit} (observed/bound = {ratio:.2g})")
    # 3. not within: which assumption failed
    return TransposedRuns((_cause(call, spec, (xa, wa, ba), ys, wants, errors, magnitudes, finest, atol, source),),
                          finest, ratio)


def _cause(call: TransposedCaller, spec: ConvTransposeSpec, a_inputs: tuple[np.ndarray, np.ndarray, np.ndarray | None],
           ys: list[np.ndarray], wants: list[np.ndarray], errors: list[np.ndarray], magnitudes: list[np.ndarray],
           finest: str, atol: float | None, source: str) -> Finding:
    """state-dependent, batch-dependent, low-precision or type-dependent, in that order (see the module)."""
    first = next(i for i, e in enumerate(errors)
                 if (e > (atol if atol is not None else transposed_rounding_bound(spec, magnitudes[i], "float64"))).any())
    flat = int(np.argmax(errors[first]))
    where = (f"call {'ABC'[first]}, {_where(spec, flat)}: found {ys[first].reshape(-1)[flat]:.17g}, the definition "
             f"gives {wants[first].reshape(-1)[flat]:.17g}")
    try:
        again = _call(call, *a_inputs)
    except TransposedCallFailed as exc:
        return Finding("state-dependent", "state", f"called again with call A's inputs fn failed ({exc}): it keeps "
                       f"state between calls ({where})")
    if not np.array_equal(again, ys[0]):
        return Finding("state-dependent", "state", f"fn returned different outputs for the same inputs on two calls: "
                       f"it keeps state between calls ({where})")
    fmt = finest or "float64"
    tolerance = atol if atol is not None else 2 * transposed_rounding_bound(spec, magnitudes[1], fmt)
    if (np.abs(ys[1] - ys[0][_PERMUTATION]) > tolerance).any():
        return Finding("batch-dependent", "batch", "on a permuted batch fn does not return the permuted output: a "
                       f"sample's output depends on the other samples or on its position ({where})")
    if finest and finest != "float64":
        return Finding("low-precision", "precision", f"on non-integer values fn computes in {finest}, not float64: its "
                       f"errors exceed the float64 rounding bound but not the {finest} one ({where}); pass atol= to "
                       "accept it")
    return Finding("type-dependent", "values", f"on non-integer float64 numbers fn computes something else than on "
                   f"{source} ({where}): it branches on the type or on the values of its input")
