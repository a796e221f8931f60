"""Shortcuts of arm results and arms: each gives exactly what the longer way gives."""

from __future__ import annotations

import importlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import arms, results
from pipelines.extraction.context import prepare
from pipelines.extraction.prefilter import fold

# The module, not the function the package exports under the same name.
_extract = importlib.import_module("pipelines.extraction.extract")

_PIECES = [
    "12", "407", "5.5", ".5", "-3", "0.62", "1,298", " ", "  ", "\n", "\u00a0", "%", " %", "months", " months", " mo",
    "mo", " kg", " percentage points", " of ", "of", "(", ")", "[", "]", "(n = 149)", "(N=12)", "n = ", "=",
    " per 100 person-years", " per 100 patient-years", " per year", " vs ", " vs. ", " versus ", " and ", " against ",
    " compared with ", " in the drug arm", " on placebo", " with drug A", ", ", "; ", ". ", "HR", "HR 0.62 (95% CI, 0.5-0.8)",
    "95% CI", "P < .001", "p=0.03", "median PFS", "events", "hospitalizations totalled", "patients", "placebo",
    "Drug A arm", "(months)", "(%)", "occurred in", "respectively", "\u0661\u0662", "\u2264", "deaths",
    "hospitalization for heart failure",
]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_sentences_ruled_out_hold_no_items(text):
    """may_hold_items says False only where the full reading finds no item, with or without estimates."""
    doc = prepare(text)
    estimates = _extract._estimates(doc)
    for si, sent in enumerate(doc.sents):
        own = [e for e in estimates if e.sent == si]
        for taken in (own, []):
            if not results.may_hold_items(doc.text, sent.start, sent.end, [(e.start, e.end) for e in taken]):
                assert results._sentence_items(doc, si, taken) == [], doc.text[sent.start:sent.end]


def test_sentences_with_items_are_not_ruled_out():
    for text in ("Median PFS was 5.5 vs 3.8 months.", "Events occurred in 12 of 100 patients.",
                 "Rates were 3.1 vs 3.7 per 100 person-years.", "Drug A arm (n = 149) 6.4",
                 "hospitalizations totalled 407 in the drug arm against 541 in the placebo arm"):
        doc = prepare(text)
        sent = doc.sents[-1]
        assert results.may_hold_items(doc.text, sent.start, sent.end, [])


def test_word_characters_are_those_of_backslash_w():
    word = re.compile(r"\w")
    for code in range(0x110000):
        char = chr(code)
        assert arms.is_word_char(char) == bool(word.match(char)), hex(code)


_WORD_PIECES = ["ab", "AB", "abc", "b", "x1", "1", "_", "-", " ", ".", "\u212a", "\u017f", "\u0130", "\u0131", "\u00e9",
                "k", "s", "i", "\u0661"]
_WORDS = st.lists(st.sampled_from(["ab", "abc", "b", "x1", "1", "k", "s", "i", "ks"]), min_size=1, max_size=3,
                  unique=True).map(sorted)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_WORD_PIECES), max_size=20).map("".join), _WORDS, st.integers(0, 12), st.integers(0, 40))
def test_first_word_finds_what_the_word_pattern_finds(text, words, start, end):
    end = min(end, len(text))
    start = min(start, end)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    m = pattern.search(text, start, end)
    assert arms._first_word(text, fold(text[start:end]), start, end, words) == (m.span() if m else None)


_ASSIGN_PIECES = ["12", "1", "3", "874", "1,106", ",", ".", "0", "\u0661\u0662", " ", "patients", " patients", " Pts",
                  " participants", " were", " randomly", " Randomly", " assigned to ", " randomized to ", " randomised to ",
                  " allocated to ", " R to ", " r to", "assigned", "1:1 to ", "2:1", "3:2 to ", ":", "Compared ",
                  "comparing ", " tested ", "evaluated ", " with ", " versus ", " in ", "Randomly assigned, ", "allocated (1:1) ", "(", ")", "n = 331", ", n = 12;",
                  "drug A", " or ", " and ", "placebo", ";", "\u0130", "\u017f", "receive ", "the "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ASSIGN_PIECES), max_size=25).map("".join))
