"""Padding modes, proved at concrete sizes: 𝒲_mode = 𝒲_valid · P_mode, and the circular convolution theorem.

* :func:`prove_padding_mode` — the definition of the padded layer (taps read x through π, see
  :mod:`symconv.forms.padding`) against 𝒲 of the unpadded layer on the padded size times the 0/1 matrix P.
  ``method="sympy"``: both as SymPy sparse matrices, compared entry by entry (an entry may be a sum of weights:
  reflect and circular can send two taps to one input), and y = 𝒲_valid·P·x + b against the definition's
  polynomials; ``method="index"``: integer triples.
* :func:`prove_circular_theorem` — for circular padding, stride 1 and output size = input size, the DFT
  diagonalises the layer: (I ⊗ F) 𝒲 (I ⊗ F⁻¹) has, for every channel pair (i, l), the diagonal block
  diag(λ_{i,l}) with λ_{i,l}[u] = Σ_t ω[i, l′, t] ∏_axes ζ_n^{−u·(t·d − p)}, F[u, o] = ∏ ζ_n^{u·o} (NumPy's fft),
  ζ_n = e^{−2πi/n}. Proved symbolically: every entry is an element of ℚ(ζ_N)[ω], N = lcm of the axis sizes,
  written as a polynomial in z with ζ_n = z^{N/n} and reduced modulo the cyclotomic polynomial Φ_N(z) — the
  minimal polynomial of ζ_N, which :func:`prove_circular_theorem` also checks with ``sympy.minimal_polynomial``
  on the exact ``exp(−2πi/N)`` — so "= 0 after reduction" is equality of exact complex numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from time import perf_counter

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import bias_array, input_array, weight_array
from ..errors import SpecError
from ..forms.padding import mode_direct, mode_matrix, mode_matrix_terms, mode_terms, padding_operator
from ..forms.transposed import symbol_product
from .transposed import METHODS, Identity, IdentityProof, check_size, compare_arrays, compare_terms

__all__ = ["prove_circular_theorem", "prove_padding_mode"]


def _definition_matrix(spec: ConvSpec, mode: str) -> sympy.SparseMatrix:
    """𝒲_mode read off the definition: entry (y, x) = Σ of the weights whose tap reads x for output y."""
    terms = mode_terms(spec, mode)
    w = weight_array(spec).reshape(-1)
    entries: dict[tuple[int, int], list] = {}
    for o, a, b in zip(terms.out.tolist(), terms.a.tolist(), terms.b.tolist()):
        entries.setdefault((o, b), []).append(w[a])
    return sympy.SparseMatrix(spec.d_y, spec.d_x, {k: sympy.Add(*v) for k, v in entries.items()})


def _bias(spec: ConvSpec) -> np.ndarray:
    out = np.zeros(spec.output_shape, dtype=object)
    if spec.bias == "shared":
        out = np.broadcast_to(bias_array(spec).reshape(-1, *([1] * spec.ndim)), spec.output_shape)
    elif spec.bias == "per_location":
        out = bias_array(spec)
    return out


def prove_padding_mode(spec: ConvSpec, mode: str | None = None, method: str = "sympy") -> IdentityProof:
    """Prove 𝒲_mode = 𝒲_valid · P_mode (and y = 𝒲_valid·P·x + b) for ``spec``'s sizes and padding.

    ``mode`` defaults to ``spec.padding_mode``.

    >>> prove_padding_mode(ConvSpec(2, 2, input_size=4, kernel_size=3, padding=2, dilation=2), "reflect").holds
    True
    >>> prove_padding_mode(ConvSpec(2, 2, input_size=4, kernel_size=3, padding=(1, 3)), "circular").holds
    True
    """
    if method not in METHODS:
        raise SpecError(f"method must be 'sympy' or 'index', got {method!r}")
    mode = padding_operator(spec, mode).mode  # the spec's own mode when None, checked against PyTorch's limits
    check_size(spec, "prove_padding_mode", method)
    identities = []
    if method == "index":
        start = perf_counter()
        identities.append(compare_terms("matrix", f"𝒲_{mode} = 𝒲_valid · P_{mode}", mode_terms(spec, mode),
                                        mode_matrix_terms(spec, mode), start))
    else:
        start = perf_counter()
        lhs, rhs = _definition_matrix(spec, mode), mode_matrix(spec, mode)
        diff = (lhs - rhs).applyfunc(sympy.expand)
        bad = [(r, c) for r, c, v in diff.row_list() if v != 0]
        example = None if not bad else f"entry {bad[0]}: definition {lhs[bad[0]]}, 𝒲_valid·P {rhs[bad[0]]}"
        identities.append(Identity("matrix", f"𝒲_{mode} = 𝒲_valid · P_{mode}", not bad, len(lhs.row_list()) + len(rhs.row_list()),
                                   perf_counter() - start, len(bad), example))
        start = perf_counter()
        x = input_array(spec).reshape(-1)
        y = np.empty(rhs.rows, dtype=object)
        rows: list[list] = [[] for _ in range(rhs.rows)]
        for r, c, v in rhs.row_list():
            rows[r].extend(symbol_product(term, x[c]) for term in sympy.Add.make_args(v))
        y[:] = [sympy.Add(*t) for t in rows]
        found = np.vectorize(sympy.Add, otypes=[object])(y.reshape(spec.output_shape), _bias(spec))
        identities.append(compare_arrays("output", f"conv_{mode}(x) = 𝒲_valid·P·x + b", mode_direct(spec, mode).tolist(),
                                         found, start))
    op = padding_operator(spec, mode)
    return IdentityProof(spec.describe(), method, tuple(identities), {"mode": mode, "padded_size": list(op.padded_size)})


def prove_circular_theorem(spec: ConvSpec) -> IdentityProof:
    """Prove that the DFT diagonalises the circular layer, exactly in ℚ(ζ_N)[ω] (see the module docstring).

    >>> prove_circular_theorem(ConvSpec(1, 2, input_size=(2, 3), kernel_size=(2, 3), padding="same")).holds
    True
    """
    if any(s != 1 for s in spec.stride) or spec.output_size != spec.input_size:
        raise SpecError(
            f"the convolution theorem needs stride 1 and output size = input size on every axis (padding='same' "
            f"or 2p = d(k − 1)), got stride={spec.stride!r}, output_size={spec.output_size!r} for "
            f"input_size={spec.input_size!r}"
        )
    N = math.lcm(*spec.input_size)
    z = sympy.Symbol("z")
    phi = sympy.cyclotomic_poly(N, z)
    identities = (_root_identity(N, z, phi), _diagonal_identity(spec, N, z, phi))
    return IdentityProof(spec.describe(), "sympy-cyclotomic", identities, {"N": N, "phi": str(phi)})


def _root_identity(N: int, z: sympy.Symbol, phi: sympy.Expr) -> Identity:
    """Φ_N is the minimal polynomial of the exact exp(−2πi/N): reducing modulo Φ_N is computing with ζ_N."""
    start = perf_counter()
    zeta = sympy.exp(-2 * sympy.pi * sympy.I / N)
    ok = sympy.Poly(sympy.minimal_polynomial(zeta, z), z) == sympy.Poly(phi, z)
    return Identity("root", f"ζ_{N} = exp(−2πi/{N}) has minimal polynomial Φ_{N}(z)", bool(ok), 1,
                    perf_counter() - start, 0 if ok else 1, None if ok else "minimal polynomial differs")


def _diagonal_identity(spec: ConvSpec, N: int, z: sympy.Symbol, phi: sympy.Expr) -> Identity:
    """(I ⊗ F) 𝒲 (I ⊗ F⁻¹) = diag(λ_{i,l}) block by block, every entry reduced modulo Φ_N."""
    start = perf_counter()
    C = _definition_matrix(spec, "circular")
    positions = np.indices(spec.input_size).reshape(spec.ndim, -1).T  # C-order over the grid
    P = len(positions)
    scale = [N // n for n in spec.input_size]
    # F[u, o] = z^{Σ_axes scale·u·o}; F⁻¹[o, v] = z^{−Σ scale·v·o} / |grid|
    expo = np.zeros((P, P), dtype=np.int64)
    for axis in range(spec.ndim):
        expo += scale[axis] * np.outer(positions[:, axis], positions[:, axis])
    w = weight_array(spec)
    bad, compared, example = 0, 0, None
    for i in range(spec.out_channels):
        group = i // spec.out_per_group
        for l in range(spec.in_channels):
            block = np.zeros((P, P), dtype=object)
            for r, c, v in C[i * P:(i + 1) * P, l * P:(l + 1) * P].row_list():
                block[r, c] = v
            local = l - group * spec.in_per_group
            kernel = w[i, local] if 0 <= local < spec.in_per_group else None
            for u, v_, lhs, rhs in _transformed_block(spec, block, expo, kernel, positions, scale, N, z):
                compared += 1
                if sympy.expand(sympy.rem(sympy.expand(lhs - rhs), phi, z)) != 0:
                    bad += 1
                    if example is None:
                        example = f"block (i={i}, l={l}), entry ({u}, {v_}): (F𝒲F⁻¹) = {lhs}, expected {rhs}"
    return Identity("diagonal", "(I ⊗ F) 𝒲_circular (I ⊗ F⁻¹) = diag(λ_{i,l}), λ = Σ_t ω_t ζ^{−u(t·d − p)}",
                    bad == 0, compared, perf_counter() - start, bad, example)


def _transformed_block(
    spec: ConvSpec, block: np.ndarray, expo: np.ndarray, kernel: np.ndarray | None, positions: np.ndarray,
    scale: list[int], N: int, z: sympy.Symbol,
) -> Iterator[tuple[int, int, sympy.Expr, sympy.Expr]]:
    """(u, v, (F C F⁻¹)[u, v], expected) for one channel block C; expected is λ[u] on the diagonal of a pair in
    the same group (``kernel`` its ω), else 0. Both as polynomials in z, exponents mod N."""
    P = len(positions)
    for u in range(P):
        for v_ in range(P):
            # (F C F⁻¹)[u, v] = (1/P) Σ_{o,c} z^{e(u,o) − e(v,c)} C[o, c], exponents mod N
            coeff: dict[int, list] = {}
            for o in range(P):
                for c in range(P):
                    if block[o, c] != 0:
                        coeff.setdefault(int((expo[u, o] - expo[v_, c]) % N), []).append(block[o, c])
            lhs = sympy.Add(*(sympy.Add(*vals) * z**e for e, vals in coeff.items())) / P
            rhs = sympy.Integer(0)
            if u == v_ and kernel is not None:
                rhs = _eigenvalue(spec, kernel, positions[u], scale, N, z)
            yield u, v_, lhs, rhs


def _eigenvalue(spec: ConvSpec, kernel: np.ndarray, u: np.ndarray, scale: list[int], N: int, z: sympy.Symbol) -> sympy.Expr:
    """λ[u] = Σ_t ω_t ∏_axes ζ_n^{−u·(t·d − p)}, as a polynomial in z (ζ_n = z^{N/n}) with exponents mod N."""
    terms = []
    for t in np.ndindex(*spec.kernel_size):
        e = sum(-scale[a] * int(u[a]) * (t[a] * spec.dilation[a] - spec.padding_before[a]) for a in range(spec.ndim))
        terms.append(kernel[t] * z ** (e % N))
    return sympy.Add(*terms)
