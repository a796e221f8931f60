"""Shortcuts in text preparation, article facts and the entry point find exactly what the plain code finds."""

from __future__ import annotations

import importlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import facts, text, vocab
from pipelines.extraction.context import prepare
from pipelines.extraction.prefilter import fold, opening_texts, opens_with_digit

extract_module = importlib.import_module("pipelines.extraction.extract")

_TEXT_PIECES = ["Dr", "Fig", "vs", "e.g", "i.e", "al", "approx", "no", "No", "ca", "cf", "Inc", "Ltd", "St", "A", "x",
                "trial", ".", ". ", "! ", "? ", ".\" ", ".) ", "\n", "\n\n", " \n", ":", ": ", " ", "\t", "\u00a0",
                "0.5", "5 percent", "5 per cent", "per", "percentage", "pro- gression", "mPFS", "eGFR", "\u2014",
                "3\u20145", "0\u00b762", "&amp;", "\r\n", "Results", "1", "(", ")", "\u3000"]
_TEXTS = st.lists(st.sampled_from(_TEXT_PIECES), max_size=30).map("".join)

_BREAK_AS_WRITTEN = re.compile(r"[.!?](?=[\"')\]]?\s+)|\n")


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_sentence_breaks_are_those_of_the_pattern_as_written(sample):
    assert [m.span() for m in text._BREAK.finditer(sample)] == [m.span() for m in _BREAK_AS_WRITTEN.finditer(sample)]


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_an_abbreviation_ends_only_on_a_known_last_letter(sample):
    for pos, char in enumerate(sample):
        if char == "." and text._ABBREV.search(sample, max(0, pos - 8), pos + 1):
            assert pos > 0 and sample[pos - 1] in text._ABBREV_LAST


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_rewrites_skipped_only_where_they_find_nothing(sample):
    norm = text._normalize_chars(sample)
    for regex, _replacement, needed in text._REWRITES:
        if not any(word in norm.text for word in needed):
            assert regex.search(norm.text) is None


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_headers_are_sentences_ending_in_a_colon(sample):
    if not sample.strip():
        return
    doc = prepare(sample)
    for si, sent in enumerate(doc.sents):
        assert extract_module._is_header(doc, si) == doc.text[sent.start:sent.end].rstrip().endswith(":")


_TERM_PIECES = ["breast cancer", "Breast Cancer", "advanced ", "metastatic", "early-stage ", "TNBC", "xTNBC", "HFrEF",
                "heart failure with reduced ejection fraction", "heart failure", "CKD", "T2D", "type 2 diabetes",
                "randomised", "Randomized", "open label", "double-blinded", "multicentre", "crossover", "cross-over",
                " ", ", ", "(", ")", "-", "x", "\u212a", "\u0130", "abc", "ABC", "ebc"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TERM_PIECES), max_size=20).map("".join))
def test_terms_are_found_where_their_regex_finds_them(sample):
    folded = fold(sample)
    terms = [t for ts, _name in facts._CONDITION_TERMS for t in ts] + [t for _name, t in facts._DESIGN_RES]
    for term in terms:
        m = term.regex.search(folded)
        while m is not None and term.at_word and m.start() > 0 and re.match(r"\w", folded[m.start() - 1]):
            m = term.regex.search(folded, m.start() + 1)
        assert term.first(folded) == (m.start() if m else None), term.regex.pattern


def test_alternatives_are_narrowed_where_the_whole_regex_cannot_jump_ahead():
    generic = vocab._GENERIC_SUBGROUP_FILTER
    assert not generic.at_word and generic._alive is not None
    sample = fold("In the overall population, progression-free survival was longer with the drug.")
    regex, at_word = generic._live_regex(sample, 0, len(sample))
    assert at_word and regex.pattern.startswith("(?:in|among|for) ")
    assert generic._live_regex(sample, 0, 10) is None


def _offsets_as_written(sample: str) -> tuple[str, list[int], list[int]]:
    """normalize() with every offset listed one by one, as the runs of _Offsets stand for."""
    changes = []
    pos = 0
    for m in text._SPECIAL.finditer(sample):
        i = m.start()
        if i < pos:
            continue
        entity = text._ENTITY.match(sample, i) if sample[i] == "&" else None
        rep = text.html.unescape(entity.group(0)) if entity else None
        if entity and rep != entity.group(0):
            changes.append((i, entity.end(), "".join(text._map_char(rep, k) for k in range(len(rep)))))
            pos = entity.end()
            continue
        changes.append((i, i + 1, text._map_char(sample, i)))
        pos = i + 1
    out, starts, ends = "", [], []
    pos = 0
    for start, end, mapped in changes:
        out += sample[pos:start] + mapped
        starts += list(range(pos, start)) + [start] * len(mapped)
        ends += list(range(pos + 1, start + 1)) + [end] * len(mapped)
        pos = end
    out += sample[pos:]
    starts += list(range(pos, len(sample)))
    ends += list(range(pos + 1, len(sample) + 1))
    for regex, replacement, _needed in text._REWRITES:
        new, new_starts, new_ends, pos = "", [], [], 0
        for m in regex.finditer(out):
            new += out[pos:m.start()] + replacement
            new_starts += starts[pos:m.start()] + ([starts[m.start()]] if replacement else [])
            new_ends += ends[pos:m.start()] + ([ends[m.end() - 1]] if replacement else [])
            pos = m.end()
        out, starts, ends = new + out[pos:], new_starts + starts[pos:], new_ends + ends[pos:]
    return out, starts, ends


