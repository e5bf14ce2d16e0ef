"""Everything a report prints, computed here, once, into frozen results that the sections only read.

The report stage is gather → sections → render: this module calls the library (``verify``, ``counts``,
``receptive_field``, ``check_receptive_field``, ``effective_receptive_field``, the note's blocks of 𝒲);
:mod:`.sections` shapes the results for the templates and :mod:`.render` lays them out. Nothing below
knows about LaTeX. Symbols and indices are symconv's own (0-based); the sections rename them to the
note's numbering. Flat output positions are C-order over the output grid (``j·W' + k``).

The limits on what gets *built* live here (an explicit 𝒲 only when small, the literal note check
only up to a size), because building is where the time and memory go.

>>> from symconv.core.spec import ConvSpec
>>> layer = gather_layer(ConvSpec(1, 1, input_size=3, kernel_size=2))
>>> [v.method for v in layer.proof.verdicts], layer.receptive.cells, layer.sparsity.nnz
(['sympy', 'index'], 4, 16)
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from ..closed.counts import Counts, Formula, Ratio, counts, formula, note_setting, output_names, ratios
from ..core.spec import ConvSpec
from ..core.symbols import bias_array, input_array, weight_array
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from ..forms.blocks import block_terms, blocks, kernel_rows, matrix, matrix_as_written
from ..forms.direct import direct_terms
from ..forms.transposed import transposed_matrix_terms
from ..prove.verdict import Verdict
from ..prove.verify import verify
from ..receptive.check import FieldCheck, check_receptive_field, layer_operator
from ..receptive.field import (
    EffectiveField,
    ReceptiveField,
    Region,
    conv_inputs,
    effective_receptive_field,
    receptive_field,
)
from ..receptive.forms import ReceptiveForms, receptive_forms
from ..receptive.layers import Layer

__all__ = [
    "BOTH_ENGINES_TERMS",
    "GENERAL_CLAIM",
    "GENERAL_RECHECKS",
    "MAX_AS_WRITTEN_TERMS",
    "MAX_EXPLICIT_COLS",
    "MAX_EXPLICIT_ROWS",
    "BlockResults",
    "CountResults",
    "CountValue",
    "DefinitionResults",
    "EffectiveResults",
    "FieldDisagreement",
    "LayerResults",
    "MAX_MASK_CHECK_POSITIONS",
    "MaskCheck",
    "Lemma",
    "OutputTerms",
    "PlacedBlock",
    "ProofResults",
    "ProofStep",
    "StepProof",
    "ReceptiveResults",
    "SparsityCounts",
    "StackResults",
    "check_position",
    "flat_position",
    "check_masks",
    "gather_blocks",
    "gather_counts",
    "gather_definition",
    "general_proof",
    "note_theorem",
    "NOTE_SETTING",
    "gather_layer",
    "gather_proof",
    "gather_receptive",
    "gather_sparsity",
    "gather_stack",
    "layer_symbols",
    "step_proof",
    "theorem_steps",
    "in_note_setting",
]

#: Both engines run when the SymPy one takes well under a second.
BOTH_ENGINES_TERMS = 20_000
#: The note's literal 𝒲 is a SymPy sparse matrix: checked up to this many terms.
MAX_AS_WRITTEN_TERMS = 20_000
#: Largest 𝒲_{j,k,l}, 𝒲_{j,k} and 𝒲 built entry by entry (wider ones are reported in block notation only).
MAX_EXPLICIT_COLS, MAX_EXPLICIT_ROWS = 18, 24
# The sparsity counts are binned to at most this many cells (rows × columns) of 𝒲: the figure's resolution.
_SPARSITY_MAX_CELLS_Y, _SPARSITY_MAX_CELLS_X = 640, 512
_CHUNK_TERMS = 1 << 20  # block terms per chunk: a few tens of MiB of int64 at a time


def in_note_setting(spec: ConvSpec) -> bool:
    """Whether ``spec`` is the note's setting: stride 1, no padding, dilation 1, one group.

    >>> in_note_setting(ConvSpec(2, 3, input_size=5, kernel_size=3)), in_note_setting(ConvSpec(1, 1, 5, 3, stride=2))
    (True, False)
    """
    return (all(s == 1 for s in spec.stride) and not any(spec.padding_before) and not any(spec.padding_after)
            and all(d == 1 for d in spec.dilation) and spec.groups == 1)


def check_position(spec: ConvSpec, position: tuple[int, ...]) -> None:
    """A one-line SpecError unless ``position`` is an output position of ``spec`` (0-based, one index per axis).

    >>> check_position(ConvSpec(1, 1, input_size=(8,), kernel_size=3), (6,))
    Traceback (most recent call last):
    symconv.errors.SpecError: position must be within 0..5 (0-based), got (6,)
    """
    ranges = " x ".join(f"0..{n - 1}" for n in spec.output_size)
    if len(position) != spec.ndim:
        example = "x".join("0" * spec.ndim)
        raise SpecError(f"position must have {spec.ndim} index{'es' * (spec.ndim != 1)} (one per spatial axis, "
                        f"e.g. {example}) within {ranges} (0-based), got {position!r}")
    if not all(0 <= v < n for v, n in zip(position, spec.output_size)):
        raise SpecError(f"position must be within {ranges} (0-based), got {position!r}")



def flat_position(spec: ConvSpec, position: tuple[int, ...]) -> int:
    """The flat output position (C-order over the output grid) of a 0-based position, any ndim.

    >>> flat_position(ConvSpec(1, 1, input_size=5, kernel_size=3), (1, 2))
    5
    """
    return int(np.ravel_multi_index(position, spec.output_size))



# ----------------------------------------------------------------------------- the proof
# A proof is data: numbered steps, each a SymPy statement (usually an equality continuing the previous
# one), why it holds, and whether a machine checked it; then the side conditions (lemmas) it rests on.
# The all-size prover's ``Proof`` (symconv.prove.general) maps onto it with :func:`step_proof`, which
# reads attributes only (duck typing): steps flagged ``lemma`` (Z3-discharged side conditions) become lemmas.

#: Concrete layers on which the all-size prover re-checks every step, independently of Z3. Few: every layer
#: report pays for them (``symconv prove`` uses 50); the exact check of the report's own layer comes on top.
GENERAL_RECHECKS = 5


@dataclass(frozen=True)
class ProofStep:
    """One step: ``statement`` (an ``Eq`` continues the chain when its lhs is the previous rhs), its reason."""

    statement: sympy.Basic
    justification: str  # words with inline $…$ math
    holds: bool | None  # True/False: checked by a machine; None: argued in words, not machine-checked
    name: str = ""  # the prover's name for the step ("" for steps argued here)


@dataclass(frozen=True)
class Lemma:
    """A side condition the steps rest on, and how it was discharged (Z3, an exact engine, …).

    ``statement`` is words with $…$ math or a SymPy statement. ``refuted_form`` is what SymPy's own evaluation
    gave for this step when Z3 refuted it (the proof then uses a guarded form), ``refuted_at`` where it fails.
    """

    statement: sympy.Basic | str
    justification: str
    holds: bool | None
    name: str = ""
    refuted_form: sympy.Basic | None = None
    refuted_at: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class StepProof:
    """A proof as numbered steps with justifications and a lemma list; ``scope`` says for which sizes.

    ``status`` is the prover's verdict when there is one (``"proved"``, ``"refuted"``, ``"undetermined"``),
    ``failed`` the first step it did not prove and ``counterexample`` its counterexample in words; ``rechecks``
    the concrete layers every step was re-checked on; ``assumptions`` the hypotheses on the sizes.
    """

    claim: sympy.Basic
    scope: str  # "all sizes" or the sizes it was checked for, in words with $…$ math
    steps: tuple[ProofStep, ...]
    lemmas: tuple[Lemma, ...]
    status: str | None = None
    failed: str | None = None
    counterexample: str | None = None
    rechecks: int = 0
    assumptions: sympy.Basic | None = None

    @property
    def holds(self) -> bool | None:
        """False if a step or lemma failed; True if all were machine-checked; None if some were argued only.

        With a prover's ``status``: True only when proved, False when refuted, None when undetermined.
        """
        if self.status is not None:
            return {"proved": True, "refuted": False}.get(self.status)
        marks = [s.holds for s in self.steps] + [lemma.holds for lemma in self.lemmas]
        if any(m is False for m in marks):
            return False
        return True if all(m is True for m in marks) else None


# The prover records SymPy's own (wrong) evaluation of a sum in a note: "SymPy's doit() gives <expr> — refuted
# by Z3 (…): {<counterexample>}; …".
_REFUTED_NOTE = re.compile(r"^SymPy's doit\(\) gives (?P<expr>.+?) — refuted by Z3[^:]*: (?P<at>\{[^}]*\})")


def _refuted(step: Any) -> tuple[sympy.Basic | None, tuple[tuple[str, int], ...]]:
    """SymPy's refuted evaluation recorded in the step's notes (the one for the step's own axis), and where."""
    statement_symbols = {str(s) for s in getattr(step.statement, "free_symbols", ())}
    for note in getattr(step, "objects", {}).get("notes", ()):
        match = _REFUTED_NOTE.match(str(note))
        if match is None:
            continue
        try:
            at = ast.literal_eval(match["at"])
            expr = sympy.parse_expr(match["expr"], local_dict={"omega": sympy.Function("omega")})
        except (ValueError, SyntaxError, TypeError, sympy.SympifyError):
            continue
        if set(at) <= statement_symbols | {"omega"}:
            return expr, tuple((str(k), int(v)) for k, v in at.items())
    return None, ()


def step_proof(proof: Any, claim: sympy.Basic, scope: str = "all sizes") -> StepProof:
    """A :class:`StepProof` from any proof object with ``steps`` (``statement``, ``justification``, ``holds``;
    optionally ``name`` and ``lemma``: lemma steps become lemmas) and optionally ``lemmas``, ``status``,
    ``failed_step``, ``counterexample``, ``rechecks`` and ``assumptions`` (as :class:`symconv.prove.proof.Proof` has).

    >>> from types import SimpleNamespace as NS
    >>> x = sympy.Symbol("x")
    >>> p = step_proof(NS(steps=[NS(statement=sympy.Eq(x + x, 2 * x), justification="collect", holds=True)]), x)
    >>> p.holds, p.steps[0].justification
    (True, 'collect')
    """
    def holds(value: Any) -> bool | None:
        return None if value is None else bool(value)

    steps = tuple(ProofStep(s.statement, str(s.justification), holds(s.holds), str(getattr(s, "name", "")))
                  for s in proof.steps if not getattr(s, "lemma", False))
    lemmas = tuple(Lemma(s.statement, str(s.justification), holds(s.holds), str(getattr(s, "name", "")), *_refuted(s))
                   for s in proof.steps if getattr(s, "lemma", False))
    lemmas += tuple(Lemma(lem.statement, str(lem.justification), holds(lem.holds))
                    for lem in getattr(proof, "lemmas", ()))
    failed = getattr(proof, "failed_step", None)
    counterexample = getattr(proof, "counterexample", None)
    return StepProof(claim, scope, steps, lemmas, status=getattr(proof, "status", None),
                     failed=None if failed is None else str(failed.name),
                     counterexample=None if counterexample is None else counterexample.describe(),
                     rechecks=int(getattr(proof, "rechecks", 0)), assumptions=getattr(proof, "assumptions", None))


#: What the all-size prover proves, as the report states it.
GENERAL_CLAIM = sympy.Eq(sympy.Symbol(r"\operatorname{conv}(x)"), sympy.Symbol(r"\symconvW x + b"), evaluate=False)


# One proof per (row order, bias mode, fixed sizes) and process: a ``symconv report`` run may build several documents.
_GENERAL: dict[tuple[Any, ...], Any] = {}

#: The note's setting, as the all-size prover takes it: stride 1, no padding, dilation 1, one group.
NOTE_SETTING: dict[str, int] = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}


