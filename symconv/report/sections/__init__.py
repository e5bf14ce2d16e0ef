"""Frozen results of :mod:`symconv.report.gather` → plain, frozen data that the templates lay out.

Sections only read: none of them calls ``verify``, ``counts``, a receptive-field function or builds 𝒲.
Each returns a frozen dataclass of finished pieces: SymPy objects for the ``latex`` filter, short LaTeX
strings (:class:`~symconv.report.render.Tex`) built here, plain words that templates escape. Typeset
mathematics uses the note's numbering (:mod:`.note`); figures are laid out in :mod:`symconv.report.figures`.

One module per part of a document: :mod:`.layer` (notation, index sum), :mod:`.blocks`, :mod:`.proof`,
:mod:`.counts`, :mod:`.receptive` (one layer, a stack), :mod:`.audit`, :mod:`.footer`; :mod:`.nd` the whole of
the documents on a layer of ndim ≠ 2 and on a transposed layer.
"""

from .audit import AuditSection, ClaimView, audit_section
from .backward import BackwardAllSizes, BackwardSection, backward_section
from .blocks import BlockRow, BlocksSection, NamedMatrix, blocks_section
from .corrected import CorrectedNote, Erratum, NotePart, corrected_note
from .counts import CountRow, CountsSection, Derivation, RatioRow, counts_section
from .footer import Footer, Front, footer, front
from .layer import DefinitionSection, Expansion, Quantity, SpecSection, definition_section, spec_section
from .nd import NdLayerSection, TransposedSection, nd_layer_section, transposed_section
from .note import elide, to_note
from .proof import MismatchView, ProofRun, ProofSection, mismatch_view, proof_section
from .receptive import AxisBox, ReceptiveSection, StackRow, StackSection, receptive_section, stack_section

__all__ = [
    "AuditSection",
    "AxisBox",
    "BackwardAllSizes",
    "BackwardSection",
    "BlockRow",
    "BlocksSection",
    "ClaimView",
    "CorrectedNote",
    "CountRow",
    "CountsSection",
    "DefinitionSection",
    "Erratum",
    "Derivation",
    "Expansion",
    "Footer",
    "Front",
    "MismatchView",
    "NamedMatrix",
    "NdLayerSection",
    "NotePart",
    "ProofRun",
    "ProofSection",
    "Quantity",
    "RatioRow",
    "ReceptiveSection",
    "SpecSection",
    "StackRow",
    "StackSection",
    "TransposedSection",
    "audit_section",
    "backward_section",
    "blocks_section",
    "corrected_note",
    "counts_section",
    "definition_section",
    "elide",
    "footer",
    "front",
    "mismatch_view",
    "nd_layer_section",
    "proof_section",
    "receptive_section",
    "spec_section",
    "stack_section",
    "to_note",
    "transposed_section",
]
