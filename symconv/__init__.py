"""symconv: the mathematics of convolution layers, built in SymPy and proved exactly.

>>> import symconv
>>> spec = symconv.ConvSpec(2, 3, input_size=(5, 5), kernel_size=(3, 3))
>>> symconv.verify(spec).holds
True

Every public name is loaded on first use (PEP 562), so that ``import symconv`` costs no more than the
errors module: SymPy, NumPy, the audit, the implementation checks, the receptive fields and the report
renderers (Jinja2) load only when a name that needs them is touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
from .errors import NotEquivalentError, SpecError, SymconvError, TooLargeError

# public name -> the module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "ConvSpec": ".core.spec",
    "ORDERS": ".core.choices",
    "bias_symbols": ".core.symbols",
    "input_symbols": ".core.symbols",
    "output_index": ".core.symbols",
    "row_permutation": ".core.symbols",
    "weight_symbols": ".core.symbols",
    "direct": ".forms.direct",
    "Blocks": ".forms.blocks",
    "bias_vector": ".forms.blocks",
    "blocks": ".forms.blocks",
    "matrix": ".forms.blocks",
    "matrix_as_written": ".forms.blocks",
    "Mismatch": ".prove.verdict",
    "Verdict": ".prove.verdict",
    "verify": ".prove.verify",
    "Counts": ".closed.counts",
    "Formula": ".closed.counts",
    "counts": ".closed.counts",
    "formula": ".closed.counts",
    "formulas": ".closed.counts",
    "ratios": ".closed.counts",
    "conv_output_size": ".closed.arithmetic",
    "conv_transpose_output_size": ".closed.arithmetic",
    "relationships": ".closed.arithmetic",
    "Branches": ".receptive.layers",
    "Graph": ".receptive.layers",
    "Layer": ".receptive.layers",
    "EffectiveField": ".receptive.field",
    "ReceptiveField": ".receptive.field",
    "Region": ".receptive.field",
    "conv_inputs": ".receptive.field",
    "effective_receptive_field": ".receptive.field",
    "receptive_field": ".receptive.field",
    "FieldCheck": ".receptive.check",
    "check_receptive_field": ".receptive.check",
    "effective_forms": ".receptive.forms",
    "receptive_forms": ".receptive.forms",
    "Audit": ".claims.audit",
    "audit": ".claims.audit",
    "Finding": ".check.diagnosis",
    "ImplementationVerdict": ".check.implementation",
    "verify_implementation": ".check.implementation",
    "ConvTransposeSpec": ".core.transposed",
    "transposed_direct": ".forms.transposed",
    "transposed_matrix": ".forms.transposed",
    "zero_insertion": ".forms.transposed",
    "PADDING_MODES": ".forms.padding",
    "padding_operator": ".forms.padding",
    "mode_matrix": ".forms.padding",
    "mode_direct": ".forms.padding",
    "IdentityProof": ".prove.transposed",
    "prove_transposed": ".prove.transposed",
    "prove_backward": ".prove.backward",
    "prove_padding_mode": ".prove.padding_modes",
    "prove_circular_theorem": ".prove.padding_modes",
    "BackwardVerdict": ".check.backward",
    "verify_backward": ".check.backward",
    "ENTRY_SYMBOLS": ".prove.general",
    "prove_closed_forms": ".prove.general",
    "prove_general": ".prove.general",
    "Proof": ".prove.proof",
    "Step": ".prove.proof",
    "TransposedCounts": ".closed.counts",
    "transposed_counts": ".closed.counts",
    "mode_axis_counts": ".closed.mode_counts",
    "mode_nnz": ".closed.mode_counts",
    "audit_report": ".report",
    "backward_report": ".report",
    "build_pdf": ".report",
    "layers_report": ".report",
    "note_report": ".report",
    "spec_report": ".report",
    "transposed_report": ".report",
}

__all__ = [
    "Audit",
    "BackwardVerdict",
    "Blocks",
    "Branches",
    "ConvSpec",
    "ConvTransposeSpec",
    "Counts",
    "ENTRY_SYMBOLS",
    "EffectiveField",
    "FieldCheck",
    "Finding",
    "Formula",
    "Graph",
    "IdentityProof",
    "ImplementationVerdict",
    "Layer",
    "Mismatch",
    "NotEquivalentError",
    "ORDERS",
    "PADDING_MODES",
    "Proof",
    "ReceptiveField",
    "Region",
    "SpecError",
    "Step",
    "SymconvError",
    "TooLargeError",
    "TransposedCounts",
    "Verdict",
    "audit",
    "audit_report",
    "backward_report",
    "bias_symbols",
    "bias_vector",
    "blocks",
    "build_pdf",
    "check_receptive_field",
    "conv_inputs",
    "conv_output_size",
    "conv_transpose_output_size",
    "counts",
    "direct",
    "effective_forms",
    "effective_receptive_field",
    "formula",
    "formulas",
    "input_symbols",
    "layers_report",
    "matrix",
    "matrix_as_written",
    "mode_axis_counts",
    "mode_direct",
    "mode_matrix",
    "mode_nnz",
    "note_report",
    "output_index",
    "padding_operator",
    "prove_backward",
    "prove_circular_theorem",
    "prove_closed_forms",
    "prove_general",
    "prove_padding_mode",
    "prove_transposed",
    "ratios",
    "receptive_field",
    "receptive_forms",
    "relationships",
    "row_permutation",
    "spec_report",
    "transposed_counts",
    "transposed_direct",
    "transposed_matrix",
    "transposed_report",
    "verify",
    "verify_backward",
    "verify_implementation",
    "weight_symbols",
    "zero_insertion",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'symconv' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .check.backward import BackwardVerdict, verify_backward
    from .check.diagnosis import Finding
    from .check.implementation import ImplementationVerdict, verify_implementation
    from .claims.audit import Audit, audit
    from .closed.arithmetic import conv_output_size, conv_transpose_output_size, relationships
    from .closed.counts import Counts, Formula, TransposedCounts, counts, formula, formulas, ratios, transposed_counts
    from .closed.mode_counts import mode_axis_counts, mode_nnz
    from .core.choices import ORDERS
    from .core.spec import ConvSpec
    from .core.symbols import bias_symbols, input_symbols, output_index, row_permutation, weight_symbols
    from .core.transposed import ConvTransposeSpec
    from .forms.blocks import Blocks, bias_vector, blocks, matrix, matrix_as_written
    from .forms.direct import direct
    from .forms.padding import PADDING_MODES, mode_direct, mode_matrix, padding_operator
    from .forms.transposed import transposed_direct, transposed_matrix, zero_insertion
    from .prove.backward import prove_backward
    from .prove.general import ENTRY_SYMBOLS, prove_closed_forms, prove_general
    from .prove.padding_modes import prove_circular_theorem, prove_padding_mode
    from .prove.proof import Proof, Step
    from .prove.transposed import IdentityProof, prove_transposed
    from .prove.verdict import Mismatch, Verdict
    from .prove.verify import verify
    from .receptive.check import FieldCheck, check_receptive_field
    from .receptive.field import (
        EffectiveField,
        ReceptiveField,
        Region,
        conv_inputs,
        effective_receptive_field,
        receptive_field,
    )
    from .receptive.forms import effective_forms, receptive_forms
    from .receptive.layers import Branches, Graph, Layer
    from .report import audit_report, backward_report, build_pdf, layers_report, note_report, spec_report, transposed_report