def test_assignment_shortcuts_find_what_the_regexes_find(text):
    folded = fold(text)
    spans = lambda matches: [(m.span(), m.groups()) for m in matches]  # noqa: E731
    assert spans(arms._assigned_n_matches(text, folded)) == spans(arms._ASSIGNED_N_RE.finditer(text))
    places = arms._Places(folded)
    assert spans(arms._assign_matches(text, places)) == spans(arms._ASSIGN_RE.finditer(text))
    assert spans(arms._assigned_list_matches(text, places)) == spans(arms._ASSIGNED_LIST_RE.finditer(text))
    assert spans(arms._compared_matches(text, places)) == spans(arms._COMPARED_RE.finditer(text))
    if arms._N_INSIDE_RE.search(text):
        assert arms._N_INSIDE_SIGN_RE.search(text)


def test_decimal_characters_are_those_of_backslash_d():
    digit = re.compile(r"\d")
    for code in range(0x110000):
        char = chr(code)
        assert char.isdecimal() == bool(digit.match(char)), hex(code)


_ASSIGNMENT_SENTENCES = st.tuples(
    st.lists(st.sampled_from(_ASSIGN_PIECES), max_size=4).map("".join),
    st.sampled_from(["12", "1,106", "874", "5", "0", "12,3", "1.5", "\u0661\u0662", "9" * 40, "1" + ",000" * 12]),
    st.sampled_from(["", " patients", " Pts", " participants"]), st.sampled_from(["", " were"]),
    st.sampled_from(["", " randomly", " Randomly"]),
    st.sampled_from([" assigned to ", " randomized to ", " randomised to ", " allocated to ", " R to ", " to "]),
    st.lists(st.sampled_from(_ASSIGN_PIECES), max_size=6).map("".join),
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ASSIGNMENT_SENTENCES, min_size=1, max_size=3).map("".join))
def test_assigned_numbers_are_found_as_the_regex_finds_them(text):
    spans = [(m.span(), m.groups()) for m in arms._ASSIGNED_N_RE.finditer(text)]
    assert [(m.span(), m.groups()) for m in arms._assigned_n_matches(text, fold(text))] == spans


_NAMES = ["imlunestrant plus abemaciclib", "imlunestrant", "drug A", "A+", "5-FU", "placebo", "standard therapy",
          "Drug-X with Y", "investigator's choice", "x x", "A plus A", "a - b", "a/b-c", "-b", "x and -y", "'s x",
          "drug A.", "x-"]
_NAME_PIECES = ["imlunestrant", "Imlunestrant", "IMLUNESTRANT", "abemaciclib", " plus ", " and ", " with ", "+", "-", "/",
                " ", "  ", "drug", "Drug", "A", "a", "A+", "5-FU", "5-fu", "placebo", "standard", " therapy", "x", "_",
                "investigator's", " choice", "\u212a", "\u0130", ",", "(", "Y", "x x x", "A plus A plus A", "plus",
                "PLUS", "and", "With", "b", "'s", "'", "\u00a0", "\n", "\u2028", "y", "-y", "c", "\u00e9", ".", "A.x",
                "x-y"]


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(_NAMES), st.lists(st.sampled_from(_NAME_PIECES), max_size=20).map("".join),
       st.integers(0, 10), st.integers(0, 80))
def test_whole_names_are_found_as_their_pattern_finds_them(name, text, start, end):
    end = min(end, len(text))
    start = min(start, end)
    whole = arms._name_pattern(name)
    matcher = arms._whole_name(name)
    assert isinstance(matcher, arms._AsciiName)
    segment = fold(text[start:end])
    spans = matcher.spans(text, segment, start, end)
    assert spans == [m.span() for m in whole.finditer(text, start, end)]
    if matcher.ends_in_word:
        assert all(whole.fullmatch(text, a, b) for a, b in spans)
    for pos in range(start, end + 1):
        for stop in range(pos, end + 1):
            assert matcher.fullmatch(text, segment, start, pos, stop) == bool(whole.fullmatch(text, pos, stop))


@pytest.mark.parametrize("name, text", [("x x", "x x x"), ("A plus A", "a plus A plus a"), ("drug A", "Drug A, drug  a"),
                                        ("a - b", "a - b a -b a- b a--b a  -  b"), ("x and -y", "x and -y x -y x and  -y"),
                                        ("drug A", "drug plusA drug andA xdrug plus A drug+A drug -A drug/ A drug-A"),
                                        ("drug A", "drug\u2028A drug\u00a0plus\u00a0A drug\nwith\tA drug\x1cA"),
                                        ("drug A", "drug plus_A drug_plus A drug with-A drug and+A drug \u212a"),
                                        ("drug A.", "drug A.x drug A. x"), ("x-", "x-y x- y")])
