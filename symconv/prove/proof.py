"""Proof and Step: an all-size proof as frozen data that renderers only read.

A :class:`Proof` is what a report typesets as *Theorem* + *Proof*: ``statement`` (a SymPy object) and
numbered ``steps``, each a :class:`Step` with its own statement (SymPy), its justification (the rule or
lemma that carries it), the solver's objects and timing, and its own verdict. A step is ``"proved"``,
``"refuted"`` (with a :class:`Counterexample`: concrete sizes and indices) or ``"undetermined"``
(the solver answered unknown or timed out — never counted as a pass). The proof holds iff every step
is proved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sympy

__all__ = ["STATUSES", "Counterexample", "Proof", "ProofDisagreement", "Step"]

#: a step's verdict
STATUSES: tuple[str, ...] = ("proved", "refuted", "undetermined")


class ProofDisagreement(RuntimeError):
    """The solver and a concrete re-check disagree on a step: a bug in the prover, never a pass."""


@dataclass(frozen=True)
class Counterexample:
    """Concrete values that make a step false: ``sizes`` (C_1, H, s_h, …) and ``indices`` (i, o_h, r, …).

    ``confirmed`` says whether a concrete engine (the index engine on built matrices, or brute force over
    integers) reproduced the failure; ``note`` says how.
    """

    sizes: dict[str, int]
    indices: dict[str, Any]
    confirmed: bool = False
    note: str = ""

    def describe(self) -> str:
        """One line: sizes, then indices, then how it was confirmed."""
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        idx = ", ".join(f"{k}={v}" for k, v in self.indices.items())
        tail = f"; confirmed: {self.note}" if self.confirmed else (f"; {self.note}" if self.note else "")
        return f"sizes {sizes or '—'}; indices {idx or '—'}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {"sizes": dict(self.sizes), "indices": {k: str(v) for k, v in self.indices.items()},
                "confirmed": self.confirmed, "note": self.note}


@dataclass(frozen=True)
class Step:
    """One step of a proof: ``statement`` (SymPy), ``justification``, verdict and evidence.

    ``objects`` holds what the step was computed from (the SymPy ``doit()`` result, the Z3 formula as a
    string, …); ``seconds`` is the solver's time; ``rechecks`` the number of concrete sizes at which the
    step was re-checked independently of the solver.
    """

    name: str
    statement: Any
    justification: str
    status: str
    seconds: float = 0.0
    rechecks: int = 0
    counterexample: Counterexample | None = None
    objects: dict[str, Any] = field(default_factory=dict)
    lemma: bool = False  # an integer side condition discharged by Z3

    @property
    def holds(self) -> bool:
        return self.status == "proved"

    def describe(self, number: int | None = None) -> str:
        """A few plain-text lines: number, name, verdict, statement, justification, counterexample."""
        head = f"({number}) " if number is not None else ""
        lines = [f"{head}{self.name}: {self.status.upper()}  [{self.justification}; "
                 f"{self.seconds * 1000:.0f} ms; re-checked at {self.rechecks} sizes]",
                 f"      {sympy.sstr(self.statement)}"]
        if self.counterexample is not None:
            lines.append(f"      counterexample: {self.counterexample.describe()}")
        for note in self.objects.get("notes", ()):
            lines.append(f"      note: {note}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        finding = self.objects.get("finding")  # a refuted side claim the step records (transposed_size), if any
        return {
            **({"finding": finding.to_dict()} if isinstance(finding, Counterexample) else {}),
            "name": self.name,
            "statement": sympy.sstr(self.statement),
            "latex": sympy.latex(self.statement),
            "justification": self.justification,
            "status": self.status,
            "holds": self.holds,
            "lemma": self.lemma,
            "seconds": round(self.seconds, 6),
            "rechecks": self.rechecks,
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "notes": list(self.objects.get("notes", ())),
        }


@dataclass(frozen=True)
class Proof:
    """A theorem for all sizes and its checked steps; ``holds`` iff every step is proved.

    ``fixed`` are the sizes given as numbers (the rest are symbols); ``rechecks`` the number of concrete
    layers every step was re-checked on.
    """

    title: str
    statement: Any
    steps: tuple[Step, ...]
    fixed: dict[str, int] = field(default_factory=dict)
    order: str = "channel_major"
    seconds: float = 0.0
    rechecks: int = 0
    assumptions: Any = None
    #: further parts of the theorem with their own hypotheses, e.g. ("conv_transpose(y) = 𝒲ᵀy + b_T", H = H_T ∧ …)
    conditions: tuple[tuple[str, Any], ...] = ()

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(step.holds for step in self.steps)

    def __bool__(self) -> bool:
        return self.holds

    @property
    def status(self) -> str:
        """``"proved"``, ``"refuted"`` (some step has a counterexample) or ``"undetermined"``."""
        if self.holds:
            return "proved"
        return "refuted" if any(s.status == "refuted" for s in self.steps) else "undetermined"

    @property
    def failed_step(self) -> Step | None:
        """The first step that is not proved."""
        return next((s for s in self.steps if not s.holds), None)

    @property
    def counterexample(self) -> Counterexample | None:
        """The first refuted step's counterexample."""
        return next((s.counterexample for s in self.steps if s.counterexample is not None), None)

    @property
    def lemma_seconds(self) -> dict[str, float]:
        """Each Z3 lemma's solver time, by step name."""
        return {s.name: s.seconds for s in self.steps if s.lemma}

    def step(self, name: str) -> Step:
        """The step called ``name`` (KeyError if none)."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def describe(self) -> str:
        """Theorem, assumptions, numbered steps and the verdict, as plain text."""
        fixed = ", ".join(f"{k}={v}" for k, v in self.fixed.items()) or "none (every size symbolic)"
        lines = [f"Theorem ({self.title}). {sympy.sstr(self.statement)}",
                 f"  for all sizes satisfying {sympy.sstr(self.assumptions)}" if self.assumptions is not None else "",
                 f"  fixed: {fixed}; rows of 𝒲 in {self.order} order",
                 "Proof."]
        lines[2:2] = [f"  {part}: for all sizes satisfying {sympy.sstr(hyps)}" for part, hyps in self.conditions]
        lines = [line for line in lines if line]
        lines += [s.describe(n) for n, s in enumerate(self.steps, 1)]
        verdict = {"proved": "∎ PROVED for all sizes", "refuted": "✗ REFUTED", "undetermined":
                   "? UNDETERMINED (a solver answered unknown; the theorem is not claimed)"}[self.status]
        tail = f" at step '{self.failed_step.name}'" if self.failed_step is not None else ""
        lines.append(f"{verdict}{tail} — {len(self.steps)} steps, {self.seconds:.2f} s, "
                     f"every step re-checked on {self.rechecks} concrete layers")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "statement": sympy.sstr(self.statement),
            "latex": sympy.latex(self.statement),
            "holds": self.holds,
            "status": self.status,
            "failed_step": None if self.failed_step is None else self.failed_step.name,
            "fixed": dict(self.fixed),
            "order": self.order,
            "seconds": round(self.seconds, 6),
            "rechecks": self.rechecks,
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            **({"conditions": [{"part": part, "assumptions": sympy.sstr(hyps)} for part, hyps in self.conditions]}
               if self.conditions else {}),
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