def _prove(order: str, bias: str, identities: tuple[str, ...], **fixed: int) -> Any:
    from ..prove.general import prove_general  # Z3 loads only for the reports that prove

    return prove_general(order=order, bias=bias, rechecks=GENERAL_RECHECKS, identities=identities, **fixed)


def general_proof(order: str, bias: str, identities: tuple[str, ...] = ("forward",), **fixed: int) -> Any:
    """The all-size proof of conv(x) = 𝒲x + b for rows in ``order`` and bias mode ``bias``, every size a symbol
    except those in ``fixed`` (``stride=1``, ``padding=0``, … as :func:`symconv.prove.general.prove_general` takes them);
    with ``identities=("transposed",)`` also conv_transpose(y) = 𝒲ᵀ_{o<H'}y + b_T (the prover's further steps).

    Cached per process, and proved in this process: no worker is forked, since a fork after PyTorch or a BLAS
    has started its threads can deadlock.
    """
    further = () if tuple(identities) == ("forward",) else (tuple(identities),)  # the forward key stays (order, bias, …)
    key: tuple[Any, ...] = (order, bias, *further, *sorted(fixed.items()))
    if key not in _GENERAL:
        _GENERAL[key] = _prove(order, bias, tuple(identities), **fixed)
    return _GENERAL[key]


