"""The bugs of a transposed convolution the check can name, each a complete hypothesis evaluated on fn's inputs.

Each hypothesis is the buggy layer itself: the definition's scatter (input q, tap t adds y[c, q]·ω[c, j, t] to
output position q·s − p + t·d, through the one tap map :func:`symconv.core.taps.grid_taps`) with some fields
changed, built as integer triples (:class:`~symconv.forms.transposed.BilinearTerms`) plus a rule for the bias.
It is *evaluated on the very inputs fn was given* — SymPy symbols (then the comparison is an equality of
polynomials: an exact match is a proof that fn computes that buggy layer) or integer probes (every value exact,
so the comparison is an equality; sampled). Why evaluated and not compared as forms: several of these bugs
change the output's shape (the 'full' output, a = 0), and an evaluated hypothesis carries its own shape, so one
comparison serves every backend fn may compute with. A code is named only when *every* output of *every*
sample equals the hypothesis; otherwise nothing is named.

Codes (:data:`CODES`; 0-based positions, per spatial axis n input, k kernel, s stride, p padding, a output
padding, d dilation):

* ``missing-flip`` — the kernel taps reversed (ω flipped on every spatial axis): zero insertion + a direct
  convolution without flipping ω, or a scatter with a flipped ω (the forward check's ``flipped-kernel``).
* ``output-padding-ignored`` — the output cut to a = 0, or computed so and the last a rows zero-filled.
* ``output-padding-wrong-side`` — the a extra rows at the start: output o is full position o + p − a.
* ``padding-not-removed`` — p not cropped: the 'full' output (n − 1)·s + d(k − 1) + 1 (+ a), or its first
  entries cut to the right size.
* ``stride-dilation-swapped`` — s used as the dilation and d as the stride.
* ``no-zero-insertion`` — the stride ignored: a stride-1 transposed convolution (no s − 1 zeros inserted).
* ``weight-layout-swapped`` — ω read as the forward layout (C₂, C₁/g, *k) (``ω.reshape(C₂, C₁/g, …)``):
  output channel o, input c of its group reads ω′[o, c mod C₁/g]; alone or with the taps reversed.
* ``mixed-groups`` — groups > 1 wired wrongly: output groups interleaved, input groups interleaved, or every
  input writing group 0's outputs.
* ``bias-missing`` — no bias added. ``bias-wrong`` — b added once per (input position, tap) landing on the
  output, added twice, broadcast along the last spatial axis, or b[0] for every channel.
* ``output-shape`` — fn's output shape is not (N, C₂, *output) (reported with the formula, alongside any
  hypothesis of that shape that matched).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from ..core.taps import grid_taps
from ..core.transposed import ConvTransposeSpec
from ..forms.transposed import BilinearTerms
from .finding import Finding

__all__ = ["BIAS_RULES", "CHANNELS", "CODES", "TransposedHypothesis", "agrees", "differing_entries", "findings_of",
           "matching_hypotheses",
           "shape_finding", "transposed_hypotheses", "variant_terms"]

CODES: tuple[str, ...] = (
    "missing-flip", "output-padding-ignored", "output-padding-wrong-side", "padding-not-removed",
    "stride-dilation-swapped", "no-zero-insertion", "weight-layout-swapped", "mixed-groups", "bias-missing",
    "bias-wrong", "output-shape",
)
#: channel wiring of a hypothesis: PyTorch's, or the ways groups get mixed up
CHANNELS: tuple[str, ...] = ("grouped", "interleaved-out", "interleaved-in", "first-group")
#: how a hypothesis adds b
BIAS_RULES: tuple[str, ...] = ("add", "none", "per-position", "doubled", "last-axis", "first-channel")


def _output_channels(spec: ConvTransposeSpec, c: np.ndarray, j: np.ndarray, channels: str) -> np.ndarray:
    """Output channel written by input channel c through weight column j, (C₁, C₂/g)."""
    ipg, opg, g = spec.in_per_group, spec.out_per_group, spec.groups
    if channels == "grouped":
        out = (c // ipg) * opg + j
    elif channels == "interleaved-out":
        out = j * g + c // ipg
    elif channels == "interleaved-in":
        out = (c % g) * opg + j
    else:  # "first-group"
        out = j + 0 * c
    return np.asarray(out)


def variant_terms(
    spec: ConvTransposeSpec, *, stride: tuple[int, ...] | None = None, padding: tuple[int, ...] | None = None,
    dilation: tuple[int, ...] | None = None, size: tuple[int, ...] | None = None,
    keep: tuple[tuple[int, int], ...] | None = None, flip: bool = False, channels: str = "grouped",
    forward_weight: bool = False,
) -> BilinearTerms:
    """The scatter of ``spec`` with fields changed, as triples (z flat C-order over (C₂, *size), ω flat, y flat).

    ``keep``: per axis [lo, hi) — output coordinates outside are left at zero; ``flip``: taps reversed;
    ``forward_weight``: ω read as ``ω.reshape(C₂, C₁/g, *k)``. With no change it is the definition:

    >>> from symconv.forms.transposed import transposed_terms
    >>> t = ConvTransposeSpec(2, 4, input_size=(3,), kernel_size=3, stride=2, padding=1, output_padding=1, groups=2)
    >>> np.array_equal(variant_terms(t).canonical(), transposed_terms(t).canonical())
    True
    """
    size = spec.output_size if size is None else size
    flat, valid = grid_taps(spec.input_size, spec.kernel_size, spec.stride if stride is None else stride,
                            spec.padding if padding is None else padding,
                            spec.dilation if dilation is None else dilation, size)
    if keep is not None:
        coords = np.unravel_index(np.where(valid, flat, 0), size)
        for axis, (lo, hi) in enumerate(keep):
            valid &= (coords[axis] >= lo) & (coords[axis] < hi)
    q_idx, t_idx = np.nonzero(valid)
    taps = math.prod(spec.kernel_size)
    t_w = taps - 1 - t_idx if flip else t_idx  # reversing every axis in C-order reverses the flat tap index
    c = np.arange(spec.in_channels)[:, None]
    j = np.arange(spec.out_per_group)[None, :]
    c_out = _output_channels(spec, c, j, channels)
    column = c_out * spec.in_per_group + c % spec.in_per_group if forward_weight else c * spec.out_per_group + j
    weight = column[:, :, None] * taps + t_w[None, None, :]
    out = c_out[:, :, None] * math.prod(size) + flat[q_idx, t_idx][None, None, :]
    y = np.broadcast_to((c * math.prod(spec.input_size))[:, :, None] + q_idx[None, None, :], out.shape)
    return BilinearTerms(out.reshape(-1), weight.reshape(-1), y.reshape(-1), (spec.out_channels, *size))


@dataclass(frozen=True)
class TransposedHypothesis:
    """One buggy transposed layer: its codes, a one-line message, its terms and how it adds b (:data:`BIAS_RULES`)."""

    codes: tuple[str, ...]
    message: str
    terms: BilinearTerms
    bias: str = "add"
    factor: np.ndarray | None = None  # "per-position": b times this at each output position (spatial shape)

    @property
    def shape(self) -> tuple[int, ...]:
        """The per-sample output shape (C₂, *size) of the buggy layer."""
        return self.terms.out_shape

    def evaluate(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        """The buggy layer on a batch x (N, C₁, *input) — numbers or SymPy symbols alike.

        >>> t = ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=2, stride=2)
        >>> flip = next(transposed_hypotheses(t))
        >>> flip.codes, flip.evaluate(np.array([[[1.0, 10.0]]]), np.array([[[1.0, 2.0]]]), np.array([0.5])).tolist()
        (('missing-flip',), [[[2.5, 1.5, 20.5, 10.5]]])
        """
        out = np.stack([self.terms.evaluate(w, sample) for sample in x])
        if b is None or self.bias == "none":
            return out
        b = np.asarray(b)
        ndim = out.ndim - 2
        column = b.reshape(1, -1, *([1] * ndim))
        added = {"add": column, "doubled": column * 2, "first-channel": b[:1].reshape(1, 1, *([1] * ndim)),
                 "last-axis": b.reshape(1, 1, *([1] * (ndim - 1)), -1)}.get(self.bias)
        if self.bias == "per-position":
            added = column * np.asarray(self.factor).reshape(1, 1, *self.shape[1:])
        return out + added


def _hyp(codes: tuple[str, ...] | str, message: str, spec: ConvTransposeSpec, **changes: Any) -> TransposedHypothesis:
    return TransposedHypothesis((codes,) if isinstance(codes, str) else codes, message, variant_terms(spec, **changes))


def _zero_filled(code: str, message: str, spec: ConvTransposeSpec, **changes: Any) -> list[TransposedHypothesis]:
    """A layer computed on part of the output, the rest zero-filled: b added everywhere, or only where computed."""
    hyp = _hyp(code, message, spec, **changes)
    if not spec.bias:
        return [hyp]
    inside = np.zeros(spec.output_size, dtype=np.int64)
    inside[tuple(slice(lo, hi) for lo, hi in changes["keep"])] = 1
    return [hyp, TransposedHypothesis(hyp.codes, message + " (b added only there)", hyp.terms, "per-position", inside)]


def _padding_hypotheses(spec: ConvTransposeSpec) -> Iterator[TransposedHypothesis]:
    """output-padding-ignored, output-padding-wrong-side, padding-not-removed."""
    out, a, p = spec.output_size, spec.output_padding, spec.padding
    if any(a):
        cut = tuple(o - aa for o, aa in zip(out, a))
        early = tuple(pp - aa for pp, aa in zip(p, a))  # output o is full position o + p − a
        text = f"output_padding a = {a} ignored: "
        yield _hyp("output-padding-ignored", text + f"the output cut to a = 0, size {cut}", spec, size=cut)
        yield from _zero_filled("output-padding-ignored", text + f"the last a rows left at zero (computed at a = 0, "
                                f"size {cut})", spec, keep=tuple((0, c) for c in cut))
        yield _hyp("output-padding-wrong-side", f"the output_padding rows a = {a} added at the start instead of the "
                   "end (output o is full position o + p − a)", spec, padding=early)
        yield from _zero_filled("output-padding-wrong-side", f"computed at a = 0 and the output_padding rows a = {a} "
                                "prepended as zeros instead of appended", spec, padding=early,
                                keep=tuple((aa, o) for aa, o in zip(a, out)))
    if any(p):
        zero = (0,) * spec.ndim
        full = tuple(o + 2 * pp for o, pp in zip(out, p))
        yield _hyp("padding-not-removed", f"padding p = {p} not cropped: the full output of size {full} "
                   "((n − 1)·s + d(k − 1) + 1 + a)", spec, padding=zero, size=full)
        if any(a):
            bare = tuple(f - aa for f, aa in zip(full, a))
            yield _hyp("padding-not-removed", f"padding p = {p} not cropped and a ignored: the full output of size "
                       f"{bare} ((n − 1)·s + d(k − 1) + 1)", spec, padding=zero, size=bare)
        yield _hyp("padding-not-removed", f"padding p = {p} not cropped at the start: the first {out} entries of the "
                   "full output", spec, padding=zero)


def _natural(spec: ConvTransposeSpec, stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """The output size a transposed layer with this stride and dilation would have (else spec's fields)."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + a + 1 for n, s, p, d, k, a in
                 zip(spec.input_size, stride, spec.padding, dilation, spec.kernel_size, spec.output_padding))


