"""Which of the note's claims rest on a proof for all sizes, and the proofs they rest on (computed once per process).

A claim that holds on the grid is *proved for all sizes* when every proof step it is mapped to in :data:`PROOF_STEPS`
is proved; otherwise it says what it is: *checked on N layers* (N the layers its check walked). A failing claim stays
refuted by its counterexample; where the correction is a formula a step proves (the parameter counts), the correction
is proved for all sizes.

The proofs run in the note's setting — stride 1, padding 0, dilation 1, groups 1 fixed, every other size a symbol,
rows in the note's order, a bias per location as its sum adds — (:func:`~symconv.prove.general.prove_general`) and
the closed forms the claims need (:func:`~symconv.prove.closed_forms.prove_closed_forms`: ``params``, ``rf_layer``,
``rf_stack``; every size a symbol). A step that is refuted or undetermined proves nothing: its claims say "checked".
They run once per process, in the calling process (about 1.5 s of CPU): no child process is forked, since a fork
after PyTorch or a BLAS has started its threads can deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .types import Claim

if TYPE_CHECKING:  # the provers (SymPy, Z3) load only when the proofs run
    from ..prove.proof import Proof

__all__ = ["NOTE_SETTING", "PROOF_STEPS", "RECHECKS", "NoteProofs", "note_proofs", "with_proofs"]

#: the sizes the note fixes; every other size stays a symbol
NOTE_SETTING = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}
#: concrete layers each proof step is re-checked on (the audit's own grid checks the claims themselves)
RECHECKS = 10
#: claim id → the proof steps that carry it for all sizes (a step of either proof; see the module docstring)
PROOF_STEPS: dict[str, tuple[str, ...]] = {
    "conv-codomain": ("window", "maximal"),  # H' = H − h + 1 exactly: every window fits, one more would not
    "index-sum": ("theorem",),  # the index sum is 𝒲x + b entry by entry
    "d_x-d_y": ("flatten", "row_order", "window", "maximal"),  # columns C₁HW, rows C₂H'W'
    "W-shape": ("row_order", "window", "maximal"),
    "Wjk-shape": ("flatten",),  # C₁ channel blocks of HW columns
    "Wjkl-shape": ("zero_blocks",),  # (j−1)W, hW, (H−h−j+1)W: nonnegative, summing to HW
    "B-shape": ("zero_blocks",),  # k−1, w, W−w−k+1 inside B
    "zero-blocks": ("zero_blocks",),
    "x-order": ("flatten",),
    "receptive-field": ("rf_layer", "rf_stack"),
    "params-per-location": ("params",),  # the correction; the note's formula stays refuted
    "params-shared": ("params",),
    "block-construction": ("block_entries", "theorem"),  # the correction: block m holds kernel row m
}
#: what a claim says when a proof carries it
PROVED = "proved for all sizes"


@dataclass(frozen=True)
class NoteProofs:
    """What the audit reads from the proofs: each step's verdict (``proved``, ``refuted``, ``undetermined``) by name,
    over the theorem in the note's setting and the closed forms — plain data."""

    statuses: dict[str, str]
    seconds: float = 0.0

    @classmethod
    def of(cls, *proofs: Proof) -> NoteProofs:
        return cls({s.name: s.status for proof in proofs for s in proof.steps}, sum(p.seconds for p in proofs))

    def proves(self, steps: tuple[str, ...]) -> bool:
        """Whether every step named is proved; no step named proves nothing."""
        return bool(steps) and all(self.statuses.get(name) == "proved" for name in steps)


_PROVED: dict[str, NoteProofs] = {}  # by construction: the proofs run once per process


def note_proofs(construction: str = "blocks") -> NoteProofs:
    """The proofs in the note's setting, once per process (``construction``: a negative control, for tests).

    Plain data (each step's verdict by name), so that a caller may cache or send it.

    >>> note_proofs().proves(("theorem", "params", "rf_stack"))
    True
    """
    if construction not in _PROVED:
        from ..prove.closed_forms import prove_closed_forms
        from ..prove.general import prove_general

        theorem = prove_general(NOTE_SETTING, order="seed", bias="per_location", construction=construction,
                                rechecks=RECHECKS)
        closed = prove_closed_forms(rechecks=RECHECKS, steps=("params", "rf_layer", "rf_stack"))
        _PROVED[construction] = NoteProofs.of(theorem, closed)
    return _PROVED[construction]


def checked_on(layers: int) -> str:
    """``checked on N layers`` (one layer: ``layer``)."""
    return f"checked on {layers} layer{'' if layers == 1 else 's'}"


def with_proofs(claim: Claim, proofs: NoteProofs) -> Claim:
    """``claim`` with its evidence kind and proof steps: proved for all sizes, checked on N layers, or fails as written.

    A failing claim's correction is proved for all sizes when its steps are.
    """
    steps = PROOF_STEPS.get(claim.id, ())
    proved = proofs.proves(steps)
    if not claim.holds:
        correction = claim.correction
        if correction is not None and correction.holds:
            kind, used = (PROVED, steps) if proved else (checked_on(correction.evidence.checked), ())
            correction = replace(correction, evidence_kind=kind, proof_steps=used)
        return replace(claim, evidence_kind="fails as written", correction=correction)
    if proved:
        return replace(claim, evidence_kind=PROVED, proof_steps=steps)
    return replace(claim, evidence_kind=checked_on(claim.evidence.checked))
