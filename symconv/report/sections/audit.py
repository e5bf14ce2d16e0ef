"""The audit of the note: every claim as written, holds or fails, with evidence and corrections."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..render import Tex, escape_tex, pdf_string

if TYPE_CHECKING:  # the audit arrives computed; reading it needs no import of the claims
    from ...claims.audit import Audit
    from ...claims.types import Claim

__all__ = ["AuditSection", "ClaimView", "audit_section"]


@dataclass(frozen=True)
class ClaimView:
    """One claim of the note with its computed verdict, evidence and correction, ready to print.

    ``as_written``, ``symbolic`` and ``correction`` are LaTeX math written by :mod:`symconv.claims.audit`;
    the other texts are words (with ``$…$`` math, if any), escaped by the template's ``prose`` filter.
    """

    id: str
    topic: str
    topic_pdf: Tex  # the topic as plain text for the PDF's bookmarks
    as_written: Tex
    holds: bool
    precise: str | None
    summary: str
    checked: int
    grid: str
    symbolic: Tex | None
    counterexample: Tex | None  # the sizes, as math
    counterexample_detail: str | None
    cross_checks: tuple[str, ...]
    correction: Tex | None
    correction_holds: bool | None
    correction_summary: str | None
    remarks: tuple[str, ...]
    grid_shared: bool = False  # checked on the grid that the document describes once (``shared_grid``)
    evidence_kind: str = ""  # "proved for all sizes", "checked on N layers" or "fails as written" (claims.proofs)
    proof_steps: tuple[str, ...] = ()  # the all-size proof's steps that carry it

    @property
    def carried_by(self) -> str:
        """The table's short form of ``evidence_kind``: "all sizes (proof)" or "N layers"."""
        if self.proof_steps:
            return "all sizes (proof)"
        return self.evidence_kind.removeprefix("checked on ") if self.evidence_kind.startswith("checked on ") else "--"

    @property
    def steps_tex(self) -> Tex:
        """The proof steps as code names, for the text."""
        return Tex(", ".join(r"\texttt{" + escape_tex(step) + "}" for step in self.proof_steps))


@dataclass(frozen=True)
class AuditSection:
    """The audit of the note: every claim as written, holds or fails, with evidence and corrections."""

    claims: tuple[ClaimView, ...]
    failing: int
    grid_size: int
    torch: bool
    shared_grid: str | None  # the layers most claims are checked on, described once (words with $…$ math)


_SIZE_TEX = {"C1": "C_1", "C2": "C_2"}


def _sizes(sizes: tuple[tuple[str, int], ...]) -> Tex:
    return Tex(r",\ ".join(f"{_SIZE_TEX.get(name, name)} = {value}" for name, value in sizes))


def _claim_view(c: Claim) -> ClaimView:
    cex, correction = c.evidence.counterexample, c.correction
    return ClaimView(
        id=c.id, topic=c.topic[:1].upper() + c.topic[1:], topic_pdf=pdf_string(c.topic[:1].upper() + c.topic[1:]),
        as_written=Tex(c.as_written), holds=c.holds, precise=c.precise,
        summary=c.evidence.summary, checked=c.evidence.checked, grid=c.evidence.grid,
        symbolic=None if c.evidence.symbolic is None else Tex(c.evidence.symbolic),
        counterexample=None if cex is None else _sizes(cex.sizes),
        counterexample_detail=None if cex is None else cex.detail,
        cross_checks=c.evidence.cross_checks,
        correction=None if correction is None else Tex(correction.statement),
        correction_holds=None if correction is None else correction.holds,
        evidence_kind=c.evidence_kind, proof_steps=c.proof_steps,
        correction_summary=None if correction is None else correction.evidence.summary,
        remarks=c.remarks,
    )


def share_grid(views: tuple[ClaimView, ...]) -> tuple[tuple[ClaimView, ...], str | None]:
    """The grid most claims are checked on, to describe once, and the views marked that use it.

    >>> from symconv.claims.audit import audit
    >>> views, grid = share_grid(tuple(_claim_view(c) for c in audit(torch=False, max_size=2).claims))
    >>> grid.split(" (")[0], sum(v.grid_shared for v in views) > 1
    ("36 layers of the note's setting", True)
    """
    grids = Counter(v.grid for v in views if v.checked)
    if not grids or grids.most_common(1)[0][1] < 2:
        return views, None
    common = grids.most_common(1)[0][0]
    return tuple(replace(v, grid_shared=True) if v.checked and v.grid == common else v for v in views), common


def audit_section(result: Audit) -> AuditSection:
    """An :class:`symconv.claims.audit.Audit` (computed by the caller) shaped for the template.

    >>> from symconv.claims.audit import audit
    >>> a = audit_section(audit(torch=False, max_size=2))
    >>> a.claims[0].id, a.failing == sum(not c.holds for c in a.claims)
    ('conv-codomain', True)
    """
    views, grid = share_grid(tuple(_claim_view(c) for c in result.claims))
    return AuditSection(views, len(result.failing), result.grid_size, result.torch, grid)
