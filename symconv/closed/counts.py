"""Closed forms of a convolution layer — sizes, parameters, sparsity, cost — derived by SymPy.

Nothing here is typed in as a final answer: every closed form is the value SymPy computes for a sum
over the index ranges of the construction (``Sum(…).doit()``) or the solution of the inequality
that defines a range (``solve``). Each :class:`Formula` keeps its derivation as :class:`Step` s (the
sum, then the closed form) so that reports can print it, and evaluates at a concrete
:class:`~symconv.core.spec.ConvSpec` with :meth:`Formula.at`. :func:`counts` collects the numbers for one
spec.

Symbols (module constants): ``C1, C2`` channels, ``H, W`` input, ``h, w`` kernel, ``g`` groups and per
axis ``s_h, s_w`` stride, ``p_h, p_w`` padding *per side*, ``d_h, d_w`` dilation; ``H_out, W_out`` are
the output sizes H', W' (formulas that count over output positions are written with them, as the
construction is; :func:`note_setting` substitutes the note's H − h + 1, W − w + 1).

Those are the 2-D names. Every formula is derived for any number of spatial axes the same way, one family of
size symbols per axis (:func:`symconv.core.symbols.size_symbols`: W, w, … for 1-D; D, d, H, h, W, w for 3-D):
``formulas(ndim)``, ``formula(name, ndim)``; the output sizes are named per axis (``output_width`` in 1-D,
``output_depth``, ``output_height``, ``output_width`` in 3-D, ``output_axis_k`` beyond).

Which closed forms exist for nnz(𝒲) (the number of taps that land inside the input):

* padding 0, any stride and dilation — symbolic: every tap is in range, nnz = C₂·(C₁/g)·h·w·H'·W';
* stride 1, dilation 1, padding p ≤ kernel − 1 per side, H' ≥ 2p — symbolic: the clipped taps are
  summed by SymPy (Σ_{o<p} (p − o) at each border), per axis h·H' − p(p + 1);
* anything else (padding with stride or dilation, 'same' with even kernels, padding ≥ kernel) — the
  per-axis sum over kernel taps of the length of the range of output positions that tap reaches,
  with the range's ends derived by ``solve`` from 0 ≤ o·s − p + m·d ≤ H − 1; SymPy evaluates that sum
  term by term for concrete sizes (:meth:`Formula.at`). No closed form is claimed there.

Padding modes reflect / replicate / circular (:mod:`symconv.closed.mode_counts`): sizes, parameters and
multiply-adds are those above (they do not depend on the mode); nnz(𝒲_mode) has a closed form for circular and
is counted exactly per axis from the padding map for reflect and replicate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import sympy

from ..core.spec import ConvSpec, axis_names
from ..core.symbols import C1, C2, SizeSymbols, g, size_symbols
from ..core.taps import tap
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from .mode_counts import mode_nnz

__all__ = [
    "C1",
    "C2",
    "H",
    "H_out",
    "W",
    "W_out",
    "Counts",
    "Formula",
    "Ratio",
    "Step",
    "TransposedCounts",
    "counts",
    "d_h",
    "d_w",
    "formula",
    "formulas",
    "g",
    "h",
    "note_setting",
    "output_names",
    "p_h",
    "p_w",
    "ratios",
    "s_h",
    "transposed_counts",
    "s_w",
    "w",
]

# the size symbols live in the core (one family per axis); the 2-D names used below are those of the note
(H, h, s_h, p_h, d_h, H_out), (W, w, s_w, p_w, d_w, W_out) = size_symbols(2)

# summation indices (0-based, as everywhere in symconv): output channel i, input channel l' within
# the group, output position (j, k), kernel tap (m, n), input position (r, c), generic position o
_idx = {"integer": True, "nonnegative": True}
i_, l_, j_, k_, m_, n_, r_, c_, o_ = (sympy.Symbol(n, **_idx) for n in ("i", "l'", "j", "k", "m", "n", "r", "c", "o"))
lx_ = sympy.Symbol("l", **_idx)  # input channel of x (global, not within a group)


class _Axis(NamedTuple):
    """One spatial axis: its size symbols, its name and its summation indices (kernel tap, output, input position)."""

    size: SizeSymbols
    name: str  # "height", "width", "depth", "axis 3"
    tag: str  # the formula-name suffix: the kernel letter ("h", "w", "d") or "k_3" beyond 3-D
    tap: sympy.Symbol
    out_pos: sympy.Symbol
    in_pos: sympy.Symbol


@lru_cache(maxsize=8)
def _axes(ndim: int) -> tuple[_Axis, ...]:
    """The spatial axes of an ndim-D layer; for 2-D the note's indices (taps m, n; outputs j, k; inputs r, c)."""
    if ndim == 2:
        return (_Axis(size_symbols(2)[0], "height", "h", m_, j_, r_), _Axis(size_symbols(2)[1], "width", "w", n_, k_, c_))
    out = []
    for size, name in zip(size_symbols(ndim), axis_names(ndim)):
        tag = str(size.k)
        out.append(_Axis(size, name, tag, *(sympy.Symbol(f"{v}_{tag}", **_idx) for v in ("t", "o", "q"))))
    return tuple(out)


