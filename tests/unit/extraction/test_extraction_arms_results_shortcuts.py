"""Shortcuts of the arm results step: each finds exactly what the plain code it stands for finds."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.extraction import arms, estimates, results
from pipelines.extraction.context import prepare
from pipelines.extraction.prefilter import fold, top_level_alternatives, tried_at

_SENTENCE_PIECES = ["12", "5.5", "\u0661\u0662", " ", "\n", "\n\n", ". ", ".", "! ", "? ", "A", "a", "Median PFS",
                    " was ", "vs", " months", "%", "Dr. ", "e.g. ", "(", ")", ":", "\u00e9", "\u2022 ", "x" * 30]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SENTENCE_PIECES), max_size=40).map("".join))
def test_sentences_with_digits_are_those_the_plain_loop_finds(text):
    doc = prepare(text)
    expected = [si for si, s in enumerate(doc.sents) if re.search(r"\d", doc.text[s.start:s.end])]
    assert list(results._sentences_with_digits(doc, results.Signs.of(doc.text))) == expected
    assert list(results._sentences_with_digits(doc, None)) == expected
    # What the shortcut and the carried arms rely on: sentences in order, apart, paragraphs never going back.
    for a, b in zip(doc.sents, doc.sents[1:]):
        assert a.end <= b.start and a.para <= b.para


_LEAD_PIECES = ["difference", "Difference", "reduction", "improvement", "increase", "decrease", "benefit", "gain",
                "of", "was", "were", "=", ":", "in", "by", "a median of", "less than", "greater than", "at least",
                "more than", "or equal to", "<", ">", "\u2264", "\u2265", " ", "  ", "\n", "\u00a0", "\u2009", "x",
                "12", "%", "\u212a", "\u017f", "\u0130", "\u0131", "BY", "Than", "gai", "-", ",", "(", "."]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_LEAD_PIECES), max_size=12).map("".join))
def test_differences_end_as_the_shortcut_expects(lead):
    """_difference tries the regex only on leads ending, blanks aside, with one of _DIFFERENCE_ENDINGS."""
    if results._DIFFERENCE_RE.search(lead):
        assert fold(lead).rstrip().endswith(results._DIFFERENCE_ENDINGS), lead
    # ... and only where one of _DIFFERENCE_OPENINGS opens a match.
    for i in range(len(lead) + 1):
        if results._DIFFERENCE_RE.match(lead, i):
            assert fold(lead)[i:].startswith(results._DIFFERENCE_OPENINGS), (lead, i)


def test_difference_endings_are_read_from_leads_as_written():
    for text in ("Median PFS improved by 5.5 months.", "a difference of  4.2 months", "HR <0.5 and 12%",
                 "a gain\u00a0 3 months", "at least 12 months"):
        doc = prepare(text)
        for si, sent in enumerate(doc.sents):
            for m in re.finditer(r"\d+(?:\.\d+)?", doc.text[sent.start:sent.end]):
                at = sent.start + m.start()
                item = results.Item(at, sent.start + m.end(), float(m.group(0)), None)
                lead = doc.text[max(sent.start, at - 40):at]
                assert results._difference(doc, si, item) == bool(results._DIFFERENCE_RE.search(lead))


_MENTION_PIECES = ["placebo", "Placebo", "PLACEBO", "control", "controlled", "standard", "SOC", "soc", "associated",
                   "usual care", "usual  care", "TPC", "physician", "continuation", "observation", "PBO", "comparator",
                   "combination", "doublet", "triplet", "combined regimen", "combined  regimen", " ", "-", "_", "x",
                   "1", ".", "\u00e9", "\u212a", "\u017f", "\u0130", "\u0131", "\n"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_MENTION_PIECES), max_size=16).map("".join), st.integers(0, 80), st.integers(0, 80))
def test_openings_in_a_window_find_the_regex_matches(text, a, b):
    start, end = min(a, b, len(text)), min(max(a, b), len(text))
    segment = fold(text[start:end])
    for openings in (arms._CONTROL_MENTION_OPENINGS, arms._COMBINATION_OPENINGS):
        expected = [m.span() for m in openings.regex.finditer(text, start, end)]
        assert [m.span() for m in openings.finditer_in(text, start, end, segment)] == expected


_NEGATION_PIECES = ["not ", "NOT ", "No ", "no ", "non", "Non-", "did not ", "was not ", "reach ", "achieve ",
                    "statistically ", "statistical ", "statistically", "significant", "significantly", "significance",
                    "difference", "formally ", "tested", " ", "-", "x", "_", "1", "\u00e9", "\u212a", "\u017f",
                    "\u0130", "\u0131"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_NEGATION_PIECES), max_size=10).map("".join), st.integers(0, 80), st.integers(0, 80))
def test_negated_significance_holds_what_claimed_looks_for_first(text, a, b):
    """_claimed tries _SIGNIFICANT_NEG_RE on a window only when it has 'no' at a word start."""
    start, end = min(a, b, len(text)), min(max(a, b), len(text))
    if estimates._SIGNIFICANT_NEG_RE.search(text[start:end]):
        assert estimates._has_word_start(text, fold(text), estimates._NEGATION_WORD_START, start, end)


def test_every_negated_significance_wording_opens_a_word_with_no():
    """The shortcut above holds for every wording the regex lists, including ones added later."""
    pattern = estimates._SIGNIFICANT_NEG_RE.pattern
    assert pattern.startswith(r"\b(?:") and pattern.endswith(")")
    for wording in top_level_alternatives(pattern[len(r"\b(?:"):-1]):
        assert re.search(r"(?:^| )no", wording), wording



def _after_window_by_regex(text: str, start: int, limit: int) -> int:
    depth = 0
    end = min(limit, start + 90)
    for m in re.finditer(r"[()\[\]]", text[:end]):
        if m.start() < start:
            continue
        if text[m.start()] in "([":
            depth += 1
        else:
            depth -= 1
            if depth < 0:
                return m.start()
    return end


def _open_paren_before_by_regex(text: str, start: int, pos: int) -> int | None:
    depth = 0
    for i in reversed([m.start() for m in re.finditer(r"[()\[\]]", text[:pos]) if m.start() >= start]):
        if text[i] in ")]":
            depth += 1
        elif depth == 0:
            return i
        else:
            depth -= 1
    return None


_BRACKET_TEXTS = st.lists(st.sampled_from(["(", ")", "[", "]", "x", " ", "0.5", "p < .01", "x" * 40]),
                          max_size=30).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_BRACKET_TEXTS, st.integers(0, 200), st.integers(0, 200))
def test_bracket_windows_are_those_read_bracket_by_bracket(text, a, b):
    assert estimates._after_window(text, a, b) == _after_window_by_regex(text, a, b)
    assert estimates._open_paren_before(text, a, b) == _open_paren_before_by_regex(text, a, b)


_SIGN_PIECES = ["12", "5", " ", "\u00a0", "?", "\x1c", "%", "mo", " months", " percentage point", " percentage points",
                " kg", " of ", "7 of 9", "x", ".", "\u00e9"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_SIGN_PIECES), max_size=30).map("".join), st.integers(0, 120), st.integers(0, 120))
def test_own_signs_searched_in_a_sentence_are_those_of_the_whole_text(text, a, b):
    """Signs.may_hold_items searches own signs only up to OWN_SIGN_REACH past a sentence's end."""
    signs = results.Signs.of(text)
    assert signs is not None
    start, end = min(a, b), max(a, b)
    stop = min(len(signs.marks), end + results.Signs.OWN_SIGN_REACH)
    found = [m.start() for m in results.Signs.OWN_SIGN_MARKS_RE.finditer(signs.marks, start, stop) if m.start() < end]
    whole_text = [m.start() for m in results.Signs.OWN_SIGN_MARKS_RE.finditer(signs.marks)]
    assert found == [at for at in whole_text if start <= at < end]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \n\t\u00a0xX1.,;)]vsand", max_size=40))
