"""Article-level facts and canonical trial ids."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import article_facts, facts, trial_id_for


@pytest.mark.parametrize(
    ("acronym", "nct", "expected"),
    [
        ("EMBER-3", None, "EMBER3"),
        ("Ember 3", None, "EMBER3"),
        ("EMBER3", "NCT04975308", "EMBER3"),
        ("CheckMate 77T", None, "CHECKMATE77T"),
        ("DESTINY-Breast04", None, "DESTINYBREAST4"),
        ("TROPiCS-02", None, "TROPICS2"),
        (None, "nct01234567", "NCT01234567"),
        (None, "registered as NCT 1234567", "NCT01234567"),
        (None, None, None),
        ("  ", "not a number", None),
    ],
)
def test_trial_ids_meet_across_spellings(acronym, nct, expected):
    assert trial_id_for(acronym, nct) == expected


def test_facts_of_a_summary():
    text = ("1. Drug X prolonged survival.\nEvidence Rating Level: 2 (Good)\n"
            "In the phase 3, randomized, open-label ALPHA-7 trial (NCT09876543), 600 adults with metastatic "
            "HR-positive breast cancer were enrolled.")
    facts = article_facts(text)
    assert facts == {"acronym": "ALPHA-7", "nct_id": "NCT09876543", "condition": "advanced breast cancer",
                     "phase": "3", "design": "randomized, open-label", "evidence_rating": "2 (Good)"}


def test_facts_left_empty_when_not_stated():
    facts = article_facts("Patients did better with the new tablet than with the old one.")
    assert facts == {"acronym": None, "nct_id": None, "condition": None, "phase": None, "design": None,
                     "evidence_rating": None}


@pytest.mark.parametrize(
    ("text", "acronym"),
    [
        ("Results of the CheckMate 77T study were presented.", "CheckMate 77T"),
        ("In KEYNOTE-522, the phase III KEYNOTE-522 trial enrolled patients.", "KEYNOTE-522"),
        ("The double-blind DESTINY-Breast04 trial met its end point.", "DESTINY-Breast04"),
        ("Phase III TROPiCS-02 study data were updated.", "TROPiCS-02"),
        ("ORCHARD-7, a phase 3 trial of an oral degrader, met its primary end point.", "ORCHARD-7"),
    ],
)
def test_acronyms_are_found_by_shape_not_by_list(text, acronym):
    assert article_facts(text)["acronym"] == acronym


def test_title_helps_find_the_trial():
    assert article_facts("Benefit was seen.", title="SOLSTICE-2 trial results")["acronym"] == "SOLSTICE-2"


def test_a_title_ending_in_a_parenthesised_trial_name_names_the_trial():
    title = "Drug X plus fulvestrant in advanced breast cancer (MERIDIAN-4)."
    assert article_facts("Patients were randomized 1:1.", title=title)["acronym"] == "MERIDIAN-4"
    assert article_facts("Patients were randomized.", title="Outcomes in heart failure (HFpEF).")["acronym"] is None


# The trial-name scan with each way a name is followed as an alternative of its own, in the order
# first written: the shared reading of the name must find the same names at the same places.
_A = facts._ACRONYM
_NEAR_TRIAL_AS_WRITTEN = re.compile(
    r"(?=[A-Za-z(])(?:(?<!\w)|(?=\())(?:"
    rf"(?:\b(?:(?i:phase)\s?(?:[1-3]|I{{1,3}})[ab]?(?:/(?:[1-3]|I{{1,3}}))?|the|in)\s+)(?P<a>{_A})"
    rf"(?=\s+(?:\([^()]{{0,40}}\)\s+)?(?:trial|study|Trial|Study|investigators|analysis)\b)"
    rf"|\((?P<b>{_A})\)\s+(?:trial|study)\b|\b(?P<c>{_A})\s+(?:trial|study)\b"
    rf"|\b(?:trial|study)\s+\((?P<d>{_A})\)"
    rf"|\b(?P<e>{_A})(?: (?:was|is)|,) an? (?:[\w,-]+ ){{0,4}}(?:trial|study)\b"
    rf"|\b(?P<f>{_A}) \((?:NCT|nct)\s?\d{{7,8}}\)"
    rf"|\bRCTs? (?P<g>{_A}))")
_NAME_PIECES = ["KEYNOTE", "-", "522", " ", "trial", "study", "Trial", ", ", "was", "is", " a ", " an ", "phase 3",
                "the ", "in ", "(", ")", "NCT01234567", "RCT", "monarchE", "AF", "TIMI", "48", "Breast04", "x",
                "CheckMate", "77T", "III", "randomized", "investigators", "analysis", ".", "Ab"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_NAME_PIECES), max_size=16).map("".join))
def test_trial_name_scan_finds_what_the_alternatives_as_written_find(text):
    def names(regex):
        return [(m.span(), next(g for g in m.groups() if g)) for m in regex.finditer(text)]
    assert names(facts._NEAR_TRIAL_RE) == names(_NEAR_TRIAL_AS_WRITTEN)


_STRETCH_PIECES = _NAME_PIECES + [". ", ".", "(N = 3.5)", "(2.5 mg; a long note that runs on past forty characters.)",
                                  "(a.", "b.)", "(", ")", "phase 3 ", "KEYNOTE (x.y) trial", " " * 30]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_STRETCH_PIECES), max_size=20).map("".join))
def test_trial_name_scan_by_stretches_finds_what_the_whole_scan_finds(text):
    assert ([(m.span(), m.groups()) for m in facts._near_trial_matches(text)]
            == [(m.span(), m.groups()) for m in facts._NEAR_TRIAL_RE.finditer(text)])
