"""Arm sizes, arm names, comparisons and band subgroups, on sentences written for these tests."""

from __future__ import annotations

from pipelines.extraction import extract


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
