"""verify_implementation for a transposed convolution: fn(x, weight, bias) against PyTorch's ConvTranspose.

fn takes x of shape ``(N, C₁, *input_size)``, ω in PyTorch's transposed layout ``(C₁, C₂/g, *kernel)`` and b of
shape ``(C₂,)`` (None without bias); ``pass_params=True`` also passes ``stride=, padding=, output_padding=,
dilation=, groups=`` (``torch.nn.functional.conv_transpose2d`` as it is). The definition is
:func:`symconv.forms.transposed.transposed_terms` (input q, tap t adds y[c, q]·ω[c, j, t] to output q·s − p + t·d).

Levels, as for forward layers (:mod:`symconv.check.implementation`):

* ``"exact"`` (``HOLDS (exact)``): fn ran on a batch of two samples of independent SymPy symbols and every output
  of each sample, expanded, equals the definition on its own sample; then a numeric run (three non-integer
  float64 samples) agreed within the rounding bound 2⁻⁴⁰·(Σ|ω||x| + |b|).
* ``"sampled"`` (``AGREES (sampled, exact values)``): fn computes with numbers only (PyTorch). Random integer
  probes test that fn is affine in each of x, ω and b, then compare it with the definition on random integer
  batches — every comparison an equality (``"sampled-atol"`` when only within ``atol``). If fn is a polynomial of
  degree ≤ 2 a wrong one survives each probe with probability ≤ 2/(2R+1) (Schwartz–Zippel, R = 2¹⁰). Not a proof.

A failure names the first outputs that differ: with symbols, their expected and found terms (a
:class:`~symconv.prove.verdict.Mismatch`); with numbers, the probe values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from .verdict import ImplementationVerdict, fn_name

__all__ = ["verify_transposed_implementation"]

#: method="auto" runs fn on symbols up to this many terms of the definition.
SYMBOLIC_TERMS = 20_000
#: Random integer probes (each a batch of two) compared with the definition in the sampled check.
PROBES = 8
_R = 1 << 10


@dataclass
class _Call:
    """fn with its backend: NumPy arrays, or PyTorch float64 tensors."""

    fn: Callable[..., Any]
    spec: ConvTransposeSpec
    pass_params: bool
    backend: str = "numpy"
    calls: int = 0
    samples: int = 0

    def __call__(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        self.calls += 1
        self.samples += len(x)
        s = self.spec
        params = dict(stride=s.stride, padding=s.padding, output_padding=s.output_padding, dilation=s.dilation,
                      groups=s.groups) if self.pass_params else {}
        if self.backend == "torch":
            import torch

            def tensor(a: np.ndarray | None) -> Any:
                return None if a is None else torch.from_numpy(np.asarray(a, dtype=np.float64))
            return np.asarray(self.fn(tensor(x), tensor(w), tensor(b), **params).detach().numpy())
        return np.asarray(self.fn(x, w, b, **params))


def _expected(spec: ConvTransposeSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The definition on a batch (numbers or symbols): (N, C₂, *output_size)."""
    terms = transposed_terms(spec)
    out = np.stack([terms.evaluate(w, sample) for sample in x])
    if b is not None:
        out = out + np.asarray(b).reshape(1, -1, *([1] * spec.ndim))
    return out


def _symbolic(call: _Call, spec: ConvTransposeSpec) -> tuple[list[Mismatch], bool] | None:
    """Mismatches of fn on two samples of symbols (None when fn does not compute with symbols), and whether any
    output of the second sample differs (a per-sample failure)."""
    x = np.stack([symbol_array("y", spec.input_shape), symbol_array("v", spec.input_shape)])
    w = weight_array(spec.forward_spec())
    b = symbol_array("b", (spec.out_channels,)) if spec.bias else None
    try:
        got = call(x, w, b)
    except Exception:  # numbers-only code (PyTorch, float casts): read it with probes instead
        return None
    if got.dtype != object or got.shape != (2, *spec.output_shape):
        return None
    expected = _expected(spec, x, w, b)
    mismatches: list[Mismatch] = []
    second = False
    for sample in (0, 1):
        for row, (e, g) in enumerate(zip(expected[sample].reshape(-1).tolist(), got[sample].reshape(-1).tolist())):
            if sympy.expand(g - e) != 0:
                second |= sample == 1
                if sample == 0:
                    index = tuple(int(v) for v in np.unravel_index(row, spec.output_shape))
                    mismatches.append(Mismatch(row, index, _terms(e), _terms(g)))
    return mismatches, second


