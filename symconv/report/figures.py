"""Figures as data: 𝒲's sparsity and receptive-field maps, laid out in cell units for TikZ.

Layout happens here (cell sizes, tiling of large matrices, wrapping of maps into rows), so that the
templates only draw rectangles at the coordinates given. Every coordinate is a short decimal string
(:class:`~symconv.report.render.Tex`), so the LaTeX source is the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import SpecError
from ..receptive.field import AxisRegion, MapRegion, ReceptiveField, Region
from .gather import SparsityCounts
from .render import Tex

__all__ = ["MapPicture", "ReceptiveFigure", "SparsityFigure", "receptive_figure", "sparsity_figure"]


# ----------------------------------------------------------------------------- sparsity of 𝒲
@dataclass(frozen=True)
class SparsityFigure:
    """𝒲's nonzero pattern (seed row order) as TikZ rectangles, in cell units, with its block grid.

    ``runs`` are (row, first column, end column, shade) in cells; a cell is one entry of 𝒲, or a
    ``bin_rows`` × ``bin_cols`` tile of entries when 𝒲 is too large to draw entry by entry.
    """

    rows: int
    cols: int
    unit: Tex  # length of one cell, e.g. "0.3200cm"
    runs: tuple[tuple[int, int, int, int], ...]
    coloring: str  # "channel": one entry per cell; "blocks": one block per cell; shade = input channel l (mod 4) + 1
    bin_rows: int
    bin_cols: int
    thin_hlines: tuple[Tex, ...]  # coordinates (in cells) of the lines between 𝒲_{j,k}
    thick_hlines: tuple[Tex, ...]  # … between output rows j
    thin_vlines: tuple[Tex, ...]  # … between image rows r (the slots of the blocks B)
    thick_vlines: tuple[Tex, ...]  # … between input channels l
    channel_labels: tuple[tuple[Tex, Tex], ...]  # (x, label)
    row_labels: tuple[tuple[Tex, Tex], ...]  # (y, label)
    highlight: tuple[Tex, Tex, Tex]  # first row, end row, middle of the 𝒲_{j,k} shown (its block row when tiled)
    highlight_label: Tex
    nnz: int
    d_y: int
    d_x: int
    density: str
    rows_per_cell: int  # output rows j per cell ("blocks" colouring; 0 when cells are entries)
    cols_per_cell: int  # input rows r per cell (likewise)


_FIG_WIDTH_CM, _FIG_HEIGHT_CM = 13.5, 19.0
_MIN_LINE_GAP_CM = 0.15  # grid lines closer than this would turn the picture gray
_MAX_UNIT_CM = 0.6  # cells of tiny matrices stay small
_PALETTE = 4
_MAX_RUNS = 2500  # rectangles per picture: pdflatex's memory and time stay small


def _level_runs(level: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(row, first column, end column, level) of the runs of equal nonzero level, row by row."""
    runs = []
    for r, line in enumerate(level):
        change = np.flatnonzero(np.diff(np.concatenate(([0], line, [0]))) != 0)
        for a, b in zip(change[:-1], change[1:]):
            if line[a]:
                runs.append((r, int(a), int(b), int(line[a])))
    return runs


def _coord(value: float) -> Tex:
    """A TikZ coordinate in cells, four decimals at most."""
    return Tex(f"{round(value, 4):g}")


@dataclass(frozen=True)
class _Tiles:
    """The counts regrouped until TeX can draw them: runs of one shade, and the tile size in entries."""

    runs: list[tuple[int, int, int, int]]
    coloring: str
    rows: int
    cols: int
    bin_rows: int
    bin_cols: int