def output_names(ndim: int = 2) -> tuple[str, ...]:
    """Names of the per-axis output-size formulas.

    >>> output_names(2), output_names(1)
    (('output_height', 'output_width'), ('output_width',))
    """
    return tuple("output_" + a.name.replace(" ", "_") for a in _axes(ndim))


@dataclass(frozen=True)
class Step:
    """One step of a derivation: what was done (``label``) and the resulting expression."""

    label: str
    expr: sympy.Basic


@dataclass(frozen=True)
class Formula:
    """A closed form derived by SymPy, its derivation steps and where it applies.

    ``setting`` says which layers the closed form covers (``"any"`` or a condition);
    ``padding`` says what ``p_h, p_w`` mean when evaluated: ``"per_side"`` (half the total padding,
    exact for the output size, which only sees the total) or ``"before"`` (top/left padding).

    >>> f = formula("params_conv_shared")
    >>> f.expr
    C_1*C_2*h*w/g + C_2
    >>> int(f.at(ConvSpec(3, 64, input_size=32, kernel_size=3)))
    1792
    """

    name: str
    title: str  # words, with $…$ LaTeX math (the report's prose filter)
    setting: str
    steps: tuple[Step, ...]
    expr: sympy.Expr
    padding: str = "per_side"

    def applies(self, spec: ConvSpec) -> bool:
        """Whether the closed form is valid for ``spec`` (see ``setting``)."""
        return _applies(self.setting, spec)

    def at(self, spec: ConvSpec) -> sympy.Expr:
        """The value for a concrete ``spec`` (an exact SymPy number); SpecError outside ``setting``."""
        if not self.applies(spec):
            raise SpecError(f"formula {self.name!r} holds for {self.setting} only, got {spec.describe()}")
        values = _values(spec, self.padding)
        # a per-axis sum over kernel taps is evaluated term by term with everything substituted at
        # once: substituting the sizes first would make SymPy simplify Max/Min symbolically in m
        return _evaluate_sums(self.expr, values).xreplace(values)


@dataclass(frozen=True)
class Ratio:
    """A ratio of two counts, in the setting where its limit is taken, and the limit as H, W → ∞.

    The limit is iterated (H → ∞, then W → ∞) with every other symbol fixed; ``diagonal`` is the
    limit along H = W → ∞ as a second route to the same value.

    >>> r = ratios()["params_conv_shared/params_fc"]
    >>> r.limit, r.diagonal
    (0, 0)
    """

    name: str
    title: str
    setting: str
    expr: sympy.Expr
    limit: sympy.Expr
    diagonal: sympy.Expr


