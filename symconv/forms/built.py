"""symconv's own 𝒲, whichever construction fits: the note's block construction in 2-D, the per-axis assembly for
any other ndim. The choice is made here, once, for every caller (the engines, the transposed and padding forms, the
backprop identities).

Keys follow :class:`symconv.forms.assembly.MatrixTerms`: rows (position, channel), position-major (the note's seed
order), ``key = input_flat · n_weights + weight_flat``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ..core.spec import ConvSpec
from .assembly import MatrixParts, MatrixTerms, assembled_matrix, assembly_parts, assembly_terms
from .blocks import block_parts, block_terms, matrix

__all__ = ["built_matrix", "built_matrix_terms", "built_parts_fn", "built_terms_fn", "channel_major_entries"]


def built_terms_fn(spec: ConvSpec) -> Callable[..., MatrixTerms]:
    """The function building 𝒲's terms for ``spec``: :func:`block_terms` in 2-D, :func:`assembly_terms` otherwise."""
    return block_terms if spec.ndim == 2 else assembly_terms


def built_parts_fn(spec: ConvSpec) -> Callable[..., MatrixParts]:
    """The function building 𝒲's parts for ``spec``: :func:`block_parts` in 2-D, :func:`assembly_parts` otherwise."""
    return block_parts if spec.ndim == 2 else assembly_parts


def built_matrix_terms(spec: ConvSpec) -> MatrixTerms:
    """symconv's own 𝒲 of ``spec`` as integer keys."""
    return built_terms_fn(spec)(spec)


def built_matrix(spec: ConvSpec, order: str = "channel_major", max_terms: int | None = None) -> sympy.SparseMatrix:
    """symconv's own 𝒲 of ``spec`` as a SymPy matrix, rows in ``order``.

    >>> built_matrix(ConvSpec(1, 1, input_size=3, kernel_size=2), "seed").shape
    (4, 9)
    """
    if spec.ndim == 2:
        return matrix(spec, order, max_terms=max_terms)
    return assembled_matrix(spec, order, max_terms=max_terms)


def channel_major_entries(spec: ConvSpec, terms: MatrixTerms) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero entries of ``terms`` as (channel-major row = channel·positions + position, key), flat arrays.

    >>> spec = ConvSpec(1, 2, input_size=2, kernel_size=1)
    >>> rows, keys = channel_major_entries(spec, built_matrix_terms(spec))
    >>> rows.tolist(), keys.tolist()
    ([0, 4, 1, 5, 2, 6, 3, 7], [0, 1, 2, 3, 4, 5, 6, 7])
    """
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    positions = int(np.prod(spec.output_size))
    p, i = np.indices(terms.keys.shape[:2])  # construction rows: (position, channel), position-major
    rows = np.broadcast_to((i * positions + p).reshape(*terms.keys.shape[:2], *([1] * (terms.keys.ndim - 2))),
                           terms.keys.shape)
    return rows[valid], terms.keys[valid]
