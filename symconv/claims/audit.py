"""Audit of the lecture note: every checkable claim, as the note writes it, checked by computation.

:func:`audit` runs the checks of :mod:`symconv.claims.catalog` — SymPy identities for all sizes and a
search over a grid of concrete layers, smallest first (see :mod:`symconv.claims.types`) — and returns
an :class:`Audit`: one :class:`~symconv.claims.types.Claim` per claim with its verdict, the evidence
(an identity, the sizes checked, or the smallest counterexample) and, where it fails, a corrected
statement that is itself checked. Verdicts come only from those computations; nothing here lists
expected outcomes.

PyTorch, when installed, is consulted as an independent cross-check (output shapes, parameter
counts, numeric values, gradient patterns); without it those cross-checks are reported as skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from ..errors import SpecError
from . import torch_checks as audit_torch
from .catalog import CLAIMS, Context
from .defaults import DEFAULT_MAX_SIZE, MAX_SIZES
from .proofs import note_proofs, with_proofs
from .types import Claim, Correction, Counterexample, Evidence, general_specs, note_specs, plain_text

__all__ = ["DEFAULT_MAX_SIZE", "Audit", "Claim", "Correction", "Counterexample", "Evidence", "audit"]


@dataclass(frozen=True)
class Audit:
    """The verdicts on the note's claims, in the note's order.

    >>> result = audit(torch=False, max_size=2)
    >>> [c.id for c in result.claims][:3]
    ['conv-codomain', 'index-sum', 'weight-shape']
    """

    claims: tuple[Claim, ...]
    seconds: float
    torch: bool
    grid_size: int
    proof_seconds: float = 0.0  # the all-size proofs the claims rest on (run alongside the grid, once per process)

    @property
    def proved(self) -> tuple[Claim, ...]:
        """The claims that hold and are proved for all sizes (not only checked on the grid)."""
        return tuple(c for c in self.claims if c.holds and c.proof_steps)

    @property
    def failing(self) -> tuple[Claim, ...]:
        """The claims that do not hold as written."""
        return tuple(c for c in self.claims if not c.holds)

    def claim(self, claim_id: str) -> Claim:
        """The claim with ``claim_id``; SpecError naming the ids otherwise."""
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise SpecError(f"claim must be one of {', '.join(c.id for c in self.claims)}, got {claim_id!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the list of claims plus how the audit ran."""
        return {
            "claims": [c.to_dict() for c in self.claims],
            "holds": sum(c.holds for c in self.claims),
            "proved_for_all_sizes": len(self.proved),
            "fails": len(self.failing),
            "grid_size": self.grid_size,
            "torch": self.torch,
            "seconds": round(self.seconds, 3),
            "proof_seconds": round(self.proof_seconds, 3),
        }

    def table(self) -> str:
        """A readable table: id, holds, on what evidence, smallest counterexample, whether the correction holds (and on
        what evidence)."""
        rows = [("id", "holds", "evidence", "smallest counterexample (C1 C2 H W h w)", "correction")]
        for c in self.claims:
            cex = c.evidence.counterexample
            correction = "—" if c.correction is None else ("holds" if c.correction.holds else "FAILS")
            if c.correction is not None and c.correction.evidence_kind:
                correction += f", {c.correction.evidence_kind}"
            evidence = c.evidence_kind if c.holds else "—"
            rows.append((c.id, "yes" if c.holds else "NO", evidence, "—" if cex is None else cex.short(), correction))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def describe(self) -> str:
        """The table, then each failing claim with its counterexample and correction, then remarks — plain text, the
        LaTeX math of the claims' texts as Unicode (:func:`~symconv.claims.types.plain_text`)."""
        out = [self.table(), ""]
        for c in self.claims:
            notes = []
            if c.proof_steps:
                notes.append(f"  proved for all sizes: steps {', '.join(c.proof_steps)} (also checked on "
                             f"{c.evidence.checked} layers)")
            if c.precise:
                notes.append(f"  made precise: {plain_text(c.precise)}")
            if not c.holds:
                cex = c.evidence.counterexample
                if cex is not None:
                    notes.append(f"  counterexample {cex.short()}: {plain_text(cex.detail)}")
                else:
                    notes.append(f"  {plain_text(c.evidence.summary)}")
                if c.correction is not None:
                    verdict = "holds" if c.correction.holds else "FAILS"
                    checked = f"{c.correction.evidence.checked} layers"
                    if c.correction.proof_steps:
                        checked = f"proved for all sizes: steps {', '.join(c.correction.proof_steps)}; checked on {checked}"
                    statement = plain_text(f"${c.correction.statement}$")
                    notes.append(f"  correction ({verdict}, {checked}): {statement}")
            notes += [f"  remark: {plain_text(r)}" for r in c.remarks]
            if notes:
                out.append(f"{c.id}: {c.topic}")
                out += notes
        torch_note = "PyTorch cross-checks on" if self.torch else "PyTorch cross-checks skipped"
        out.append(f"{len(self.claims)} claims, {len(self.failing)} fail as written, {len(self.proved)} proved for all sizes "
                   f"(Z3 + SymPy, the note's setting), the others checked on the grid of {self.grid_size} layers; "
                   f"{torch_note}; {self.seconds:.1f} s")
        return "\n".join(out)


def audit(
    torch: bool | None = None, max_size: int = DEFAULT_MAX_SIZE, progress: Callable[[int, int], None] | None = None
) -> Audit:
    """Check every claim of the note; ``torch=None`` uses PyTorch when it is installed.

    ``max_size`` bounds H and W of the grid of note-setting layers (C₁, C₂ ∈ {1, 2}, 1 ≤ h ≤ H, 1 ≤ w ≤ W).
    ``progress(done, total)``, if given, is called after each claim and once more after the proofs.

    >>> a = audit(torch=False, max_size=2)
    >>> a.claim("block-construction").holds, a.claim("block-construction").correction.holds
    (False, True)
    """
    if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size not in MAX_SIZES:
        raise SpecError(f"max_size must be an int in {MAX_SIZES[0]}..{MAX_SIZES[-1]}, got {max_size!r}")
    use_torch = audit_torch.available() if torch is None else bool(torch)
    if use_torch and not audit_torch.available():
        raise SpecError("torch=True needs PyTorch installed (pip install torch==2.13.0); use torch=None or False")
    start = perf_counter()
    # every claim checked as written, on the grid (and by PyTorch)
    ctx = Context(specs=note_specs(max_size=max_size), torch=use_torch, general=general_specs())
    total = len(CLAIMS) + 1  # the claims, then the proofs

    def checked(n: int, claim: Claim) -> Claim:
        if progress is not None:
            progress(n, total)
        return claim

    if use_torch:
        with audit_torch.single_thread():
            claims = tuple(checked(n, check(ctx)) for n, check in enumerate(CLAIMS, 1))
    else:
        claims = tuple(checked(n, check(ctx)) for n, check in enumerate(CLAIMS, 1))
    # what carries each verdict: a proof for all sizes (once per process), or the layers checked
    proofs = note_proofs()
    if progress is not None:
        progress(total, total)
    claims = tuple(with_proofs(c, proofs) for c in claims)
    return Audit(claims, perf_counter() - start, use_torch, len(ctx.specs), proofs.seconds)