@dataclass(frozen=True)
class Counts:
    """The counts of one layer, each evaluated from its derived formula (see :func:`counts`)."""

    spec: ConvSpec
    output_size: tuple[int, ...]
    d_x: int
    d_y: int
    params_weights: int
    params_bias: int
    params: int  # weights + bias in the spec's bias mode
    params_by_bias: tuple[tuple[str, int], ...]  # (mode, parameters) for shared, per_location, none
    params_fc: int  # a fully-connected layer R^{d_x} → R^{d_y} with one bias per output
    params_local: int  # a locally connected layer: one kernel and one bias per output position
    nnz: int  # nonzeros of 𝒲 = taps inside the input
    nnz_formula: str  # name of the formula that gave nnz
    density: sympy.Rational  # nnz / (d_x·d_y)
    macs: int  # multiply-accumulates: zeros mode 𝒲x skipping taps in the padding (= nnz); other modes every tap
    macs_dense: int  # multiply-accumulates counting every tap, as FLOP counters do
    ratio_fc: sympy.Rational  # params / params_fc

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly: ints, ratios as "p/q" strings."""
        return {
            "spec": self.spec.describe(),
            "output_size": list(self.output_size),
            "d_x": self.d_x,
            "d_y": self.d_y,
            "params_weights": self.params_weights,
            "params_bias": self.params_bias,
            "params": self.params,
            "params_by_bias": dict(self.params_by_bias),
            "params_fc": self.params_fc,
            "params_local": self.params_local,
            "nnz": self.nnz,
            "nnz_formula": self.nnz_formula,
            "density": str(self.density),
            "macs": self.macs,
            "macs_dense": self.macs_dense,
            "ratio_fc": str(self.ratio_fc),
        }


# ------------------------------------------------------------------------- evaluation helpers
def _values(spec: ConvSpec, padding: str) -> dict[sympy.Symbol, sympy.Expr]:
    """Substitutions of every symbol for ``spec``."""
    if padding == "before":
        pads = [sympy.Integer(v) for v in spec.padding_before]
    else:  # the output size sees only the total padding; per side is half of it, exactly
        pads = [sympy.Rational(b + a, 2) for b, a in zip(spec.padding_before, spec.padding_after)]
    ints = {C1: spec.in_channels, C2: spec.out_channels, g: spec.groups}
    for a, axis in enumerate(_axes(spec.ndim)):
        n, k, s, _, d, out = axis.size
        ints.update({n: spec.input_size[a], k: spec.kernel_size[a], s: spec.stride[a], d: spec.dilation[a],
                     out: spec.output_size[a]})
    return {**{k: sympy.Integer(v) for k, v in ints.items()}, **{a.size.p: v for a, v in zip(_axes(spec.ndim), pads)}}


def _evaluate_sums(expr: sympy.Expr, values: dict[sympy.Symbol, sympy.Expr]) -> sympy.Expr:
    """``expr`` with every ``Sum`` replaced by the sum of its terms at ``values`` (concrete limits)."""

    def one(s: sympy.Sum) -> sympy.Expr:
        (var, lo, hi), = s.limits
        first, last = int(lo.xreplace(values)), int(hi.xreplace(values))
        return sympy.Add(*(s.function.xreplace({**values, var: sympy.Integer(v)}) for v in range(first, last + 1)))

    return expr.replace(lambda e: isinstance(e, sympy.Sum), one)


def _applies(setting: str, spec: ConvSpec) -> bool:
    if setting == "any":
        return True
    if setting == "padding 0":
        return all(b == a == 0 for b, a in zip(spec.padding_before, spec.padding_after))
    if setting == "stride 1, dilation 1, padding p ≤ kernel − 1 per side, H' ≥ 2p":
        return (
            set(spec.stride) == set(spec.dilation) == {1} and spec.padding_before == spec.padding_after
            and all(p <= k - 1 and out >= 2 * p for p, k, out in zip(spec.padding_before, spec.kernel_size, spec.output_size))
        )
    raise ValueError(f"unknown setting {setting!r}")


def _solve_for(condition: sympy.Rel, var: sympy.Symbol) -> sympy.Rel:
    """``condition`` (linear in ``var`` with a positive coefficient) solved as ``var ≤ …`` or ``var ≥ …``."""
    real = sympy.Symbol(var.name, real=True)
    solved = sympy.solve(condition.subs(var, real), real)
    if not isinstance(solved, (sympy.LessThan, sympy.GreaterThan)) or solved.lhs != real:
        raise RuntimeError(f"could not solve {condition} for {var}: {solved}")
    return solved.func(var, solved.rhs)


def _count(name: str, title: str, summand: sympy.Expr, *ranges: tuple, setting: str = "any", label: str) -> Formula:
    """A Formula whose closed form is ``Σ summand`` over ``ranges`` (innermost first), done by SymPy."""
    total = sympy.Sum(summand, *ranges)
    closed = sympy.factor_terms(sympy.expand(total.doit()))
    return Formula(name, title, setting, (Step(label, total), Step("closed form (Sum.doit)", closed)), closed)


def _sum_of(*formulas_: Formula, name: str, title: str, setting: str = "any") -> Formula:
    """A Formula that adds derived formulas: the steps show the sum of their names, then the value."""
    parts = sympy.Add(*(sympy.Symbol(r"\mathrm{" + f.name.replace("_", r"\_") + "}") for f in formulas_), evaluate=False)
    closed = sympy.expand(sympy.Add(*(f.expr for f in formulas_)))
    return Formula(name, title, setting, (Step("sum of counts", parts), Step("closed form", closed)), closed)


# ------------------------------------------------------------------------- derivations
def _output_size(axis: _Axis) -> Formula:
    """H' = number of window positions o ≥ 0 whose last tap fits the padded input."""
    n, k, s, p, d, _ = axis.size
    fits = tap(o_, k - 1, s, 0, d) <= n + 2 * p - 1  # the last tap, in 0-based coordinates of the padded input
    last = _solve_for(fits, o_)
    positions = sympy.Sum(1, (o_, 0, sympy.floor(last.rhs)))
    closed = positions.doit()
    name = "output_" + axis.name.replace(" ", "_")
    steps = (
        Step("the window at position o fits the padded input", fits),
        Step("solved for o (solve)", last),
        Step("count the positions o = 0, 1, …", positions),
        Step("closed form (Sum.doit)", closed),
    )
    return Formula(name, f"output size {n}' (any stride, padding per side, dilation)", "any", steps, closed)


