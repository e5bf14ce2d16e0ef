"""verify_implementation(): check that someone's convolution function computes the layer it claims.

``fn(x, weight, bias) -> y`` is any implementation — NumPy, PyTorch, a hand-written loop, a Toeplitz
trick. Its form (the terms c·ω·x, c·b, … of every output; see :mod:`symconv.check.diagnosis`) is extracted and
compared with the definition's; when they differ, the form is tested against complete hypotheses of the
common bugs, and the ones that match exactly are named.

How the form is obtained (``method``), and how strong the answer is (the verdict's ``level``/``status``):

* ``"symbolic"`` — fn is run once on NumPy object arrays of SymPy symbols and its outputs are expanded;
  coefficients are compared as exact rationals (a SymPy Float, or a fraction float64 cannot hold, is a
  mismatch: the definition's coefficients are exactly 1). Level ``"exact"``, status ``HOLDS (exact)``: a
  proof for what fn computes on symbols. Needs a fn that computes with Python objects (plain NumPy usually does).
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
``AGREES (sampled, within atol 1e-06)``) when some value was accepted only within the tolerance, so an
offset below ``atol`` (e.g. ``conv + 1e-7``) is not seen. ``atol=0`` makes every comparison an equality.

Why this design: a black-box bilinear map on (n_w, d_x) inputs has n_w·d_x·d_y coefficients, so reading
them all (one-hot) costs n_w·d_x evaluations of fn — 7 s for PyTorch's conv2d at 8→8, 16×16, 3×3, stride 2,
dilation 2, groups 2, even in float32 (``benchmarks/bench_impl.py --onehot``). A convolution reads one input
per (output, weight), which the tags exploit: two calls per group of C₂ weights (0.06 s for that layer), and
the random confirmation guards the decoding.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.budget import check_key_range
from ..core.spec import ConvSpec
from ..core.symbols import bias_symbols, input_symbols, note_index, output_index, weight_symbols
from ..errors import SpecError, TooLargeError
from ..prove.verdict import Mismatch, Verdict
from .diagnosis import Finding, Form, KeySpace, diagnose, expected_form

__all__ = [
    "AUTO_ONEHOT_VALUES",
    "AUTO_SYMBOLIC_TERMS",
    "BACKENDS",
    "DTYPES",
    "IMPLEMENTATION_METHODS",
    "LAYOUTS",
    "MAX_TERMS",
    "WEIGHT_LAYOUTS",
    "ImplementationVerdict",
    "verify_implementation",
]

LAYOUTS: tuple[str, ...] = ("auto", "NCHW", "CHW", "NHWC", "HWC")
WEIGHT_LAYOUTS: tuple[str, ...] = ("OIHW", "HWIO")
BACKENDS: tuple[str, ...] = ("auto", "numpy", "torch")
IMPLEMENTATION_METHODS: tuple[str, ...] = ("auto", "symbolic", "onehot", "sparse")
DTYPES: tuple[str, ...] = ("float64", "float32")

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
#: Probability bound the random confirmation aims for.
CONFIRMATION_EPSILON = 1e-15
#: Largest batch passed to fn at once (numbers returned per call ≤ this · d_y, bounded below).
_CHUNK_VALUES = 1 << 23


@dataclass(frozen=True)
class _Precision:
    """What probe values look like for one dtype: entries in [−R, R], rounding tolerance, tag scheme."""

    dtype: str
    value_range: int
    atol: float
    rtol: float
    big_tags: bool  # float64: tags t and t²; float32: two small digits and their squares (values stay < 2¹⁶)

    @property
    def trials(self) -> int:
        per_trial = 2 / (2 * self.value_range + 1)
        return math.ceil(math.log(CONFIRMATION_EPSILON) / math.log(per_trial))


_PRECISIONS = {
    "float64": _Precision("float64", 256, 1e-6, 1e-12, True),
    "float32": _Precision("float32", 8, 1e-2, 2e-6, False),
}


# ------------------------------------------------------------------------------------------ result

@dataclass(frozen=True)
class ImplementationVerdict:
    """Whether ``fn`` implements ``spec``: the :class:`Verdict`, the diagnosis and how it was checked.

    ``diagnosis`` holds :class:`~symconv.check.diagnosis.Finding` s (bug code + words); ``mismatches`` the first
    outputs that differ (expected vs found terms); ``calls``/``samples`` count the invocations of fn and
    the inputs it was given. ``level`` is how strong the check was: ``"exact"`` (method symbolic: a proof,
    no sampling, no tolerance), ``"sampled"`` (probing on random integer inputs, every comparison an
    equality), ``"sampled-atol"`` (probing, and some value was accepted only within ``atol``), or ``""``
    (fn is not bi-affine). ``status`` says it in one phrase, ``guarantee`` in a sentence. Truthy iff no
    difference was found (:attr:`holds`); :attr:`proved` is True only for an exact check that holds.
    """

    verdict: Verdict
    method: str
    diagnosis: tuple[Finding, ...]
    mismatches: tuple[Mismatch, ...]
    output_shape: tuple[int, ...]
    calls: int
    samples: int
    guarantee: str
    layout: str = ""
    backend: str = ""
    level: str = ""
    form: Form | None = field(default=None, repr=False, compare=False)
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.verdict.holds

    @property
    def holds(self) -> bool:
        """True iff no difference was found: proved for ``level == "exact"``, else on sampled inputs (see status)."""
        return self.verdict.holds

    @property
    def proved(self) -> bool:
        """True iff fn was shown to compute exactly the layer's index sum: method symbolic, and it holds."""
        return self.verdict.holds and self.level == "exact"

    @property
    def status(self) -> str:
        """``"HOLDS (exact)"``, ``"AGREES (sampled, exact values)"``, ``"AGREES (sampled, within atol 1e-06)"`` or ``"FAILS"``."""
        if not self.verdict.holds:
            return "FAILS"
        if self.level == "exact":
            return "HOLDS (exact)"
        if self.level == "sampled":
            return "AGREES (sampled, exact values)"
        return f"AGREES (sampled, within atol {self.details.get('atol', 0):g})"

    @property
    def spec(self) -> ConvSpec:
        """The layer fn was checked against."""
        return self.verdict.spec

    @property
    def seconds(self) -> float:
        """Wall time of the whole check, calls to fn included."""
        return self.verdict.seconds

    @property
    def codes(self) -> tuple[str, ...]:
        """The diagnosis codes, in order, without repeats (e.g. ``('flipped-kernel',)``)."""
        return tuple(dict.fromkeys(f.code for f in self.diagnosis))

    def describe(self, max_mismatches: int = 3) -> str:
        """A readable report: status, how it was checked, diagnosis, the first mismatching outputs."""
        lines = [
            f"{self.details.get('fn', 'fn')} as {self.spec.describe()}: {self.status}",
            f"  method {self.method} ({self.backend}, layout {self.layout}): {self.calls:,} calls to fn, "
            f"{self.samples:,} inputs, {self.seconds:.3f} s",
            f"  {self.guarantee}",
        ]
        if self.diagnosis:
            lines.append("  diagnosis:")
            lines += [f"    - {f.describe()}" for f in self.diagnosis]
        if self.mismatches and max_mismatches > 0:
            lines.append(f"  {self.verdict.mismatched_rows:,} of {math.prod(self.output_shape):,} outputs differ; "
                         f"first {min(max_mismatches, len(self.mismatches))}:")
            lines += _mismatch_table(self.mismatches[:max_mismatches])
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the verdict's fields (``holds``: no difference found) plus status, level, proved, method, …"""
        out = self.verdict.to_dict()
        out.update({
            "status": self.status,
            "level": self.level,
            "proved": self.proved,
            "atol": self.details.get("atol"),
            "largest_deviation": self.details.get("deviation"),
            "largest_accepted_difference": self.details.get("slack"),
            "method": self.method,
            "backend": self.backend,
            "layout": self.layout,
            "calls": self.calls,
            "samples": self.samples,
            "guarantee": self.guarantee,
            "output_shape": list(self.output_shape),
            "diagnosis": [{"code": f.code, "part": f.part, "message": f.message, "exact": f.exact} for f in self.diagnosis],
            "mismatches": [m.to_dict() for m in self.mismatches],
        })
        return out


