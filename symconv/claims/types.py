"""The audit's results (frozen dataclasses renderers only read) and its search over sizes.

A claim is checked at every size of a grid of layers in the note's setting (stride 1, padding 0,
dilation 1, groups 1), walked from the smallest up; the first size where the check fails is the
*smallest counterexample*. "Smallest" is fixed once, here: by C₁ + C₂ + H + W + h + w, ties broken by
(C₁, C₂, H, W, h, w) in lexicographic order.

The texts of the results (summaries, details, remarks, …) are *prose*: words with LaTeX math between
``$…$`` (``the sum reads $\\omega_{2,1,0,0}$``), the convention of the LaTeX report's ``prose`` filter.
:func:`plain_text` turns them into Unicode text for a terminal (``the sum reads ω_{2,1,0,0}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..core.spec import BiasMode, ConvSpec

__all__ = [
    "Claim", "Correction", "Counterexample", "Evidence", "general_specs", "note_sizes", "note_specs", "plain_text", "search",
]

SIZE_NAMES = ("C1", "C2", "H", "W", "h", "w")
SIZE_TEX = ("C_1", "C_2", "H", "W", "h", "w")

# ------------------------------------------------------------------------- prose as plain text
# The LaTeX the audit writes inside $…$, as Unicode. Only what symconv writes needs to be here: a test
# checks that no backslash survives in the terminal output of the whole audit.
_PLAIN_COMMANDS = {
    "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "in": "∈", "notin": "∉",
    "to": "→", "infty": "∞", "cdot": "·", "dots": "…", "ldots": "…", "cdots": "⋯", "vdots": "⋮", "sum": "Σ",
    "setminus": "∖", "emptyset": "∅", "mapsto": "↦", "ll": "≪", "lim": "lim", "quad": " ", "qquad": " ",
    "left": "", "right": "", "alpha": "α", "beta": "β", "lambda": "λ", "omega": "ω", "ell": "ℓ",
}
_PLAIN_LETTERS = {"mathbb": {"R": "ℝ", "Z": "ℤ", "N": "ℕ"}, "mathcal": {"W": "𝒲", "R": "𝓡"}}
_PLAIN_SYMBOLS = {",": " ", " ": " ", ";": " ", ":": " ", "!": "", "{": "{", "}": "}", "\\": "; "}
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_PLAIN_TOKEN = re.compile(
    r"\\(?:begin|end)\{(?:[pb]?matrix|gathered)\}"  # matrices: ( … ); lines: one after the other
    r"|\\(?:text|mathrm|operatorname|texttt)\{[^{}]*\}"  # words inside math
    r"|\\(?:mathbb|mathcal)\{[A-Za-z]\}"
    r"|\\[A-Za-z]+|\\[^A-Za-z]"  # other commands; \, \  \{ \} \\
    r"|_\{\d+\}|_\d"  # digit subscripts: C_1, C_{2}
    r"|&|-"
)


def _plain_math(tex: str) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token.startswith(("\\begin", "\\end")):
            return "" if token.endswith("{gathered}") else "(" if token.startswith("\\begin") else ")"
        if token.startswith(("\\text", "\\mathrm", "\\operatorname")):
            return token[token.index("{") + 1 : -1]
        if token.startswith(("\\mathbb", "\\mathcal")):
            return _PLAIN_LETTERS[token[1 : token.index("{")]].get(token[-2], token)
        if token.startswith("\\"):
            name = token[1:]
            return _PLAIN_COMMANDS.get(name, _PLAIN_SYMBOLS.get(name, token))
        if token.startswith("_"):
            return token.strip("_{}").translate(_SUBSCRIPT)
        return {"&": " ", "-": "−"}[token]

    return re.sub(" {2,}", " ", _PLAIN_TOKEN.sub(replace, tex))  # spacing commands and \\text{ … } leave runs of spaces


def plain_text(prose: str) -> str:
    """Prose with ``$…$`` LaTeX math (see the module docstring) as Unicode text for a terminal.

    >>> plain_text(r"the sum reads $\\omega_{2,1,0,0}$, not $b \\in \\mathbb{R}^{C_2\\times(H-h+1)}$")
    'the sum reads ω_{2,1,0,0}, not b ∈ ℝ^{C₂×(H−h+1)}'
    """
    pieces = prose.split("$")
    if len(pieces) % 2 == 0:  # unbalanced: not prose with math (the report's prose filter escapes it all, too)
        return prose
    return "".join(_plain_math(piece) if n % 2 else piece for n, piece in enumerate(pieces))


def note_sizes(spec: ConvSpec) -> tuple[int, ...]:
    """(C₁, C₂, H, W, h, w) of a layer.

    >>> note_sizes(ConvSpec(2, 3, input_size=(5, 4), kernel_size=(3, 2)))
    (2, 3, 5, 4, 3, 2)
    """
    return (spec.in_channels, spec.out_channels, *spec.input_size, *spec.kernel_size)


def note_specs(
    channels: Iterable[int] = (1, 2), out_channels: Iterable[int] | None = None, max_size: int = 3,
    bias: BiasMode = "shared",
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


def general_specs() -> tuple[ConvSpec, ...]:
    """Layers beyond the note's setting — stride, padding (also 'same' and larger than the kernel), dilation, groups, non-square
    sizes — on which the audit checks the claims that generalise (the receptive field).

    >>> len(general_specs()), general_specs()[0].stride
    (5, (2, 2))
    """
    return (
        ConvSpec(1, 2, input_size=5, kernel_size=3, stride=2, padding=1),
        ConvSpec(2, 2, input_size=(6, 5), kernel_size=(2, 3), dilation=(2, 1), padding=(1, 0)),
        ConvSpec(4, 4, input_size=4, kernel_size=2, groups=2),
        ConvSpec(2, 2, input_size=(4, 5), kernel_size=3, padding="same"),
        ConvSpec(1, 1, input_size=2, kernel_size=2, padding=2),
    )


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

    def math(self) -> str:
        """The sizes as prose, one formula each.

        >>> Counterexample.at(ConvSpec(1, 2, input_size=3, kernel_size=2), "").math()
        '$C_1 = 1$, $C_2 = 2$, $H = 3$, $W = 3$, $h = 2$, $w = 2$'
        """
        return ", ".join(f"${tex} = {v}$" for tex, (_, v) in zip(SIZE_TEX, self.sizes))

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
    evidence_kind: str = ""  # "proved for all sizes" or "checked on N layers" (set by the audit, see claims.proofs)
    proof_steps: tuple[str, ...] = ()  # the proof steps that prove it, when proved for all sizes

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"statement": self.statement, "holds": self.holds, "evidence": self.evidence.to_dict(),
                "evidence_kind": self.evidence_kind, "proof_steps": list(self.proof_steps)}


@dataclass(frozen=True)
class Claim:
    """One claim of the note, as it writes it, and the computed verdict.

    ``precise`` is set when the note's words had to be made precise to be checked (e.g. "≪");
    ``remarks`` are further computed findings about the claim. ``evidence_kind`` says what carries a verdict:
    ``"proved for all sizes"`` (by the steps ``proof_steps`` of the all-size proof), ``"checked on N layers"`` (the
    grid only) or ``"fails as written"``; the audit sets it (:mod:`symconv.claims.proofs`).
    """

    id: str
    topic: str
    as_written: str
    holds: bool
    evidence: Evidence
    correction: Correction | None = None
    precise: str | None = None
    remarks: tuple[str, ...] = ()
    evidence_kind: str = ""
    proof_steps: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "id": self.id,
            "topic": self.topic,
            "as_written": self.as_written,
            "holds": self.holds,
            "precise": self.precise,
            "evidence_kind": self.evidence_kind,
            "proof_steps": list(self.proof_steps),
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
    """A one-line description (prose) of a grid of note-setting specs; sizes with the same values are named together.

    >>> plain_text(describe_grid(note_specs(max_size=3)))
    "144 layers of the note's setting (stride 1, padding 0) with C₁, C₂ ∈ {1, 2}, H, W, h, w ∈ {1, 2, 3}, h ≤ H, w ≤ W"
    """
    sizes = [note_sizes(s) for s in specs]
    groups: dict[str, list[str]] = {}
    for pos, name in enumerate(SIZE_TEX):
        values = sorted({t[pos] for t in sizes})
        shown = ", ".join(map(str, values)) if len(values) <= 4 else rf"{values[0]}, \dots, {values[-1]}"
        groups.setdefault(shown, []).append(name)
    ranges = [rf"${', '.join(names)} \in \{{{shown}\}}$" for shown, names in groups.items()]
    return f"{len(specs)} layers of the note's setting (stride 1, padding 0) with {', '.join(ranges)}, $h \\le H$, $w \\le W$"
