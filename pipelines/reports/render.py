"""Drawing forest-plot blocks into a palette PNG with Pillow and numpy.

The image is an array of palette indices. Shapes are written into it directly; text is built
from glyphs that Pillow's FreeType binding renders once per font and character, and whole
strings are cached, so a plot costs a few milliseconds, half of it compressing the PNG.
"""

import functools
import importlib.util
import math
import struct
import textwrap
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipelines.reports.labels import LABEL_CHARS, truncate
from pipelines.reports.rows import (
    COMPLEMENT, INTERVAL, OVERALL, POOLED, SUBGROUP, TRIAL, TRIAL_OVERALL,
    ForestBlock, ForestRow, estimate_text,
)
from pipelines.reports.scales import (
    axis_limits, axis_scale, is_plottable, linear_ticks, log_ticks, null_value, tick_label,
)

# Geometry in pixels. The width never changes, so identical inputs give identical bytes; the
# height grows with the number of rows so that rows keep their spacing.
WIDTH = 1100
DPI = 110
LABEL_X, PLOT_LEFT, PLOT_RIGHT, ESTIMATE_X = 16, 368, 732, 748
NOTE_XS = (957, 1028)
TITLE_H, BLOCK_GAP, ROW_H, AXIS_H, CAPTION_H = 60, 22, 30, 55, 33
FOOTER_LINE_H, FOOTER_WRAP = 18, 160
TITLE_CHARS = 80
# Inside a block, from its top: the column headers, the rule under them, the first row.
HEADER_DY, RULE_DY, FIRST_ROW_DY = 18, 33, 48
# Below the last row: the axis line, then the tick labels and the axis name under it.
AXIS_DY, TICK_LEN, TICK_LABEL_DY, AXIS_LABEL_DY = 18, 5, 14, 30
CI_THICKNESS = 2
# Squares are sized by the precision of their estimate: the most precise square of a block
# gets the largest side, one with a CI twice as wide half that side, down to the smallest.
SQUARE_MAX, SQUARE_MIN, SQUARE_PLAIN = 14, 6, 9
DIAMOND_HALF_HEIGHT = 9
# Side of the arrowhead marking a CI that runs past the axis.
ARROW = 9
# Font sizes in pixels (9, 12, 8 and 7.5 points at 110 dpi).
TEXT_PX, TITLE_PX, SMALL_PX, CAPTION_PX, FOOTER_PX = 14, 18, 12, 13, 11

# The palette: white, fourteen greys from light to black, and navy. Sixteen entries make a
# 4-bit PNG, half the bytes to compress of an 8-bit one. Grey text and lines and the
# anti-aliased edges of black ones are all shades between white and black; navy is only used
# for squares and lines that need no smoothing.
GREYS = 14
NAVY_INDEX = GREYS + 1
PALETTE = bytes(
    [channel for k in range(GREYS + 1) for channel in [round(255 * (1 - k / GREYS))] * 3]
    + [31, 78, 121]
)
# Colours: how dark each grey is (1 = black), or navy.
BLACK, GREY30, GREY35, GREY45, GREY55, GREY70 = 1.0, 0.7, 0.65, 0.55, 0.45, 0.3
NAVY = -1.0


@functools.cache
def _shade_lut(color: float) -> np.ndarray:
    """Coverage (0..255) of a pixel by the colour -> palette index (0, white: untouched)."""
    coverage = np.arange(256) / 255
    if color == NAVY:
        return np.where(coverage >= 0.5, NAVY_INDEX, 0).astype(np.uint8)
    return np.round(coverage * color * GREYS).astype(np.uint8)


class RowStyle(NamedTuple):
    """How one kind of row is drawn."""

    marker: str  # "diamond", "square", "circle" or "" (none)
    color: float
    bold: bool = False


