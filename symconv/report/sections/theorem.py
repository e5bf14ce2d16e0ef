"""The theorem for all sizes, as the all-size prover proved it: numbered equations, a lemma list, the verdict.

The prover's steps (:class:`symconv.report.gather.StepProof` from :func:`~symconv.report.gather.step_proof`) come
with terse, program-flavoured justifications; the report says the same in the document's words, per step
name (:data:`WORDS`). A step this module does not know yet keeps the prover's own justification. Words may
point at other steps: ``{L:name}`` becomes the lemma's number (L1, L2, …), ``{E:name}`` the equation's; and at the
document: ``{X:definition}`` is where the document defines the layer by its index sum (see :func:`theorem_view`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ...errors import SpecError
from ..gather import Lemma, StepProof
from ..render import Tex, escape_tex, prose
from .formula import conjunct_lines, display, side

__all__ = ["WORDS", "TheoremLemma", "TheoremLine", "TheoremView", "theorem_view"]

#: step name → (title, justification): LaTeX written here, with {L:…}/{E:…} references to other steps.
WORDS: dict[str, tuple[str, str]] = {
    "definition": ("", r"the index sum{X:definition} that defines the layer, read as the coefficient of "
                   r"$x_{l,r,c}$ in $y_{i,o_h,o_w}$: tap $(m, n)$ of output $(o_h, o_w)$ reads input row "
                   r"$o_h s_h - p_h + m d_h$ and column $o_w s_w - p_w + n d_w$, and input channel "
                   r"$l = q_1\lfloor i/q_2\rfloor + l'$ of the group of $i$"),
    "entry": ("", r"the sum is a product of a sum over $l'$, evaluated by {L:sum_channels}, and one sum per kernel axis, "
              r"evaluated by {L:sum_taps} after solving each Kronecker delta for the tap by {L:tap_solve}"),
    "theorem": ("", r"row $R$ of $\symconvW x + b$ is $\sum_Q \symconvW_{R,Q}\, x_Q + b_R$. By {L:block_entries} its entries "
                r"are the coefficients~{E:entry}, so it is $y_{i,o_h,o_w}$ term by term; {L:flatten} and {L:row_order} number "
                r"the columns and rows bijectively, {L:window}--{L:injective} make the taps of~{E:definition} exactly the "
                r"inputs read, each once, and {L:bias} gives the constant term"),
    "tap_solve": ("The tap map, solved for the tap",
                  r"column $c$ is read by tap $t$ of output column $o_w$ exactly when $d_w$ divides $u_w$ and "
                  r"$t = \lfloor u_w/d_w \rfloor$; the height axis is the same with $r$, $o_h$, $s_h$, $p_h$, $d_h$"),
    "sum_taps": ("The sum over one kernel axis",
                 r"SymPy evaluates the sum of Kronecker deltas in the form {L:tap_solve} gives it, and Z3 decides the "
                 r"side conditions of that evaluation; the height axis is the same with $r$, $o_h$, $s_h$, $p_h$, $d_h$, $h$"),
    "sum_channels": ("The sum over the input channels of a group",
                     r"SymPy evaluates the sum; Z3 proves that the condition says exactly that input channel $l$ lies in "
                     r"the group $\lfloor i/q_2 \rfloor$ of output channel $i$, with $C_1 = g q_1$ and $C_2 = g q_2$"),
    "window": ("Every tap lies in the padded input",
               r"for an output $0 \le o < H'$ and a tap $0 \le t < h$ (and the same for the width)"),
    "maximal": ("The output size is maximal", r"one more output row (column) would not fit in the padded input"),
    "injective": ("Distinct taps read distinct inputs", r"for taps $t \ne t_2$ of one output, as $d_h, d_w \ge 1$"),
    "radix": ("Mixed-radix numbering",
              r"for a radix $N \ge 1$, a digit $0 \le d < N$ and $0 \le a < M$, the number $aN + d$ is unique, lies in "
              r"$0, \dots, MN - 1$ and is undone by $\lfloor \cdot / N \rfloor$ and $\bmod N$"),
    "flatten": ("The columns of $\\symconvW$",
                r"the blocks put $x_{l,r,c}$ in column $Q$, the C-order flattening of $x$; by {L:radix} a bijection "
                r"onto $0, \dots, C_1 H W - 1$"),
    "row_order": ("The rows of $\\symconvW$",
                  r"output $(i, o_h, o_w)$ is row $R$ in the note's order (location, then channel), the order used here, "
                  r"and row $R'$ in channel-major order; by {L:radix} both are bijections onto $0, \dots, C_2 H' W' - 1$, so "
                  r"the two orders differ by a permutation of the rows"),
    "zero_blocks": ("The zero blocks",
                    r"in $\symconvW_{j,k,l}$ the zero block before the first block $B$ has $z_{\mathrm{before}}$ columns, "
                    r"consecutive blocks $B$ are $z_{\mathrm{gap}}$ columns apart, and inside $B$ the first weight follows "
                    r"$z_B$ zeros; in the note's setting ($s = d = 1$, $p = 0$) these are the note's $(j-1)W$, $0$ and "
                    r"$k - 1$"),
    "block_entries": ("The placed entries are the coefficients",
                      r"each $\omega_{i,l',m,n}$ that the blocks place at row $R$ and column $Q$ equals the coefficient~"
                      r"{E:entry} of $x_{l,r,c}$ in $y_{i,o_h,o_w}$; every nonzero coefficient is placed, and no two "
                      r"placements collide"),
    "bias": ("The bias", r"entry $b_R$ of the bias vector is the constant term of $y_{i,o_h,o_w}$, found through "
             r"{L:row_order}"),
    # the conv_transpose steps (prove_general(identities=("transposed",))), in the forward layer's names
    "transposed_coefficient": (
        r"The coefficients of $\operatorname{conv}^{\top}$",
        r"PyTorch's index sum~\eqref{symconv-eq:definition} in the forward layer's names (output $z_{l,r,c}$ of size "
        r"$C_1 \times H \times W$, input $y$ of size $C_2 \times H' \times W'$, weight $\omega_{i,l',m,n}$ in PyTorch's "
        r"layout $(C_2, q_1, h, w)$), differentiated by SymPy with respect to $y_{i,o_h,o_w}$; Z3 proves the range "
        r"conditions of the outer sums for $0 \le i < C_2$, $0 \le o_h < H'$, $0 \le o_w < W'$; the constant term "
        r"is $b_T(l)$, one bias per output channel. Here $[x_{l,r,c}]\,y_{i_2,u,v}$ is the coefficient~{E:definition} of "
        r"the forward index sum at output $(i_2, u, v)$: the same sum, named"),
    "transposed_size": (
        r"The output size of the convolution at input $H \times W$",
        r"with $H = (H' - 1)s_h - 2p_h + d_h(h - 1) + a_h + 1$, $a_h \ge 0$ and $a_h < s_h$ or $a_h < d_h$ (the width "
        r"likewise), the kernel fits and the convolution with input $H \times W$ has $H' + \lfloor a_h/s_h \rfloor$ "
        r"output rows and $W' + \lfloor a_w/s_w \rfloor$ columns; the equalities with $H'$ and $W'$ alone assume "
        r"$a_h < s_h$ and $a_w < s_w$"),
    "transposed_entry": (
        r"The coefficients are entries of $\symconvW$",
        r"on the transposed ranges ($0 \le o_h < H'$, $0 \le r < H$, the width likewise) Z3 solves each tap "
        r"condition as in {L:tap_solve}, and SymPy sums over the taps and channels as in {L:sum_taps} and "
        r"{L:sum_channels}: the coefficient of $y_{i,o_h,o_w}$ in $z_{l,r,c}$ is the entry~{E:entry} of $\symconvW$ in "
        r"row $(i, o_h, o_w)$ and column $(l, r, c)$"),
    "transposed_theorem": (
        "", r"by {L:transposed_coefficient} and {L:transposed_entry}, $z_{l,r,c} = b_T(l) + \sum_{i,o_h,o_w} "
            r"\symconvW_{(i,o_h,o_w),(l,r,c)}\, y_{i,o_h,o_w}$, the sum over $o_h < H'$, $o_w < W'$: column $(l, r, c)$ "
            r"of the rows $o < H'$ of $\symconvW$, the matrix of $\operatorname{conv}$ by~{E:theorem}. By "
            r"{L:transposed_size} these are all its rows when $a_h < s_h$ and $a_w < s_w$"),
}
_REFERENCE = re.compile(r"\{([LEX]):(\w+)\}")


@dataclass(frozen=True)
class TheoremLine:
    """One numbered equation: ``lhs`` (None: continues the previous line) ``= rhs``, and why."""

    lhs: Tex | None
    rhs: Tex
    justification: Tex
    holds: bool | None


@dataclass(frozen=True)
class TheoremLemma:
    """One side condition: its label (``symconv-lem:…``), title, display lines, why, verdict, SymPy's wrong form."""

    label: str
    title: Tex
    statement: Tex  # display math; lines separated by \\ (for a gathered environment)
    justification: Tex
    holds: bool | None
    refuted: Tex | None  # SymPy's own evaluation, which Z3 refuted (display math)
    refuted_at: Tex | None  # where, and what it gives there (inline math)


