"""The backprop report's results (:mod:`symconv.report.gather_backward`) shaped for ``backward_report.tex.j2``.

The identities are written with the layer's own numbers (0-based indices; x read as 0 outside the input, the zero
padding): output letters and tap letters as in the N-D report (:func:`.nd.axis_letters`), input positions r (1-D),
(r, c) (2-D), (e, r, c) (3-D). Only reads frozen results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ...core.spec import ConvSpec
from ...errors import SpecError
from ..gather import StepProof
from ..gather_backward import BackwardResults, WorkedEntry
from ..render import Tex, escape_tex, latex
from .formula import side
from .nd import ProofRow, _definition, _sub, _tap_latex, axis_letters
from .note import x_join

__all__ = ["MAX_WORKED_TERMS", "BackwardAllSizes", "BackwardSection", "GradStep", "WorkedView", "backward_section"]

#: What each grad_* step of the all-size prover says, in the report's words.
GRAD_WORDS: dict[str, str] = {
    "grad_input": r"the chain rule on $\operatorname{conv}(x) = \symconvW x + b$: SymPy differentiates "
                  r"$\sum_R g_R(\sum_{Q'} \symconvW_{R,Q'} x_{Q'} + b_R)$ with respect to $x_Q$, Z3 proves the range "
                  r"condition; Z3 proves that $a = (H + 2p_h - d_h(h - 1) - 1) \bmod s_h$ has $0 \le a < s_h$ and "
                  r"$(H' - 1)s_h - 2p_h + d_h(h - 1) + a + 1 = H$ (the width likewise), so by the conv\_transpose theorem "
                  r"$\partial L/\partial x = \symconvW^{\top} g = \operatorname{conv}^{\top}(g)$ with output padding $a$",
    "grad_weight": r"SymPy differentiates the index sum with respect to $\omega_{i,l',m,n}$ (Kronecker deltas); Z3 proves "
                   r"it equal to this cross-correlation of $x$ with $g$, coefficient by coefficient of $g$; "
                   r"$x_{\mathrm{pad}}$ is $x$ inside the input and 0 outside",
    "grad_bias": r"SymPy differentiates the index sum with respect to the bias; Z3 proves it equal to this sum of $g$",
}
_INPUT_LETTERS = {1: ("r",), 2: ("r", "c"), 3: ("e", "r", "c")}
#: The identities prove_backward checks, by name, as the report writes them.
IDENTITY_TEX: dict[str, str] = {
    "grad_x_matrix": r"$\partial L/\partial x = \symconvW^{\top} g$",
    "grad_x_transposed": r"$\partial L/\partial x = \operatorname{conv}^{\top}(g)$",
    "grad_w": r"$\partial L/\partial \omega = \operatorname{xcorr}(x, g)$",
    "grad_b": r"$\partial L/\partial b = \sum g$",
}


@dataclass(frozen=True)
class WorkedView:
    """One gradient entry written out: its name, the products a few per line, how many."""

    entry: Tex
    lines: tuple[Tex, ...]
    count: int


@dataclass(frozen=True)
class GradStep:
    """One grad_* step of the all-size proof: its two sides, why, verdict."""

    lhs: Tex
    rhs: Tex
    justification: Tex
    holds: bool | None


@dataclass(frozen=True)
class BackwardAllSizes:
    """The all-size theorem: verdict, the first step not proved, its grad_* steps, and this layer's sizes."""

    status: str  # proved, refuted, undetermined
    failed: Tex | None
    counterexample: Tex | None
    earlier: int  # steps before the grad_* steps (conv = 𝒲x + b, conv_transpose), all proved when status is proved
    steps: tuple[GradStep, ...]
    rechecks: int
    values: Tex


