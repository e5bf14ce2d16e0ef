"""verify_implementation(): check that someone's convolution function computes the layer it claims.

``fn(x, weight, bias) -> y`` is any implementation — NumPy, PyTorch, a hand-written loop, a Toeplitz
trick. Its form (the terms c·ω·x, c·b, … of every output; see :mod:`symconv.check.form`) is extracted and
compared with the definition's; when they differ, the form is tested against complete hypotheses of the
common bugs, and the ones that match exactly are named.

How the form is obtained (``method``), and how strong the answer is (the verdict's ``level``/``status``):

* ``"symbolic"`` — fn is run on a batch of two samples of independent SymPy symbols (NumPy object arrays)
  and its outputs are expanded; each output sample must depend on its own input sample only, with the
  layer's terms, coefficients compared as exact rationals (a SymPy Float, or a fraction float64 cannot
  hold, is a mismatch: the definition's coefficients are exactly 1). Level ``"exact"``, status
  ``HOLDS (exact)``. Needs a fn that computes with Python objects (plain NumPy usually does).

Every reading that matches the layer is then tested by numeric runs (:mod:`symconv.check.runs`): a batch of
three non-integer float64 samples, the same batch permuted, and other values; each output must equal the
form within the rounding bound γₙ·(Σ|ω||x| + |b|) of the format fn computes in (:mod:`symconv.check.rounding`),
or within ``atol`` when given. A disagreement is a FAILS with the finding ``batch-dependent``,
``state-dependent``, ``type-dependent``, ``low-precision``, ``non-finite`` or ``raised``. So ``proved`` means:
fn is a deterministic per-sample map and, on every call made, computed exactly the layer; code that changes
only after more calls, on larger batches, or on values none of the runs reached would escape it.
* ``"onehot"`` — fn is probed: first tests on random integer inputs that it is affine in each of x, ω and b
  (the only shape a convolution can have); then every coefficient is read with one-hot inputs, one call
  per weight entry, batched over all input one-hots, and the form is confirmed on random probes.
  Bi-affinity is *sampled*, so this is not a proof: status ``AGREES (sampled, …)``.
* ``"sparse"`` — the same tests, then coefficients decoded from a few *tagged* integer probes per group of
  weights (one weight per output channel in each group): an output that reads a single (ω, x) pair returns
  a·s·tᵏ, whose ratios name the weight (tag s) and the input (tag t). Outputs that are not single terms
  are re-read one weight at a time, then with one-hot inputs. Whatever was decoded is then confirmed
  against fn on random integer probes (Schwartz–Zippel: if fn is a polynomial of degree ≤ 2, a wrong form
  survives k probes with values in [−R, R] with probability ≤ (2/(2R+1))ᵏ; k is chosen so this is ≤ 10⁻¹⁵).
  Sampled, not a proof.
* ``"auto"`` — symbolic for small layers when fn accepts symbols, else one-hot when that reads at most
  :data:`AUTO_ONEHOT_VALUES` numbers, else sparse.

Arithmetic of the probing methods: probes are integer-valued float64 arrays (``dtype="float64"``), on which
products and sums are exact below 2⁵³; a value read back is taken as the nearest integer when within
``atol`` (default 10⁻⁶, which absorbs the rounding of FFT or Winograd implementations), and two values are
equal within ``atol + rtol·max(|a|, |b|)``. ``dtype="float32"`` passes float32 arrays and keeps probe values
small (entries in [−8, 8], tags below √d_x) with ``atol`` 10⁻². The tolerance actually used is recorded:
level ``"sampled"`` (status ``AGREES (sampled, exact values)``) when every value read was an integer and
every comparison an equality — the run an ``atol=0`` check would make — and ``"sampled-atol"`` (status
``AGREES (sampled, within atol 1e-06)``) when some value was accepted only within the tolerance. That read
tolerance alone would hide an offset below it (e.g. ``conv + 1e-7``) or a layer computing in float32 on
float64 input (integer probes are exact in float32); the numeric runs that follow catch both, since their
values are exact only in float64 and their tolerance is the derived rounding bound, not ``atol`` — unless
``atol`` is given, which then replaces the bound there too. ``atol=0`` makes every comparison an equality.

Why this design: a black-box bilinear map on (n_w, d_x) inputs has n_w·d_x·d_y coefficients, so reading
them all (one-hot) costs n_w·d_x evaluations of fn — 7 s for PyTorch's conv2d at 8→8, 16×16, 3×3, stride 2,
dilation 2, groups 2, even in float32 (``benchmarks/bench_impl.py --onehot``). A convolution reads one input
per (output, weight), which the tags exploit: two calls per group of C₂ weights (0.06 s for that layer), and
the random confirmation guards the decoding.

Padding modes: a spec with ``padding_mode`` reflect, replicate or circular is the layer of
``nn.Conv2d(padding_mode=…)``; fn gets x unpadded and pads it itself (``F.pad(x, …, mode)``; ``np.pad`` with
"reflect", "edge", "wrap"), and the form expected is the mode's (:func:`symconv.check.form.mode_form`: every tap
kept, so an output may read one x through two weights, ω_a·x + ω_b·x). The padding is a hypothesis of the
diagnosis too: ``padding-mode-zeros``, ``padding-mode-wrong``, ``reflect-symmetric``, ``circular-wrong-side``.

>>> import torch
>>> spec = ConvSpec(2, 2, input_size=5, kernel_size=3, padding=1, padding_mode="replicate")
>>> verify_implementation(torch.nn.Conv2d(2, 2, 3, padding=1, padding_mode="replicate").double(), spec).status
'AGREES (sampled, exact values)'
>>> verify_implementation(torch.nn.Conv2d(2, 2, 3, padding=1).double(), spec).codes
('padding-mode-zeros',)

This module is the front door; the stages live one per module, each importing only those before it:
:mod:`~symconv.check.caller` (calling fn in its layout, backend and dtype), :mod:`~symconv.check.symbolic`
(the run on symbols), :mod:`~symconv.check.probe` (bi-affinity and confirmation on integer probes),
:mod:`~symconv.check.readers` (coefficients read back one-hot or from tags), :mod:`~symconv.check.diagnosis`
(naming the bug, with :mod:`~symconv.check.hypotheses`) and :mod:`~symconv.check.verdict` (the result).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal

import numpy as np
import sympy

from ..core.budget import check_key_range
from ..core.spec import ConvSpec
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError, TooLargeError
from ..prove.verdict import Mismatch, Verdict
from .caller import Caller, CallFailed, FnRaised
from .diagnosis import diagnose
from .finding import Finding
from .form import Form, KeySpace, expected_form
from .options import (
    BACKENDS,
    DTYPES,
    IMPLEMENTATION_METHODS,
    LAYOUTS,
    SIGNATURES,
    WEIGHT_LAYOUTS,
    layout_axes,
    layout_name,
    weight_channels_last,
)
from .probe import NOT_BIAFFINE, PRECISIONS, Precision, Probe, biaffinity, confirm, probing_guarantee
from .readers import extract
from .runs import RunsOutcome, numeric_runs
from .signature import choose_convention
from .symbolic import SYMBOLIC_GUARANTEE, parse_symbolic, per_sample_findings, run_symbolic, symbolic_findings
from .transposed import verify_transposed_implementation
from .verdict import ImplementationVerdict, first_mismatches, fn_name

__all__ = [
    "AUTO_ONEHOT_VALUES",
    "AUTO_SYMBOLIC_TERMS",
    "BACKENDS",
    "DTYPES",
    "IMPLEMENTATION_METHODS",
    "LAYOUTS",
    "MAX_TERMS",
    "SIGNATURES",
    "WEIGHT_LAYOUTS",
    "ImplementationVerdict",
    "verify_implementation",
]


#: method="auto" runs fn symbolically up to this many terms of the definition.
AUTO_SYMBOLIC_TERMS = 20_000
#: method="auto" reads every coefficient one-hot when that returns at most this many numbers (n_w·d_x·d_y).
AUTO_ONEHOT_VALUES = 1 << 22
#: ... and, for a fn without a batch axis (one call per input), at most this many inputs.
AUTO_ONEHOT_CALLS = 2_000
#: Largest one-hot read (numbers returned by fn) accepted unless ``max_values`` says otherwise (~ a minute).
MAX_ONEHOT_VALUES = 1 << 30
#: Largest layer (terms of the definition) whose form is extracted and compared: ~1 GiB of work arrays.
MAX_TERMS = 10_000_000


@dataclass(frozen=True)
class _Options:
    """verify_implementation's keyword arguments, as given."""

    layout: str
    weight_layout: str
    backend: str
    method: str
    dtype: str
    pass_params: bool
    atol: float | None
    seed: int
    max_values: int
    max_mismatches: int
    signature: str = "auto"
    time_budget: float = 10.0


