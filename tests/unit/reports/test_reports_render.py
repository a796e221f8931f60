"""The forest-plot renderer: what lands where in the image, and inputs that must not break it."""

import io
import math

import numpy as np
import pytest
from PIL import Image

from pipelines.reports.forest import trial_forest_plot
from pipelines.reports.render import (
    BLOCK_GAP, DPI, FIRST_ROW_DY, PALETTE, PLOT_LEFT, PLOT_RIGHT, ROW_H, SQUARE_MAX, SQUARE_MIN,
    TITLE_H, WIDTH, png_bytes, render_forest,
)
from pipelines.reports.rows import INTERVAL, OVERALL, POOLED, SUBGROUP, ForestBlock, ForestRow

NAVY = (31, 78, 121)
CENTRE = (PLOT_LEFT + PLOT_RIGHT) // 2


def _rgb(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "P" and image.width == WIDTH
        return np.asarray(image.convert("RGB")).astype(int)


def _dark(rgb: np.ndarray) -> np.ndarray:
    """Pixels clearly darker than white."""
    return rgb.sum(axis=-1) < 3 * 200


def _navy(rgb: np.ndarray) -> np.ndarray:
    return (np.abs(rgb - NAVY).sum(axis=-1) < 12)


def _navy_runs(rgb: np.ndarray, column: int) -> list[np.ndarray]:
    """The runs of navy pixels down one pixel column, top first."""
    rows = np.flatnonzero(_navy(rgb[:, column]))
    return np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1) if len(rows) else []


def _row_centres(rgb: np.ndarray, column: int) -> list[int]:
    """Centres of the navy runs down one pixel column (the CI lines of square rows)."""
    return [int(run.mean()) for run in _navy_runs(rgb, column)]


def _block(*rows: ForestRow, measure: str = "HR", caption: str = "") -> ForestBlock:
    return ForestBlock("PFS · drug vs placebo", measure, measure, tuple(rows), ("P",),
                       caption=caption)


def _draw(tmp_path, *blocks: ForestBlock, name: str = "plot.png"):
    return render_forest(list(blocks), "A trial", "A footnote.", tmp_path / name)


def test_the_null_line_is_drawn_where_a_ratio_of_one_falls(tmp_path):
    # Limits symmetric about 1 on the log scale put 1 in the middle of the plot area.
    block = _block(ForestRow("a", SUBGROUP, 0.5, 0.25, 1.0), ForestRow("b", SUBGROUP, 2.0, 1.0, 4.0))
    rgb = _rgb(_draw(tmp_path, block))
    upper, lower = _row_centres(rgb, CENTRE - 60)[0], _row_centres(rgb, CENTRE + 60)[0]
    between = (upper + lower) // 2
    dark_columns = np.flatnonzero(_dark(rgb[between, PLOT_LEFT:PLOT_RIGHT])) + PLOT_LEFT
    assert dark_columns.tolist() and all(abs(x - CENTRE) <= 1 for x in dark_columns)


def test_a_difference_axis_puts_its_null_line_at_zero(tmp_path):
    block = _block(ForestRow("a", SUBGROUP, -0.5, -1.0, 0.0), ForestRow("b", SUBGROUP, 0.5, 0.0, 1.0),
                   measure="RD")
    rgb = _rgb(_draw(tmp_path, block))
    upper = _row_centres(rgb, CENTRE - 60)[0]
    dark_columns = np.flatnonzero(_dark(rgb[upper + 12, PLOT_LEFT:PLOT_RIGHT])) + PLOT_LEFT
    assert dark_columns.tolist() and all(abs(x - CENTRE) <= 1 for x in dark_columns)


def test_the_ci_line_spans_from_its_low_to_its_high_limit(tmp_path):
    # Axis from 0.25 to 4 (padded): the subgroup's CI 0.5-1 sits left of the middle.
    block = _block(ForestRow("a", SUBGROUP, 0.7, 0.5, 1.0), ForestRow("b", SUBGROUP, 2.0, 0.25, 4.0))
    rgb = _rgb(_draw(tmp_path, block))
    y = _row_centres(rgb, CENTRE - 20)[0]
    navy = np.flatnonzero(_navy(rgb[y, :]))
    assert navy.min() > PLOT_LEFT + 10
    assert abs(navy.max() - CENTRE) <= 2