def _tiles(sparsity: SparsityCounts) -> _Tiles:
    """Shade each cell by the input channel of its columns (an entry, or a block of the note); a cell is drawn when
    it holds a nonzero, whatever the fraction (a pale shade per fraction would fade large layers to nothing);
    coarsen by whole blocks until ≤ _MAX_RUNS runs."""
    grid, bin_r, bin_c = sparsity.grid, sparsity.bin_rows, sparsity.bin_cols
    rows, cols = grid.shape
    height, width = sparsity.spec.input_size
    while True:
        channel = (np.arange(cols)[None, :] * bin_c // (height * width)) % _PALETTE + 1
        level = np.where(grid > 0, channel, 0)
        runs = _level_runs(level)
        if len(runs) <= _MAX_RUNS:
            return _Tiles(runs, "channel" if bin_r * bin_c == 1 else "blocks", rows, cols, bin_r, bin_c)
        # too many rectangles for TeX: tiles twice as large (still whole blocks), summed from the finer grid
        grid = np.pad(grid, ((0, rows % 2), (0, cols % 2))).reshape((rows + 1) // 2, 2, (cols + 1) // 2, 2).sum(axis=(1, 3))
        rows, cols, bin_r, bin_c = grid.shape[0], grid.shape[1], bin_r * 2, bin_c * 2


_MIN_HIGHLIGHT_CM = 0.16  # the framed 𝒲_{j,k} stays a visible band, never a hairline


def _highlight(first: float, end: float, unit: float, tiled: bool) -> tuple[Tex, Tex, Tex]:
    """(first row, end row, middle) in cells of the framed band: whole tiles when tiled, at least a visible height."""
    if tiled:
        first, end = float(int(first)), float(max(int(first) + 1, -(-end // 1)))
    middle = (first + end) / 2
    half = max(end - first, _MIN_HIGHLIGHT_CM / unit) / 2
    return _coord(middle - half), _coord(middle + half), _coord(middle)


def sparsity_figure(sparsity: SparsityCounts, position: tuple[int, int] = (0, 0)) -> SparsityFigure:
    """𝒲's nonzeros counted by :func:`symconv.report.gather.gather_sparsity`, laid out for TikZ.

    ``position`` (0-based (j, k)) is the 𝒲_{j,k} highlighted.

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.report.gather import gather_sparsity
    >>> f = sparsity_figure(gather_sparsity(ConvSpec(1, 1, input_size=3, kernel_size=2)))
    >>> f.nnz, f.rows, f.cols, f.runs[0]
    (16, 4, 9, (0, 0, 2, 1))
    """
    spec = sparsity.spec
    d_y, d_x = spec.d_y, spec.d_x
    t = _tiles(sparsity)
    unit = min(_FIG_WIDTH_CM / t.cols, _FIG_HEIGHT_CM / t.rows, _MAX_UNIT_CM)

    def lines(step_entries: int, axis_bin: int, total: int) -> tuple[Tex, ...]:
        if step_entries / axis_bin * unit < _MIN_LINE_GAP_CM:
            return ()
        return tuple(_coord(v / axis_bin) for v in range(step_entries, total, step_entries))

    (height, width), (rows_out, cols_out), c2 = spec.input_size, spec.output_size, spec.out_channels
    thick_h = lines(c2 * cols_out, t.bin_rows, d_y)
    thick_v = lines(height * width, t.bin_cols, d_x)
    channel_labels: tuple[tuple[Tex, Tex], ...] = ()
    if spec.in_channels <= 8:
        channel_labels = tuple(
            (_coord((l + 0.5) * height * width / t.bin_cols), Tex(f"l = {l + 1}")) for l in range(spec.in_channels)
        )
    row_labels: tuple[tuple[Tex, Tex], ...] = ()
    if rows_out <= 16 and c2 * cols_out / t.bin_rows * unit >= 0.3:
        row_labels = tuple((_coord((j + 0.5) * c2 * cols_out / t.bin_rows), Tex(f"j = {j + 1}")) for j in range(rows_out))
    flat = position[0] * cols_out + position[1]
    highlight = _highlight(flat * c2 / t.bin_rows, (flat + 1) * c2 / t.bin_rows, unit, t.bin_rows > 1)
    return SparsityFigure(
        rows=t.rows, cols=t.cols, unit=Tex(f"{unit:.4f}cm"), runs=tuple(t.runs), coloring=t.coloring,
        bin_rows=t.bin_rows, bin_cols=t.bin_cols, thin_hlines=tuple(v for v in lines(c2, t.bin_rows, d_y) if v not in thick_h),
        thick_hlines=thick_h, thin_vlines=tuple(v for v in lines(width, t.bin_cols, d_x) if v not in thick_v),
        thick_vlines=thick_v, channel_labels=channel_labels, row_labels=row_labels,
        highlight=highlight,
        highlight_label=Tex(rf"\mathcal{{W}}_{{{position[0] + 1},{position[1] + 1}}}"),
        nnz=sparsity.nnz, d_y=d_y, d_x=d_x, density=f"{100 * sparsity.nnz / (d_y * d_x):.2f}",
        rows_per_cell=t.bin_rows // (c2 * cols_out) if t.coloring == "blocks" else 0,
        cols_per_cell=t.bin_cols // width if t.coloring == "blocks" else 0,
    )


# ----------------------------------------------------------------------------- 𝒲's pattern in any ndim
@dataclass(frozen=True)
class PatternFigure:
    """𝒲's nonzero pattern (channel-major rows, C-order columns) entry by entry, as TikZ rectangles in cell units.

    ``runs`` are (row, first column, end column, shade) with shade = input channel (mod 4) + 1; the lines
    separate output channels (horizontal) and input channels (vertical).
    """

    rows: int
    cols: int
    unit: Tex
    runs: tuple[tuple[int, int, int, int], ...]
    hlines: tuple[Tex, ...]
    vlines: tuple[Tex, ...]


def pattern_figure(pattern: np.ndarray, out_channels: int, in_channels: int) -> PatternFigure:
    """The boolean pattern of 𝒲 (``d_y × d_x``, small enough to draw entry by entry) laid out for TikZ.

    >>> f = pattern_figure(np.array([[1, 1, 0], [0, 1, 1]], dtype=bool), 1, 1)
    >>> f.runs, f.hlines
    (((0, 0, 2, 1), (1, 1, 3, 1)), ())
    """
    rows, cols = pattern.shape
    per_in, per_out = cols // in_channels, rows // out_channels
    shade = (np.arange(cols) // per_in) % _PALETTE + 1
    runs = _level_runs(np.where(pattern, shade[None, :], 0))
    unit = min(_FIG_WIDTH_CM / cols, _FIG_HEIGHT_CM / rows, _MAX_UNIT_CM)
    return PatternFigure(rows, cols, Tex(f"{unit:.4f}cm"), tuple(runs),
                         tuple(_coord(v) for v in range(per_out, rows, per_out)),
                         tuple(_coord(v) for v in range(per_in, cols, per_in)))


# ----------------------------------------------------------------------------- receptive-field maps
@dataclass(frozen=True)
class MapPicture:
    """One feature map in a receptive-field figure: where it sits, the positions read, the box."""

    name: str
    caption: str
    rows: int
    cols: int
    x: Tex  # top-left corner, cm
    y: Tex
    runs: tuple[tuple[int, int, int], ...]  # (row, first column, end column) of positions read
    box: tuple[Tex, Tex, Tex, Tex]  # the unclipped box (x0, y0, x1, y1) in cells; may reach into the padding
    middle: Tex  # horizontal centre, in cells, for the caption
    grid: bool
    cells: int
    is_output: bool
    size: Tex  # the whole map's size, H × W (the drawing may show a window of it)
    window: str  # "" when the whole map is drawn, else which rows and columns (0-based) are shown


@dataclass(frozen=True)
class ReceptiveFigure:
    """Feature maps from the input to the output, each with the region of one output highlighted."""

    maps: tuple[MapPicture, ...]
    unit: Tex  # length of one cell, the same in every map


_RF_MAX_MAP_CM, _RF_MAX_UNIT_CM, _RF_WIDTH_CM, _RF_GAP_CM, _RF_CAPTION_CM = 6.0, 0.6, 15.0, 0.8, 1.4
_RF_CHAR_CM = 0.17  # width of a caption character in \\scriptsize typewriter
_RF_GRID_MIN_UNIT_CM = 0.12
_MAX_CAPTION_CHARS = 28
# Maps larger than this many cells along an axis are cropped to a window around the region (with a margin),
# so that a 224 × 224 input does not shrink a 3 × 3 region to a speck.
_RF_CROP_CELLS = 24
_RF_CROP_MARGIN = 3


def _window(size: int, start: int, end: int) -> tuple[int, int]:
    """The cells [lo, hi) drawn along one axis: all of them when few, else the region (clipped) with a margin."""
    if size <= _RF_CROP_CELLS:
        return 0, size
    lo = max(0, min(start, size - 1) - _RF_CROP_MARGIN)
    hi = min(size, max(end, 0) + 1 + _RF_CROP_MARGIN)
    return lo, max(hi, lo + 1)


def _drawn(m: MapRegion) -> tuple[tuple[int, ...], np.ndarray]:
    """The map's size and mask: both known once the input size is (a figure needs it)."""
    if m.map_size is None or m.mask is None:
        raise SpecError(f"a receptive-field figure needs the input size; the size of {m.node!r} is unknown")
    return m.map_size, m.mask


def _as_plane(m: MapRegion) -> MapRegion:
    """A 1-D map as a 1 × n one (row 0), so that 1-D stacks draw like 2-D ones; other maps unchanged."""
    if len(m.axes) != 1:
        return m
    size, mask = _drawn(m)
    return replace(m, map_size=(1, *size), mask=mask[None, :], axes=(AxisRegion(0, 0, 0.0, 0, 0), *m.axes))


def receptive_figure(rf: ReceptiveField, region: Region) -> ReceptiveFigure:
    """``region`` (one output's, from ``rf.region``) in every feature map of ``rf``, laid out left to right.

    ``rf`` is a :class:`symconv.receptive.field.ReceptiveField` with an input size.

    >>> from symconv.core.spec import ConvSpec
    >>> from symconv.receptive.field import receptive_field
    >>> rf = receptive_field([ConvSpec(1, 1, input_size=4, kernel_size=2)])
    >>> [(m.name, m.cells) for m in receptive_figure(rf, rf.region((1, 1))).maps]
    [('input', 4), ('conv1', 1)]
    """
    maps_in = tuple(_as_plane(m) for m in region.maps)  # a 1-D map is drawn as one row of cells
    windows = [tuple(_window(n, a.start, a.end) for n, a in zip(_drawn(m)[0], m.axes)) for m in maps_in]
    largest = max(max(hi - lo for lo, hi in w) for w in windows)
    unit = min(_RF_MAX_UNIT_CM, _RF_MAX_MAP_CM / largest)
    captions = {lf.name: lf.layer.describe() if lf.layer is not None else (lf.merge or "") for lf in rf.layers}
    maps: list[MapPicture] = []
    x, y, row_height = 0.0, 0.0, 0.0
    for number, (m, ((wr0, wr1), (wc0, wc1))) in enumerate(zip(maps_in, windows)):
        (full_rows, full_cols), full_mask = _drawn(m)
        mask = full_mask[wr0:wr1, wc0:wc1]
        rows, cols = mask.shape
        cropped = (rows, cols) != (full_rows, full_cols)
        caption = captions.get(m.node, "")
        if len(caption) > _MAX_CAPTION_CHARS:
            caption = caption[: _MAX_CAPTION_CHARS - 1] + "…"
        # each map gets a slot wide enough for its caption, and sits in the slot's middle
        slot = max(cols * unit, _RF_CHAR_CM * max(len(caption), len(m.node) + 8))
        if x > 0 and x + slot > _RF_WIDTH_CM:  # wrap to a new row of maps
            x, y, row_height = 0.0, y + row_height + _RF_CAPTION_CM, 0.0
        r0, c0 = m.axes[0].start - wr0, m.axes[1].start - wc0
        r1, c1 = m.axes[0].end + 1 - wr0, m.axes[1].end + 1 - wc0
        maps.append(MapPicture(
            name=m.node, caption=caption, rows=rows, cols=cols,
            x=Tex(f"{x + (slot - cols * unit) / 2:.3f}"), y=Tex(f"{-y:.3f}"),
            runs=tuple((r, a, b) for r, a, b, _ in _level_runs(mask.astype(np.int8))),
            box=(_coord(c0), _coord(r0), _coord(c1), _coord(r1)), middle=_coord(cols / 2), grid=unit >= _RF_GRID_MIN_UNIT_CM,
            cells=int(full_mask.sum()), is_output=number == len(maps_in) - 1,
            size=Tex(f"{full_rows}\\,\\texttimes\\,{full_cols}"),
            window=f"rows {wr0}–{wr1 - 1}, columns {wc0}–{wc1 - 1} (from 0)" if cropped else "",
        ))
        x += slot + _RF_GAP_CM
        row_height = max(row_height, rows * unit)
    return ReceptiveFigure(tuple(maps), Tex(f"{unit:.4f}cm"))
