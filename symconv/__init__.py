"""symconv: the mathematics of convolution layers, built in SymPy and proved exactly.

>>> import symconv
>>> spec = symconv.ConvSpec(2, 3, input_size=(5, 5), kernel_size=(3, 3))
>>> symconv.verify(spec).holds
True

The report renderers (``spec_report``, ``layers_report``, ``audit_report``, ``build_pdf``) are loaded on first
use, so that ``import symconv`` does not import Jinja2.
"""

from typing import Any

from .audit import Audit, audit
from .blocks import Blocks, bias_vector, blocks, matrix, matrix_as_written
from .counts import Counts, Formula, counts, formula, formulas, ratios
from .counts_arithmetic import conv_output_size, conv_transpose_output_size, relationships
from .diagnosis import Finding
from .direct import direct
from .errors import NotEquivalentError, SpecError, SymconvError, TooLargeError
from .implementation import ImplementationVerdict, verify_implementation
from .layers import Branches, Graph, Layer
from .receptive import (
    EffectiveField,
    ReceptiveField,
    Region,
    conv_inputs,
    effective_receptive_field,
    receptive_field,
)
from .receptive_check import FieldCheck, check_receptive_field
from .receptive_forms import effective_forms, receptive_forms
from .spec import ConvSpec
from .symbols import ORDERS, bias_symbols, input_symbols, output_index, row_permutation, weight_symbols
from .verdict import Mismatch, Verdict
from .verify import verify

__version__ = "0.1.0"

_REPORT_NAMES = ("audit_report", "build_pdf", "layers_report", "spec_report")

__all__ = [
    "ORDERS",
    "Audit",
    "Blocks",
    "Branches",
    "ConvSpec",
    "Counts",
    "EffectiveField",
    "FieldCheck",
    "Finding",
    "Formula",
    "Graph",
    "ImplementationVerdict",
    "Layer",
    "Mismatch",
    "NotEquivalentError",
    "ReceptiveField",
    "Region",
    "SpecError",
    "SymconvError",
    "TooLargeError",
    "Verdict",
    "audit",
    "audit_report",
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
    "output_index",
    "ratios",
    "receptive_field",
    "receptive_forms",
    "relationships",
    "row_permutation",
    "spec_report",
    "verify",
    "verify_implementation",
    "weight_symbols",
]


def __getattr__(name: str) -> Any:
    if name in _REPORT_NAMES:
        from . import report

        return getattr(report, name)
    raise AttributeError(f"module 'symconv' has no attribute {name!r}")
