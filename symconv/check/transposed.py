"""verify_implementation for a transposed convolution: fn(x, weight, bias) against PyTorch's ConvTranspose.

fn takes x of shape ``(N, C₁, *input_size)``, ω in PyTorch's transposed layout ``(C₁, C₂/g, *kernel)`` and b of
shape ``(C₂,)`` (None without bias); ``pass_params=True`` also passes ``stride=, padding=, output_padding=,
dilation=, groups=`` (``torch.nn.functional.conv_transpose2d`` as it is). Only this layout is checked; when fn
takes neither NumPy arrays nor PyTorch tensors in it, the failure says what was passed and what to write
(:mod:`symconv.check.transposed_caller`). The definition is
:func:`symconv.forms.transposed.transposed_terms` (input q, tap t adds y[c, q]·ω[c, j, t] to output q·s − p + t·d).

The check, top to bottom (:func:`verify_transposed_implementation`):

1. **A reading.** ``"exact"``: fn runs on a batch of two samples of independent SymPy symbols and every output of
   each sample, expanded, must equal the definition on its own sample (a proof of what fn computed on that call);
   then fn on one integer batch must too, when it computes with numbers (else ``type-dependent``).
   ``"sampled"`` (fn computes with numbers only, e.g. PyTorch): fn is compared with the definition on
   :data:`PROBES` random integer batches of two — every value exact, every comparison an equality (``"sampled-
   atol"`` when only within ``atol``) — then tested affine in each of x, ω and b on integer probes. If fn is a
   polynomial of degree ≤ 2 a wrong one survives each probe with probability ≤ 2/(2R+1) (Schwartz–Zippel,
   R = 2¹⁰). Not a proof. A probe that differs is called again (same inputs: ``state-dependent``) and reversed
   (``batch-dependent``) before the bug is named; a difference that names no bug and is within the rounding
   bound of a narrower format is ``low-precision``.
2. **Naming the bug** when the reading differs: the complete hypotheses of
   :mod:`symconv.check.transposed_hypotheses` (its docstring lists the codes) are evaluated on the same inputs
   and named only when equal to fn on every output of every sample — on symbols as polynomials (a proof), on
   numbers on two random integer batches (sampled). Otherwise ``unknown`` (not exact), with the first
   differing outputs.
3. **Numeric runs** when the reading agrees (:mod:`symconv.check.transposed_runs`): non-integer values, a
   permuted batch, other values, within the derived rounding bound γ(n + 1)·(Σ|ω||y| + |b|) of float64 (or
   ``atol``): ``state-dependent``, ``batch-dependent``, ``low-precision``, ``type-dependent``.

A failure names the first outputs that differ: with symbols, their expected and found terms (a
:class:`~symconv.prove.verdict.Mismatch`); with numbers, the probe values (``details["counterexample"]``).

Every finding code the check may give: the named bugs (:data:`symconv.check.transposed_hypotheses.CODES`),
``unknown`` (differs, no bug matches exactly: ``exact=False``), ``state-dependent``, ``batch-dependent``,
``not-affine``, ``low-precision``, ``type-dependent``, ``non-finite`` and ``raised`` (fn raised; the message says
what fn was given and what to write when it takes neither NumPy arrays nor PyTorch tensors in this layout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.symbols import symbol_array, weight_array
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from ..forms.transposed import transposed_terms
from ..prove.verdict import Mismatch, Verdict
from .finding import Finding
from .transposed_caller import TransposedCaller, TransposedCallFailed, layout_text
from .transposed_hypotheses import differing_entries, findings_of, matching_hypotheses, shape_finding, transposed_hypotheses
from .transposed_runs import TransposedRuns, expected_output, finest_format, transposed_numeric_runs
from .verdict import ImplementationVerdict, fn_name

__all__ = ["MAX_DIAGNOSIS_TERMS", "MISMATCHES_SHOWN", "PROBES", "SYMBOLIC_TERMS", "TransposedImplementationVerdict",
           "verify_transposed_implementation"]

#: method="auto" runs fn on symbols up to this many terms of the definition.
SYMBOLIC_TERMS = 20_000
#: Random integer probes (each a batch of two) compared with the definition in the sampled check.
PROBES = 8
#: The bugs are named only up to this many terms of the definition (each hypothesis is a layer of that size).
MAX_DIAGNOSIS_TERMS = 4_000_000
#: Differing outputs whose expected and found terms are kept (the report shows max_mismatches of them).
MISMATCHES_SHOWN = 20
_R = 1 << 10

Run = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]  # x, ω, b and fn's output on them


@dataclass
class _Reading:
    """What one reading of fn found: findings, symbolic mismatches, level, largest deviation, a counterexample."""

    findings: list[Finding] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    level: str = "exact"
    differing: int = 0  # outputs of sample 0 that differ (on symbols)
    deviation: float = 0.0
    counterexample: str = ""
    source: str = "symbols"
    pending: Finding | None = None  # a finding that stands unless the numeric runs find a more specific one

    def codes(self) -> tuple[str, ...]:
        """The codes of the findings so far."""
        return tuple(f.code for f in self.findings)


def _probe(rng: np.random.Generator, spec: ConvTransposeSpec, n: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = rng.integers(-_R, _R + 1, (n, *spec.input_shape)).astype(np.float64)
    w = rng.integers(-_R, _R + 1, spec.weight_shape).astype(np.float64)
    b = rng.integers(-_R, _R + 1, (spec.out_channels,)).astype(np.float64) if spec.bias else None
    return x, w, b


def _diagnose(spec: ConvTransposeSpec, runs: list[Run], pass_params: bool) -> list[Finding]:
    """The named bugs equal to fn on every run; output-shape when the shape is not the layer's; else unknown."""
    size = len(transposed_terms(spec))
    if size > MAX_DIAGNOSIS_TERMS:
        return [Finding("unknown", "terms", f"fn differs from the transposed layer; its {size:,} terms are more than "
                        f"the {MAX_DIAGNOSIS_TERMS:,} the bug hypotheses are built for: check a smaller layer with the "
                        "same stride, padding, output_padding, dilation and groups to name the bug", exact=False)]
    findings = findings_of(matching_hypotheses(transposed_hypotheses(spec), runs))
    found = runs[-1][3].shape
    if found != (len(runs[-1][0]), *spec.output_shape):
        shape = shape_finding(spec, found[1:])
        hint = f"; fn was called as {layout_text(spec, len(runs[-1][0]), pass_params)}"
        findings.insert(0, Finding(shape.code, shape.part, shape.message + hint))
    if not findings:
        findings.append(Finding("unknown", "terms", "fn differs from the transposed layer and matches none of the "
                                "known bugs (symconv.check.transposed_hypotheses.CODES)", exact=False))
    return findings


