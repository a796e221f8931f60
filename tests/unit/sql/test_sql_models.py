"""SQL models on hand-made core rows, checked against hand-computed and published values."""

from __future__ import annotations

import math

import pytest

from tests.unit.sql.sql_helpers import build, estimate, fetch, insert_estimates

Z95 = 1.959963984540054


def se_ratio(low: float, high: float, z: float = Z95) -> float:
    return (math.log(high) - math.log(low)) / (2 * z)


def two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


# EMBER-3, imlunestrant vs standard therapy, PFS (STATISTICS.md's worked example)
EMBER3_OVERALL = {"value": 0.87, "ci_low": 0.72, "ci_high": 1.04}
EMBER3_ESR1_MUTATED = {"value": 0.62, "ci_low": 0.46, "ci_high": 0.82}
EMBER3_ESR1_WILD_TYPE = {"value": 1.00, "ci_low": 0.79, "ci_high": 1.27}
ESR1 = {"subgroup_variable": "ESR1 mutation status"}


def ember3_rows(with_wild_type: bool) -> list[dict]:
    rows = [
        estimate("overall", comparison="imlunestrant vs standard therapy", **EMBER3_OVERALL),
        estimate(
            "mutated", population="subgroup", subgroup="ESR1-mutated", subgroup_level="mutated",
            comparison="imlunestrant vs standard therapy", **ESR1, **EMBER3_ESR1_MUTATED,
        ),
    ]
    if with_wild_type:
        rows.append(estimate(
            "wild", population="subgroup", subgroup="without ESR1 mutations", subgroup_level="wild-type",
            comparison="imlunestrant vs standard therapy", **ESR1, **EMBER3_ESR1_WILD_TYPE,
        ))
    return rows


def subgroup_row(con, subgroup_estimate_id: str) -> dict:
    rows = fetch(con, "select * from marts.subgroup_vs_overall where subgroup_estimate_id = ?", [subgroup_estimate_id])
    assert len(rows) == 1
    return rows[0]


def test_staging_recovers_se_on_the_log_scale_at_the_stated_level(con):
    insert_estimates(con, [
        estimate("hr95", value=0.62, ci_low=0.46, ci_high=0.82),
        estimate("hr_unstated", value=0.62, ci_low=0.46, ci_high=0.82, ci_level=None, endpoint="OS"),
        estimate("hr985", value=0.68, ci_low=0.47, ci_high=0.97, ci_level=98.5, endpoint="DFS"),
        estimate("rd", measure="RD", value=3.4, ci_low=-0.1, ci_high=6.8, endpoint="EFS"),
    ])
    build(con)
    rows = {r["estimate_id"]: r for r in fetch(con, "select * from staging.estimates")}
    assert rows["hr95"]["y"] == pytest.approx(math.log(0.62))
    assert rows["hr95"]["se"] == pytest.approx(se_ratio(0.46, 0.82))
    assert rows["hr_unstated"]["level"] == 95 and not rows["hr_unstated"]["level_stated"]
    assert rows["hr_unstated"]["se"] == pytest.approx(rows["hr95"]["se"])
    # 98.5% two-sided: z* = Φ⁻¹(0.9925) = 2.432379
    assert rows["hr985"]["se"] == pytest.approx(se_ratio(0.47, 0.97, 2.432379), rel=1e-6)
    assert not rows["rd"]["is_ratio"] and rows["rd"]["y"] == 3.4
    assert rows["rd"]["se"] == pytest.approx(6.9 / (2 * Z95))