@dataclass(frozen=True)
class TheoremView:
    """The all-size proof ready to print: hypotheses, numbered equations, lemmas, verdict."""

    status: str  # proved, refuted, undetermined
    failed: Tex | None  # the first step not proved, in words
    counterexample: Tex | None
    assumptions: tuple[Tex, ...]
    lines: tuple[TheoremLine, ...]
    lemmas: tuple[TheoremLemma, ...]
    rechecks: int
    bias: str  # "shared", "per_location", "none"


def _label(name: str) -> str:
    return "symconv-lem:" + name.replace("_", "-")


def _words(name: str, fallback: str, refs: dict[tuple[str, str], str]) -> tuple[Tex, Tex]:
    """Title and justification of step ``name``: the report's words, else the prover's (escaped)."""
    if name in WORDS:
        title, words = WORDS[name]
        return Tex(title), Tex(_REFERENCE.sub(lambda m: refs.get((m[1], m[2]), "a step below"), words))
    try:
        said = prose(fallback)
    except SpecError:  # a character pdflatex cannot print: say what kind of step it is instead
        said = Tex("decided by the all-size prover")
    return escape_tex(name.replace("_", " ")), said


def _refuted(lemma: Lemma) -> tuple[Tex | None, Tex | None]:
    """SymPy's refuted evaluation (display math) and, in words, where it fails and what it gives there."""
    if lemma.refuted_form is None:
        return None, None
    at = dict(lemma.refuted_at)
    names = {str(s): s for s in lemma.refuted_form.free_symbols}
    there = sympy.piecewise_fold(lemma.refuted_form.subs({names[k]: v for k, v in at.items() if k in names}))
    values = ", ".join(f"{side(sympy.Symbol(k))} = {v}" for k, v in at.items())
    if isinstance(there, sympy.Piecewise) and len(there.args) == 2 and there.args[1] == (0, sympy.true):
        gives = f"${side(there.args[0][0])}$ when ${display(there.args[0][1])}$"
    else:
        gives = f"${display(there)}$"
    return display(lemma.refuted_form), Tex(f"${values}$, where it gives {gives}")


