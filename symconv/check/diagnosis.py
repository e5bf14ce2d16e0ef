"""Naming the bug: which complete hypothesis forms equal the implementation's form, part by part.

The implementation's :class:`~symconv.check.form.Form` is split into its parts — products ω·x, bias, terms no
convolution has — and each part is compared with the definition's and with the forms of the known bugs
(:mod:`symconv.check.hypotheses`: a flipped kernel, off-by-one padding, a stride or dilation applied wrongly,
swapped channels, mixed groups, a transposed kernel; for a layer with a padding_mode, x padded with zeros, with
another mode, with NumPy's symmetric mode or with a circular wrap from the wrong end — every other bug is read
through the spec's padding; a bias that is missing, scaled or broadcast along the wrong axis). Two bugs with the same
form on this layer (replicate and np.pad's symmetric with padding 1) are named once, the first, with the other said
in its message. A bug is named only when its whole form matches; nothing is inferred from names in the user's
code. When none matches exactly, the closest hypothesis is reported as not exact, or ``unknown``.

The forms and readers live in :mod:`symconv.check.form` and :mod:`symconv.check.hypotheses`; their names are
importable from here too.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..core.spec import ConvSpec
from .finding import Finding
from .form import Form, KeySpace, coefficient_expr, expected_form
from .hypotheses import (
    MAX_HYPOTHESIS_TERMS,
    Hypothesis,
    Reader,
    axis_words,
    combine,
    reader_form,
    reader_size,
    reordered,
    same_shape_hypotheses,
    shape_hypotheses,
    standard_reader,
)

__all__ = [
    "MAX_HYPOTHESIS_TERMS",
    "Finding",
    "Form",
    "KeySpace",
    "Reader",
    "diagnose",
    "expected_form",
    "reader_form",
    "standard_reader",
]


# ------------------------------------------------------------------------------------------ products

def _scaled_products(products: Form, expected: Form | None) -> list[Finding] | None:
    """When the products sit where the definition's do: [] if their coefficients are 1, else scaled-products."""
    if expected is None or not products.same_terms(expected.part(0)):
        return None
    scale = products.uniform_coefficient()
    if scale == 1.0:
        return []
    text = f"every product ω·x scaled by {coefficient_expr(scale)}" if scale is not None else "products with wrong coefficients"
    return [Finding("scaled-products", "products", text)]


def _single_hypotheses(spec: ConvSpec, found: Form, base: Reader, channels_last: bool) -> list[Hypothesis]:
    """The single bugs worth testing for an implementation whose output shape is ``found``'s."""
    same = same_shape_hypotheses(spec, base, channels_last)
    if tuple(found.output_shape) == spec.output_shape:
        return same
    # a shape bug may come with a same-shape bug (e.g. stride ignored and kernel flipped)
    return shape_hypotheses(spec, found.output_shape) + [
        h for h in same if "offset" not in h.changes and "stride" not in h.changes
    ]


@dataclass
class _Search:
    """Hypothesis forms tested against the products: exact matches, and the closest miss so far."""

    spec: ConvSpec
    base: Reader
    products: Form
    reference: Form | None  # the definition's products (None when the output shape differs)
    seen: list[tuple[Form, Hypothesis]] = field(default_factory=list)
    matches: list[tuple[Hypothesis, float | None]] = field(default_factory=list)
    same: list[tuple[Hypothesis, Hypothesis]] = field(default_factory=list)  # (matched, another bug with its form)
    best: tuple[int, Hypothesis | None] = (-1, None)

    def test(self, hypothesis: Hypothesis) -> None:
        form = reader_form(self.spec, replace(self.base, **hypothesis.changes))
        if form is None or (self.reference is not None and form.same_terms(self.reference)):
            return  # does not apply, or indistinguishable from the correct layer
        earlier = next((h for f, h in self.seen if form.same_terms(f)), None)
        if earlier is not None:  # same form as an earlier hypothesis: named once, the other said in its words
            if any(earlier is m for m, _ in self.matches) and earlier.code != hypothesis.code:
                self.same.append((earlier, hypothesis))
            return
        self.seen.append((form, hypothesis))
        if form.same_terms(self.products):
            self.matches.append((hypothesis, self.products.uniform_coefficient()))
        elif not self.matches and form.output_shape == self.products.output_shape:
            common = form.overlap(self.products)
            if common > self.best[0]:
                self.best = (common, hypothesis)

    def run(self, singles: list[Hypothesis]) -> None:
        """Every single bug; then, if none matched and the layer is small enough, every pair of them."""
        for h in singles:
            self.test(h)
        if self.matches or len(singles) ** 2 * reader_size(self.spec, self.base) > 5e7:
            return
        for a, b in itertools.combinations(singles, 2):
            pair = combine(a, b)
            if pair is not None:
                self.test(pair)
            if self.matches:
                break


