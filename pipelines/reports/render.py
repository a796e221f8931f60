"""Drawing forest-plot blocks into a PNG with matplotlib's Agg canvas (no pyplot, no display)."""

import textwrap
from pathlib import Path
from typing import NamedTuple

import matplotlib
import matplotlib.style
import numpy as np
from PIL import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from pipelines.reports.labels import LABEL_CHARS, truncate
from pipelines.reports.rows import (
    COMPLEMENT, INTERVAL, OVERALL, POOLED, SUBGROUP, TRIAL, TRIAL_OVERALL,
    ForestBlock, ForestRow, estimate_text,
)
from pipelines.reports.scales import axis_limits, axis_scale, is_plottable, log_ticks, null_value

# Geometry in inches. The width and dpi never change, so identical inputs give identical
# bytes; the height grows with the number of rows so that rows keep their spacing.
WIDTH, DPI = 10.0, 110
LABEL_X, PLOT_LEFT, PLOT_RIGHT, ESTIMATE_X = 0.15, 3.35, 6.65, 6.8
NOTE_XS = (8.7, 9.35)
TITLE_H, BLOCK_GAP, ROW_H, AXIS_H, CAPTION_H = 0.55, 0.2, 0.27, 0.5, 0.3
FOOTER_LINE_H, FOOTER_WRAP = 0.16, 150
TITLE_CHARS = 80
# Rows sit at y = 0, -1, -2, ...; the column headers at y = 1, above the data.
HEADER_Y, TOP_Y, BOTTOM_PAD = 1.0, 1.6, 0.6

# A palette of this size keeps anti-aliased text smooth at a third of the RGBA file size.
PALETTE_COLORS = 64

NAVY = "#1f4e79"
# Keep these defaults out of reach of a local matplotlibrc, so plots look the same everywhere.
_RC = {"font.family": "DejaVu Sans", "font.size": 9, "axes.linewidth": 0.8}


class RowStyle(NamedTuple):
    """How one kind of row is drawn."""

    marker: str
    size: float
    color: str
    face: str
    bold: bool = False


_STYLES = {
    OVERALL: RowStyle("D", 6.5, "black", "black", bold=True),
    SUBGROUP: RowStyle("s", 5.5, NAVY, NAVY),
    COMPLEMENT: RowStyle("o", 5.0, "0.45", "white"),
    TRIAL: RowStyle("s", 5.5, NAVY, NAVY),
    TRIAL_OVERALL: RowStyle("o", 4.5, "0.55", "white"),
    POOLED: RowStyle("D", 8.0, "black", "black", bold=True),
    INTERVAL: RowStyle("", 0.0, "0.35", "0.35"),
}


def render_forest(blocks: list[ForestBlock], title: str, footer: str, path: Path) -> Path:
    """Draw the blocks one under the other with a title and a footnote, and save a PNG."""
    footer_lines = textwrap.wrap(footer, FOOTER_WRAP) if footer else []
    height = _figure_height(blocks, len(footer_lines))
    with matplotlib.style.context("default"), matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, height), dpi=DPI)
        FigureCanvasAgg(fig)
        fig.text(LABEL_X / WIDTH, 1 - 0.3 / height, truncate(title, 110),
                 fontsize=12, weight="bold", va="center")
        cursor = TITLE_H
        for block in blocks:
            cursor = _place_block(fig, block, cursor, height)
        if not blocks:
            fig.text(LABEL_X / WIDTH, 1 - (TITLE_H + 0.2) / height, "No estimates to plot.",
                     va="top")
        if footer_lines:
            fig.text(LABEL_X / WIDTH, 0.1 / height, "\n".join(footer_lines),
                     fontsize=7.5, color="0.3", va="bottom", linespacing=1.3)
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())
    return _save_png(pixels, Path(path))