def note_theorem() -> StepProof:
    """conv(x) = 𝒲x + b as the corrected note states it: the note's row order, a bias entry per output, the
    note's setting (:data:`NOTE_SETTING`), every other size a symbol; proved once per process."""
    return step_proof(general_proof("seed", "per_location", **NOTE_SETTING), GENERAL_CLAIM)


def layer_symbols(spec: ConvSpec) -> dict[sympy.Symbol, int]:
    """The note's size symbols (C₁, C₂, H, W, h, w, s_h, …) and their values for ``spec``.

    >>> {str(k): v for k, v in layer_symbols(ConvSpec(2, 3, input_size=5, kernel_size=3)).items()}["C_1"]
    2
    """
    names = "C_1 C_2 H W h w s_h s_w p_t p_l d_h d_w"
    values = (spec.in_channels, spec.out_channels, *spec.input_size, *spec.kernel_size, *spec.stride,
              *spec.padding_before, *spec.dilation)
    return dict(zip(sympy.symbols(names, integer=True, positive=True), values))


def theorem_steps(spec: ConvSpec) -> tuple[sympy.Basic, tuple[ProofStep, ...]]:
    """The claim y_{i,j,k} = (𝒲x + b)_{(j,k),i} and its proof in four steps, for the sizes as symbols.

    In the note's setting (stride 1, no padding, dilation 1) those symbols are set to the note's values, so
    the formulas read as the note's. Justifications are words; ``holds`` is None (argued, not checked here).

    >>> claim, steps = theorem_steps(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> len(steps), sympy.latex(claim)
    (4, 'y_{i,j,k} = \\\\left(\\\\mathcal{W} x + b\\\\right)_{(j,k),i}')
    """
    C1, _, H, W, h, w, s_h, s_w, p_t, p_l, d_h, d_w = layer_symbols(spec)
    if in_note_setting(spec):
        s_h = s_w = d_h = d_w = sympy.Integer(1)
        p_t = p_l = sympy.Integer(0)
    x, omega, b = sympy.IndexedBase("x"), sympy.IndexedBase("omega"), sympy.IndexedBase("b")
    i, j, k, l, m, n, r, c = sympy.symbols("i j k l m n r c", integer=True)
    bias = {"shared": b[i], "per_location": b[i, j, k], "none": sympy.Integer(0)}[spec.bias]
    row = (j - 1) * s_h - p_t + m * d_h + 1  # the tap map, 1-based rows and output positions
    col = (k - 1) * s_w - p_l + n * d_w + 1
    y = sympy.Symbol("y_{i,j,k}")
    entry = sympy.Symbol(r"\mathcal{W}_{(j,k),i;\,(l,r,c)}")
    product = sympy.Symbol(r"\left(\mathcal{W} x + b\right)_{(j,k),i}")
    kernel_sum = sympy.Sum(sympy.KroneckerDelta(r, row) * sympy.KroneckerDelta(c, col) * omega[i, l, m, n],
                           (n, 0, w - 1), (m, 0, h - 1))
    steps = (
        ProofStep(sympy.Eq(y, bias + sympy.Sum(x[l, row, col] * omega[i, l, m, n], (n, 0, w - 1), (m, 0, h - 1),
                                                 (l, 1, C1)), evaluate=False),
                  "the index sum that defines the layer; taps outside the input read the zero padding", None),
        ProofStep(sympy.Eq(y, bias + sympy.Sum(kernel_sum * x[l, r, c], (c, 1, W), (r, 1, H), (l, 1, C1)),
                           evaluate=False),
                  "each tap reads one input entry $x_{l,r,c}$; collect the weights by entry "
                  "(padding taps match no $r$, $c$ and drop out)", None),
        ProofStep(sympy.Eq(y, bias + sympy.Sum(entry * x[l, r, c], (c, 1, W), (r, 1, H), (l, 1, C1)), evaluate=False),
                  "the inner sum is entry $(i, c)$ of the block $B_{l,m,k}$ placed at input row $r$ of "
                  "$\\symconvW_{j,k,l}$: the note's construction of $\\symconvW$", None),
        ProofStep(sympy.Eq(y, product, evaluate=False),
                  "row $(j,k),i$ of the product $\\symconvW x$, columns in the order of $x$, plus the bias", None),
    )
    return sympy.Eq(y, product, evaluate=False), steps


