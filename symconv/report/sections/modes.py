"""The report on a layer with padding_mode reflect / replicate / circular, shaped from :class:`ModeResults`.

Reads the frozen results only. The padding map is written per axis as 0-based formulas with this layer's sizes; the
theorem's rows say HOLDS only for identities the engines proved, and the section on all sizes states what symconv's
all-size prover covers (zero padding) without claiming it here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ...core.spec import axis_names
from ..gather_modes import ModeResults
from ..render import Tex, thousands
from .nd import axis_letters, column_bands

#: columns of 𝒲_mode's block per printed band: its entries are sums of up to four weights
MODE_BAND_COLUMNS = 6

__all__ = ["AxisMap", "IdentityRow", "ModeSection", "mode_section"]

_STATEMENTS = {
    "matrix": r"\symconvW_{\mathrm{%s}} = \symconvW_{\mathrm{valid}}\, P_{\mathrm{%s}}",
    "output": r"\operatorname{conv}_{\mathrm{%s}}(x) = \symconvW_{\mathrm{valid}} P_{\mathrm{%s}}\, x + b",
    "root": r"\zeta_N = e^{-2\pi i/N} \text{ has minimal polynomial } \Phi_N",
    "diagonal": r"(I \otimes F)\, \symconvW_{\mathrm{%s}}\, (I \otimes F^{-1}) = \operatorname{diag}(\lambda_{i,l})",
}
_ENGINES = {"index": "index (integer triples)", "sympy": "SymPy (exact expressions)",
            "sympy-cyclotomic": "SymPy, modulo $\\Phi_N$"}


@dataclass(frozen=True)
class AxisMap:
    """One axis: its name, size, padding, the formula of π and P_a (None when too large to print)."""

    name: str
    size: int
    before: int
    after: int
    formula: Tex
    matrix: Tex | None


@dataclass(frozen=True)
class IdentityRow:
    """One proved (or failed) identity: engine, statement, entries compared, verdict, first counterexample."""

    engine: str
    statement: Tex
    compared: Tex
    holds: bool
    counterexample: str | None


@dataclass(frozen=True)
class ModeSection:
    """Finished pieces of the padding-mode report."""

    mode: str
    ndim: int
    definition: Tex
    ranges: Tex
    maps: tuple[AxisMap, ...]
    proofs: tuple[IdentityRow, ...]
    holds: bool
    sympy_skipped: str | None
    block: tuple[tuple[int, int, Tex], ...] | None  # bands of columns: (first, last, LaTeX)
    merged: tuple[Tex, ...]
    merged_count: int
    nnz_total: int
    quantities: tuple[tuple[str, Tex], ...]
    axis_counts: tuple[tuple[str, int, int, int, str], ...]  # axis, N_a, taps, merged, method
    circular: tuple[IdentityRow, ...] | None
    circular_holds: bool
    circular_skipped: str | None


def _pi(mode: str, n: int) -> Tex:
    """π(c) on an axis of length n, 0-based, as a LaTeX cases / formula."""
    if mode == "reflect":
        return Tex(rf"\pi(c) = \begin{{cases}} -c & c < 0 \\ c & 0 \le c \le {n - 1} \\ {2 * (n - 1)} - c & c > {n - 1}"
                   r"\end{cases}")
    if mode == "replicate":
        return Tex(rf"\pi(c) = \min(\max(c, 0), {n - 1})")
    return Tex(rf"\pi(c) = c \bmod {n}")


def _axis_matrix(pi: tuple[int, ...], n: int) -> Tex | None:
    """P_a: row q has its 1 in column π(q − before)."""
    if len(pi) > 16 or n > 16:
        return None
    m = sympy.Matrix(len(pi), n, lambda q, c: 1 if pi[q] == c else 0)
    return Tex(sympy.latex(m))


def _short(block: sympy.Matrix) -> tuple[tuple[int, int, Tex], ...]:
    """The (i = 0, l = 0) block with ω_{0,0,t} written ω_t, in bands of columns (never scaled down to the line)."""
    names = {s: sympy.Symbol("omega_" + s.name.split(",", 2)[2]) for s in block.free_symbols}
    return column_bands(block.xreplace(names), MODE_BAND_COLUMNS)


def _identities(proof, mode: str) -> tuple[IdentityRow, ...]:
    return tuple(IdentityRow(_ENGINES.get(proof.method, proof.method),
                             Tex(_STATEMENTS[i.name].replace("%s", mode)), thousands(i.compared), i.holds,
                             i.counterexample) for i in proof.identities)


def _definition(r: ModeResults) -> tuple[Tex, Tex]:
    spec = r.spec
    outs, taps, _ = axis_letters(spec.ndim)
    channel = "l" if spec.groups == 1 else r"\gamma_i + l"
    coords = [rf"\pi_{{{a + 1}}}\big({sympy.latex(sympy.Symbol(o) * s - p + sympy.Symbol(t) * d)}\big)" for a, (o, t, s, p, d)
              in enumerate(zip(outs, taps, spec.stride, spec.padding_before, spec.dilation))]
    sums = rf"\sum_{{l=0}}^{{{spec.in_per_group - 1}}}" + "".join(
        rf"\sum_{{{t}=0}}^{{{k - 1}}}" for t, k in zip(taps, spec.kernel_size))
    bias = {"shared": "b_{i} + ", "per_location": "b_{" + ",".join(("i", *outs)) + "} + ", "none": ""}[spec.bias]
    weight = rf"\omega_{{{','.join(('i', 'l', *taps))}}}"
    formula = rf"y_{{{','.join(('i', *outs))}}} = {bias}{sums} {weight}\, x_{{{','.join((channel, *coords))}}}"
    ranges = [rf"i = 0, \dots, {spec.out_channels - 1}"] + [rf"{o} = 0, \dots, {n - 1}" for o, n in zip(outs, spec.output_size)]
    return Tex(formula), Tex(r",\; ".join(ranges))


def mode_section(r: ModeResults) -> ModeSection:
    """Shape the results of a padding-mode layer for ``mode_report.tex.j2``."""
    spec, c = r.spec, r.counts
    maps = tuple(AxisMap(name, n, b, a, _pi(spec.padding_mode, n), _axis_matrix(pi, n)) for name, n, b, a, pi in
                 zip(axis_names(spec.ndim), spec.input_size, spec.padding_before, spec.padding_after, r.axis_maps))
    proofs = tuple(row for p in r.proofs for row in _identities(p, spec.padding_mode))
    quantities = (("output size", Tex(r"\times".join(map(str, c.output_size)))),
                  ("parameters (weights + bias)", Tex(f"{thousands(c.params)} = {thousands(c.params_weights)} + "
                                                      f"{thousands(c.params_bias)}")),
                  ("multiply-adds of the index sum (every tap)", thousands(c.macs_dense)),
                  (r"$\mathrm{nnz}(\symconvW_{\mathrm{mode}})$", thousands(c.nnz)),
                  (r"density $\mathrm{nnz}/(d_x d_y)$", Tex(sympy.latex(c.density))))
    axis_counts = tuple((a.axis, a.pairs, a.taps, a.merged, a.method) for a in r.axis_counts)
    circular = None if r.circular is None else _identities(r.circular, "circular")
    definition, ranges = _definition(r)
    return ModeSection(
        spec.padding_mode, spec.ndim, definition, ranges, maps, proofs, all(p.holds for p in r.proofs),
        r.sympy_skipped, None if r.block is None else _short(r.block),
        tuple(Tex(rf"(\symconvW_{{\mathrm{{{spec.padding_mode}}}}})_{{{i},{l}}}[{row},{col}] = {sympy.latex(v)}")
              for i, l, row, col, v in r.merged),
        r.merged_count, c.nnz, quantities, axis_counts, circular, bool(r.circular and r.circular.holds), r.circular_skipped)
