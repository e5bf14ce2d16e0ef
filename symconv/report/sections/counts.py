"""Sizes, parameters, sparsity and cost of the layer, with the derivations and ratios they came from."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..gather import CountResults

__all__ = ["CountRow", "CountsSection", "Derivation", "RatioRow", "counts_section"]


@dataclass(frozen=True)
class CountRow:
    """One count: its title, the derived closed form, the note's setting of it, and its value here."""

    name: str
    title: str
    closed: sympy.Basic | None  # None: no closed form, SymPy evaluates the sum for concrete sizes
    note: sympy.Basic | None  # the closed form in the note's setting (stride 1, padding 0, …)
    value: sympy.Basic


@dataclass(frozen=True)
class Derivation:
    """A derived formula's steps (the sum, then the closed form) and its value for this layer."""

    name: str
    title: str
    setting: str
    steps: tuple[tuple[str, sympy.Basic], ...]
    value: sympy.Basic


@dataclass(frozen=True)
class RatioRow:
    """A conv/FC ratio as a SymPy expression in its setting, and its limit as H, W → ∞."""

    title: str
    setting: str
    expr: sympy.Basic
    limit: sympy.Basic


@dataclass(frozen=True)
class CountsSection:
    """Sizes, parameters, sparsity and cost of the layer from :mod:`symconv.closed.counts`, with derivations."""

    rows: tuple[CountRow, ...]
    derivations: tuple[Derivation, ...]
    ratios: tuple[RatioRow, ...]
    bias: str


def counts_section(c: CountResults) -> CountsSection:
    """The counts gathered by :func:`symconv.report.gather.gather_counts`, as table rows and derivations.

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.report.gather import gather_counts
    >>> s = counts_section(gather_counts(ConvSpec(2, 3, input_size=5, kernel_size=3)))
    >>> {r.name: int(r.value) for r in s.rows}["params_conv_shared"]
    57
    """
    rows = tuple(CountRow(r.formula.name, r.formula.title, r.closed, r.note, r.value) for r in c.rows)
    derivations = tuple(
        Derivation(d.formula.name, d.formula.title, d.formula.setting,
                   tuple((s.label, s.expr) for s in d.formula.steps), d.value)
        for d in c.derivations
    )
    ratios = tuple(RatioRow(r.title, r.setting, r.expr, r.limit) for r in c.ratios)
    return CountsSection(rows, derivations, ratios, c.counts.spec.bias)