def _inside(coord: sympy.Expr, n: sympy.Expr) -> tuple[sympy.Rel, sympy.Rel]:
    """core.taps.in_range (0 ≤ coord < n) on integers, as the two conditions ``solve`` takes: coord ≥ 0, coord ≤ n − 1."""
    return coord >= 0, coord <= n - 1


def _taps_valid(axis: _Axis) -> Formula:
    (n, k, s, p, d, out), t, pos = axis.size, axis.tap, axis.out_pos
    coord = tap(pos, t, s, p, d)
    indicator = sympy.Piecewise((1, sympy.And(*_inside(coord, n))), (0, True))
    unclipped = sympy.Sum(1, (t, 0, k - 1), (pos, 0, out - 1))
    closed = unclipped.doit()
    steps = (
        Step("taps of the kernel that land inside the input, over output positions",
             sympy.Sum(indicator, (t, 0, k - 1), (pos, 0, out - 1))),
        Step("padding 0: 0 ≤ o·s + m·d ≤ (H'−1)·s + (h−1)·d ≤ H − 1, every tap is inside", unclipped),
        Step("closed form (Sum.doit)", closed),
    )
    return Formula(f"taps_valid_{axis.tag}", "taps in range per axis, padding 0", "padding 0", steps, closed)


def _taps_clipped(axis: _Axis) -> Formula:
    """Stride 1, dilation 1, padding p < kernel: all taps minus those in the padding at both borders."""
    k, p, out = axis.size.k, axis.size.p, axis.size.out
    t, pos = axis.tap, axis.out_pos
    all_taps = sympy.Sum(1, (t, 0, k - 1), (pos, 0, out - 1))
    # position o < p has its first p − o taps in the top padding; by symmetry the same at the bottom
    clipped = sympy.Sum(p - pos, (pos, 0, p - 1))
    closed = sympy.expand(all_taps.doit() - 2 * clipped.doit())
    steps = (
        Step("all taps over output positions", all_taps),
        Step("taps in the padding at one border (position o < p loses p − o taps)", clipped),
        Step("all taps − both borders, closed form (Sum.doit)", closed),
    )
    setting = "stride 1, dilation 1, padding p ≤ kernel − 1 per side, H' ≥ 2p"
    return Formula(f"taps_clipped_{axis.tag}", "taps in range per axis, stride 1, padding p < kernel", setting, steps, closed)


