"""Number grammar and attribution of the extractor, on sentences written for these tests."""

from __future__ import annotations

import pytest

from pipelines.extraction import extract


def _estimates(text: str) -> list[dict]:
    return [r for r in extract(text, "t.txt") if r["type"] == "estimate"]


def _one(text: str) -> dict:
    found = _estimates(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "value", "lo", "hi", "level", "p", "rel"),
    [
        ("Survival was longer with drug A (HR, 0.71; 95% CI, 0.52\u20130.93).", 0.71, 0.52, 0.93, 95, None, None),
        ("The hazard ratio for disease progression or death was 0.48; 95% confidence interval [CI], 0.31 to 0.66.",
         0.48, 0.31, 0.66, 95, None, None),
        ("Drug B lowered the risk of death (HR = 0.77 (95% CI: 0.61, 0.97)).", 0.77, 0.61, 0.97, 95, None, None),
        ("Progression was delayed (HR 0.81 [95% CI 0.70-0.94]; P < .001).", 0.81, 0.70, 0.94, 95, 0.001, "<"),
        ("Overall survival favoured the new agent (hazard ratio, 0.84; 90% CI, 0.72 to 0.99; p=0.04).",
         0.84, 0.72, 0.99, 90, 0.04, "="),
        ("Event-free survival improved (HR 0\u00b759, 95% CI 0\u00b744\u20130\u00b779; two-sided P = 0.002).",
         0.59, 0.44, 0.79, 95, 0.002, "="),
        ("The odds ratio for response was 2.15 (95% CI, 1.31 to 3.52; P=0.003).", 2.15, 1.31, 3.52, 95, 0.003, "="),
        ("Deaths were fewer with the statin (HR&nbsp;0.88; 95%&nbsp;CI&nbsp;0.79&ndash;0.98).",
         0.88, 0.79, 0.98, 95, None, None),
        ("Stroke was more frequent (HR 1.42, 95% CI 1.05-1.93; p=4.1\u00d710\u22125).", 1.42, 1.05, 1.93, 95, 4.1e-5, "="),
    ],
)
def test_ratio_figures(text, value, lo, hi, level, p, rel):
    rec = _one(text)
    assert (rec["measure"], rec["value"], rec["ci_low"], rec["ci_high"]) == ("HR" if "odds" not in text else "OR",
                                                                             value, lo, hi)
    assert rec["ci_level"] == level
    assert (rec["p"], rec["p_relation"]) == (p, rel)


@pytest.mark.parametrize(
    ("text", "measure"),
    [
        ("Response was more likely with the drug (odds ratio 1.90, 95% CI 1.20-3.01).", "OR"),
        ("Fractures were rarer with treatment (risk ratio, 0.65; 95% CI, 0.50 to 0.85).", "RR"),
        ("Exacerbations fell (rate ratio 0.72; 95% CI 0.61 to 0.85).", "IRR"),
        ("Remission rates differed (risk difference 6.2%, 95% CI 1.1% to 11.3%).", "RD"),
        ("Weight fell further (mean difference -2.4 kg, 95% CI -3.1 to -1.7).", "MD"),
    ],
)
def test_measures(text, measure):
    assert _one(text)["measure"] == measure


@pytest.mark.parametrize(
    "text",
    [
        "The number needed to treat was 24 (95% CI, 15 to 60) after three years.",
        "Median overall survival was 18.4 months (95% CI, 15.2 to 21.0) with the drug.",
        "The trial was powered to detect a hazard ratio of 0.70 with 90% power.",
        "Rates were 42.0% (95% CI, 38.1 to 46.0) and 35.5% (95% CI, 31.0 to 40.1).",
    ],
)
def test_not_estimates(text):
    assert _estimates(text) == []


def test_interaction_p_value_is_not_the_estimate_p():
    rec = _one("In women the hazard ratio was 0.70 (95% CI, 0.55-0.89) (P value for interaction = .42).")
    assert rec["p"] is None


def test_p_value_before_the_ratio_in_the_same_parenthesis():
    rec = _one("Relapse was less common (p=.013; HR = 0.74; 95% CI = 0.58, 0.94).")
    assert (rec["p"], rec["p_relation"]) == (0.013, "=")


def test_list_under_a_header_takes_measure_and_level():
    text = ("Hazard ratios (95% CIs) for death were as follows:\n"
            "Age under 65: 0.81 (0.66-0.99).\nAge 65 or over: 0.92 (0.74-1.15).")
    found = _estimates(text)
    assert [(r["measure"], r["value"], r["ci_level"]) for r in found] == [("HR", 0.81, 95), ("HR", 0.92, 95)]


