"""Names the all-size proof accepts, without importing it: ``symconv prove`` builds its argument parser from these
(``--help`` and argument errors answer before SymPy, NumPy or Z3 load).

:mod:`symconv.prove.construction` checks at import that its table of constructions has exactly these names.

>>> CONSTRUCTION_NAMES[0], BIAS_MODES
('blocks', ('shared', 'per_location', 'none'))
"""

from __future__ import annotations

__all__ = ["ADJOINT_NAMES", "BIAS_MODES", "CONSTRUCTION_NAMES", "ENTRY_NAMES", "IDENTITIES"]

#: symconv's block construction first, then the note's literal kernel row and the negative controls
CONSTRUCTION_NAMES: tuple[str, ...] = (
    "blocks", "note_row_index", "off_by_one_output", "swapped_flatten", "wrong_zero_block", "stride_not_applied",
    "dilation_wrong_side",
)
#: the bias modes of a layer (as :class:`symconv.core.spec.ConvSpec` names them)
BIAS_MODES: tuple[str, ...] = ("shared", "per_location", "none")
#: the index names a claimed entry formula may use first (the full table is ``ENTRY_SYMBOLS``)
ENTRY_NAMES: tuple[str, ...] = ("i", "l", "o_h", "o_w", "r", "c", "omega")
#: what ``prove_general(identities=…)`` proves: conv(x) = 𝒲x + b (always), conv_transpose = 𝒲ᵀ, the backprop identities
IDENTITIES: tuple[str, ...] = ("forward", "transposed", "backward")
#: PyTorch's transposed convolution and backprop forms first, then the negative controls of the adjoint steps
ADJOINT_NAMES: tuple[str, ...] = (
    "pytorch", "transposed_kernel_flipped", "transposed_tap_sign", "transposed_size_no_padding",
    "grad_weight_stride_dilation_swapped", "grad_bias_not_summed",
)