def test_ember3_complement_is_derived_by_inverse_variance_decomposition(con):
    insert_estimates(con, ember3_rows(with_wild_type=False))
    build(con)
    row = subgroup_row(con, "mutated")
    assert row["complement_source"] == "derived"
    # STATISTICS.md: a complement of about 1.10 (0.86–1.39)
    assert round(row["complement_value"], 2) == 1.10
    assert round(row["complement_ci_low"], 2) == 0.86
    assert round(row["complement_ci_high"], 2) == 1.39
    # interaction S vs C by the formulas of STATISTICS.md, computed here independently
    w_o, w_s = se_ratio(0.72, 1.04) ** -2, se_ratio(0.46, 0.82) ** -2
    y_c = (w_o * math.log(0.87) - w_s * math.log(0.62)) / (w_o - w_s)
    d, se_d = math.log(0.62) - y_c, math.sqrt(1 / w_s + 1 / (w_o - w_s))
    assert row["interaction_ratio"] == pytest.approx(math.exp(d), rel=1e-9)
    assert row["interaction_ci_low"] == pytest.approx(math.exp(d - Z95 * se_d), rel=1e-7)
    assert row["interaction_p"] == pytest.approx(two_sided_p(d / se_d), rel=1e-5)
    assert row["ratio_to_overall"] == pytest.approx(0.62 / 0.87)
    assert row["pattern"] == "subgroup_only_significant"


def test_reported_complement_is_preferred_to_a_derived_one(con):
    insert_estimates(con, ember3_rows(with_wild_type=True))
    build(con)
    row = subgroup_row(con, "mutated")
    assert row["complement_source"] == "reported"
    assert row["complement_estimate_id"] == "wild"
    assert (row["complement_value"], row["complement_ci_low"], row["complement_ci_high"]) == (1.00, 0.79, 1.27)
    se_d = math.hypot(se_ratio(0.46, 0.82), se_ratio(0.79, 1.27))
    assert row["interaction_ratio"] == pytest.approx(0.62)
    assert row["interaction_ci_high"] == pytest.approx(math.exp(math.log(0.62) + Z95 * se_d))
    assert row["interaction_p"] == pytest.approx(two_sided_p(math.log(0.62) / se_d), rel=1e-5)
    # and the wild-type row finds the mutated one as its complement
    assert subgroup_row(con, "wild")["complement_estimate_id"] == "mutated"


@pytest.mark.parametrize(
    ("level", "other_level"),
    [
        ("with diabetes", "without diabetes"),
        ("≥ 10", "< 10"),
        ("PIK3CA-mutated", "non-PIK3CA-mutated"),
        ("node-positive", "node-negative"),
        ("altered", "non-altered"),
    ],
)
def test_complementary_levels_written_as_negations_or_thresholds_are_recognised(con, level, other_level):
    variable = {"subgroup_variable": "some variable"}
    insert_estimates(con, [
        estimate("o", value=0.80, ci_low=0.70, ci_high=0.91),
        estimate("s", population="subgroup", subgroup=level, subgroup_level=level, value=0.70,
                 ci_low=0.55, ci_high=0.89, **variable),
        estimate("c", population="subgroup", subgroup=other_level, subgroup_level=other_level,
                 value=0.90, ci_low=0.75, ci_high=1.08, **variable),
    ])
    build(con)
    assert subgroup_row(con, "s")["complement_estimate_id"] == "c"


@pytest.mark.parametrize(
    ("level", "other_level"),
    [("≥10", "≥1"), ("node-positive", "positive"), ("mutated", "mutated"), ("high", "not higher")],
)
def test_levels_that_only_look_alike_are_not_complements(con, level, other_level):
    variable = {"subgroup_variable": "some variable"}
    insert_estimates(con, [
        estimate("o", value=0.80, ci_low=0.70, ci_high=0.91),
        estimate("s", population="subgroup", subgroup=level, subgroup_level=level, value=0.70,
                 ci_low=0.55, ci_high=0.89, **variable),
        estimate("c", population="subgroup", subgroup=other_level, subgroup_level=other_level,
                 value=0.90, ci_low=0.75, ci_high=1.08, article_id="other.txt", **variable),
    ])
    build(con)
    assert subgroup_row(con, "s")["complement_source"] == "derived"


def test_nested_levels_are_not_complements(con):
    variable = {"subgroup_variable": "PD-L1 CPS"}
    insert_estimates(con, [
        estimate("o", value=0.89, ci_low=0.76, ci_high=1.05),
        estimate("cps1", population="subgroup", subgroup="CPS ≥1", subgroup_level="≥1", value=0.86,
                 ci_low=0.72, ci_high=1.04, **variable),
        estimate("cps10", population="subgroup", subgroup="CPS ≥10", subgroup_level="≥10", value=0.73,
                 ci_low=0.55, ci_high=0.95, **variable),
    ])
    build(con)
    assert subgroup_row(con, "cps10")["complement_source"] == "derived"


