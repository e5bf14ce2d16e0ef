"""Verdict: what a proof engine found, as a frozen result that renderers only read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

from ..core.spec import ConvSpec
from ..core.symbols import note_index

__all__ = ["Mismatch", "Verdict"]


def _sorted_terms(terms: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    return tuple(sorted(terms, key=sympy.default_sort_key))


@dataclass(frozen=True)
class Mismatch:
    """The first output where the two sides differ: its index and both sides' terms.

    ``output`` is 0-based (i, j, k); ``row`` is the row of 𝒲 in the verdict's order. ``expected`` are
    the terms of the index sum, ``found`` those of 𝒲x + b, each a SymPy expression (coefficient ×
    monomial).
    """

    row: int
    output: tuple[int, ...]
    expected: tuple[sympy.Expr, ...]
    found: tuple[sympy.Expr, ...]

    @property
    def missing(self) -> tuple[sympy.Expr, ...]:
        """Terms of the definition that 𝒲x + b lacks (or has with another coefficient)."""
        found = set(self.found)
        return _sorted_terms(tuple(t for t in self.expected if t not in found))

    @property
    def extra(self) -> tuple[sympy.Expr, ...]:
        """Terms of 𝒲x + b that the definition does not have."""
        expected = set(self.expected)
        return _sorted_terms(tuple(t for t in self.found if t not in expected))

    def describe(self) -> str:
        """Several readable lines: where, what is missing, what is extra."""
        i, *pos = self.output
        note = note_index(self.output)
        lines = [
            f"first mismatch at output y[{i}, {', '.join(map(str, pos))}] (0-based; the note's "
            f"y_{{{','.join(map(str, note))}}}), row {self.row} of 𝒲",
            f"  expected ({len(self.expected)} terms): {_short(self.expected)}",
            f"  found    ({len(self.found)} terms): {_short(self.found)}",
        ]
        if self.missing:
            lines.append(f"  missing: {_short(self.missing)}")
        if self.extra:
            lines.append(f"  extra:   {_short(self.extra)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: indices as lists, terms as strings."""
        return {
            "row": self.row,
            "output": list(self.output),
            "expected": [str(t) for t in _sorted_terms(self.expected)],
            "found": [str(t) for t in _sorted_terms(self.found)],
            "missing": [str(t) for t in self.missing],
            "extra": [str(t) for t in self.extra],
        }


def _short(terms: tuple[sympy.Expr, ...], limit: int = 8) -> str:
    shown = " + ".join(str(t) for t in _sorted_terms(terms)[:limit]) or "0"
    return shown + (f" + … ({len(terms) - limit} more)" if len(terms) > limit else "")


@dataclass(frozen=True)
class Verdict:
    """Whether conv(x) = 𝒲x + b holds for ``spec``, how it was checked, and the first counterexample.

    ``terms`` counts the (output, weight, input) products plus bias terms of the definition that were
    matched; ``mismatched_rows`` counts every output that differs. A verdict is truthy iff it holds.
    ``details["comparison"]`` (index engine) says how the two sides were compared; every comparison is per term.
    """

    holds: bool
    method: str
    spec: ConvSpec
    order: str
    terms: int
    seconds: float
    mismatch: Mismatch | None = None
    mismatched_rows: int = 0
    source: str = "built"  # "built": symconv's own 𝒲; "supplied": a matrix given by the caller
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.holds

    @property
    def terms_per_second(self) -> float:
        """Throughput of the check."""
        return self.terms / self.seconds if self.seconds > 0 else float("inf")

    @property
    def status(self) -> str:
        """HOLDS, FAILS, UNDETERMINED (a supplied entry SymPy cannot decide, nothing else differs) or AGREES (sampled)."""
        if self.holds:
            return "AGREES (sampled, not a proof)" if self.details.get("proved") is False else "HOLDS"
        return "UNDETERMINED" if self.mismatch is None and self.details.get("undetermined") else "FAILS"

    def describe(self) -> str:
        """A readable summary, several lines when it fails or is undetermined."""
        status = self.status
        comparison = f" (comparison {self.details['comparison']})" if "comparison" in self.details else ""
        head = (
            f"conv(x) = 𝒲x + b {status} for {self.spec.describe()}\n"
            f"  method {self.method}{comparison}, 𝒲 {self.source}, rows in {self.order} order; "
            f"{self.terms:,} terms checked in {self.seconds:.3f} s ({self.terms_per_second:,.0f} terms/s)"
        )
        undetermined = self.details.get("undetermined", ())
        if undetermined:
            shown = "; ".join(f"{u['where']} = {u['entry']}" for u in undetermined[:3])
            more = f" (+{len(undetermined) - 3} more)" if len(undetermined) > 3 else ""
            head += (f"\n  {len(undetermined)} supplied entr{'y' if len(undetermined) == 1 else 'ies'} SymPy cannot show "
                     f"to be (or not to be) a polynomial with exact coefficients: {shown}{more}")
        if self.mismatch is None:
            return head
        return f"{head}\n  {self.mismatched_rows:,} of {self.spec.d_y:,} outputs differ; {self.mismatch.describe()}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary: holds, method, terms, seconds, spec, mismatch."""
        spec = self.spec
        return {
            "holds": self.holds,
            "status": self.status,
            "method": self.method,
            "terms": self.terms,
            "seconds": round(self.seconds, 6),
            "terms_per_second": round(self.terms_per_second, 1) if self.seconds > 0 else None,
            "order": self.order,
            "source": self.source,
            "mismatched_rows": self.mismatched_rows,
            "spec": {
                "in_channels": spec.in_channels,
                "out_channels": spec.out_channels,
                "input_size": list(spec.input_size),
                "kernel_size": list(spec.kernel_size),
                "stride": list(spec.stride),
                "padding": spec.padding if isinstance(spec.padding, str) else list(spec.padding),
                "dilation": list(spec.dilation),
                "groups": spec.groups,
                "bias": spec.bias,
                "output_size": list(spec.output_size),
            },
            "mismatch": None if self.mismatch is None else self.mismatch.to_dict(),
            **({"details": self.details} if self.details else {}),
        }