@dataclass(frozen=True)
class ProofResults:
    """conv(x) = 𝒲x + b for symconv's 𝒲 (seed order, one or both engines) and for the note's 𝒲 as written.

    ``theorem`` is the all-size prover's proof (every size a symbol, the report's row order and bias mode);
    ``instance`` the identity's steps at this layer's sizes, each checked by the engines.
    """

    spec: ConvSpec
    verdicts: tuple[Verdict, ...]
    as_written: Verdict | None  # the note's literal block formulas, checked by the index engine
    as_written_skipped: bool  # the note's setting, but too large for the literal check
    theorem: StepProof
    instance: StepProof


def _instance(spec: ConvSpec, claim: sympy.Basic, steps: tuple[ProofStep, ...],
              verdicts: Iterable[Verdict]) -> StepProof:
    """The theorem's steps with this layer's sizes substituted; every step checked by the exact engines."""
    verdicts = tuple(verdicts)
    holds = all(v.holds for v in verdicts)
    sizes = {sym: sympy.Integer(v) for sym, v in layer_symbols(spec).items()}
    checked = tuple(ProofStep(s.statement.xreplace(sizes), s.justification, holds) for s in steps)
    lemmas = tuple(
        Lemma(f"both sides agree in all $d_y = {spec.d_y}$ outputs, {v.terms} terms matched exactly"
              if v.holds else f"the two sides differ in {v.mismatched_rows} of the $d_y = {spec.d_y}$ outputs",
              f"the {v.method} engine of symconv.verify", v.holds)
        for v in verdicts
    )
    shown = ", ".join(f"${sympy.latex(sym)} = {value}$" for sym, value in sizes.items()
                      if not in_note_setting(spec) or str(sym)[0] in "CHWhw")
    return StepProof(claim, shown, checked, lemmas)


def gather_proof(spec: ConvSpec) -> ProofResults:
    """Prove conv(x) = 𝒲x + b for ``spec`` (seed row order): both engines when small, else "index".

    In the note's own setting, also check the note's block formulas read literally.

    >>> p = gather_proof(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> [v.holds for v in p.verdicts], p.as_written.holds, p.instance.holds, p.theorem.holds
    ([True, True], False, True, True)
    """
    small = spec.n_terms + spec.n_bias_terms <= BOTH_ENGINES_TERMS
    verdicts = tuple(verify(spec, method=method, order="seed") for method in (("sympy", "index") if small else ("index",)))
    skipped = in_note_setting(spec) and spec.n_terms > MAX_AS_WRITTEN_TERMS
    as_written = None
    if in_note_setting(spec) and not skipped:
        as_written = verify(spec, method="index", matrix=matrix_as_written(spec), order="seed")
    # the theorem for every size, rows in the report's order: the all-size prover's proof (cached per process)
    theorem = step_proof(general_proof("seed", spec.bias), GENERAL_CLAIM)
    claim, steps = theorem_steps(spec)
    return ProofResults(spec, verdicts, as_written, skipped, theorem, _instance(spec, claim, steps, verdicts))


# ----------------------------------------------------------------------------- the index sum, written out
@dataclass(frozen=True)
class OutputTerms:
    """Output (channel, j, k) of the index sum (0-based; one index per axis in N-D): its x·ω products and bias terms."""

    channel: int
    position: tuple[int, ...]
    products: tuple[tuple[sympy.Symbol, sympy.Symbol], ...]  # (x, ω), symconv's 0-based symbols
    bias: tuple[sympy.Symbol, ...]
    taps: int  # products the sum would have without padding (C₁/G · h · w)


