"""Shortcuts of the estimate and context steps: each finds exactly what the plain code it stands for finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extraction import context, estimates, numbers, vocab
from pipelines.extraction.prefilter import fold, lower_ascii

_ENDPOINT_PIECES = ["overall survival", "OS", "os", "CV death or HHF", "death", "deaths", "PFS2", "PFS", "mPFS",
                    "primary end point", "primary composite", "hospitalization for heart failure", " or ",
                    "cardiovascular death", "adverse events", "TRAEs", "aes", "composite of", "kidney", "rash", "MI",
                    "disease progression or death", "progression or death", "rPFS", "x2", "2PFS", ".", "\n",
                    " ", ", ", "(", ")", "x", "_", "\u00e9", "the", "2", "-", "(SNO)", "serious net outcome"]
_TEXT = st.lists(st.sampled_from(_ENDPOINT_PIECES), max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(0, 60), st.integers(0, 300))
def test_endpoint_matches_are_those_of_the_alternation(text, start, end):
    lowered = lower_ascii(text)
    expected = [(m.start(), m.end(), m.lastindex) for m in vocab._ENDPOINT_LOWER_RE.finditer(lowered, start, end)]
    assert vocab.endpoint_matches(lowered, start, min(end, len(lowered))) == expected


def test_opening_letters_see_through_optional_openings():
    assert vocab._opening_letters(r"\bm?pfs\b") == "mp"
    assert vocab._opening_letters(r"(?:disease )?progression or death") == "dp"
    assert vocab._opening_letters(r"\bt?r?aes?\b") == "art"
    assert vocab._opening_letters(r"(?=q)[a-c]x") == "abc"
    assert vocab._opening_letters(r"\w+") == vocab.ascii_lowercase
    assert vocab._opening_letters(r"[^a]b") == vocab.ascii_lowercase
    assert vocab._opening_letters(r"a?") == vocab.ascii_lowercase
    assert vocab._opening_letters(r"(?i:a)b") == vocab.ascii_lowercase


def _after_window_by_characters(text: str, start: int, limit: int) -> int:
    depth = 0
    end = min(limit, start + 90)
    for i in range(start, end):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                return i
    return end


def _open_paren_before_by_characters(text: str, start: int, pos: int) -> int | None:
    depth = 0
    for i in range(pos - 1, start - 1, -1):
        ch = text[i]
        if ch in ")]":
            depth += 1
        elif ch in "([":
            if depth == 0:
                return i
            depth -= 1
    return None


_BRACKETED = st.text(alphabet=st.sampled_from("()[]x ;,0."), max_size=200)


@settings(max_examples=300, deadline=None)
@given(_BRACKETED, st.integers(0, 220), st.integers(0, 220))
def test_bracket_scans_step_over_what_the_character_loops_step_over(text, a, b):
    limit = min(b, len(text))
    assert estimates._after_window(text, a, limit) == _after_window_by_characters(text, a, limit)
    pos = min(b, len(text))
    assert estimates._open_paren_before(text, a, pos) == _open_paren_before_by_characters(text, a, pos)


def _mentions_as_written(doc: context.Doc, start: int, end: int) -> list[tuple[int, int, str]]:
    found = []
    if doc.sents and end > start:
        first = context.sentence_index(doc, start)
        last = context.sentence_index(doc, max(start, end - 1))
        for si in range(first, last + 1):
            found.extend(m for m in context._sentence_mentions(doc, si) if m[0] >= start and m[1] <= end)
    return context._without_composite_items(doc, end, found)


_ARTICLE_PIECES = ["The primary end point was progression-free survival (PFS). ", "Overall survival (OS) ",
                   "the composite of CV death, MI, or stroke occurred in 10%. ", "MACE ", "HR 0.62 ",
                   "The primary composite outcome of death or hospitalization for heart failure was lower. ",
                   "Serious net outcome (SNO) was reached.\n", "deaths ", "adverse events ", "\n\n", "; ", "x"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_ARTICLE_PIECES), min_size=1, max_size=12).map("".join),
       st.integers(0, 400), st.integers(0, 400))
def test_mentions_are_those_of_the_plain_reading(text, start, end):
    if not text.strip():
        return
    doc = context.prepare(text)
    assert context.mentions(doc, start, end) == _mentions_as_written(doc, start, end)


_CLAIM_PIECES = ["not significant", "NOT SIGNIFICANTLY", "significantly", "insignificant", "non-significant",
                 "no statistically significant difference", "HR 0.62 (95% CI, 0.5-0.8)", " ", ", ", "\u212a", "x"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_CLAIM_PIECES), min_size=1, max_size=16).map("".join), st.integers(0, 300))
def test_claims_read_from_the_folded_article_are_those_of_the_window(text, at):
    if not text.strip():
        return
    doc = context.prepare(text)
    fig = estimates.FigureCI(min(at, len(doc.text) - 1), len(doc.text), 1.0, None, None, None, None, False)
    est = estimates.Estimate(fig, "HR", 0, fig.start, None, None)
    window_start = max(0, fig.start - 160)
    chunk = doc.text[window_start:est.end]
    folded = fold(chunk)
    expected = None
    if estimates._SIGNIFICANT_NEG_FILTER.may_match(folded) and estimates._SIGNIFICANT_NEG_RE.search(chunk):
        expected = False
    elif estimates._SIGNIFICANT_POS_FILTER.may_match(folded) and estimates._SIGNIFICANT_POS_RE.search(chunk):
        expected = True
    assert estimates._claimed(doc, 0, est) == expected


_NUMBER_PIECES = ["HR", "HRs", "hr", "Hazard ratio", "HAZARD RATIOS", "hazard", "OR", "odds ratio", "IRR", "RR",
                  "incidence rate ratio", "rate ratios", "risk ratio", "relative risk", "relative risk reduction",
                  "risk difference", "absolute difference", "estimated treatment differences", "between-group",
                  "mean difference", "MD", "ARD", "\u0394", "\u0130", "\u0131", "\u212a", "\u017f", "receptor (",
                  "0.62", "-1.5", ".5", "(95% CI, 0.5-0.8)", "[0.4 to 0.9]", "2", "x", "_", ".", " ", ", ", "=",
                  "(", ")", "\u00b2", "\u0663", "P = .01", "p<0.001", "two-sided P value = 0.2", "Nominal p",
                  "log-rank", "P-values <", "p \u2264 0.05", "x10-3", "; < 0.01", "Pp", "P"]
_NUMBER_TEXT = st.lists(st.sampled_from(_NUMBER_PIECES), max_size=16).map("".join)


@settings(max_examples=400, deadline=None)
@given(_NUMBER_TEXT, st.integers(0, 40), st.integers(0, 200))
def test_finders_lead_to_every_match_of_their_regex(text, start, end):
    for regex, finder, offset in ((numbers.CUE_RE, numbers._CUE_FINDER_RE, 1),
                                  (numbers.FIGURE_CI_RE, numbers.FIGURE_CI_FINDER_RE, 0),
                                  (numbers.P_RE, numbers._P_FINDER_RE, 1)):
        expected = [(m.span(), m.groups()) for m in regex.finditer(text, start, end)]
        got = [(m.span(), m.groups()) for m in numbers.word_matches(regex, finder, text, start, end, offset)]
        assert got == expected, regex.pattern


_VOCAB_PIECES = ["ESR1", "esr1-mutated", "ESR1 mutation", "mutations in ESR1", "PIK3CA", "AKT pathway alteration",
                 "TP53 co-mutation", "harbouring single", "or multiple", "CPS \u226510", "CPS of 10 or more",
                 "PD-L1 positive", "HER2-low", "HER2 (low)", "IHC 0", "HR+ cohort", "HR-negative patients",
                 "BRCA1/2-mutated", "EGFR mutant", "prior CDK4/6i", "exposed to CDK4/6", "CDK4/6i >=12 months",
                 "in Asia", "Asian patients", "East Asia", "North American", "from Europe", "European subgroup",
                 "aged \u226565 years", "aged 65 years or older", "aged 50 to 64", "<65 years", "younger patients",
                 "age >=70", "among women", "female patients", "in men", "with type 2 diabetes", "diabetic cohort",
                 "non-diabetic", "glycated hemoglobin less than 8%", "eGFR <60", "micro/macroalbuminuria",
                 "LVEF 41-49%", "nodal involvement positive", "N0 disease", "node-negative subgroup",
                 "disease stage III", "stage IIIA disease", "postmenopausal", "Ki-67H", "high Ki-67", "Ki-67 >=20%",
                 "peripheral artery disease", "in patients with", "in the 41-49% group", "overall population",
                 "this subgroup", "the subgroup", "visceral subgroup", "subset", "cohort without", "in those who had",
                 "30% of patients with", "\u212a", "\u0130", "\u017f", "\u0131", " ", ", ", "(", ")", "x", "2",
                 "among the 120 patients whose", "for those who have", "In women without", "ITT", "intent-to-treat",
                 "all randomized participants", "entire cohort", "regardless of", "patients enrolled during",
                 "in the \u226565% stratum", "for the 41 - 49 % category", "cohort of patients without"]
_VOCAB_TEXT = st.lists(st.sampled_from(_VOCAB_PIECES), max_size=12).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_VOCAB_TEXT)
def test_requirements_of_the_vocabulary_are_in_every_match(text):
    folded = fold(text)
    index = vocab._vocabulary_index()
    for k, (_term, pat) in enumerate(index.patterns):
        for m in pat.finditer(text):
            segment = folded[m.start():m.end()]
            assert index.live(segment, [k]) == [k], pat.pattern
    for m in vocab.BAND_RE.finditer(text):
        assert "%" in m.group(0)
    for regex, needs in ((vocab.PATIENTS_WITH_RE, vocab._PATIENTS_WITH_NEEDS), (vocab.BAND_RE, vocab._BAND_NEEDS),
                         (vocab.OVERALL_RE, vocab._OVERALL_NEEDS),
                         (vocab.GENERIC_SUBGROUP_RE, vocab._GENERIC_SUBGROUP_NEEDS)):
        for m in regex.finditer(text):
            assert vocab._meets(folded[m.start():m.end()], needs), regex.pattern


def test_requirements_are_read_from_the_parsed_pattern():
    import re
    assert vocab.regex_requirements(re.compile(r"\bAsian (?:patients|participants|subgroup)\b", re.I)) == (
        ("patients", "participants", "subgroup"), ("asian ",))
    assert vocab.regex_requirements(re.compile(r"a?b[cd]e{2}(?=xyz)", re.I)) == (("b",), ("e",))
    assert vocab.regex_requirements(re.compile(r"\u2265x|y")) == (("x", "y"),)
    assert vocab.regex_requirements(re.compile(r"x|\d")) == ()


@settings(max_examples=300, deadline=None)
@given(_VOCAB_TEXT, st.integers(0, 40), st.integers(0, 400))
def test_generic_subgroups_found_through_the_finder_are_the_regex_matches(text, start, end):
    folded = fold(text)
    expected = [m.span() for m in vocab.GENERIC_SUBGROUP_RE.finditer(text, start, end)]
    got = [m.span() for m in vocab._generic_subgroup_matches(text, start, end, folded[start:end], folded)]
    assert got == expected


_PROSE_PIECES = ["Patients were randomly assigned", "ENROLLED", "eligible", "inclusion", "randomised 300",
                 "with\nwrapped lines", "\n\n", "\n", ". ", "A", "b", " ", "; ", "HR 0.62.", "\u212a", "- "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PROSE_PIECES), min_size=1, max_size=20).map("".join))
def test_prepare_reads_lines_and_enrolment_as_the_plain_loops_do(text):
    if not text.strip():
        return
    doc = context.prepare(text)
    sents = context.sentences(context.normalize(text).text)
    unwrapped = context._unwrap_by_characters(context.normalize(text), sents)
    assert doc.text == unwrapped.text
    expected = frozenset().union(*(vocab.content_words(doc.text[t.start:t.end]) for t in doc.sents
                                   if context._ENROLMENT_RE.search(doc.text, t.start, t.end)))
    assert doc.trial_words == expected
    assert doc.enrolment == {t.start for t in doc.sents if context._ENROLMENT_RE.search(doc.text, t.start, t.end)}


def _to_float_as_written(s: str) -> float | None:
    import math
    try:
        value = float(s.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) < numbers.MAX_MAGNITUDE else None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(["nan", "-inf", "inf", "1e9", "-1e9", "999999999.9", "-999999999.9", "1,000",
                                  "1e400", ".5", "-0", "x", ""]),
                 st.floats(allow_nan=True).map(repr), st.text(alphabet="0123456789.,-e", max_size=12)))
def test_to_float_keeps_finite_figures_below_the_magnitude(s):
    assert repr(numbers.to_float(s)) == repr(_to_float_as_written(s))


@settings(max_examples=300, deadline=None)
@given(_NUMBER_TEXT)
def test_ratios_without_an_interval_need_a_decimal(text):
    # sentence_estimates skips a sentence without intervals or a digit, a dot and a digit.
    if estimates._DECIMAL_RE.search(text):
        return
    cues = numbers.measure_cues(text, 0, len(text))
    assert numbers.ratios_without_ci(text, 0, len(text), [], cues) == []


@settings(max_examples=300, deadline=None)
@given(_VOCAB_TEXT)
def test_gated_strings_find_the_candidates_each_string_finds(text):
    folded = fold(text)
    index = vocab._vocabulary_index()
    expected = set(index.always)
    for string, users in zip(index.strings, index.users):
        if string in folded:
            expected.update(users)
    assert index.candidates(folded) == sorted(expected)


def test_gates_are_pieces_of_their_strings():
    plan = vocab._gated(("diabetes", "diabetic", "diabet", "stage ", "age ", "x"))
    for piece, group in plan:
        assert group is None or (len(group) >= 2 and all(piece in s for s in group))
    assert sorted(s for piece, group in plan for s in (group or (piece,))) == sorted(
        ("diabetes", "diabetic", "diabet", "stage ", "age ", "x"))


def _primary_endpoint_as_written(doc: context.Doc) -> str | None:
    abbreviated = "PRIMARY" in doc.abbreviations.values()
    for sent in doc.sents:
        if not abbreviated and doc.lowered.find("primary", sent.start, sent.end) == -1:
            continue
        found = context.mentions(doc, sent.start, sent.end)
        for s, _e, label in found:
            if label != "PRIMARY" and doc.text[s:s + 7].lower() == "primary":
                return label
        prim = [m for m in found if m[2] == "PRIMARY"]
        others = [m for m in found if m[2] != "PRIMARY"]
        if prim and others:
            p0 = prim[0][0]
            return min(others, key=lambda m: (abs(m[0] - p0) + (0 if m[0] > p0 else 10)))[2]
    for si in range(min(len(doc.sents), context.LOOK_BACK)):
        named = [m for m in context.mentions(doc, doc.sents[si].start, doc.sents[si].end) if m[2] != "PRIMARY"]
        if named:
            return named[0][2]
    return None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_ARTICLE_PIECES + ["Primary", "PRIMARY end point (PEP) ", "primaryx", "PEP was OS. "]),
                min_size=1, max_size=12).map("".join))
def test_primary_endpoint_reads_the_sentences_the_plain_loop_reads(text):
    if not text.strip():
        return
    doc = context.prepare(text)
    assert doc.primary == _primary_endpoint_as_written(doc)


_NOT_ESTIMATE_PIECES = ["number needed to treat", "NNT", "NNTs", "posterior", "Posterior", "powered", "to detect",
                        "per 1-point", "PER SD", "per 10 units", "per %", "HR 0.62 (95% CI, 0.5-0.8)", " ", ", ",
                        "\u212a", "\u017f", "x", "2"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NOT_ESTIMATE_PIECES), max_size=12).map("".join), st.integers(0, 100),
       st.integers(0, 200))
def test_not_an_estimate_words_are_in_every_match(text, start, end):
    folded = fold(text)
    for m in numbers.NOT_AN_ESTIMATE_RE.finditer(text, start, end):
        assert estimates._has_all(folded, estimates._NOT_AN_ESTIMATE_NEEDS, m.start(), m.end())