@dataclass(frozen=True)
class _Reading:
    """What the symbolic run or the probes found: fn's form (None if fn is not bi-affine) and how it was read."""

    spec: ConvSpec  # the layer fn was read as (the spec, or the spec with the bias mode fn accepts)
    method: str
    form: Form | None = None
    findings: tuple[Finding, ...] = ()
    exact_terms: dict[int, tuple[sympy.Expr, ...]] = field(default_factory=dict)  # rows the Form only approximates
    level: str = ""
    guarantee: str = ""
    deviation: float = 0.0  # tolerance used while probing (the symbolic run uses none)
    slack: float = 0.0
    symbolic_output: np.ndarray | None = field(default=None, repr=False)  # fn's output on symbols, to replay
    why: str = ""  # why this method was used


@dataclass(frozen=True)
class _Comparison:
    """fn's form against the definition's: every finding, and the outputs that differ."""

    expected: Form
    findings: tuple[Finding, ...]
    mismatch_rows: np.ndarray
    mismatches: tuple[Mismatch, ...]


def verify_implementation(
    fn: Callable[..., Any],
    spec: ConvSpec | ConvTransposeSpec,
    *,
    layout: str = "auto",
    weight_layout: str = "auto",
    backend: str = "auto",
    method: str = "auto",
    dtype: str = "float64",
    pass_params: bool = False,
    atol: float | None = None,
    seed: int = 0,
    max_values: int = MAX_ONEHOT_VALUES,
    max_mismatches: int = 5,
    torch_threads: int | None = 1,
    signature: str = "auto",
    time_budget: float = 10.0,
) -> ImplementationVerdict:
    """Check that ``fn(x, weight, bias)`` computes the layer ``spec``; an :class:`ImplementationVerdict`.

    Exact (a proof) when fn runs on SymPy symbols (``method="symbolic"``); sampled when probed with numbers.

    Any ndim. ``layout``: x and y batched or not, channels first or last — ``"NCL"``, ``"CL"``, ``"NLC"``, ``"LC"``
    (1-D), ``"NCHW"``, ``"CHW"``, ``"NHWC"``, ``"HWC"``, ``"NCDHW"``… (3-D; :mod:`symconv.check.options`) or ``"auto"``
    (NCHW, then CHW); ``weight_layout``: ``"auto"`` (PyTorch's (C₂, C₁/g, *kernel)) or ``"LIO"``/``"HWIO"``/``"DHWIO"``.
    ``backend``: ``"numpy"``, ``"torch"`` or ``"auto"`` (NumPy first). fn gets ``bias=None`` when the spec has no
    bias. ``pass_params=True`` also passes ``stride=, padding=, dilation=, groups=`` (as F.conv1d/2d/3d take them).
    ``method``: ``"symbolic"``, ``"onehot"``, ``"sparse"`` or ``"auto"`` (see the module docstring);
    ``dtype``: ``"float64"`` (exact below 2⁵³) or ``"float32"``; ``atol``: an absolute tolerance that
    overrides the derived rounding bound of the numeric runs, and how far a probe's read value may be from an
    integer (default there 1e-6 for float64, 1e-2 for float32; 0 makes every comparison exact). ``torch_threads``:
    PyTorch's threads during the check (restored after; ``None`` leaves them; one is fastest for small probes).
    ``signature``: ``"x,w,b"``, CS231n's ``"x,w,b,conv_param"`` (returning ``(out, cache)``), ``"x,w,b,stride,pad"``,
    ``"x,w,stride,pad"``, ``"module"``/``"module:WEIGHT,BIAS"`` (weights as attributes) or ``"auto"``
    (:mod:`symconv.check.signature`). ``time_budget``: seconds method="auto" aims for; the verdict says which
    method was chosen and why (``details["method_reason"]``).

    >>> import numpy as np
    >>> def mine(x, w, b):                      # a hand-written cross-correlation, no padding, stride 1
    ...     c2, c1, h, k = w.shape
    ...     y = np.zeros((x.shape[0], c2, x.shape[2] - h + 1, x.shape[3] - k + 1), dtype=x.dtype)
    ...     for m in range(h):
    ...         for n in range(k):
    ...             patch = x[:, :, m:m + y.shape[2], n:n + y.shape[3]]
    ...             y += np.einsum("nlrc,il->nirc", patch, w[:, :, m, n])
    ...     return y + b[None, :, None, None]
    >>> verify_implementation(mine, ConvSpec(2, 3, input_size=5, kernel_size=3)).status
    'HOLDS (exact)'
    >>> flipped = lambda x, w, b: mine(x, w[:, :, ::-1, ::-1], b)
    >>> verify_implementation(flipped, ConvSpec(2, 3, input_size=5, kernel_size=3)).codes
    ('flipped-kernel',)
    """
    if torch_threads is not None and not (isinstance(torch_threads, int) and torch_threads >= 1):
        raise SpecError(f"torch_threads must be an int ≥ 1 or None, got {torch_threads!r}")
    options = _Options(layout, weight_layout, backend, method, dtype, pass_params, atol, seed, max_values, max_mismatches,
                       signature, time_budget)
    with _torch_threads(torch_threads):
        if isinstance(spec, ConvTransposeSpec):  # PyTorch's ConvTranspose: symbolic or probed, NCHW, (C₁, C₂/g, *k)
            return _verify_transposed(fn, spec, options)
        return _verify(fn, spec, options)


