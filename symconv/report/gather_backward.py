"""What the report on a layer's backprop identities prints, computed once (nothing here knows LaTeX).

For a loss L with upstream gradient g = ∂L/∂y, :func:`symconv.prove.backward.prove_backward` checks at the layer's
sizes, by SymPy differentiation of the index sum, that ∂L/∂x = 𝒲ᵀg = conv_transpose(g) (output_padding the
remainder a = (n + 2p − d(k − 1) − 1) mod s), ∂L/∂ω = the cross-correlation of x with g (stride and dilation
swapped) and ∂L/∂b = Σ g. A 2-D layer with zeros padding, the same before and after, is also an instance of the
all-size prover's backprop theorem (:func:`backward_general`, proved once per process). The worked entries are
read off the closed forms (:func:`~symconv.prove.backward.grad_input_terms`, …) — the tests compare them with
PyTorch's autograd. All indices are 0-based; flat indices C-order.

>>> r = gather_backward(ConvSpec(1, 1, input_size=(4,), kernel_size=2, stride=2))
>>> r.proof.holds, r.transposed.output_padding, r.grad_x.index, len(r.grad_x.products)
(True, (0,), (0, 0), 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import input_array, weight_array
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from ..forms.transposed import BilinearTerms
from ..prove.backward import grad_input_terms, grad_weight_terms, gradient_symbols, prove_backward
from ..prove.transposed import IdentityProof
from .gather import StepProof, general_proof, step_proof

__all__ = ["BACKWARD_CLAIM", "BackwardResults", "WorkedEntry", "backward_general", "backward_theorem", "busiest",
           "gather_backward", "worked_entry"]

#: What the all-size prover proves about backprop, as the report states it.
BACKWARD_CLAIM = sympy.Eq(sympy.Symbol(r"\partial L/\partial x"), sympy.Symbol(r"\symconvW^{\top} g"), evaluate=False)


@dataclass(frozen=True)
class WorkedEntry:
    """One entry of a gradient written out: its 0-based index and the (factor, g) products that add up to it."""

    index: tuple[int, ...]
    products: tuple[tuple[sympy.Symbol, sympy.Symbol], ...]


@dataclass(frozen=True)
class BackwardResults:
    """Everything the backprop report prints.

    ``proof`` is :func:`~symconv.prove.backward.prove_backward` at the layer's sizes; ``transposed`` the ConvTranspose
    that ∂L/∂x is (None when the padding differs before and after: no ConvTranspose has x's size); ``grad_x``,
    ``grad_w`` the worked entries of ∂L/∂x (channel 0) and ∂L/∂ω (ω[0, 0]) at the position with the most products,
    ``grad_b`` the g entries summed into ∂L/∂b₀ (None without bias); ``theorem`` the all-size theorem (None unless
    it applies).
    """

    spec: ConvSpec
    proof: IdentityProof
    transposed: ConvTransposeSpec | None
    grad_x: WorkedEntry
    grad_w: WorkedEntry
    grad_b: tuple[sympy.Symbol, ...] | None
    theorem: StepProof | None


def backward_general(bias: str = "shared") -> Any:
    """The prover's :class:`~symconv.prove.proof.Proof` of conv(x) = 𝒲x + b, conv_transpose and the backprop
    identities for every size of a 2-D layer (rows channel-major; ``bias`` the prover's bias mode), cached per process."""
    return general_proof("channel_major", bias, identities=("backward",))


def backward_theorem(spec: ConvSpec) -> StepProof | None:
    """The all-size backprop theorem when ``spec`` is an instance of it (2-D, zeros padding, the same padding before
    and after every axis), else None.

    >>> backward_theorem(ConvSpec(1, 1, input_size=(5,), kernel_size=3)) is None
    True
    """
    if spec.ndim != 2 or spec.padding_before != spec.padding_after or spec.padding_mode != "zeros":
        return None
    return step_proof(backward_general(spec.bias), BACKWARD_CLAIM)


def worked_entry(terms: BilinearTerms, index: tuple[int, ...], first: np.ndarray, g: np.ndarray) -> WorkedEntry:
    """The products ``first[a]·g[b]`` that the bilinear form ``terms`` adds into its output ``index``, by (a, b).

    >>> s = ConvSpec(1, 1, input_size=(3,), kernel_size=2)
    >>> e = worked_entry(grad_input_terms(s), (0, 1), weight_array(s), gradient_symbols(s))
    >>> e.products
    ((omega_0,0,0, g_0,1), (omega_0,0,1, g_0,0))
    """
    flat = int(np.ravel_multi_index(index, terms.out_shape))
    at = terms.out == flat
    firsts, gs = first.reshape(-1), g.reshape(-1)
    return WorkedEntry(tuple(index), tuple((firsts[a], gs[b]) for a, b in sorted(zip(terms.a[at].tolist(),
                                                                                       terms.b[at].tolist()))))


def busiest(terms: BilinearTerms, first: int) -> tuple[int, ...]:
    """The 0-based index, among the ``first`` flat outputs of ``terms``, that collects the most products (the first
    such): the entry worth writing out (an input at the border of a strided layer may collect none).

    >>> busiest(grad_input_terms(ConvSpec(1, 1, input_size=(5,), kernel_size=3, stride=2)), 5)
    (0, 2)
    """
    counts = np.bincount(terms.out[terms.out < first], minlength=first)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(counts)), terms.out_shape))


def _bias_entries(spec: ConvSpec, g: np.ndarray) -> tuple[sympy.Symbol, ...] | None:
    """The g entries that make up ∂L/∂b₀ (the bias of output channel 0, or of output (0, 0, …) per location)."""
    if spec.bias == "none":
        return None
    if spec.bias == "per_location":
        return (g.reshape(-1)[0],)
    return tuple(g[0].reshape(-1).tolist())


def gather_backward(spec: ConvSpec) -> BackwardResults:
    """Every result of the backprop report on ``spec`` (any ndim, zeros padding): the exact check at its sizes, the
    ConvTranspose of ∂L/∂x, worked entries of ∂L/∂x and ∂L/∂ω, and for 2-D layers the all-size theorem.

    >>> gather_backward(ConvSpec(1, 1, input_size=3, kernel_size=2, padding_mode="circular", padding=1))
    Traceback (most recent call last):
    symconv.errors.SpecError: padding_mode must be 'zeros' for the backprop report, got 'circular'
    """
    if spec.padding_mode != "zeros":
        raise SpecError(f"padding_mode must be 'zeros' for the backprop report, got {spec.padding_mode!r}")
    proof = prove_backward(spec)  # first: it refuses a layer too large to differentiate before anything is built
    g = gradient_symbols(spec)
    dx, dw = grad_input_terms(spec), grad_weight_terms(spec)
    symmetric = spec.padding_before == spec.padding_after
    return BackwardResults(
        spec=spec, proof=proof, transposed=ConvTransposeSpec.of(spec) if symmetric else None,
        grad_x=worked_entry(dx, busiest(dx, math.prod(spec.input_size)), weight_array(spec), g),
        grad_w=worked_entry(dw, busiest(dw, math.prod(spec.kernel_size)), input_array(spec), g),
        grad_b=_bias_entries(spec, g), theorem=backward_theorem(spec),
    )