@dataclass(frozen=True)
class BackwardSection:
    """Everything ``backward_report.tex.j2`` lays out (LaTeX pieces and plain words)."""

    ndim: int
    description: str
    quantities: tuple[tuple[str, str], ...]
    definition: Tex
    ranges: Tex
    g_shape: str
    grad_x: Tex
    grad_w: Tex
    grad_b: Tex | None
    runs: tuple[tuple[str, ProofRow], ...]  # (what, verdict)
    holds: bool
    transposed: str | None  # the ConvTranspose, described; None: padding before ≠ after
    output_padding: tuple[Tex, ...]  # per axis: the formula with the layer's numbers
    xcorr: tuple[Tex, ...]  # per axis: the cross-correlation's stride and dilation
    worked: tuple[WorkedView, ...]
    all_sizes: BackwardAllSizes | None
    not_claimed: str | None  # why the all-size theorem does not apply (1-D/3-D, per-side padding)


def _sums(letters: tuple[str, ...], sizes: tuple[int, ...]) -> str:
    return "".join(rf"\sum_{{{a}=0}}^{{{n - 1}}}" for a, n in zip(letters, sizes))


def _identities(spec: ConvSpec) -> tuple[Tex, Tex, Tex | None]:
    """∂L/∂x, ∂L/∂ω, ∂L/∂b with the layer's numbers (0-based; x = 0 outside the input)."""
    outs, taps, _ = axis_letters(spec.ndim)
    ins = _INPUT_LETTERS.get(spec.ndim, tuple(f"r_{a + 1}" for a in range(spec.ndim)))
    conds = r"\,".join(rf"[{r} = {_tap_latex(o, t, s, p, d)}]" for r, o, t, s, p, d in
                       zip(ins, outs, taps, spec.stride, spec.padding_before, spec.dilation))
    if spec.groups == 1:
        channels, local = rf"\sum_{{i=0}}^{{{spec.out_channels - 1}}}", "l"
    else:
        q1, q2 = spec.in_per_group, spec.out_per_group
        channels = rf"\sum_{{i = {q2}\lfloor l/{q1} \rfloor}}^{{{q2}\lfloor l/{q1} \rfloor + {q2 - 1}}}"
        local = rf"l - {q1}\lfloor l/{q1} \rfloor"
    grad_x = Tex(rf"\frac{{\partial L}}{{\partial x_{{{_sub('l', *ins)}}}}} = {channels}"
                 rf"{_sums(outs, spec.output_size)}{_sums(taps, spec.kernel_size)} {conds}\; "
                 rf"\omega_{{{_sub('i', local, *taps)}}}\, g_{{{_sub('i', *outs)}}}")
    channel = "l'" if spec.groups == 1 else rf"{spec.in_per_group}\lfloor i/{spec.out_per_group} \rfloor + l'"
    coords = [_tap_latex(o, t, s, p, d) for o, t, s, p, d in
              zip(outs, taps, spec.stride, spec.padding_before, spec.dilation)]
    lq = "l'"
    grad_w = Tex(rf"\frac{{\partial L}}{{\partial \omega_{{{_sub('i', lq, *taps)}}}}} = {_sums(outs, spec.output_size)} "
                 rf"g_{{{_sub('i', *outs)}}}\, x_{{{_sub(channel, *coords)}}}")
    grad_b = {"none": None, "per_location": Tex(rf"\frac{{\partial L}}{{\partial b_{{{_sub('i', *outs)}}}}} = "
                                                rf"g_{{{_sub('i', *outs)}}}"),
              "shared": Tex(rf"\frac{{\partial L}}{{\partial b_{{i}}}} = {_sums(outs, spec.output_size)} "
                            rf"g_{{{_sub('i', *outs)}}}")}[spec.bias]
    return grad_x, grad_w, grad_b


def _output_padding(r: BackwardResults) -> tuple[Tex, ...]:
    """Per axis: a = (n + 2p − d(k − 1) − 1) mod s with the layer's numbers."""
    spec, (_, _, names) = r.spec, axis_letters(r.spec.ndim)
    if r.transposed is None:
        return ()
    return tuple(Tex(rf"\text{{{name}: }} a = ({n} + 2\cdot {p} - {d}\cdot({k} - 1) - 1) \bmod {s} = {a}")
                 for name, n, p, d, k, s, a in zip(names, spec.input_size, spec.padding_before, spec.dilation,
                                                   spec.kernel_size, spec.stride, r.transposed.output_padding))