def _verify_transposed(fn: Callable[..., Any], spec: ConvTransposeSpec, options: _Options) -> ImplementationVerdict:
    """The transposed layer's check (:mod:`symconv.check.transposed`), refusing the options it does not have."""
    first = layout_name(spec.ndim, True, False)  # NCL, NCHW, NCDHW: batched, channels first
    if (options.layout not in ("auto", first) or options.weight_layout not in ("auto", "OIHW" if spec.ndim == 2 else "")
            or options.dtype != "float64" or options.signature != "auto"):
        raise SpecError(f"a transposed layer is checked with layout {first}, PyTorch's weight layout, float64 and "
                        "fn(x, weight, bias); leave layout, weight_layout, dtype and signature at their defaults")
    return verify_transposed_implementation(fn, spec, backend=options.backend, method=options.method,
                                            pass_params=options.pass_params, atol=options.atol, seed=options.seed,
                                            max_mismatches=options.max_mismatches)


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """PyTorch's intra-op threads set to ``threads`` while the check runs (when PyTorch is loaded), restored after."""
    torch = sys.modules.get("torch") if threads is not None else None
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        yield
    finally:
        torch.set_num_threads(previous)


def _verify(fn: Callable[..., Any], spec: ConvSpec, options: _Options) -> ImplementationVerdict:
    """verify_implementation's pipeline, read top to bottom."""
    start = perf_counter()
    # 0. arguments: everything that can be refused is refused before fn is called
    precision = _check_arguments(fn, spec, options)
    convention = choose_convention(fn, options.signature, options.pass_params)
    if not convention.takes_bias and spec.bias != "none":
        raise SpecError(f"fn is called as {convention.describe()}, which takes no bias, but the layer has one: "
                        "check the layer with bias='none' (check-impl --bias none)")
    caller = Caller(fn, spec, options.weight_layout, options.dtype, options.pass_params, convention)
    try:
        # 1. symbolic: fn runs on a batch of two samples of SymPy symbols (only NumPy code can)
        reading = _read_symbolically(caller, spec, options)
        # 2. probing: bi-affinity, then coefficients, then confirmation on random integers
        if reading is None:
            reading = _read_by_probing(caller, spec, precision, options)
        # 3. compare with the definition; diagnose by testing bug hypotheses against the form
        comparison = _compare(spec, reading, options.max_mismatches, caller.channels_last)
        comparison = _other_layout(caller, spec, reading, comparison, options.seed)
        # 4. numeric runs: non-integer values, a permuted batch, other values — what the reading assumed
        runs = _run_numerically(caller, reading, comparison, options)
    except FnRaised as exc:  # the user's code raised: fn fails, with its exception
        reading, comparison, runs = _raised(caller, spec, exc)
    # 5. the verdict: what holds, how it was checked, how strong the answer is
    return _implementation_verdict(fn, spec, caller, reading, comparison, runs, precision, options,
                                   perf_counter() - start)