def _merged(expr: sympy.Basic) -> sympy.Basic:
    """Nested guards "v if c₂ else 0" inside "… if c₁ else 0" as one "v if c₁ ∧ c₂ else 0" (SymPy's outer sums nest them).

    >>> x = sympy.Symbol("x")
    >>> _merged(sympy.Piecewise((sympy.Piecewise((x, x < 2), (0, True)), x > 0), (0, True)))
    Piecewise((x, (x > 0) & (x < 2)), (0, True))
    """
    def guarded(e: sympy.Basic) -> bool:
        return isinstance(e, sympy.Piecewise) and len(e.args) == 2 and e.args[1].cond == sympy.true and e.args[1].expr == 0

    def merge(e: sympy.Basic) -> sympy.Basic:
        inner, cond = e.args[0]
        if not guarded(inner):
            return e
        return sympy.Piecewise((inner.args[0].expr, sympy.And(cond, inner.args[0].cond)), (0, True))

    return expr.replace(guarded, merge)


#: The output indices under which the conv_transpose steps use the forward coefficient: the prover's names.
_OUTPUTS = (("i", "o_h", "o_w"), ("i_2", "u", "v"))


def _flat_sums(expr: sympy.Basic) -> sympy.Basic:
    """Σ_a f·Σ_b g (f free of b) as Σ_{b,a} f·g, repeatedly: SymPy's evaluation nests the sums of one coefficient."""
    def nested(e: sympy.Basic) -> bool:
        if not isinstance(e, sympy.Sum) or not isinstance(e.function, (sympy.Mul, sympy.Sum)):
            return False
        inner = [f for f in sympy.Mul.make_args(e.function) if isinstance(f, sympy.Sum)]
        return len(inner) == 1 and not (sympy.Mul(*[f for f in sympy.Mul.make_args(e.function) if f is not inner[0]])
                                         .free_symbols & set(inner[0].variables))

    def merge(e: sympy.Basic) -> sympy.Basic:
        inner = next(f for f in sympy.Mul.make_args(e.function) if isinstance(f, sympy.Sum))
        rest = sympy.Mul(*[f for f in sympy.Mul.make_args(e.function) if f is not inner])
        return sympy.Sum(rest * inner.function, *inner.limits, *e.limits)

    previous = None
    while previous != expr:
        previous, expr = expr, expr.replace(nested, merge)
    return expr