def _stride_hypotheses(spec: ConvTransposeSpec) -> Iterator[TransposedHypothesis]:
    """stride-dilation-swapped and no-zero-insertion, at the layer's output size and at their own."""
    variants = []
    if spec.stride != spec.dilation:
        variants.append(("stride-dilation-swapped", f"stride s = {spec.stride} and dilation d = {spec.dilation} "
                         "swapped", spec.dilation, spec.stride))
    if any(s > 1 for s in spec.stride):
        variants.append(("no-zero-insertion", f"stride s = {spec.stride} ignored (no s − 1 zeros inserted between "
                         "inputs): a stride-1 transposed convolution", (1,) * spec.ndim, spec.dilation))
    for code, text, stride, dilation in variants:
        yield _hyp(code, text + f", cut or zero-filled to the output size {spec.output_size}", spec,
                   stride=stride, dilation=dilation)
        own = _natural(spec, stride, dilation)
        if own != spec.output_size and min(own) >= 1:
            yield _hyp(code, text + f", at its own output size {own}", spec, stride=stride, dilation=dilation,
                       size=own)


def _weight_hypotheses(spec: ConvTransposeSpec) -> Iterator[TransposedHypothesis]:
    """missing-flip, weight-layout-swapped (alone and with the flip) and mixed-groups."""
    yield _hyp(("missing-flip",), "the kernel taps reversed (ω flipped on every spatial axis; the forward check's "
               "flipped-kernel): a transposed convolution scatters with ω as stored — zero insertion + a direct "
               "convolution must flip ω", spec, flip=True)
    layout = (f"ω read in the forward layout (C₂, C₁/g, *k) = ({spec.out_channels}, {spec.in_per_group}, *k) instead "
              f"of PyTorch's transposed (C₁, C₂/g, *k) = ({spec.in_channels}, {spec.out_per_group}, *k)")
    yield _hyp("weight-layout-swapped", layout, spec, forward_weight=True)
    yield _hyp(("weight-layout-swapped", "missing-flip"), layout + ", and the taps reversed", spec,
               forward_weight=True, flip=True)
    if spec.groups > 1:
        for channels, text in (("interleaved-out", "output channel j·g + G for input group G (groups interleaved)"),
                               ("interleaved-in", "input channel c taken to group c mod g (groups interleaved)"),
                               ("first-group", "every input group writes group 0's output channels")):
            yield _hyp("mixed-groups", f"groups = {spec.groups} mixed up: {text}", spec, channels=channels)