@settings(max_examples=500, deadline=None)
@given(_TEXTS)
def test_offset_runs_are_the_offsets_one_by_one(sample):
    norm = text.normalize(sample)
    expected_text, expected_starts, expected_ends = _offsets_as_written(sample)
    assert norm.text == expected_text
    assert list(norm.starts) == expected_starts and list(norm.ends) == expected_ends
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for i in range(-len(norm.text), len(norm.text)):
        assert norm.starts[i] == expected_starts[i] and norm.ends[i] == expected_ends[i]
    assert list(norm.starts[1:-1]) == expected_starts[1:-1]


@pytest.mark.parametrize("pattern, expected", [
    (r"(?<!\d)[1-3]:[1-3]", ("1:", "2:", "3:")),
    (r"[ab]+c", ("a", "b")),
    (r"[ab]c?d", ("a", "b")),
    (r"[ab]\.x|zz", ("a.x", "b.x", "zz")),
    (r"(?:[12] to|x)y", ("1 to", "2 to", "x")),
    (r"[^a]b", None),
])
def test_opening_texts_past_classes(pattern, expected):
    assert opening_texts(pattern, past_classes=True) == expected


@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.integers(0, 40), st.integers(0, 400))
def test_a_text_searched_again_is_read_folded_and_finds_the_same(sample, start, end):
    from pipelines.extraction import arms, prefilter

    for regex in (arms._CONTROL_MENTION, arms._COMBINATION, vocab.OVERALL_RE):
        pf = prefilter.Prefilter(regex)
        expected = [(m.span(), m.groups()) for m in regex.finditer(sample, start, end)]
        segment = fold(sample[start:end])
        for _ in range(3):  # the first time as written, then folded
            assert [(m.span(), m.groups()) for m in pf.finditer(sample, start, end, segment)] == expected
            assert [(m.span(), m.groups()) for m in pf.matches(sample, start, end)] == expected
    assert prefilter._FOLD_CACHE[0] is sample and prefilter._FOLD_CACHE[1] == fold(sample)


@pytest.mark.parametrize("pattern, expected", [
    (r"\d+", True), (r"(?=\d)x", True), (r"\d?x", False), (r"\d{0,2}", False), (r"\d{2}", True),
    (r"(?:\d|a)", False), (r"(?<!\w)(?P<a>\d+)|\d", True), (r"\b\d", True), (r"[0-9]", False),
    (r"(?i)\d", False), (r"(?:\d)*", False), (r"(?!x)\d{1,}", True), (r"\d|", False), (r"x\d", False),
])
def test_opens_with_digit(pattern, expected):
    assert opens_with_digit(pattern) == expected


def test_digit_locators_are_used():
    from pipelines.extraction import results

    assert results._COUNT_FILTER.located is not None and results._LEVEL_FILTER.located is not None


_DIGIT_PIECES = ["12", "3", "0.5", "415 of 2997", "2,997", " patients", " (", "14%", "[", "]", ")", "95% CI",
                 "95 % CIs", "90% confidence interval", "x", ".", " ", "\u0663", "a1", "1,000 of 3,000 (33.3%)"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_DIGIT_PIECES), max_size=20).map("".join), st.integers(0, 30), st.integers(0, 300))
def test_digit_located_scans_find_what_the_regex_finds(sample, start, end):
    from pipelines.extraction import numbers, prefilter, results

    for regex in (results._COUNT_RE, numbers.LEVEL_RE, re.compile(r"(?<![\d.])\d+(?:\.\d+)? (?:of|to) \d")):
        pf = prefilter.Prefilter(regex)
        assert pf.located is not None
        assert ([(m.span(), m.groups()) for m in pf.matches(sample, start, end)]
                == [(m.span(), m.groups()) for m in regex.finditer(sample, start, end)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="abc ", min_size=1, max_size=4), min_size=1, max_size=6),
       st.text(alphabet="abc ", max_size=20))
def test_fewest_strings_test_the_same(texts, sample):
    from pipelines.extraction.prefilter import _fewest

    assert any(t in sample for t in _fewest(tuple(texts))) == any(t in sample for t in texts)


def test_sentences_are_still_frozen_dataclasses():
    import dataclasses

    sent = text.Sentence(3, 9, para=1)
    assert (sent.start, sent.end, sent.para) == (3, 9, 1)
    assert sent == text.Sentence(start=3, end=9, para=1) and hash(sent) == hash(text.Sentence(3, 9, 1))
    assert repr(sent) == "Sentence(start=3, end=9, para=1)"
    assert dataclasses.replace(sent, end=12) == text.Sentence(3, 12, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sent.start = 4
