"""verify_backward(): check that someone's backward pass of a convolution computes the layer's gradients.

``fn(x, weight, g) -> (grad_x, grad_w, grad_b)`` gets a batch: x of shape (N, C₁, H, W), ω (C₂, C₁/g, h, w) and
the upstream gradient g = ∂L/∂y of shape (N, C₂, H', W'); it must return ∂L/∂x (N, C₁, H, W), ∂L/∂ω summed over
the batch (C₂, C₁/g, h, w) and ∂L/∂b summed over the batch (``spec.bias_shape``; ``None`` or an empty array
without bias). The expected values are the closed forms of :mod:`symconv.prove.backward` (each proved equal to
SymPy's derivative of the index sum), per sample, summed over the batch where PyTorch sums.

How (``method``):

* ``"symbolic"`` — fn runs once on NumPy object arrays of SymPy symbols (x, ω, g all symbols, N = 2); every
  entry is compared as a polynomial. A proof of what fn computes (``proved``). Needs a fn that computes with
  Python objects (plain NumPy loops, ``np.einsum``-free code).
* ``"probe"`` — fn runs on ``trials`` random integer-valued float64 batches (entries in [−16, 16]); products and
  sums are exact, so every comparison is an equality. Sampled: not a proof.
* ``"auto"`` — symbolic when the layer is small (≤ :data:`AUTO_SYMBOLIC_TERMS` terms) and fn accepts object
  arrays, else probes.

When a gradient differs, complete hypotheses of the usual bugs are evaluated on the same inputs and the ones that
match exactly are named (:data:`CODES`): ``missing-flip`` (∂L/∂x computed as a direct convolution of the
stretched g with ω not flipped), ``stride-not-undone`` (g not stretched by s − 1 zeros: a stride-1 transposed
convolution, at its own size or cut/zero-filled to x's), ``grad-w-wrong-axes`` (the per-sample ∂L/∂ω reduced
over another set of axes than the batch), ``bias-not-summed`` (the per-sample g reduced over another set of axes
than batch and positions), ``padding-mode-ignored`` (a reflect/replicate/circular layer's gradients computed as
the zero-padded layer's: ∂L/∂x without Pᵀ folding the padding's gradient back, ∂L/∂ω from the zero-padded x; for
these layers the expected values are the unpadded layer's on P x, :func:`symconv.prove.backward.mode_backward_closed_forms`).
``fn`` is called with NumPy arrays (``backend="numpy"``), PyTorch float64 tensors
(``"torch"``), or NumPy first and PyTorch if that raises (``"auto"``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.spec import ConvSpec, axis_names
from ..core.symbols import symbol_array
from ..errors import SpecError
from ..forms.padding import padding_operator
from ..prove.backward import (
    grad_bias,
    grad_input_terms,
    grad_weight_terms,
    mode_backward_closed_forms,
    scatter_terms,
)
from .diagnosis import Finding

__all__ = ["AUTO_SYMBOLIC_TERMS", "BACKWARD_METHODS", "CODES", "BackwardVerdict", "verify_backward"]

BACKWARD_METHODS: tuple[str, ...] = ("auto", "symbolic", "probe")
#: method="auto" runs fn on symbols up to this many terms of the layer (n_terms · batch).
AUTO_SYMBOLIC_TERMS = 5_000
CODES: tuple[str, ...] = ("missing-flip", "stride-not-undone", "grad-w-wrong-axes", "bias-not-summed",
                          "padding-mode-ignored", "shape", "unknown", "error")
PARTS: tuple[str, ...] = ("grad_x", "grad_w", "grad_b")
_BATCH = 2
_RANGE = 16


@dataclass(frozen=True)
class BackwardVerdict:
    """Whether fn's backward pass is the layer's: per gradient, the diagnosis, the first counterexample.

    ``level`` is ``"exact"`` (symbolic run: a proof) or ``"sampled"`` (integer probes, every comparison an
    equality). Truthy iff every gradient agrees (:attr:`holds`); :attr:`proved` only for an exact run that holds.
    """

    spec: ConvSpec
    method: str
    level: str
    parts: tuple[tuple[str, bool], ...]
    diagnosis: tuple[Finding, ...]
    counterexample: str | None
    calls: int
    seconds: float
    backend: str = "numpy"
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.holds

    @property
    def holds(self) -> bool:
        """True iff every gradient agreed (exactly; on symbols, or on every probe)."""
        return all(ok for _, ok in self.parts)

    @property
    def proved(self) -> bool:
        """True iff fn was run on symbols and every gradient is the closed form as a polynomial."""
        return self.holds and self.level == "exact"

    @property
    def codes(self) -> tuple[str, ...]:
        """Diagnosis codes, in order, without repeats."""
        return tuple(dict.fromkeys(f.code for f in self.diagnosis))

    def describe(self) -> str:
        """Status, how it was checked, one line per gradient, the diagnosis and the first counterexample."""
        status = ("HOLDS (exact)" if self.proved else "AGREES (sampled, exact values)") if self.holds else "FAILS"
        lines = [f"{self.details.get('fn', 'fn')} as the backward of {self.spec.describe()}: {status}",
                 f"  method {self.method} ({self.backend}): {self.calls} calls to fn, {self.seconds:.3f} s"]
        lines += [f"  {name}: {'ok' if ok else 'DIFFERS'}" for name, ok in self.parts]
        if self.diagnosis:
            lines.append("  diagnosis:")
            lines += [f"    - {f.describe()}" for f in self.diagnosis]
        if self.counterexample:
            lines.append(f"  first difference: {self.counterexample}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------ expected values

def _per_sample(spec: ConvSpec, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacks over the batch: ∂L/∂x (N, C₁, H, W), ∂L/∂ω (N, C₂, C₁/g, h, w), g itself (N, C₂, H', W')."""
    if spec.padding_mode != "zeros":  # the unpadded layer on P x: ∂L/∂x folded back by Pᵀ, ∂L/∂ω = xcorr(P x, g)
        pairs = [mode_backward_closed_forms(spec, x[n], w, g[n])[:2] for n in range(len(x))]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), g
    gx_terms, gw_terms = grad_input_terms(spec), grad_weight_terms(spec)
    gx = np.stack([gx_terms.evaluate(w, g[n]) for n in range(len(x))])
    gw = np.stack([gw_terms.evaluate(x[n], g[n]) for n in range(len(x))])
    return gx, gw, g


