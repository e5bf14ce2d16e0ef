"""The result of checking an implementation: :class:`ImplementationVerdict`, its report and its JSON."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import note_index, output_index
from ..prove.verdict import Mismatch, Verdict
from .finding import Finding
from .form import Form

__all__ = ["ImplementationVerdict", "first_mismatches", "fn_name"]


@dataclass(frozen=True)
class ImplementationVerdict:
    """Whether ``fn`` implements ``spec``: the :class:`Verdict`, the diagnosis and how it was checked.

    ``diagnosis`` holds :class:`~symconv.check.diagnosis.Finding` s (bug code + words); ``mismatches`` the first
    outputs that differ (expected vs found terms); ``calls``/``samples`` count the invocations of fn and
    the inputs it was given. ``level`` is how strong the check was: ``"exact"`` (method symbolic: a proof,
    no sampling, no tolerance), ``"sampled"`` (probing on random integer inputs, every comparison an
    equality), ``"sampled-atol"`` (probing, and some value was accepted only within ``atol``), or ``""``
    (fn is not bi-affine). ``status`` says it in one phrase, ``guarantee`` in a sentence. Truthy iff no
    difference was found (:attr:`holds`); :attr:`proved` is True only for an exact check that holds.
    """

    verdict: Verdict
    method: str
    diagnosis: tuple[Finding, ...]
    mismatches: tuple[Mismatch, ...]
    output_shape: tuple[int, ...]
    calls: int
    samples: int
    guarantee: str
    layout: str = ""
    backend: str = ""
    level: str = ""
    form: Form | None = field(default=None, repr=False, compare=False)
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.verdict.holds

    @property
    def holds(self) -> bool:
        """True iff no difference was found: proved for ``level == "exact"``, else on sampled inputs (see status)."""
        return self.verdict.holds

    @property
    def proved(self) -> bool:
        """True iff fn is a deterministic per-sample map that, on every call made, computed exactly the layer.

        Method symbolic: fn ran on a batch of two samples of independent symbols, each output sample was
        exactly the layer's form of its own input sample; and numeric runs (a batch of three non-integer
        float64 samples, the same batch permuted, other values, plus the probes) all matched that form within
        the rounding bound. What would escape it: code that behaves differently only on calls or values not
        made here — a batch size above the ones tried that it treats specially, state that changes after
        several calls, a branch on values (or types) none of the runs reached.
        """
        return self.verdict.holds and self.level == "exact"

    @property
    def status(self) -> str:
        """``"HOLDS (exact)"``, ``"AGREES (sampled, exact values)"``, ``"AGREES (sampled, within atol 1e-06)"`` or ``"FAILS"``."""
        if not self.verdict.holds:
            return "FAILS"
        if self.level == "exact":
            return "HOLDS (exact)"
        if self.level == "sampled":
            return "AGREES (sampled, exact values)"
        return f"AGREES (sampled, within atol {self.details.get('atol', 0):g})"

    @property
    def spec(self) -> ConvSpec:
        """The layer fn was checked against."""
        return self.verdict.spec

    @property
    def seconds(self) -> float:
        """Wall time of the whole check, calls to fn included."""
        return self.verdict.seconds

    @property
    def codes(self) -> tuple[str, ...]:
        """The diagnosis codes, in order, without repeats (e.g. ``('flipped-kernel',)``)."""
        return tuple(dict.fromkeys(f.code for f in self.diagnosis))

    def describe(self, max_mismatches: int = 3) -> str:
        """A readable report: status, how it was checked, diagnosis, the first mismatching outputs."""
        lines = [
            f"{self.details.get('fn', 'fn')} as {self.spec.describe()}: {self.status}",
            f"  method {self.method} ({self.backend}, layout {self.layout}): {self.calls:,} calls to fn, "
            f"{self.samples:,} inputs, {self.seconds:.3f} s"
            + (f" — {self.details['method_reason']}" if self.details.get("method_reason") else ""),
            f"  {self.guarantee}",
        ]
        if self.details.get("rounding"):
            lines.append(f"  numeric runs (non-integer values, a permuted batch, other values): {self.details['rounding']}")
        if self.diagnosis:
            lines.append("  diagnosis:")
            lines += [f"    - {f.describe()}" for f in self.diagnosis]
        if self.mismatches and max_mismatches > 0:
            lines.append(f"  {self.verdict.mismatched_rows:,} of {math.prod(self.output_shape):,} outputs differ; "
                         f"first {min(max_mismatches, len(self.mismatches))}:")
            lines += _mismatch_table(self.mismatches[:max_mismatches])
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the verdict's fields (``holds``: no difference found) plus status, level, proved, method, …"""
        out = self.verdict.to_dict()
        out.update({
            "status": self.status,
            "level": self.level,
            "proved": self.proved,
            "atol": self.details.get("atol"),
            "largest_deviation": self.details.get("deviation"),
            "largest_accepted_difference": self.details.get("slack"),
            "method": self.method,
            "backend": self.backend,
            "layout": self.layout,
            "calls": self.calls,
            "samples": self.samples,
            "guarantee": self.guarantee,
            "rounding": self.details.get("rounding", ""),
            "method_reason": self.details.get("method_reason", ""),
            "computes_in": self.details.get("computes_in", ""),
            "rounding_ratio": self.details.get("rounding_ratio"),
            "output_shape": list(self.output_shape),
            "diagnosis": [{"code": f.code, "part": f.part, "message": f.message, "exact": f.exact} for f in self.diagnosis],
            "mismatches": [m.to_dict() for m in self.mismatches],
        })
        return out


def _sum_text(terms: tuple[sympy.Expr, ...], limit: int = 6) -> str:
    ordered = sorted(terms, key=sympy.default_sort_key)
    text = " + ".join(str(t) for t in ordered[:limit]) or "0"
    return text + (f" + … ({len(ordered) - limit} more)" if len(ordered) > limit else "")


def _mismatch_table(mismatches: tuple[Mismatch, ...]) -> list[str]:
    lines = []
    for m in mismatches:
        i, *pos = m.output
        lines.append(f"    y[{i}, {', '.join(map(str, pos))}] (the note's y_{{{','.join(map(str, note_index(m.output)))}}})")
        lines.append(f"      expected: {_sum_text(m.expected)}")
        lines.append(f"      found:    {_sum_text(m.found)}")
        if m.missing:
            lines.append(f"      missing:  {_sum_text(m.missing)}")
        if m.extra:
            lines.append(f"      extra:    {_sum_text(m.extra)}")
    return lines


def first_mismatches(spec: ConvSpec, expected: Form, found: Form, differing: np.ndarray,
                     exact_terms: dict[int, tuple[sympy.Expr, ...]], limit: int) -> tuple[np.ndarray, tuple[Mismatch, ...]]:
    """Rows that differ (those of ``differing`` and every row with an inexact coefficient) and the first ``limit``."""
    rows = np.union1d(differing, np.fromiter(exact_terms, dtype=np.int64, count=len(exact_terms)))
    out = []
    for row in rows[:limit].tolist():
        terms = exact_terms[row] if row in exact_terms else found.terms_of(row)
        out.append(Mismatch(row, output_index(spec, row), expected.terms_of(row), terms))
    return rows, tuple(out)


def fn_name(fn: Callable) -> str:
    """fn's module and qualified name, as the report shows it."""
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return f"{module}.{name}" if module else str(name)
