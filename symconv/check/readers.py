"""Reading the bilinear form back out of fn's outputs: one-hot reads, and tagged probes decoded.

``method="onehot"`` reads every coefficient with one-hot inputs, one call per weight entry batched over all
input one-hots. ``method="sparse"`` decodes coefficients from a few *tagged* integer probes per group of
weights (one weight per output channel in each group): an output that reads a single (ω, x) pair returns
a·s·tᵏ, whose ratios name the weight (tag s) and the input (tag t). Outputs that are not single terms are
re-read one weight at a time, then with one-hot inputs. Either way the result is confirmed afterwards
(:func:`symconv.check.probe.confirm`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import TooLargeError
from .caller import CHUNK_VALUES
from .form import Form
from .probe import Probe

__all__ = ["Tags", "extract"]

#: Terms as (rows, keys, coefficients) arrays, before they become a Form.
Terms = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Tags:
    """Distinct integer tags for n items and how to read an item back from moments Σ a·Tₖ."""

    vectors: np.ndarray  # (K, n): row 0 all ones, then t, t² — or d₀, d₁, d₀², d₁²
    big: bool
    base: int
    inverse: np.ndarray  # code → item

    @classmethod
    def make(cls, n: int, rng: np.random.Generator, big: bool) -> Tags:
        code = rng.permutation(n)  # item → code in [0, n)
        inverse = np.argsort(code)
        if big:  # t and t² with t = code + 1: ratios m₁/m₀ = t, m₂/m₁ = t for a single term
            t = (code + 1).astype(np.float64)
            return cls(np.stack([np.ones(n), t, t * t]), True, 0, inverse)
        base = max(2, math.isqrt(max(n - 1, 0)) + 1)  # two digits < base; tags d = digit + 1 stay small
        d0, d1 = code % base + 1.0, code // base + 1.0
        return cls(np.stack([np.ones(n), d0, d1, d0 * d0, d1 * d1]), False, base, inverse)

    def decode(self, probe: Probe, moments: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _linear_part(probe: Probe, apply: Callable[[np.ndarray], np.ndarray], n: int, tags: Tags | None,
                 encode: Callable[[np.ndarray], np.ndarray]) -> Terms:
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
    step = max(1, CHUNK_VALUES // max(probe.d_y, 1))
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


def _dense(probe: Probe, apply: Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """apply(e_j) for every one-hot e_j, as an (n, d_y) array."""
    out = np.empty((n, probe.d_y))
    step = max(1, CHUNK_VALUES // max(probe.d_y, 1))
    for start in range(0, n, step):
        count = min(step, n - start)
        eye = np.zeros((count, n))
        eye[np.arange(count), start + np.arange(count)] = 1.0
        out[start:start + count] = apply(eye)
    return out


def _x_dense(probe: Probe) -> np.ndarray:
    """fn(e_x, 0, 0) − c for every input one-hot, read once per check."""
    if probe.x_dense is None:
        probe.x_dense = _dense(probe, lambda v: probe.call(v) - probe.constant, probe.space.d_x)
    return probe.x_dense


def _products_onehot(probe: Probe, w: int) -> tuple[Terms, np.ndarray]:
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


def _products_sparse(probe: Probe, x_tags: Tags, z: np.ndarray) -> Terms:
    """Terms ω·x decoded group by group: group q holds ω[i, q] for every output channel i, tagged s = i + 1.

    Two calls per group: weights Σ s_i·e_{i,q} with inputs (0, 1, t, t²) [or digit tags], and weights
    Σ e_{i,q} with inputs (0, 1). An output reading one product a·ω·x gives a·s·tᵏ and a: s and t name
    the weight and the input. Groups with other outputs are redone one weight at a time.
    """
    spec, space = probe.spec, probe.space
    per = spec.in_per_group * math.prod(spec.kernel_size)
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


def _products_one_weight(probe: Probe, w: int, x_tags: Tags, xs: np.ndarray,
                         z: np.ndarray) -> Terms:
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


# ------------------------------------------------------------------------------------------ the whole form

def _zero_x(probe: Probe) -> np.ndarray:
    return np.zeros((1, probe.space.d_x))


def _weight_part(probe: Probe, c: np.ndarray, tags: Tags) -> Terms:
    """Terms of ω alone, fn(0, ω, 0) − c, from tagged weights."""
    space = probe.space
    return _linear_part(probe, lambda v: np.stack([probe.call(_zero_x(probe), row)[0] for row in v]) - c,
                        space.n_w, tags, space.w_only)


def _bias_part(probe: Probe, c: np.ndarray, tags: Tags | None) -> list[Terms]:
    """Terms of b, fn(0, 0, b) − c: tagged with ``tags``, one-hot without; none when the layer has no bias."""
    space = probe.space
    if not space.n_b:
        return []
    return [_linear_part(probe, lambda v: np.stack([probe.call(_zero_x(probe), None, row)[0] for row in v]) - c,
                         space.n_b, tags, space.bias)]


def _sparse_parts(probe: Probe, c: np.ndarray) -> list[Terms]:
    """x alone, ω alone, bias and products, decoded from tagged probes (tags drawn in that order)."""
    space, big = probe.space, probe.precision.big_tags
    x_tags = Tags.make(space.d_x, probe.rng, big)
    parts: list[Terms] = []
    # x alone: fn(x, 0, 0) − c
    z = probe.call(x_tags.vectors) - c
    if probe.has_x_terms or np.any(z):
        parts.append(_linear_part(probe, lambda v: probe.call(v) - c, space.d_x, x_tags, space.x_only))
    if probe.has_w_terms:
        parts.append(_weight_part(probe, c, Tags.make(space.n_w, probe.rng, big)))
    parts += _bias_part(probe, c, Tags.make(space.n_b, probe.rng, big) if space.n_b else None)
    parts.append(_products_sparse(probe, x_tags, z))
    return parts


def _onehot_parts(probe: Probe, c: np.ndarray, max_values: int) -> list[Terms]:
    """x alone, bias, and per weight its products and its terms alone, read with one-hot inputs."""
    space, d_y = probe.space, probe.d_y
    x_dense = _x_dense(probe)
    s, o = np.nonzero(x_dense)
    parts: list[Terms] = [(o, space.x_only(s), x_dense[s, o])]
    parts += _bias_part(probe, c, None)
    if space.n_w * space.d_x * d_y > max_values:
        raise TooLargeError(f"verify_implementation(method='onehot'): reading every coefficient returns "
                            f"{space.n_w * space.d_x * d_y:,} numbers, above max_values={max_values:,}; use method='sparse'")
    for w in range(space.n_w):
        products, alone = _products_onehot(probe, w)
        parts.append(products)
        parts.append((np.flatnonzero(alone), np.full(np.count_nonzero(alone), space.w_only(w)), alone[alone != 0]))
    return parts


def extract(probe: Probe, method: str, max_values: int) -> Form:
    """The bi-affine form of fn: constant, x-only, ω-only, bias and product terms (``method`` onehot or sparse)."""
    space = probe.space
    if probe.constant is None:
        probe.constant = probe.call(_zero_x(probe))[0]
    c = probe.constant
    constant_rows = np.flatnonzero(c)
    parts: list[Terms] = [(constant_rows, np.full(constant_rows.size, space.constant, dtype=np.int64), c[constant_rows])]
    parts += _sparse_parts(probe, c) if method == "sparse" else _onehot_parts(probe, c, max_values)
    rows = np.concatenate([np.asarray(p[0], dtype=np.int64) for p in parts])
    keys = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    coefficients = np.concatenate([np.asarray(p[2], dtype=np.float64) for p in parts])
    return Form.build(probe.spec, probe.caller.output_shape, rows, keys, coefficients)
