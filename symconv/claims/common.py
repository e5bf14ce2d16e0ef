"""What every claim check shares: the :class:`Context` it runs over and the helpers that turn computations into prose.

Texts are prose with LaTeX math between ``$…$`` (see :mod:`symconv.claims.types`); SymPy objects enter them through
:func:`tex`. Every index a text prints is in the note's numbering — i, j, k, l from 1, m, n from 0 — whatever symconv
counts from: :func:`note_tex` renames symconv's 0-based symbols (``x_0,0,0`` prints as x_{1,1,1}), output positions go
through :func:`~symconv.core.symbols.note_index`, and rows, columns and positions of 𝒲 and x are counted from 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from ..core.spec import ConvSpec
from ..core.symbols import C1, C2, size_symbols
from ..forms.blocks import matrix
from ..forms.direct import direct
from . import torch_checks as audit_torch
from .types import Claim, Counterexample, Evidence, describe_grid, note_sizes, search

__all__ = [
    "Context", "at", "built_direct", "built_matrix",
    "distinct_symbols", "entries", "entries_word", "grid_claim", "grid_text", "identity",
    "nonzero_pattern", "note_symbols", "note_tex", "note_values", "per_location", "shape_tex", "simple_claim", "sum_tex",
    "tex", "torch_line",
]

# the note's size symbols, one family per axis from the core: (H, h, …) and (W, w, …)
(H, h, *_), (W, w, *_) = size_symbols(2)


@dataclass(frozen=True)
class Context:
    """What every check runs over: the grid of note-setting layers and whether PyTorch is consulted."""

    specs: tuple[ConvSpec, ...]
    torch: bool
    general: tuple[ConvSpec, ...] = ()  # layers beyond the note's setting, for claims that generalise



@lru_cache(maxsize=4096)
def built_direct(spec: ConvSpec) -> sympy.ImmutableDenseNDimArray:
    """The index sum symconv builds at ``spec`` (immutable), built once per process: several claims read it."""
    return direct(spec)


@lru_cache(maxsize=4096)
def built_matrix(spec: ConvSpec, order: str = "channel_major") -> sympy.SparseMatrix:
    """𝒲 symconv builds at ``spec`` (rows in ``order``), built once per process: claims only read it, never change it."""
    return matrix(spec, order)


def tex(value: object) -> str:
    """A SymPy object (or a number) as prose math: ``$…$`` around SymPy's LaTeX, with plain parentheses (``\\left(``
    would keep a long formula in the text from breaking across lines)."""
    return "$" + sympy.latex(value).replace(r"\left(", "(").replace(r"\right)", ")") + "$"


def sum_tex(terms: tuple[sympy.Expr, ...] | list[sympy.Expr]) -> str:
    """Terms as one sum in prose math, in the order given, symbols in the note's numbering (:func:`note_symbols`)."""
    return "$" + (" + ".join(sympy.latex(note_symbols(t)) for t in terms) or "0") + "$"


# symconv's symbol names (0-based indices) and how many leading indices the note counts from 1: all of x's and b's,
# ω's i and l (its m, n count from 0 in the note as in symconv)
_SYMBOL = re.compile(r"(omega|x|b)_(\d+(?:,\d+)*)")
_ONE_BASED = {"omega": 2, "x": 3, "b": 3}


def _note_symbol(name: str) -> str | None:
    """The note's name for a symconv symbol name (``omega_0,0,1,0`` → ``omega_1,1,1,0``), None for other names."""
    found = _SYMBOL.fullmatch(name)
    if found is None:
        return None
    prefix, first = found.group(1), _ONE_BASED[found.group(1)]
    indices = [int(v) + (pos < first) for pos, v in enumerate(found.group(2).split(","))]
    return f"{prefix}_{','.join(map(str, indices))}"


def note_symbols(value: object) -> object:
    """``value`` with symconv's 0-based symbols ω, x, b renamed into the note's numbering (other symbols kept).

    >>> note_symbols(sympy.Symbol("omega_0,0,1,0") * sympy.Symbol("x_0,0,1") + sympy.Symbol("b_0,0,0"))
    b_1,1,1 + omega_1,1,1,0*x_1,1,2
    """
    if not isinstance(value, sympy.Basic):
        return value
    renamed = {s: sympy.Symbol(new, **s.assumptions0) for s in value.free_symbols
               if isinstance(s, sympy.Symbol) and (new := _note_symbol(s.name)) is not None}
    return value.xreplace(renamed)


def note_tex(value: object) -> str:
    """:func:`tex` of ``value`` in the note's numbering (:func:`note_symbols`): ``$x_{1,1,1}$`` for symconv's x_0,0,0."""
    return tex(note_symbols(value))


def shape_tex(sizes: tuple[int, ...]) -> str:
    """A shape as prose math: ``$2 \\times 3$``."""
    return "$" + r" \times ".join(map(str, sizes)) + "$"


