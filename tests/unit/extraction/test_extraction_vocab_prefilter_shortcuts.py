"""Shortcuts of the vocabularies and prefilters: each finds exactly what the plain code it stands for finds."""

from __future__ import annotations

import dataclasses
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import prefilter, vocab
from pipelines.extraction.prefilter import lower_ascii

# Endpoint names, their parts and near misses, with separators that are and are not word characters.
_ENDPOINT_PIECES = ["mPFS", "PFS", "pfs2", "rPFS", "TRAEs", "RAE", "aes", "TAE", "disease progression or death",
                    "progression or death", "CV death or HHF", "cardiovascular (CV) death", "CVD mortality",
                    "HHF (first event) or CV death", "worse heart failure", "heart failure admission",
                    "objective response rate", "overall response", "recurrence-free survival", "relapse",
                    "composite of", "kidney", "bleeding", "diarrhoea", "stroke or systemic embolism", "MI", "OS",
                    "death", "deaths", "weight loss", "the", " or ", " ", ", ", "(", ")", "-", "/", "2", "x", "_",
                    "\u00e9", "\u2265", "\n"]
_TEXT = st.lists(st.sampled_from(_ENDPOINT_PIECES), max_size=20).map("".join)


@settings(max_examples=500, deadline=None)
@given(_TEXT, st.integers(0, 60), st.integers(0, 300))
def test_endpoint_matches_are_those_of_the_alternation(text, start, end):
    lowered = lower_ascii(text)
    end = min(end, len(lowered))
    expected = [(m.start(), m.end(), m.lastindex) for m in vocab._ENDPOINT_LOWER_RE.finditer(lowered, start, end)]
    assert vocab.endpoint_matches(lowered, start, end) == expected


def test_endpoint_alternatives_read_letter_first():
    assert vocab._letter_and_rest(r"\bm?pfs\b") == [("m", r"pfs\b"), ("p", r"fs\b")]
    assert vocab._letter_and_rest(r"(?:disease )?progression or death") == [
        ("d", "isease progression or death"), ("p", "rogression or death")]
    assert vocab._letter_and_rest(r"(?:cv|cvd) death") == [("c", "v death"), ("c", "vd death")]


def test_population_cues_are_still_frozen_dataclasses():
    cue = vocab.PopulationCue(3, 9, False, "women", "sex", level="female")
    assert dataclasses.astuple(cue) == (3, 9, False, "women", "sex", "female")
    assert vocab.PopulationCue(1, 2, True) == vocab.PopulationCue(start=1, end=2, overall=True, label=None)
    assert hash(cue) == hash(vocab.PopulationCue(3, 9, False, "women", "sex", "female"))
    assert repr(cue) == "PopulationCue(start=3, end=9, overall=False, label='women', variable='sex', level='female')"
    assert dataclasses.replace(cue, end=12) == vocab.PopulationCue(3, 12, False, "women", "sex", "female")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cue.start = 4  # type: ignore[misc]


_WORD_PIECES = ["HER2", "her2-low", "ER+", "+", "-", "abc", "abcd", "ABCDE", "x1y2", "\u0130stanbul", "\u00e9t\u00e9",
                "na\u00efve", "_", " ", ",", "(", "\n", "1234", "12"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORD_PIECES), max_size=16).map("".join))
def test_content_words_are_the_long_runs(text):
    runs = re.findall(r"[a-z0-9+-]+", text.lower())
    assert vocab.content_words(text) == {w for w in runs if len(w) >= vocab._TRIAL_WORD_MIN}


def test_word_characters_are_those_of_the_regex():
    word = re.compile(r"\w")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert prefilter._word_char_before("x" + char, 2) == (word.match(char) is not None), hex(code)
