"""The audit's results (frozen dataclasses renderers only read) and its search over sizes.

A claim is checked at every size of a grid of layers in the note's setting (stride 1, padding 0,
dilation 1, groups 1), walked from the smallest up; the first size where the check fails is the
*smallest counterexample*. "Smallest" is fixed once, here: by C₁ + C₂ + H + W + h + w, ties broken by
(C₁, C₂, H, W, h, w) in lexicographic order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .spec import ConvSpec

__all__ = ["Claim", "Correction", "Counterexample", "Evidence", "note_sizes", "note_specs", "search"]

SIZE_NAMES = ("C1", "C2", "H", "W", "h", "w")


def note_sizes(spec: ConvSpec) -> tuple[int, ...]:
    """(C₁, C₂, H, W, h, w) of a layer.

    >>> note_sizes(ConvSpec(2, 3, input_size=(5, 4), kernel_size=(3, 2)))
    (2, 3, 5, 4, 3, 2)
    """
    return (spec.in_channels, spec.out_channels, *spec.input_size, *spec.kernel_size)  # type: ignore[misc]


def note_specs(
    channels: Iterable[int] = (1, 2), out_channels: Iterable[int] | None = None, max_size: int = 3, bias: str = "shared"
) -> tuple[ConvSpec, ...]:
    """Every layer of the note's setting with the given channels and 1 ≤ h ≤ H ≤ max_size, 1 ≤ w ≤ W ≤ max_size,
    smallest first (see the module docstring).

    >>> [note_sizes(s) for s in note_specs(max_size=1)][:3]
    [(1, 1, 1, 1, 1, 1), (1, 2, 1, 1, 1, 1), (2, 1, 1, 1, 1, 1)]
    """
    channels = tuple(channels)
    outs = channels if out_channels is None else tuple(out_channels)
    sizes = [
        (c1, c2, hh, ww, kh, kw)
        for c1 in channels for c2 in outs
        for hh in range(1, max_size + 1) for ww in range(1, max_size + 1)
        for kh in range(1, hh + 1) for kw in range(1, ww + 1)
    ]
    sizes.sort(key=lambda t: (sum(t), t))
    return tuple(ConvSpec(c1, c2, input_size=(hh, ww), kernel_size=(kh, kw), bias=bias) for c1, c2, hh, ww, kh, kw in sizes)


@dataclass(frozen=True)
class Counterexample:
    """The smallest size found where a statement fails, and what was found there."""

    sizes: tuple[tuple[str, int], ...]  # (("C1", 1), ("C2", 1), ("H", 1), …)
    detail: str

    @classmethod
    def at(cls, spec: ConvSpec, detail: str) -> Counterexample:
        """The counterexample at ``spec`` (its C₁, C₂, H, W, h, w) with ``detail``."""
        return cls(tuple(zip(SIZE_NAMES, note_sizes(spec))), detail)

    def short(self) -> str:
        """``C1=1 C2=2 H=1 W=1 h=1 w=1``."""
        return " ".join(f"{k}={v}" for k, v in self.sizes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"sizes": dict(self.sizes), "detail": self.detail}


@dataclass(frozen=True)
class Evidence:
    """What was computed: a symbolic identity (all sizes), concrete sizes checked, a counterexample.

    ``checked`` counts the concrete instances examined (up to and including a counterexample);
    ``grid`` says which; ``cross_checks`` are agreements (or disagreements) with independent tools.
    """

    summary: str
    checked: int = 0
    grid: str = ""
    symbolic: str | None = None  # LaTeX of an identity SymPy proved for all sizes
    counterexample: Counterexample | None = None
    cross_checks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "summary": self.summary,
            "checked": self.checked,
            "grid": self.grid,
            "symbolic": self.symbolic,
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "cross_checks": list(self.cross_checks),
        }


@dataclass(frozen=True)
class Correction:
    """A corrected statement and the computation that checks it."""

    statement: str  # LaTeX or words
    holds: bool
    evidence: Evidence

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"statement": self.statement, "holds": self.holds, "evidence": self.evidence.to_dict()}


@dataclass(frozen=True)
class Claim:
    """One claim of the note, as it writes it, and the computed verdict.

    ``precise`` is set when the note's words had to be made precise to be checked (e.g. "≪");
    ``remarks`` are further computed findings about the claim.
    """

    id: str
    topic: str
    as_written: str
    holds: bool
    evidence: Evidence
    correction: Correction | None = None
    precise: str | None = None
    remarks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "id": self.id,
            "topic": self.topic,
            "as_written": self.as_written,
            "holds": self.holds,
            "precise": self.precise,
            "evidence": self.evidence.to_dict(),
            "correction": None if self.correction is None else self.correction.to_dict(),
            "remarks": list(self.remarks),
        }


def search(check: Callable[[ConvSpec], str | None], specs: Iterable[ConvSpec]) -> tuple[int, Counterexample | None]:
    """Run ``check`` (None when the statement holds at a spec, else what failed) over ``specs`` in order.

    Returns how many specs were examined and the first failure, if any.

    >>> search(lambda s: None if s.in_channels < 2 else "C1 ≥ 2", note_specs(max_size=1))
    (3, Counterexample(sizes=(('C1', 2), ('C2', 1), ('H', 1), ('W', 1), ('h', 1), ('w', 1)), detail='C1 ≥ 2'))
    """
    checked = 0
    for spec in specs:
        checked += 1
        failure = check(spec)
        if failure is not None:
            return checked, Counterexample.at(spec, failure)
    return checked, None


def describe_grid(specs: tuple[ConvSpec, ...]) -> str:
    """A one-line description of a grid of note-setting specs."""
    sizes = [note_sizes(s) for s in specs]
    ranges = []
    for pos, name in enumerate(SIZE_NAMES):
        values = sorted({t[pos] for t in sizes})
        ranges.append(f"{name} ∈ {{{', '.join(map(str, values))}}}" if len(values) <= 4 else f"{name} ∈ {values[0]}…{values[-1]}")
    return f"{len(specs)} layers of the note's setting (stride 1, padding 0), h ≤ H, w ≤ W, " + ", ".join(ranges)