_STYLES = {
    OVERALL: RowStyle("diamond", BLACK, bold=True),
    SUBGROUP: RowStyle("square", NAVY),
    COMPLEMENT: RowStyle("circle", GREY45),
    TRIAL: RowStyle("square", NAVY),
    TRIAL_OVERALL: RowStyle("circle", GREY55),
    POOLED: RowStyle("", BLACK, bold=True),
    INTERVAL: RowStyle("", GREY35),
}


def render_forest(blocks: list[ForestBlock], title: str, footer: str, path: Path) -> Path:
    """Draw the blocks one under the other with a title and a footnote, and save a PNG."""
    footer_lines = _wrap(footer)
    canvas = _Canvas(_image_height(blocks, len(footer_lines)))
    canvas.text(LABEL_X, 33, truncate(title, 110), _font(TITLE_PX, True), BLACK,
                max_width=WIDTH - 2 * LABEL_X)
    cursor = TITLE_H
    for block in blocks:
        cursor = _draw_block(canvas, block, cursor)
    if not blocks:
        canvas.text(LABEL_X, TITLE_H + BLOCK_GAP + 10, "No estimates to plot.",
                    _font(TEXT_PX), BLACK)
    footer_top = canvas.height - 11 - len(footer_lines) * FOOTER_LINE_H
    for index, line in enumerate(footer_lines):
        canvas.text(LABEL_X, footer_top + index * FOOTER_LINE_H + FOOTER_LINE_H // 2, line,
                    _font(FOOTER_PX), GREY30, max_width=WIDTH - 2 * LABEL_X)
    return canvas.save(Path(path))


@functools.lru_cache(maxsize=64)
def _wrap(footer: str) -> list[str]:
    return textwrap.wrap(footer, FOOTER_WRAP) if footer else []


def _image_height(blocks: list[ForestBlock], footer_lines: int) -> int:
    body = sum(_block_height(block) for block in blocks) or 66
    return TITLE_H + body + footer_lines * FOOTER_LINE_H + 33


def _block_height(block: ForestBlock) -> int:
    rows = FIRST_ROW_DY + (len(block.rows) - 1) * ROW_H + AXIS_DY
    return BLOCK_GAP + rows + AXIS_H + (CAPTION_H if block.caption else 0)


class _Axis(NamedTuple):
    """Maps values of one block to pixel columns."""

    scale: str
    low: float
    high: float

    def _t(self, x: float) -> float:
        return math.log10(x) if self.scale == "log" else x

    def x(self, value: float) -> float:
        low, high = self._t(self.low), self._t(self.high)
        return PLOT_LEFT + (self._t(value) - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT)

    def spread(self, row: ForestRow) -> float:
        """Width of the row's CI on the axis's scale (0 when it has none)."""
        if not (is_plottable(row.ci_low, self.scale) and is_plottable(row.ci_high, self.scale)):
            return 0.0
        return abs(self._t(row.ci_high) - self._t(row.ci_low))


def _draw_block(canvas: "_Canvas", block: ForestBlock, cursor: int) -> int:
    """Draw the block below cursor (pixels from the top); return the new cursor."""
    top = cursor + BLOCK_GAP
    first = top + FIRST_ROW_DY
    last = first + (len(block.rows) - 1) * ROW_H
    scale = axis_scale(block.measure)
    values = [x for r in block.rows for x in (r.value, r.ci_low, r.ci_high)] + [block.reference]
    axis = _Axis(scale, *axis_limits(values, block.measure))

    _draw_headers(canvas, block, top)
    rows_top, rows_bottom = first - ROW_H // 2, last + ROW_H // 2
    canvas.vline(round(axis.x(null_value(block.measure))), rows_top, rows_bottom, GREY55)
    if is_plottable(block.reference, scale) and axis.low <= block.reference <= axis.high:
        canvas.vline(round(axis.x(block.reference)), rows_top, rows_bottom, GREY35, dash=(2, 3))
    square_sides = _square_sides(block.rows, axis)
    for index, row in enumerate(block.rows):
        y = first + index * ROW_H
        _draw_row(canvas, row, y, axis, square_sides[index])
        _write_row(canvas, row, y)

    spine = last + AXIS_DY
    _draw_axis(canvas, block, axis, spine)
    cursor = spine + AXIS_H
    if block.caption:
        canvas.text(LABEL_X, cursor + 11, block.caption, _font(CAPTION_PX), BLACK,
                    max_width=WIDTH - 2 * LABEL_X)
        cursor += CAPTION_H
    return cursor


