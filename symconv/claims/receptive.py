"""The note's claim about the receptive field: the inputs an output reads are the nonzero columns of its row block of 𝒲.

Checked on the grid of the note's setting and on :func:`~symconv.claims.types.general_specs` (stride, padding, dilation,
groups)."""

from __future__ import annotations

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..forms.direct import direct_terms
from . import note
from . import torch_checks as audit_torch
from .common import (
    Context,
    built_matrix,
    grid_text,
    torch_line,
)
from .types import Claim, Evidence, note_sizes, search

# The note's formulas and its 𝒲 as written are read as ``note.NAME`` when a check runs: one place says what the note
# writes (and a test can change it there).

__all__ = ["receptive_field"]


def _columns(found: set[int]) -> list[int]:
    """Columns of 𝒲 (0-based in symconv) as the note counts them, from 1."""
    return sorted(c + 1 for c in found)


def receptive_field(ctx: Context) -> Claim:
    """The receptive field of output (j, k) = the entries of x not multiplied by 0 in 𝒲_{j,k}x."""

    def supports(spec: ConvSpec, m: sympy.SparseMatrix) -> dict[int, set[int]]:
        by_row: dict[int, set[int]] = {}
        for (r, c), value in m.todok().items():
            if value != 0:
                by_row.setdefault(r // spec.out_channels, set()).add(c)  # seed order: C₂ rows per position
        return by_row

    def check(spec: ConvSpec) -> str | None:
        in_setting = spec in ctx.specs  # the note's setting: its 𝒲 as written and its window exist
        built = supports(spec, built_matrix(spec, "seed"))
        written = supports(spec, note.matrix_as_written(spec)) if in_setting else None
        terms = direct_terms(spec)
        n_weights = int(np.prod(spec.weight_shape))
        valid = np.broadcast_to(terms.valid, terms.keys.shape)
        rows, cols = spec.output_size
        gradients = audit_torch.gradient_supports(spec) if ctx.torch else None
        for p in range(rows * cols):
            j, k = divmod(p, cols)
            from_sum = set((terms.keys[p][valid[p]] // n_weights).tolist())
            from_w = built.get(p, set())
            if from_w != from_sum:
                return (rf"output $({j + 1},{k + 1})$: nonzero columns of $\mathcal{{W}}_{{j,k}}$ {_columns(from_w)}, "
                        f"inputs of the index sum {_columns(from_sum)}")
            if written is not None and written.get(p, set()) != from_sum:
                return (rf"output $({j + 1},{k + 1})$: nonzero columns of the note's $\mathcal{{W}}_{{j,k}}$ "
                        f"{_columns(written.get(p, set()))}, inputs of the index sum {_columns(from_sum)}")
            if in_setting:  # the window the note's formula reads: x_{l, j+m, k+n}
                c1, _, height, width, kh, kw = note_sizes(spec)
                window = {(l * height + j + m) * width + k + n for l in range(c1) for m in range(kh) for n in range(kw)}
                if window != from_w:
                    return (f"output $({j + 1},{k + 1})$: the note's window {_columns(window)}, nonzero columns "
                            f"{_columns(from_w)}")
            gradient = from_w if gradients is None else gradients[p]
            if gradient != from_w:
                return (f"output $({j + 1},{k + 1})$: PyTorch's gradient is nonzero at {_columns(gradient)}, "
                        rf"$\mathcal{{W}}_{{j,k}}$ at {_columns(from_w)}")
        return None

    specs = ctx.specs + ctx.general
    checked, cex = search(check, specs)
    return Claim(
        "receptive-field", "the receptive field from a row block of 𝒲",
        r"\text{the receptive field of the } (j,k) \text{ output are the values of } x \text{ not multiplied by } 0 \text{ in } "
        r"\text{conv}_{j,k}(x) = \mathcal{W}_{j,k} x+ b_{j,k}",
        cex is None,
        Evidence(r"for every output position, compared: nonzero columns of $\mathcal{W}_{j,k}$ (built, and as written), inputs "
                 r"of the index sum, the window $x_{l,j+m,k+n}$, PyTorch's gradient pattern", checked,
                 f"{len(specs)} layers: {grid_text(ctx)}, then {len(ctx.general)} layers with stride, padding, dilation or "
                 "groups", None, cex,
                 torch_line(ctx, r"autograd gradient nonzero pattern of $\sum_i y_{i,j,k}$", checked)),
        precise=r"with $\omega$ symbolic (generic): an input is ‘not multiplied by 0’ when its column of $\mathcal{W}_{j,k}$ "
                "is not identically zero; numeric weights that happen to be 0 can shrink it",
    )

