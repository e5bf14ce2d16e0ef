"""The lecture note, corrected: its own structure, each claim as written, its verdict, and the corrected statement.

The claims come from :func:`symconv.claims.audit.audit` (computed by the caller); this module only files them
under the note's headings and adds the erratum list of the note's prose (spelling, not mathematics: the
mathematics is in the claims).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .audit import ClaimView, _claim_view, share_grid
from .theorem import TheoremView, theorem_view

if TYPE_CHECKING:
    from ...claims.audit import Audit
    from ..gather import StepProof

__all__ = ["ERRATA", "PARTS", "THEOREM_BIAS", "THEOREM_PART", "CorrectedNote", "Erratum", "NotePart", "corrected_note"]


@dataclass(frozen=True)
class Erratum:
    """A slip in the note's prose: the words as written (with a little context), and how they should read."""

    written: str
    reads: str


@dataclass(frozen=True)
class NotePart:
    """One heading of the note, what it does, and its claims in the note's order."""

    title: str
    summary: str  # words with $…$ math
    claims: tuple[ClaimView, ...]
    theorem: TheoremView | None = None  # conv(x) = 𝒲x + b for all sizes, stated before the claims


@dataclass(frozen=True)
class CorrectedNote:
    """The note's parts with their checked claims, and the erratum list of its prose."""

    parts: tuple[NotePart, ...]
    errata: tuple[Erratum, ...]
    failing: int
    total: int
    grid_size: int
    torch: bool
    shared_grid: str | None = None  # the layers most claims are checked on, described once
    theorem_blocks: str = "this section"  # LaTeX: where the theorem's 𝒲 is built from the note's blocks


#: The note's headings, in its order, and the audit's claims filed under each.
PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Formulation", "The convolution defined entry by entry, by an index sum over the input channels and the kernel.",
     ("conv-codomain", "index-sum", "weight-shape", "bias-shape")),
    ("Matrix form", "The convolution as an affine map $x \\mapsto \\mathcal{W}x + b$ on the flattened input, with "
     "$\\mathcal{W}$ assembled from blocks.",
     ("conv-linear", "d_x-d_y", "W-shape", "Wjk-shape", "Wjkl-shape", "B-shape", "zero-blocks", "x-order",
      "b_jk-entries", "block-construction")),
    ("Parameter counts", "How many parameters the convolution has, against a fully-connected layer with the same "
     "$d_x$ and $d_y$.",
     ("params-per-location", "conv-much-less-than-fc", "fc-count", "dxdy", "kernel-much-less", "params-shared",
      "params-factorisation", "params-resolution")),
    ("Receptive fields", "Which inputs one output depends on, read off the row block $\\mathcal{W}_{j,k}$.",
     ("receptive-field",)),
)

#: The heading under which the theorem conv(x) = 𝒲x + b for all sizes is stated, and the bias it has there: the
#: note's sum adds one bias entry per output.
THEOREM_PART, THEOREM_BIAS = "Matrix form", "per_location"
#: Where the note defines the layer (its index sum) and builds 𝒲 from blocks: the claims the theorem points at.
_DEFINITION, _BLOCKS = "index-sum", "block-construction"

#: The note's prose slips, quoted as written (a test finds each quote in the note).
ERRATA: tuple[Erratum, ...] = (
    Erratum("Here $l,m,n$ runes over the input channel", "Here $l, m, n$ run over the input channel"),
    Erratum("$i,j,k$ runs over the output channel height and width", "$i, j, k$ run over the output channel, height and width"),
    Erratum("the kernel height ad width", "the kernel height and width"),
    Erratum("defines the  $(j,k)$-th convolution output as follow", "define the $(j,k)$-th convolution output as follows"),
    Erratum("the number of parameter of $\\text{conv}$ is much more smaller than",
            "the number of parameters of $\\operatorname{conv}$ is much smaller than"),
    Erratum("tipically", "typically"),
    Erratum("the input and output chanels", "the input and output channels"),
    Erratum("(i.e $W$ and $H$)", "(i.e. $W$ and $H$)"),
    Erratum("How many inputs influence an specific output", "How many inputs influence a specific output"),
    Erratum("Notice that the the receptive field is compossed of the $(j,k)$ output lemente are",
            "Notice that the receptive field of the $(j,k)$ output element is composed of"),
    Erratum("not multiplied ny $0$ inm", "not multiplied by $0$ in"),
)


def _claim_label(parts: list[NotePart], claim_id: str) -> str | None:
    """The label the note report gives claim ``claim_id`` (``symconv-note-claim:<part>-<claim>``, from 1)."""
    for p, part in enumerate(parts, 1):
        for c, claim in enumerate(part.claims, 1):
            if claim.id == claim_id:
                return f"symconv-note-claim:{p}-{c}"
    return None


def _with_theorem(parts: list[NotePart], proof: StepProof) -> tuple[list[NotePart], str]:
    """``parts`` with the all-size theorem under :data:`THEOREM_PART`, pointing at the note's index sum; and LaTeX
    naming where 𝒲 is built from the note's blocks."""
    definition, blocks = _claim_label(parts, _DEFINITION), _claim_label(parts, _BLOCKS)
    theorem = theorem_view(proof, THEOREM_BIAS, "" if definition is None else rf"~(Claim~\ref{{{definition}}})")
    stated = [replace(p, theorem=theorem) if p.title == THEOREM_PART else p for p in parts]
    return stated, "this section" if blocks is None else rf"Claim~\ref{{{blocks}}}"


def corrected_note(result: Audit, theorem: StepProof | None = None) -> CorrectedNote:
    """The audit's claims filed under the note's headings (claims under no heading go to a last part).

    ``theorem``: the all-size proof of conv(x) = 𝒲x + b in the note's setting
    (:func:`symconv.report.gather.note_theorem`), stated under :data:`THEOREM_PART`.

    >>> from symconv.claims.audit import audit
    >>> n = corrected_note(audit(torch=False, max_size=2))
    >>> [p.title for p in n.parts][:2], n.total == sum(len(p.claims) for p in n.parts)
    (['Formulation', 'Matrix form'], True)
    """
    shared, grid = share_grid(tuple(_claim_view(c) for c in result.claims))
    views = {v.id: v for v in shared}
    parts = [NotePart(title, summary, tuple(views[i] for i in ids if i in views)) for title, summary, ids in PARTS]
    filed = {i for _, _, ids in PARTS for i in ids}
    rest = tuple(v for i, v in views.items() if i not in filed)
    if rest:
        parts.append(NotePart("Further claims", "Claims the note makes in passing.", rest))
    parts = [p for p in parts if p.claims or (theorem is not None and p.title == THEOREM_PART)]
    parts, blocks = (parts, "this section") if theorem is None else _with_theorem(parts, theorem)
    return CorrectedNote(tuple(parts), ERRATA, len(result.failing), len(views), result.grid_size, result.torch, grid,
                         blocks)