def _match_findings(matches: list[tuple[Hypothesis, float | None]],
                    same: tuple[tuple[Hypothesis, Hypothesis], ...] = ()) -> list[Finding]:
    """Findings for hypotheses that matched exactly (a pair of bugs gives one finding each); ``same``: other bugs
    whose forms are identical to a match's on this layer, said in its message (the code named is the first's)."""
    out = []
    for hypothesis, scale in matches:
        suffix = "".join(f"; on this layer identical to {o.code}: {o.text}" for m, o in same if m is hypothesis)
        if scale is None:
            suffix += " (with wrong coefficients)"
        elif scale != 1.0:
            suffix += f" (every product scaled by {coefficient_expr(scale)})"
        if hypothesis.parts:
            a, b = hypothesis.parts
            out.append(Finding(a.code, "products", f"{a.text}{suffix} — together with {b.code}"))
            out.append(Finding(b.code, "products", f"{b.text}{suffix} — together with {a.code}"))
        else:
            out.append(Finding(hypothesis.code, "products", hypothesis.text + suffix))
    return out


def _products_findings(spec: ConvSpec, found: Form, expected: Form | None, channels_last: bool) -> list[Finding]:
    """Which hypothesis forms equal the products part of the implementation, exactly."""
    products = found.part(0)
    scaled = _scaled_products(products, expected)
    if scaled is not None:
        return scaled
    base = standard_reader(spec, found.output_shape)
    singles = _single_hypotheses(spec, found, base, channels_last)
    if reader_size(spec, base) > MAX_HYPOTHESIS_TERMS:
        return [Finding("unknown", "products", "layer too large to build the bug hypotheses", exact=False)]
    search = _Search(spec, base, products, None if expected is None else expected.part(0))
    search.run(singles)
    if search.matches:
        return _match_findings(search.matches, tuple(search.same))
    common, closest = search.best
    if closest is not None and len(products) and common >= len(products) / 2:
        return [Finding(closest.code, "products", f"{closest.text} — agrees on {common} of {len(products)} "
                        f"products ({common / len(products):.0%})", exact=False)]
    return [Finding("unknown", "products", "the products ω·x match none of the known bugs", exact=False)]


# ------------------------------------------------------------------------------------------ bias and extra terms

def _bias_patterns(spec: ConvSpec, shape: tuple[int, ...]) -> list[tuple[str, str, np.ndarray]]:
    """(code, text, bias index per output row; −1 = no bias there) for ways of adding b."""
    grids = np.meshgrid(*map(np.arange, shape), indexing="ij")
    i, spatial = grids[0], grids[1:]
    words = axis_words(spec.ndim)
    out: list[tuple[str, str, np.ndarray]] = []
    if spec.bias == "shared":
        out.append(("expected", "b[i] at every output of channel i", np.where(i < spec.out_channels, i, -1)))
        for a in reversed(range(len(spatial))):
            if shape[1 + a] != spec.out_channels:
                continue
            where = ("along the last axis: the output at position k of it gets b[k] instead of b[i] (a (C₂,) bias added "
                     "to a (C₂, *spatial) array)" if a == len(spatial) - 1 else
                     f"along the {words[a]}: the output at position j of it gets b[j] instead of b[i]")
            if spec.ndim == 2:
                where = ("along the last axis: y[i,j,k] gets b[k] instead of b[i] (a (C₂,) bias added to a (C₂, H', W') "
                         "array)" if a == 1 else "along the rows: y[i,j,k] gets b[j] instead of b[i]")
            out.append(("bias-wrong", f"bias broadcast {where}", spatial[a]))
    elif spec.bias == "per_location":
        out += _per_location_patterns(spec, i, spatial)
    return [(code, text, pattern.reshape(-1)) for code, text, pattern in out]


def _per_location_patterns(spec: ConvSpec, i: np.ndarray, spatial: list[np.ndarray]) -> list[tuple[str, str, np.ndarray]]:
    """The ways of adding a per-location bias b[i, *o]: as expected, shared per channel, or two axes transposed."""
    size = spec.output_size
    inside = i < spec.out_channels
    for a, o in enumerate(spatial):
        inside = inside & (o < size[a])

    def flat(order: list[int]) -> np.ndarray:
        index = i
        for a, b in enumerate(order):
            index = index * size[a] + spatial[b]
        return np.where(inside, index, -1)

    axes = list(range(spec.ndim))
    zeros = "i,0,0" if spec.ndim == 2 else ", ".join(["i"] + ["0"] * spec.ndim)
    out = [("expected", "b[i, *o] at output y[i, *o]" if spec.ndim != 2 else "b[i,j,k] at output y[i,j,k]", flat(axes)),
           ("bias-shared", f"bias shared per channel: every location of channel i gets b[{zeros}], the spec has one bias "
            "per output location", np.where(i < spec.out_channels, i * math.prod(size), -1))]
    words = axis_words(spec.ndim)
    for a, b in itertools.combinations(axes, 2):
        if size[a] == size[b]:
            order = list(axes)
            order[a], order[b] = b, a
            text = ("bias locations transposed: y[i,j,k] gets b[i,k,j]" if spec.ndim == 2 else
                    f"bias locations transposed: the {words[a]} and {words[b]} axes of b exchanged")
            out.append(("bias-wrong", text, flat(order)))
    return out