def _bias_hypotheses(spec: ConvTransposeSpec) -> Iterator[TransposedHypothesis]:
    """bias-missing and bias-wrong: the definition's products with b added wrongly."""
    if not spec.bias:
        return
    terms = variant_terms(spec)
    flat, valid = grid_taps(spec.input_size, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
                            spec.output_size)
    count = np.bincount(flat[valid], minlength=math.prod(spec.output_size))
    rules = [("bias-missing", "none", "the bias b is not added"),
             ("bias-wrong", "per-position", "b added once per (input position, tap) landing on an output, not once per output"),
             ("bias-wrong", "doubled", "b added twice")]
    if spec.out_channels > 1:
        rules.append(("bias-wrong", "first-channel", "b[0] added to every output channel"))
        if spec.output_size[-1] == spec.out_channels:
            rules.append(("bias-wrong", "last-axis", "b broadcast along the last spatial axis instead of the channels"))
    for code, rule, text in rules:
        yield TransposedHypothesis((code,), text, terms, rule, count if rule == "per-position" else None)


def transposed_hypotheses(spec: ConvTransposeSpec) -> Iterator[TransposedHypothesis]:
    """Every hypothesis for ``spec`` whose layer differs from the definition, one at a time (see the module docstring).

    Built lazily: only one buggy layer's terms are in memory at once; two descriptions of one layer keep the first.

    >>> t = ConvTransposeSpec(2, 2, input_size=(3,), kernel_size=3, stride=2, padding=1, output_padding=1)
    >>> sorted({h.codes[0] for h in transposed_hypotheses(t)})[:3]
    ['bias-missing', 'bias-wrong', 'missing-flip']
    """
    seen = {_key(TransposedHypothesis((), "", variant_terms(spec)))}  # a bug that is the layer is no bug
    for h in itertools.chain(_weight_hypotheses(spec), _padding_hypotheses(spec), _stride_hypotheses(spec)):
        key = _key(h)
        if key not in seen:
            seen.add(key)
            yield h
    yield from _bias_hypotheses(spec)