def _draw_headers(canvas: "_Canvas", block: ForestBlock, top: int) -> None:
    y, bold = top + HEADER_DY, _font(TEXT_PX, True)
    canvas.text(LABEL_X, y, truncate(block.title, TITLE_CHARS), bold, BLACK,
                max_width=ESTIMATE_X - LABEL_X - 8)
    canvas.text(ESTIMATE_X, y, f"{block.quantity} (CI)", bold, BLACK,
                max_width=NOTE_XS[0] - ESTIMATE_X - 4)
    for x, note in zip(NOTE_XS, block.note_headers):
        canvas.text(x, y, note, bold, BLACK)
    canvas.hline(LABEL_X, WIDTH - LABEL_X, top + RULE_DY, 1, GREY70)


def _draw_axis(canvas: "_Canvas", block: ForestBlock, axis: _Axis, spine: int) -> None:
    canvas.hline(PLOT_LEFT, PLOT_RIGHT + 1, spine, 1, BLACK)
    if axis.scale == "log":
        ticks = log_ticks(axis.low, axis.high)
    else:
        ticks = linear_ticks(axis.low, axis.high)
    small = _font(SMALL_PX)
    label_end = -math.inf
    for tick in ticks:
        x = round(axis.x(tick))
        canvas.vline(x, spine, spine + TICK_LEN, BLACK)
        label = tick_label(tick)
        width = small.shades(label, BLACK)[1]
        # A label that would touch the previous one is left out; its tick stays.
        if x - width / 2 >= label_end + 4:
            canvas.text(x, spine + TICK_LABEL_DY, label, small, BLACK, align="center")
            label_end = x + width / 2
    name = block.quantity + (", log scale" if axis.scale == "log" else "")
    canvas.text((PLOT_LEFT + PLOT_RIGHT) // 2, spine + AXIS_LABEL_DY, name, small, BLACK,
                align="center")


def _square_sides(rows: tuple[ForestRow, ...], axis: _Axis) -> list[int]:
    """Side of each row's square: inversely proportional to the width of its CI (so the area
    follows the inverse-variance weight), relative to the most precise square of the block."""
    spreads = [axis.spread(row) if _STYLES[row.kind].marker == "square" else 0.0 for row in rows]
    finest = min((s for s in spreads if s > 0), default=0.0)
    return [
        max(SQUARE_MIN, min(SQUARE_MAX, round(SQUARE_MAX * finest / spread)))
        if spread > 0 else SQUARE_PLAIN
        for spread in spreads
    ]


def _draw_row(canvas: "_Canvas", row: ForestRow, y: int, axis: _Axis, side: int) -> None:
    style = _STYLES[row.kind]
    has_ci = is_plottable(row.ci_low, axis.scale) and is_plottable(row.ci_high, axis.scale)
    has_value = is_plottable(row.value, axis.scale)
    if row.kind == POOLED and has_ci and has_value:
        low, high = sorted((axis.x(row.ci_low), axis.x(row.ci_high)))
        canvas.diamond(low, axis.x(row.value), high, y, style.color)
        _mark_clipped(canvas, low, high, y, style.color)
        return
    if has_ci:
        low, high = sorted((axis.x(row.ci_low), axis.x(row.ci_high)))
        left, right = max(low, PLOT_LEFT), min(high, PLOT_RIGHT)
        if left <= right:
            canvas.hline(round(left), round(right) + 1, y - CI_THICKNESS // 2, CI_THICKNESS,
                         style.color)
        if row.kind == INTERVAL:
            for end in (low, high):
                if PLOT_LEFT <= end <= PLOT_RIGHT:
                    canvas.rect(round(end) - 1, y - 5, round(end) + 1, y + 5, style.color)
        _mark_clipped(canvas, low, high, y, style.color)
    if has_value and style.marker and axis.low <= row.value <= axis.high:
        x = round(axis.x(row.value))
        if style.marker == "square":
            half = side // 2
            canvas.rect(x - half, y - half, x - half + side, y - half + side, style.color)
        else:
            canvas.sprite(_marker(style.marker, style.color), x, y)


