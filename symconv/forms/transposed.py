"""Transposed convolution in three forms: its definition, 𝒲ᵀy + b, and Dumoulin & Visin's direct form.

Index conventions are :mod:`symconv.core.symbols`'s (0-based, C-order flatten). The transposed layer's input
is called y (shape ``(C₁, *input_size)``, symbols ``y_c,j,k``), its output z (``(C₂, *output_size)``), its
weight ω has PyTorch's ConvTranspose layout ``(C₁, C₂/groups, *kernel)`` — the very symbols ``omega_…`` of the
forward layer :meth:`~symconv.core.transposed.ConvTransposeSpec.forward_spec`, whose weight has that shape.

* **Definition** (:func:`transposed_terms`, :func:`transposed_direct`): PyTorch's scatter form. Input position
  q, tap t sends y[c, q]·ω[c, j, t] to output position tap(q, t) = q·s − p + t·d (the forward tap map, read
  from the other side), channel G·C₂/g + j for c in group G; positions outside the output are dropped.
* **Matrix** (:func:`transposed_matrix`): 𝒲ᵀ of the forward layer, its rows restricted to the forward outputs
  the transposed layer has (all of them unless output_padding ≥ stride).
* **Zero insertion** (:func:`zero_insertion`, :func:`zero_insertion_terms`): the guide's relationships 8–14
  (arXiv:1603.07285, dilated as in PyTorch): stretch y with s − 1 zeros between entries and a = output_padding
  zeros after, pad p′ = d(k − 1) − p zeros on both sides (crop −p′ when p′ < 0), and run a *direct*
  convolution — stride 1, dilation d — with the kernel flipped on every spatial axis and its two channel axes
  swapped per group. The direct convolution is a :class:`~symconv.core.spec.ConvSpec`, and its terms come from
  :func:`symconv.forms.direct.direct_terms` unchanged.

All three are also :class:`BilinearTerms` — integer triples (out, a, b) meaning out += A[a]·B[b] — so that the
index engine compares them as sorted integer arrays and the SymPy engine as expanded polynomials.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import symbol_array, weight_array
from ..core.taps import grid_taps
from ..core.transposed import ConvTransposeSpec
from .built import built_matrix, built_matrix_terms, channel_major_entries
from .direct import direct_terms

__all__ = [
    "BilinearTerms",
    "ZeroInsertion",
    "built_matrix",
    "forward_terms",
    "symbol_product",
    "transposed_bias",
    "transposed_direct",
    "transposed_input",
    "transposed_matrix",
    "transposed_matrix_terms",
    "transposed_terms",
    "zero_insertion",
    "zero_insertion_direct",
    "zero_insertion_terms",
]


# ------------------------------------------------------------------------------------------ bilinear terms

@dataclass(frozen=True)
class BilinearTerms:
    """A bilinear map as integer triples: ``out[out[t]] += A[a[t]] · B[b[t]]`` (flat C-order indices).

    ``evaluate`` works on integer/float arrays (exact below 2⁵³) and on object arrays of SymPy expressions
    alike, so one list of triples is both the numeric and the symbolic form.

    >>> t = BilinearTerms(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([1, 0, 2]), (2,))
    >>> t.evaluate(np.array([2, 3]), np.array([5, 7, 11])).tolist()
    [29, 33]
    """

    out: np.ndarray  # (T,) int64 flat output index
    a: np.ndarray  # (T,) int64 flat index into A (a weight, or x)
    b: np.ndarray  # (T,) int64 flat index into B (an input, or g)
    out_shape: tuple[int, ...]

    def __len__(self) -> int:
        return int(self.out.size)

    def canonical(self) -> np.ndarray:
        """The triples as a sorted (T, 3) int64 array: two bilinear maps are equal iff these are."""
        triples = np.stack([self.out, self.a, self.b], axis=1).astype(np.int64)
        return triples[np.lexsort(triples.T[::-1])]

    def evaluate(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The map at A = ``first``, B = ``second``: an array of ``out_shape`` (object dtype for symbols)."""
        first, second = np.asarray(first), np.asarray(second)
        left, right = first.reshape(-1)[self.a], second.reshape(-1)[self.b]
        size = math.prod(self.out_shape)
        if left.dtype != object and right.dtype != object:
            products = left * right
            result = np.zeros(size, dtype=products.dtype)
            np.add.at(result, self.out, products)
            return result.reshape(self.out_shape)
        # symbols: one sympy.Add per output (a sum built pairwise would re-flatten quadratically)
        products = np.empty(left.size, dtype=object)
        products[:] = [symbol_product(u, v) for u, v in zip(left.tolist(), right.tolist())]
        order = np.argsort(self.out, kind="stable")
        counts = np.bincount(self.out, minlength=size)
        result = np.empty(size, dtype=object)
        chunks = np.split(products[order], np.cumsum(counts)[:-1])
        result[:] = [sympy.Add(*chunk.tolist()) for chunk in chunks]
        return result.reshape(self.out_shape)