def _numeric_companion(call: TransposedCaller, spec: ConvTransposeSpec, rng: np.random.Generator) -> list[Run]:
    """fn on one integer probe too, when it computes with numbers: filters the hypotheses before the symbolic test."""
    x, w, b = _probe(rng, spec)
    try:
        return [(x, w, b, np.asarray(call(x, w, b), dtype=np.float64))]
    except Exception:  # code that computes with symbols only: every hypothesis is tested on the symbols
        return []


def _expanded_differences(got: np.ndarray, expected: np.ndarray) -> list[tuple[int, int, Any, Any]]:
    """(sample, row, expected, found) of every output that differs as a polynomial."""
    per_sample = [(sample, row) for sample in range(len(got))
                  for row in differing_entries(expected[sample], got[sample])]
    return [(n, row, expected[n].reshape(-1)[row], got[n].reshape(-1)[row]) for n, row in per_sample]


def _short(expr: Any, limit: int = 160) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[:limit] + " …"


def _terms(expr: Any) -> tuple[sympy.Expr, ...]:
    return tuple(sympy.Add.make_args(sympy.expand(expr))) if expr != 0 else ()


def _symbolic(call: TransposedCaller, spec: ConvTransposeSpec, rng: np.random.Generator,
              atol: float) -> _Reading | None:
    """fn on two samples of symbols (None when fn does not compute with symbols): mismatches and named bugs."""
    x = np.stack([symbol_array("y", spec.input_shape), symbol_array("v", spec.input_shape)])
    w = weight_array(spec.forward_spec())
    b = symbol_array("b", (spec.out_channels,)) if spec.bias else None
    try:
        got = call(x, w, b)
    except TransposedCallFailed:  # numbers-only code (PyTorch, float casts): read it with probes instead
        return None
    if got.dtype != object:
        return None
    reading = _Reading()
    expected = expected_output(spec, x, w, b)
    differences = [] if got.shape != expected.shape else _expanded_differences(got, expected)
    if got.shape == expected.shape and not differences:
        _integer_probe(call, spec, rng, atol, reading)  # the layer on symbols: and on integer-valued numbers?
        return reading
    first = [d for d in differences if d[0] == 0]
    reading.differing = len(first)
    for _, row, e, g in first[:MISMATCHES_SHOWN]:  # their terms, expanded, for the report
        index = tuple(int(v) for v in np.unravel_index(row, spec.output_shape))
        reading.mismatches.append(Mismatch(row, index, _terms(e), _terms(g)))
    if differences and not first:  # sample 0 is the layer, sample 1 is not
        _, row, e, g = differences[0]
        reading.counterexample = (f"sample 1, z[{', '.join(map(str, np.unravel_index(row, spec.output_shape)))}]: "
                                  f"expected {_short(e)}, found {_short(g)}")
        reading.findings.append(Finding("batch-dependent", "batch", "sample 1 of the batch is not the layer of its "
                                        f"own input (sample 0 is): {reading.counterexample}"))
        return reading
    runs = _numeric_companion(call, spec, rng) + [(x, w, b, got)]
    reading.findings = _diagnose(spec, runs, call.pass_params)
    return reading