def _mark_clipped(canvas: "_Canvas", low: float, high: float, y: int, color: float) -> None:
    """Arrowheads at the edges of the plot area where a CI runs past the axis."""
    if low < PLOT_LEFT - 0.5:
        canvas.sprite(_marker("arrow_left", color), PLOT_LEFT + ARROW // 2, y)
    if high > PLOT_RIGHT + 0.5:
        canvas.sprite(_marker("arrow_right", color), PLOT_RIGHT - ARROW // 2, y)


def _write_row(canvas: "_Canvas", row: ForestRow, y: int) -> None:
    style = _STYLES[row.kind]
    font = _font(TEXT_PX, style.bold)
    canvas.text(LABEL_X, y, truncate(row.label, LABEL_CHARS), font, BLACK,
                max_width=PLOT_LEFT - LABEL_X - 8)
    canvas.text(ESTIMATE_X, y, estimate_text(row), font, BLACK,
                max_width=NOTE_XS[0] - ESTIMATE_X - 4)
    for x, note in zip(NOTE_XS, row.notes):
        canvas.text(x, y, note, font, BLACK)


# ---------------------------------------------------------------- drawing primitives


class _Canvas:
    """A white image of palette indices, WIDTH pixels wide."""

    def __init__(self, height: int):
        self.height = height
        self.pixels = np.zeros((height, WIDTH), dtype=np.uint8)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: float) -> None:
        """Fill columns x0..x1-1 of rows y0..y1-1 with the colour."""
        x0, x1 = max(x0, 0), min(x1, WIDTH)
        y0, y1 = max(y0, 0), min(y1, self.height)
        if x0 < x1 and y0 < y1:
            self.pixels[y0:y1, x0:x1] = _shade_lut(color)[255]

    def hline(self, x0: int, x1: int, y: int, thickness: int, color: float) -> None:
        self.rect(x0, y, x1, y + thickness, color)

    def vline(self, x: int, y0: int, y1: int, color: float,
              dash: tuple[int, int] | None = None) -> None:
        if dash is None:
            self.rect(x, y0, x + 1, y1, color)
            return
        on, off = dash
        for start in range(y0, y1, on + off):
            self.rect(x, start, x + 1, min(start + on, y1), color)

    def paste(self, coverage: np.ndarray, body: np.ndarray | None, x: int, y: int,
              color: float) -> None:
        """Write a shape whose top-left corner is at (x, y): coverage (0..255) is how much of
        each pixel the colour covers, body (bool) which pixels the shape owns outright (its
        white face included). Half-covered pixels over other drawing keep that drawing."""
        h, w = coverage.shape
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, WIDTH), min(y + h, self.height)
        if x0 >= x1 or y0 >= y1:
            return
        cov = coverage[y0 - y : y1 - y, x0 - x : x1 - x]
        target = self.pixels[y0:y1, x0:x1]
        shade = _shade_lut(color)[cov]
        write = (shade > 0) & (target == 0)
        if body is not None:
            write |= body[y0 - y : y1 - y, x0 - x : x1 - x]
        else:
            write |= cov >= 128
        target[write] = shade[write]

    def sprite(self, sprite: "_Sprite", x: int, y: int) -> None:
        """Centre a marker on (x, y)."""
        h, w = sprite.coverage.shape
        self.paste(sprite.coverage, sprite.body, x - w // 2, y - h // 2, sprite.color)

    def diamond(self, left: float, middle: float, right: float, y: int, color: float) -> None:
        """The pooled diamond: its points at left and right, its top and bottom at middle;
        cut at the edges of the plot area."""
        x0 = max(math.floor(left) - 1, PLOT_LEFT)
        x1 = min(math.ceil(right) + 2, PLOT_RIGHT + 1)
        if x0 >= x1:
            return
        sub = 4
        xs = x0 + (np.arange((x1 - x0) * sub) + 0.5) / sub
        ys = (np.arange(2 * DIAMOND_HALF_HEIGHT * sub) + 0.5) / sub - DIAMOND_HALF_HEIGHT
        reach = np.where(xs < middle, max(middle - left, 1e-9), max(right - middle, 1e-9))
        inside = (np.abs(ys)[:, None] / DIAMOND_HALF_HEIGHT
                  + np.abs(xs - middle)[None, :] / reach[None, :]) <= 1
        cells = inside.reshape(2 * DIAMOND_HALF_HEIGHT, sub, x1 - x0, sub).mean(axis=(1, 3))
        coverage = np.round(cells * 255).astype(np.uint8)
        self.paste(coverage, None, x0, y - DIAMOND_HALF_HEIGHT, color)

    def text(self, x: int, y: int, text: str, font: "_Font", color: float,
             align: str = "left", max_width: int | None = None) -> None:
        """Write text vertically centred on y, starting at x (or centred on it). Text is laid
        out clear of other drawing, so its shades are simply merged with the white below."""
        if not text:
            return
        shades, width = font.shades(text, color)
        if max_width is not None and width > max_width:
            shades, width = font.shades(font.fit(text, max_width), color)
        left = x - round(width / 2) if align == "center" else x
        left, top = left - font.pad, y - shades.shape[0] // 2
        h, w = shades.shape
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + w, WIDTH), min(top + h, self.height)
        if x0 < x1 and y0 < y1:
            target = self.pixels[y0:y1, x0:x1]
            np.maximum(target, shades[y0 - top : y1 - top, x0 - left : x1 - left], out=target)

    def save(self, path: Path) -> Path:
        """Write the image as a PNG. An existing file is replaced, never written through: it
        may be a hard link to a published plot (and rewriting a file in place is slower than
        writing a new one)."""
        encoded = png_bytes(self.pixels)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.write_bytes(encoded)
        return path


