"""Shortcuts of estimates and arm results read on digit marks: each gives exactly what the plain code gives."""

from __future__ import annotations

import importlib
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.extraction import estimates, numbers, results
from pipelines.extraction.context import prepare

# The module, not the function the package exports under the same name.
_extract = importlib.import_module("pipelines.extraction.extract")

_PIECES = [
    "12", "407", "5.5", ".5", "-3", "0.62", "1,298", "0", " ", "  ", "\n", "\u00a0", "\u2009", "\x1c", "\x85", "?",
    "\u00e9", "\u0661\u0662", "\u00b2", "%", " months", " in", " in ", "in the drug arm", " on ", "on placebo",
    " with ", "with drug A", "within", " vs ", " vs. ", " versus ", " against ", " compared with ", " and ", "the ",
    ", ", "; ", ". ", "(", ")", "(n = 149)", " per 100 person-years", "HR", "HR 0.62 (95% CI, 0.5-0.8)", "OR 1.4",
    "P < .001", "p=0.03", "95% CI", "median", "follow-up", " at ", "aged ", "-", "x" * 14,
]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)
# Blanks of every kind, and characters that are none.
_BLANKS = st.lists(st.sampled_from([" ", "\t", "\n", "\x1c", "\x1f", "\x85", "\u00a0", "\u2009", "?", "\u00e9"]),
                   max_size=3).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_digit_marks_mark_exactly_the_digits(text):
    marks = numbers.digit_marks(text)
    if marks is None:
        assert any(not c.isascii() and c.isdecimal() for c in text)
        return
    assert len(marks) == len(text)
    assert [i for i, b in enumerate(marks) if b == ord("0")] == [m.start() for m in re.finditer(r"\d", text)]
    assert [m.start() for m in re.finditer(rb"0\.0", marks)] == [m.start() for m in re.finditer(r"\d\.\d", text)]


_INTERVALS = st.tuples(_TEXTS, st.sampled_from(["0.62", "12", "5.5%", "3 months", ".5"]), _BLANKS,
                       st.sampled_from(["(", "[", "; 95% CI, ", "(95% CI\u00a0", "CI ", "", ", "]),
                       st.sampled_from(["0.5", "1", "4%", "3 months", ".4 kg", "2\u2009%"]), _BLANKS,
                       st.sampled_from(["-", "to", ",", ";", "\u2013"]), _BLANKS,
                       st.sampled_from(["0.8", "9", "-1", ".9", "NR", "not reached", "NE", "x"]),
                       st.sampled_from(["", ")", "]", " months)"]), _TEXTS).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_TEXTS, _INTERVALS), st.integers(0, 40), st.integers(0, 400))
def test_sentences_ruled_out_hold_no_interval(text, start, end):
    marks = numbers.digit_marks(text)
    if marks is None or numbers.may_hold_interval(marks, start, end):
        return
    assert numbers.FIGURE_CI_RE.search(text, start, end) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXTS, _INTERVALS))
def test_estimates_with_marks_are_those_without(text):
    doc = prepare(text)
    marks = numbers.digit_marks(doc.text)
    plain = _extract._estimates(prepare(text))
    assert _extract._estimates(doc, marks) == plain
    for si in range(len(doc.sents)):
        with_marks = estimates.sentence_estimates(doc, si, "HR", None, marks)
        assert with_marks == estimates.sentence_estimates(prepare(text), si, "HR", None)


# Count pairs: a digit, blanks, a word, an arm, a connector and a figure.
_COUNT_PAIRS = st.tuples(_TEXTS, st.sampled_from(["7", "12", "5.5"]), _BLANKS, st.sampled_from(["in ", "on ", "with "]),
                         st.sampled_from(["the drug arm", "placebo", "x", "", "(x)"]),
                         st.sampled_from([" vs ", " and ", ", versus ", " ", "; and "]), st.sampled_from(["5", ".5", "x"]),
                         _TEXTS).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_TEXTS, _COUNT_PAIRS), st.integers(0, 40), st.integers(0, 400))
def test_other_signs_on_marks_are_those_of_the_text(text, start, end):
    signs = results.Signs.of(text)
    if signs is None:
        return
    assert signs._other_sign(start, end) == results._other_sign(text, start, end)


_LEADS = st.tuples(st.sampled_from(["", "median ", "x", "12 "]),
                   st.sampled_from(["at", "After", "follow-up", "FOLLOWED", "duration", "aged", "up to", "-"]),
                   st.text(alphabet="x ,-.1", max_size=14), st.sampled_from(["", "\n", "\n\n", " "])).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_TEXTS, _LEADS))
@example("follow-up " + "x" * 11 + "\n")  # the longest match, before the newline ending the lead
def test_landmarks_are_found_near_the_lead_end(lead):
    expected = results._LANDMARK_RE.search(lead)
    got = results._LANDMARK_RE.search(lead, max(0, len(lead) - results._LANDMARK_REACH))
    assert (got and got.span()) == (expected and expected.span())


@settings(max_examples=400, deadline=None)
@given(st.one_of(_TEXTS, _INTERVALS), st.integers(0, 40), st.integers(0, 400))
def test_plain_figures_found_by_the_figure_finder_are_all_of_them(text, start, end):
    expected = [(m.span(), m.groups()) for m in results._PLAIN_RE.finditer(text, start, end)]
    found = numbers.word_matches(results._PLAIN_RE, numbers.FIGURE_CI_FINDER_RE, text, start, end, 0)
    assert [(m.span(), m.groups()) for m in found] == expected