def test_whole_names_as_their_pattern(name, text):
    whole = arms._name_pattern(name)
    matcher = arms._whole_name(name)
    spans = matcher.spans(text, fold(text), 0, len(text))
    assert spans == [m.span() for m in whole.finditer(text)]
    assert all(bool(whole.fullmatch(text, a, b)) == matcher.fullmatch(text, fold(text), 0, a, b) for a, b in spans)
    if matcher.ends_in_word:
        assert all(whole.fullmatch(text, a, b) for a, b in spans)
    else:
        assert not all(whole.fullmatch(text, a, b) for a, b in spans)


def test_names_beyond_ascii_keep_their_pattern():
    assert not isinstance(arms._whole_name("caf\u00e9 drug"), arms._AsciiName)


def test_blanks_are_those_of_backslash_s():
    blank = re.compile(r"\s")
    for code in range(0x110000):
        char = chr(code)
        assert char.isspace() == bool(blank.match(char)), hex(code)


_SIGN_PIECES = _PIECES + ["\u2028%", "5\u2028", "\x1c", "\x85", "?", "\u00e9", "\u0663", "7 of 9", "12mo", "3\x1fkg", "5\x1c%"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SIGN_PIECES), max_size=40).map("".join))
def test_signs_rule_out_only_sentences_without_items(text):
    doc = prepare(text)
    signs = results.Signs.of(doc.text)
    if signs is None:
        assert any(not c.isascii() and c.isdecimal() for c in doc.text)
        return
    estimates = _extract._estimates(doc)
    for si, sent in enumerate(doc.sents):
        has_digit = signs.marks.find(b"0", sent.start, sent.end) != -1
        assert has_digit == bool(re.search(r"\d", doc.text[sent.start:sent.end]))
        own = {m.start() for m in results._OWN_SIGN_RE.finditer(doc.text, sent.start, sent.end)}
        assert own <= {m.start() for m in results.Signs.OWN_SIGN_MARKS_RE.finditer(signs.marks)}
        for taken in ([e for e in estimates if e.sent == si], []):
            spans = [(e.start, e.end) for e in taken]
            if not signs.may_hold_items(sent.start, sent.end, spans):
                assert results._sentence_items(doc, si, taken) == [], doc.text[sent.start:sent.end]


def test_ascii_blanks_are_those_of_backslash_s():
    blank = re.compile(r"\s")
    assert {chr(c) for c in range(128) if blank.match(chr(c))} == set(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")


_GROUP_PIECES = ["drug", "Drug A", "x-ray", "anti-PD-1", "5-FU", "a/b", "v.2", "+", "-", "/", ".", ",", "(", ")", "_",
                 " ", "  ", " group", " arm", " arms", " armX", " group,", "group", "arm", " vs ", " vs. ", " versus ",
                 " vs", "vs", "placebo", "\u00e9t\u00e9", "\u212a", "w" * 30, " the", " control"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_GROUP_PIECES), max_size=40).map("".join))
def test_anchor_places_and_reach_change_nothing(text):
    spans = lambda matches: [(m.span(), m.groups()) for m in matches]  # noqa: E731
    assert arms._group_places(text) == [m.start() for m in arms._GROUP_ANCHOR.finditer(text)]
    assert arms._vs_places(text) == [m.start() for m in arms._VS_ANCHOR.finditer(text)]
    for before in (200, 12):
        places = arms._group_places(text)
        reach = arms._GroupReach(text, places)
        reaches = [reach._reach(a) for a in places]
        assert reaches == sorted(reaches)
        assert spans(arms._anchored(arms._GROUP_RE, arms._GROUP_ANCHOR, text, before, 8, places,
                                    arms._GroupReach(text, places))) == \
            spans(arms._anchored(arms._GROUP_RE, arms._GROUP_ANCHOR, text, before, 8))
    assert spans(arms._anchored(arms._VS_PAIR_RE, arms._VS_ANCHOR, text, 42, 52, arms._vs_places(text))) == \
        spans(arms._anchored(arms._VS_PAIR_RE, arms._VS_ANCHOR, text, 42, 52))
