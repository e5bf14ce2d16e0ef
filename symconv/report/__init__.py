"""Reports: results of the library laid out as LaTeX through Jinja templates, and compiled to PDF.

This package is the only place that imports jinja2 (in :mod:`.render`); the core never imports it.

>>> from symconv import ConvSpec
>>> tex = spec_report(ConvSpec(1, 1, input_size=3, kernel_size=2))
>>> "\\\\begin{tikzpicture}" in tex
True
"""

from .documents import (
    audit_report,
    backward_report,
    default_title,
    layers_report,
    note_report,
    spec_report,
    transposed_report,
    transposed_title,
)
from .output import write_atomic
from .pdf import DEBIAN_PACKAGES, LatexError, PdfResult, TexNotFoundError, build_pdf
from .render import Tex, escape_tex, render

__all__ = [
    "DEBIAN_PACKAGES",
    "LatexError",
    "PdfResult",
    "Tex",
    "TexNotFoundError",
    "audit_report",
    "backward_report",
    "build_pdf",
    "default_title",
    "escape_tex",
    "layers_report",
    "note_report",
    "render",
    "spec_report",
    "transposed_report",
    "transposed_title",
    "write_atomic",
]