def _raised(caller: Caller, spec: ConvSpec, exc: FnRaised) -> tuple[_Reading, _Comparison, RunsOutcome]:
    """A FAILS reading for a fn that raised: its exception, the call, and a hint when one applies."""
    if exc.code == "raised":
        message = f"fn raised {exc.error} {exc.call}" + (f"; {exc.hint}" if exc.hint else "")
    else:
        message = f"{exc.error} ({exc.call}): no form can be read from NaN or infinite values"
    finding = Finding(exc.code, "call" if exc.code == "raised" else "values", message)
    what = "fn raised an exception" if exc.code == "raised" else "fn returned non-finite values"
    reading = _Reading(spec, "none", findings=(finding,), guarantee=f"{what}; no form was read")
    comparison = _Comparison(expected_form(spec), (finding,), np.empty(0, dtype=np.int64), ())
    return reading, comparison, RunsOutcome(())


# ------------------------------------------------------------------------------------------ 0. arguments

def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SpecError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")


def _check_arguments(fn: Callable[..., Any], spec: ConvSpec, options: _Options) -> Precision:
    """SpecError or TooLargeError for arguments that cannot be checked; the probes' precision otherwise."""
    if not isinstance(spec, ConvSpec):
        raise SpecError(f"spec must be a symconv.ConvSpec, got {type(spec).__name__}")
    if not callable(fn) and not hasattr(fn, "forward"):
        raise SpecError(f"fn must be callable as fn(x, weight, bias) (or a layer object), got {type(fn).__name__}")
    layout_axes(options.layout, spec.ndim)  # a one-line SpecError listing the names valid for this ndim
    weight_channels_last(options.weight_layout, spec.ndim)
    _check_choice("backend", options.backend, BACKENDS)
    _check_choice("method", options.method, IMPLEMENTATION_METHODS)
    _check_choice("dtype", options.dtype, DTYPES)
    if options.method == "symbolic" and options.backend == "torch":
        raise SpecError("method='symbolic' runs fn on NumPy object arrays; it cannot be combined with backend='torch'")
    if not (isinstance(options.time_budget, (int, float)) and options.time_budget > 0):
        raise SpecError(f"time_budget must be a number of seconds > 0, got {options.time_budget!r}")
    atol = options.atol
    if atol is not None and not (isinstance(atol, (int, float)) and 0 <= atol < 0.5):
        raise SpecError(f"atol must be a number in [0, 0.5), got {atol!r}")
    precision = PRECISIONS[options.dtype]
    if atol is not None:  # atol=0: every comparison an equality (no relative tolerance either)
        precision = dataclasses.replace(precision, atol=float(atol), rtol=precision.rtol if atol else 0.0)
    if spec.n_terms + spec.n_bias_terms > MAX_TERMS:
        raise TooLargeError(f"verify_implementation: the layer has {spec.n_terms + spec.n_bias_terms:,} terms, above "
                            f"the limit of {MAX_TERMS:,} (about 100 bytes each while comparing); check a smaller layer "
                            "with the same stride, padding, dilation and groups")
    check_key_range(spec, "verify_implementation")
    return precision


