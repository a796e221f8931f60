"""Tests of pipelines.stats.cross_trial on hand-built subgroup_vs_overall frames."""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.stats.cross_trial import CROSS_TRIAL_COLUMNS, cross_trial_subgroups
from pipelines.stats.effects import complement, interaction, se_from_ci
from pipelines.stats.pooling import pool

GOLDEN = Path(__file__).resolve().parents[3].parent / "shared" / "stats" / "golden.json"

# Published PFS hazard ratios of the oral-SERD trials: ESR1-mutated subgroup and overall.
SERD_TRIALS = {
    "EMERALD": ((0.55, 0.39, 0.77), (0.70, 0.55, 0.88)),
    "EMBER-3": ((0.62, 0.46, 0.82), (0.87, 0.72, 1.04)),
    "VERITAC-2": ((0.57, 0.42, 0.77), (0.83, 0.68, 1.02)),
}


def _row(trial, subgroup, overall, ratio=True, **extra) -> dict:
    """One subgroup_vs_overall row from published (value, low, high) triples."""
    scale = math.log if ratio else float
    y_s, se_s = scale(subgroup[0]), float(se_from_ci(subgroup[1], subgroup[2], 95, ratio))
    y_o, se_o = scale(overall[0]), float(se_from_ci(overall[1], overall[2], 95, ratio))
    comp = complement(y_o, se_o, y_s, se_s)
    d, se_d = interaction(y_s, se_s, *comp)[:2] if comp else (np.nan, np.nan)
    return {
        "trial_id": trial, "subgroup_variable": "ESR1", "subgroup_level": "mutated",
        "endpoint": "PFS", "measure": "HR" if ratio else "RD", "comparison": "drug vs SOC",
        "n_articles": 1, "subgroup_y": y_s, "subgroup_se": se_s, "overall_y": y_o,
        "overall_se": se_o, "interaction_y": float(d), "interaction_se": float(se_d), **extra,
    }


def _serd_frame() -> pd.DataFrame:
    return pd.DataFrame([_row(t, s, o) for t, (s, o) in SERD_TRIALS.items()])


def _by_method(out: pd.DataFrame) -> dict:
    return {row["method"]: row for row in out.to_dict("records")}


def test_serd_subgroup_pooling_equals_metafor():
    if not GOLDEN.exists():
        pytest.skip(f"metafor reference values not found at {GOLDEN}")
    fits = json.loads(GOLDEN.read_text())["esr1_mutated_pfs_serds"]["fits"]
    rows = _by_method(cross_trial_subgroups(_serd_frame()))
    for method, fit in (("REML", fits["REML_knha"]), ("DL", fits["DL_z"])):
        row = rows[method]
        assert math.log(row["pooled_subgroup_value"]) == pytest.approx(fit["mu"], abs=1e-4)
        assert math.log(row["pooled_subgroup_ci_low"]) == pytest.approx(fit["ci_lb"], abs=1e-4)
        assert math.log(row["pooled_subgroup_ci_high"]) == pytest.approx(fit["ci_ub"], abs=1e-4)
        assert math.log(row["pi_low"]) == pytest.approx(fit["pi_lb"], abs=1e-4)
        assert math.log(row["pi_high"]) == pytest.approx(fit["pi_ub"], abs=1e-4)
        assert row["pooled_subgroup_p"] == pytest.approx(fit["pval"], abs=1e-4)
        assert row["tau2"] == pytest.approx(fit["tau2"], abs=1e-4)
        assert row["i2"] == pytest.approx(fit["I2"], abs=1e-2)
        assert row["q"] == pytest.approx(fit["QE"], abs=1e-4)
        assert row["q_p"] == pytest.approx(fit["QEp"], abs=1e-4)


def test_serd_group_shape():
    out = cross_trial_subgroups(_serd_frame())
    assert list(out.columns) == CROSS_TRIAL_COLUMNS
    assert list(out["method"]) == ["DL", "REML"]
    assert set(out["trial_ids"]) == {"EMBER-3,EMERALD,VERITAC-2"}
    assert set(out["k_trials"]) == {3} and set(out["k_interaction"]) == {3}


def test_interactions_and_overalls_are_pooled_per_method():
    frame = _serd_frame()
    rows = _by_method(cross_trial_subgroups(frame))
    for method, (tau2_method, test) in {"REML": ("REML", "knha"), "DL": ("DL", "z")}.items():
        inter = pool(frame["interaction_y"], frame["interaction_se"] ** 2, tau2_method, test)
        overall = pool(frame["overall_y"], frame["overall_se"] ** 2, tau2_method, test)
        row = rows[method]
        assert row["pooled_interaction_ratio"] == pytest.approx(math.exp(inter.mu))
        assert row["pooled_interaction_ci_low"] == pytest.approx(math.exp(inter.ci_lb))
        assert row["pooled_interaction_ci_high"] == pytest.approx(math.exp(inter.ci_ub))
        assert row["pooled_interaction_p"] == pytest.approx(inter.pval)
        assert row["interaction_q"] == pytest.approx(inter.QE)
        assert row["pooled_overall_value"] == pytest.approx(math.exp(overall.mu))
        assert row["pooled_overall_ci_high"] == pytest.approx(math.exp(overall.ci_ub))
    # ESR1-mutated patients gain more than the rest in every trial, so the pooled ratio is < 1.
    assert rows["REML"]["pooled_interaction_ci_high"] < 1