def entries_word(count: int) -> str:
    """``1 entry`` or ``n entries``."""
    return f"{count} {'entry' if count == 1 else 'entries'}"


def note_values(spec: ConvSpec) -> dict[sympy.Symbol, int]:
    """The note's size symbols C₁, C₂, H, W, h, w at ``spec``."""
    return dict(zip((C1, C2, H, W, h, w), note_sizes(spec)))


def at(expr: sympy.Expr, spec: ConvSpec) -> int:
    """``expr`` (in the note's size symbols) evaluated at ``spec``."""
    return int(sympy.sympify(expr).xreplace({k: sympy.Integer(v) for k, v in note_values(spec).items()}))


def identity(lhs: sympy.Expr, rhs: sympy.Expr, two_lines: bool = False) -> tuple[bool, str]:
    """Whether SymPy proves lhs = rhs for all values, and the identity (or inequation) in LaTeX (``two_lines``: the
    relation starts a second line, for sides too long to share one)."""
    difference = sympy.expand(lhs - rhs)
    ok = difference == 0 or sympy.simplify(difference) == 0  # simplify only what expand leaves (it costs ~50 ms a call)
    relation = "=" if ok else r"\neq"
    if two_lines:
        return ok, rf"\begin{{aligned}}&{sympy.latex(lhs)}\\ {relation}\ &{sympy.latex(rhs)}\end{{aligned}}"
    return ok, f"{sympy.latex(lhs)} {relation} {sympy.latex(rhs)}"


def torch_line(ctx: Context, what: str, checked: int) -> tuple[str, ...]:
    """The cross-check line for ``what``: PyTorch agreed on the ``checked`` layers, or was not consulted."""
    if not ctx.torch:
        return (f"PyTorch not consulted ({'not installed' if not audit_torch.available() else 'disabled'}): {what} skipped",)
    return (f"PyTorch ({what}): agrees on all {checked} layers checked",)


def grid_text(ctx: Context, specs: tuple[ConvSpec, ...] | None = None) -> str:
    """The grid a check walked (prose), ``ctx.specs`` unless ``specs`` is given."""
    return describe_grid(ctx.specs if specs is None else specs) + "; smallest first"


def distinct_symbols(*matrices: sympy.MatrixBase) -> int:
    """How many distinct symbols the matrices hold together (the parameters of a built layer)."""
    found: set[sympy.Symbol] = set()
    for m in matrices:
        found |= m.free_symbols
    return len(found)


def entries(array: sympy.NDimArray) -> list[sympy.Expr]:
    """All entries of a SymPy array, in C order."""
    if isinstance(array, sympy.ImmutableDenseNDimArray):
        return list(_entries(array))
    return list(sympy.flatten(array.tolist()))


@lru_cache(maxsize=4096)
def _entries(array: sympy.NDimArray) -> tuple[sympy.Expr, ...]:
    return tuple(sympy.flatten(array.tolist()))  # claims read the entries of one built array several times


def per_location(spec: ConvSpec) -> ConvSpec:
    """``spec`` with one bias per output location, as the note's sum adds b_{i,j,k}."""
    return ConvSpec(spec.in_channels, spec.out_channels, spec.input_size, spec.kernel_size, bias="per_location")


def nonzero_pattern(m: sympy.SparseMatrix) -> np.ndarray:
    """The boolean nonzero pattern of a sparse SymPy matrix."""
    pattern = np.zeros(m.shape, dtype=bool)
    for (r, c), value in m.todok().items():
        pattern[r, c] = value != 0
    return pattern


def grid_claim(
    ctx: Context, check: Callable[[ConvSpec], str | None], specs: tuple[ConvSpec, ...] | None = None
) -> tuple[int, Counterexample | None]:
    """(layers examined, smallest counterexample or None) of ``check`` over ``specs`` (default: the grid)."""
    return search(check, ctx.specs if specs is None else specs)


def simple_claim(
    ctx: Context, claim_id: str, topic: str, as_written: str, check: Callable[[ConvSpec], str | None], summary: str,
    identities: tuple[tuple[bool, str], ...] = (), symbolic: str | None = None, precise: str | None = None,
) -> Claim:
    """A claim without a correction: ``check`` over the grid (smallest first) and SymPy ``identities`` (proved, LaTeX)
    for all sizes; ``symbolic`` replaces the identities' LaTeX when all are proved."""
    checked, cex = grid_claim(ctx, check)
    proved = all(ok for ok, _ in identities)
    if symbolic is None or not proved:
        symbolic = r",\quad ".join(tex for _, tex in identities) or None
    return Claim(claim_id, topic, as_written, cex is None and proved, Evidence(summary, checked, grid_text(ctx), symbolic, cex),
                 precise=precise)

