"""Backprop identities of a convolution layer, proved exactly at concrete sizes.

For a loss L with upstream gradient g = ∂L/∂y (symbols ``g_i,j,k`` of y's shape), the chain rule gives
∂L/∂s = Σ_o g_o · ∂y_o/∂s for every parameter or input s. This module differentiates the index sum
``symconv.direct(spec)`` with SymPy (``term.diff(s)`` for every term of every output and every symbol in it — the
derivative of a sum is the sum of the derivatives, and terms without s contribute 0) and compares the result,
output by output, with the closed forms:

* ∂L/∂x = 𝒲ᵀg, which is a **transposed convolution** of g with the same ω, stride, padding and dilation and
  output_padding a = (n + 2p − d(k − 1) − 1) mod s (:meth:`ConvTransposeSpec.of`) — checked against both.
* ∂L/∂ω[i, l′, t] = Σ_o g[i, o] · x[G(i)·C₁/g + l′, t·d − p + o·s] — a **cross-correlation of x with g** per
  group, in which stride and dilation trade places: the kernel tap t walks with step d, the output position o
  with step s (:func:`grad_weight_terms` calls the tap map with exactly those roles).
* ∂L/∂b = Σ of g over the output positions (shared bias), g itself (per-location bias), nothing (no bias).

The closed forms are :class:`~symconv.forms.transposed.BilinearTerms` and :func:`grad_bias`, so the same code
evaluates them on symbols (the proof) and on integers (the PyTorch autograd cross-check in the tests, and
:func:`symconv.check.backward.verify_backward`). Any number of spatial axes; everything is per axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from time import perf_counter

import numpy as np
import sympy

from ..core.budget import MAX_DIRECT_TERMS, check_terms
from ..core.spec import ConvSpec
from ..core.symbols import bias_array, input_array, symbol_array, weight_array
from ..core.taps import grid_taps
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from ..forms.built import built_matrix_terms, channel_major_entries
from ..forms.direct import direct
from ..forms.padding import PaddingOperator, mode_direct, mode_matrix_terms, padding_operator
from ..forms.transposed import BilinearTerms, symbol_product, transposed_terms
from .transposed import IdentityProof, compare_arrays

__all__ = [
    "ENGINES",
    "backward_closed_forms",
    "grad_bias",
    "grad_input_terms",
    "grad_weight_terms",
    "matrix_transpose_terms",
    "gradient_symbols",
    "prove_backward",
]


def gradient_symbols(spec: ConvSpec) -> np.ndarray:
    """g = ∂L/∂y as an object array of symbols ``g_i,j,k`` of shape (C₂, H', W').

    >>> gradient_symbols(ConvSpec(1, 2, input_size=2, kernel_size=2)).reshape(-1).tolist()
    [g_0,0,0, g_1,0,0]
    """
    return symbol_array("g", spec.output_shape)


def grad_input_terms(spec: ConvSpec) -> BilinearTerms:
    """∂L/∂x as a transposed convolution of g: triples (x flat, ω flat, g flat).

    With the same padding before and after every axis it is PyTorch's ConvTranspose (:meth:`ConvTransposeSpec.of`);
    otherwise ('same' with an even kernel, per-side padding) no ConvTranspose has x's size, and it is the same scatter
    written out: g[i, o]·ω[i, l′, t] lands on x position tap(o, t) when that lies inside x (:func:`scatter_terms`).

    >>> s = ConvSpec(1, 1, input_size=4, kernel_size=2, stride=2)
    >>> int(grad_input_terms(s).evaluate(np.ones((1, 1, 2, 2)), np.ones((1, 2, 2))).sum())
    16
    >>> s = ConvSpec(1, 1, input_size=(3,), kernel_size=2, padding="same")
    >>> grad_input_terms(s).evaluate(np.array([[[1, 10]]]), np.array([[1, 2, 3]])).tolist()
    [[1, 12, 23]]
    """
    if spec.padding_before != spec.padding_after:
        return scatter_terms(spec, spec.stride, spec.input_size)
    return transposed_terms(ConvTransposeSpec.of(spec))


def scatter_terms(spec: ConvSpec, stride: tuple[int, ...], size: tuple[int, ...]) -> BilinearTerms:
    """Σ ω·g scattered to tap(o, t) = o·stride − p_before + t·d inside a grid of ``size``: a transposed convolution of g
    with any stride and output size, as triples (x-like flat over (C₁, *size), ω flat, g flat).

    >>> s = ConvSpec(1, 1, input_size=(4,), kernel_size=2, stride=2)
    >>> scatter_terms(s, (1,), (3,)).evaluate(np.array([[[1, 10]]]), np.array([[1, 2]])).tolist()
    [[1, 12, 20]]
    """
    flat, valid = grid_taps(spec.output_size, spec.kernel_size, stride, spec.padding_before, spec.dilation, size)
    o_idx, t_idx = np.nonzero(valid)
    i = np.arange(spec.out_channels)[:, None]
    l_local = np.arange(spec.in_per_group)[None, :]
    l_global = (i // spec.out_per_group) * spec.in_per_group + l_local
    taps, positions, spatial = math.prod(spec.kernel_size), math.prod(spec.output_size), math.prod(size)
    weight = (i * spec.in_per_group + l_local)[:, :, None] * taps + t_idx[None, None, :]
    out = (l_global * spatial)[:, :, None] + flat[o_idx, t_idx][None, None, :]
    g = np.broadcast_to((i * positions)[:, :, None] + o_idx[None, None, :], weight.shape)
    return BilinearTerms(out.reshape(-1), weight.reshape(-1), g.reshape(-1), (spec.in_channels, *size))


def grad_weight_terms(spec: ConvSpec) -> BilinearTerms:
    """∂L/∂ω as the cross-correlation of x with g (stride and dilation swapped): triples (ω flat, x flat, g flat).

    >>> s = ConvSpec(1, 1, input_size=3, kernel_size=2)
    >>> grad_weight_terms(s).evaluate(np.arange(9).reshape(1, 3, 3), np.ones((1, 2, 2), dtype=int)).tolist()
    [[[[8, 12], [20, 24]]]]
    """
    kernel, out_size = spec.kernel_size, spec.output_size
    # output role: kernel tap t (step d); kernel role: output position o (step s); x index t·d − p + o·s
    flat, valid = grid_taps(kernel, out_size, spec.dilation, spec.padding_before, spec.stride, spec.input_size)
    t_idx, o_idx = np.nonzero(valid)
    x_pos = flat[t_idx, o_idx]
    i = np.arange(spec.out_channels)[:, None]
    l_local = np.arange(spec.in_per_group)[None, :]
    l_global = (i // spec.out_per_group) * spec.in_per_group + l_local  # (C₂, C₁/g)
    taps, spatial, positions = math.prod(kernel), math.prod(spec.input_size), math.prod(out_size)
    weight = ((i * spec.in_per_group + l_local)[:, :, None] * taps + t_idx[None, None, :])
    x = (l_global * spatial)[:, :, None] + x_pos[None, None, :]
    g = np.broadcast_to((i * positions)[:, :, None] + o_idx[None, None, :], weight.shape)
    return BilinearTerms(weight.reshape(-1), x.reshape(-1), g.reshape(-1), spec.weight_shape)


def grad_bias(spec: ConvSpec, g: np.ndarray) -> np.ndarray:
    """∂L/∂b from g (C₂, H', W'): Σ over positions (shared), g (per location), empty (none); any dtype.

    >>> grad_bias(ConvSpec(1, 2, input_size=3, kernel_size=2), np.arange(8).reshape(2, 2, 2)).tolist()
    [6, 22]
    """
    g = np.asarray(g)
    if spec.bias == "none":
        return np.empty(0, dtype=g.dtype)
    if spec.bias == "per_location":
        return g
    flat = g.reshape(spec.out_channels, -1)
    if g.dtype != object:
        return flat.sum(axis=1)
    out = np.empty(spec.out_channels, dtype=object)
    out[:] = [sympy.Add(*row.tolist()) for row in flat]
    return out


def backward_closed_forms(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    """(∂L/∂x, ∂L/∂ω, ∂L/∂b) of one sample from the closed forms, on numbers or symbols.

    >>> s = ConvSpec(1, 1, input_size=3, kernel_size=2)
    >>> [a.shape for a in backward_closed_forms(s, np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), np.ones((1, 2, 2)))]
    [(1, 3, 3), (1, 1, 2, 2), (1,)]
    """
    return (grad_input_terms(spec).evaluate(weight, g), grad_weight_terms(spec).evaluate(x, g), grad_bias(spec, g))


#: SymPy's derivatives of the generic product u·v by u and by v (the "rule" engine instantiates them per term)
_U, _V = sympy.symbols("U V")
_PRODUCT_RULE = (sympy.diff(_U * _V, _U), sympy.diff(_U * _V, _V))
ENGINES: tuple[str, ...] = ("diff", "rule")


def _term_derivatives(term: sympy.Expr, engine: str) -> list[tuple[sympy.Symbol, sympy.Expr]]:
    """(s, ∂term/∂s) for every symbol s of ``term``."""
    args = term.args
    if engine == "rule" and isinstance(term, sympy.Mul) and len(args) == 2 and all(a.is_Symbol for a in args):
        u, v = args
        return [(u, _PRODUCT_RULE[0].xreplace({_U: u, _V: v})), (v, _PRODUCT_RULE[1].xreplace({_U: u, _V: v}))]
    return [(s, term.diff(s)) for s in term.free_symbols]


def _differentiate(spec: ConvSpec, g: np.ndarray, engine: str) -> dict[sympy.Symbol, list[sympy.Expr]]:
    """∂L/∂s for L = Σ_o g_o·y_o, y = direct(spec) (its padding mode's index sum): the terms of every derivative, by SymPy.

    ``engine="diff"`` calls ``term.diff(s)`` on every term (≈ 0.3 ms each: SymPy's Derivative machinery);
    ``engine="rule"`` lets SymPy differentiate the generic product u·v once and substitutes each term's two
    symbols into the two derivatives (any term of another shape still goes through ``diff``).
    """
    y = np.asarray((direct(spec) if spec.padding_mode == "zeros" else mode_direct(spec)).tolist(), dtype=object)
    grads: dict[sympy.Symbol, list[sympy.Expr]] = {}
    for g_o, y_o in zip(g.reshape(-1).tolist(), y.reshape(-1).tolist()):
        for term in sympy.Add.make_args(y_o):
            for s, derivative in _term_derivatives(term, engine):
                grads.setdefault(s, []).append(symbol_product(g_o, derivative))
    return grads


def _collect(grads: dict[sympy.Symbol, list[sympy.Expr]], symbols: np.ndarray) -> np.ndarray:
    out = np.empty(symbols.size, dtype=object)
    out[:] = [sympy.Add(*grads.get(s, ())) for s in symbols.reshape(-1).tolist()]
    return out.reshape(symbols.shape)


def matrix_transpose_terms(spec: ConvSpec) -> BilinearTerms:
    """𝒲ᵀ as triples (x flat, ω flat, g flat), read off symconv's construction of 𝒲 (the note's blocks in 2-D, the
    per-axis assembly otherwise: the integer keys its SymPy matrix is built from); g is the C-order flatten of y,
    i.e. 𝒲's channel-major rows. Any padding, symmetric or not.

    >>> len(matrix_transpose_terms(ConvSpec(1, 1, input_size=(3,), kernel_size=2, padding="same")))
    5
    """
    n_weights = math.prod(spec.weight_shape)
    rows, keys = channel_major_entries(spec, built_matrix_terms(spec))  # g's flat index is 𝒲's channel-major row
    return BilinearTerms(keys // n_weights, keys % n_weights, rows, spec.input_shape)


def prove_backward(spec: ConvSpec, engine: str = "rule") -> IdentityProof:
    """Differentiate L = Σ g·direct(spec) with SymPy and compare with 𝒲ᵀg, the transposed convolution of g,
    the cross-correlation of x with g, and Σ g. ``engine``: ``"rule"`` (default) or ``"diff"``, see ``_differentiate``.
    With a padding mode (reflect, replicate, circular) the index sum reads x through the padding map, and the closed
    forms are the unpadded layer's on P x: ∂L/∂x = Pᵀ·conv_transpose(g) = 𝒲_modeᵀg, ∂L/∂ω = xcorr(P x, g).

    >>> prove_backward(ConvSpec(2, 2, input_size=4, kernel_size=3, stride=2, padding=1, groups=2)).holds
    True
    """
    if engine not in ENGINES:
        raise SpecError(f"engine must be 'rule' or 'diff', got {engine!r}")
    check_terms("prove_backward", spec.n_terms + spec.n_bias_terms, MAX_DIRECT_TERMS,
                "the identities are proved by differentiating the SymPy index sum: check a smaller layer (for a 2-D "
                "zero-padded layer, prove_general(identities=('backward',)) covers every size)")
    g = gradient_symbols(spec)
    x, w, b = input_array(spec), weight_array(spec), bias_array(spec)
    start = perf_counter()
    grads = _differentiate(spec, g, engine)
    shared = perf_counter() - start  # differentiation: charged to every identity that reads it
    found = {"x": _collect(grads, x), "w": _collect(grads, w), "b": _collect(grads, b)}
    claims = _zero_claims(spec, x, w, g) if spec.padding_mode == "zeros" else _mode_claims(spec, x, w, g)
    identities = []
    for name, statement, of, expected in claims:
        start = perf_counter() - shared
        identities.append(compare_arrays(name, statement, found[of], expected(), start))
    return IdentityProof(spec.describe(), f"sympy-{engine}", tuple(identities), {"differentiation_seconds": round(shared, 6)})


#: one identity of prove_backward: (name, statement, the symbol the derivative is taken by, its closed form on demand)
Claim = tuple[str, str, str, Callable[[], np.ndarray]]


def _bias_claim(spec: ConvSpec, g: np.ndarray) -> Claim:
    statement = "∂L/∂b = Σ_positions g" if spec.bias != "per_location" else "∂L/∂b = g (per-location bias)"
    return "grad_b", statement, "b", lambda: grad_bias(spec, g)


def _zero_claims(spec: ConvSpec, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> list[Claim]:
    """The closed forms of a zero-padded layer: 𝒲ᵀg, a transposed convolution of g, xcorr(x, g), Σ g."""
    transposed = ("∂L/∂x = conv_transpose(g, ω) (same s, p, d; output_padding = remainder)"
                  if spec.padding_before == spec.padding_after else
                  "∂L/∂x = scatter of g·ω to tap(o, t) inside x (p before ≠ after)")
    return [("grad_x_matrix", "∂L/∂x = 𝒲ᵀg", "x", lambda: matrix_transpose_terms(spec).evaluate(w, g)),
            ("grad_x_transposed", transposed, "x", lambda: grad_input_terms(spec).evaluate(w, g)),
            ("grad_w", "∂L/∂ω = xcorr(x, g) per group (stride ↔ dilation)", "w",
             lambda: grad_weight_terms(spec).evaluate(x, g)),
            _bias_claim(spec, g)]


def fold_padding(op: PaddingOperator, padded: np.ndarray) -> np.ndarray:
    """Pᵀ applied to a gradient on the padded input (C₁, *padded): each padded cell's value added to the cell of x it
    copies (cells the mode fills with nothing are dropped); numbers or SymPy expressions.

    >>> op = padding_operator(ConvSpec(1, 1, input_size=(3,), kernel_size=3, padding=1, padding_mode="circular"))
    >>> fold_padding(op, np.array([[1, 10, 100, 1000, 10000]])).tolist()
    [[10010, 100, 1001]]
    """
    idx, flat = op.index_map(), np.asarray(padded).reshape(-1)
    keep = idx >= 0
    if flat.dtype == object:
        parts: list[list[sympy.Expr]] = [[] for _ in range(op.spec.d_x)]
        for q, value in zip(idx[keep].tolist(), flat[keep].tolist()):
            parts[q].append(value)
        out = np.empty(op.spec.d_x, dtype=object)
        out[:] = [sympy.Add(*p) for p in parts]
    else:
        out = np.zeros(op.spec.d_x, dtype=flat.dtype)
        np.add.at(out, idx[keep], flat[keep])
    return out.reshape(op.spec.input_shape)


def mode_backward_closed_forms(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    """(∂L/∂x, ∂L/∂ω, ∂L/∂b) of a layer with a padding mode: the unpadded layer on P x, so ∂L/∂x = Pᵀ·(its input
    gradient, a transposed convolution of g onto the padded grid) and ∂L/∂ω = xcorr(P x, g); numbers or symbols.

    By hand (replicate pads x = 1 2 3 to 1 1 2 3 3; ω = g = 1 1 1): ∂L/∂(P x) = 1 2 3 2 1 folds to 1+2, 3, 2+1;
    ∂L/∂ω_t = Σ_o (P x)[o + t] = 4, 6, 8.

    >>> s = ConvSpec(1, 1, input_size=(3,), kernel_size=3, padding=1, padding_mode="replicate", bias="none")
    >>> [a.tolist() for a in mode_backward_closed_forms(s, np.array([[1, 2, 3]]), np.array([[[1, 1, 1]]]),
    ...                                                 np.array([[1, 1, 1]]))][:2]
    [[[3, 3, 3]], [[[4, 6, 8]]]]
    """
    op = padding_operator(spec)
    return _mode_grad_x(op, weight, g), _mode_grad_w(op, x, g), grad_bias(spec, g)


def _mode_grad_x(op: PaddingOperator, weight: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Pᵀ·(the unpadded layer's input gradient): a transposed convolution of g onto the padded grid, folded back."""
    return fold_padding(op, grad_input_terms(op.valid_spec).evaluate(weight, g))


def _mode_grad_w(op: PaddingOperator, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """xcorr(P x, g): the unpadded layer's weight gradient on the padded input."""
    return grad_weight_terms(op.valid_spec).evaluate(op.apply(x), g)


def _mode_claims(spec: ConvSpec, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> list[Claim]:
    """The closed forms of a layer with a padding mode: 𝒲_modeᵀg, and the unpadded layer's gradients on P x with
    ∂L/∂x folded back by Pᵀ (as :func:`mode_backward_closed_forms`)."""
    mode, op = spec.padding_mode, padding_operator(spec)

    def matrix() -> np.ndarray:
        m = mode_matrix_terms(spec)
        return BilinearTerms(m.b, m.a, m.out, spec.input_shape).evaluate(w, g)
    return [("grad_x_matrix", f"∂L/∂x = 𝒲_{mode}ᵀg = (𝒲_valid·P)ᵀg", "x", matrix),
            ("grad_x_transposed", f"∂L/∂x = P_{mode}ᵀ·conv_transpose(g, ω) onto the padded grid", "x",
             lambda: _mode_grad_x(op, w, g)),
            ("grad_w", "∂L/∂ω = xcorr(P x, g) per group (stride ↔ dilation)", "w",
             lambda: _mode_grad_w(op, x, g)),
            _bias_claim(spec, g)]