def _xcorr(spec: ConvSpec) -> tuple[Tex, ...]:
    _, _, names = axis_letters(spec.ndim)
    return tuple(Tex(rf"\text{{{name}: }} \text{{input }} {n},\ \text{{kernel }} g \text{{ of size }} {o},\ "
                     rf"\text{{stride }} {d},\ \text{{dilation }} {s},\ \text{{padding }} {p} \to {k} \text{{ taps}}")
                 for name, n, o, d, s, p, k in zip(names, spec.input_size, spec.output_size, spec.dilation, spec.stride,
                                                   spec.padding_before, spec.kernel_size))


#: A worked entry prints at most this many products (a wide layer's weight gradient sums over every output position).
MAX_WORKED_TERMS = 32


def _lines(terms: list[str], per_line: int) -> tuple[Tex, ...]:
    """The terms joined by +, ``per_line`` to a line, at most :data:`MAX_WORKED_TERMS` of them, then how many more."""
    shown = terms[:MAX_WORKED_TERMS]
    lines = [" + ".join(shown[n:n + per_line]) for n in range(0, len(shown), per_line)] or ["0"]
    if len(terms) > len(shown):
        lines.append(rf"\dots \quad \text{{({len(terms) - len(shown)} more)}}")
    return tuple(Tex(line) for line in lines)


def _worked(name: str, entry: WorkedEntry, per_line: int = 4) -> WorkedView:
    terms = [rf"{latex(a)}\, {latex(g)}" for a, g in entry.products]
    return WorkedView(Tex(rf"\frac{{\partial L}}{{\partial {name}_{{{_sub(*entry.index)}}}}}"), _lines(terms, per_line),
                      len(terms))


def _bias_worked(r: BackwardResults) -> tuple[WorkedView, ...]:
    if r.grad_b is None:
        return ()
    index = (0,) if r.spec.bias == "shared" else (0,) * (1 + r.spec.ndim)
    terms = [latex(g) for g in r.grad_b]
    return (WorkedView(Tex(rf"\frac{{\partial L}}{{\partial b_{{{_sub(*index)}}}}}"), _lines(terms, 6), len(terms)),)


def _all_sizes(spec: ConvSpec, proof: StepProof) -> BackwardAllSizes:
    """The grad_* steps of the all-size proof (lemma steps of :func:`~symconv.report.gather.step_proof`)."""
    grads = [s for s in proof.lemmas if s.name.startswith("grad_")]
    steps = tuple(GradStep(side(s.statement.lhs), side(s.statement.rhs), Tex(GRAD_WORDS.get(s.name, "")), s.holds)
                  for s in grads if isinstance(s.statement, sympy.Eq))
    names = ("C_1", "C_2", "G", "H", "W", "h", "w", "s_h", "s_w", "p_h", "p_w", "d_h", "d_w", "H'", "W'")
    numbers = (spec.in_channels, spec.out_channels, spec.groups, *spec.input_size, *spec.kernel_size, *spec.stride,
               *spec.padding_before, *spec.dilation, *spec.output_size)
    values = ", ".join(f"${n} = {v}$" for n, v in zip(names, numbers))
    status = proof.status or ("proved" if proof.holds else "undetermined")
    return BackwardAllSizes(status, None if proof.failed is None else escape_tex(proof.failed.replace("_", " ")),
                            None if proof.counterexample is None else _said(proof.counterexample),
                            len(proof.steps) + len(proof.lemmas) - len(grads), steps, proof.rechecks, Tex(values))


