"""The note's checkable claims, in the note's order: :data:`CLAIMS`, assembled here from the topic modules.

Every claim function takes the audit :class:`~symconv.claims.common.Context` and returns a
:class:`~symconv.claims.types.Claim` whose ``holds`` is the outcome of the computation it runs — SymPy identities for
all sizes, and a walk over a grid of concrete layers (smallest first) comparing the note's formula with the objects
symconv builds (𝒲, b, the index sum) and, when it is installed, with PyTorch. Nothing here knows the expected outcome:
a claim fails only because a computation found a counterexample.

By topic:

* :mod:`symconv.claims.formulation` — the definition: domain and codomain, the index sum, the shapes of ω and b, linearity;
* :mod:`symconv.claims.matrix_form` — conv(x) = 𝒲x + b: sizes, shapes of 𝒲 and its blocks, zero blocks, orders, the
  block construction;
* :mod:`symconv.claims.parameters` — parameter counts and the ‘≪’ comparisons;
* :mod:`symconv.claims.receptive` — the receptive field from a row block of 𝒲.

The note's formulas are written with the size symbols of :mod:`symconv.core.symbols` (C₁, C₂, H, W, h, w) and its
1-based i, j, k, l / 0-based m, n; :mod:`symconv.claims.note` builds its objects and holds its formulas literally.
"""

from __future__ import annotations

from collections.abc import Callable

from .common import Context
from .formulation import bias_shape, conv_codomain, index_sum, is_linear, weight_shape
from .matrix_form import b_jk, b_shape, block_construction, dims, w_shape, wjk_shape, wjkl_shape, x_order, zero_blocks
from .parameters import (
    conv_much_less_than_fc,
    dxdy,
    fc_count,
    kernel_much_less,
    params_factorisation,
    params_per_location,
    params_resolution,
    params_shared,
)
from .receptive import receptive_field
from .types import Claim

__all__ = ["CLAIMS", "Context"]

#: The claims in the order the note makes them.
CLAIMS: tuple[Callable[[Context], Claim], ...] = (
    conv_codomain,
    index_sum,
    weight_shape,
    bias_shape,
    is_linear,
    dims,
    w_shape,
    wjk_shape,
    wjkl_shape,
    b_shape,
    zero_blocks,
    x_order,
    b_jk,
    block_construction,
    params_per_location,
    conv_much_less_than_fc,
    fc_count,
    dxdy,
    kernel_much_less,
    params_shared,
    params_factorisation,
    params_resolution,
    receptive_field,
)