def test_no_complement_when_the_subgroup_outweighs_the_overall_estimate(con):
    insert_estimates(con, [
        # DESTINY-Breast04 PFS: the HR+ cohort's interval is narrower than the overall one
        estimate("o", value=0.36, ci_low=0.29, ci_high=0.45),
        estimate("s", population="subgroup", subgroup="HR+ cohort", value=0.37, ci_low=0.30, ci_high=0.46),
    ])
    build(con)
    row = subgroup_row(con, "s")
    assert row["complement_source"] is None and row["complement_value"] is None
    assert row["interaction_ratio"] is None and row["interaction_p"] is None


def test_qualitative_interaction_when_subgroup_and_complement_point_opposite_ways(con):
    variable = {"subgroup_variable": "biomarker"}
    insert_estimates(con, [
        estimate("o", value=0.95, ci_low=0.85, ci_high=1.06),
        estimate("pos", population="subgroup", subgroup="positive", subgroup_level="positive",
                 value=0.60, ci_low=0.50, ci_high=0.72, **variable),
        estimate("neg", population="subgroup", subgroup="negative", subgroup_level="negative",
                 value=1.40, ci_low=1.15, ci_high=1.70, **variable),
    ])
    build(con)
    assert subgroup_row(con, "pos")["pattern"] == "qualitative_interaction"
    assert subgroup_row(con, "neg")["pattern"] == "qualitative_interaction"


def checks_for(con, rows: list[dict]) -> dict[str, dict]:
    insert_estimates(con, rows)
    build(con)
    return {r["estimate_id"]: r for r in fetch(con, "select * from marts.estimate_checks")}


def test_p_consistency_allows_for_rounding_of_the_printed_figures(con):
    checks = checks_for(con, [
        # the seed's overall PFS: p from the CI as printed is 0.138, yet rounding allows 0.12
        estimate("seed", value=0.87, ci_low=0.72, ci_high=1.04, p=0.12, p_relation="="),
        # p from the CI as printed is 0.0012, yet the printed figures allow p below 0.001
        estimate("bound", value=0.62, ci_low=0.46, ci_high=0.82, p=0.001, p_relation="<"),
        # no figures within their rounding give p as small as 0.0358 (smallest about 0.055)
        estimate("too_small", value=0.83, ci_low=0.68, ci_high=1.02, p=0.0358, p_relation="="),
        estimate("false_bound", value=0.87, ci_low=0.72, ci_high=1.04, p=0.05, p_relation="<"),
        estimate("no_p", value=0.87, ci_low=0.72, ci_high=1.04),
    ])
    seed = checks["seed"]
    y, se = math.log(0.87), se_ratio(0.72, 1.04)
    assert seed["z"] == pytest.approx(y / se)
    assert seed["p_from_ci"] == pytest.approx(two_sided_p(y / se), rel=1e-6)
    # smallest obtainable p: value 0.865, limits 0.725 and 1.035
    assert seed["p_ci_min"] == pytest.approx(two_sided_p(math.log(0.865) / se_ratio(0.725, 1.035)), rel=1e-6)
    assert seed["p_ci_max"] == pytest.approx(two_sided_p(math.log(0.875) / se_ratio(0.715, 1.045)), rel=1e-6)
    assert seed["p_consistent"] is True
    assert checks["bound"]["p_from_ci"] > 0.001 and checks["bound"]["p_consistent"] is True
    assert checks["too_small"]["p_consistent"] is False
    assert checks["false_bound"]["p_consistent"] is False
    assert checks["no_p"]["p_consistent"] is None