# ------------------------------------------------------------------------------------------ 1. symbolic

def _read_symbolically(caller: Caller, spec: ConvSpec, options: _Options) -> _Reading | None:
    """fn's form from one run on symbols; None when not attempted, or when fn does not compute with symbols."""
    small = spec.n_terms + spec.n_bias_terms <= AUTO_SYMBOLIC_TERMS
    if not (options.method == "symbolic" or (options.method == "auto" and options.backend != "torch" and small)):
        return None
    batch = run_symbolic(caller, options.layout)
    if batch is None:
        if options.method == "symbolic":
            raise SpecError("method='symbolic' needs a fn that computes with NumPy object arrays of SymPy symbols; "
                            "this one raised or returned numbers — use method='onehot' or 'sparse'")
        return None
    y = batch[0]
    parsed = parse_symbolic(spec, y)
    caller.output_shape, caller.backend = tuple(y.shape), "numpy"
    mixed = per_sample_findings(spec, batch, parsed)
    if mixed:  # no form: the outputs are not one per-sample map
        return _Reading(spec, "symbolic", None, tuple(mixed), guarantee="fn is not a per-sample map: output "
                        "samples depend on other input samples, or differ in form; no coefficients kept")
    why = ("method='symbolic' as asked" if options.method == "symbolic" else
           f"auto: fn computes with SymPy objects and the layer has {spec.n_terms + spec.n_bias_terms:,} ≤ "
           f"{AUTO_SYMBOLIC_TERMS:,} terms")
    return _Reading(spec, "symbolic", parsed.form, tuple(symbolic_findings(parsed, y.shape)), parsed.exact_terms,
                    level="exact", guarantee=SYMBOLIC_GUARANTEE, symbolic_output=batch, why=why)