@dataclass(frozen=True)
class DefinitionResults:
    """The outputs the report writes out: the corner, and the centre too when the corner meets the padding."""

    spec: ConvSpec
    examples: tuple[OutputTerms, ...]


def _output_terms(spec: ConvSpec, channel: int, position: tuple[int, ...]) -> OutputTerms:
    terms = direct_terms(spec, positions=np.array([flat_position(spec, position)]), channels=range(channel, channel + 1))
    keys = terms.keys[0, 0][np.broadcast_to(terms.valid[0, 0], terms.keys.shape[2:])].tolist()
    n_weights = math.prod(spec.weight_shape)
    weights, inputs = weight_array(spec).reshape(-1), input_array(spec).reshape(-1)
    biases = bias_array(spec).reshape(-1)
    return OutputTerms(
        channel=channel,
        position=position,
        products=tuple((inputs[key // n_weights], weights[key % n_weights]) for key in keys),
        bias=tuple(biases[b] for b in terms.bias[0, 0].tolist()),
        taps=spec.in_per_group * math.prod(spec.kernel_size),
    )


def gather_definition(spec: ConvSpec) -> DefinitionResults:
    """Output (0, 0, 0) of the index sum, and the centre when the corner meets the padding.

    >>> [len(e.products) for e in gather_definition(ConvSpec(1, 1, input_size=3, kernel_size=2, padding=1)).examples]
    [1, 4]
    """
    corner = (0,) * spec.ndim
    examples = [_output_terms(spec, 0, corner)]
    if len(examples[0].products) < examples[0].taps:
        centre = tuple(n // 2 for n in spec.output_size)
        if centre != corner:
            examples.append(_output_terms(spec, 0, centre))
    return DefinitionResults(spec, tuple(examples))


# ----------------------------------------------------------------------------- 𝒲 and its blocks
@dataclass(frozen=True)
class PlacedBlock:
    """B_{l,m,k} (0-based) placed in input row ``row`` of 𝒲_{j,k,l}: the note's construction."""

    l: int
    m: int
    row: int
    matrix: sympy.MatrixBase


@dataclass(frozen=True)
class BlockResults:
    """The note's blocks of 𝒲 for output position (j, k) (0-based); explicit matrices only when small.

    ``placed`` holds every B_{l,m,k} of 𝒲_{j,k} in order of l, then input row; ``W_jkl`` one 𝒲_{j,k,l} per
    input channel (None: too wide to build); ``b_jk`` the C₂ bias symbols (None without bias); ``W`` the
    whole 𝒲 in seed order (None: too large).
    """

    spec: ConvSpec
    position: tuple[int, int]
    placed: tuple[PlacedBlock, ...]
    W_jkl: tuple[sympy.MatrixBase | None, ...]
    W_jk: sympy.MatrixBase | None
    b_jk: tuple[sympy.Symbol, ...] | None
    W: sympy.MatrixBase | None


def gather_blocks(spec: ConvSpec, position: tuple[int, int] = (0, 0)) -> BlockResults:
    """The note's blocks of 𝒲 for output position ``position`` (0-based (j, k)), from :func:`symconv.forms.blocks.blocks`.

    >>> b = gather_blocks(ConvSpec(1, 2, input_size=3, kernel_size=2))
    >>> [(p.l, p.m, p.row) for p in b.placed], b.W.shape
    ([(0, 0, 0), (0, 1, 1)], (8, 9))
    """
    check_position(spec, position)
    j, k = position
    b = blocks(spec)
    height, width = spec.input_size
    placed = tuple(
        PlacedBlock(l, m, row, b.B(l, m, k))
        for l in range(spec.in_channels) for m, row in sorted(kernel_rows(spec, j), key=lambda mr: mr[1])
    )
    # the whole block only when it is printed: at ImageNet sizes it has millions of (zero) entries
    W_jkl = tuple(b.W(j, k, l) if height * width <= MAX_EXPLICIT_COLS else None for l in range(spec.in_channels))
    W_jk = b.W(j, k) if spec.d_x <= MAX_EXPLICIT_COLS and spec.in_channels > 1 else None
    b_jk = None
    if spec.bias != "none":  # the C₂ entries of b that output position (j, k) adds
        entries = bias_array(spec) if spec.bias == "shared" else bias_array(spec)[:, j, k]
        b_jk = tuple(entries.tolist())
    W = None
    if spec.d_x <= MAX_EXPLICIT_COLS and spec.d_y <= MAX_EXPLICIT_ROWS:
        W = sympy.Matrix(matrix(spec, order="seed"))
    return BlockResults(spec, position, placed, W_jkl, W_jk, b_jk, W)


# ----------------------------------------------------------------------------- sparsity of 𝒲
@dataclass(frozen=True)
class SparsityCounts:
    """Nonzeros of 𝒲 (seed row order) per tile of ``bin_rows`` × ``bin_cols`` entries, from the note's blocks."""

    spec: ConvSpec
    grid: np.ndarray  # (tile rows, tile columns) int64
    bin_rows: int
    bin_cols: int

    @property
    def nnz(self) -> int:
        """Nonzeros of 𝒲."""
        return int(self.grid.sum())


def _nonzero_entries(spec: ConvSpec, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(seed-order row, column) of every nonzero of 𝒲 in the rows of ``positions``, from the note's blocks."""
    terms = block_terms(spec, positions)
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    n_weights = math.prod(spec.weight_shape)
    rows = (positions[:, None] * spec.out_channels + np.arange(spec.out_channels)[None, :])
    rows = np.broadcast_to(rows[:, :, None, None, None], terms.keys.shape)
    return rows[valid], terms.keys[valid] // n_weights


def _sparsity_bins(spec: ConvSpec) -> tuple[int, int]:
    """Tile size in entries: 1 × 1 when 𝒲 is small enough to draw entry by entry, else the note's blocks.

    A block tile is the C₂W' rows of output rows j (seed order: contiguous) against the W columns of input
    rows r of one channel (C-order: contiguous), as many rows of each as needed to fit the figure; it is
    nonzero exactly when a kernel row of output row j reaches input row r.
    """
    if spec.d_y <= _SPARSITY_MAX_CELLS_Y and spec.d_x <= _SPARSITY_MAX_CELLS_X:
        return 1, 1
    rows_out, height = spec.output_size[0], spec.input_size[0]
    per_row_y, per_row_x = spec.out_channels * spec.output_size[1], spec.input_size[1]
    return (per_row_y * math.ceil(rows_out / _SPARSITY_MAX_CELLS_Y),
            per_row_x * math.ceil(spec.in_channels * height / _SPARSITY_MAX_CELLS_X))


def gather_sparsity(spec: ConvSpec) -> SparsityCounts:
    """𝒲's nonzeros counted per tile, built from :func:`symconv.forms.blocks.block_terms` in bounded chunks.

    Tiles are single entries for small layers and the note's blocks for large ones (:func:`_sparsity_bins`).

    >>> s = gather_sparsity(ConvSpec(1, 1, input_size=3, kernel_size=2))
    >>> s.nnz, s.grid.shape, (s.bin_rows, s.bin_cols)
    (16, (4, 9), (1, 1))
    >>> big = gather_sparsity(ConvSpec(2, 4, input_size=40, kernel_size=3))
    >>> big.grid.shape, (big.bin_rows, big.bin_cols)
    ((38, 80), (152, 40))
    """
    bin_r, bin_c = _sparsity_bins(spec)
    rows, cols = math.ceil(spec.d_y / bin_r), math.ceil(spec.d_x / bin_c)
    counts_ = np.zeros(rows * cols, dtype=np.int64)
    n_positions = math.prod(spec.output_size)
    chunk = max(1, _CHUNK_TERMS // (spec.out_channels * spec.in_per_group * math.prod(spec.kernel_size)))
    for start in range(0, n_positions, chunk):
        r, c = _nonzero_entries(spec, np.arange(start, min(start + chunk, n_positions)))
        counts_ += np.bincount((r // bin_r) * cols + c // bin_c, minlength=rows * cols)
    return SparsityCounts(spec, counts_.reshape(rows, cols), bin_r, bin_c)


# ----------------------------------------------------------------------------- receptive field of one layer
@dataclass(frozen=True)
class FieldDisagreement:
    """Row ``row`` of 𝒲_{j,k} has nonzero columns outside the receptive field (``extra``) or misses some."""

    row: int
    extra: int
    missing: int


@dataclass(frozen=True)
class ReceptiveResults:
    """One layer's receptive field at output (j, k) (0-based), and the note's claim about it, checked row by row."""

    spec: ConvSpec
    field: ReceptiveField
    position: tuple[int, int]
    region: Region
    cells: int  # input positions read, per input channel of the group
    rows_checked: int
    disagreement: FieldDisagreement | None


def _cells(region: Region) -> int:
    if region.mask is None:
        raise SpecError("the receptive field needs the input size to count the positions read")
    return int(region.mask.sum())


def _block_disagreement(spec: ConvSpec, position: tuple[int, int]) -> FieldDisagreement | None:
    """The first row i of 𝒲_{j,k} whose nonzero columns differ from :func:`conv_inputs` (i, j, k)."""
    terms = block_terms(spec, np.array([flat_position(spec, position)]))
    valid = np.broadcast_to(terms.valid, terms.keys.shape)
    n_weights = math.prod(spec.weight_shape)
    for i in range(spec.out_channels):
        from_blocks = np.zeros(spec.d_x, dtype=bool)
        from_blocks[terms.keys[0, i][valid[0, i]] // n_weights] = True
        expected = conv_inputs(spec, (i, *position)).reshape(-1)
        if not np.array_equal(from_blocks, expected):
            extra = int(np.count_nonzero(from_blocks & ~expected))
            return FieldDisagreement(i, extra, int(np.count_nonzero(expected & ~from_blocks)))
    return None


def gather_receptive(spec: ConvSpec, position: tuple[int, int] = (0, 0)) -> ReceptiveResults:
    """The region output (j, k) reads, and "the receptive field is the non-zero columns of 𝒲_{j,k}", checked.

    The claim is checked row by row: the nonzero columns of row i of 𝒲_{j,k} (the note's blocks,
    :func:`symconv.forms.blocks.block_terms`) against :func:`symconv.receptive.field.conv_inputs` (i, j, k).

    >>> r = gather_receptive(ConvSpec(2, 3, input_size=5, kernel_size=3, padding=1))
    >>> r.cells, r.disagreement, r.rows_checked
    (4, None, 3)
    """
    rf = receptive_field([spec])
    region = rf.region(position)
    return ReceptiveResults(spec, rf, position, region, _cells(region), spec.out_channels,
                            _block_disagreement(spec, position))


# ----------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class CountValue:
    """One derived formula, its closed form (None: a sum SymPy evaluates only for concrete sizes), its value here."""

    formula: Formula
    closed: sympy.Expr | None
    note: sympy.Expr | None  # the closed form in the note's setting (stride 1, padding 0, …)
    value: sympy.Expr


@dataclass(frozen=True)
class CountResults:
    """The counts of one layer (:func:`symconv.closed.counts.counts`): the table, the derivations, the ratios."""

    counts: Counts
    rows: tuple[CountValue, ...]
    derivations: tuple[CountValue, ...]
    ratios: tuple[Ratio, ...]


def _count_value(name: str, spec: ConvSpec) -> CountValue:
    f = formula(name, spec.ndim)
    closed = None if f.expr.has(sympy.Sum) else f.expr
    return CountValue(f, closed, None if closed is None else note_setting(closed), f.at(spec))


def gather_counts(spec: ConvSpec) -> CountResults:
    """Sizes, parameters, sparsity and cost of ``spec``, each with the formula it came from.

    >>> c = gather_counts(ConvSpec(2, 3, input_size=5, kernel_size=3))
    >>> {r.formula.name: int(r.value) for r in c.rows}["params_conv_shared"]
    57
    """
    found = counts(spec)
    bias = "params_conv_" + spec.bias
    names = ["d_x", "d_y", "params_weights"]
    if spec.bias != "none":
        names.append("params_bias_" + spec.bias)
    names += [bias, "params_fc", "params_local", found.nnz_formula, "density" + found.nnz_formula[3:], "macs_dense"]
    derived = (output_names(spec.ndim)[0], "params_weights", bias, "params_fc", found.nnz_formula)
    return CountResults(found, tuple(_count_value(n, spec) for n in names),
                        tuple(_count_value(n, spec) for n in derived), tuple(ratios().values()))


# ----------------------------------------------------------------------------- one layer, whole
@dataclass(frozen=True)
class LayerResults:
    """Everything the report on one layer prints, for output position ``position`` (0-based (j, k))."""

    spec: ConvSpec
    position: tuple[int, int]
    definition: DefinitionResults
    blocks: BlockResults
    proof: ProofResults
    sparsity: SparsityCounts
    receptive: ReceptiveResults
    counts: CountResults


def gather_layer(spec: ConvSpec, position: tuple[int, int] | None = None) -> LayerResults:
    """Compute every result of the one-layer report: index sum, blocks, proofs, sparsity, receptive field, counts.

    ``position`` (0-based (j, k)) is where the blocks and the receptive field are shown; by default the blocks
    at (0, 0), as in the note, and the receptive field at the centre, away from the padding.
    """
    centre = (spec.output_size[0] // 2, spec.output_size[1] // 2)
    field_at = centre if position is None else position
    position = (0, 0) if position is None else position
    check_position(spec, position)
    return LayerResults(
        spec=spec,
        position=position,
        definition=gather_definition(spec),
        blocks=gather_blocks(spec, position),
        proof=gather_proof(spec),
        sparsity=gather_sparsity(spec),
        receptive=gather_receptive(spec, field_at),
        counts=gather_counts(spec),
    )


# ----------------------------------------------------------------------------- a stack of layers
@dataclass(frozen=True)
class EffectiveResults:
    """The effective field of a uniform-weight stack, and what a uniform spread over the box would give."""

    field: EffectiveField
    centred: bool  # the mean is the centre of the box, (r − 1)/2, on every axis
    uniform_std_over_size: tuple[float, ...]  # per axis: std / r of a uniform spread over the r positions


#: The exact-mask check of a stack with transposed layers multiplies dense 0/1 matrices: maps up to this many positions.
MAX_MASK_CHECK_POSITIONS = 4096


@dataclass(frozen=True)
class MaskCheck:
    """Every output's exact region (``ReceptiveField.region``) against the product of the layers' 0/1 matrices.

    The matrices come from the forms, not from the receptive-field code: a convolution's or pooling's from its
    window (:func:`symconv.receptive.check.layer_operator`), a transposed convolution's is the pattern of 𝒲ᵀ
    (:func:`symconv.forms.transposed.transposed_matrix_terms`). ``mismatch`` names the first output that differs.
    """

    holds: bool
    outputs: int
    nnz: int
    mismatch: str | None


@dataclass(frozen=True)
class StackResults:
    """The receptive field of a stack at output ``index`` (0-based), its closed forms, its check against 𝒲.

    ``check`` is the summary's check against the 𝒲 product (conv and pooling stacks); a stack with a transposed
    layer has ``masks`` instead (its field may have no (size, stride, padding) summary), or ``masks_refusal``.
    """

    field: ReceptiveField
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    index: tuple[int, ...]
    region: Region
    cells: int
    forms: ReceptiveForms
    check: FieldCheck | None
    effective: EffectiveResults | None
    effective_refusal: str | None  # why there is no effective field (max pooling, branches)
    masks: MaskCheck | None = None
    masks_refusal: str | None = None


def _effective(layers: list[Any]) -> tuple[EffectiveResults | None, str | None]:
    try:
        erf = effective_receptive_field(layers)
    except SpecError as exc:  # max pooling or branches: no uniform-weight distribution
        return None, str(exc)
    centred = all(2 * ax.mean == ax.size - 1 for ax in erf.axes)
    uniform = tuple(math.sqrt((ax.size**2 - 1) / 12) / ax.size for ax in erf.axes)
    return EffectiveResults(erf, centred, uniform), None


def _layer_matrix(layer: Any, size: tuple[int, ...]) -> np.ndarray:
    """One layer's 0/1 matrix on one channel's flattened map (rows: its outputs, columns: its inputs, C-order)."""
    if isinstance(layer, ConvSpec):
        layer = Layer.from_spec(layer)
    if layer.kind != "tconv":
        return layer_operator(layer, size).to_dense() > 0
    t = ConvTransposeSpec(1, 1, input_size=size, kernel_size=layer.kernel_size, stride=layer.stride,
                          padding=layer.padding, output_padding=layer.output_padding, dilation=layer.dilation,
                          bias=False, ndim=len(size))
    terms = transposed_matrix_terms(t)  # 𝒲ᵀ of the forward layer: (output, weight, input) triples
    dense = np.zeros((math.prod(t.output_size), math.prod(size)), dtype=bool)
    dense[terms.out, terms.b] = True
    return dense


def check_masks(layers: list[Any], rf: ReceptiveField) -> MaskCheck:
    """Every output's exact region of ``rf`` against the product of the ``layers``' 0/1 matrices (a sequence).

    >>> from symconv.receptive.layers import parse_layer
    >>> layers = [parse_layer("conv:k=3,s=2"), parse_layer("tconv:k=3,s=2")]
    >>> c = check_masks(layers, receptive_field(layers, input_size=(8, 8)))
    >>> c.holds, c.outputs
    (True, 49)
    """
    sizes = [lf.map_size for lf in rf.layers]
    product = np.eye(math.prod(sizes[0]), dtype=np.int64)
    for layer, size in zip(layers, sizes[:-1]):
        product = (_layer_matrix(layer, tuple(size)).astype(np.int64) @ product > 0).astype(np.int64)
    out_size = tuple(sizes[-1])
    for flat, index in enumerate(np.ndindex(*out_size)):
        mask = rf.region(index).mask
        read = np.zeros(product.shape[1], dtype=bool) if mask is None else mask.reshape(-1)
        expected = product[flat] > 0
        if not np.array_equal(read, expected):
            return MaskCheck(False, math.prod(out_size), int(product.sum()),
                             f"output {index}: {int(np.count_nonzero(read & ~expected))} positions of its region are "
                             f"not in its row of the product, {int(np.count_nonzero(expected & ~read))} of the row are "
                             "not in the region")
    return MaskCheck(True, math.prod(out_size), int(product.sum()), None)


def _stack_check(layers: list[Any], rf: ReceptiveField) -> tuple[FieldCheck | None, MaskCheck | None, str | None]:
    """The summary's check against the 𝒲 product, or for a stack with a transposed layer the exact masks' check."""
    kinds = [getattr(Layer.from_spec(lay) if isinstance(lay, ConvSpec) else lay, "kind", None) for lay in layers]
    if "tconv" not in kinds:
        return check_receptive_field(rf), None, None
    largest = max(math.prod(lf.map_size) for lf in rf.layers)
    if largest > MAX_MASK_CHECK_POSITIONS:
        return None, None, (f"a map of the stack has {largest:,} positions, above the {MAX_MASK_CHECK_POSITIONS:,} "
                            "that the dense product of the layers' matrices is built for")
    return None, check_masks(layers, rf), None


def gather_stack(layers: list[Any], input_size: tuple[int, int], index: tuple[int, ...] | None = None) -> StackResults:
    """The receptive field of ``layers`` on ``input_size`` for output ``index`` (default: the centre), and its checks.

    >>> from symconv.receptive.layers import parse_layer
    >>> s = gather_stack([parse_layer("conv:k=3"), parse_layer("conv:k=3,s=2")], (9, 9))
    >>> s.index, s.field.size, s.check.holds, s.effective.centred
    ((1, 1), (5, 5), True, True)
    """
    rf = receptive_field(layers, input_size=input_size)
    if rf.input_size is None or rf.output_size is None:
        raise SpecError("the stack's input size must be known to report on its receptive field")
    if index is None:
        index = tuple(n // 2 for n in rf.output_size)
    region = rf.region(index)
    effective, refusal = _effective(layers)
    check, masks, masks_refusal = _stack_check(layers, rf)
    return StackResults(
        field=rf, input_size=rf.input_size, output_size=rf.output_size, index=index, region=region,
        cells=_cells(region), forms=receptive_forms(), check=check,
        effective=effective, effective_refusal=refusal, masks=masks, masks_refusal=masks_refusal,
    )