def _save_png(pixels: np.ndarray, path: Path) -> Path:
    """Write a palette PNG; Pillow adds no time or software chunk, so the bytes depend only
    on the pixels."""
    image = Image.fromarray(pixels).convert("RGB")
    palette = image.quantize(colors=PALETTE_COLORS, method=Image.Quantize.MEDIANCUT,
                             dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    palette.save(path, format="png", dpi=(DPI, DPI))
    return path


def _figure_height(blocks: list[ForestBlock], footer_lines: int) -> float:
    body = sum(
        BLOCK_GAP + _axes_height(b) + AXIS_H + (CAPTION_H if b.caption else 0) for b in blocks
    )
    return TITLE_H + (body or 0.6) + footer_lines * FOOTER_LINE_H + 0.3


def _axes_height(block: ForestBlock) -> float:
    return (len(block.rows) - 1 + BOTTOM_PAD + TOP_Y) * ROW_H


def _place_block(fig: Figure, block: ForestBlock, cursor: float, height: float) -> float:
    """Add the block's axes below cursor (inches from the top); return the new cursor."""
    cursor += BLOCK_GAP
    axes_h = _axes_height(block)
    ax = fig.add_axes((
        PLOT_LEFT / WIDTH, (height - cursor - axes_h) / height,
        (PLOT_RIGHT - PLOT_LEFT) / WIDTH, axes_h / height,
    ))
    _draw_block(fig, ax, block)
    cursor += axes_h + AXIS_H
    if block.caption:
        fig.text(LABEL_X / WIDTH, 1 - (cursor + 0.1) / height, block.caption,
                 fontsize=8.5, va="center")
        cursor += CAPTION_H
    return cursor


def _draw_block(fig: Figure, ax, block: ForestBlock) -> None:
    scale = axis_scale(block.measure)
    _set_up_axis(ax, block, scale)
    rows_bottom, rows_top = -(len(block.rows) - 1) - 0.5, 0.5
    ax.vlines(null_value(block.measure), rows_bottom, rows_top, color="0.55", lw=0.8, zorder=1)
    if is_plottable(block.reference, scale):
        ax.vlines(block.reference, rows_bottom, rows_top, color="0.35", lw=0.8,
                  linestyles=(0, (1, 2)), zorder=1)
    columns = blended_transform_factory(fig.transFigure, ax.transData)
    _draw_headers(ax, block, columns)
    for index, row in enumerate(block.rows):
        _draw_row(ax, row, -index, scale)
        _write_row(ax, row, -index, columns)


def _set_up_axis(ax, block: ForestBlock, scale: str) -> None:
    values = [x for r in block.rows for x in (r.value, r.ci_low, r.ci_high)] + [block.reference]
    low, high = axis_limits(values, block.measure)
    ax.set_xscale(scale)
    ax.set_xlim(low, high)
    ax.set_ylim(-(len(block.rows) - 1) - BOTTOM_PAD, TOP_Y)
    if scale == "log":
        ax.set_xticks(log_ticks(low, high))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(block.quantity + (", log scale" if scale == "log" else ""),
                  fontsize=8, labelpad=2)


def _draw_headers(ax, block: ForestBlock, columns) -> None:
    header = {"transform": columns, "va": "center", "weight": "bold"}
    ax.text(LABEL_X / WIDTH, HEADER_Y, truncate(block.title, TITLE_CHARS), **header)
    ax.text(ESTIMATE_X / WIDTH, HEADER_Y, f"{block.quantity} (CI)", **header)
    for x, note in zip(NOTE_XS, block.note_headers):
        ax.text(x / WIDTH, HEADER_Y, note, **header)
    ax.add_artist(Line2D([LABEL_X / WIDTH, 1 - LABEL_X / WIDTH], [0.5 * HEADER_Y] * 2,
                         transform=columns, color="0.7", lw=0.6, clip_on=False))


def _draw_row(ax, row: ForestRow, y: float, scale: str) -> None:
    style = _STYLES[row.kind]
    has_ci = is_plottable(row.ci_low, scale) and is_plottable(row.ci_high, scale)
    has_value = is_plottable(row.value, scale)
    if row.kind == POOLED and has_ci and has_value:
        ax.fill([row.ci_low, row.value, row.ci_high, row.value], [y, y + 0.3, y, y - 0.3],
                color=style.color, lw=0, zorder=3)
        return
    if has_ci:
        ax.hlines(y, row.ci_low, row.ci_high, color=style.color, lw=1.3, zorder=2)
        if row.kind == INTERVAL:
            ax.vlines([row.ci_low, row.ci_high], y - 0.15, y + 0.15, color=style.color, lw=1.3)
    if has_value and style.marker:
        ax.plot([row.value], [y], marker=style.marker, markersize=style.size, color=style.color,
                markerfacecolor=style.face, linestyle="none", zorder=3)


def _write_row(ax, row: ForestRow, y: float, columns) -> None:
    style = _STYLES[row.kind]
    cell = {"transform": columns, "va": "center", "weight": "bold" if style.bold else "normal"}
    ax.text(LABEL_X / WIDTH, y, truncate(row.label, LABEL_CHARS), **cell)
    ax.text(ESTIMATE_X / WIDTH, y, estimate_text(row), **cell)
    for x, note in zip(NOTE_XS, row.notes):
        ax.text(x / WIDTH, y, note, **cell)