def test_more_precise_estimates_get_bigger_squares(tmp_path):
    precise = ForestRow("precise", SUBGROUP, 0.8, 0.7, 0.914)
    vague = ForestRow("vague", SUBGROUP, 0.8, 0.4, 1.6)
    rgb = _rgb(_draw(tmp_path, _block(precise, vague)))
    # Both squares sit on the same value: the column with most navy runs through both.
    column = int(np.argmax(_navy(rgb).sum(axis=0)))
    heights = [len(run) for run in _navy_runs(rgb, column)]
    assert len(heights) == 2
    assert heights[0] == SQUARE_MAX
    assert SQUARE_MIN <= heights[1] < heights[0]


def test_the_pooled_diamond_is_widest_at_its_middle(tmp_path):
    block = _block(ForestRow("a", SUBGROUP, 0.7, 0.5, 1.0),
                   ForestRow("Pooled (k = 1)", POOLED, 0.7, 0.5, 1.0))
    rgb = _rgb(_draw(tmp_path, block))
    y = _row_centres(rgb, CENTRE - 20)[0] + 30  # the next row
    plot = _dark(rgb[:, PLOT_LEFT + 2 : PLOT_RIGHT - 2]) & ~_navy(rgb[:, PLOT_LEFT + 2 : PLOT_RIGHT - 2])
    widths = {dy: int(plot[y + dy].sum()) for dy in (-6, -3, 0, 3, 6)}
    assert widths[0] > widths[3] > widths[6] > 0
    assert widths[0] > widths[-3] > widths[-6] > 0


def test_the_prediction_interval_has_end_caps(tmp_path):
    rgb = _rgb(_draw(tmp_path, _block(ForestRow("pi", INTERVAL, math.nan, 1.5, 3.0))))
    dark = _dark(rgb[:, PLOT_LEFT + 2 : PLOT_RIGHT - 2])
    counts = dark.sum(axis=1)
    line = np.flatnonzero((counts > 100) & (counts < 300))  # the interval line, not the axis
    y = int(line.mean())
    ends = np.flatnonzero(dark[y] & ~dark[y - 12])  # not the null line crossing it
    caps = np.flatnonzero(np.isin(dark[y - 8 : y + 9].sum(axis=0), range(8, 14)))
    assert len(line) == 2
    assert abs(caps.min() - ends.min()) <= 2 and abs(caps.max() - ends.max()) <= 2


def test_labels_and_figures_are_written_in_their_columns(tmp_path):
    rgb = _rgb(_draw(tmp_path, _block(ForestRow("a label", OVERALL, 0.7, 0.5, 1.0, ("0.01",)))))
    dark = _dark(rgb)
    row = np.flatnonzero(dark[:, PLOT_LEFT + 30 : PLOT_RIGHT - 30].any(axis=1))
    band = dark[row.min() - 8 : row.max() + 8]
    assert band[:, 16:100].any(), "label"
    assert band[:, 748:900].any(), "estimate (CI)"
    assert band[:, 957:1020].any(), "p"


def test_long_labels_stop_before_the_plot_area(tmp_path):
    label = "W" * 200
    rgb = _rgb(_draw(tmp_path, _block(ForestRow(label, SUBGROUP, math.nan))))
    dark = _dark(rgb)
    text_rows = dark[:, 16:300].any(axis=1) & ~dark[:, WIDTH - 20]  # not the rule under headers
    assert text_rows.sum() > 10
    assert not dark[text_rows, PLOT_LEFT - 6 : PLOT_LEFT].any()


def test_a_caption_makes_the_image_taller(tmp_path):
    row = ForestRow("Pooled (k = 2)", POOLED, 0.7, 0.5, 1.0)
    plain = _rgb(_draw(tmp_path, _block(row), name="plain.png"))
    captioned = _rgb(_draw(tmp_path, _block(row, caption="Heterogeneity: I² = 41.5%, τ² = 0.02"),
                           name="captioned.png"))
    assert captioned.shape[0] > plain.shape[0]