def _difference_text(expected: np.ndarray, got: np.ndarray) -> str:
    """The largest difference between two batches of outputs, as 'at output … of sample …: expected …, fn gave …'."""
    diff = np.abs(got - expected)
    where = tuple(int(v) for v in np.unravel_index(int(np.argmax(diff)), diff.shape))
    return f"at output {where[1:]} of sample {where[0]}: expected {expected[where]:.17g}, fn gave {got[where]:.17g}"


def _integer_probe(call: TransposedCaller, spec: ConvTransposeSpec, rng: np.random.Generator, atol: float,
                   reading: _Reading) -> None:
    """After an exact reading: fn on one integer batch too (when it computes with numbers), which must agree."""
    run = _numeric_companion(call, spec, rng)
    if run:
        x, w, b, got = run[0]
        expected = expected_output(spec, x, w, b)
        if got.shape != expected.shape or float(np.abs(got - expected).max(initial=0)) > atol:
            _probe_failure(call, spec, rng, run[0], reading, symbols_agreed=True)


def _probe_failure(call: TransposedCaller, spec: ConvTransposeSpec, rng: np.random.Generator, run: Run,
                   reading: _Reading, symbols_agreed: bool = False) -> None:
    """A probe that differs: fn called again on it (state), on it reversed (batch), then the bugs named (or, when
    fn computed the layer on symbols, ``type-dependent``)."""
    x, w, b, got = run
    expected = expected_output(spec, x, w, b)
    reading.counterexample = ("on an integer probe " + _difference_text(expected, got) if got.shape == expected.shape
                              else f"on an integer probe fn returned shape {got.shape}, the layer's is {expected.shape}")
    again = call(x, w, b)
    if not np.array_equal(again, got):
        reading.findings.append(Finding("state-dependent", "state", "fn returned different outputs for the same "
                                        f"inputs on two calls: it keeps state ({reading.counterexample})"))
        return
    reverse = call(x[::-1], w, b)
    if reverse.shape == got.shape and not np.array_equal(reverse, got[::-1]):
        reading.findings.append(Finding("batch-dependent", "batch", "on the batch reversed fn does not return the "
                                        f"output reversed: a sample's output depends on the others or on its position "
                                        f"({reading.counterexample})"))
        return
    if symbols_agreed:  # rounding (the numeric runs will say low-precision) or a branch on the input's type
        reading.pending = Finding("type-dependent", "values", "fn computed the layer on symbols but not on "
                                  f"integer-valued numbers ({reading.counterexample}): it branches on the type or on "
                                  "the values of its input")
        return
    second = _probe(rng, spec)
    reading.findings = _diagnose(spec, [run, (*second, call(*second))], call.pass_params)
    fmt = finest_format(spec, x, w, b, np.abs(got - expected)) if got.shape == expected.shape else ""
    if reading.codes() == ("unknown",) and fmt not in ("", "float64"):  # no bug named: is it rounding?
        reading.findings = [Finding("low-precision", "precision", f"fn computes in {fmt}, not float64: on integer "
                                    f"values its errors exceed the float64 rounding bound but not the {fmt} one "
                                    f"({reading.counterexample}); pass atol= to accept it")]


