"""Hand-made mart frames for the forest-plot tests: an EMBER-3-like trial and an ESR1 group."""

import math
from pathlib import Path

import pandas as pd
import pytest

from pipelines.reports.forest import cross_trial_forest_plot, trial_forest_plot

NAN = math.nan
SVO_COLUMNS = [
    "trial_id", "endpoint", "measure", "comparison", "subgroup", "subgroup_variable",
    "subgroup_level", "subgroup_value", "subgroup_ci_low", "subgroup_ci_high", "overall_value",
    "overall_ci_low", "overall_ci_high", "complement_value", "complement_ci_low",
    "complement_ci_high", "complement_source", "interaction_ratio", "interaction_ci_low",
    "interaction_ci_high", "interaction_p", "pattern",
]
MONO = "imlunestrant vs standard therapy"
COMBO = "imlunestrant-abemaciclib vs imlunestrant"


def make_ember3_svo() -> pd.DataFrame:
    """Published EMBER-3 ESR1-mutated hazard ratios; complements and interactions worked out
    by hand with the formulas of STATISTICS.md (PFS complement reported, OS derived)."""
    rows = [
        ["EMBER-3", "PFS", "HR", MONO, "ESR1 mutation", "ESR1 mutation status", "mutated",
         0.62, 0.46, 0.82, 0.87, 0.72, 1.04, 1.00, 0.79, 1.27, "reported",
         0.62, 0.43, 0.90, 0.012, "subgroup_only_significant"],
        ["EMBER-3", "OS", "HR", MONO, "ESR1 mutation", "ESR1 mutation status", "mutated",
         0.55, 0.35, 0.86, 0.69, 0.50, 0.96, 0.89, 0.55, 1.43, "derived",
         0.62, 0.32, 1.19, 0.15, "both_significant"],
    ]
    return pd.DataFrame(rows, columns=SVO_COLUMNS)


def make_ember3_overall() -> pd.DataFrame:
    """EMBER-3 overall hazard ratios, including the combination comparison with no subgroup."""
    return pd.DataFrame(
        [
            ["PFS", "HR", MONO, 0.87, 0.72, 1.04, 0.12],
            ["OS", "HR", MONO, 0.69, 0.50, 0.96, NAN],
            ["PFS", "HR", COMBO, 0.57, 0.44, 0.73, 0.001],
        ],
        columns=["endpoint", "measure", "comparison", "value", "ci_low", "ci_high", "p"],
    )


def make_esr1_per_trial() -> pd.DataFrame:
    """ESR1-mutated PFS hazard ratios of three oral-SERD trials; interaction ratios worked out
    by hand against illustrative overall estimates."""
    return pd.DataFrame(
        {
            "trial_id": ["EMERALD", "EMBER-3", "VERITAC-2"],
            "value": [0.55, 0.62, 0.57],
            "ci_low": [0.39, 0.46, 0.42],
            "ci_high": [0.77, 0.82, 0.77],
            "overall_value": [0.70, 0.87, 0.83],
            "overall_ci_low": [0.57, 0.72, 0.68],
            "overall_ci_high": [0.87, 1.04, 1.02],
            "interaction_ratio": [0.68, 0.62, 0.51],
            "interaction_ci_low": [0.44, 0.43, 0.34],
            "interaction_ci_high": [1.04, 0.90, 0.76],
        }
    )


def make_esr1_pooled() -> pd.Series:
    """The group's marts.cross_trial_subgroups row: subgroup pooling from R metafor
    (REML, knha) on the same three trials, interaction pooling illustrative."""
    return pd.Series(
        {
            "subgroup_variable": "ESR1 mutation status", "subgroup_level": "mutated",
            "endpoint": "PFS", "measure": "HR", "k_trials": 3,
            "pooled_subgroup_value": 0.583, "pooled_subgroup_ci_low": 0.500,
            "pooled_subgroup_ci_high": 0.679,
            "pooled_interaction_ratio": 0.59, "pooled_interaction_ci_low": 0.47,
            "pooled_interaction_ci_high": 0.75, "pooled_interaction_p": 0.0004,
            "tau2": 0.0, "i2": 0.0, "q": 0.308, "q_p": 0.857, "method": "REML",
            "pi_low": 0.500, "pi_high": 0.679,
        }
    )


# Fresh frames per test, so no test sees another's changes.
@pytest.fixture
def ember3_svo() -> pd.DataFrame:
    return make_ember3_svo()


@pytest.fixture
def ember3_overall() -> pd.DataFrame:
    return make_ember3_overall()


@pytest.fixture
def esr1_per_trial() -> pd.DataFrame:
    return make_esr1_per_trial()


@pytest.fixture
def esr1_pooled() -> pd.Series:
    return make_esr1_pooled()


# Drawing takes about half a second, so the standard plots are drawn once per session.
@pytest.fixture(scope="session")
def ember3_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reports") / "ember3.png"
    return trial_forest_plot(make_ember3_svo(), make_ember3_overall(), "EMBER-3", path)


@pytest.fixture(scope="session")
def esr1_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reports") / "esr1.png"
    return cross_trial_forest_plot(make_esr1_per_trial(), make_esr1_pooled(), path)