# ------------------------------------------------------------------------------------------ 2. probing

def _accepted_bias(caller: Caller, spec: ConvSpec) -> tuple[ConvSpec, tuple[Finding, ...]]:
    """The layer to probe: ``spec``, or — when fn only runs with the other bias mode's shape — that layer, said so."""
    shape = tuple(caller.bias_shape or ())
    if spec.bias == "none" or shape == spec.bias_shape:
        return spec, ()
    mode: Literal["shared", "per_location"] = "per_location" if len(shape) > 1 else "shared"
    finding = Finding("bias-per-location" if mode == "per_location" else "bias-shared", "bias",
                      f"fn only runs with a bias of shape {shape} ({mode}); "
                      f"the spec's bias has shape {spec.bias_shape} ({spec.bias})")
    work_spec = dataclasses.replace(spec, bias=mode)
    caller.spec = work_spec
    return work_spec, (finding,)


def _probing_method(method: str, caller: Caller, space: KeySpace, values: int, budget: float) -> tuple[str, str]:
    """``method``, or for "auto" the one the time budget allows: (method, why).

    One-hot gives n_w·d_x inputs to fn, sparse a few hundred; the cost per input is the trial call's time.
    One-hot is chosen when its estimate fits half the budget (the rest is for confirmation and the numeric
    runs), and when it returns at most :data:`AUTO_ONEHOT_VALUES` numbers.
    """
    if method not in ("auto", "symbolic"):
        return method, f"method={method!r} as asked"
    inputs = space.n_w * space.d_x
    batched = caller.batched
    if inputs * caller.seconds_per_sample > budget / 2:  # the first call may include warm-up: time one more
        caller.time_call()
    estimate = inputs * caller.seconds_per_sample
    if values > AUTO_ONEHOT_VALUES:
        return "sparse", f"auto: one-hot would return {values:,} numbers, above {AUTO_ONEHOT_VALUES:,}"
    if not batched and inputs > AUTO_ONEHOT_CALLS:
        return "sparse", f"auto: one-hot would take {inputs:,} calls of fn (no batch axis), above {AUTO_ONEHOT_CALLS:,}"
    if estimate > budget / 2:
        return "sparse", (f"auto: one-hot would take ≈ {estimate:.1f} s ({inputs:,} inputs at "
                          f"{caller.seconds_per_sample * 1e3:.2g} ms each), above half the {budget:g} s time budget")
    return "onehot", f"auto: one-hot fits the {budget:g} s time budget (≈ {estimate:.2g} s for {inputs:,} inputs)"