def symbol_product(u: object, v: object) -> sympy.Expr:
    """u·v; for two distinct symbols built directly in SymPy's canonical argument order (10× faster than ``u*v``).

    The result is the very object ``u*v`` gives (same args, same hash), so equal products compare equal; a wrong
    order could only make equal products look different, never different ones equal.

    >>> a, b = sympy.symbols("y_0 omega_0")
    >>> symbol_product(a, b) == a * b and symbol_product(a, b).args == (a * b).args
    True
    """
    if isinstance(u, sympy.Symbol) and isinstance(v, sympy.Symbol) and u != v:
        return sympy.Mul._from_args((u, v) if u.compare(v) < 0 else (v, u))
    return sympy.sympify(u) * v


# ------------------------------------------------------------------------------------------ the forms

def forward_terms(spec: ConvSpec) -> BilinearTerms:
    """The forward index sum (without bias) as triples (y flat channel-major, ω flat, x flat), from ``direct_terms``.

    >>> len(forward_terms(ConvSpec(1, 1, input_size=3, kernel_size=2))) == ConvSpec(1, 1, 3, 2).n_terms
    True
    """
    terms = direct_terms(spec)
    n_weights = math.prod(spec.weight_shape)
    positions = terms.positions.size
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    channel = np.arange(spec.out_channels)[None, :, None, None]
    rows = np.broadcast_to(channel * positions + terms.positions[:, None, None, None], terms.keys.shape)
    keys = terms.keys[valid]
    return BilinearTerms(rows[valid], keys % n_weights, keys // n_weights, spec.output_shape)


@lru_cache(maxsize=16)
def transposed_terms(spec: ConvTransposeSpec) -> BilinearTerms:
    """The definition (PyTorch's scatter form) as triples (z flat, ω flat, y flat); see the module docstring.

    >>> t = ConvTransposeSpec(1, 1, input_size=2, kernel_size=2, stride=2)
    >>> len(transposed_terms(t)), transposed_terms(t).out_shape
    (16, (1, 4, 4))
    """
    kernel = spec.kernel_size
    flat, valid = grid_taps(spec.input_size, kernel, spec.stride, spec.padding, spec.dilation, spec.output_size)
    q_idx, t_idx = np.nonzero(valid)  # (input position, tap) pairs that land inside the output
    out_pos = flat[q_idx, t_idx]
    c = np.arange(spec.in_channels)[:, None]  # input channel
    j = np.arange(spec.out_per_group)[None, :]  # output channel within the group
    c_out = (c // spec.in_per_group) * spec.out_per_group + j  # (C₁, C₂/g)
    taps, positions_in, positions_out = math.prod(kernel), math.prod(spec.input_size), math.prod(spec.output_size)
    weight = ((c * spec.out_per_group + j)[:, :, None] * taps + t_idx[None, None, :])
    out = c_out[:, :, None] * positions_out + out_pos[None, None, :]
    y = np.broadcast_to((c * positions_in)[:, :, None] + q_idx[None, None, :], out.shape)
    return BilinearTerms(out.reshape(-1), weight.reshape(-1), y.reshape(-1), spec.output_shape)


def transposed_input(spec: ConvTransposeSpec) -> np.ndarray:
    """y, the transposed layer's input, as an object array of symbols ``y_c,j,k`` of shape ``(C₁, *input_size)``."""
    return symbol_array("y", spec.input_shape)


def transposed_bias(spec: ConvTransposeSpec) -> np.ndarray:
    """The bias of the transposed layer as symbols ``b_i`` (shape (C₂,)); empty without bias."""
    return symbol_array("b", (spec.out_channels,)) if spec.bias else np.empty(0, dtype=object)


def _with_bias(spec: ConvTransposeSpec, out: np.ndarray) -> np.ndarray:
    if not spec.bias:
        return out
    b = transposed_bias(spec).reshape(-1, *([1] * spec.ndim))
    return np.vectorize(sympy.Add, otypes=[object])(out, np.broadcast_to(b, out.shape))


def transposed_direct(spec: ConvTransposeSpec) -> sympy.Array:
    """The definition as a SymPy array (C₂, *output_size): z = scatter of y through ω, + b.

    >>> transposed_direct(ConvTransposeSpec(1, 1, input_size=1, kernel_size=2, bias=False)).tolist()
    [[[omega_0,0,0,0*y_0,0,0, omega_0,0,0,1*y_0,0,0], [omega_0,0,1,0*y_0,0,0, omega_0,0,1,1*y_0,0,0]]]
    """
    out = transposed_terms(spec).evaluate(weight_array(spec.forward_spec()), transposed_input(spec))
    return sympy.ImmutableDenseNDimArray(_with_bias(spec, out).reshape(-1).tolist(), spec.output_shape)


def _kept_rows(spec: ConvTransposeSpec) -> np.ndarray:
    """Rows of the forward 𝒲 (channel-major) that the transposed layer reads, in the C-order of y."""
    forward = spec.forward_spec()
    grid = np.arange(forward.d_y).reshape(forward.output_shape)
    return grid[(slice(None), *(slice(0, n) for n in spec.input_size))].reshape(-1)


def transposed_matrix(spec: ConvTransposeSpec, max_terms: int | None = None) -> sympy.SparseMatrix:
    """𝒲ᵀ (d_out × d_in): the forward layer's 𝒲 transposed, columns = the C-order flatten of y.

    >>> t = ConvTransposeSpec(1, 1, input_size=2, kernel_size=2, stride=2, bias=False)
    >>> transposed_matrix(t).shape
    (16, 4)
    """
    W = built_matrix(spec.forward_spec(), max_terms=max_terms)
    kept = _kept_rows(spec)
    if kept.size != W.rows:
        W = W.extract(kept.tolist(), list(range(W.cols)))
    return W.T


def transposed_matrix_terms(spec: ConvTransposeSpec) -> BilinearTerms:
    """𝒲ᵀ as triples, from the construction's integer keys (no SymPy): (z flat, ω flat, y flat)."""
    forward = spec.forward_spec()
    n_weights = math.prod(forward.weight_shape)
    rows, keys = channel_major_entries(forward, built_matrix_terms(forward))
    y_of_row = np.full(forward.d_y, -1, dtype=np.int64)
    y_of_row[_kept_rows(spec)] = np.arange(spec.d_in)
    keep = y_of_row[rows] >= 0
    return BilinearTerms(keys[keep] // n_weights, keys[keep] % n_weights, y_of_row[rows[keep]], spec.output_shape)


# ------------------------------------------------------------------------------------------ zero insertion

@dataclass(frozen=True)
class ZeroInsertion:
    """Dumoulin & Visin's direct form of a transposed convolution, per spatial axis.

    ``stretched`` = (n − 1)·s + 1 (y with s − 1 zeros between entries), ``remainder`` a = output_padding
    (zeros after), ``padding`` p′ = d(k − 1) − p (zeros on both sides; negative: that many cropped),
    ``direct`` the stride-1 convolution that runs on the stretched, padded/cropped input.
    """

    transposed: ConvTransposeSpec
    stretched: tuple[int, ...]
    remainder: tuple[int, ...]
    padding: tuple[int, ...]
    direct: ConvSpec

    def input_map(self) -> np.ndarray:
        """For every input entry of ``direct`` (C-order): the flat index into y, or −1 for an inserted zero."""
        t = self.transposed
        per_axis: list[np.ndarray] = []
        for n, s, p_prime in zip(t.input_size, t.stride, self.padding, strict=True):
            crop = max(-p_prime, 0)
            size = self.direct.input_size[len(per_axis)]
            q = np.arange(size) + crop  # position in the stretched + a zeros input
            src = np.where((q % s == 0) & (q // s < n), q // s, -1)
            per_axis.append(src)
        grids = np.meshgrid(*per_axis, indexing="ij")
        spatial = np.zeros(grids[0].shape, dtype=np.int64)
        inside = np.ones(grids[0].shape, dtype=bool)
        for grid, n in zip(grids, t.input_size, strict=True):
            inside &= grid >= 0
            spatial = spatial * n + grid
        channel = np.arange(t.in_channels).reshape(-1, *([1] * t.ndim)) * math.prod(t.input_size)
        return np.where(inside[None], channel + spatial[None], -1).reshape(-1)

    def weight_map(self) -> np.ndarray:
        """For every weight entry of ``direct`` (C-order over (C₂, C₁/g, *k)): the flat index into ω (C₁, C₂/g, *k),
        the kernel flipped on every spatial axis and the channel axes swapped within each group."""
        t = self.transposed
        shape = self.direct.weight_shape
        idx = np.indices(shape)
        c_out, c_in_local, taps = idx[0], idx[1], idx[2:]
        group = c_out // t.out_per_group
        c_in = group * t.in_per_group + c_in_local
        j = c_out - group * t.out_per_group
        flat = c_in * t.out_per_group + j
        for axis, k in enumerate(t.kernel_size):
            flat = flat * k + (k - 1 - taps[axis])
        return flat.reshape(-1)


def zero_insertion(spec: ConvTransposeSpec) -> ZeroInsertion:
    """The direct form of ``spec``: stretched sizes, the remainder a, p′ = d(k − 1) − p and the direct ConvSpec.

    >>> z = zero_insertion(ConvTransposeSpec(1, 1, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1))
    >>> z.stretched, z.remainder, z.padding, z.direct.output_size
    ((5, 5), (1, 1), (1, 1), (6, 6))
    """
    stretched = tuple((n - 1) * s + 1 for n, s in zip(spec.input_size, spec.stride))
    p_prime = tuple(d * (k - 1) - p for k, p, d in zip(spec.kernel_size, spec.padding, spec.dilation))
    # ConvSpec pads symmetrically: the a zeros after are part of its input; a negative p′ is a crop of both ends
    size = tuple(n + a - 2 * max(-pp, 0) for n, a, pp in zip(stretched, spec.output_padding, p_prime))
    direct = ConvSpec(
        spec.in_channels, spec.out_channels, input_size=size, kernel_size=spec.kernel_size, stride=1,
        padding=tuple(max(pp, 0) for pp in p_prime), dilation=spec.dilation, groups=spec.groups, bias="none",
    )
    return ZeroInsertion(spec, stretched, spec.output_padding, p_prime, direct)


def zero_insertion_terms(spec: ConvTransposeSpec) -> BilinearTerms:
    """The direct form as triples (z flat, ω flat, y flat): the direct convolution's own index sum, with its
    inputs read through the stretch map (terms on inserted zeros dropped) and its weights through the flip map.

    >>> t = ConvTransposeSpec(2, 2, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1)
    >>> np.array_equal(zero_insertion_terms(t).canonical(), transposed_terms(t).canonical())
    True
    """
    form = zero_insertion(spec)
    terms = forward_terms(form.direct)
    y = form.input_map()[terms.b]
    keep = y >= 0
    return BilinearTerms(terms.out[keep], form.weight_map()[terms.a[keep]], y[keep], spec.output_shape)


def zero_insertion_direct(spec: ConvTransposeSpec) -> sympy.Array:
    """The direct form as a SymPy array (C₂, *output_size), + b: a direct convolution of the stretched y."""
    out = zero_insertion_terms(spec).evaluate(weight_array(spec.forward_spec()), transposed_input(spec))
    return sympy.ImmutableDenseNDimArray(_with_bias(spec, out).reshape(-1).tolist(), spec.output_shape)