def _taps_general(axis: _Axis) -> Formula:
    """Per axis: Σ over kernel taps m of the number of output positions whose tap m is inside."""
    (n, k, s, p, d, out), t, pos = axis.size, axis.tap, axis.out_pos
    low_end, high_end = _inside(tap(pos, t, s, p, d), n)
    low = _solve_for(low_end, pos)
    high = _solve_for(high_end, pos)
    first = sympy.Max(0, sympy.ceiling(low.rhs))
    last = sympy.Min(out - 1, sympy.floor(high.rhs))
    per_tap = sympy.Sum(1, (pos, first, last))
    length = sympy.Max(0, per_tap.doit())  # Sum.doit gives last − first + 1; an empty range counts 0
    total = sympy.Sum(length, (t, 0, k - 1))
    steps = (
        Step("tap m of position o reads input coordinate o·s − p + m·d; inside when ≥ 0 (solve)", low),
        Step("… and ≤ H − 1 (solve)", high),
        Step("positions reached by tap m, with 0 ≤ o ≤ H' − 1", per_tap),
        Step("their number, 0 when the range is empty (Sum.doit)", length),
        Step("sum over the kernel taps; SymPy evaluates it for concrete sizes (p = padding before)", total),
    )
    return Formula(f"taps_{axis.tag}", "taps in range per axis (any layer)", "any", steps, total, padding="before")


@lru_cache(maxsize=8)
def formulas(ndim: int = 2) -> dict[str, Formula]:
    """Every derived formula by name for layers with ``ndim`` spatial axes (derived once per ndim, cached).

    >>> formulas()["nnz_valid"].expr
    C_1*C_2*H'*W'*h*w/g
    >>> formulas(1)["params_conv_shared"].expr, formulas(3)["d_x"].expr
    (C_1*C_2*w/g + C_2, C_1*D*H*W)
    """
    axes = _axes(ndim)
    out: dict[str, Formula] = {}
    # sizes first: the parameter counts of the fully-connected layer are sums over d_x, d_y; densities divide by them
    out.update((f.name, f) for f in _size_formulas(axes))
    out.update((f.name, f) for f in _parameter_formulas(axes, out["d_x"], out["d_y"]))
    out.update((f.name, f) for f in _nonzero_formulas(axes))
    out.update((f.name, f) for f in _cost_formulas(axes, out))
    return out


def _ranges(axes: tuple[_Axis, ...], kind: str) -> tuple[tuple, ...]:
    """Summation ranges over every spatial axis, innermost (last axis) first: kernel taps, outputs or inputs."""
    def one(a: _Axis) -> tuple:
        if kind == "tap":
            return (a.tap, 0, a.size.k - 1)
        return (a.out_pos, 0, a.size.out - 1) if kind == "out" else (a.in_pos, 0, a.size.n - 1)
    return tuple(one(a) for a in reversed(axes))


def _indices(axes: tuple[_Axis, ...], kind: str) -> str:
    """The index letters of ``kind`` ("tap", "out", "in"), comma-separated, for the derivation labels."""
    return ", ".join(str(getattr(a, {"tap": "tap", "out": "out_pos", "in": "in_pos"}[kind])) for a in axes)


def _size_formulas(axes: tuple[_Axis, ...]) -> list[Formula]:
    """The output size per axis and the lengths of the flattened x and y."""
    return [
        *(_output_size(a) for a in axes),
        _count("d_x", "length of the flattened input $d_x$", 1, *_ranges(axes, "in"), (lx_, 0, C1 - 1),
               label=f"entries x[l, {_indices(axes, 'in')}]"),
        _count("d_y", "length of the flattened output $d_y$", 1, *_ranges(axes, "out"), (i_, 0, C2 - 1),
               label=f"entries y[i, {_indices(axes, 'out')}]"),
    ]