def test_p_consistency_allows_for_rounding_of_p_itself(con):
    # p from the CI of 0.63 (0.46–0.86) is 0.0038, at most 0.00559 within the figures' rounding:
    # "p = 0.006" may stand for 0.0055 and fits; "p = 0.007" (0.0065 to 0.0075) does not
    checks = checks_for(con, [
        estimate("rounded_p", value=0.63, ci_low=0.46, ci_high=0.86, p=0.006, p_relation="="),
        estimate("too_large", value=0.63, ci_low=0.46, ci_high=0.86, p=0.007, p_relation="=", endpoint="OS"),
    ])
    assert checks["rounded_p"]["p_ci_max"] < 0.006
    assert checks["rounded_p"]["p_consistent"] is True
    assert checks["too_large"]["p_consistent"] is False


def test_seed_claim_of_no_significance_beside_an_excluding_ci_is_inconsistent(con):
    checks = checks_for(con, [
        estimate("seed_os", endpoint="OS", population="subgroup", subgroup="ESR1 mutation",
                 value=0.55, ci_low=0.35, ci_high=0.86, p=0.008, p_relation="=", claimed_significance=False),
        estimate("claims_significant", value=0.55, ci_low=0.35, ci_high=0.86, claimed_significance=True),
        estimate("claims_nothing", value=0.55, ci_low=0.35, ci_high=0.86, endpoint="DFS"),
        estimate("touches_null", value=0.72, ci_low=0.51, ci_high=1.00, claimed_significance=True, endpoint="EFS"),
    ])
    assert checks["seed_os"]["claim_consistent"] is False
    assert checks["seed_os"]["p_consistent"] is True
    assert checks["claims_significant"]["claim_consistent"] is True
    assert checks["claims_nothing"]["claim_consistent"] is None
    assert checks["touches_null"]["claim_consistent"] is None


def test_interval_shape_checks(con):
    checks = checks_for(con, [
        estimate("fine", value=0.87, ci_low=0.72, ci_high=1.04),
        # a limit that cannot come from a log-symmetric interval around 0.47 (typo-like)
        estimate("lopsided", value=0.47, ci_low=0.20, ci_high=0.79, endpoint="OS"),
        estimate("outside", value=0.90, ci_low=0.50, ci_high=0.80, endpoint="DFS"),
        estimate("rd", measure="RD", value=7.3, ci_low=3.0, ci_high=11.5, endpoint="EFS"),
    ])
    assert checks["fine"]["ci_symmetric"] is True and checks["fine"]["ci_contains_value"] is True
    assert checks["lopsided"]["ci_symmetric"] is False
    assert checks["outside"]["ci_contains_value"] is False
    assert checks["rd"]["ci_symmetric"] is True and checks["rd"]["se_log"] is None
    assert checks["rd"]["se"] == pytest.approx(8.5 / (2 * Z95))


def test_canonical_estimates_corroborate_across_wordings_and_keep_conflicts(con):
    insert_estimates(con, [
        estimate("a1", article_id="a.txt", comparison="imlunestrant vs standard therapy", **EMBER3_OVERALL),
        estimate("b1", article_id="b.txt", comparison="Imlunestrant versus SOC endocrine therapy", **EMBER3_OVERALL),
        estimate("c1", article_id="c.txt", comparison="imlunestrant monotherapy vs. endocrine therapy",
                 p=0.12, p_relation="=", **EMBER3_OVERALL),
        # a later data cut of the same comparison
        estimate("d1", article_id="d.txt", comparison="imlunestrant vs SOC", value=0.88, ci_low=0.73, ci_high=1.05),
        # another comparison of the same trial
        estimate("a2", article_id="a.txt", comparison="imlunestrant-abemaciclib vs imlunestrant",
                 value=0.57, ci_low=0.44, ci_high=0.73),
        estimate("b2", article_id="b.txt", comparison="imlunestrant plus abemaciclib vs imlunestrant alone",
                 value=0.57, ci_low=0.44, ci_high=0.73),
    ])
    build(con)
    rows = {r["canonical_estimate_id"]: r for r in fetch(con, "select * from marts.canonical_estimates")}
    assert sorted(rows) == ["a1", "a2", "d1"]
    assert rows["a1"]["n_articles"] == 3
    assert rows["a1"]["article_ids"] == "a.txt,b.txt,c.txt"
    assert rows["a1"]["estimate_ids"] == "a1,b1,c1"
    assert rows["a1"]["p"] == 0.12 and rows["a1"]["p_relation"] == "="
    assert rows["a1"]["conflicting"] and rows["d1"]["conflicting"]
    assert rows["a1"]["comparison_key"] == rows["d1"]["comparison_key"]
    assert rows["a2"]["n_articles"] == 2 and not rows["a2"]["conflicting"]
    assert rows["a2"]["comparison_key"] != rows["a1"]["comparison_key"]