def _affinity(call: TransposedCaller, spec: ConvTransposeSpec, rng: np.random.Generator, atol: float) -> list[str]:
    """Bi-affinity on integer probes: f(u₁ + u₂) − f(u₂) = f(u₁) − f(0) in each of x, ω and b."""
    (x1, w1, b1), (x2, w2, b2) = _probe(rng, spec), _probe(rng, spec)
    base = call(x1, w1, b1)
    tests = [("x", call(x1 + x2, w1, b1) - call(x2, w1, b1), base - call(0 * x1, w1, b1)),
             ("the weight", call(x1, w1 + w2, b1) - call(x1, w2, b1), base - call(x1, 0 * w1, b1))]
    if b1 is not None and b2 is not None:
        tests.append(("the bias", call(x1, w1, b1 + b2) - call(x1, w1, b2), base - call(x1, w1, 0 * b1)))
    return [f"fn is not affine in {name} on integer probes (f(u₁ + u₂) − f(u₂) ≠ f(u₁) − f(0) "
            f"{_difference_text(right, left)})" for name, left, right in tests
            if left.shape != right.shape or not np.allclose(left, right, rtol=0, atol=atol)]


def _sampled(call: TransposedCaller, spec: ConvTransposeSpec, rng: np.random.Generator, atol: float) -> _Reading:
    """fn on integer probes against the definition, then bi-affinity; a differing probe is diagnosed."""
    reading = _Reading(level="sampled", source="integer probes")
    for _ in range(PROBES):
        x, w, b = _probe(rng, spec)
        got = call(x, w, b)
        expected = expected_output(spec, x, w, b)
        deviation = float(np.abs(got - expected).max(initial=0)) if got.shape == expected.shape else np.inf
        if deviation > atol:
            _probe_failure(call, spec, rng, (x, w, b, got), reading)
            return reading
        reading.deviation = max(reading.deviation, deviation)
    problems = _affinity(call, spec, rng, atol)
    if problems:
        reading.counterexample = problems[0]
        reading.findings.append(Finding("not-affine", "linearity", "; ".join(problems)))
    reading.level = "sampled" if reading.deviation == 0 else "sampled-atol"
    return reading


