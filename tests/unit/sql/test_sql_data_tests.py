"""Every SQL data test passes on good data and fails on a row broken on purpose."""

from __future__ import annotations

import pytest

from tests.unit.sql.sql_helpers import build, estimate, insert_estimates
from warehouse import models

ESR1 = {"population": "subgroup", "subgroup_variable": "ESR1 mutation status", "subgroup_level": "mutated"}

# Three oral-SERD trials with an ESR1-mutated PFS subgroup and an overall result (published figures).
GOOD_ROWS = [
    estimate("ember_o", trial_id="EMBER-3", comparison="imlunestrant vs standard therapy",
             value=0.87, ci_low=0.72, ci_high=1.04, p=0.12, p_relation="="),
    estimate("ember_s", trial_id="EMBER-3", comparison="imlunestrant vs standard therapy",
             subgroup="ESR1-mutated", value=0.62, ci_low=0.46, ci_high=0.82, **ESR1),
    estimate("emerald_o", trial_id="EMERALD", article_id="a2.txt", comparison="elacestrant vs SOC",
             value=0.70, ci_low=0.55, ci_high=0.88),
    estimate("emerald_s", trial_id="EMERALD", article_id="a2.txt", comparison="elacestrant vs SOC",
             subgroup="ESR1 mutation", value=0.55, ci_low=0.39, ci_high=0.77, **ESR1),
    estimate("veritac_o", trial_id="VERITAC-2", article_id="a3.txt", comparison="vepdegestrant vs fulvestrant",
             value=0.83, ci_low=0.68, ci_high=1.02),
    estimate("veritac_s", trial_id="VERITAC-2", article_id="a3.txt", comparison="vepdegestrant vs fulvestrant",
             subgroup="ESR1 mutations", value=0.57, ci_low=0.42, ci_high=0.77, **ESR1),
]

# The rows the cross-trial pooling writes for that group: three trials, each with an interaction.
POOLED_ROWS = [
    ["ESR1 mutation status", "mutated", "PFS", "HR", method, 3, 3, "EMBER-3,EMERALD,VERITAC-2"]
    for method in ("REML", "DL")
]

BREAKERS = {
    "effect_estimates__ci_contains_value":
        "update core.effect_estimates set value = 1.20 where estimate_id = 'ember_o'",
    "effect_estimates__ratio_values_positive":
        "update core.effect_estimates set ci_low = 0 where estimate_id = 'emerald_s'",
    "estimate_checks__covers_every_estimate":
        "delete from marts.estimate_checks where estimate_id = 'veritac_o'",
    "canonical_estimates__accounts_for_every_estimate":
        "update marts.canonical_estimates set value = 0.71 where canonical_estimate_id = 'emerald_o'",
    "subgroup_vs_overall__has_overall_row":
        "update marts.subgroup_vs_overall set overall_ci_high = 1.05 where trial_id = 'EMBER-3'",
    "subgroup_vs_overall__complement_source_matches_values":
        "update marts.subgroup_vs_overall set complement_source = null where trial_id = 'EMERALD'",
    "cross_trial_subgroups__k_matches_pooled_rows":
        "update marts.cross_trial_subgroups set k_interaction = 2 where method = 'DL'",
}


@pytest.fixture
def good_warehouse(con):
    insert_estimates(con, GOOD_ROWS)
    build(con)
    con.execute(
        "create table marts.cross_trial_subgroups (subgroup_variable varchar, subgroup_level varchar, "
        "endpoint varchar, measure varchar, method varchar, k_trials integer, k_interaction integer, "
        "trial_ids varchar)"
    )
    con.executemany("insert into marts.cross_trial_subgroups values (?, ?, ?, ?, ?, ?, ?, ?)", POOLED_ROWS)
    return con


def data_test(name: str) -> models.DataTest:
    return next(t for t in models.load_data_tests() if t.name == name)


def test_every_data_test_has_a_breaker_here():
    assert {t.name for t in models.load_data_tests()} == set(BREAKERS)


def test_good_data_passes_every_data_test(good_warehouse):
    failures = {t.name: models.run_data_test(good_warehouse, t) for t in models.load_data_tests()}
    assert {name: result for name, result in failures.items() if result[0]} == {}


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_a_broken_row_fails_its_data_test(good_warehouse, name):
    good_warehouse.execute(BREAKERS[name])
    failing, sample = models.run_data_test(good_warehouse, data_test(name))
    assert failing >= 1
    assert len(sample) == failing and all(isinstance(row, dict) for row in sample)


def test_run_data_test_limits_the_sample(good_warehouse):
    good_warehouse.execute("update core.effect_estimates set value = 5.0 where measure = 'HR'")
    failing, sample = models.run_data_test(good_warehouse, data_test("effect_estimates__ci_contains_value"), limit=2)
    assert failing == len(GOOD_ROWS)
    assert len(sample) == 2