def _mode_ignored(spec: ConvSpec, name: str, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> list[Hypothesis]:
    """padding-mode-ignored: the zero-padded layer's gradient where the layer pads with reflect/replicate/circular."""
    if spec.padding_mode == "zeros" or name == "grad_b":
        return []
    zeros = replace(spec, padding_mode="zeros")
    gx, gw, _ = _per_sample(zeros, x, w, g)
    if name == "grad_x":
        return [("padding-mode-ignored", f"∂L/∂x of the zero-padded layer: the gradient that reaches the padding was "
                 f"dropped, not added back to the cells the {spec.padding_mode} padding copies (Pᵀ missing)", gx)]
    return [("padding-mode-ignored", f"∂L/∂ω correlates g with the zero-padded x, not the {spec.padding_mode}-padded "
             "one", _sum(gw, (0,)))]


def _sum(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """a summed over ``axes``; one sympy.Add per entry for object arrays."""
    if not axes:
        return a
    if a.dtype != object:
        return a.sum(axis=axes)
    keep = [i for i in range(a.ndim) if i not in axes]
    moved = np.moveaxis(a, list(axes), list(range(len(keep), a.ndim))).reshape(*[a.shape[i] for i in keep], -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = sympy.Add(*moved[idx].tolist())
    return out


def _expected_bias(spec: ConvSpec, g: np.ndarray) -> np.ndarray:
    return _sum(np.stack([grad_bias(spec, g[n]) for n in range(len(g))]), (0,)) if spec.bias != "none" else np.empty(0)


def _same(u: Any, v: Any) -> bool:
    if isinstance(u, sympy.Basic) or isinstance(v, sympy.Basic):
        return u == v or sympy.expand(sympy.sympify(u) - sympy.sympify(v)) == 0
    return bool(u == v)


def _first_difference(expected: np.ndarray, found: np.ndarray) -> tuple[int, ...] | None:
    """The first index where the arrays differ (shape mismatch: ``()``), None if equal."""
    if expected.shape != found.shape:
        return ()
    if expected.dtype != object and found.dtype != object:
        bad = np.argwhere(expected != found)
        return None if bad.size == 0 else tuple(int(i) for i in bad[0])
    for idx in np.ndindex(*expected.shape):
        if not _same(expected[idx], found[idx]):
            return tuple(int(i) for i in idx)
    return None


def _equal(expected: np.ndarray, found: np.ndarray) -> bool:
    return _first_difference(expected, found) is None


# ------------------------------------------------------------------------------------------ hypotheses

Hypothesis = tuple[str, str, np.ndarray]  # (code, words, the buggy gradient on the same inputs)


def _grad_x_hypotheses(spec: ConvSpec, w: np.ndarray, g: np.ndarray, found_shape: tuple[int, ...]) -> list[Hypothesis]:
    hyps = []
    flipped = np.flip(w, axis=tuple(range(2, 2 + spec.ndim)))
    terms = grad_input_terms(spec)
    hyps.append(("missing-flip", "∂L/∂x is a convolution of the stretched, padded g with ω not flipped (flip the "
                 "kernel on every spatial axis, or use conv_transpose)",
                 np.stack([terms.evaluate(flipped, g[n]) for n in range(len(g))])))
    if any(s > 1 for s in spec.stride):
        text = (f"g was not stretched by stride − 1 = {tuple(s - 1 for s in spec.stride)} zeros between entries "
                f"before the transposed convolution (stride not undone)")
        unit = (1,) * spec.ndim
        hyps.append(("stride-not-undone", text, _scatter(spec, w, g, unit, spec.input_size)))
        natural = tuple(o - 1 - 2 * p + d * (k - 1) + 1 for o, p, d, k in
                        zip(spec.output_size, spec.padding_before, spec.dilation, spec.kernel_size))
        if len(found_shape) == 2 + spec.ndim and tuple(found_shape[2:]) == natural and natural != spec.input_size:
            hyps.append(("stride-not-undone", text + f", at the stride-1 output size {natural}",
                         _scatter(spec, w, g, unit, natural)))
    return hyps


def _scatter(spec: ConvSpec, w: np.ndarray, g: np.ndarray, stride: tuple[int, ...], size: tuple[int, ...]) -> np.ndarray:
    """Σ ω·g scattered to tap(o, t) with ``stride`` into a grid of ``size``, per sample (:func:`scatter_terms`)."""
    terms = scatter_terms(spec, stride, size)
    return np.stack([terms.evaluate(w, g[n]) for n in range(len(g))])


def _axis_hypotheses(
    code: str, what: str, stack: np.ndarray, right: tuple[int, ...], names: tuple[str, ...]
) -> list[Hypothesis]:
    """Every reduction of the per-sample stack over a set of axes other than ``right``."""
    hyps = []
    for r in range(stack.ndim + 1):
        for axes in itertools.combinations(range(stack.ndim), r):
            if axes == right:
                continue
            shown = ", ".join(names[a] for a in axes) or "nothing"
            hyps.append((code, f"{what} summed over ({shown}) instead of ({', '.join(names[a] for a in right)})",
                         _sum(stack, axes)))
    hyps.append((code, f"{what} of the first sample only (not summed over the batch)", _sum(stack[:1], (0,))))
    return hyps


# ------------------------------------------------------------------------------------------ calling fn

def _as_numpy(value: Any) -> np.ndarray:
    if value is None:
        return np.empty(0)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _call(fn: Callable, backend: str, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[tuple[np.ndarray, ...], str]:
    if backend in ("numpy", "auto"):
        try:
            return tuple(_as_numpy(v) for v in fn(x, w, g)), "numpy"
        except Exception:
            if backend == "numpy" or x.dtype == object:
                raise
    import torch  # only when asked, or when fn refused NumPy arrays

    args = [torch.tensor(a, dtype=torch.float64) for a in (x, w, g)]
    return tuple(_as_numpy(v) for v in fn(*args)), "torch"


def _symbolic_inputs(spec: ConvSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (symbol_array("x", (_BATCH, *spec.input_shape)), symbol_array("omega", spec.weight_shape),
            symbol_array("g", (_BATCH, *spec.output_shape)))


def _axis_names(spec: ConvSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names of the axes of the per-sample ∂L/∂ω stack and of g, for the diagnosis (any ndim)."""
    rows = {"height": "row", "width": "col"} if spec.ndim == 2 else {}
    spatial = tuple(rows.get(a, a) for a in axis_names(spec.ndim))
    return ("batch", "out channel", "in channel", *(f"kernel {a}" for a in spatial)), ("batch", "channel", *spatial)


def _hypotheses(spec: ConvSpec, name: str, x: np.ndarray, w: np.ndarray, g: np.ndarray, found: np.ndarray,
                stacks: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[Hypothesis]:
    """The known bugs of gradient ``name``, each evaluated on the same inputs."""
    weight_axes, g_axes = _axis_names(spec)
    if name == "grad_x":
        if spec.padding_mode == "zeros":  # the transposed convolution's bugs; a mode layer's: the mode ignored
            return _grad_x_hypotheses(spec, w, g, found.shape)
        return _mode_ignored(spec, name, x, w, g)
    if name == "grad_w":
        return _axis_hypotheses("grad-w-wrong-axes", "∂L/∂ω", stacks[1], (0,), weight_axes) + \
            _mode_ignored(spec, name, x, w, g)
    right = (0, *range(2, 2 + spec.ndim)) if spec.bias == "shared" else (0,)
    return _axis_hypotheses("bias-not-summed", "∂L/∂b", stacks[2], right, g_axes)


def _runs(
    fn: Callable, spec: ConvSpec, method: str, backend: str, trials: int, seed: int
) -> tuple[list[tuple[np.ndarray, ...]], list[tuple[np.ndarray, ...]], str, str, int]:
    """Call fn: once on symbols when asked or small enough (and fn takes object arrays), else on integer probes.

    Returns (inputs per run, fn's outputs per run, level "exact"/"sampled", backend used, calls).
    """
    attempt = method == "symbolic" or (method == "auto" and backend != "torch" and spec.n_terms * _BATCH <= AUTO_SYMBOLIC_TERMS)
    if attempt:
        inputs = _symbolic_inputs(spec)
        try:
            found, used = _call(fn, "numpy", *inputs)
            return [inputs], [found], "exact", used, 1
        except Exception as error:
            if method == "symbolic":
                raise SpecError(f"method='symbolic' needs a fn that computes on NumPy object arrays; it raised "
                                f"{type(error).__name__}: {error}") from None
    calls = int(attempt)  # the symbolic call that fn refused
    rng = np.random.default_rng(seed)
    runs: list[tuple[np.ndarray, ...]] = []
    results: list[tuple[np.ndarray, ...]] = []
    used = backend
    for _ in range(trials):
        x = rng.integers(-_RANGE, _RANGE + 1, (_BATCH, *spec.input_shape)).astype(np.float64)
        w = rng.integers(-_RANGE, _RANGE + 1, spec.weight_shape).astype(np.float64)
        g = rng.integers(-_RANGE, _RANGE + 1, (_BATCH, *spec.output_shape)).astype(np.float64)
        out, used = _call(fn, backend, x, w, g)
        runs.append((x, w, g))
        results.append(out)
    return runs, results, "sampled", used, calls + trials


def _judge(
    spec: ConvSpec, runs: list[tuple[np.ndarray, ...]], results: list[tuple[np.ndarray, ...]]
) -> tuple[dict[str, bool], list[Finding], str | None]:
    """Per gradient whether fn agrees on every run, the named bugs that match exactly, the first difference."""
    parts = {name: True for name in PARTS}
    diagnosis: list[Finding] = []
    counterexample = None
    for (x, w, g), out in zip(runs, results):
        if len(out) != 3:
            raise SpecError(f"fn must return (grad_x, grad_w, grad_b), got {len(out)} values")
        stacks = _per_sample(spec, x, w, g)
        expected = {"grad_x": stacks[0], "grad_w": _sum(stacks[1], (0,)), "grad_b": _expected_bias(spec, g)}
        for name, got in zip(PARTS, out):
            if name == "grad_b" and spec.bias == "none" and got.size == 0:
                continue
            where = _first_difference(expected[name], got)
            if where is None:
                continue
            parts[name] = False
            if counterexample is None:
                counterexample = (f"{name}: shape {got.shape}, expected {expected[name].shape}" if where == () else
                                  f"{name}{list(where)}: expected {expected[name][where]}, found {got[where]}")
            matched = [Finding(code, name, text) for code, text, value in _hypotheses(spec, name, x, w, g, got, stacks)
                       if _equal(value, got)]
            if not matched:
                code = "shape" if where == () else "unknown"
                matched = [Finding(code, name, f"{name} matches none of the known bugs", exact=False)]
            diagnosis += [f for f in matched if f not in diagnosis]
    return parts, diagnosis, counterexample


def verify_backward(
    fn: Callable[[Any, Any, Any], tuple[Any, Any, Any]], spec: ConvSpec, *, method: str = "auto",
    backend: str = "auto", trials: int = 3, seed: int = 0,
) -> BackwardVerdict:
    """Check ``fn(x, weight, g) -> (grad_x, grad_w, grad_b)`` against the layer's gradients; see the module docstring.

    >>> import torch
    >>> def fn(x, w, g):
    ...     x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
    ...     b = torch.zeros(w.shape[0], dtype=x.dtype, requires_grad=True)
    ...     torch.nn.functional.conv2d(x, w, b, stride=2, padding=1).backward(g)
    ...     return x.grad, w.grad, b.grad
    >>> verify_backward(fn, ConvSpec(2, 3, input_size=5, kernel_size=3, stride=2, padding=1)).holds
    True
    """
    if method not in BACKWARD_METHODS:
        raise SpecError(f"method must be 'auto', 'symbolic' or 'probe', got {method!r}")
    if backend not in ("auto", "numpy", "torch"):
        raise SpecError(f"backend must be 'auto', 'numpy' or 'torch', got {backend!r}")
    started = perf_counter()
    # refuses (SpecError) what the closed forms cannot express, before fn runs; a padding mode: the padded grid's
    if spec.padding_mode == "zeros":
        grad_input_terms(spec)
    else:
        grad_input_terms(padding_operator(spec).valid_spec)
    runs, results, level, used_backend, calls = _runs(fn, spec, method, backend, trials, seed)
    parts, diagnosis, counterexample = _judge(spec, runs, results)
    return BackwardVerdict(
        spec, "symbolic" if level == "exact" else "probe", level, tuple(parts.items()), tuple(diagnosis),
        counterexample, calls, perf_counter() - started, used_backend,
        {"fn": getattr(fn, "__name__", "fn"), "batch": _BATCH, "trials": len(runs)},
    )