def test_subgroup_and_overall_are_told_apart():
    text = ("In the overall population, PFS was longer with drug A than with placebo (HR, 0.74; 95% CI, 0.61-0.90). "
            "Among patients with ESR1-mutated tumors, the benefit was larger (HR, 0.51; 95% CI, 0.36-0.72).")
    overall, sub = _estimates(text)
    assert overall["population"] == "overall" and overall["subgroup"] is None
    assert sub["population"] == "subgroup"
    assert (sub["subgroup_variable"], sub["subgroup_level"]) == ("ESR1 mutation status", "mutated")
    assert overall["endpoint"] == sub["endpoint"] == "PFS"


def test_negated_subgroup_gets_the_negated_level():
    rec = _one("No difference was seen in patients without ESR1 mutations (HR, 1.02; 95% CI, 0.80-1.31).")
    assert (rec["subgroup_variable"], rec["subgroup_level"]) == ("ESR1 mutation status", "wild-type")


def test_elliptic_without_takes_the_previous_subgroup():
    text = ("Benefit was seen in patients with PIK3CA mutations (HR 0.55, 95% CI 0.41-0.74) "
            "and without (0.83; 95% CI; 0.66-1.05).")
    first, second = _estimates(text)
    assert first["subgroup_level"] == "mutated" and second["subgroup_level"] == "wild-type"


def test_respectively_list_reuses_the_populations_before_it():
    text = ("HRs (95% CI) for OS were 0.70 (0.52-0.94) in the CPS >=10 subgroup and 0.90 (0.77-1.06) in the ITT "
            "population; HRs (95% CI) for PFS were 0.64 (0.49-0.84) and 0.80 (0.69-0.93), respectively.")
    found = _estimates(text)
    assert [(r["endpoint"], r["population"]) for r in found] == [
        ("OS", "subgroup"), ("OS", "overall"), ("PFS", "subgroup"), ("PFS", "overall")]


@pytest.mark.parametrize(
    ("text", "endpoint"),
    [
        ("The hazard ratio for death was 0.79 (95% CI, 0.65-0.96).", "OS"),
        ("Invasive disease-free survival was longer (HR, 0.70; 95% CI, 0.59-0.82).", "iDFS"),
        ("Cardiovascular death or hospitalization for heart failure was reduced (HR 0.80; 95% CI 0.71-0.90).",
         "MACE"),
        ("Hospitalization for heart failure was less frequent (HR 0.69, 95% CI 0.59-0.81).", "HOSP"),
        ("Grade 3 or higher adverse events were more common (HR 1.31, 95% CI 1.02-1.68).", "AE"),
        ("PFS2 was also prolonged (HR, 0.70; 95% CI, 0.55-0.89).", "OTHER"),
    ],
)
def test_endpoints(text, endpoint):
    assert _one(text)["endpoint"] == endpoint


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Drug A significantly improved survival (HR, 0.75; 95% CI, 0.62-0.91).", True),
        ("The difference was not significant (HR, 0.93; 95% CI, 0.80-1.08).", False),
        ("There was no significant difference in survival (HR, 0.95; 95% CI, 0.81-1.12).", False),
        ("Survival was compared between arms (HR, 0.95; 95% CI, 0.81-1.12).", None),
    ],
)
def test_claimed_significance(text, claim):
    assert _one(text)["claimed_significance"] is claim


def test_arm_results_medians_with_intervals_and_sizes():
    text = ("Patients given drug A (n = 201) had a median PFS of 7.4 months (95% CI, 6.1-8.8) compared with "
            "4.0 months (95% CI, 3.5-5.2) for those given placebo (n = 199; HR, 0.58; 95% CI, 0.46-0.73; P < .001).")
    recs = extract(text, "t.txt")
    results = sorted((r["value"], r["ci_low"], r["ci_high"], r["n"], r["statistic"]) for r in recs
                     if r["type"] == "arm_result")
    assert results == [(4.0, 3.5, 5.2, 199, "median"), (7.4, 6.1, 8.8, 201, "median")]
    assert sorted(r["n"] for r in recs if r["type"] == "arm") == [199, 201]


def test_arm_results_percentages_and_counts():
    text = ("The primary outcome occurred in 120 of 1500 patients (8.0%) in the drug group and 160 of 1490 (10.7%) "
            "in the placebo group (hazard ratio, 0.74; 95% CI, 0.58-0.93).")
    recs = [r for r in extract(text, "t.txt") if r["type"] == "arm_result"]
    got = sorted((r["statistic"], r["value"], r["n"]) for r in recs)
    assert got == [("count", 120.0, 1500), ("count", 160.0, 1490), ("percent", 8.0, 1500), ("percent", 10.7, 1490)]
    assert {r["arm"] for r in recs if r["value"] in (120.0, 8.0)} == {"drug group"}


def test_rates_paired_with_arm_names():
    text = "Grade 3 rash occurred in 9.5% of patients receiving drug B and in 1.2% of those receiving placebo."
    recs = {r["value"]: r for r in extract(text, "t.txt") if r["type"] == "arm_result"}
    assert recs[9.5]["arm"] == "drug B" and recs[1.2]["arm"] == "placebo"
    assert recs[9.5]["endpoint"] == "AE"