def _terms(expr: Any) -> tuple[sympy.Expr, ...]:
    return tuple(sympy.Add.make_args(sympy.expand(expr))) if expr != 0 else ()


def _probe(rng: np.random.Generator, spec: ConvTransposeSpec, n: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = rng.integers(-_R, _R + 1, (n, *spec.input_shape)).astype(np.float64)
    w = rng.integers(-_R, _R + 1, spec.forward_spec().weight_shape).astype(np.float64)
    b = rng.integers(-_R, _R + 1, (spec.out_channels,)).astype(np.float64) if spec.bias else None
    return x, w, b


def _sampled(call: _Call, spec: ConvTransposeSpec, rng: np.random.Generator, atol: float) -> tuple[list[str], float]:
    """Bi-affinity on integer probes, then agreement with the definition: problems found, largest deviation."""
    x1, w1, b1 = _probe(rng, spec)
    x2, w2, b2 = _probe(rng, spec)
    base = call(x1, w1, b1)
    problems = []
    if not np.allclose(call(x1 + x2, w1, b1) - call(x2, w1, b1), base - call(0 * x1, w1, b1), rtol=0, atol=atol):
        problems.append("fn is not affine in x (f(x₁ + x₂) − f(x₂) ≠ f(x₁) − f(0) on integer probes)")
    if not np.allclose(call(x1, w1 + w2, b1) - call(x1, w2, b1), base - call(x1, 0 * w1, b1), rtol=0, atol=atol):
        problems.append("fn is not affine in the weight on integer probes")
    if b1 is not None and b2 is not None and not np.allclose(
            call(x1, w1, b1 + b2) - call(x1, w1, b2), base - call(x1, w1, 0 * b1), rtol=0, atol=atol):
        problems.append("fn is not affine in the bias on integer probes")
    deviation = 0.0
    for _ in range(PROBES):
        x, w, b = _probe(rng, spec)
        got, expected = call(x, w, b), _expected(spec, x, w, b)
        if got.shape != expected.shape:
            return [*problems, f"fn returned shape {got.shape}, the layer's output is {expected.shape}"], deviation
        diff = np.abs(got - expected)
        deviation = max(deviation, float(diff.max(initial=0)))
        if (diff > atol).any():
            where = tuple(int(v) for v in np.unravel_index(int(np.argmax(diff)), diff.shape))
            problems.append(f"at output {where[1:]} of sample {where[0]} on an integer probe: expected "
                            f"{expected[where]:.17g}, fn gave {got[where]:.17g}")
            break
    return problems, deviation


def _numeric_run(call: _Call, spec: ConvTransposeSpec, rng: np.random.Generator) -> str | None:
    """Three non-integer float64 samples against the definition, within 2⁻⁴⁰·(Σ|ω||x| + |b|) per output."""
    x, w = rng.standard_normal((3, *spec.input_shape)), rng.standard_normal(spec.forward_spec().weight_shape)
    b = rng.standard_normal(spec.out_channels) if spec.bias else None
    got = call(x, w, b).astype(np.float64)
    bound = 2.0 ** -40 * (_expected(spec, np.abs(x), np.abs(w), None if b is None else np.abs(b)) + 1e-300)
    diff = np.abs(got - _expected(spec, x, w, b))
    if got.shape != diff.shape or (diff > bound).any():
        return "on non-integer float64 values fn differs from the definition by more than the rounding bound"
    return None


@dataclass(frozen=True)
class TransposedImplementationVerdict(ImplementationVerdict):
    """An :class:`ImplementationVerdict` for a transposed layer: ``transposed`` is the layer checked (``spec`` is its
    forward layer, whose 𝒲ᵀ it is — the :class:`~symconv.prove.verdict.Verdict` is about forward specs)."""

    transposed: ConvTransposeSpec | None = None

    def describe(self, max_mismatches: int = 3) -> str:
        """As for a forward layer, the first line naming the transposed layer."""
        lines = super().describe(max_mismatches).split("\n")
        lines[0] = f"{self.details.get('fn', 'fn')} as {self.transposed.describe() if self.transposed else ''}: {self.status}"
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """As for a forward layer, plus ``"transposed"``: the layer checked."""
        return {**super().to_dict(), "transposed": None if self.transposed is None else self.transposed.describe()}


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
    >>> verify_transposed_implementation(scatter, ConvTransposeSpec(2, 3, input_size=(4,), kernel_size=3, stride=2)).status
    'HOLDS (exact)'
    """
    start = perf_counter()
    if not isinstance(spec, ConvTransposeSpec):
        raise SpecError(f"spec must be a symconv.ConvTransposeSpec, got {type(spec).__name__}")
    if backend not in ("auto", "numpy", "torch") or method not in ("auto", "symbolic", "onehot", "sparse"):
        raise SpecError(f"backend must be 'auto', 'numpy' or 'torch' and method 'auto', 'symbolic', 'onehot' or 'sparse' "
                        f"for a transposed layer, got backend={backend!r}, method={method!r}")
    call = _Call(fn, spec, pass_params, "torch" if backend == "torch" else "numpy")
    rng = np.random.default_rng(seed)
    tolerance = 1e-6 if atol is None else float(atol)
    read = _symbolic(call, spec) if method in ("auto", "symbolic") and backend != "torch" and \
        len(transposed_terms(spec)) <= SYMBOLIC_TERMS else None
    if read is None and method == "symbolic":
        raise SpecError("method='symbolic' needs a fn that computes with NumPy object arrays of SymPy symbols")
    findings: list[Finding] = []
    mismatches: list[Mismatch] = []
    if read is not None:
        mismatches, second = read
        if mismatches:
            findings.append(Finding("differs", "terms", f"{len(mismatches)} outputs differ from the transposed "
                                    "definition (first ones below)"))
        elif second:
            findings.append(Finding("batch-dependent", "batch", "sample 1 of the batch is not the layer of its own input"))
        problem = None if findings else _numeric_run(call, spec, rng)
        level, deviation = "exact", 0.0
    else:
        if backend == "auto":
            call.backend = _backend(call, spec, rng)
        problems, deviation = _sampled(call, spec, rng, tolerance)
        problem = "; ".join(problems) or None
        level = "sampled" if deviation == 0 else "sampled-atol"
    if problem is not None:
        findings.append(Finding("differs", "values", problem))
    return _verdict(fn, spec, call, read is not None, findings, mismatches[:max_mismatches], len(mismatches), level,
                    tolerance, deviation, perf_counter() - start)


def _backend(call: _Call, spec: ConvTransposeSpec, rng: np.random.Generator) -> str:
    """"numpy" when fn accepts NumPy arrays, else "torch"."""
    try:
        call(*_probe(rng, spec))
        return "numpy"
    except Exception:
        return "torch"


def _verdict(fn: Callable[..., Any], spec: ConvTransposeSpec, call: _Call, symbolic: bool, findings: list[Finding],
             mismatches: list[Mismatch], differing: int, level: str, atol: float, deviation: float,
             seconds: float) -> TransposedImplementationVerdict:
    holds = not findings
    level = level if holds or symbolic else ""
    verdict = Verdict(holds=holds, method=f"implementation/{'symbolic' if symbolic else 'probes'}", spec=spec.forward_spec(),
                      order="channel_major", terms=len(transposed_terms(spec)), seconds=seconds,
                      mismatch=mismatches[0] if mismatches else None, mismatched_rows=0 if holds else max(differing, 1),
                      source="supplied", details={"calls": call.calls, "samples": call.samples, "level": level,
                                                  "proved": holds and level == "exact"})
    guarantee = ("fn ran on two samples of symbols and computed the transposed layer exactly per sample; a numeric "
                 "run agreed within the rounding bound" if symbolic else
                 f"sampled: bi-affine on integer probes and equal to the definition on {PROBES} random integer batches")
    return TransposedImplementationVerdict(
        verdict=verdict, method="symbolic" if symbolic else "probes", diagnosis=tuple(findings),
        mismatches=tuple(mismatches), output_shape=spec.output_shape, calls=call.calls, samples=call.samples,
        guarantee=guarantee, layout="NCHW", backend=call.backend, level=level,
        details={"fn": fn_name(fn), "atol": atol, "deviation": deviation}, transposed=spec,
    )
