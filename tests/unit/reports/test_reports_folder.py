"""A run's reports folder: every plot written once, unchanged ones linked from the published
folder, changed ones drawn again (in a process pool when there are many)."""

import json
import os

import pandas as pd
import pytest

from pipelines.assets import reports
from pipelines.assets.reports import MANIFEST, write_forest_plots

from .conftest import make_ember3_overall, make_ember3_svo, make_esr1_pooled


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ember3 = make_ember3_svo().assign(n_articles=2)
    emerald = ember3.iloc[[0]].assign(trial_id="EMERALD", subgroup_value=0.55, n_articles=1)
    svo = pd.concat([ember3, emerald], ignore_index=True)
    overall = pd.concat([
        make_ember3_overall().assign(trial_id="EMBER-3"),
        make_ember3_overall().iloc[[0]].assign(trial_id="EMERALD", value=0.70),
        make_ember3_overall().iloc[[1]].assign(trial_id="SERENA-4", value=0.90),
    ], ignore_index=True)
    pooled = pd.DataFrame([make_esr1_pooled()]).assign(trial_ids="EMBER-3,EMERALD")
    return svo, overall, pooled


def _run(tmp_path, frames, run: str) -> tuple[dict[str, int], int]:
    """Write the reports of one run and publish them; return (file name -> inode, drawn)."""
    build, published = tmp_path / run, tmp_path / "published"
    written, drawn = write_forest_plots(*frames, build, published)
    assert sorted(p.name for p in build.glob("*.png")) == sorted(path.name for _, path in written)
    if published.exists():
        published.rename(tmp_path / f"before-{run}")
    build.rename(published)
    return {p.name: p.stat().st_ino for p in published.glob("*.png")}, drawn


def test_a_rerun_links_every_unchanged_plot(tmp_path):
    frames = _frames()
    first, drawn = _run(tmp_path, frames, "one")
    assert sorted(first) == [
        "pooled-esr1-mutation-status-mutated-pfs-hr.png", "trial_ember-3.png",
        "trial_emerald.png", "trial_serena-4.png",
    ]
    assert drawn == 4
    again, drawn = _run(tmp_path, frames, "two")
    assert drawn == 0
    assert again == first, "the same files (inodes), linked rather than copied"
    manifest = json.loads((tmp_path / "published" / MANIFEST).read_text())
    assert sorted(manifest) == sorted(first)


def test_a_changed_trial_is_drawn_alone_and_the_published_plot_is_untouched(tmp_path):
    svo, overall, pooled = _frames()
    first, _ = _run(tmp_path, (svo, overall, pooled), "one")
    old_bytes = (tmp_path / "published" / "trial_serena-4.png").read_bytes()
    overall.loc[overall.trial_id == "SERENA-4", "value"] = 0.95
    again, drawn = _run(tmp_path, (svo, overall, pooled), "two")
    assert drawn == 1
    assert again["trial_serena-4.png"] != first["trial_serena-4.png"]
    assert {name: ino for name, ino in again.items() if name != "trial_serena-4.png"} == {
        name: ino for name, ino in first.items() if name != "trial_serena-4.png"
    }
    assert (tmp_path / "before-two" / "trial_serena-4.png").read_bytes() == old_bytes


def test_a_subgroup_row_change_redraws_its_trial_and_its_pooled_plot(tmp_path):
    svo, overall, pooled = _frames()
    _run(tmp_path, (svo, overall, pooled), "one")
    svo.loc[svo.trial_id == "EMERALD", "subgroup_ci_low"] = 0.40
    _, drawn = _run(tmp_path, (svo, overall, pooled), "two")
    assert drawn == 2


def test_columns_the_plots_do_not_show_change_nothing(tmp_path):
    svo, overall, pooled = _frames()
    _run(tmp_path, (svo, overall, pooled), "one")
    _, drawn = _run(tmp_path, (svo.assign(article_ids="a1,a2"), overall, pooled), "two")
    assert drawn == 0


def test_a_published_plot_gone_missing_is_drawn_again(tmp_path):
    frames = _frames()
    _run(tmp_path, frames, "one")
    (tmp_path / "published" / "trial_emerald.png").unlink()
    names, drawn = _run(tmp_path, frames, "two")
    assert drawn == 1 and "trial_emerald.png" in names


def test_plots_of_trials_that_left_are_removed(tmp_path):
    svo, overall, pooled = _frames()
    build = tmp_path / "build"
    write_forest_plots(svo, overall, pooled, build, tmp_path / "published")
    write_forest_plots(svo, overall[overall.trial_id != "SERENA-4"], pooled, build, tmp_path / "published")
    assert not (build / "trial_serena-4.png").exists()
    assert (build / "trial_emerald.png").exists()


def test_levels_with_the_same_slug_get_their_own_files(tmp_path):
    svo, overall, pooled = _frames()
    younger = svo.assign(subgroup_variable="age", subgroup_level="<65 years")
    older = svo.assign(subgroup_variable="age", subgroup_level=">=65 years", subgroup_value=0.9)
    groups = pd.concat([pooled.assign(subgroup_variable="age", subgroup_level=level)
                        for level in ("<65 years", ">=65 years")], ignore_index=True)
    written, drawn = write_forest_plots(
        pd.concat([younger, older], ignore_index=True), overall, groups, tmp_path / "b", tmp_path / "p"
    )
    pooled_files = {path.name for _, path in written if path.name.startswith("pooled")}
    assert len(pooled_files) == 2 and drawn == len(written)
    assert len({path.read_bytes() for _, path in written if path.name in pooled_files}) == 2


@pytest.mark.parametrize("threshold", [0, 1000])
def test_the_process_pool_draws_the_same_bytes(tmp_path, monkeypatch, threshold):
    monkeypatch.setattr(reports, "POOL_THRESHOLD", threshold)
    written, drawn = write_forest_plots(*_frames(), tmp_path / "pool", tmp_path / "none")
    monkeypatch.setattr(reports, "POOL_THRESHOLD", 10**6)
    alone, _ = write_forest_plots(*_frames(), tmp_path / "alone", tmp_path / "none")
    assert drawn == len(written) == 4
    assert [path.read_bytes() for _, path in written] == [path.read_bytes() for _, path in alone]


def test_hard_links_fall_back_to_copies(tmp_path, monkeypatch):
    frames = _frames()
    _run(tmp_path, frames, "one")

    def no_links(*args, **kwargs):
        raise OSError("links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    names, drawn = _run(tmp_path, frames, "two")
    assert drawn == 0 and len(names) == 4
    assert all((tmp_path / "published" / name).stat().st_nlink == 1 for name in names)