def png_bytes(pixels: np.ndarray) -> bytes:
    """A 4-bit palette PNG of an array of palette indices (0..15), with the DPI and nothing
    else (no time or software chunk), so the bytes depend only on the pixels. Pixels are
    packed two to a byte, every row unfiltered, and compressed by zlib at its fastest level:
    half the time of Pillow's PNG encoder, which filters each row first."""
    height, width = pixels.shape
    if width % 2:
        pixels = np.pad(pixels, ((0, 0), (0, 1)))
    # Each pair of pixels read as one little-endian 16-bit number p0 + 256 * p1 becomes the
    # byte p0 * 16 + p1 (the first pixel in the high half).
    pairs = np.ascontiguousarray(pixels, dtype=np.uint8).view("<u2")
    rows = np.empty((height, 1 + pairs.shape[1]), dtype=np.uint8)
    rows[:, 0] = 0  # each row's filter: none
    rows[:, 1:] = ((pairs << 4) | (pairs >> 8)).astype(np.uint8)
    per_metre = round(DPI / 0.0254)
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 4, 3, 0, 0, 0)),
        _chunk(b"PLTE", PALETTE),
        _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        _chunk(b"IDAT", zlib.compress(rows.data, 1)),
        _chunk(b"IEND", b""),
    ))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class _Sprite(NamedTuple):
    coverage: np.ndarray
    body: np.ndarray
    color: float