def test_figures_printed_at_different_precision_corroborate(con):
    # EMERALD overall PFS: a press release prints 0.697 (0.552–0.88), a news story 0.70 (0.55–0.88)
    insert_estimates(con, [
        estimate("news", article_id="news.txt", comparison="elacestrant vs SOC", value=0.70, ci_low=0.55, ci_high=0.88),
        estimate("release", article_id="release.txt", comparison="elacestrant vs SoC", value=0.697, ci_low=0.552, ci_high=0.88),
        estimate("other", article_id="other.txt", comparison="elacestrant vs SOC", value=0.71, ci_low=0.55, ci_high=0.88),
    ])
    build(con)
    rows = {r["canonical_estimate_id"]: r for r in fetch(con, "select * from marts.canonical_estimates")}
    assert sorted(rows) == ["news", "other"]
    assert (rows["news"]["value"], rows["news"]["ci_low"], rows["news"]["ci_high"]) == (0.697, 0.552, 0.88)
    assert rows["news"]["n_articles"] == 2 and rows["news"]["estimate_ids"] == "news,release"
    assert rows["news"]["figure_decimals"] == 3
    assert rows["other"]["n_articles"] == 1 and rows["other"]["conflicting"]


def test_subgroup_is_paired_with_the_overall_figures_of_its_own_data_cut(con):
    insert_estimates(con, [
        estimate("early_o", article_id="early.txt", comparison="drug vs fulvestrant", value=0.83, ci_low=0.69, ci_high=1.01),
        estimate("early_s", article_id="early.txt", comparison="drug vs fulvestrant", population="subgroup",
                 subgroup="ESR1 mutations", value=0.58, ci_low=0.43, ci_high=0.78),
        estimate("late_o", article_id="late.txt", comparison="drug vs fulvestrant", value=0.83, ci_low=0.68, ci_high=1.02),
        estimate("late_s", article_id="late.txt", comparison="drug vs fulvestrant", population="subgroup",
                 subgroup="ESR1 mutations", value=0.57, ci_low=0.42, ci_high=0.77),
    ])
    build(con)
    assert subgroup_row(con, "early_s")["overall_estimate_id"] == "early_o"
    assert subgroup_row(con, "late_s")["overall_estimate_id"] == "late_o"


def test_unrelated_catch_all_endpoints_do_not_pair(con):
    insert_estimates(con, [
        estimate("o", endpoint="OTHER", endpoint_text="stroke or systemic embolism", value=0.79, ci_low=0.66, ci_high=0.95),
        estimate("s", endpoint="OTHER", endpoint_text="major adverse limb events", population="subgroup",
                 subgroup="peripheral artery disease", value=0.54, ci_low=0.35, ci_high=0.82),
    ])
    build(con)
    assert fetch(con, "select * from marts.subgroup_vs_overall") == []


def test_unusable_figures_build_with_nulls_instead_of_failing(con):
    checks = checks_for(con, [
        estimate("zero_low", value=0.5, ci_low=0.0, ci_high=0.9),
        estimate("no_ci", value=0.5, p=0.03, p_relation="=", endpoint="OS"),
        estimate("negative", value=-0.2, ci_low=-0.5, ci_high=0.1, endpoint="DFS"),
        estimate("reversed", value=0.8, ci_low=0.9, ci_high=0.7, endpoint="EFS"),
    ])
    for estimate_id in ("zero_low", "no_ci", "negative", "reversed"):
        row = checks[estimate_id]
        assert row["se"] is None and row["p_from_ci"] is None and row["p_consistent"] is None, estimate_id
    assert checks["no_ci"]["half_unit"] == pytest.approx(0.005)
    assert checks["reversed"]["ci_contains_value"] is False