def _key(h: TransposedHypothesis) -> tuple[Any, ...]:
    """What makes two hypotheses the same layer: shape, a digest of the sorted triples, the bias rule."""
    digest = hashlib.sha256(h.terms.canonical().tobytes()).hexdigest()
    return h.shape, digest, h.bias, None if h.factor is None else h.factor.tobytes()


def _monomial(term: sympy.Basic) -> bool:
    """A number times a product of symbols (to positive integer powers)."""
    factors = term.args if term.is_Mul else (term,)
    return all(f.is_Symbol or f.is_Number or (f.is_Pow and f.base.is_Symbol and f.exp.is_Integer and f.exp > 0)
               for f in factors)


def _expanded(expr: Any) -> bool:
    """Whether ``expr`` is a number or a SymPy sum of monomials: then its structure is its polynomial."""
    if not isinstance(expr, sympy.Basic):
        return isinstance(expr, (int, float))
    return all(_monomial(t) for t in sympy.Add.make_args(expr))


def _same(u: Any, v: Any) -> bool:
    """u = v exactly: numbers compared as they are, SymPy expressions as polynomials.

    Two expanded polynomials are equal iff SymPy's canonical sums are (like monomials are collected, factors
    sorted), so only expressions that are not sums of monomials pay for an expansion.
    """
    if isinstance(u, sympy.Basic) or isinstance(v, sympy.Basic):
        if u == v:
            return True
        if _expanded(u) and _expanded(v):
            return False
        return sympy.expand(sympy.sympify(u) - sympy.sympify(v)) == 0
    return bool(u == v)