def test_randomized_arm_sizes():
    text = "Overall, 412 patients were assigned to drug C, 405 to placebo, and 208 to the drug C plus D group."
    arms = sorted((r["n"], r["arm"]) for r in extract(text, "t.txt") if r["type"] == "arm")
    assert arms == [(208, "drug C plus D"), (405, "placebo"), (412, "drug C")]


def test_baseline_percentages_are_not_results():
    text = "At baseline, 61% vs 59% of patients were postmenopausal and 30% vs 33% had visceral disease."
    assert [r for r in extract(text, "t.txt") if r["type"] == "arm_result"] == []


def test_spans_point_into_the_original_text():
    text = "Intro&nbsp;line.\n\nSurvival improved (HR\u00a00\u00b762; 95%\u00a0CI, 0\u00b746\u20130\u00b782; P\u2009<\u2009.001)."
    rec = _one(text)
    assert text[rec["span_start"]:rec["span_end"]] == rec["evidence"]
    assert "0\u00b762" in rec["evidence"]


@pytest.mark.parametrize(
    ("text", "variable", "level"),
    [
        ("Patients aged 65 years or older: HR 0.74 (95% CI 0.58-0.94).", "age", "65 years or older"),
        ("In EGFR-mutated patients the HR was 0.45 (95% CI 0.30-0.68).", "EGFR mutation status", "mutated"),
        ("Among women, the HR was 0.66 (95% CI 0.50-0.87).", "sex", "female"),
        ("In patients with prior CDK4/6 inhibitor treatment, the HR was 0.63 (95% CI 0.49-0.81).",
         "prior CDK4/6 inhibitor", "exposed"),
        ("In the eGFR <60 subgroup the HR was 0.69 (95% CI 0.57-0.85).", "kidney function", "<60"),
        ("In the PD-L1 CPS >=10 group, the HR was 0.73 (95% CI 0.55-0.95).", "PD-L1 CPS", ">=10"),
    ],
)
def test_subgroup_vocabulary(text, variable, level):
    rec = _one(text)
    assert rec["population"] == "subgroup"
    assert (rec["subgroup_variable"], rec["subgroup_level"]) == (variable, level)


def test_negative_interval_written_with_dashes():
    rec = _one("Weight changed by a mean difference of \u22122.4 kg (95% CI, \u22123.1\u2013\u22121.7).")
    assert (rec["measure"], rec["value"], rec["ci_low"], rec["ci_high"]) == ("MD", -2.4, -3.1, -1.7)


def test_arms_named_after_the_pair_respectively():
    text = ("The response rate was 48.6% vs 32.1% with drug A and placebo, respectively "
            "(odds ratio, 2.01; 95% CI, 1.40-2.88).")
    got = sorted((r["value"], r["arm"]) for r in extract(text) if r["type"] == "arm_result")
    assert got == [(32.1, "placebo"), (48.6, "drug A")]


def test_ratio_without_interval_is_an_estimate_with_its_p():
    rec = _one("Survival improved with drug C (HR, 0.62; P = .01).")
    assert (rec["measure"], rec["value"], rec["ci_low"], rec["ci_high"], rec["ci_level"]) == ("HR", 0.62, None, None, None)
    assert (rec["p"], rec["p_relation"]) == (0.01, "=")


@pytest.mark.parametrize(
    "text",
    ["The study was powered to detect a hazard ratio of 0.70.", "The HR for interaction was 0.51."],
)
def test_design_and_interaction_ratios_are_not_estimates(text):
    assert _estimates(text) == []


def test_spelled_out_percent_level():
    rec = _one("PFS was similar (hazard ratio for progression or death, 0.91; 95 percent confidence interval, "
               "0.75 to 1.10; P = 0.33).")
    assert (rec["value"], rec["ci_low"], rec["ci_high"], rec["ci_level"], rec["p"]) == (0.91, 0.75, 1.10, 95, 0.33)


def test_superiority_p_is_kept_and_noninferiority_p_skipped():
    rec = _one("Stroke was rarer (hazard ratio, 0.80; 95% CI, 0.68 to 0.94; P<0.001 for noninferiority; "
               "P=0.02 for superiority).")
    assert (rec["p"], rec["p_relation"]) == (0.02, "=")


def test_median_with_an_interval_not_reached():
    text = ("PFS was longer in the drug A arm (median PFS = 21.4 months; 95% CI: 17.9-not reached) vs the placebo "
            "arm (median PFS = 11.2 months; 95% CI: 9.5-14.0), with a hazard ratio of 0.60 (95% CI: 0.48-0.75).")
    got = sorted((r["value"], r["ci_low"], r["ci_high"]) for r in extract(text) if r["type"] == "arm_result")
    assert got == [(11.2, 9.5, 14.0), (21.4, 17.9, None)]