def test_gaps_without_an_opening_bracket_have_nothing_bracketed(between):
    """_connector blanks out bracketed parts only when the gap holds an opening bracket."""
    assert results._BRACKETED_RE.search(between) is None


_NAME_PIECES = ["drug", "A", "plus", "Plus", "and", "band", "standard", "with", "without", "+", "/", "-", " ", "  ",
                "\n", "\u00a0", "\u2009", "\x1c", "\u00e9", "x"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_NAME_PIECES), max_size=12).map("".join))
def test_name_words_are_those_the_split_regex_gives(name):
    assert arms._name_words(name) == [w for w in arms._NAME_WORD_SPLIT.split(name) if w]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["(", "[", ";", ",", " ", "\u00a0", "n", "N", "=", "\uff1d", "12", "1,298", "x"]),
                max_size=16).map("".join))
def test_sizes_near_a_figure_hold_an_equals_sign(text):
    """_n_near looks for sizes only in sentences holding '='."""
    for m in results._N_NEAR_RE.finditer(text):
        assert "=" in m.group(0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["mean", "Mean", "MEAN", "means", "median", " ", "-", "m", "e", "a", "n", "\u212a",
                                 "\u017f", "\u0130", "\u0131", "\u00e9", "x"]), max_size=12).map("".join))
def test_means_are_found_where_the_folded_text_says_mean(text):
    """_figures searches a lead for _MEAN_RE only when its folded text holds 'mean'."""
    for m in results._MEAN_RE.finditer(text):
        assert "mean" in fold(m.group(0))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([" with ", " in ", "the ", "drug A", " and ", " vs ", "placebo", ",", " respectively",
                                 " Respectively", "respectively", " ", "x"]), max_size=12).map("".join))
def test_arms_named_respectively_hold_the_word(text):
    """_pairs reads arms named after a pair only where ' respectively' follows it."""
    for i in range(len(text) + 1):
        m = results._RESPECTIVELY_ARMS_RE.match(text, i)
        if m is not None:
            assert " respectively" in m.group(0)


