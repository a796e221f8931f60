"""Prefilters and openings: every shortcut finds exactly what the regex alone finds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import arms, context, facts, numbers, results, vocab
from pipelines.extraction.prefilter import (
    Openings,
    Prefilter,
    first_letters,
    fold,
    lower_ascii,
    lower_case_pattern,
    opening_texts,
    required_texts,
    starts_with_word_char,
)


def test_fold_equates_exactly_what_ignorecase_equates_with_ascii():
    any_ascii = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    for code in range(0x110000):
        char = chr(code)
        if code < 0x80 or any_ascii.fullmatch(char):
            matched = {a for a in map(chr, range(0x80)) if re.fullmatch(re.escape(a), char, re.IGNORECASE)}
            assert {fold(char)} == {a.lower() for a in matched}, hex(code)
        else:
            assert fold(char) == char, hex(code)


@given(st.text(alphabet=st.sampled_from("aZk \u0130\u0131\u017f\u212a\u00e9\u00c9\u2264\U0001f600\ud800-."), max_size=30))
def test_fold_and_lower_ascii_keep_length_and_touch_only_what_they_should(text):
    assert lower_ascii(text) == text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))
    folded = fold(text)
    assert len(folded) == len(text)
    for char, out in zip(text, folded):
        assert out == (char.lower() if char.isascii() else {"\u0130": "i", "\u0131": "i", "\u017f": "s",
                                                            "\u212a": "k"}.get(char, char))


@pytest.mark.parametrize("pattern, expected", [
    (r"\bESR1[- ]?(?:mut(?:ated|ation)?|m)\b", ("ESR1",)),
    (r"\bmutations? (?:in|of) ESR1\b", ("mutation",)),
    (r"\bharbou?ring single\b", ("ring single",)),
    (r"a{0,60}bc", ("bc",)),
    (r"x{2}yz|\bITT\b", ("yz", "ITT")),
    (r"\b(?:in|among) (?:patients|pts) (?:with(?:out)?|whose)\s+", ("with", "whose")),
    (r"(?:ab|c)?d", ("d",)),
    (r"(?i)abc", None),
    (r"\d+", None),
    (r"(?=abc)x", ("x",)),
])
def test_required_texts(pattern, expected):
    assert required_texts(pattern) == expected


@pytest.mark.parametrize("pattern, expected", [
    (r"(?=[ra])(?:randomi[sz]ed|randomly assigned)\s", ("randomi", "randomly assigned")),
    (r"\bNCT\s?0?(\d{7,8})\b", ("NCT",)),
    (r"(?<!\d)[1-3]:[1-3]", ("1", "2", "3")),
    (r"ab+c", ("ab",)),
    (r"a?bc", None),
    (r"(?:ab)?c", None),
    (r"[^a]b", None),
    (r"x{2}", None),
])
def test_opening_texts(pattern, expected):
    assert opening_texts(pattern) == expected


@pytest.mark.parametrize("pattern, expected", [
    ("ESR1[- ]?", True), ("(?:in|from) Asia", True), ("(?P<level>younger|older) x", True),
    (r"(?P<level>(?:[<>]=?|[\u2265\u2264])\s?\d+ years)", False), ("s?abc", False), ("ab|-c", False),
    ("(?=a)b", False), ("", False),
])
def test_starts_with_word_char(pattern, expected):
    assert starts_with_word_char(pattern) is expected


@pytest.mark.parametrize("pattern, expected", [
    (r"\bmace\b|major (?:cvd|cv) events?", {"m"}), (r"(?:cv|cardiovascular)(?: \(cv\))? death", {"c"}),
    (r"(?:hhf|worse )|rash", {"h", "w", "r"}), (r"\bm?pfs\b", None), (r"(?:disease )?progression", None),
    (r"\bt?r?aes?\b", None), (r"[ab]c", None), (r"\d+", None), (r"(?=a)b", None), ("a|", None), ("", None),
    (r"(?P<x>ab)", {"a"}), (r"a*b", None),
])
def test_first_letters(pattern, expected):
    assert first_letters(pattern) == (None if expected is None else frozenset(expected))


# Every regex the extractor reads per sentence or per article, with the subgroup vocabulary's patterns.
_REGEXES = [obj for module in (arms, context, facts, numbers, results, vocab) for obj in vars(module).values()
            if isinstance(obj, re.Pattern)]
_REGEXES += [pat for term in vocab.load_subgroups() for pat in term.patterns]
_PIECES = [
    "In patients with", "among the 120 patients in the", "randomly assigned", "Randomized", "RANDOMISED ",
    "assigned to", "allocated", "NCT0", "nct 1234567", "12345678", "phase 3", "Phase III", "evidence rating level: 2 (a)",
    "compared", "tested", "with", "whose", "who had", " the ", "41-49%", " group", " arm", "overall population",
    "ITT", "ESR1-mutated", "ESR1 mutation", "aged \u226565 years", "x<65 years", "PD-L1 CPS \u226510", "HR 0.62",
    "(95% CI, 0.5-0.8)", "; ", ", ", "(", ")", "n = 331", "vs", "placebo", "\u212a", "\u0130", "\u017f", "\u0131",
    "subgroup", "cohort with", "respectively", "primary end point", "died", " ", "\n", "1:1", "2:1 to",
]


_SHORTCUTS = [(regex, Prefilter(regex), Openings(regex)) for regex in _REGEXES]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_prefilters_and_openings_find_what_the_regex_finds(text):
    folded = fold(text)
    for regex, prefilter, openings in _SHORTCUTS:
        found = [(m.span(), m.groups()) for m in regex.finditer(text)]
        if not prefilter.may_match(folded if prefilter.ignorecase else text):
            assert found == [], regex.pattern
        if openings.texts is not None:
            assert [(m.span(), m.groups()) for m in openings.finditer(text, folded)] == found, regex.pattern
        first = openings.search(text, folded)
        assert (first.span() if first else None) == (found[0][0] if found else None), regex.pattern


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join), st.integers(0, 40), st.integers(0, 400))
def test_folded_scans_find_what_the_regex_finds(text, start, end):
    folded = fold(text)
    for regex, prefilter, _openings in _SHORTCUTS:
        found = [(m.span(), m.groups()) for m in regex.finditer(text, start, end)]
        assert [(m.span(), m.groups()) for m in prefilter.matches(text, start, end, folded)] == found, regex.pattern


def test_folded_scans_are_used():
    assert vocab._OVERALL_FILTER.lowered is not None and vocab._OVERALL_FILTER.at_word
    assert all(f.lowered is not None for f in vocab._vocabulary_index().filters)


@pytest.mark.parametrize("pattern, expected", [
    (r"\bITT\b|(?P<Level>A[B-D]+)\s", r"\bitt\b|(?P<level>a[b-d]+)\s"),
    ("[<>\u2264]=? ?\\d+%|\u2265", "[<>\u2264]=? ?\\d+%|\u2265"),
    (r"[<>\u2264]x", r"[<>\u2264]x"),
    (r"\W", None), (r"\S", None), (r"\x41", None), (r"(a)\1", None), (r"(?P<a>a)(?P=a)", None),
    (r"(?i)a", None), (r"(?-i:A)", None), (r"[@-Z]", None), (r"[0-z]", None), ("\u0130", None),
    ("\u00e9", None), (r"\u00C9", None), (r"a\\b", None),
])
def test_lower_case_pattern(pattern, expected):
    assert lower_case_pattern(pattern) == expected


_ENDPOINT_PIECES = ["overall survival", "OS", "os", "CV death or HHF", "death", "deaths", "PFS2", "PFS", "mPFS",
                    "primary end point", "primary composite", "hospitalization for heart failure", " or ",
                    "cardiovascular death", "adverse events", "TRAEs", "composite of", "kidney", "rash", "MI",
                    " ", ", ", "(", ")", "x", "_", "\u00e9", "the", "2", "-"]
# The endpoint patterns as one alternation of named groups, one per pattern, as written.
_ENDPOINTS_AS_WRITTEN = re.compile(r"(?=[a-z])(?<![a-z0-9])(?:" + "|".join(
    f"(?P<g{i}>{p.lower()})" for i, (_, p) in enumerate(vocab._ENDPOINT_PATTERNS)) + ")")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ENDPOINT_PIECES), max_size=20).map("".join))
def test_endpoint_alternation_matches_the_patterns_as_written(text):
    lowered = lower_ascii(text)
    expected = [(m.start(), m.end(), vocab._ENDPOINT_PATTERNS[int(m.lastgroup[1:])][0])
                for m in _ENDPOINTS_AS_WRITTEN.finditer(lowered)]
    got = [(m.start(), m.end(), vocab._ENDPOINT_LABELS[m.lastindex - 1])
           for m in vocab._ENDPOINT_LOWER_RE.finditer(lowered)]
    assert got == expected
