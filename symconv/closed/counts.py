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

Which closed forms exist for nnz(𝒲) (the number of taps that land inside the input):

* padding 0, any stride and dilation — symbolic: every tap is in range, nnz = C₂·(C₁/g)·h·w·H'·W';
* stride 1, dilation 1, padding p ≤ kernel − 1 per side, H' ≥ 2p — symbolic: the clipped taps are
  summed by SymPy (Σ_{o<p} (p − o) at each border), per axis h·H' − p(p + 1);
* anything else (padding with stride or dilation, 'same' with even kernels, padding ≥ kernel) — the
  per-axis sum over kernel taps of the length of the range of output positions that tap reaches,
  with the range's ends derived by ``solve`` from 0 ≤ o·s − p + m·d ≤ H − 1; SymPy evaluates that sum
  term by term for concrete sizes (:meth:`Formula.at`). No closed form is claimed there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from ..core.spec import ConvSpec
from ..core.symbols import C1, C2, g, size_symbols
from ..core.taps import tap
from ..errors import SpecError

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
    "counts",
    "d_h",
    "d_w",
    "formula",
    "formulas",
    "g",
    "h",
    "note_setting",
    "p_h",
    "p_w",
    "ratios",
    "s_h",
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

#: per spatial axis: (input, kernel, stride, padding, dilation, output, kernel-tap index, position index)
_AXES = ((H, h, s_h, p_h, d_h, H_out, m_, j_), (W, w, s_w, p_w, d_w, W_out, n_, k_))


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
    macs: int  # multiply-accumulates of 𝒲x, skipping taps in the padding (= nnz)
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
    for a, (n, k, s, _, d, out, _, _) in enumerate(_AXES):
        ints.update({n: spec.input_size[a], k: spec.kernel_size[a], s: spec.stride[a], d: spec.dilation[a],
                     out: spec.output_size[a]})
    return {**{k: sympy.Integer(v) for k, v in ints.items()}, p_h: pads[0], p_w: pads[1]}


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
        return spec.padding_before == spec.padding_after == (0, 0)
    if setting == "stride 1, dilation 1, padding p ≤ kernel − 1 per side, H' ≥ 2p":
        return (
            spec.stride == (1, 1) and spec.dilation == (1, 1) and spec.padding_before == spec.padding_after
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
def _output_size(axis: int) -> Formula:
    """H' = number of window positions o ≥ 0 whose last tap fits the padded input."""
    n, k, s, p, d, _, _, _ = _AXES[axis]
    fits = tap(o_, k - 1, s, 0, d) <= n + 2 * p - 1  # the last tap, in 0-based coordinates of the padded input
    last = _solve_for(fits, o_)
    positions = sympy.Sum(1, (o_, 0, sympy.floor(last.rhs)))
    closed = positions.doit()
    name = ("output_height", "output_width")[axis]
    steps = (
        Step("the window at position o fits the padded input", fits),
        Step("solved for o (solve)", last),
        Step("count the positions o = 0, 1, …", positions),
        Step("closed form (Sum.doit)", closed),
    )
    return Formula(name, f"output size {('H', 'W')[axis]}' (any stride, padding per side, dilation)", "any", steps, closed)


def _inside(coord: sympy.Expr, n: sympy.Expr) -> tuple[sympy.Rel, sympy.Rel]:
    """core.taps.in_range (0 ≤ coord < n) on integers, as the two conditions ``solve`` takes: coord ≥ 0, coord ≤ n − 1."""
    return coord >= 0, coord <= n - 1


def _taps_valid(axis: int) -> Formula:
    n, k, s, p, d, out, t, pos = _AXES[axis]
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
    return Formula(f"taps_valid_{'hw'[axis]}", "taps in range per axis, padding 0", "padding 0", steps, closed)


def _taps_clipped(axis: int) -> Formula:
    """Stride 1, dilation 1, padding p < kernel: all taps minus those in the padding at both borders."""
    n, k, s, p, d, out, t, pos = _AXES[axis]
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
    return Formula(f"taps_clipped_{'hw'[axis]}", "taps in range per axis, stride 1, padding p < kernel", setting, steps, closed)


def _taps_general(axis: int) -> Formula:
    """Per axis: Σ over kernel taps m of the number of output positions whose tap m is inside."""
    n, k, s, p, d, out, t, pos = _AXES[axis]
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
    return Formula(f"taps_{'hw'[axis]}", "taps in range per axis (any layer)", "any", steps, total, padding="before")


@lru_cache(maxsize=1)
def formulas() -> dict[str, Formula]:
    """Every derived formula by name (derived once, cached).

    >>> formulas()["nnz_valid"].expr
    C_1*C_2*H'*W'*h*w/g
    """
    out: dict[str, Formula] = {}
    # sizes first: the parameter counts of the fully-connected layer are sums over d_x, d_y; densities divide by them
    out.update((f.name, f) for f in _size_formulas())
    out.update((f.name, f) for f in _parameter_formulas(out["d_x"], out["d_y"]))
    out.update((f.name, f) for f in _nonzero_formulas())
    out.update((f.name, f) for f in _cost_formulas(out))
    return out


def _size_formulas() -> list[Formula]:
    """The output size per axis and the lengths of the flattened x and y."""
    return [
        _output_size(0),
        _output_size(1),
        _count("d_x", "length of the flattened input $d_x$", 1, (c_, 0, W - 1), (r_, 0, H - 1), (lx_, 0, C1 - 1),
               label="entries x[l, r, c]"),
        _count("d_y", "length of the flattened output $d_y$", 1, (k_, 0, W_out - 1), (j_, 0, H_out - 1), (i_, 0, C2 - 1),
               label="entries y[i, j, k]"),
    ]


def _parameter_formulas(d_x: Formula, d_y: Formula) -> list[Formula]:
    """Parameters of the conv layer by bias mode, of the fully-connected and of the locally connected layer."""
    # ω[i, l', m, n] with l' over the C₁/g input channels of i's group; b by bias mode
    weights = _count("params_weights", "weights ω of the conv layer", 1,
                     (n_, 0, w - 1), (m_, 0, h - 1), (l_, 0, C1 / g - 1), (i_, 0, C2 - 1), label="entries ω[i, l', m, n]")
    bias_shared = _count("params_bias_shared", "bias, shared over locations", 1, (i_, 0, C2 - 1), label="entries b[i]")
    bias_local = _count("params_bias_per_location", "bias, one per output location", 1,
                        (k_, 0, W_out - 1), (j_, 0, H_out - 1), (i_, 0, C2 - 1), label="entries b[i, j, k]")
    # the fully-connected layer R^{d_x} → R^{d_y}: one weight per (row, column), one bias per row
    row, col = sympy.Symbol("row", **_idx), sympy.Symbol("col", **_idx)
    fc_w = _count("params_fc_weights", "weights of the fully-connected layer", 1, (col, 0, d_x.expr - 1), (row, 0, d_y.expr - 1),
                  label="entries of a dense d_y × d_x matrix")
    fc_b = _count("params_fc_bias", "bias of the fully-connected layer", 1, (row, 0, d_y.expr - 1), label="one per output")
    # locally connected (unshared): an own kernel and bias at every output position
    local_w = _count("params_local_weights", "weights of the locally connected layer", 1,
                     (n_, 0, w - 1), (m_, 0, h - 1), (l_, 0, C1 / g - 1), (k_, 0, W_out - 1), (j_, 0, H_out - 1), (i_, 0, C2 - 1),
                     label="entries ω[i, j, k, l', m, n]")
    return [
        weights, bias_shared, bias_local,
        _sum_of(weights, bias_shared, name="params_conv_shared", title="parameters of the conv layer, shared bias"),
        _sum_of(weights, bias_local, name="params_conv_per_location", title="parameters of the conv layer, bias per location"),
        Formula("params_conv_none", "parameters of the conv layer, no bias", "any", weights.steps, weights.expr),
        _sum_of(fc_w, fc_b, name="params_fc", title="parameters of the fully-connected layer with the same $d_x$, $d_y$"),
        Formula("params_fc_none", "parameters of the fully-connected layer, no bias", "any", fc_w.steps, fc_w.expr),
        _sum_of(local_w, bias_local, name="params_local", title="parameters of the locally connected (unshared) layer"),
    ]


def _nonzero_formulas() -> list[Formula]:
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
        th, tw = make(0), make(1)
        name = "nnz" if kind == "general" else f"nnz_{kind}"
        closed = ch * th.expr * tw.expr
        steps = (
            Step("channel pairs (i, l') with l' in the group of i", channels),
            Step(f"× taps per axis ({th.name} · {tw.name})", sympy.Mul(ch, th.expr, tw.expr, evaluate=False)),
            Step("closed form" if kind != "general" else "evaluated by SymPy for concrete sizes", closed),
        )
        out += [th, tw, Formula(name, f"nonzeros of 𝒲 ({setting})", setting, steps, closed, padding=th.padding)]
    return out


def _cost_formulas(out: dict[str, Formula]) -> list[Formula]:
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
                        (n_, 0, w - 1), (m_, 0, h - 1), (l_, 0, C1 / g - 1), (k_, 0, W_out - 1), (j_, 0, H_out - 1),
                        (i_, 0, C2 - 1), label="(output, kernel tap) pairs"))
    return found


def formula(name: str) -> Formula:
    """The derived formula ``name`` (see :func:`formulas`); SpecError naming the choices otherwise.

    >>> formula("output_height").expr
    floor((H - d_h*h + d_h + 2*p_h - 1)/s_h) + 1
    """
    table = formulas()
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
    """
    if not isinstance(spec, ConvSpec):
        raise SpecError(f"spec must be a symconv.ConvSpec, got {type(spec).__name__}")

    def at(name: str) -> sympy.Expr:
        return formula(name).at(spec)

    by_bias = tuple((mode, int(at(f"params_conv_{mode}"))) for mode in ("shared", "per_location", "none"))
    nnz_name = next(n for n in ("nnz_valid", "nnz_clipped", "nnz") if formula(n).applies(spec))
    nnz = int(at(nnz_name))
    d_x, d_y = int(at("d_x")), int(at("d_y"))
    params = dict(by_bias)[spec.bias]
    params_fc = int(at("params_fc"))
    return Counts(
        spec=spec,
        output_size=(int(at("output_height")), int(at("output_width"))),
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
        macs=nnz,
        macs_dense=int(at("macs_dense")),
        ratio_fc=sympy.Rational(params, params_fc),
    )