def _coefficients(expr: sympy.Basic, definition: sympy.Eq | None) -> sympy.Basic:
    """Every sum in ``expr`` that is the forward coefficient ``definition`` (step ``definition``: [x_{l,r,c}] y_{i,o_h,o_w}
    = Σ …) at output (i, o_h, o_w) or (i₂, u, v), written as that coefficient: the same expression, named."""
    if definition is None or not isinstance(expr, sympy.Basic) or not expr.has(sympy.Sum):
        return expr
    symbols = {str(x): x for x in expr.atoms(sympy.Symbol) | definition.rhs.atoms(sympy.Symbol)}  # bound ones too
    known = {}
    for names in _OUTPUTS:
        if all(n in symbols for n in names):
            rename = {symbols[a]: symbols[b] for a, b in zip(_OUTPUTS[0], names)}
            known[definition.rhs.xreplace(rename)] = sympy.Symbol(
                str(definition.lhs).replace("y_{i,o_h,o_w}", "y_{" + ",".join(names) + "}"))
    return _flat_sums(expr.xreplace(known)).xreplace(known)  # as written, then with SymPy's nested sums flattened


def _sides(statement: sympy.Basic) -> tuple[sympy.Basic, Tex | None]:
    """A step's statement as (lhs, rhs typeset); a tuple of an equation and further statements (the transposed
    theorem and its "a < s ⇒ …") as the equation with the others after it on the same line; no rhs: not an equation."""
    if isinstance(statement, sympy.Eq):
        return statement.lhs, side(statement.rhs)
    if isinstance(statement, sympy.Tuple) and statement.args and isinstance(statement.args[0], sympy.Eq):
        first, *more = statement.args
        return first.lhs, Tex(side(first.rhs) + "".join(rf",\qquad {side(m)}" for m in more))
    return statement, None


def theorem_view(proof: StepProof, bias: str, definition: str = r"~\eqref{symconv-eq:definition}") -> TheoremView:
    """The all-size proof ``proof`` (from the prover, through :func:`~symconv.report.gather.step_proof`), ready to print.

    ``definition``: LaTeX pointing at the document's index sum that defines the layer (the layer report's
    equation by default), printed right after the words "the index sum".

    >>> from symconv.report.gather import GENERAL_CLAIM, general_proof, step_proof
    >>> v = theorem_view(step_proof(general_proof("seed", "shared"), GENERAL_CLAIM), "shared")
    >>> v.status, len(v.lines), v.lemmas[0].label
    ('proved', 3, 'symconv-lem:tap-solve')
    """
    refs = {("X", "definition"): definition}
    refs |= {("L", lemma.name): rf"(\ref{{{_label(lemma.name)}}})" for lemma in proof.lemmas if lemma.name}
    refs |= {("E", step.name): rf"\eqref{{symconv-eq:thm-{n}}}" for n, step in enumerate(proof.steps, 1) if step.name}
    definition_step = next((s.statement for s in proof.steps if s.name == "definition"
                            and isinstance(s.statement, sympy.Eq)), None)
    lines, previous = [], None
    for step in proof.steps:
        lhs, rhs = _sides(step.statement)
        justification = _words(step.name, step.justification, refs)[1]
        lines.append(TheoremLine(None if lhs == previous else side(lhs), Tex("") if rhs is None else rhs,
                                 justification, step.holds))
        previous = lhs if rhs is not None else None
    lemmas = []
    for lemma in proof.lemmas:
        title, justification = _words(lemma.name, lemma.justification, refs)
        statement = lemma.statement
        statement = _coefficients(_merged(statement), definition_step) if lemma.name.startswith("transposed") else statement
        shown = (display(statement) if isinstance(statement, sympy.Basic) else prose(str(statement)))
        if shown.startswith("["):  # amsmath would read a leading [...] as an option of the display environment
            shown = Tex("{}" + shown)
        lemmas.append(TheoremLemma(_label(lemma.name or f"side-{len(lemmas) + 1}"), title, shown, justification,
                                   lemma.holds, *_refuted(lemma)))
    failed = None if proof.failed is None else escape_tex(proof.failed.replace("_", " "))
    counterexample = None if proof.counterexample is None else escape_tex(proof.counterexample)
    assumptions = conjunct_lines(proof.assumptions) if proof.assumptions is not None else ()
    return TheoremView(proof.status or ("proved" if proof.holds else "undetermined"), failed, counterexample,
                       assumptions, tuple(lines), tuple(lemmas), proof.rechecks, bias)
