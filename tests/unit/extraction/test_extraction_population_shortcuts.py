"""Shortcuts in finding population cues: each finds exactly what the plain regexes find."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import vocab
from pipelines.extraction.prefilter import Prefilter, fold

_POPULATION_PIECES = ["overall population", "Overall", "all patients", "all the randomized participants", "ITT",
                      "intention-to-treat", "regardless of", "in patients with", "among women who had",
                      "in those without", "Patients enrolled after", "in the 41-49% group", "for the \u226565% stratum",
                      "this subgroup", "visceral subgroup", "subset", "cohort without", "30% of patients with",
                      "ESR1-mutated", "ESR1 mutation status", "PIK3CA", "HER2-low", "HR-positive cohort",
                      "aged \u226565 years", "age\u226565 years", ">=65 years", "\u226565 years", "younger patients",
                      "in Asia", "Asian patients", "with type 2 diabetes", "non-diabetic", "not", "no", "without",
                      "stratified by", "according to", "with or without", "based on", "by", "history", "prior",
                      "\u212a", "\u0130", "\u017f", "\u0131", "\u00e9", "x", "2", "_", " ", ", ", ".", "(", ")", "\n"]
_TEXT = st.lists(st.sampled_from(_POPULATION_PIECES), max_size=14).map(" ".join)
_SPAN = st.tuples(st.integers(0, 60), st.integers(0, 400))


def _word_finder_filters() -> list[Prefilter]:
    index = vocab._vocabulary_index()
    filters = [vocab._OVERALL_FILTER, vocab._PATIENTS_WITH_FILTER, vocab._BAND_FILTER, *index.filters]
    return [f for f in filters if f.word_finder is not None]


def test_word_finders_are_made_for_regexes_without_one_opening_string():
    assert vocab._OVERALL_FILTER.word_finder is not None
    assert vocab._PATIENTS_WITH_FILTER.word_finder is not None
    assert Prefilter(re.compile(r"\bESR1[- ]?mut", re.IGNORECASE)).word_finder is None


@settings(max_examples=300, deadline=None)
@given(_TEXT, _SPAN)
def test_word_finders_find_the_matches_of_the_regex(text, span):
    start, end = span[0], min(span[1], len(text))
    folded = fold(text)
    for prefilter in _word_finder_filters():
        expected = [(m.span(), m.groups()) for m in prefilter.regex.finditer(text, start, end)]
        got = [(m.span(), m.groups()) for m in prefilter.matches(text, start, end, folded)]
        assert got == expected, prefilter.regex.pattern


def _vocab_cues_as_written(text: str, start: int, end: int) -> list[vocab.PopulationCue]:
    """Every vocabulary pattern run from the first place the union of them all matches."""
    anywhere = vocab._any_subgroup_re()
    assert anywhere is not None
    hit = anywhere.search(text, start, end)
    if hit is None:
        return []
    out = []
    for term, pat in vocab._vocabulary_index().patterns:
        for m in pat.finditer(text, hit.start(), end):
            cue = vocab._vocab_cue(text, term, pat, m, None)
            if cue is not None:
                out.append(cue)
    return out


@settings(max_examples=300, deadline=None)
@given(_TEXT, _SPAN, st.booleans())
def test_vocabulary_cues_are_those_of_the_patterns_run_from_the_union_hit(text, span, with_fold):
    start, end = span[0], min(span[1], len(text))
    folded_text = fold(text)
    cues = vocab._vocab_cues(text, start, end, folded_text[start:end], folded_text if with_fold else None)
    assert cues == _vocab_cues_as_written(text, start, end)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_candidates_meeting_the_left_requirements_meet_them_all(text):
    folded = fold(text)
    index = vocab._vocabulary_index()
    candidates = index.candidates(folded)
    every = [k for k in candidates
             if vocab._meets(folded, vocab.regex_requirements(index.patterns[k][1]))]
    assert index.live(folded, candidates) == every
    for prefilter, needs in ((vocab._PATIENTS_WITH_FILTER, vocab.PATIENTS_WITH_RE),
                             (vocab._BAND_FILTER, vocab.BAND_RE), (vocab._OVERALL_FILTER, vocab.OVERALL_RE),
                             (vocab._GENERIC_SUBGROUP_FILTER, vocab.GENERIC_SUBGROUP_RE)):
        if prefilter.may_match(folded):
            left = vocab._unmet(vocab.regex_requirements(needs), prefilter.texts)
            assert vocab._meets(folded, left) == vocab._meets(folded, vocab.regex_requirements(needs))


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_look_backs_in_lower_case_find_what_the_regexes_find(text):
    folded = fold(text)
    look_backs = ((vocab._BLOCKERS_LOWER, vocab.SUBGROUP_BLOCKERS), (vocab._NEGATION_LOWER, vocab.NEGATION_RE))
    for lowered, regex in look_backs:
        assert lowered is not None
        for at in range(len(text) + 1):
            lead = max(0, at - 40)
            expected = regex.search(text[lead:at]) is not None
            assert vocab._found(lowered, regex, text, lead, at, folded[lead:at]) == expected, (regex.pattern, at)