@dataclass(frozen=True)
class TransposedImplementationVerdict(ImplementationVerdict):
    """An :class:`ImplementationVerdict` for a transposed layer: ``transposed`` is the layer checked (``spec`` is its
    forward layer, whose 𝒲ᵀ it is — the :class:`~symconv.prove.verdict.Verdict` is about forward specs)."""

    transposed: ConvTransposeSpec | None = None

    def describe(self, max_mismatches: int = 3) -> str:
        """As for a forward layer, the first line naming the transposed layer, plus the first numeric difference."""
        lines = super().describe(max_mismatches).split("\n")
        lines[0] = f"{self.details.get('fn', 'fn')} as {self.transposed.describe() if self.transposed else ''}: {self.status}"
        if self.details.get("counterexample"):
            lines.append(f"  first difference: {self.details['counterexample']}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """As for a forward layer, plus ``"transposed"`` (the layer checked) and ``"counterexample"``."""
        return {**super().to_dict(), "transposed": None if self.transposed is None else self.transposed.describe(),
                "counterexample": self.details.get("counterexample", "")}


def _check_arguments(spec: object, backend: str, method: str, atol: float | None) -> None:
    if not isinstance(spec, ConvTransposeSpec):
        raise SpecError(f"spec must be a symconv.ConvTransposeSpec, got {type(spec).__name__}")
    if backend not in ("auto", "numpy", "torch") or method not in ("auto", "symbolic", "onehot", "sparse"):
        raise SpecError(f"backend must be 'auto', 'numpy' or 'torch' and method 'auto', 'symbolic', 'onehot' or 'sparse' "
                        f"for a transposed layer, got backend={backend!r}, method={method!r}")
    if atol is not None and not (isinstance(atol, (int, float)) and atol >= 0):
        raise SpecError(f"atol must be a number ≥ 0 or None, got {atol!r}")


def verify_transposed_implementation(
    fn: Callable[..., Any], spec: ConvTransposeSpec, *, backend: str = "auto", method: str = "auto",
    pass_params: bool = False, atol: float | None = None, seed: int = 0, max_mismatches: int = 5,
) -> TransposedImplementationVerdict:
    """Check that ``fn(x, weight, bias)`` computes the transposed layer ``spec`` (see the module docstring).

    >>> import numpy as np
    >>> def scatter(x, w, b):                  # stride 2, no padding: each input adds ω·x at 2q + t
    ...     n, c1, length = x.shape
    ...     y = np.zeros((n, w.shape[1], 2 * (length - 1) + w.shape[2]), dtype=x.dtype)
    ...     for q in range(length):
    ...         for t in range(w.shape[2]):
    ...             y[:, :, 2 * q + t] += np.einsum("nc,cj->nj", x[:, :, q], w[:, :, t])
    ...     return y + b[None, :, None]
    >>> spec = ConvTransposeSpec(2, 3, input_size=(4,), kernel_size=3, stride=2)
    >>> verify_transposed_implementation(scatter, spec).status
    'HOLDS (exact)'
    >>> verify_transposed_implementation(lambda x, w, b: scatter(x, w[:, :, ::-1], b), spec).codes
    ('missing-flip',)
    """
    start = perf_counter()
    _check_arguments(spec, backend, method, atol)
    call = TransposedCaller(fn, spec, pass_params, backend)
    rng = np.random.default_rng(seed)
    tolerance = 1e-6 if atol is None else float(atol)
    # 1. a reading: on symbols when fn computes with them (and the layer is small enough), else integer probes
    symbolic = method == "symbolic" or (method == "auto" and len(transposed_terms(spec)) <= SYMBOLIC_TERMS)
    try:
        reading = _symbolic(call, spec, rng, tolerance) if symbolic and backend != "torch" else None
        if reading is None and method == "symbolic":
            raise SpecError("method='symbolic' needs a fn that computes with NumPy object arrays of SymPy symbols")
        reading = reading or _sampled(call, spec, rng, tolerance)
    except TransposedCallFailed as exc:  # fn raised, or returned NaN/±inf, on a probe: a failure of fn
        reading = _Reading([Finding(exc.code, "call", str(exc))], level="", source="integer probes")
    # 2. when the reading agrees: non-integer values, a permuted batch, other values, within the rounding bound
    runs = None
    if not reading.findings:
        runs = transposed_numeric_runs(call, spec, rng, atol, reading.source)
        reading.findings.extend(runs.findings or ([reading.pending] if reading.pending else []))
    return _verdict(fn, spec, call, reading, tolerance, runs, max_mismatches, perf_counter() - start)


def _verdict(fn: Callable[..., Any], spec: ConvTransposeSpec, call: TransposedCaller, reading: _Reading, atol: float,
             runs: TransposedRuns | None, max_mismatches: int, seconds: float) -> TransposedImplementationVerdict:
    holds = not reading.findings
    symbolic = reading.source == "symbols"
    level = reading.level if holds or symbolic else ""
    mismatches = reading.mismatches[:max_mismatches]
    verdict = Verdict(holds=holds, method=f"implementation/{'symbolic' if symbolic else 'probes'}",
                      spec=spec.forward_spec(), order="channel_major", terms=len(transposed_terms(spec)),
                      seconds=seconds, mismatch=mismatches[0] if mismatches else None,
                      mismatched_rows=0 if holds else max(reading.differing, 1), source="supplied",
                      details={"calls": call.calls, "samples": call.samples, "level": level,
                               "proved": holds and level == "exact"})
    guarantee = _guarantee(holds, symbolic)
    return TransposedImplementationVerdict(
        verdict=verdict, method="symbolic" if symbolic else "probes", diagnosis=tuple(reading.findings),
        mismatches=tuple(mismatches), output_shape=spec.output_shape, calls=call.calls, samples=call.samples,
        guarantee=guarantee, layout="NCHW", backend=call.backend, level=level,
        details={"fn": fn_name(fn), "atol": atol, "deviation": reading.deviation, "counterexample": reading.counterexample,
                 "rounding": runs.text if runs else "", "computes_in": runs.computes_in if runs else "",
                 "rounding_ratio": runs.ratio if runs else None}, transposed=spec,
    )


def _guarantee(holds: bool, symbolic: bool) -> str:
    """What the verdict rests on, in a sentence: what was shown when fn holds, what was compared when it fails."""
    if not holds:
        return ("fn ran on two samples of symbols" if symbolic else "fn ran on random integer batches") + \
            "; its outputs were compared with the transposed layer's, output by output"
    return ("fn ran on two samples of symbols and computed the transposed layer exactly per sample" if symbolic
            else f"sampled: equal to the definition on {PROBES} random integer batches and bi-affine on integer "
                 "probes") + "; numeric runs (non-integer values, a permuted batch, other values) within the " \
                             "derived rounding bound"