@functools.cache
def _marker(kind: str, color: float) -> _Sprite:
    """A marker drawn once at 8x8 samples per pixel: the overall diamond, an open circle, or
    an arrowhead (its tip on the sprite's left or right edge) for a CI past the axis."""
    size, sub = {"diamond": 15, "circle": 11}.get(kind, ARROW), 8
    centre = size / 2
    grid = (np.arange(size * sub) + 0.5) / sub - centre
    dx, dy = grid[None, :], grid[:, None]
    if kind == "diamond":
        outer = np.abs(dx) + np.abs(dy) <= 7.0
        ink = outer
    elif kind == "circle":
        radius = np.hypot(dx, dy)
        outer = radius <= 4.9
        ink = outer & (radius >= 3.5)
    else:
        along = centre - dx if kind == "arrow_right" else dx + centre  # distance from the tip
        outer = np.abs(dy) <= along * 0.5
        ink = outer

    def cells(samples: np.ndarray) -> np.ndarray:
        return samples.reshape(size, sub, size, sub).mean(axis=(1, 3))

    coverage = np.round(cells(ink) * 255).astype(np.uint8)
    return _Sprite(coverage, cells(outer) >= 0.5, color)


class _Font:
    """A TrueType face at one pixel size, with its glyphs rendered once."""

    pad = 2  # Glyphs may reach a little left of their pen position.

    def __init__(self, file: Path, size: int):
        self.face = ImageFont.truetype(str(file), size, layout_engine=ImageFont.Layout.BASIC)
        ascent, descent = self.face.getmetrics()
        self.baseline, self.box_height = ascent + 1, ascent + descent + 2
        self.glyphs: dict[str, tuple[np.ndarray, float]] = {}
        self.shades = functools.lru_cache(maxsize=8192)(self._shades)

    def glyph(self, char: str) -> tuple[np.ndarray, float]:
        """The character's coverage, drawn with its pen position at column pad, and its
        advance in pixels."""
        found = self.glyphs.get(char)
        if found is None:
            advance = self.face.getlength(char)
            image = Image.new("L", (math.ceil(advance) + 2 * self.pad + 2, self.box_height))
            ImageDraw.Draw(image).text((self.pad, self.baseline), char, font=self.face,
                                       fill=255, anchor="ls")
            found = self.glyphs[char] = (np.asarray(image), advance)
        return found

    def width(self, text: str) -> float:
        return sum(self.glyph(char)[1] for char in text)

    def fit(self, text: str, max_width: int) -> str:
        """The text, cut with an ellipsis where it would run wider than max_width."""
        if self.width(text) <= max_width:
            return text
        while len(text) > 1 and self.width(text + "…") > max_width:
            text = text[:-1]
        return text.rstrip() + "…"

    def _shades(self, text: str, color: float) -> tuple[np.ndarray, float]:
        """The text as palette indices of the colour's shades (0 where blank), drawn with its
        pen starting at column pad, and its advance in pixels."""
        glyphs = [self.glyph(char) for char in text]
        width = sum(advance for _, advance in glyphs)
        mask = np.zeros((self.box_height, math.ceil(width) + 2 * self.pad + 4), np.uint8)
        pen = 0.0
        for pixels, advance in glyphs:
            left = round(pen)
            region = mask[:, left : left + pixels.shape[1]]
            np.maximum(region, pixels, out=region)
            pen += advance
        return _shade_lut(color)[mask], width


def _font_file(bold: bool) -> Path:
    """DejaVu Sans, as shipped in matplotlib's package data (found without importing it)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib's DejaVu Sans font files are needed to draw plots")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return folder / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")


@functools.cache
def _font(size: int, bold: bool = False) -> _Font:
    return _Font(_font_file(bold), size)