def test_yearly_rates():
    text = ("The rate of the primary outcome was 1.1% per year in the drug group, as compared with 1.5% per year "
            "in the placebo group (hazard ratio, 0.73; 95% CI, 0.60 to 0.89).")
    got = sorted((r["statistic"], r["value"]) for r in extract(text) if r["type"] == "arm_result")
    assert got == [("rate", 1.1), ("rate", 1.5)]


def test_arm_sizes_listed_respectively():
    text = "Patients were randomly assigned to receive drug D, placebo, or drug E (401, 399, and 200 patients, respectively)."
    assert sorted((r["n"], r["arm"]) for r in extract(text) if r["type"] == "arm") == [
        (200, "drug E"), (399, "placebo"), (401, "drug D")]


def test_with_or_without_is_not_a_subgroup():
    text = ("The benefit was consistent in patients with or without diabetes. "
            "Heart failure hospitalizations were fewer (hazard ratio, 0.70; 95% CI, 0.58 to 0.85).")
    assert _one(text)["population"] == "overall"


def test_fronted_patients_with_names_a_subgroup_but_a_trailing_one_does_not():
    text = ("Drug F was compared with placebo in patients with advanced gastric cancer (HR 0.80; 95% CI 0.70-0.92). "
            "In patients with liver metastases, the HR was 0.66 (0.51-0.85).")
    first, second = _estimates(text)
    assert first["population"] == "overall"
    assert second["population"] == "subgroup" and "liver metastases" in second["subgroup"]


def test_counts_written_count_percent_of_total():
    text = ("Grade 3 or worse neutropenia occurred in 150 (25%) of 600 patients in the drug group and "
            "30 (5%) of 598 in the placebo group.")
    got = sorted((r["statistic"], r["value"], r["n"]) for r in extract(text) if r["type"] == "arm_result")
    assert got == [("count", 30.0, 598), ("count", 150.0, 600), ("percent", 5.0, 598), ("percent", 25.0, 600)]


def test_short_report_reads_end_to_end():
    text = ("In the KESTREL-4 study, 540 patients were randomized 1:1 to kelbrutinib (n=270) or investigator's choice "
            "chemotherapy (n=270).\nThe ORR was 48.6% with kelbrutinib vs 32.1% with chemotherapy (odds ratio 2.00; "
            "95% CI 1.41-2.84; p<0.001). mPFS was 9.7 months vs 5.2 months (HR 0.55; 95% CI 0.44-0.69).\n"
            "Among patients aged 75 years or older (n=96), the HR for PFS was 0.71 (95% CI 0.44-1.15).")
    recs = extract(text, "k.txt")
    arms = sorted((r["arm"], r["n"]) for r in recs if r["type"] == "arm")
    assert arms == [("investigator's choice chemotherapy", 270), ("kelbrutinib", 270)]
    results = {(r["endpoint"], r["value"]): r["arm"] for r in recs if r["type"] == "arm_result"}
    assert results == {("ORR", 48.6): "kelbrutinib", ("ORR", 32.1): "chemotherapy",
                       ("PFS", 9.7): "kelbrutinib", ("PFS", 5.2): "chemotherapy"}
    estimates = [(r["measure"], r["endpoint"], r["population"]) for r in recs if r["type"] == "estimate"]
    assert estimates == [("OR", "ORR", "overall"), ("HR", "PFS", "overall"), ("HR", "PFS", "subgroup")]


def test_a_subgroup_vocabulary_that_cannot_be_read_is_an_error_naming_the_file(tmp_path):
    from pipelines.extraction import vocab

    missing = tmp_path / "no-such-vocabulary.toml"
    with pytest.raises(RuntimeError, match="no-such-vocabulary.toml: the subgroup vocabulary cannot be read"):
        vocab.load_subgroups(str(missing))
    broken = tmp_path / "broken.toml"
    broken.write_text("[[subgroup]\nvariable = ", encoding="utf-8")
    with pytest.raises(RuntimeError, match="broken.toml"):
        vocab.load_subgroups(str(broken))
    assert vocab.load_subgroups(), "the shipped vocabulary reads"


def test_a_vocabulary_pattern_that_is_not_a_regex_is_an_error_naming_the_file_and_entry(tmp_path):
    from pipelines.extraction import vocab

    bad = tmp_path / "bad-pattern.toml"
    bad.write_text('[[subgroup]]\nvariable = "ESR1"\nlevel = "mutated"\npatterns = ["ESR1[- ]mut", "ESR1 (mut"]\n',
                   encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"bad-pattern.toml: pattern 'ESR1 \(mut' of ESR1 = mutated is not a valid"):
        vocab.load_subgroups(str(bad))