def _read_by_probing(caller: Caller, spec: ConvSpec, precision: Precision, options: _Options) -> _Reading:
    """fn's form read from numeric probes, confirmed on random integers; no form if fn is not bi-affine."""
    caller.resolve(options.layout, options.backend)
    work_spec, findings = _accepted_bias(caller, spec)
    probe = Probe(caller, work_spec, precision, np.random.default_rng(options.seed), KeySpace(work_spec))
    values = probe.space.n_w * probe.space.d_x * probe.d_y
    used, why = _probing_method(options.method, caller, probe.space, values, options.time_budget)
    form: Form | None = None
    problem = biaffinity(probe)
    if problem is None:
        form = extract(probe, used, options.max_values)
        problem = confirm(probe, form, precision.trials)
        if problem is not None and used == "sparse" and values <= options.max_values:
            used = "onehot"  # the decoding was fooled by an unusual fn: read every coefficient
            why += "; then one-hot, because the sparse decoding was not confirmed"
            form = extract(probe, used, options.max_values)
            problem = confirm(probe, form, precision.trials)
    reading = _Reading(work_spec, used, findings=findings, deviation=probe.deviation, slack=probe.slack, why=why)
    if problem is not None and problem.code == "not-bilinear" and options.dtype == "float64" and \
            _bilinear_in_float32(caller, work_spec, options):
        problem = dataclasses.replace(problem, message=problem.message + "; but fn is bi-affine when given float32 "
                                      "arrays — it reads its input as float32 (e.g. C code through ctypes): pass "
                                      "dtype='float32' (check-impl --dtype float32)")
    if problem is not None:
        guarantee = NOT_BIAFFINE if problem.code == "not-bilinear" else \
            "fn is bilinear, but its coefficients are not the layer's; no coefficients kept"
        return dataclasses.replace(reading, findings=(*findings, problem), guarantee=guarantee)
    level = "sampled" if probe.deviation == 0 and probe.slack == 0 else "sampled-atol"
    return dataclasses.replace(reading, form=form, level=level, guarantee=probing_guarantee(used, precision, probe))


def _bilinear_in_float32(caller: Caller, spec: ConvSpec, options: _Options) -> bool:
    """Whether fn passes the bi-affinity tests when given float32 arrays (the hint for a dtype mismatch)."""
    other = Caller(caller.fn, spec, options.weight_layout, "float32", options.pass_params, caller.convention)
    other.layout, other.backend, other.output_shape = caller.layout, caller.backend, caller.output_shape
    other.bias_shape, other.none_bias_as_zeros = caller.bias_shape, caller.none_bias_as_zeros
    probe = Probe(other, spec, PRECISIONS["float32"], np.random.default_rng(options.seed), KeySpace(spec))
    try:
        return biaffinity(probe) is None
    except FnRaised:
        return False


# ------------------------------------------------------------------------------------------ 3. comparison

def _compare(spec: ConvSpec, reading: _Reading, max_mismatches: int, channels_last: bool) -> _Comparison:
    """Findings (the reading's, then the diagnosis's) and the first outputs that differ from the definition."""
    expected = expected_form(spec)
    findings = list(reading.findings)
    rows = np.empty(0, dtype=np.int64)
    mismatches: tuple[Mismatch, ...] = ()
    form = reading.form
    if form is not None:
        if reading.spec != spec:  # checked as the other bias mode: its bias was reported already
            findings += [f for f in diagnose(reading.spec, form, channels_last) if f.part != "bias"]
        elif tuple(form.output_shape) == spec.output_shape:
            changed = form.differing_rows(expected)
            if changed.size:
                findings += diagnose(spec, form, channels_last)
            rows, mismatches = first_mismatches(spec, expected, form, changed, reading.exact_terms, max_mismatches)
        else:
            findings += diagnose(spec, form, channels_last)
    return _Comparison(expected, tuple(findings), rows, mismatches)