_ASSIGN_PIECES = ["randomly assigned", "randomly allocated", "Randomized", "randomised", "assigned", "ALLOCATED",
                  " in a 1:1 ratio", " (2:1 ratio)", " (1:1)", " 1:1", "2:1", " to ", "TO ", " to", "to", "-to-",
                  " receive ", "either ", "drug A", " or placebo", " patients", " x" * 12, "xxxxxxxxxxxx", " ", ".",
                  ";", ":", "\u212a", "\u0131", "\u00e9", "\u0661"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_ASSIGN_PIECES), max_size=14).map("".join))
@example("randomly allocated in a 1:1 ratio" + " x" * 12 + " to drug A.")  # 'to ' as far as it can be
def test_assignments_are_those_of_the_regex(text):
    """_assign_matches passes over the places with no 'to ' within _ASSIGN_TO_REACH."""
    expected = [(m.span(), m.group("list")) for m in arms._ASSIGN_RE.finditer(text)]
    found = arms._assign_matches(text, arms._Places(fold(text)))
    assert [(m.span(), m.group("list")) for m in found] == expected
    for i in range(len(text)):
        if arms._ASSIGN_RE.match(text, i):
            assert "to " in fold(text)[i:i + arms._ASSIGN_TO_REACH]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([" with ", " either ", " EITHER ", "E\u0131ther", "e\u0130ther", "drug A", " or ",
                                 "placebo", ",", "(", " ", "x"]), max_size=12).map("".join))
def test_options_listed_with_either_say_it(listed):
    """article_arms reads a list for _EITHER_RE only when its folded text says 'either'."""
    for m in arms._EITHER_RE.finditer(listed):
        assert "either" in fold(m.group(0))


_GAP_PIECES = [",", ", ", " as compared with ", " as com- pared with ", " compared with ", " compared to ", " vs ",
               " vs. ", " versus ", " and ", " or ", " to ", " against ", " while ", " whereas ", " in ", "in  ",
               "for", "torso", "band", "orange", "x", " ", "\n", "\u00a0", "(", ")", "12", "_", "\u00e9"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_GAP_PIECES), max_size=14).map("".join))
def test_last_connector_is_the_last_the_regex_finds(between):
    found = list(results._CONNECTOR_RE.finditer(between))
    last = results._last_connector(between)
    assert (last.span() if last else None) == (found[-1].span() if found else None)


_BRACKET_SIZE_PIECES = ["(", "( ", "(\u00a0", "(n = 12)", "(N=149;", "n", " = ", "12", "1,234", "\u0661\u0662", " ",
                        ",", ";", ")", " patients)", " participants; drug A)", " pts)", " of ", "(3 of 12)", "and ",
                        "(331, 330, and 213 patients, respectively)", " respectively)", "(95% CI", "(HR", "x"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_BRACKET_SIZE_PIECES), max_size=16).map("".join))
def test_bracketed_sizes_are_found_at_their_bracket_places(text):
    by_n, by_number = arms._bracket_places(text)
    for regex, places in ((arms._N_AFTER_RE, by_n), (arms._N_PATIENTS_RE, by_number), (arms._N_OF_RE, by_number),
                          (arms._N_PATIENTS_NAMED_RE, by_number), (arms._SIZES_RESPECTIVELY_RE, by_number)):
        expected = [(m.span(), m.groupdict()) for m in regex.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in tried_at(regex, text, places)] == expected


def _name_before_as_written(text: str, pos: int) -> str:
    chunk = text[max(0, pos - 70):pos]
    delims = list(arms._NAME_DELIM.finditer(chunk))
    cuts = [m.end() for m in delims]
    if len(delims) >= 2 and delims[-1].group(0).lower() == "or" and delims[-2].group(0) not in ",;:()":
        cuts.pop()
    tail = " " + (chunk[cuts[-1]:] if cuts else chunk).strip()
    tail = arms._CUT.split(tail, maxsplit=1)[0]
    return arms._clean(" ".join(tail.split()[-5:]))


_NAME_BEFORE_PIECES = ["drug A", "Drug B", " plus ", " or ", " OR ", " Or ", " with ", " To ", " in ", " of ", " vs ",
                       " VERSUS ", ", ", "; ", ": ", "(", ")", ".", ".5", " at a dose of ", " 10 mg", " daily", " (n",
                       " who ", " the ", "fulvestrant", "exemestane", " ", "\u00a0", "\u212a", "\u017f", "\u0130",
                       "\u0131", "\u00e9", "x" * 20]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_NAME_BEFORE_PIECES), max_size=14).map("".join))
def test_name_before_reads_the_text_as_written(text):
    for pos in range(0, len(text) + 1, 7):
        assert arms.name_before(text, pos) == _name_before_as_written(text, pos)
    assert arms.name_before(text, len(text)) == _name_before_as_written(text, len(text))
