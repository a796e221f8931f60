"""What the forest plots show, decided from mart frames before any drawing."""

import math

import pandas as pd
import pytest

from pipelines.reports.rows import (
    COMPLEMENT, INTERVAL, OVERALL, POOLED, SUBGROUP, TRIAL, TRIAL_OVERALL,
    cross_trial_blocks, cross_trial_title, estimate_text, heterogeneity_caption, subgroup_label,
    trial_blocks,
)


def _titles(blocks):
    return [block.title for block in blocks]


def test_one_block_per_endpoint_comparison_in_vocabulary_order(ember3_svo, ember3_overall):
    blocks = trial_blocks(ember3_svo, ember3_overall, "EMBER-3")
    assert _titles(blocks) == [
        "PFS · imlunestrant vs standard therapy",
        "PFS · imlunestrant-abemaciclib vs imlunestrant",
        "OS · imlunestrant vs standard therapy",
    ]


def test_overall_first_then_subgroup_then_its_complement(ember3_svo, ember3_overall):
    pfs = trial_blocks(ember3_svo, ember3_overall, "EMBER-3")[0]
    assert [row.kind for row in pfs.rows] == [OVERALL, SUBGROUP, COMPLEMENT]
    overall, subgroup, complement = pfs.rows
    assert (overall.value, overall.ci_low, overall.ci_high) == (0.87, 0.72, 1.04)
    assert subgroup.label == "ESR1 mutation status = mutated"
    assert (complement.value, complement.ci_low, complement.ci_high) == (1.00, 0.79, 1.27)
    assert pfs.reference == 0.87


def test_derived_complement_is_labelled_and_reported_one_is_not(ember3_svo, ember3_overall):
    blocks = trial_blocks(ember3_svo, ember3_overall, "EMBER-3")
    pfs_complement, os_complement = blocks[0].rows[2], blocks[2].rows[2]
    assert "(derived)" not in pfs_complement.label
    assert os_complement.label.endswith("(derived)")


def test_p_columns_hold_overall_p_and_interaction_p(ember3_svo, ember3_overall):
    pfs = trial_blocks(ember3_svo, ember3_overall, "EMBER-3")[0]
    assert pfs.note_headers == ("P", "P int.")
    assert pfs.rows[0].notes == ("0.12", "")
    assert pfs.rows[1].notes == ("", "0.012")


def test_overall_p_keeps_its_reported_relation(ember3_overall):
    overall = ember3_overall.assign(p_relation=["=", None, "<"])
    combo = trial_blocks(pd.DataFrame(), overall, "EMBER-3")[1]
    assert combo.rows[0].notes[0] == "<0.001"


def test_estimates_without_subgroups_form_their_own_block(ember3_svo, ember3_overall):
    combo = trial_blocks(ember3_svo, ember3_overall, "EMBER-3")[1]
    assert [row.kind for row in combo.rows] == [OVERALL]


def test_rows_of_other_trials_are_left_out(ember3_svo, ember3_overall):
    other = ember3_svo.iloc[[0]].assign(trial_id="EMERALD", subgroup_level="wild-type")
    pfs = trial_blocks(pd.concat([ember3_svo, other]), ember3_overall, "EMBER-3")[0]
    assert all("wild-type" not in row.label for row in pfs.rows)


def test_overall_falls_back_to_the_subgroup_rows(ember3_svo):
    pfs = trial_blocks(ember3_svo, pd.DataFrame(), "EMBER-3")[0]
    assert pfs.rows[0].kind == OVERALL
    assert pfs.rows[0].value == 0.87


def test_missing_complement_gives_no_complement_row(ember3_svo, ember3_overall):
    svo = ember3_svo.assign(complement_value=math.nan, complement_source=None)
    pfs = trial_blocks(svo, ember3_overall, "EMBER-3")[0]
    assert [row.kind for row in pfs.rows] == [OVERALL, SUBGROUP]


def test_subgroup_without_controlled_names_uses_its_text(ember3_svo, ember3_overall):
    svo = ember3_svo.assign(subgroup_variable=None, subgroup_level=None)
    pfs = trial_blocks(svo, ember3_overall, "EMBER-3")[0]
    assert pfs.rows[1].label == "ESR1 mutation"


def test_nothing_to_show_gives_no_blocks():
    assert trial_blocks(pd.DataFrame(), pd.DataFrame(), "EMBER-3") == []