def _other_layout(caller: Caller, spec: ConvSpec, reading: _Reading, comparison: _Comparison, seed: int) -> _Comparison:
    """When fn's form is not the layer's: a ``wrong-layout`` finding first if fn, given the other channel placement
    (NLC for NCL, …), returns the layer's values on random integer inputs — a layout mix-up, not a bug in fn."""
    if reading.form is None or not comparison.findings or reading.spec != spec or not caller.layout:
        return comparison
    batched, last = layout_axes(caller.layout, spec.ndim) or (True, False)
    other = layout_name(spec.ndim, batched, not last)
    rng = np.random.default_rng(seed + 2)
    x = rng.integers(-8, 9, (2 if batched else 1, *spec.input_shape)).astype(np.float64)
    w = rng.integers(-8, 9, spec.weight_shape).astype(np.float64)
    b = None if spec.bias == "none" else rng.integers(-8, 9, spec.bias_shape).astype(np.float64)
    try:
        y = caller.invoke(x, w, b, other, caller.backend or "numpy")
    except CallFailed:
        return comparison
    if tuple(y.shape[1:]) != spec.output_shape:
        return comparison
    want = comparison.expected.evaluate(x.reshape(len(x), -1), w.reshape(-1), None if b is None else b.reshape(-1))
    if not np.array_equal(y.reshape(len(y), -1), want):
        return comparison
    axes = ", ".join(c for c in other if c not in "NC") if spec.ndim <= 3 else "*spatial"
    shape = ("(N, " if batched else "(") + (f"C, {axes})" if last else f"{axes}, C)")
    finding = Finding("wrong-layout", "layout", f"on random integer inputs fn computes the layer when given "
                      f"{'channels-first' if last else 'channels-last'} arrays {shape}: pass layout='{other}' "
                      f"(check-impl --layout {other})")
    return dataclasses.replace(comparison, findings=(finding, *comparison.findings))


# ------------------------------------------------------------------------------------------ 4. numeric runs

def _run_numerically(caller: Caller, reading: _Reading, comparison: _Comparison, options: _Options) -> RunsOutcome:
    """Numeric runs against the form read, when it is the layer's (a form already wrong needs no more findings)."""
    if reading.form is None or comparison.findings:
        return RunsOutcome(())
    if not caller.backend:
        caller.backend = "numpy"
    resymbolize = None
    if reading.symbolic_output is not None:
        first = reading.symbolic_output

        def resymbolize() -> bool:
            again = run_symbolic(caller, caller.layout)
            if again is None or again.shape != first.shape:
                return True
            return any(sympy.expand(a - b) != 0 for a, b in zip(first.reshape(-1).tolist(), again.reshape(-1).tolist()))
    source = "symbols" if reading.symbolic_output is not None else "integer probes"
    rng = np.random.default_rng(options.seed + 1)
    return numeric_runs(caller, reading.form, rng, options.dtype, options.atol, resymbolize, source)


# ------------------------------------------------------------------------------------------ 5. verdict

def _implementation_verdict(fn: Callable[..., Any], spec: ConvSpec, caller: Caller, reading: _Reading,
                            comparison: _Comparison, runs: RunsOutcome, precision: Precision, options: _Options,
                            seconds: float) -> ImplementationVerdict:
    """The :class:`Verdict` and everything the report and the JSON say about how it was reached."""
    if runs.findings:
        comparison = dataclasses.replace(comparison, findings=(*comparison.findings, *runs.findings))
    holds = reading.form is not None and not comparison.findings
    output_shape = tuple(caller.output_shape)
    differing = int(comparison.mismatch_rows.size) if output_shape == spec.output_shape else math.prod(output_shape or (0,))
    mismatches = comparison.mismatches
    verdict = Verdict(
        holds=holds,
        method=f"implementation/{reading.method}",
        spec=spec,
        order="channel_major",
        terms=len(comparison.expected),
        seconds=seconds,
        mismatch=mismatches[0] if mismatches else None,
        mismatched_rows=0 if holds else differing,
        source="supplied",
        details={"calls": caller.calls, "samples": caller.samples, "level": reading.level,
                 "proved": holds and reading.level == "exact"},
    )
    notes = ["fn fails with bias=None; it was given a zero bias"] if caller.none_bias_as_zeros else []
    return ImplementationVerdict(
        verdict=verdict,
        method=reading.method,
        diagnosis=comparison.findings,
        mismatches=mismatches,
        output_shape=output_shape,
        calls=caller.calls,
        samples=caller.samples,
        guarantee=reading.guarantee,
        layout=caller.layout,
        backend=caller.backend,
        level=reading.level,
        form=reading.form,
        details={"fn": fn_name(fn), "dtype": options.dtype, "atol": precision.atol, "rtol": precision.rtol,
                 "deviation": reading.deviation, "slack": reading.slack, "seed": options.seed, "notes": notes,
                 "rounding": runs.text, "computes_in": runs.computes_in, "rounding_ratio": runs.ratio,
                 "output_dtype": caller.output_dtype, "method_reason": reading.why},
    )