def differing_entries(expected: np.ndarray, found: np.ndarray) -> list[int]:
    """Flat C-order indices where two arrays of one shape differ exactly (numbers, or SymPy polynomials).

    >>> a, b = sympy.symbols("a b")
    >>> differing_entries(np.array([a * (b + 1), a], dtype=object), np.array([a * b + a, 1.0 * a], dtype=object))
    [1]
    """
    return [i for i, (e, f) in enumerate(zip(expected.reshape(-1).tolist(), found.reshape(-1).tolist()))
            if not _same(e, f)]


def agrees(expected: np.ndarray, found: np.ndarray) -> bool:
    """Every entry equal (and the shapes): exact, for numbers and for SymPy expressions.

    >>> agrees(np.array([1.0, 2.0]), np.array([1.0, 2.0])), agrees(np.array([1.0]), np.array([1.0 + 1e-12]))
    (True, False)
    """
    if expected.shape != found.shape:
        return False
    if expected.dtype != object and found.dtype != object:
        return bool(np.array_equal(expected, found))
    return all(_same(e, f) for e, f in zip(expected.reshape(-1).tolist(), found.reshape(-1).tolist()))


def matching_hypotheses(
    hypotheses: Iterable[TransposedHypothesis], runs: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]],
) -> list[TransposedHypothesis]:
    """The hypotheses equal to fn on every run (x, ω, b, fn's output), in the order of ``runs`` (put numbers before
    symbols: a wrong hypothesis is then rejected cheaply): shapes first, then every value exactly.

    >>> t = ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=2, stride=2)
    >>> x, w, b = np.array([[[1.0, 10.0]]]), np.array([[[1.0, 2.0]]]), np.array([0.5])
    >>> [h.codes[0] for h in matching_hypotheses(transposed_hypotheses(t), [(x, w, b, np.array([[[1, 2, 10, 20.]]]))])]
    ['bias-missing']
    """
    return [h for h in hypotheses if all(got.shape == (len(x), *h.shape) for x, _, _, got in runs)
            and all(agrees(h.evaluate(x, w, b), got) for x, w, b, got in runs)]


def findings_of(matches: list[TransposedHypothesis]) -> list[Finding]:
    """One Finding per code of every matching hypothesis, in order, without repeating a (code, message).

    >>> t = ConvTransposeSpec(1, 1, input_size=(2,), kernel_size=2)
    >>> [f.code for f in findings_of([next(transposed_hypotheses(t))])]
    ['missing-flip']
    """
    out: list[Finding] = []
    for h in matches:
        for code in h.codes:
            finding = Finding(code, "bias" if code.startswith("bias") else "terms", h.message)
            if finding not in out:
                out.append(finding)
    return out


def shape_finding(spec: ConvTransposeSpec, found: tuple[int, ...]) -> Finding:
    """``output-shape``: fn's per-sample shape against (C₂, *output) with the formula, per axis.

    >>> shape_finding(ConvTransposeSpec(1, 2, input_size=(3,), kernel_size=3, stride=2), (2, 6)).message.split(": ")[1]
    '(3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7)'
    """
    per_axis = ", ".join(f"({n} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {a} + 1 = {o}" for n, s, p, d, k, a, o in
                         zip(spec.input_size, spec.stride, spec.padding, spec.dilation, spec.kernel_size,
                             spec.output_padding, spec.output_size))
    return Finding("output-shape", "shape", f"fn returned {tuple(found)} per sample, the layer's output is "
                   f"{spec.output_shape} = (C₂, (n − 1)·s − 2p + d(k − 1) + a + 1 per axis: {per_axis})")
