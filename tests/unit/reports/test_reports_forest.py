"""Forest plots written as PNG files: valid, deterministic, small, robust to missing figures."""

import base64
import math
import struct

import pandas as pd
import pytest
from PIL import Image

from pipelines.reports.forest import cross_trial_forest_plot, png_markdown, trial_forest_plot
from pipelines.reports.render import WIDTH

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 150_000


def _chunk_types(data: bytes) -> list[bytes]:
    """PNG chunk types in file order (length, type, data, CRC per chunk)."""
    types, offset = [], len(PNG_MAGIC)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        types.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return types


def _png_height(path) -> int:
    """Check the file is a small PNG of the fixed width that decodes; return its height."""
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) < MAX_BYTES
    with Image.open(path) as image:
        image.load()
        width, height = image.size
    assert width == WIDTH
    return height


def test_trial_plot_is_a_png_of_the_fixed_width(ember3_png):
    assert ember3_png.name == "ember3.png"
    _png_height(ember3_png)


def test_cross_trial_plot_is_a_png_of_the_fixed_width(esr1_png):
    _png_height(esr1_png)


def test_identical_trial_inputs_give_identical_bytes(
    tmp_path, ember3_png, ember3_svo, ember3_overall
):
    again = trial_forest_plot(ember3_svo, ember3_overall, "EMBER-3", tmp_path / "again.png")
    assert again.read_bytes() == ember3_png.read_bytes()


def test_identical_cross_trial_inputs_give_identical_bytes(
    tmp_path, esr1_png, esr1_per_trial, esr1_pooled
):
    again = cross_trial_forest_plot(esr1_per_trial, esr1_pooled, tmp_path / "again.png")
    assert again.read_bytes() == esr1_png.read_bytes()


@pytest.mark.parametrize("png", ["ember3_png", "esr1_png"])
def test_no_timestamp_or_software_chunks(request, png):
    data = request.getfixturevalue(png).read_bytes()
    chunks = _chunk_types(data)
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    assert b"tIME" not in chunks
    assert b"Software" not in data and b"matplotlib" not in data


def test_different_inputs_give_different_images(tmp_path, ember3_png, ember3_svo, ember3_overall):
    changed = ember3_svo.assign(subgroup_value=[0.70, 0.55])
    other = trial_forest_plot(changed, ember3_overall, "EMBER-3", tmp_path / "other.png")
    assert other.read_bytes() != ember3_png.read_bytes()


def test_more_rows_make_a_taller_image(tmp_path, ember3_png, ember3_svo, ember3_overall):
    without_subgroups = ember3_svo.iloc[:0]
    short = trial_forest_plot(without_subgroups, ember3_overall, "EMBER-3", tmp_path / "short.png")
    assert _png_height(ember3_png) > _png_height(short)


def test_missing_cis_and_values_do_not_crash(tmp_path, ember3_svo, ember3_overall):
    svo = ember3_svo.astype({"subgroup_ci_low": object})
    no_ci = ["subgroup_ci_low", "subgroup_ci_high", "complement_ci_high", "interaction_p"]
    svo.loc[0, no_ci] = None
    svo.loc[1, ["subgroup_value", "overall_value", "complement_value"]] = math.nan
    overall = ember3_overall.assign(ci_low=math.nan, p=None)
    _png_height(trial_forest_plot(svo, overall, "EMBER-3", tmp_path / "nan.png"))


def test_non_positive_ratios_do_not_crash_a_log_axis(tmp_path, ember3_svo, ember3_overall):
    svo = ember3_svo.assign(subgroup_ci_low=0.0, complement_value=-1.0)
    _png_height(trial_forest_plot(svo, ember3_overall, "EMBER-3", tmp_path / "zero.png"))


def test_cross_trial_missing_cis_do_not_crash(tmp_path, esr1_per_trial, esr1_pooled):
    per_trial = esr1_per_trial.assign(ci_low=[math.nan, 0.46, None], interaction_ci_high=math.nan)
    pooled = esr1_pooled.copy()
    pooled[["pooled_subgroup_ci_low", "pi_low", "i2", "tau2"]] = math.nan
    _png_height(cross_trial_forest_plot(per_trial, pooled, tmp_path / "nan.png"))


def test_difference_measures_plot(tmp_path, esr1_per_trial, esr1_pooled):
    per_trial = esr1_per_trial.assign(
        value=[-0.05, 0.02, -0.11], ci_low=[-0.12, -0.04, -0.2], ci_high=[0.02, 0.08, -0.02]
    )
    pooled = esr1_pooled.copy()
    pooled["measure"] = "RD"
    _png_height(cross_trial_forest_plot(per_trial, pooled, tmp_path / "rd.png"))


def test_empty_inputs_still_give_a_png_in_new_folders(tmp_path):
    path = tmp_path / "a" / "b" / "empty.png"
    path = trial_forest_plot(pd.DataFrame(), pd.DataFrame(), "UNKNOWN", path)
    _png_height(path)


def test_many_subgroups_stay_under_the_size_limit(tmp_path, ember3_svo, ember3_overall):
    levels = [f"level {i}" for i in range(24)]
    svo = pd.concat([ember3_svo.iloc[[0]].assign(subgroup_level=level) for level in levels])
    _png_height(trial_forest_plot(svo, ember3_overall, "EMBER-3", tmp_path / "many.png"))


def test_png_markdown_embeds_the_file_bytes(esr1_png):
    markdown = png_markdown(esr1_png, "ESR1 [mutated] PFS")
    prefix = "![ESR1 (mutated) PFS](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix) : -1]) == esr1_png.read_bytes()


@pytest.mark.parametrize("alt", ["two\nlines", "  spaced   out "])
def test_png_markdown_alt_text_stays_on_one_line(esr1_png, alt):
    assert png_markdown(esr1_png, alt).split("](")[0] == "![" + " ".join(alt.split())


def test_a_pooled_plot_draws_the_most_precise_trials_and_counts_the_rest():
    from pipelines.reports.rows import MAX_TRIALS_DRAWN, cross_trial_record_blocks

    n = MAX_TRIALS_DRAWN + 7
    # Trial i has a CI of width growing with i, except the last, which is the most precise.
    per_trial = [
        {"trial_id": f"T{i:03d}", "value": 0.8, "ci_low": 0.8 / (1.1 + i / 10), "ci_high": 0.8 * (1.1 + i / 10)}
        for i in range(n - 1)
    ] + [{"trial_id": "LAST", "value": 0.7, "ci_low": 0.69, "ci_high": 0.71}]
    pooled = {"measure": "HR", "pooled_subgroup_value": 0.78, "pooled_subgroup_ci_low": 0.7,
              "pooled_subgroup_ci_high": 0.86, "k_trials": None}
    (block,) = cross_trial_record_blocks(per_trial, pooled, ("trial_id", "value", "ci_low", "ci_high"))
    labels = [row.label for row in block.rows]
    trials = [label for label in labels if label.startswith("T") or label == "LAST"]
    assert len(trials) == MAX_TRIALS_DRAWN
    assert trials[-1] == "LAST" and "T000" in trials and f"T{n - 2:03d}" not in trials
    assert "+ 7 more trials (pooled, not drawn)" in labels
    assert labels[-1] == f"Pooled (k = {n})"
