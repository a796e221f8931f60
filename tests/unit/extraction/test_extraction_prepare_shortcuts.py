"""Shortcuts in preparing an article find exactly what the plain code they stand for finds."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.extraction import context, facts, text
from pipelines.extraction.prefilter import fold, fold_lowered, lower_ascii

_ENROLMENT_PIECES = ["Patients were randomly assigned", "ENROLLED", "enrolled", "eligible", "inclusion", "randomised 300",
                     "were randomized", "Were Randomised", "randomized", "randomization", "randomized 4", "xenrolled",
                     "were", "\u212a", "\n\n", "\n", ". ", "A", "b", " ", "1", "; ", "HR 0.62."]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ENROLMENT_PIECES), min_size=1, max_size=20).map("".join))
def test_enrolment_sentences_are_those_the_regex_finds_something_in(text):
    if not text.strip():
        return
    doc = context.prepare(text)
    expected = [t for t in doc.sents if context._ENROLMENT_RE.search(doc.text, t.start, t.end)]
    assert context._enrolment_sentences(doc) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ \u0130\u0131\u017f\u212a\u00e9\u00b7\u2013K", max_size=30))
def test_folding_a_lowered_text_folds_the_text(text):
    assert fold_lowered(lower_ascii(text)) == fold(text)


_ABBREV_AS_WRITTEN = re.compile(r"(?:\b(?:vs|e\.g|i\.e|al|Dr|Fig|approx|no|No|ca|cf|Inc|Ltd|St)|\b[A-Z])\.$")
_ABBREV_PIECES = ["vs", "e.g", "i.e", "al", "Dr", "Fig", "approx", "no", "No", "ca", "cf", "Inc", "Ltd", "St", "A", "x",
                  "trial", "xvs", "_", "\u00e9", "1", ".", ". ", "!", "?", " ", "(", "\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ABBREV_PIECES), max_size=12).map("".join))
@example("Dr. A. Marlow et al. vs. approx. e.g. Fig. 2!")
def test_abbreviations_are_told_at_the_stop_as_the_search_before_it_tells(sample):
    for pos, char in enumerate(sample):
        if char not in ".!?":
            continue  # sentences() asks at stops only
        expected = _ABBREV_AS_WRITTEN.search(sample, max(0, pos - 8), pos + 1) is not None
        assert (text._ABBREV.match(sample, pos, pos + 1) is not None) == expected, (sample, pos)


def _sentences_as_written(sample: str) -> list[text.Sentence]:
    out, start, para = [], 0, 0
    for m in text._BREAK.finditer(sample):
        pos = m.start()
        if sample[pos] == "\n":
            if text._joins_line(sample, pos):
                continue
            end, new_para = pos, True
        else:
            if _ABBREV_AS_WRITTEN.search(sample, max(0, pos - 8), pos + 1) or not text._starts_sentence(sample, m.end()):
                continue
            end, new_para = pos + 1, False
        if sample[start:end].strip():
            out.extend(text._bounded(start, end, para, sample))
        para += new_para
        start = end
    if sample[start:].strip():
        out.extend(text._bounded(start, len(sample), para, sample))
    return out


_SENTENCE_PIECES = _ABBREV_PIECES + ["The", " The", "mPFS", "eGFR", "\u00c9", "\"", "'", "\t", ")", "\u2022", "results",
                                     "  ", "\n\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SENTENCE_PIECES), max_size=30).map("".join))
@example("It was 5. The end. Dr. A. Marlow said. 'Yes.' mPFS rose.\n\nNext. x")
def test_sentences_are_those_of_the_plain_loop(sample):
    assert text.sentences(sample) == _sentences_as_written(sample)


def _in_short_parenthesis_as_written(sample: str, pos: int) -> bool:
    near = max(0, pos - 41)
    opening = max(sample.rfind("(", near, pos), sample.rfind(")", near, pos))
    if opening == -1 or sample[opening] != "(":
        return False
    far = opening + 42
    closings = [k for k in (sample.find("(", pos, far), sample.find(")", pos, far)) if k != -1]
    return bool(closings) and sample[min(closings)] == ")"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="().ab ", max_size=120))
def test_short_parentheses_are_told_as_the_plain_reading_tells(sample):
    for pos in range(len(sample) + 1):
        assert facts._in_short_parenthesis(sample, pos) == _in_short_parenthesis_as_written(sample, pos)
