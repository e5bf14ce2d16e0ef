"""𝒲's construction for one output position, in the note's block notation: B, 𝒲_{j,k,l}, 𝒲_{j,k}, b_{j,k}, 𝒲.

Every block label also names the symconv call that builds it (0-based); the typeset matrices use the
note's numbering (:func:`.note.to_note`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..gather import BlockResults, in_note_setting
from ..render import Tex
from .note import elide, to_note

__all__ = ["BlockRow", "BlocksSection", "NamedMatrix", "blocks_section"]


@dataclass(frozen=True)
class NamedMatrix:
    """A block typeset: its name (note numbering), the symconv call (0-based), its size, the matrix."""

    name: Tex
    call: str
    rows: int
    cols: int
    matrix: sympy.MatrixBase  # note numbering; rows/columns elided with ⋯ when large
    elided: bool


@dataclass(frozen=True)
class BlockRow:
    """𝒲_{j,k,l} or 𝒲_{j,k} in the note's block notation: (piece | piece | …)."""

    name: Tex
    call: str
    rows: int
    cols: int
    pieces: tuple[Tex, ...]
    explicit: NamedMatrix | None


@dataclass(frozen=True)
class BlocksSection:
    """𝒲's construction for one output position: B blocks, 𝒲_{j,k,l}, 𝒲_{j,k}, b_{j,k}, maybe 𝒲."""

    position: Tex  # (j, k) in the note's numbering
    subscript: Tex  # "j,k" in the note's numbering
    position0: tuple[int, int]  # the same, 0-based
    B: tuple[NamedMatrix, ...]
    B_total: int
    B_per_line: int
    W_jkl: tuple[BlockRow, ...]
    W_jkl_total: int
    W_jk: BlockRow
    b_jk: sympy.MatrixBase | None
    W: NamedMatrix | None
    height: int
    width: int
    out_channels: int
    generalised: bool  # stride, padding or dilation beyond the note's setting: the figure's caption says where B sits


_MAX_B_SHOWN = 6
# Above this many entries in one block B (C₂ × W), one representative B stands for all: they differ only in
# which kernel row they carry, and the figures show where they sit.
COMPACT_B_ENTRIES = 96
_MAX_W_JKL_SHOWN = 3
_B_PAIR_MAX_WIDTH = 8  # blocks B up to this many columns are typeset two to a line
_MAX_CHANNELS_LISTED = 4  # 𝒲_{j,k} lists its 𝒲_{j,k,l} up to this many input channels, then elides


def _named(name: str, call: str, m: sympy.MatrixBase) -> NamedMatrix:
    shown, elided = elide(to_note(m))
    return NamedMatrix(Tex(name), call, m.rows, m.cols, shown, elided)


def _zero(rows: int, cols: int) -> Tex:
    return Tex(rf"O_{{{rows}\times {cols}}}")


def _W_jkl_rows(b: BlockResults) -> tuple[list[NamedMatrix], list[BlockRow]]:
    """Every B_{l,m,k} typeset, and each 𝒲_{j,k,l} as its B blocks separated by zero blocks O."""
    spec, (j, k) = b.spec, b.position
    c2, (height, width) = spec.out_channels, spec.input_size
    all_B: list[NamedMatrix] = []
    rows: list[BlockRow] = []
    for l in range(spec.in_channels):
        pieces: list[Tex] = []
        placed = [p for p in b.placed if p.l == l]
        # input row r of 𝒲_{j,k,l} holds B_{l,m,k} where the block was placed, else O; consecutive O's merge
        previous_end = 0
        for p in placed:
            if p.row > previous_end:
                pieces.append(_zero(c2, (p.row - previous_end) * width))
            name = Tex(f"B_{{{l + 1},{p.m},{k + 1}}}")
            pieces.append(name)
            all_B.append(_named(name, f"blocks(spec).B({l}, {p.m}, {k})", p.matrix))
            previous_end = p.row + 1
        if previous_end < height:
            pieces.append(_zero(c2, (height - previous_end) * width))
        label = rf"\mathcal{{W}}_{{{j + 1},{k + 1},{l + 1}}}"
        explicit = b.W_jkl[l]
        rows.append(BlockRow(
            Tex(label), f"blocks(spec).W({j}, {k}, {l})", c2, height * width, tuple(pieces),
            None if explicit is None else _named(label, "", explicit),
        ))
    return all_B, rows


def _W_jk_row(b: BlockResults, rows_jkl: list[BlockRow]) -> BlockRow:
    spec, (j, k) = b.spec, b.position
    label = rf"\mathcal{{W}}_{{{j + 1},{k + 1}}}"
    pieces = (tuple(r.name for r in rows_jkl) if spec.in_channels <= _MAX_CHANNELS_LISTED
              else (rows_jkl[0].name, rows_jkl[1].name, Tex(r"\cdots"), rows_jkl[-1].name))
    return BlockRow(Tex(label), f"blocks(spec).W({j}, {k})", spec.out_channels, spec.d_x, pieces,
                    None if b.W_jk is None else _named(label, "", b.W_jk))


def blocks_section(b: BlockResults) -> BlocksSection:
    """The note's blocks of 𝒲 gathered for one output position, typeset in its block notation.

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.report.gather import gather_blocks
    >>> s = blocks_section(gather_blocks(ConvSpec(1, 2, input_size=3, kernel_size=2)))
    >>> [str(p) for p in s.W_jkl[0].pieces]
    ['B_{1,0,1}', 'B_{1,1,1}', 'O_{2\\\\times 3}']
    """
    spec, (j, k) = b.spec, b.position
    height, width = spec.input_size
    all_B, rows_jkl = _W_jkl_rows(b)
    b_jk = None if b.b_jk is None else elide(to_note(sympy.Matrix(list(b.b_jk))))[0]
    W = None
    if b.W is not None:
        W = NamedMatrix(Tex(r"\mathcal{W}"), 'matrix(spec, order="seed")', spec.d_y, spec.d_x, to_note(b.W), False)
    limit = 1 if spec.out_channels * width > COMPACT_B_ENTRIES else _MAX_B_SHOWN
    shown_B = all_B if len(all_B) <= limit else (all_B[:1] if limit == 1 else all_B[: limit - 1] + all_B[-1:])
    shown_rows = rows_jkl if len(rows_jkl) <= _MAX_W_JKL_SHOWN else rows_jkl[: _MAX_W_JKL_SHOWN - 1] + rows_jkl[-1:]
    return BlocksSection(
        position=Tex(f"({j + 1}, {k + 1})"), subscript=Tex(f"{j + 1},{k + 1}"), position0=(j, k),
        B=tuple(shown_B), B_total=len(all_B), B_per_line=2 if width <= _B_PAIR_MAX_WIDTH else 1,
        W_jkl=tuple(shown_rows), W_jkl_total=len(rows_jkl), W_jk=_W_jk_row(b, rows_jkl), b_jk=b_jk, W=W,
        height=height, width=width, out_channels=spec.out_channels, generalised=not in_note_setting(spec),
    )