def _parameter_formulas(axes: tuple[_Axis, ...], d_x: Formula, d_y: Formula) -> list[Formula]:
    """Parameters of the conv layer by bias mode, of the fully-connected and of the locally connected layer."""
    taps, outs = _ranges(axes, "tap"), _ranges(axes, "out")
    tap_names, out_names = _indices(axes, "tap"), _indices(axes, "out")
    # ω[i, l', m, n] with l' over the C₁/g input channels of i's group; b by bias mode
    weights = _count("params_weights", "weights ω of the conv layer", 1,
                     *taps, (l_, 0, C1 / g - 1), (i_, 0, C2 - 1), label=f"entries ω[i, l', {tap_names}]")
    bias_shared = _count("params_bias_shared", "bias, shared over locations", 1, (i_, 0, C2 - 1), label="entries b[i]")
    bias_local = _count("params_bias_per_location", "bias, one per output location", 1,
                        *outs, (i_, 0, C2 - 1), label=f"entries b[i, {out_names}]")
    # the fully-connected layer R^{d_x} → R^{d_y}: one weight per (row, column), one bias per row
    row, col = sympy.Symbol("row", **_idx), sympy.Symbol("col", **_idx)
    fc_w = _count("params_fc_weights", "weights of the fully-connected layer", 1, (col, 0, d_x.expr - 1), (row, 0, d_y.expr - 1),
                  label="entries of a dense d_y × d_x matrix")
    fc_b = _count("params_fc_bias", "bias of the fully-connected layer", 1, (row, 0, d_y.expr - 1), label="one per output")
    # locally connected (unshared): an own kernel and bias at every output position
    local_w = _count("params_local_weights", "weights of the locally connected layer", 1,
                     *taps, (l_, 0, C1 / g - 1), *outs, (i_, 0, C2 - 1), label=f"entries ω[i, {out_names}, l', {tap_names}]")
    return [
        weights, bias_shared, bias_local,
        _sum_of(weights, bias_shared, name="params_conv_shared", title="parameters of the conv layer, shared bias"),
        _sum_of(weights, bias_local, name="params_conv_per_location", title="parameters of the conv layer, bias per location"),
        Formula("params_conv_none", "parameters of the conv layer, no bias", "any", weights.steps, weights.expr),
        _sum_of(fc_w, fc_b, name="params_fc", title="parameters of the fully-connected layer with the same $d_x$, $d_y$"),
        Formula("params_fc_none", "parameters of the fully-connected layer, no bias", "any", fc_w.steps, fc_w.expr),
        _sum_of(local_w, bias_local, name="params_local", title="parameters of the locally connected (unshared) layer"),
    ]


def _nonzero_formulas(axes: tuple[_Axis, ...]) -> list[Formula]:
    """nnz(𝒲) in each setting, after its per-axis tap counts: Σ_i Σ_l' Σ_{j,k} Σ_{m,n} [tap inside] factorises into
    channels × per-axis tap counts."""
    channels = sympy.Sum(1, (l_, 0, C1 / g - 1), (i_, 0, C2 - 1))
    ch = channels.doit()
    out = []
    for kind, make, setting in (
        ("valid", _taps_valid, "padding 0"),
        ("clipped", _taps_clipped, "stride 1, dilation 1, padding p ≤ kernel − 1 per side, H' ≥ 2p"),
        ("general", _taps_general, "any"),
    ):
        per_axis = [make(a) for a in axes]
        name = "nnz" if kind == "general" else f"nnz_{kind}"
        closed = sympy.Mul(ch, *(t.expr for t in per_axis))
        steps = (
            Step("channel pairs (i, l') with l' in the group of i", channels),
            Step(f"× taps per axis ({' · '.join(t.name for t in per_axis)})",
                 sympy.Mul(ch, *(t.expr for t in per_axis), evaluate=False)),
            Step("closed form" if kind != "general" else "evaluated by SymPy for concrete sizes", closed),
        )
        out += [*per_axis, Formula(name, f"nonzeros of 𝒲 ({setting})", setting, steps, closed, padding=per_axis[0].padding)]
    return out


def _cost_formulas(axes: tuple[_Axis, ...], out: dict[str, Formula]) -> list[Formula]:
    """Densities nnz / (d_x·d_y) in each setting, and multiply-accumulates with and without the padding's taps."""
    dense = out["d_x"].expr * out["d_y"].expr
    found = []
    for name in ("nnz_valid", "nnz_clipped", "nnz"):
        f = out[name]
        dens = f.expr / dense if name != "nnz_valid" else sympy.simplify(f.expr / dense)
        suffix = name[3:]
        found.append(Formula(f"density{suffix}", f"density $\\mathrm{{nnz}}(\\mathcal{{W}})/(d_x d_y)$ ({f.setting})",
                             f.setting, (Step("nnz / (d_x · d_y)", sympy.Mul(f.expr, 1 / dense, evaluate=False)),
                                         Step("simplified", dens)), dens, padding=f.padding))
    found.append(Formula("macs", "multiply-accumulates of 𝒲x, taps in the padding skipped (= nnz)", "any",
                         out["nnz"].steps, out["nnz"].expr, padding="before"))
    found.append(_count("macs_dense", "multiply-accumulates counting every tap (FLOP counters)", 1,
                        *_ranges(axes, "tap"), (l_, 0, C1 / g - 1), *_ranges(axes, "out"), (i_, 0, C2 - 1),
                        label="(output, kernel tap) pairs"))
    return found