@pytest.mark.parametrize("row", [
    ForestRow("no CI", SUBGROUP, 0.7),
    ForestRow("reversed", SUBGROUP, 0.7, 1.0, 0.5),
    ForestRow("a point", SUBGROUP, 0.7, 0.7, 0.7),
    ForestRow("off the scale", SUBGROUP, 1e9, 1e8, 1e10),
    ForestRow("zero", SUBGROUP, 0.0, 0.0, 1.0),
    ForestRow("infinite", SUBGROUP, math.inf, -math.inf, math.inf),
    ForestRow("nothing", SUBGROUP),
    ForestRow("pooled without CI", POOLED, 0.7),
    ForestRow("interval without limits", INTERVAL),
    ForestRow("中文 ✓ τ² – …", OVERALL, 0.7, 0.5, 1.0, ("<0.001", "0.04")),
])
@pytest.mark.parametrize("measure", ["HR", "MD", ""])
def test_single_rows_of_any_kind_do_not_crash(tmp_path, row, measure):
    rgb = _rgb(_draw(tmp_path, _block(row, measure=measure)))
    assert _dark(rgb).any()


def test_a_ci_not_reached_does_not_crash(tmp_path, ember3_svo, ember3_overall):
    svo = ember3_svo.astype({"subgroup_ci_high": object, "complement_ci_high": object})
    svo.loc[:, ["subgroup_ci_high", "complement_ci_high"]] = "not reached"
    path = trial_forest_plot(svo, ember3_overall, "EMBER-3", tmp_path / "nr.png")
    assert _rgb(path).shape[1] == WIDTH


def test_a_trial_with_one_overall_estimate(tmp_path, ember3_overall):
    path = trial_forest_plot(ember3_overall.iloc[:0], ember3_overall.iloc[[0]].assign(trial_id="X"),
                             "X", tmp_path / "one.png")
    rgb = _rgb(path)
    # One diamond marker in the plot area.
    assert (_dark(rgb[:, PLOT_LEFT + 2 : PLOT_RIGHT - 2]).sum(axis=0) > 8).any()


def test_an_existing_file_is_replaced_not_written_through(tmp_path):
    shared, link = tmp_path / "published.png", tmp_path / "build.png"
    shared.write_bytes(b"published plot")
    link.hardlink_to(shared)
    _draw(tmp_path, _block(ForestRow("a", OVERALL, 0.7, 0.5, 1.0)), name="build.png")
    assert shared.read_bytes() == b"published plot"
    assert link.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("shape", [(7, 13), (40, 1100), (1, 1)])
def test_png_bytes_decode_to_the_same_pixels_and_palette(shape):
    pixels = np.random.default_rng(len(shape) + shape[1]).integers(0, 16, shape, dtype=np.uint8)
    with Image.open(io.BytesIO(png_bytes(pixels))) as image:
        image.load()  # checks every chunk's CRC and the zlib stream
        assert image.mode == "P" and image.size == shape[::-1]
        assert np.array_equal(np.asarray(image), pixels)
        assert bytes(image.getpalette()[: 3 * 16]) == PALETTE
        assert round(image.info["dpi"][0]) == DPI


@pytest.mark.parametrize("row", [
    ForestRow("wide", SUBGROUP, 3.0, 0.001, 900.0),
    ForestRow("Pooled (k = 9)", POOLED, 0.5, 0.004, 500.0),
    ForestRow("prediction interval", INTERVAL, math.nan, 0.003, 500.0),
])
def test_cis_past_the_axis_stop_at_its_ends_with_arrowheads(tmp_path, row):
    rgb = _rgb(_draw(tmp_path, _block(ForestRow("Overall", OVERALL, 0.7, 0.5, 1.0), row)))
    dark = _dark(rgb)
    y = TITLE_H + BLOCK_GAP + FIRST_ROW_DY + ROW_H  # the second row's centre
    # Nothing between the plot area and the text columns on either side...
    assert not dark[y - 6 : y + 7, PLOT_LEFT - 8 : PLOT_LEFT - 1].any()
    assert not dark[y - 6 : y + 7, PLOT_RIGHT + 2 : 744].any()
    # ...and at both ends an arrowhead, taller than the line.
    assert dark[y - 5 : y + 6, PLOT_LEFT + 6].sum() >= 4
    assert dark[y - 5 : y + 6, PLOT_RIGHT - 6].sum() >= 4