def _not_claimed(spec: ConvSpec) -> str | None:
    if spec.ndim != 2:
        return (f"symconv's all-size prover (symconv.prove.general) proves the backprop identities for every size of a "
                f"2-D layer only; for this {spec.ndim}-D layer they are proved above at its own sizes only")
    if spec.padding_before != spec.padding_after:
        return ("symconv's all-size prover takes the same padding before and after every axis; this layer's padding "
                "differs, so the identities are proved above at its own sizes only")
    return None


def _quantities(spec: ConvSpec) -> tuple[tuple[str, str], ...]:
    padding = x_join(spec.padding_before) if spec.padding_before == spec.padding_after else \
        f"{x_join(spec.padding_before)} before, {x_join(spec.padding_after)} after"
    return (("input channels $C_1$", str(spec.in_channels)), ("output channels $C_2$", str(spec.out_channels)),
            ("input size", x_join(spec.input_size)), ("kernel size", x_join(spec.kernel_size)),
            ("stride $s$", x_join(spec.stride)), ("padding $p$ (zeros)", padding), ("dilation $d$", x_join(spec.dilation)),
            ("groups", str(spec.groups)), ("bias", {"shared": "one per output channel", "per_location": "one per output",
                                                    "none": "none"}[spec.bias]),
            ("output size", x_join(spec.output_size)))


#: Characters of the provers' messages that pdflatex cannot print as text, as LaTeX.
_SYMBOLS = {"∂": r"$\partial$", "ω": r"$\omega$", "×": r"$\times$", "→": r"$\to$", "𝒲": r"$\symconvW$",
            "Σ": r"$\Sigma$", "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\ne$", "ᵀ": r"$^{\top}$", "′": "'"}


def _said(text: str) -> Tex:
    """A prover's message, escaped; its mathematical characters typeset (any other non-ASCII: a pointer instead).

    >>> print(_said("∂L/∂ω at 2×1"))
    $\\partial$L/$\\partial$$\\omega$ at 2$\\times$1
    """
    pieces = re.split("(" + "|".join(map(re.escape, _SYMBOLS)) + ")", text)
    try:
        return Tex("".join(_SYMBOLS[p] if p in _SYMBOLS else escape_tex(p) for p in pieces))
    except SpecError:
        return Tex(r"see \texttt{symconv prove --backward}")


def backward_section(r: BackwardResults) -> BackwardSection:
    """The results of :func:`~symconv.report.gather_backward.gather_backward`, shaped for the template.

    >>> from symconv.report.gather_backward import gather_backward
    >>> s = backward_section(gather_backward(ConvSpec(1, 1, input_size=(4,), kernel_size=2, stride=2)))
    >>> s.holds, s.all_sizes is None
    (True, True)
    >>> print(s.output_padding[0])
    \\text{length: } a = (4 + 2\\cdot 0 - 1\\cdot(2 - 1) - 1) \\bmod 2 = 0
    """
    spec = r.spec
    definition, ranges = _definition(spec)
    grad_x, grad_w, grad_b = _identities(spec)
    return BackwardSection(
        ndim=spec.ndim, description=spec.describe(), quantities=_quantities(spec), definition=definition,
        ranges=ranges, g_shape=x_join(spec.output_shape), grad_x=grad_x, grad_w=grad_w, grad_b=grad_b,
        runs=tuple((Tex(IDENTITY_TEX.get(i.name, escape_tex(i.name))), ProofRow(
            r.proof.method, i.holds, i.compared, i.mismatched, None if i.counterexample is None else _said(i.counterexample)))
            for i in r.proof.identities),
        holds=r.proof.holds, transposed=None if r.transposed is None else r.transposed.describe(),
        output_padding=_output_padding(r), xcorr=_xcorr(spec),
        worked=(_worked("x", r.grad_x), _worked(r"\omega", r.grad_w), *_bias_worked(r)),
        all_sizes=None if r.theorem is None else _all_sizes(spec, r.theorem), not_claimed=_not_claimed(spec),
    )