def formula(name: str, ndim: int = 2) -> Formula:
    """The derived formula ``name`` for ``ndim`` spatial axes (see :func:`formulas`); SpecError naming the choices otherwise.

    >>> formula("output_height").expr
    floor((H - d_h*h + d_h + 2*p_h - 1)/s_h) + 1
    >>> formula("output_width", ndim=1).expr
    floor((W - d_w*w + d_w + 2*p_w - 1)/s_w) + 1
    """
    table = formulas(ndim)
    if name not in table:
        raise SpecError(f"formula must be one of {', '.join(sorted(table))}, got {name!r}")
    return table[name]


def note_setting(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` in the note's setting: stride 1, padding 0, dilation 1, groups 1, H' = H − h + 1, W' = W − w + 1.

    H', W' are substituted by the derived output sizes (not typed in).

    >>> note_setting(formula("d_y").expr)
    C_2*(H - h + 1)*(W - w + 1)
    """
    unit = {s_h: 1, s_w: 1, d_h: 1, d_w: 1, p_h: 0, p_w: 0, g: 1}
    sizes = {H_out: formula("output_height").expr.subs(unit), W_out: formula("output_width").expr.subs(unit)}
    return expr.subs(unit).subs(sizes)


@lru_cache(maxsize=1)
def ratios() -> dict[str, Ratio]:
    """conv/FC ratios as SymPy expressions and their limits as H, W → ∞ (stride 1, dilation 1, padding p).

    >>> ratios()["params_conv_per_location/params_fc"].limit
    0
    """
    setting = "stride 1, dilation 1, padding p per side (H' = H + 2p − h + 1), C₁, C₂, h, w, g, p fixed"
    unit = {s_h: 1, s_w: 1, d_h: 1, d_w: 1}
    sizes = {H_out: formula("output_height").expr.subs(unit), W_out: formula("output_width").expr.subs(unit)}
    t = sympy.Symbol("t", positive=True)
    out = {}
    for num, den, title in (
        ("params_conv_shared", "params_fc", "parameters, conv (shared bias) / fully connected"),
        ("params_conv_per_location", "params_fc", "parameters, conv (bias per location) / fully connected"),
        ("params_conv_shared", "params_local", "parameters, conv (shared bias) / locally connected"),
        ("nnz_valid", "params_fc_none", "nonzeros of $\\mathcal{W}$ / entries of a dense $d_y \\times d_x$ matrix (padding 0)"),
    ):
        ratio = sympy.simplify(formula(num).expr / formula(den).expr)
        if num == "nnz_valid":
            here = {**unit, p_h: 0, p_w: 0}
            in_setting = sympy.simplify(ratio.subs(here).subs({k: v.subs(here) for k, v in sizes.items()}))
            where = "stride 1, dilation 1, padding 0, C₁, C₂, h, w, g fixed"
        else:
            in_setting = sympy.simplify(ratio.subs(unit).subs(sizes))
            where = setting
        limit = sympy.limit(sympy.limit(in_setting, H, sympy.oo), W, sympy.oo)
        diagonal = sympy.limit(in_setting.subs({H: t, W: t}), t, sympy.oo)
        out[f"{num}/{den}"] = Ratio(f"{num}/{den}", title, where, in_setting, limit, diagonal)
    return out


def counts(spec: ConvSpec) -> Counts:
    """Every count of ``spec``, each evaluated from its derived formula.

    >>> c = counts(ConvSpec(3, 64, input_size=32, kernel_size=3, padding=1))
    >>> c.params, c.nnz, c.output_size
    (1792, 1696512, (32, 32))
    >>> counts(ConvSpec(64, 64, input_size=(16, 16, 16), kernel_size=3)).params
    110656
    >>> c = counts(ConvSpec(1, 1, input_size=5, kernel_size=3, padding=1, padding_mode="reflect"))
    >>> c.nnz, c.nnz_formula, c.macs
    (169, 'nnz_reflect_counted', 225)
    """
    if not isinstance(spec, ConvSpec):
        raise SpecError(f"spec must be a symconv.ConvSpec, got {type(spec).__name__}")

    def at(name: str) -> sympy.Expr:
        return formula(name, spec.ndim).at(spec)

    by_bias = tuple((mode, int(at(f"params_conv_{mode}"))) for mode in ("shared", "per_location", "none"))
    if spec.padding_mode == "zeros":
        nnz_name = next(n for n in ("nnz_valid", "nnz_clipped", "nnz") if formula(n, spec.ndim).applies(spec))
        nnz = int(at(nnz_name))
    else:
        nnz_name, nnz = mode_nnz(spec)
    d_x, d_y = int(at("d_x")), int(at("d_y"))
    params = dict(by_bias)[spec.bias]
    params_fc = int(at("params_fc"))
    return Counts(
        spec=spec,
        output_size=tuple(int(at(name)) for name in output_names(spec.ndim)),
        d_x=d_x,
        d_y=d_y,
        params_weights=int(at("params_weights")),
        params_bias=params - int(at("params_weights")),
        params=params,
        params_by_bias=by_bias,
        params_fc=params_fc,
        params_local=int(at("params_local")),
        nnz=nnz,
        nnz_formula=nnz_name,
        density=sympy.Rational(nnz, d_x * d_y),
        macs=nnz if spec.padding_mode == "zeros" else int(at("macs_dense")),
        macs_dense=int(at("macs_dense")),
        ratio_fc=sympy.Rational(params, params_fc),
    )


@dataclass(frozen=True)
class TransposedCounts:
    """The counts of one transposed layer (see :func:`transposed_counts`)."""

    spec: ConvTransposeSpec
    output_size: tuple[int, ...]
    d_in: int
    d_out: int
    params_weights: int
    params_bias: int
    params: int
    nnz: int  # nonzeros of 𝒲ᵀ = multiply-adds of the scatter, taps that land inside the output
    macs_dense: int  # every (input position, tap) pair, as FLOP counters count a transposed convolution

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly: ints and lists."""
        return {"spec": self.spec.describe(), "output_size": list(self.output_size), "d_in": self.d_in,
                "d_out": self.d_out, "params_weights": self.params_weights, "params_bias": self.params_bias,
                "params": self.params, "nnz": self.nnz, "macs_dense": self.macs_dense}


def transposed_counts(spec: ConvTransposeSpec) -> TransposedCounts:
    """The counts of a transposed layer, from the forward layer's derived formulas (𝒲ᵀ has 𝒲's entries).

    Output sizes are the spec's, (n − 1)s − 2p + d(k − 1) + a + 1 per axis (the integer form in core.taps of the
    relationship :mod:`symconv.closed.arithmetic` derives; the tests compare the two); weights are those of the
    forward layer, plus C₂ biases; nnz(𝒲ᵀ) is the forward per-axis tap count (:func:`formula` ``taps_…``) over the
    forward outputs the transposed layer reads.

    >>> c = transposed_counts(ConvTransposeSpec(16, 8, input_size=(4, 4, 4), kernel_size=2, stride=2))
    >>> c.output_size, c.params, c.nnz
    ((8, 8, 8), 1032, 65536)
    """
    if not isinstance(spec, ConvTransposeSpec):
        raise SpecError(f"spec must be a symconv.ConvTransposeSpec, got {type(spec).__name__}")
    forward = spec.forward_spec()
    values = _values(forward, "before")
    values.update({a.size.out: sympy.Integer(n) for a, n in zip(_axes(spec.ndim), spec.forward_rows)})
    taps = sympy.Mul(*(_evaluate_sums(formula(f"taps_{a.tag}", spec.ndim).expr, values).xreplace(values)
                       for a in _axes(spec.ndim)))
    weights = int(formula("params_weights", spec.ndim).at(forward))
    bias = spec.out_channels if spec.bias else 0
    return TransposedCounts(
        spec, spec.output_size, spec.d_in, spec.d_out, weights, bias, weights + bias,
        nnz=spec.in_channels * spec.out_per_group * int(taps),
        macs_dense=spec.in_channels * spec.out_per_group * math.prod(spec.input_size) * math.prod(spec.kernel_size),
    )
