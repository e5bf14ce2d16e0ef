"""Receptive fields: one layer's region at one output with the note's claim checked, and a stack's field."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ...core.taps import in_range
from ...receptive.field import Region
from ..figures import ReceptiveFigure, receptive_figure
from ..gather import ReceptiveResults, StackResults
from ..render import Tex, latex, prose
from .note import x_join

__all__ = ["AxisBox", "ReceptiveSection", "StackRow", "StackSection", "receptive_section", "stack_section"]


@dataclass(frozen=True)
class AxisBox:
    """The box an output reads along one axis: first and last input index (unclipped), centre, size."""

    axis: str
    start: int
    end: int
    centre: Tex
    size: int
    clipped: bool


def _axis_names(ndim: int) -> tuple[str, ...]:
    """How the report names the axes: rows and columns in 2-D, positions in 1-D, numbered axes otherwise."""
    return ("rows", "columns") if ndim == 2 else ("positions",) if ndim == 1 else tuple(f"axis {a}" for a in range(ndim))


def _boxes(region: Region, input_size: tuple[int, ...], shift: int) -> tuple[AxisBox, ...]:
    names = _axis_names(len(input_size))
    return tuple(
        AxisBox(names[a], ax.start + shift, ax.end + shift, Tex(f"{ax.centre + shift:g}"), ax.size,
                not (in_range(ax.start, input_size[a]) and in_range(ax.end, input_size[a])))
        for a, ax in enumerate(region.axes)
    )


@dataclass(frozen=True)
class ReceptiveSection:
    """One layer's receptive field at one output position, and the note's statement about it, checked."""

    output: Tex  # (j, k) in the note's numbering
    subscript: Tex  # "j,k" in the note's numbering
    boxes: tuple[AxisBox, ...]  # note numbering (1-based input rows/columns)
    cells: int  # input positions read, per input channel of the group
    channels: int  # input channels each output channel reads (C₁/G)
    agree: bool
    rows_checked: int
    disagreement: str | None
    figure: ReceptiveFigure


def receptive_section(r: ReceptiveResults) -> ReceptiveSection:
    """The region output (j, k) reads, and the note's claim "the receptive field is the non-zero columns of 𝒲_{j,k}".

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.report.gather import gather_receptive
    >>> s = receptive_section(gather_receptive(ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1)))
    >>> s.cells, s.agree, s.rows_checked
    (4, True, 3)
    """
    (j, k), spec, d = r.position, r.spec, r.disagreement
    disagreement = None if d is None else (
        f"row {d.row} of 𝒲_(j,k): {d.extra} columns outside the receptive field, {d.missing} missing")
    return ReceptiveSection(
        output=Tex(f"({j + 1}, {k + 1})"),
        subscript=Tex(f"{j + 1},{k + 1}"),
        boxes=_boxes(r.region, spec.input_size, shift=1),
        cells=r.cells,
        channels=spec.in_per_group,
        agree=d is None,
        rows_checked=r.rows_checked,
        disagreement=disagreement,
        figure=receptive_figure(r.field, r.region),
    )


@dataclass(frozen=True)
class StackRow:
    """One feature map of a stack: the layer that made it and the field from the input up to it."""

    name: str
    layer: str
    size: str
    stride: str
    padding: str
    map_size: str


@dataclass(frozen=True)
class StackSection:
    """The receptive field of a stack of layers, layer by layer, with its derivation and its checks."""

    rows: tuple[StackRow, ...]
    size: str
    stride: str
    padding: str
    input_size: str
    output_size: str
    index: str  # 0-based output position
    boxes: tuple[AxisBox, ...]  # 0-based
    cells: int
    interior: bool
    figure: ReceptiveFigure
    # (x, its recurrence, x₀, the general closed form, the closed form for n identical layers)
    recurrences: tuple[tuple[str, sympy.Basic, sympy.Basic, sympy.Basic, sympy.Basic], ...]
    start: sympy.Basic
    end: sympy.Basic
    proofs: tuple[tuple[Tex, str, bool], ...]  # (statement as words with math, how it was checked, holds)
    check_holds: bool
    check_outputs: int
    check_interior: int
    check_nnz: int
    check_mismatch: str | None
    check_undetermined: str  # what the product cannot pin ("" when everything claimed was pinned)
    check_kind: str  # "summary": the (size, stride, padding) against the 𝒲 product; "masks": every exact region; "none"
    check_refusal: str | None  # why no check ran (check_kind "none")
    inexact: str | None  # why the field has no (size, stride, padding) summary (a strided transposed layer)
    effective: tuple[tuple[str, Tex, Tex, int, str, str], ...]  # (axis, mean, variance, size r, std / r, uniform's std / r)
    effective_centred: bool  # the mean is the centre of the box, (r − 1)/2, on every axis
    effective_note: str | None
    misaligned: tuple[str, ...]
    paths: int


def _stack_rows(s: StackResults) -> tuple[StackRow, ...]:
    def summary(values: tuple[int, ...] | None) -> str:
        return "—" if values is None else x_join(values)  # behind a strided transposed layer: no such number

    return tuple(
        StackRow(lf.name, "" if lf.layer is None else lf.layer.describe() if lf.merge is None else lf.merge,
                 summary(lf.size), summary(lf.stride), summary(lf.padding), x_join(lf.map_size))
        for lf in s.field.layers
    )


def _effective_rows(s: StackResults) -> tuple[tuple[str, Tex, Tex, int, str, str], ...]:
    if s.effective is None:
        return ()
    return tuple(
        (_axis_names(len(s.input_size))[a], latex(sympy.Rational(ax.mean.numerator, ax.mean.denominator)),
         latex(sympy.Rational(ax.variance.numerator, ax.variance.denominator)), ax.size, f"{ax.std_over_size:.3f}",
         f"{uniform:.3f}")
        for a, (ax, uniform) in enumerate(zip(s.effective.field.axes, s.effective.uniform_std_over_size))
    )


# How each identity about the recurrences was checked, said as mathematics rather than as SymPy calls.
_METHODS = {
    "substitution L = 0": "substitute $L = 0$",
    "expand": "both sides expanded and compared",
    "rsolve, then substitution": "the recurrence solved, the solution substituted back",
    "simplify": "difference simplified to 0",
    "difference_delta, symbolic in L": "forward difference in $L$, symbolically",
}


_STATEMENTS = (
    (r"closed form of (\w) = recurrence unrolled, L = 1…(\d+)",
     "the closed form of ${}$ equals the recurrence unrolled, $L = 1, \\dots, {}$"),
    (r"(\w)\(n\) of n identical layers solves its recurrence", "${}(n)$ for $n$ identical layers solves its recurrence"),
    (r"(\w)\(n\) = general closed form with equal layers, n = 1…(\d+), s ∈ \{(.*)\}",
     "${}(n)$ equals the general closed form with equal layers, $n = 1, \\dots, {}$, $s \\in \\{{{}\\}}$"),
)


def _method(text: str) -> Tex:
    return prose(_METHODS.get(text, text))


def _statement(text: str) -> Tex:
    """A recurrence identity in words (``P_(L+1) − P_L = b_(L+1)``) with its formulas typeset as mathematics.

    >>> print(_statement("P_(L+1) − P_L = b_(L+1)"))
    $P_{L+1} - P_{L} = b_{L+1}$
    """
    text = re.sub(r"\b([A-Za-z])_\(([^)]*)\)", r"\1_{\2}", text)
    text = re.sub(r"\b([A-Za-z])_([0-9A-Za-z])\b", r"\1_{\2}", text)
    for pattern, words in _STATEMENTS:
        match = re.fullmatch(pattern, text)
        if match:
            return prose(words.format(*match.groups()))
    if re.fullmatch(r"[A-Za-z_{}()+−=0-9 ]+", text) and not re.search(r"[A-Za-z]{3}", text):
        return Tex("$" + text.replace("−", "-") + "$")
    return prose(text)


def stack_section(s: StackResults) -> StackSection:
    """The receptive field of a stack gathered by :func:`symconv.report.gather.gather_stack`, ready to print.

    >>> from symconv.receptive.layers import parse_layer
    >>> from symconv.report.gather import gather_stack
    >>> t = stack_section(gather_stack([parse_layer("conv:k=3"), parse_layer("conv:k=3,s=2")], (9, 9)))
    >>> t.size, t.stride, t.check_holds
    ('5×5', '2×2', True)
    """
    rf, forms = s.field, s.forms
    check = s.check if s.check is not None else s.masks
    kind = "summary" if s.check is not None else "masks" if s.masks is not None else "none"
    return StackSection(
        rows=_stack_rows(s), size=x_join(rf.size), stride=x_join(rf.stride), padding=x_join(rf.padding),
        input_size=x_join(s.input_size), output_size=x_join(s.output_size), index=f"({', '.join(map(str, s.index))})",
        boxes=_boxes(s.region, s.input_size, shift=0), cells=s.cells, interior=bool(s.region.interior),
        figure=receptive_figure(rf, s.region),
        recurrences=tuple((d.name, d.recurrence, d.initial, d.closed, d.identical) for d in (forms.r, forms.S, forms.P)),
        start=forms.start, end=forms.end,
        proofs=tuple((_statement(p.statement), _method(p.method), p.holds) for p in forms.proofs),
        check_holds=check is not None and check.holds, check_outputs=0 if check is None else check.outputs,
        check_interior=s.check.interior_outputs if s.check is not None else 0, check_nnz=0 if check is None else check.nnz,
        check_mismatch=None if check is None else check.mismatch,
        check_undetermined="; ".join(s.check.undetermined) if s.check is not None else "",
        check_kind=kind, check_refusal=s.masks_refusal, inexact=rf.inexact,
        effective=_effective_rows(s), effective_centred=s.effective is not None and s.effective.centred,
        effective_note=s.effective_refusal,
        misaligned=tuple(m.describe() for m in rf.misaligned), paths=sum(p.count for p in rf.paths),
    )