def _sum_text(terms: tuple[sympy.Expr, ...], limit: int = 6) -> str:
    ordered = sorted(terms, key=sympy.default_sort_key)
    text = " + ".join(str(t) for t in ordered[:limit]) or "0"
    return text + (f" + … ({len(ordered) - limit} more)" if len(ordered) > limit else "")


def _mismatch_table(mismatches: tuple[Mismatch, ...]) -> list[str]:
    lines = []
    for m in mismatches:
        i, *pos = m.output
        lines.append(f"    y[{i}, {', '.join(map(str, pos))}] (the note's y_{{{','.join(map(str, note_index(m.output)))}}})")
        lines.append(f"      expected: {_sum_text(m.expected)}")
        lines.append(f"      found:    {_sum_text(m.found)}")
        if m.missing:
            lines.append(f"      missing:  {_sum_text(m.missing)}")
        if m.extra:
            lines.append(f"      extra:    {_sum_text(m.extra)}")
    return lines


# ------------------------------------------------------------------------------------------ calling fn

class _CallFailed(Exception):
    """fn raised, or returned something that is not an output of the expected rank."""


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a test dependency
        raise SpecError("backend='torch' needs PyTorch installed (pip install torch)") from None
    return torch


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


class _Caller:
    """Calls fn on canonical arrays — x (k, C₁, H, W), ω (C₂, C₁/g, h, w), b — in fn's layout and backend.

    Returns (k, C, H', W') float64 arrays; counts calls and inputs. The layout and backend are resolved by
    trial calls (:meth:`resolve`).
    """

    def __init__(self, fn: Callable, spec: ConvSpec, weight_layout: str, dtype: str, pass_params: bool) -> None:
        self.fn = fn
        self.spec = spec
        self.weight_layout = weight_layout
        self.dtype = dtype
        self.pass_params = pass_params
        self.calls = 0
        self.samples = 0
        self.layout = ""
        self.backend = ""
        self.output_shape: tuple[int, ...] = ()
        self.bias_shape: tuple[int, ...] | None = spec.bias_shape if spec.bias != "none" else None
        self.none_bias_as_zeros = False

    # -- conversions
    def _kwargs(self) -> dict[str, Any]:
        if not self.pass_params:
            return {}
        s = self.spec
        return {"stride": tuple(s.stride), "padding": s.padding if isinstance(s.padding, str) else tuple(s.padding),  # type: ignore[arg-type]
                "dilation": tuple(s.dilation), "groups": s.groups}  # type: ignore[arg-type]

    def _convert(self, array: np.ndarray, backend: str) -> Any:
        # always a fresh copy: a fn that writes into its arguments must not change later probes
        if array.dtype == object:
            return array.copy()
        copy = np.array(array, dtype=np.dtype(self.dtype), order="C", copy=True)
        return _torch().from_numpy(copy) if backend == "torch" else copy

    def _weight(self, weight: np.ndarray) -> np.ndarray:
        return weight.transpose(2, 3, 1, 0) if self.weight_layout == "HWIO" else weight

    def _bias(self, bias: np.ndarray | None, layout: str) -> np.ndarray | None:
        if bias is None:
            return np.zeros(self.spec.out_channels, dtype=np.float64) if self.none_bias_as_zeros else None
        if bias.ndim == 3 and layout in ("NHWC", "HWC"):
            return bias.transpose(1, 2, 0)
        return bias

    @staticmethod
    def _to_numpy(y: Any, symbolic: bool) -> np.ndarray:
        if hasattr(y, "detach") and hasattr(y, "cpu"):
            y = y.detach().cpu().numpy()
        if symbolic:
            return np.asarray(y, dtype=object)
        try:
            return np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise _CallFailed(f"fn returned {type(y).__name__}, which is not an array of numbers ({exc})") from None

    def invoke(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, layout: str, backend: str,
               symbolic: bool = False) -> np.ndarray:
        """One batch through fn in ``layout``/``backend``; the output as (k, C, H', W')."""
        k = x.shape[0]
        w = self._convert(self._weight(weight), backend)
        b_arr = self._bias(bias, layout)
        b = None if b_arr is None else self._convert(b_arr, backend)
        channels_last = layout in ("NHWC", "HWC")
        xs = x.transpose(0, 2, 3, 1) if channels_last else x
        batched = layout in ("NCHW", "NHWC")
        outputs = []
        inputs = [xs] if batched else [xs[s] for s in range(k)]
        for item in inputs:
            self.calls += 1
            self.samples += item.shape[0] if batched else 1
            try:
                y = self.fn(self._convert(item, backend), w, b, **self._kwargs())
            except Exception as exc:  # the user's code: any exception means "this way of calling fails"
                raise _CallFailed(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")) from exc
            y = self._to_numpy(y, symbolic)
            rank = 4 if batched else 3
            if y.ndim != rank or (batched and y.shape[0] != item.shape[0]):
                raise _CallFailed(f"fn returned shape {tuple(y.shape)}, expected rank {rank}"
                                  + (f" with batch {item.shape[0]} first" if batched else ""))
            outputs.append(y if batched else y[None])
        out = np.concatenate(outputs) if len(outputs) > 1 else outputs[0]
        return out.transpose(0, 3, 1, 2) if channels_last else out

    def resolve(self, layout: str, backend: str) -> None:
        """Find how fn wants to be called: trial calls with zeros, the declared choices first."""
        spec = self.spec
        layouts = ["NCHW", "CHW"] if layout == "auto" else [layout]
        backends = ["numpy", "torch"] if backend == "auto" else [backend]
        if backend == "auto" and not _torch_available():  # pragma: no cover
            backends = ["numpy"]
        weight = np.zeros(spec.weight_shape)
        errors: list[str] = []

        def attempt(bias_shape: tuple[int, ...] | None) -> bool:
            bias = None if bias_shape is None else np.zeros(bias_shape)
            for b in backends:
                for lay in layouts:
                    x = np.zeros((2 if lay in ("NCHW", "NHWC") else 1, *spec.input_shape))
                    try:
                        y = self.invoke(x, weight, bias, lay, b)
                    except _CallFailed as exc:
                        errors.append(f"{b}/{lay}: {exc}")
                        continue
                    self.layout, self.backend, self.output_shape = lay, b, tuple(y.shape[1:])
                    return True
            return False

        if attempt(self.bias_shape):
            return
        first_error = errors[0]
        alternatives: list[tuple[int, ...] | None] = []
        if spec.bias == "none":
            self.none_bias_as_zeros = True  # a fn that insists on a bias array gets zeros
            alternatives.append(None)
        elif spec.bias == "shared":
            alternatives.append(spec.output_shape)
        else:
            alternatives.append((spec.out_channels,))
        for shape in alternatives:
            if attempt(shape):
                self.bias_shape = shape
                return
        shapes = f"x {('N', *spec.input_shape) if layout != 'CHW' else spec.input_shape}, weight {spec.weight_shape}"
        shapes += f", bias {self.spec.bias_shape if spec.bias != 'none' else None}"
        raise SpecError(f"fn(x, weight, bias) failed when called with {shapes} ({', '.join(backends)}; layout "
                        f"{'/'.join(layouts)}): {first_error}")

    def __call__(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """fn on a batch of canonical inputs, chunked; (k, d_y) float64."""
        d_y = max(1, math.prod(self.output_shape))
        step = max(1, _CHUNK_VALUES // d_y)
        pieces = []
        for start in range(0, x.shape[0], step):
            try:
                y = self.invoke(x[start:start + step], weight, bias, self.layout, self.backend)
            except _CallFailed as exc:
                raise SpecError(f"fn(x, weight, bias) failed during probing: {exc}") from None
            if tuple(y.shape[1:]) != self.output_shape:
                raise SpecError(f"fn returned output shape {tuple(y.shape[1:])} in one call and {self.output_shape} "
                                f"in another; its output shape must not depend on the values")
            pieces.append(y.reshape(y.shape[0], -1))
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0]


# ------------------------------------------------------------------------------------------ symbolic

def _symbol_keys(spec: ConvSpec) -> dict[sympy.Symbol, tuple[int, int]]:
    """Symbol → (kind, flat index): 0 weight, 1 bias, 2 input."""
    table: dict[sympy.Symbol, tuple[int, int]] = {}
    for kind, array in ((0, weight_symbols(spec)), (1, bias_symbols(spec)), (2, input_symbols(spec))):
        for n, s in enumerate(np.array(array.tolist(), dtype=object).reshape(-1).tolist() if array.shape != (0,) else []):
            table[s] = (kind, n)
    return table


@dataclass(frozen=True)
class _Parsed:
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


def _parse_symbolic(spec: ConvSpec, y: np.ndarray) -> _Parsed:
    """An object array of SymPy outputs (C, H', W') as a Form; terms that are not affine per argument or
    whose coefficient is not exactly a float64 are listed apart (see :class:`_Parsed`)."""
    space = KeySpace(spec)
    table = _symbol_keys(spec)
    rows: list[int] = []
    keys: list[int] = []
    coefficients: list[float] = []
    foreign: list[tuple[int, str]] = []
    inexact: list[tuple[int, str]] = []
    exact_terms: dict[int, tuple[sympy.Expr, ...]] = {}
    for row, value in enumerate(y.reshape(-1).tolist()):
        expr = sympy.expand(sympy.sympify(value))
        terms = sympy.Add.make_args(expr)
        for term in terms:
            if term == 0:
                continue
            coefficient, rest = term.as_coeff_Mul()  # the numeric factor, Floats included
            factors = sympy.Mul.make_args(rest) if rest != 1 else ()
            kinds = [table.get(f) for f in factors]
            key: int | None = None
            if not factors:
                key = space.constant
            elif None in kinds:
                key = None
            elif len(kinds) == 1:
                kind, n = kinds[0]  # type: ignore[misc]
                key = int(space.w_only(n) if kind == 0 else space.bias(n) if kind == 1 else space.x_only(n))
            elif len(kinds) == 2 and sorted(k for k, _ in kinds) == [0, 2]:  # type: ignore[misc]
                w = next(n for k, n in kinds if k == 0)  # type: ignore[misc]
                x = next(n for k, n in kinds if k == 2)  # type: ignore[misc]
                key = int(space.bilinear(x, w))
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
    return _Parsed(form, foreign, inexact, exact_terms)


def _run_symbolic(caller: _Caller, layout: str) -> np.ndarray | None:
    """fn's output on symbols as (C, H', W') object array, or None when fn does not compute with symbols."""
    spec = caller.spec
    x = np.array(input_symbols(spec).tolist(), dtype=object)[None]
    w = np.array(weight_symbols(spec).tolist(), dtype=object)
    b = np.array(bias_symbols(spec).tolist(), dtype=object) if spec.bias != "none" else None
    for lay in (["NCHW", "CHW"] if layout == "auto" else [layout]):
        try:
            y = caller.invoke(x, w, b, lay, "numpy", symbolic=True)
        except _CallFailed:
            continue
        entries = y.reshape(-1).tolist()
        if any(isinstance(e, sympy.Basic) and e.free_symbols for e in entries) or not entries:
            caller.layout = lay
            return y[0]
        return None  # fn turned the symbols into numbers: not a symbolic computation
    return None


# ------------------------------------------------------------------------------------------ probing

@dataclass
class _Probe:
    """Probing state: the caller, precision, random source and what the bi-affinity tests found."""

    caller: _Caller
    spec: ConvSpec
    precision: _Precision
    rng: np.random.Generator
    space: KeySpace
    deviation: float = 0.0  # largest |value − nearest integer| among values read as integers
    slack: float = 0.0  # largest |a − b| among pairs that close() accepted as equal although a ≠ b
    constant: np.ndarray | None = None
    x_dense: np.ndarray | None = None  # fn(e_x, 0, 0) − c for every input one-hot, once read
    has_x_terms: bool = False
    has_w_terms: bool = False

    @property
    def d_y(self) -> int:
        return math.prod(self.caller.output_shape)

    def call(self, x: np.ndarray, weight: np.ndarray | None = None, bias: np.ndarray | None = None) -> np.ndarray:
        """fn on integer-valued inputs (x (k, d_x), flat weight, flat bias), read back exactly: (k, d_y)."""
        spec = self.spec
        w = np.zeros(spec.weight_shape) if weight is None else weight.reshape(spec.weight_shape)
        b = None
        if self.caller.bias_shape is not None:
            b = np.zeros(self.caller.bias_shape) if bias is None else bias.reshape(self.caller.bias_shape)
        y = self.caller(x.reshape(-1, *spec.input_shape), w, b)
        return self.read(y)

    def read(self, y: np.ndarray) -> np.ndarray:
        """Values within ``atol`` of an integer become that integer; others stay as they are."""
        nearest = np.rint(y)
        deviation = np.abs(y - nearest)
        close = deviation <= self.precision.atol
        if close.any():
            self.deviation = max(self.deviation, float(deviation[close].max()))
        return np.where(close, nearest, y)

    def close(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a == b within atol + rtol·max(|a|, |b|); records the largest difference so accepted (:attr:`slack`)."""
        gap = np.abs(a - b)
        ok = gap <= self.precision.atol + self.precision.rtol * np.maximum(np.abs(a), np.abs(b))
        accepted = gap[ok & (gap != 0)] if np.ndim(gap) else (gap if ok and gap != 0 else np.empty(0))
        if np.size(accepted):
            self.slack = max(self.slack, float(np.max(accepted)))
        return ok

    def random(self, *shape: int) -> np.ndarray:
        r = self.precision.value_range
        return self.rng.integers(-r, r + 1, size=shape).astype(np.float64)


def _where(probe: _Probe, bad: np.ndarray) -> str:
    row = int(np.flatnonzero(bad.reshape(-1))[0] % probe.d_y)
    index = np.unravel_index(row, probe.caller.output_shape)
    return f"y[{', '.join(str(int(v)) for v in index)}]"


def _biaffinity(probe: _Probe) -> Finding | None:
    """Exact tests on random integers that fn is affine in x, in ω and in b, without b·x or b·ω terms.

    Returns a Finding when a test fails; records the constant and whether x-only / ω-only terms exist.
    """
    space = probe.space
    x1, x2 = probe.random(space.d_x), probe.random(space.d_x)
    w1, w2 = probe.random(space.n_w), probe.random(space.n_w)
    alpha = float(probe.rng.choice([-3, -2, 2, 3]))
    zeros_x = np.zeros(space.d_x)
    xs = np.stack([zeros_x, x1, x2, x1 + x2, alpha * x1])
    at_zero = probe.call(xs)
    at_w1 = probe.call(xs, w1)
    at_w2 = probe.call(xs[:2], w2)
    at_sum = probe.call(xs[:2], w1 + w2)
    at_scaled = probe.call(xs[:2], alpha * w1)

    def fails(lhs: np.ndarray, rhs: np.ndarray, what: str) -> Finding | None:
        bad = ~probe.close(lhs, rhs)
        if not bad.any():
            return None
        scale = np.maximum(np.abs(lhs), np.abs(rhs))[bad].max()
        gap = np.abs(lhs - rhs)[bad].max()
        hint = ""
        if scale and gap / scale < 1e-4:
            hint = (f" — only by rounding (relative {gap / scale:.1e}): fn computes in lower precision than "
                    f"{probe.precision.dtype}; pass dtype='float32' or a larger atol")
        return Finding("not-bilinear", "linearity", f"fn is not {what} (exact test on random integers fails at "
                       f"{_where(probe, bad)}, off by {gap:g}){hint}")

    for ys, name in ((at_zero, "ω = 0"), (at_w1, "a random ω")):
        base = ys[0]
        problem = (fails(ys[3] - base, (ys[1] - base) + (ys[2] - base), f"additive in x at {name}: "
                         "fn(x₁+x₂) ≠ fn(x₁) + fn(x₂) − fn(0)")
                   or fails(ys[4] - base, alpha * (ys[1] - base), f"homogeneous in x at {name}: "
                            f"fn({alpha:g}·x) − fn(0) ≠ {alpha:g}·(fn(x) − fn(0))"))
        if problem:
            return problem
    for s, name in ((0, "x = 0"), (1, "a random x")):
        base = at_zero[s]
        problem = (fails(at_sum[s] - base, (at_w1[s] - base) + (at_w2[s] - base), f"additive in ω at {name}")
                   or fails(at_scaled[s] - base, alpha * (at_w1[s] - base), f"homogeneous in ω at {name}"))
        if problem:
            return problem
    if space.n_b:
        b1, b2 = probe.random(space.n_b), probe.random(space.n_b)
        with_b = probe.call(xs[:2], w1, b1)
        only_b1 = probe.call(xs[:1], None, b1)[0] - at_zero[0]
        only_b2 = probe.call(xs[:1], None, b2)[0] - at_zero[0]
        both = probe.call(xs[:1], None, b1 + b2)[0] - at_zero[0]
        problem = (fails(both, only_b1 + only_b2, "additive in b")
                   or fails(with_b[0] - at_w1[0], only_b1, "affine in b independently of ω (b·ω terms)")
                   or fails(with_b[1] - at_w1[1], only_b1, "affine in b independently of x (b·x terms)"))
        if problem:
            return problem
    probe.constant = at_zero[0]
    probe.has_x_terms = bool(np.any(at_zero[1:] != at_zero[0]))
    probe.has_w_terms = bool(np.any(at_w1[0] != at_zero[0]) or np.any(at_w2[0] != at_zero[0]))
    return None


@dataclass(frozen=True)
class _Tags:
    """Distinct integer tags for n items and how to read an item back from moments Σ a·Tₖ."""

    vectors: np.ndarray  # (K, n): row 0 all ones, then t, t² — or d₀, d₁, d₀², d₁²
    big: bool
    base: int
    inverse: np.ndarray  # code → item

    @classmethod
    def make(cls, n: int, rng: np.random.Generator, big: bool) -> _Tags:
        code = rng.permutation(n)  # item → code in [0, n)
        inverse = np.argsort(code)
        if big:  # t and t² with t = code + 1: ratios m₁/m₀ = t, m₂/m₁ = t for a single term
            t = (code + 1).astype(np.float64)
            return cls(np.stack([np.ones(n), t, t * t]), True, 0, inverse)
        base = max(2, math.isqrt(max(n - 1, 0)) + 1)  # two digits < base; tags d = digit + 1 stay small
        d0, d1 = code % base + 1.0, code // base + 1.0
        return cls(np.stack([np.ones(n), d0, d1, d0 * d0, d1 * d1]), False, base, inverse)

    def decode(self, probe: _Probe, moments: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """From ``moments`` (K−1, rows) = Σ a·Tₖ (k ≥ 1) and ``first`` = Σ a: (single-term mask, item).

        A single term a·T(j) has every ratio Tₖ(j) an integer tag and the squared tags consistent; a sum of
        several terms with coefficients of one sign fails the square test (the mean of squares exceeds the
        square of the mean), and anything else that slips through is caught by the random confirmation.
        """
        nonzero = first != 0
        safe = np.where(nonzero, first, 1.0)
        r1 = np.rint(moments[0] / safe)
        r2 = np.rint(moments[1] / safe)
        ok = nonzero & probe.close(moments[0], r1 * first)
        if self.big:
            ok &= probe.close(moments[1], r1 * r1 * first)
            code = r1 - 1
        else:
            ok &= probe.close(moments[1], r2 * first)
            ok &= probe.close(moments[2], r1 * r1 * first) & probe.close(moments[3], r2 * r2 * first)
            code = (r1 - 1) + self.base * (r2 - 1)
        n = self.inverse.size
        ok &= (code >= 0) & (code < n) & (r1 >= 1) & (r2 >= 1)
        if not self.big:
            ok &= (r1 - 1 < self.base)
        item = np.where(ok, self.inverse[np.clip(code, 0, n - 1).astype(np.int64)], -1)
        return ok, item


def _linear_part(probe: _Probe, apply: Callable[[np.ndarray], np.ndarray], n: int, tags: _Tags | None,
                 encode: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Terms (rows, keys, coefficients) of a linear map v ↦ apply(v) (rows of v are inputs of length n).

    With ``tags``: decode single-term outputs from three tagged probes, one-hot for the rest; without:
    one-hot for all n items.
    """
    if tags is not None:
        y = apply(tags.vectors)
        ok, item = tags.decode(probe, y[1:], y[0])
        if not np.any((y[0] != 0) & ~ok) and not np.any((y[0] == 0) & np.any(y[1:] != 0, axis=0)):
            rows = np.flatnonzero(ok)
            return rows, encode(item[rows]), y[0][rows]
    rows_all, keys_all, coef_all = [], [], []
    step = max(1, _CHUNK_VALUES // max(probe.d_y, 1))
    for start in range(0, n, step):
        count = min(step, n - start)
        eye = np.zeros((count, n))
        eye[np.arange(count), start + np.arange(count)] = 1.0
        y = apply(eye)
        s, o = np.nonzero(y)
        rows_all.append(o)
        keys_all.append(encode(start + s))
        coef_all.append(y[s, o])
    return np.concatenate(rows_all), np.concatenate(keys_all), np.concatenate(coef_all)


def _extract(probe: _Probe, method: str, max_values: int) -> Form:
    """The bi-affine form of fn: constant, x-only, ω-only, bias and product terms."""
    spec, space = probe.spec, probe.space
    d_x, n_w, n_b, d_y = space.d_x, space.n_w, space.n_b, probe.d_y
    if probe.constant is None:
        probe.constant = probe.call(np.zeros((1, d_x)))[0]
    c = probe.constant
    sparse = method == "sparse"
    big = probe.precision.big_tags
    rows: list[np.ndarray] = [np.flatnonzero(c)]
    keys: list[np.ndarray] = [np.full(rows[0].size, space.constant, dtype=np.int64)]
    coefficients: list[np.ndarray] = [c[rows[0]]]

    def add(part: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        rows.append(np.asarray(part[0], dtype=np.int64))
        keys.append(np.asarray(part[1], dtype=np.int64))
        coefficients.append(np.asarray(part[2], dtype=np.float64))

    x_tags = _Tags.make(d_x, probe.rng, big) if sparse else None
    # x alone: fn(x, 0, 0) − c
    x_dense: np.ndarray | None = None
    if sparse:
        z = probe.call(x_tags.vectors) - c  # type: ignore[union-attr]
        if probe.has_x_terms or np.any(z):
            add(_linear_part(probe, lambda v: probe.call(v) - c, d_x, x_tags, space.x_only))
    else:
        x_dense = _x_dense(probe)
        s, o = np.nonzero(x_dense)
        add((o, space.x_only(s), x_dense[s, o]))
    # ω alone: fn(0, ω, 0) − c (the one-hot read gets it from its per-weight calls)
    if sparse and probe.has_w_terms:
        w_tags = _Tags.make(n_w, probe.rng, big)
        add(_linear_part(probe, lambda v: np.stack([probe.call(np.zeros((1, d_x)), row)[0] for row in v]) - c,
                         n_w, w_tags, space.w_only))
    # bias: fn(0, 0, b) − c
    if n_b:
        b_tags = _Tags.make(n_b, probe.rng, big) if sparse else None
        add(_linear_part(probe, lambda v: np.stack([probe.call(np.zeros((1, d_x)), None, row)[0] for row in v]) - c,
                         n_b, b_tags, space.bias))
    # products ω·x
    if sparse:
        add(_products_sparse(probe, x_tags, z))  # type: ignore[arg-type]
    else:
        if n_w * d_x * d_y > max_values:
            raise TooLargeError(f"verify_implementation(method='onehot'): reading every coefficient returns "
                                f"{n_w * d_x * d_y:,} numbers, above max_values={max_values:,}; use method='sparse'")
        for w in range(n_w):
            products, alone = _products_onehot(probe, w)
            add(products)
            add((np.flatnonzero(alone), np.full(np.count_nonzero(alone), space.w_only(w)), alone[alone != 0]))
    return Form.build(spec, probe.caller.output_shape, np.concatenate(rows), np.concatenate(keys), np.concatenate(coefficients))


def _dense(probe: _Probe, apply: Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """apply(e_j) for every one-hot e_j, as an (n, d_y) array."""
    out = np.empty((n, probe.d_y))
    step = max(1, _CHUNK_VALUES // max(probe.d_y, 1))
    for start in range(0, n, step):
        count = min(step, n - start)
        eye = np.zeros((count, n))
        eye[np.arange(count), start + np.arange(count)] = 1.0
        out[start:start + count] = apply(eye)
    return out


def _x_dense(probe: _Probe) -> np.ndarray:
    """fn(e_x, 0, 0) − c for every input one-hot, read once per check."""
    if probe.x_dense is None:
        probe.x_dense = _dense(probe, lambda v: probe.call(v) - probe.constant, probe.space.d_x)
    return probe.x_dense


def _products_onehot(probe: _Probe, w: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Terms ω[w]·x[·] read with every input one-hot (batched): fn(e_x, e_w) − fn(0, e_w) − (fn(e_x, 0) − c).

    Also returns fn(0, e_w) − c, the terms of ω[w] alone.
    """
    space = probe.space
    e_w = np.zeros(space.n_w)
    e_w[w] = 1.0
    base = probe.call(np.zeros((1, space.d_x)), e_w)[0]
    a = _dense(probe, lambda v: probe.call(v, e_w) - base, space.d_x) - _x_dense(probe)
    s, o = np.nonzero(a)
    return (o, space.bilinear(s, w), a[s, o]), base - probe.constant


def _products_sparse(probe: _Probe, x_tags: _Tags, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Terms ω·x decoded group by group: group q holds ω[i, q] for every output channel i, tagged s = i + 1.

    Two calls per group: weights Σ s_i·e_{i,q} with inputs (0, 1, t, t²) [or digit tags], and weights
    Σ e_{i,q} with inputs (0, 1). An output reading one product a·ω·x gives a·s·tᵏ and a: s and t name
    the weight and the input. Groups with other outputs are redone one weight at a time.
    """
    spec, space = probe.spec, probe.space
    per = spec.in_per_group * math.prod(spec.kernel_size)  # type: ignore[arg-type]
    c_out = spec.out_channels
    xs = np.concatenate([np.zeros((1, space.d_x)), x_tags.vectors])  # 0, ones, tag₁, tag₂
    ones = xs[:2]
    weight_tags = np.arange(1, c_out + 1, dtype=np.float64)
    rows, keys, coefficients = [], [], []
    for q in range(per):
        members = np.arange(c_out) * per + q  # flat weight indices ω[i, q]
        tagged = np.zeros(space.n_w)
        tagged[members] = weight_tags
        plain = np.zeros(space.n_w)
        plain[members] = 1.0
        ya = probe.call(xs, tagged)
        yb = probe.call(ones, plain)
        u = ya[1:] - ya[0] - z  # Σ a·s·Tₖ(x), k = 0, 1, 2
        v = yb[1] - yb[0] - z[0]  # Σ a
        nonzero = (v != 0) | np.any(u != 0, axis=0)
        safe = np.where(v != 0, v, 1.0)
        s = np.rint(u[0] / safe)
        ok = (v != 0) & probe.close(u[0], s * v) & (s >= 1) & (s <= c_out)
        ok_x, item = x_tags.decode(probe, u[1:], u[0])
        ok &= ok_x
        if np.any(nonzero & ~ok):
            for w in members.tolist():
                part = _products_one_weight(probe, w, x_tags, xs, z)
                rows.append(part[0])
                keys.append(part[1])
                coefficients.append(part[2])
            continue
        o = np.flatnonzero(ok)
        weight = members[(s[o] - 1).astype(np.int64)]
        rows.append(o)
        keys.append(space.bilinear(item[o], weight))
        coefficients.append(v[o])
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return np.concatenate(rows), np.concatenate(keys), np.concatenate(coefficients)


def _products_one_weight(probe: _Probe, w: int, x_tags: _Tags, xs: np.ndarray,
                         z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Terms ω[w]·x[·] from one tagged call, or one-hot inputs if some output reads several inputs."""
    space = probe.space
    e_w = np.zeros(space.n_w)
    e_w[w] = 1.0
    y = probe.call(xs, e_w)
    u = y[1:] - y[0] - z
    ok, item = x_tags.decode(probe, u[1:], u[0])
    nonzero = np.any(u != 0, axis=0)
    if not np.any(nonzero & ~ok):
        o = np.flatnonzero(ok)
        return o, space.bilinear(item[o], w), u[0][o]
    return _products_onehot(probe, w)[0]


def _confirm(probe: _Probe, form: Form, trials: int) -> Finding | None:
    """fn == form on ``trials`` random integer probes (two inputs each), exactly; a Finding if not."""
    space = probe.space
    for _ in range(trials):
        x = probe.random(2, space.d_x)
        w = probe.random(space.n_w)
        b = probe.random(space.n_b) if space.n_b else None
        found = probe.call(x, w, b)
        want = form.evaluate(x, w, b)
        bad = ~probe.close(found, want)
        if bad.any():
            a, b = float(found[bad][0]), float(want[bad][0])
            relative = abs(a - b) / max(abs(a), abs(b))
            hint = (f" — only by rounding (relative {relative:.1e}), atol={probe.precision.atol:g} being too small for "
                    "fn's non-integer values" if relative < 1e-9 else "")
            return Finding("not-bilinear", "linearity", f"fn disagrees with its own extracted coefficients on random "
                           f"integer inputs at {_where(probe, bad)} (found {a:.17g}, the form gives {b:.17g}): it is "
                           f"not a fixed bi-affine map{hint}")
    return None


# ------------------------------------------------------------------------------------------ entry point

def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SpecError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")


def _mismatches(spec: ConvSpec, expected: Form, found: Form, differing: np.ndarray,
                exact_terms: dict[int, tuple[sympy.Expr, ...]], limit: int) -> tuple[np.ndarray, tuple[Mismatch, ...]]:
    """Rows that differ (those of ``differing`` and every row with an inexact coefficient) and the first ``limit``."""
    rows = np.union1d(differing, np.fromiter(exact_terms, dtype=np.int64, count=len(exact_terms)))
    out = []
    for row in rows[:limit].tolist():
        terms = exact_terms[row] if row in exact_terms else found.terms_of(row)
        out.append(Mismatch(row, output_index(spec, row), expected.terms_of(row), terms))
    return rows, tuple(out)


def verify_implementation(
    fn: Callable[..., Any],
    spec: ConvSpec,
    *,
    layout: str = "auto",
    weight_layout: str = "OIHW",
    backend: str = "auto",
    method: str = "auto",
    dtype: str = "float64",
    pass_params: bool = False,
    atol: float | None = None,
    seed: int = 0,
    max_values: int = MAX_ONEHOT_VALUES,
    max_mismatches: int = 5,
    torch_threads: int | None = 1,
) -> ImplementationVerdict:
    """Check that ``fn(x, weight, bias)`` computes the layer ``spec``; an :class:`ImplementationVerdict`.

    Exact (a proof) when fn runs on SymPy symbols (``method="symbolic"``, the default for small layers);
    sampled, and within ``atol`` if the verdict says so, when fn is probed with numbers (see ``status``).

    ``layout``: x and y as ``"NCHW"`` (a batch first), ``"CHW"`` (one input per call), ``"NHWC"``/``"HWC"``
    (channels last), or ``"auto"`` (tries NCHW, then CHW). ``weight_layout``: ``"OIHW"`` (PyTorch, default)
    or ``"HWIO"``. ``backend``: ``"numpy"`` arrays, ``"torch"`` tensors, or ``"auto"`` (NumPy first, PyTorch if
    fn rejects NumPy). fn gets ``bias=None`` when the spec has no bias. ``pass_params=True`` also passes
    ``stride=, padding=, dilation=, groups=`` (so ``torch.nn.functional.conv2d`` is checked as it is).
    ``method``: ``"symbolic"``, ``"onehot"``, ``"sparse"`` or ``"auto"`` (see the module docstring);
    ``dtype``: ``"float64"`` (exact below 2⁵³) or ``"float32"``; ``atol``: how far a read value may be from an
    integer (default 1e-6 for float64, 1e-2 for float32; 0 makes every comparison exact). ``torch_threads``:
    PyTorch's intra-op threads during the check (restored after; ``None`` leaves them alone) — probes are
    small batches, for which extra threads only add synchronisation, and on a busy machine they cost 10–50×
    in wall time.

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
    >>> verify_implementation(mine, ConvSpec(2, 3, input_size=5, kernel_size=3), method="sparse").status
    'AGREES (sampled, exact values)'
    >>> flipped = lambda x, w, b: mine(x, w[:, :, ::-1, ::-1], b)
    >>> verify_implementation(flipped, ConvSpec(2, 3, input_size=5, kernel_size=3)).codes
    ('flipped-kernel',)
    """
    if torch_threads is not None and not (isinstance(torch_threads, int) and torch_threads >= 1):
        raise SpecError(f"torch_threads must be an int ≥ 1 or None, got {torch_threads!r}")
    torch = sys.modules.get("torch") if torch_threads is not None else None
    previous = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(torch_threads)
        return _verify(fn, spec, layout=layout, weight_layout=weight_layout, backend=backend, method=method, dtype=dtype,
                       pass_params=pass_params, atol=atol, seed=seed, max_values=max_values, max_mismatches=max_mismatches)
    finally:
        if torch is not None:
            torch.set_num_threads(previous)


def _verify(fn: Callable[..., Any], spec: ConvSpec, *, layout: str, weight_layout: str, backend: str, method: str,
            dtype: str, pass_params: bool, atol: float | None, seed: int, max_values: int,
            max_mismatches: int) -> ImplementationVerdict:
    """verify_implementation's pipeline, read top to bottom."""
    start = perf_counter()
    if not isinstance(spec, ConvSpec):
        raise SpecError(f"spec must be a symconv.ConvSpec, got {type(spec).__name__}")
    if not callable(fn):
        raise SpecError(f"fn must be callable as fn(x, weight, bias), got {type(fn).__name__}")
    _check_choice("layout", layout, LAYOUTS)
    _check_choice("weight_layout", weight_layout, WEIGHT_LAYOUTS)
    _check_choice("backend", backend, BACKENDS)
    _check_choice("method", method, IMPLEMENTATION_METHODS)
    _check_choice("dtype", dtype, DTYPES)
    if method == "symbolic" and backend == "torch":
        raise SpecError("method='symbolic' runs fn on NumPy object arrays; it cannot be combined with backend='torch'")
    if atol is not None and not (isinstance(atol, (int, float)) and 0 <= atol < 0.5):
        raise SpecError(f"atol must be a number in [0, 0.5), got {atol!r}")
    precision = _PRECISIONS[dtype]
    if atol is not None:  # atol=0: every comparison an equality (no relative tolerance either)
        precision = dataclasses.replace(precision, atol=float(atol), rtol=precision.rtol if atol else 0.0)
    if spec.n_terms + spec.n_bias_terms > MAX_TERMS:
        raise TooLargeError(f"verify_implementation: the layer has {spec.n_terms + spec.n_bias_terms:,} terms, above "
                            f"the limit of {MAX_TERMS:,} (about 100 bytes each while comparing); check a smaller layer "
                            "with the same stride, padding, dilation and groups")
    check_key_range(spec, "verify_implementation")
    caller = _Caller(fn, spec, weight_layout, dtype, pass_params)
    rng = np.random.default_rng(seed)
    findings: list[Finding] = []
    form: Form | None = None
    exact_terms: dict[int, tuple[sympy.Expr, ...]] = {}  # symbolic rows whose coefficients the Form only approximates
    used = method
    level = ""
    guarantee = ""
    deviation = slack = 0.0  # tolerance used while probing (the symbolic path uses none)

    # 1. symbolic: fn runs on SymPy symbols (only NumPy code can)
    small = spec.n_terms + spec.n_bias_terms <= AUTO_SYMBOLIC_TERMS
    if method == "symbolic" or (method == "auto" and backend != "torch" and small):
        y = _run_symbolic(caller, layout)
        if y is not None:
            parsed = _parse_symbolic(spec, y)
            form, exact_terms = parsed.form, parsed.exact_terms
            caller.output_shape, caller.backend, used, level = tuple(y.shape), "numpy", "symbolic", "exact"
            guarantee = ("exact: fn was run once on SymPy symbols and its expanded outputs compared with the definition "
                         "term by term, coefficients as exact rationals (no sampling, no tolerance; this proves what fn "
                         "computes on symbols — code that branches on the type of its inputs could differ on numbers)")

            def where(row: int) -> str:
                return f"y[{', '.join(str(int(v)) for v in np.unravel_index(row, y.shape))}]"
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
        elif method == "symbolic":
            raise SpecError("method='symbolic' needs a fn that computes with NumPy object arrays of SymPy symbols; "
                            "this one raised or returned numbers — use method='onehot' or 'sparse'")

    # 2. probing: bi-affinity, then coefficients, then confirmation on random integers
    work_spec = spec
    if form is None and not findings:
        caller.resolve(layout, backend)
        if spec.bias != "none" and tuple(caller.bias_shape or ()) != spec.bias_shape:
            # fn only runs with the other bias mode's shape: check it as that layer, and say so
            mode = "per_location" if len(caller.bias_shape or ()) == 3 else "shared"
            findings.append(Finding("bias-per-location" if mode == "per_location" else "bias-shared", "bias",
                                    f"fn only runs with a bias of shape {tuple(caller.bias_shape or ())} ({mode}); "
                                    f"the spec's bias has shape {spec.bias_shape} ({spec.bias})"))
            work_spec = dataclasses.replace(spec, bias=mode)
            caller.spec = work_spec
        probe = _Probe(caller, work_spec, precision, rng, KeySpace(work_spec))
        space = probe.space
        values = space.n_w * space.d_x * probe.d_y
        if method in ("auto", "symbolic"):
            # one-hot costs n_w·d_x inputs: cheap in batches, but one call each for a fn without a batch axis
            batched = caller.layout in ("NCHW", "NHWC")
            cheap = values <= AUTO_ONEHOT_VALUES and (batched or space.n_w * space.d_x <= AUTO_ONEHOT_CALLS)
            used = "onehot" if cheap else "sparse"
        problem = _biaffinity(probe)
        if problem is None:
            form = _extract(probe, used, max_values)
            problem = _confirm(probe, form, precision.trials)
            if problem is not None and used == "sparse" and values <= max_values:
                used = "onehot"  # the decoding was fooled by an unusual fn: read every coefficient
                form = _extract(probe, used, max_values)
                problem = _confirm(probe, form, precision.trials)
        deviation, slack = probe.deviation, probe.slack
        if problem is not None:
            findings.append(problem)
            form = None
            guarantee = "fn is not bi-affine in (x, ω, b), so it computes no convolution layer; no coefficients kept"
        else:
            level = "sampled" if probe.deviation == 0 and probe.slack == 0 else "sampled-atol"
            guarantee = _guarantee(used, precision, probe)

    # 3. compare with the definition; diagnose by testing bug hypotheses against the form
    expected = expected_form(spec)
    mismatch_rows = np.empty(0, dtype=np.int64)
    mismatches: tuple[Mismatch, ...] = ()
    if form is not None:
        if work_spec != spec:
            findings += [f for f in diagnose(work_spec, form) if f.part != "bias"]
        elif tuple(form.output_shape) == spec.output_shape:
            changed = form.differing_rows(expected)
            if changed.size:
                findings += diagnose(spec, form)
            mismatch_rows, mismatches = _mismatches(spec, expected, form, changed, exact_terms, max_mismatches)
        else:
            findings += diagnose(spec, form)
    holds = form is not None and not findings
    output_shape = tuple(caller.output_shape)
    differing = int(mismatch_rows.size) if output_shape == spec.output_shape else math.prod(output_shape or (0,))
    verdict = Verdict(
        holds=holds,
        method=f"implementation/{used}",
        spec=spec,
        order="channel_major",
        terms=len(expected),
        seconds=perf_counter() - start,
        mismatch=mismatches[0] if mismatches else None,
        mismatched_rows=0 if holds else differing,
        source="supplied",
        details={"calls": caller.calls, "samples": caller.samples, "level": level, "proved": holds and level == "exact"},
    )
    notes = ["fn fails with bias=None; it was given a zero bias"] if caller.none_bias_as_zeros else []
    return ImplementationVerdict(
        verdict=verdict,
        method=used,
        diagnosis=tuple(findings),
        mismatches=mismatches,
        output_shape=output_shape,
        calls=caller.calls,
        samples=caller.samples,
        guarantee=guarantee,
        layout=caller.layout,
        backend=caller.backend,
        level=level,
        form=form,
        details={"fn": _name(fn), "dtype": dtype, "atol": precision.atol, "rtol": precision.rtol, "deviation": deviation,
                 "slack": slack, "seed": seed, "notes": notes},
    )


def _guarantee(method: str, precision: _Precision, probe: _Probe) -> str:
    """What a probing check shows, in words: sampled, and whether any tolerance was used."""
    if probe.deviation == 0 and probe.slack == 0:
        read = "exact values: every value read was an integer and every comparison an equality (no tolerance used)"
    else:
        used = ([f"values up to {probe.deviation:.1e} from an integer were read as that integer"] if probe.deviation else [])
        used += [f"values differing by up to {probe.slack:.1e} were taken as equal"] if probe.slack else []
        read = f"within atol={precision.atol:g} (rtol={precision.rtol:g}): {' and '.join(used)}"
    trials, r = precision.trials, precision.value_range
    if method == "onehot":
        return (f"sampled, not a proof: bi-affinity in (x, ω, b) tested on random integer inputs; every coefficient "
                f"then read with one-hot inputs and the form confirmed on {trials} random integer probes "
                f"({precision.dtype}; {read})")
    bound = (2 / (2 * r + 1)) ** trials
    return (f"sampled, not a proof: bi-affinity tested on random integer inputs; coefficients decoded from tagged "
            f"integer probes and confirmed on {trials} random integer probes in [−{r}, {r}] — a fn that is a polynomial "
            f"of degree ≤ 2 with another form passes with probability ≤ {bound:.0e} ({precision.dtype}; {read})")


def _name(fn: Callable) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return f"{module}.{name}" if module else str(name)
