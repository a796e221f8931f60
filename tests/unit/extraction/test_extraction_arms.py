"""Arm sizes, arm names, comparisons and band subgroups, on sentences written for these tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import arms as arm_module
from pipelines.extraction import extract
from pipelines.extraction.arms import clean_name


def _of_type(text: str, kind: str) -> list[dict]:
    return [r for r in extract(text, "t.txt") if r["type"] == kind]


def test_sizes_listed_after_randomized_n_patients_to():
    text = ("The sponsor randomized 412 patients to velotinib, 405 to usual supportive care and 198 to "
            "velotinib plus rasolimab.")
    arms = {(a["arm"], a["n"]) for a in _of_type(text, "arm")}
    assert arms == {("velotinib", 412), ("usual supportive care", 405), ("velotinib plus rasolimab", 198)}


def test_a_band_group_takes_the_measurement_named_earlier_for_that_band():
    text = ("Among patients with LVEF 41-49%, the hazard ratio for death was 0.74 (95% CI 0.60 to 0.91). "
            "For admissions the hazard ratio was 0.61 (95% CI 0.45 to 0.83) in the 41\u201349% group.")
    est = {e["value"]: e for e in _of_type(text, "estimate")}
    assert est[0.61]["population"] == "subgroup"
    assert (est[0.61]["subgroup_variable"], est[0.61]["subgroup_level"]) == (
        est[0.74]["subgroup_variable"], est[0.74]["subgroup_level"]) == ("ejection fraction", "41-49%")


def test_a_band_group_without_an_earlier_mention_is_still_a_subgroup():
    text = "The odds ratio for response was 1.80 (95% CI 1.10 to 2.95) in the 20-39% group."
    (est,) = _of_type(text, "estimate")
    assert est["population"] == "subgroup" and est["subgroup_level"] == "20-39%"


def test_endpoint_named_only_after_the_estimate_in_its_sentence():
    # Enough opening lines that no endpoint is named early on, so there is no primary one to fall back to.
    opening = "Sites opened across Europe. Enrolment was brisk. Dosing was oral. Visits were monthly. Scans were central. "
    text = (opening + "Combination arm results\n"
            "Drug X plus drug Y beat drug X alone (HR 0.66 [95% CI 0.50-0.86]; P = .002), with median "
            "overall survival of 21.0 vs 16.5 months.")
    (est,) = _of_type(text, "estimate")
    assert est["endpoint"] == "OS"


THREE_ARMS = ("Investigators randomized 400 patients to tazarestrant, 398 to standard endocrine therapy and 250 to "
              "tazarestrant plus ribovelib. ")


def _comparisons(text: str) -> dict[float, str]:
    return {e["value"]: e["comparison"] for e in _of_type(text, "estimate")}


def test_one_pair_of_arms_reads_the_same_in_every_sentence():
    text = (THREE_ARMS + "Tazarestrant beat SOC in the overall population (HR 0.81; 95% CI 0.68-0.96). "
            "Compared with endocrine therapy, tazarestrant alone also helped in women (HR 0.77; 95% CI 0.60-0.98). "
            "Against standard therapy, tazarestrant monotherapy lowered the risk of death (HR 0.85; 95% CI 0.72-0.99).")
    assert set(_comparisons(text).values()) == {"tazarestrant vs standard endocrine therapy"}


def test_the_combination_is_the_experimental_arm_against_its_monotherapy():
    text = (THREE_ARMS + "Tazarestrant alone did worse than the combination (HR 0.58; 95% CI 0.45-0.75). "
            "The doublet outperformed tazarestrant (HR 0.60; 95% CI 0.47-0.77).")
    assert set(_comparisons(text).values()) == {"tazarestrant plus ribovelib vs tazarestrant"}


def test_a_control_arm_is_the_comparator_whichever_is_named_first():
    text = ("Patients were assigned to placebo (n = 300) or velmitide (n = 302). "
            "Compared with placebo, velmitide reduced admissions (HR 0.72; 95% CI 0.58-0.90).")
    (est,) = _of_type(text, "estimate")
    assert (est["experimental_arm"], est["comparator_arm"]) == ("velmitide", "placebo")


def test_a_mention_by_one_word_is_reported_as_written():
    text = (THREE_ARMS + "In the overall population, median progression-free survival was 6.1 months with tazarestrant "
            "and 4.2 months with standard therapy (HR 0.79; 95% CI 0.66-0.94).")
    arms = {r["value"]: r["arm"] for r in _of_type(text, "arm_result")}
    assert arms == {6.1: "tazarestrant", 4.2: "standard therapy"}


@pytest.mark.parametrize("junk", ["abemaciclib The combination", "238 elacestrant fulvestrant to", "200 mg orally",
                                  "day 1 of each cycle", "6.4.TPC", "each with fulvestrant"])
def test_junk_is_no_arm_name(junk):
    assert clean_name(junk) is None


@pytest.mark.parametrize(("raw", "clean"), [("pembrolizumab plus chemotherapy (nab-paclitaxel", "pembrolizumab plus chemotherapy"),
                                            ("fulvestrant-treated patients", "fulvestrant"),
                                            ("imlunestrant plus abemaciclib", "imlunestrant plus abemaciclib")])
def test_clean_names(raw, clean):
    assert clean_name(raw) == clean


def test_arm_names_never_hold_numbers_or_two_sentences():
    text = (THREE_ARMS + "Ribovelib added to tazarestrant\nThe combination arm was strong. Median survival was "
            "9.1 vs 5.2 months with the combination and tazarestrant alone (HR 0.57; 95% CI 0.44-0.73).")
    for rec in extract(text, "t.txt"):
        for key in ("arm", "experimental_arm", "comparator_arm"):
            name = rec.get(key)
            assert name is None or clean_name(name) == name, (key, name)


def test_a_design_sentence_names_both_arms_for_later_estimates():
    text = ("The phase 3 study compared torvasib plus letrozole with placebo plus letrozole in postmenopausal women. "
            "In the biomarker-altered group, progression-free survival favored the experimental arm "
            "(HR 0.55; 95% CI 0.41-0.74).")
    (est,) = _of_type(text, "estimate")
    assert est["comparison"] == "torvasib plus letrozole vs placebo plus letrozole"


def _drug(arm: str) -> str:
    """An arm name without the 'arm'/'group' the text may add to it."""
    return arm.removesuffix(" arm").removesuffix(" group")


def test_a_ratio_then_to_names_the_arms():
    text = ("The trial randomized adults with stable angina who had a prior stent, 1:1 to ostagrel or placebo, each "
            "on top of aspirin. Ischemic events were fewer (HR 0.76; 95% CI 0.64-0.90).")
    (est,) = _of_type(text, "estimate")
    assert est["comparison"] == "ostagrel vs placebo"


def test_two_harms_named_each_before_its_own_figure_are_one_arm_each():
    text = ("In the ostagrel group, grade 3 bleeding occurred in 4.1% and grade 3 rash in 2.2% of patients.")
    got = sorted((r["value"], _drug(r["arm"]), r["endpoint"]) for r in _of_type(text, "arm_result"))
    assert got == [(2.2, "ostagrel", "AE"), (4.1, "ostagrel", "AE")]


def test_one_outcome_repeated_for_both_arms_stays_a_comparison():
    text = ("Survival was longer in the ostagrel arm (median OS = 20.1 months) vs the placebo arm "
            "(median OS = 15.3 months), with a hazard ratio of 0.70 (95% CI 0.55-0.89).")
    got = sorted((r["value"], _drug(r["arm"])) for r in _of_type(text, "arm_result"))
    assert got == [(15.3, "placebo"), (20.1, "ostagrel")]


def test_harms_after_a_subgroup_sentence_are_for_everyone_treated():
    text = ("Among patients with diabetes, the response rate was 41% with ostagrel vs 30% with placebo. "
            "Grade 3 rash occurred in 5.5% of patients receiving ostagrel and in 1.0% of those receiving placebo.")
    harms = [r for r in _of_type(text, "arm_result") if r["endpoint"] == "AE"]
    assert len(harms) == 2 and {r["population"] for r in harms} == {"overall"}


def test_an_arm_of_two_options_keeps_both_names():
    text = ("A total of 600 patients were randomly assigned to velotinib (n = 301) or the investigator's choice of "
            "letrozole or anastrozole (n = 299).")
    arms = {(a["arm"], a["n"]) for a in _of_type(text, "arm")}
    assert arms == {("velotinib", 301), ("letrozole or anastrozole", 299)}


def test_a_bare_control_word_means_the_named_control_arm():
    text = ("Patients switched to ostagrel (n = 150) or stayed on AI continuation (n = 149). "
            "Progression-free survival favoured ostagrel over AI continuation (HR 0.44; 95% CI 0.31-0.62). "
            "Second progression was also later than in the control arm (HR 0.63; 95% CI 0.46-0.86).")
    assert set(_comparisons(text).values()) == {"ostagrel vs AI continuation"}


_WORDS = ["drug", "A", "placebo", "group", "arm", "groups", "vs", "vs.", "versus", "the", "in", "x-1", "B+C", "2", ",",
          "armed", "control", "a" * 45]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=30), st.sampled_from([" ", "  ", "\n"]))
def test_anchored_scans_find_what_whole_text_scans_find(words, gap):
    text = gap.join(words)
    for regex, anchor, before, after in ((arm_module._GROUP_RE, arm_module._GROUP_ANCHOR, 200, 8),
                                         (arm_module._VS_PAIR_RE, arm_module._VS_ANCHOR, 42, 52)):
        whole = [m.span() for m in regex.finditer(text)]
        assert [m.span() for m in arm_module._anchored(regex, anchor, text, before, after)] == whole


def test_arms_named_only_beside_their_figures_name_the_comparison():
    text = ("Median progression-free survival was 9.9 months with ostagrel and 5.1 months with TPC "
            "(HR 0.50; 95% CI 0.40-0.63).")
    (est,) = _of_type(text, "estimate")
    assert est["comparison"] == "ostagrel vs TPC"
