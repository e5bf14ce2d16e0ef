"""Probing fn with numbers: exact integer probes, the bi-affinity tests and the random confirmation.

Probes are integer-valued float64 (or float32) arrays, on which products and sums are exact below 2⁵³; a
value read back is taken as the nearest integer when within ``atol``, and two values are equal within
``atol + rtol·max(|a|, |b|)``. :class:`Probe` records the largest tolerance actually used, so the verdict can
say whether every comparison was an equality. Reading the coefficients themselves is
:mod:`symconv.check.readers`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.spec import ConvSpec
from .caller import Caller
from .finding import Finding
from .form import Form, KeySpace

__all__ = ["CONFIRMATION_EPSILON", "NOT_BIAFFINE", "PRECISIONS", "Precision", "Probe", "biaffinity", "confirm",
           "probing_guarantee", "where"]

#: Probability bound the random confirmation aims for.
CONFIRMATION_EPSILON = 1e-15

#: The verdict's ``guarantee`` when fn failed a bi-affinity test.
NOT_BIAFFINE = "fn is not bi-affine in (x, ω, b), so it computes no convolution layer; no coefficients kept"


@dataclass(frozen=True)
class Precision:
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


PRECISIONS = {
    "float64": Precision("float64", 256, 1e-6, 1e-12, True),
    "float32": Precision("float32", 8, 1e-2, 2e-6, False),
}


@dataclass
class Probe:
    """Probing state: the caller, precision, random source and what the bi-affinity tests found."""

    caller: Caller
    spec: ConvSpec
    precision: Precision
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


def where(probe: Probe, bad: np.ndarray) -> str:
    """The first output flagged in ``bad`` (any batch), as y[i, j, k]."""
    row = int(np.flatnonzero(bad.reshape(-1))[0] % probe.d_y)
    index = np.unravel_index(row, probe.caller.output_shape)
    return f"y[{', '.join(str(int(v)) for v in index)}]"


def _fails(probe: Probe, lhs: np.ndarray, rhs: np.ndarray, what: str) -> Finding | None:
    """A not-bilinear Finding when lhs ≠ rhs somewhere (within the probe's tolerance), naming the first output."""
    bad = ~probe.close(lhs, rhs)
    if not bad.any():
        return None
    scale = np.maximum(np.abs(lhs), np.abs(rhs))[bad].max()
    gap = np.abs(lhs - rhs)[bad].max()
    hint = ""
    relative = gap / scale if scale else 1.0
    if relative < 2.0**-6:  # within a few units of bfloat16's roundoff: rounding, not a different map
        fmt = "float32" if relative < 2.0**-20 else "float16" if relative < 2.0**-9 else "bfloat16"
        hint = (f" — only by rounding (relative {relative:.1e}): fn computes in lower precision than "
                f"{probe.precision.dtype}, probably {fmt}; "
                + ("pass dtype='float32' or a larger atol" if fmt == "float32" else "pass a larger atol"))
    return Finding("not-bilinear", "linearity", f"fn is not {what} (exact test on random integers fails at "
                   f"{where(probe, bad)}, off by {gap:g}){hint}")


def _affine_in_x(probe: Probe, at_zero: np.ndarray, at_w1: np.ndarray, alpha: float) -> Finding | None:
    """fn(x₁+x₂) = fn(x₁) + fn(x₂) − fn(0) and fn(α·x) − fn(0) = α·(fn(x) − fn(0)), at ω = 0 and a random ω."""
    for ys, name in ((at_zero, "ω = 0"), (at_w1, "a random ω")):
        base = ys[0]
        problem = (_fails(probe, ys[3] - base, (ys[1] - base) + (ys[2] - base), f"additive in x at {name}: "
                          "fn(x₁+x₂) ≠ fn(x₁) + fn(x₂) − fn(0)")
                   or _fails(probe, ys[4] - base, alpha * (ys[1] - base), f"homogeneous in x at {name}: "
                             f"fn({alpha:g}·x) − fn(0) ≠ {alpha:g}·(fn(x) − fn(0))"))
        if problem:
            return problem
    return None


def _affine_in_w(probe: Probe, at_zero: np.ndarray, at_w1: np.ndarray, at_w2: np.ndarray, at_sum: np.ndarray,
                 at_scaled: np.ndarray, alpha: float) -> Finding | None:
    """The same two tests in ω, at x = 0 and a random x."""
    for s, name in ((0, "x = 0"), (1, "a random x")):
        base = at_zero[s]
        problem = (_fails(probe, at_sum[s] - base, (at_w1[s] - base) + (at_w2[s] - base), f"additive in ω at {name}")
                   or _fails(probe, at_scaled[s] - base, alpha * (at_w1[s] - base), f"homogeneous in ω at {name}"))
        if problem:
            return problem
    return None


def _affine_in_b(probe: Probe, xs: np.ndarray, w1: np.ndarray, at_zero: np.ndarray, at_w1: np.ndarray) -> Finding | None:
    """fn additive in b, and b's contribution independent of ω and of x (no b·ω or b·x terms)."""
    space = probe.space
    b1, b2 = probe.random(space.n_b), probe.random(space.n_b)
    with_b = probe.call(xs[:2], w1, b1)
    only_b1 = probe.call(xs[:1], None, b1)[0] - at_zero[0]
    only_b2 = probe.call(xs[:1], None, b2)[0] - at_zero[0]
    both = probe.call(xs[:1], None, b1 + b2)[0] - at_zero[0]
    return (_fails(probe, both, only_b1 + only_b2, "additive in b")
            or _fails(probe, with_b[0] - at_w1[0], only_b1, "affine in b independently of ω (b·ω terms)")
            or _fails(probe, with_b[1] - at_w1[1], only_b1, "affine in b independently of x (b·x terms)"))


def biaffinity(probe: Probe) -> Finding | None:
    """Exact tests on random integers that fn is affine in x, in ω and in b, without b·x or b·ω terms.

    Returns a Finding when a test fails; records the constant and whether x-only / ω-only terms exist.
    """
    space = probe.space
    x1, x2 = probe.random(space.d_x), probe.random(space.d_x)
    w1, w2 = probe.random(space.n_w), probe.random(space.n_w)
    alpha = float(probe.rng.choice([-3, -2, 2, 3]))
    xs = np.stack([np.zeros(space.d_x), x1, x2, x1 + x2, alpha * x1])
    at_zero = probe.call(xs)
    at_w1 = probe.call(xs, w1)
    at_w2 = probe.call(xs[:2], w2)
    at_sum = probe.call(xs[:2], w1 + w2)
    at_scaled = probe.call(xs[:2], alpha * w1)
    problem = (_affine_in_x(probe, at_zero, at_w1, alpha)
               or _affine_in_w(probe, at_zero, at_w1, at_w2, at_sum, at_scaled, alpha)
               or (_affine_in_b(probe, xs, w1, at_zero, at_w1) if space.n_b else None))
    if problem:
        return problem
    probe.constant = at_zero[0]
    probe.has_x_terms = bool(np.any(at_zero[1:] != at_zero[0]))
    probe.has_w_terms = bool(np.any(at_w1[0] != at_zero[0]) or np.any(at_w2[0] != at_zero[0]))
    return None


def confirm(probe: Probe, form: Form, trials: int) -> Finding | None:
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
            scaled = _common_factor(form, x, w, b, found, want)
            if scaled is not None:
                return scaled
            got, given = float(found[bad][0]), float(want[bad][0])
            relative = abs(got - given) / max(abs(got), abs(given))
            hint = (f" — only by rounding (relative {relative:.1e}), atol={probe.precision.atol:g} being too small for "
                    "fn's non-integer values" if relative < 1e-9 else "")
            return Finding("not-bilinear", "linearity", f"fn disagrees with its own extracted coefficients on random "
                           f"integer inputs at {where(probe, bad)} (found {got:.17g}, the form gives {given:.17g}): it is "
                           f"not a fixed bi-affine map{hint}")
    return None


def _common_factor(form: Form, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, found: np.ndarray,
                   want: np.ndarray) -> Finding | None:
    """A scaled-products Finding when fn = s·(products) + the rest, or s·(everything), with one s ≠ 1 (e.g. 1 + 10⁻⁷)."""
    products = form.part(0).evaluate(x, w, b)
    for scaled, rest, what in ((products, want - products, "every product ω·x"), (want, 0 * want, "every term")):
        nonzero = np.abs(scaled) > 0
        if not nonzero.any():
            continue
        factors = (found - rest)[nonzero] / scaled[nonzero]
        s = float(np.median(factors))
        if s != 1 and np.all(np.abs(factors - s) <= 1e-9 * abs(s)):
            return Finding("scaled-products", "products", f"{what} scaled by a common factor {s:.17g} "
                           f"(1 {'+' if s > 1 else '−'} {abs(s - 1):.3g}): fn is bilinear, with coefficients ≠ 1")
    return None


def probing_guarantee(method: str, precision: Precision, probe: Probe) -> str:
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