def test_one_row_per_trial_most_articles_then_smallest_se_then_comparison():
    base = _serd_frame().iloc[:2]
    emerald = base.iloc[0].to_dict()
    extra = [
        {**emerald, "n_articles": 3, "subgroup_y": math.log(0.30), "comparison": "z"},
        {**emerald, "n_articles": 3, "subgroup_y": math.log(0.35), "subgroup_se": 0.5,
         "comparison": "a"},
        {**emerald, "n_articles": 3, "subgroup_y": math.log(0.40), "comparison": "y"},
    ]
    frame = pd.concat([base, pd.DataFrame(extra)], ignore_index=True)
    row = _by_method(cross_trial_subgroups(frame))["REML"]
    kept = pool([math.log(0.40), base.iloc[1]["subgroup_y"]],
                [emerald["subgroup_se"] ** 2, base.iloc[1]["subgroup_se"] ** 2], "REML", "knha")
    assert row["k_trials"] == 2
    assert row["pooled_subgroup_value"] == pytest.approx(math.exp(kept.mu))


def test_only_groups_seen_in_two_trials_and_with_a_subgroup():
    frame = _serd_frame()
    frame.loc[0, "subgroup_level"] = "wild-type"
    frame.loc[1, "subgroup_variable"] = None
    assert cross_trial_subgroups(frame).empty
    frame.loc[1, ["subgroup_variable", "subgroup_level"]] = ["ESR1", "wild-type"]
    out = cross_trial_subgroups(frame)
    assert set(out["subgroup_level"]) == {"wild-type"}
    assert set(out["trial_ids"]) == {"EMBER-3,EMERALD"}


def test_rows_without_a_usable_subgroup_estimate_are_left_out():
    frame = _serd_frame()
    frame.loc[2, "subgroup_se"] = np.nan
    assert set(cross_trial_subgroups(frame)["k_trials"]) == {2}


def test_interaction_needs_two_trials_with_one():
    frame = _serd_frame()
    frame.loc[[0, 1], ["interaction_y", "interaction_se"]] = np.nan
    out = cross_trial_subgroups(frame)
    assert set(out["k_interaction"]) == {1}
    assert out["pooled_interaction_ratio"].isna().all()
    assert out["interaction_tau2"].isna().all()
    assert out["pooled_subgroup_value"].notna().all()


def test_difference_measures_stay_on_their_scale():
    # Risk differences in percentage points; the interaction is a difference of differences.
    frame = pd.DataFrame([
        _row("A", (-8.0, -14.0, -2.0), (-3.0, -6.0, 0.0), ratio=False),
        _row("B", (-6.0, -13.0, 1.0), (-2.0, -5.5, 1.5), ratio=False),
    ])
    row = _by_method(cross_trial_subgroups(frame))["DL"]
    sub = pool(frame["subgroup_y"], frame["subgroup_se"] ** 2, "DL", "z")
    inter = pool(frame["interaction_y"], frame["interaction_se"] ** 2, "DL", "z")
    assert row["pooled_subgroup_value"] == pytest.approx(sub.mu)
    assert row["pooled_interaction_ratio"] == pytest.approx(inter.mu)
    assert row["pooled_interaction_ratio"] < 0


def test_output_does_not_depend_on_row_order():
    frame = pd.concat([_serd_frame(), _serd_frame().assign(endpoint="OS")], ignore_index=True)
    first = cross_trial_subgroups(frame)
    again = cross_trial_subgroups(frame.sample(frac=1.0, random_state=7))
    pd.testing.assert_frame_equal(first, again)
    assert list(first["endpoint"]) == ["OS", "OS", "PFS", "PFS"]


def test_empty_input_gives_every_column():
    out = cross_trial_subgroups(_serd_frame().iloc[:0])
    assert out.empty and list(out.columns) == CROSS_TRIAL_COLUMNS
    assert out["tau2"].dtype == np.float64 and out["k_trials"].dtype == np.int64


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="interaction_se"):
        cross_trial_subgroups(_serd_frame().drop(columns="interaction_se"))


def test_a_bound_past_the_largest_double_is_infinite_without_a_warning():
    # Two trials whose subgroup log-HRs are 400 apart: HKSJ with one degree of freedom gives an
    # upper bound far beyond exp's range.
    frame = _serd_frame().iloc[:2].copy()
    frame.loc[0, ["subgroup_y", "subgroup_se"]] = [-200.0, 0.1]
    frame.loc[1, ["subgroup_y", "subgroup_se"]] = [200.0, 0.1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _by_method(cross_trial_subgroups(frame))
    assert out["REML"]["pooled_subgroup_ci_high"] == math.inf
    assert out["REML"]["pooled_subgroup_ci_low"] == 0.0