def _bias_findings(spec: ConvSpec, found: Form) -> list[Finding]:
    """What is wrong with the bias terms, by comparing them with each way of adding b."""
    part = found.part(1)
    space = KeySpace(spec)
    patterns = _bias_patterns(spec, found.output_shape)
    expected = next((p for code, _, p in patterns if code == "expected"), None)
    if spec.bias == "none":
        return [] if not len(part) else [Finding("bias-wrong", "bias", "bias terms found but the spec has none")]
    if not len(part):
        return [Finding("bias-missing", "bias", "bias missing: no output depends on b")]
    for code, text, pattern in patterns:
        rows = np.flatnonzero(pattern >= 0)
        candidate = Form.build(spec, found.output_shape, rows, space.bias(pattern[rows]))
        if not candidate.same_terms(part):
            continue
        scale = part.uniform_coefficient()
        if code == "expected":
            if scale == 1.0:
                return []
            if scale is not None:
                return [Finding("bias-scaled", "bias", f"bias added {coefficient_expr(scale)} times instead of once "
                                "(e.g. inside the loop over input channels or kernel taps)")]
            return [Finding("bias-scaled", "bias", "bias added with varying multiplicity at different outputs")]
        times = "" if scale == 1.0 else f", added {coefficient_expr(scale)} times" if scale is not None else ", unevenly"
        return [Finding(code, "bias", text + times)]
    if expected is not None:
        rows = np.flatnonzero(expected >= 0)
        want = Form.build(spec, found.output_shape, rows, space.bias(expected[rows]))
        missing = len(want) - want.overlap(part)
        return [Finding("bias-wrong", "bias", f"bias terms match no known pattern: {missing} of the {len(want)} "
                        f"expected b terms are missing, {len(part) - part.overlap(want)} others appear", exact=False)]
    return [Finding("bias-wrong", "bias", "bias terms match no known pattern", exact=False)]


def _extra_findings(found: Form) -> list[Finding]:
    """Terms no convolution has: x alone, ω alone, constants."""
    out = []
    for kind, code, text in (
        (2, "extra-input-term", "output depends on x without ω (e.g. a residual connection x added to y)"),
        (3, "extra-weight-term", "output depends on ω without x"),
        (4, "constant-term", "output has a constant term (fn(0, 0, 0) ≠ 0)"),
    ):
        part = found.part(kind)
        if len(part):
            row = int(part.rows[0])
            example = " + ".join(str(t) for t in part.terms_of(row)[:3])
            out.append(Finding(code, "extra-terms", f"{text}; {len(part)} such terms, e.g. y[{row}] ∋ {example}"))
    return out


# ------------------------------------------------------------------------------------------ whole outputs moved

def _row_signatures(form: Form) -> dict[int, bytes]:
    """Each row's terms and coefficients as bytes (equal bytes ⇔ equal polynomials)."""
    starts = np.flatnonzero(np.r_[True, form.rows[1:] != form.rows[:-1]]) if len(form) else np.empty(0, np.int64)
    ends = np.r_[starts[1:], len(form)].astype(np.int64)
    return {
        int(form.rows[a]): form.keys[a:b].tobytes() + form.coefficients[a:b].tobytes()
        for a, b in zip(starts.tolist(), ends.tolist())
    }


def _moved_rows(found: Form, expected: Form) -> dict[int, int] | None:
    """found row → the expected row whose terms it holds, when every output holds another's; None otherwise."""
    want = _row_signatures(expected)
    have = _row_signatures(found)
    if len(want) != len(have) or len(set(want.values())) != len(want):
        return None
    home = {signature: row for row, signature in want.items()}
    moved = {row: home[signature] for row, signature in have.items() if signature in home}
    if len(moved) != len(have) or len(set(moved.values())) != len(moved):
        return None  # some output holds no expected output's value, or two hold the same one
    return moved