def test_cross_trial_title_names_group_endpoint_measure_and_method(esr1_pooled):
    expected = "ESR1 mutation status = mutated · PFS · HR (REML, HKSJ)"
    assert cross_trial_title(esr1_pooled) == expected
    dl = esr1_pooled.copy()
    dl["method"] = "DL"
    assert cross_trial_title(dl).endswith("HR (DL)")


def test_cross_trial_rows_trials_then_pooled_then_prediction_interval(esr1_per_trial, esr1_pooled):
    subgroups, interactions = cross_trial_blocks(esr1_per_trial, esr1_pooled)
    assert [row.kind for row in subgroups.rows] == [TRIAL, TRIAL_OVERALL] * 3 + [POOLED, INTERVAL]
    assert [row.label for row in subgroups.rows[::2][:3]] == ["EMERALD", "EMBER-3", "VERITAC-2"]
    pooled = subgroups.rows[-2]
    assert (pooled.value, pooled.ci_low, pooled.ci_high) == (0.583, 0.500, 0.679)
    assert estimate_text(subgroups.rows[-1]) == "0.50–0.68"
    assert [row.kind for row in interactions.rows] == [TRIAL] * 3 + [POOLED]
    assert interactions.rows[-1].value == 0.59
    assert interactions.rows[-1].notes == ("<0.001",)
    assert interactions.quantity == "Ratio of HRs"


def test_only_the_subgroup_panel_without_interaction_columns(esr1_per_trial, esr1_pooled):
    per_trial = esr1_per_trial[["trial_id", "value", "ci_low", "ci_high"]]
    pooled = esr1_pooled.drop(["pi_low", "pi_high"])
    (block,) = cross_trial_blocks(per_trial, pooled)
    assert [row.kind for row in block.rows] == [TRIAL] * 3 + [POOLED]


def test_caption_reports_i2_tau2_and_q(esr1_pooled):
    caption = heterogeneity_caption(esr1_pooled, "HR", prefix="")
    assert caption == "Heterogeneity: I² = 0.0%, τ² = 0.0000 (log scale), Q = 0.31 (p = 0.86)"


def test_interaction_caption_uses_the_interaction_twins(esr1_pooled):
    pooled = pd.concat([esr1_pooled, pd.Series({"interaction_i2": 41.5, "interaction_tau2": 0.02})])
    assert heterogeneity_caption(pooled, "HR", prefix="interaction_") == (
        "Heterogeneity: I² = 41.5%, τ² = 0.0200 (log scale)"
    )
    assert heterogeneity_caption(esr1_pooled, "HR", prefix="interaction_") == ""


@pytest.mark.parametrize("measure, contrast", [("RD", "Difference of RDs"), ("OR", "Ratio of ORs")])
def test_interaction_quantity_follows_the_measure(esr1_per_trial, esr1_pooled, measure, contrast):
    pooled = esr1_pooled.copy()
    pooled["measure"] = measure
    assert cross_trial_blocks(esr1_per_trial, pooled)[1].quantity == contrast
    caption = cross_trial_blocks(esr1_per_trial, pooled)[0].caption
    assert ("log scale" in caption) == (measure == "OR")


def test_long_subgroup_names_keep_their_level():
    label = subgroup_label("a rather long subgroup variable name", "level 12", "", width=30)
    assert len(label) == 30
    assert label.endswith(" = level 12")
    assert label.startswith("a rather")


def test_subgroup_names_that_fit_are_left_alone():
    label = subgroup_label("ESR1 mutation status", "mutated", "", width=46)
    assert label == "ESR1 mutation status = mutated"


def test_pooled_rows_count_the_trials_that_were_pooled(esr1_per_trial, esr1_pooled):
    pooled = pd.concat([esr1_pooled, pd.Series({"k_interaction": 2})])
    subgroups, interactions = cross_trial_blocks(esr1_per_trial, pooled)
    assert subgroups.rows[-2].label == "Pooled (k = 3)"
    assert interactions.rows[-1].label == "Pooled (k = 2)"


def test_without_mart_counts_k_counts_the_trials_with_a_figure(esr1_per_trial, esr1_pooled):
    per_trial = esr1_per_trial.assign(interaction_ratio=[0.68, None, 0.51])
    subgroups, interactions = cross_trial_blocks(per_trial, esr1_pooled.drop("k_trials"))
    assert subgroups.rows[-2].label == "Pooled (k = 3)"
    assert interactions.rows[-1].label == "Pooled (k = 2)"
