"""The proof that conv(x) = 𝒲x + b: each engine's verdict, and the note's literal blocks, ready to print."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ...core.symbols import note_index
from ...prove.verdict import Verdict
from ..gather import MAX_AS_WRITTEN_TERMS, ProofResults, StepProof, in_note_setting
from ..render import Tex, latex, prose
from .note import to_note
from .theorem import TheoremView, theorem_view

__all__ = ["MismatchView", "ProofRun", "ProofSection", "StepLine", "StepsView", "mismatch_view", "proof_section", "steps_view"]


@dataclass(frozen=True)
class ProofRun:
    """One engine's verdict, ready to print."""

    method: str
    holds: bool
    terms: int
    mismatched_rows: int
    seconds: str | None  # None unless timings were asked for (they break byte-identical output)


@dataclass(frozen=True)
class MismatchView:
    """The first output where two sides differ (note numbering), with a few of the differing terms."""

    output: Tex
    missing: tuple[sympy.Expr, ...]
    missing_total: int
    extra: tuple[sympy.Expr, ...]
    extra_total: int


@dataclass(frozen=True)
class StepLine:
    """One numbered line of a proof: ``lhs`` (None: continues the chain) ``= rhs``, and why."""

    lhs: Tex | None
    rhs: Tex
    justification: Tex
    checked: bool | None


@dataclass(frozen=True)
class LemmaLine:
    """One side condition, its discharge, and whether it held."""

    statement: Tex
    justification: Tex
    holds: bool | None


@dataclass(frozen=True)
class StepsView:
    """A :class:`~symconv.report.gather.StepProof` ready to print: the claim, its scope, lines and lemmas."""

    claim: Tex
    scope: Tex
    lines: tuple[StepLine, ...]
    lemmas: tuple[LemmaLine, ...]
    holds: bool | None
    label: str


def steps_view(proof: StepProof, label: str) -> StepsView:
    """Number the steps of ``proof`` as one chain of equalities (labels ``label-1``, ``label-2``, …).

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.report.gather import gather_proof
    >>> v = steps_view(gather_proof(ConvSpec(1, 1, input_size=3, kernel_size=2)).instance, "inst")
    >>> [line.lhs is None for line in v.lines], v.holds
    ([False, True, True, True], True)
    """
    lines = []
    previous = None
    for step in proof.steps:
        statement = step.statement
        if isinstance(statement, sympy.Eq):
            lhs, rhs = statement.lhs, statement.rhs
            lines.append(StepLine(None if lhs == previous else latex(lhs), latex(rhs), prose(step.justification),
                                  step.holds))
            previous = lhs
        else:
            lines.append(StepLine(latex(statement), Tex(""), prose(step.justification), step.holds))
            previous = None
    lemmas = tuple(LemmaLine(prose(lem.statement), prose(lem.justification), lem.holds) for lem in proof.lemmas)
    return StepsView(latex(proof.claim), prose(proof.scope), tuple(lines), lemmas, proof.holds, label)


@dataclass(frozen=True)
class ProofSection:
    """conv(x) = 𝒲x + b for symconv's 𝒲 (one or two engines) and, in the note's setting, for the note's 𝒲 as written."""

    runs: tuple[ProofRun, ...]
    holds: bool
    d_y: int
    order: str
    mismatch: MismatchView | None
    as_written: ProofRun | None  # the note's literal block formulas, checked by the index engine
    as_written_mismatch: MismatchView | None
    as_written_skipped: bool  # the note's setting, but too large for the literal check (see the audit report)
    as_written_limit: int
    theorem: TheoremView  # for all sizes, from the all-size prover
    instance: StepsView
    generalised: bool  # the layer has stride, padding or dilation beyond the note's setting


_MAX_TERMS_LISTED = 6


def _run(v: Verdict, timings: bool) -> ProofRun:
    return ProofRun(v.method, v.holds, v.terms, v.mismatched_rows, f"{v.seconds:.3f}" if timings else None)


def mismatch_view(v: Verdict) -> MismatchView | None:
    """The verdict's first mismatch, renamed to the note's numbering; None when it holds."""
    if v.mismatch is None:
        return None
    missing, extra = v.mismatch.missing, v.mismatch.extra
    return MismatchView(
        output=latex(sympy.Symbol("y_" + ",".join(map(str, note_index(v.mismatch.output))))),
        missing=tuple(to_note(t) for t in missing[:_MAX_TERMS_LISTED]),
        missing_total=len(missing),
        extra=tuple(to_note(t) for t in extra[:_MAX_TERMS_LISTED]),
        extra_total=len(extra),
    )


def proof_section(proof: ProofResults, timings: bool = False) -> ProofSection:
    """The verdicts of :func:`symconv.report.gather.gather_proof`, ready to print (``timings``: with seconds).

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.report.gather import gather_proof
    >>> p = proof_section(gather_proof(ConvSpec(1, 1, input_size=3, kernel_size=2)))
    >>> p.holds, [r.method for r in p.runs], p.as_written.holds
    (True, ['sympy', 'index'], False)
    """
    failed = next((v for v in proof.verdicts if not v.holds), None)
    as_written = proof.as_written
    return ProofSection(
        runs=tuple(_run(v, timings) for v in proof.verdicts),
        holds=failed is None,
        d_y=proof.spec.d_y,
        order=proof.verdicts[0].order,
        mismatch=None if failed is None else mismatch_view(failed),
        as_written=None if as_written is None else _run(as_written, timings),
        as_written_mismatch=None if as_written is None else mismatch_view(as_written),
        as_written_skipped=proof.as_written_skipped,
        as_written_limit=MAX_AS_WRITTEN_TERMS,
        theorem=theorem_view(proof.theorem, proof.spec.bias),
        instance=steps_view(proof.instance, "inst"),
        generalised=not in_note_setting(proof.spec),
    )