def _reshaped_output(spec: ConvSpec, moved: dict[int, int], channels_last: bool) -> Finding | None:
    """The output reshaped where a transpose belongs (between channels-first and channels-last), if that is the move."""
    rows = np.fromiter(moved, dtype=np.int64, count=len(moved))
    targets = np.fromiter(moved.values(), dtype=np.int64, count=len(moved))
    order = "channels-last" if channels_last else "channels-first"
    if not np.array_equal(reordered(spec.out_channels, math.prod(spec.output_size), order, rows), targets):
        return None
    letters = {1: "L'", 2: "H', W'", 3: "D', H', W'"}.get(spec.ndim, "*spatial'")
    first, last = f"(N, C₂, {letters})", f"(N, {letters}, C₂)"
    text = (f"output computed channels-first {first} and reshaped to {last} where a transpose belongs" if channels_last
            else f"output computed channels-last {last} and reshaped to {first} where a transpose belongs")
    return Finding("outputs-permuted", "products", text)


def _permutation_finding(spec: ConvSpec, found: Form, expected: Form, channels_last: bool) -> Finding | None:
    """If every output holds exactly what belongs to another output, say which outputs moved where."""
    moved = _moved_rows(found, expected)
    if moved is None:
        return None
    shape = spec.output_shape
    pairs = [(np.unravel_index(r, shape), np.unravel_index(t, shape)) for r, t in moved.items() if r != t]
    if not pairs:
        return None
    channels = {int(a[0]): int(b[0]) for a, b in pairs}
    if all(a[1:] == b[1:] for a, b in pairs):
        mapping = tuple(channels.get(i, i) for i in range(spec.out_channels))
        return Finding("outputs-permuted", "products", f"output channels in the wrong order: channel i holds channel "
                       f"π(i), π = {mapping}")
    words = axis_words(spec.ndim)
    for p, q in itertools.combinations(range(1, spec.ndim + 1), 2):
        swap = list(range(spec.ndim + 1))
        swap[p], swap[q] = q, p
        if all(all(a[k] == b[swap[k]] for k in range(spec.ndim + 1)) for a, b in pairs):
            text = ("output spatial axes transposed: y[i,j,k] holds y[i,k,j]" if spec.ndim == 2 else
                    f"output axes {words[p - 1]} and {words[q - 1]} transposed: the two axes of y exchanged")
            return Finding("outputs-permuted", "products", text)
    reshaped = _reshaped_output(spec, moved, channels_last)
    if reshaped is not None:
        return reshaped
    (a, b) = pairs[0]
    return Finding("outputs-permuted", "products", f"outputs permuted: {len(pairs)} outputs hold another output's "
                   f"value, e.g. y[{', '.join(map(str, map(int, a)))}] holds y[{', '.join(map(str, map(int, b)))}]")


# ------------------------------------------------------------------------------------------ front door

def _shape_words(ndim: int) -> str:
    return {1: "(C₂, L')", 2: "(C₂, H', W')", 3: "(C₂, D', H', W')"}.get(ndim, "(C₂, *spatial')")


def diagnose(spec: ConvSpec, found: Form, channels_last: bool = False) -> tuple[Finding, ...]:
    """Findings that explain how ``found`` differs from the definition for ``spec`` (empty if it does not).

    ``channels_last``: whether fn was given channels-last arrays (says which reshape bug to look for).

    >>> spec = ConvSpec(1, 1, input_size=4, kernel_size=2, bias="none")
    >>> flipped = reader_form(spec, replace(standard_reader(spec), flip=(True, True)))
    >>> [f.code for f in diagnose(spec, flipped)]
    ['flipped-kernel']
    """
    expected = expected_form(spec)
    findings: list[Finding] = []
    same_shape = tuple(found.output_shape) == spec.output_shape
    if not same_shape:
        findings.append(Finding("output-shape", "shape", f"output shape {tuple(found.output_shape)}, expected "
                                f"{spec.output_shape} {_shape_words(spec.ndim)}"))
    products = _products_findings(spec, found, expected if same_shape else None, channels_last)
    permuted = _permutation_finding(spec, found, expected, channels_last) if same_shape and products else None
    if permuted is not None:
        # whole outputs sit in the wrong place: the simplest account when no hypothesis matched exactly,
        # an equivalent one when one did (transposing y = transposing x and ω)
        if any(not f.exact for f in products):
            return (permuted,)
        return (*products, replace(permuted, message="equivalently: " + permuted.message))
    if not same_shape:
        # the shape is the finding; products, bias and extra terms of a differently shaped output follow from it,
        # unless a complete hypothesis explains the shape (e.g. stride-ignored)
        return (*findings, *(f for f in products if f.exact))
    findings += products
    findings += _bias_findings(spec, found)
    findings += _extra_findings(found)
    return tuple(findings)
