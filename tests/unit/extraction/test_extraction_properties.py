"""Property tests: the extractor never raises, and every record's span and evidence hold its numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelines.extraction import article_facts, extract, trial_id_for
from pipelines.extraction.text import normalize

_PIECES = [
    "HR", "hazard ratio", "95% CI", "CI", "(", ")", "[", "]", ";", ",", ":", " ", "\n", "\n\n", "0.62", "0\u00b746",
    "\u2013", "\u2212", "-", "to", "P", "p=", "<", ".001", "months", "%", "vs", "versus", "n = ", "138", "of",
    "patients with", "ESR1-mutated", "overall population", "median PFS", "&amp;", "&lt;", "\u00a0", "placebo",
    "group", "assigned to", "respectively", "without", "primary end point", "\u00d710", "OS", "death",
]
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)")


def _numbers(text: str) -> set[float]:
    return {float(x) for x in _NUMBER.findall(normalize(text).text.replace(",", ""))}


def _check(text: str) -> None:
    for rec in extract(text, "prop.txt"):
        assert text[rec["span_start"]:rec["span_end"]] == rec["evidence"]
        present = _numbers(rec["evidence"])
        for key in ("value", "ci_low", "ci_high", "n", "p", "ci_level"):
            v = rec.get(key)
            # A p-value in scientific notation (9.83x10-8) is written as its parts, not as one number.
            if v is None or (key == "p" and "\u00d710" in rec["evidence"]):
                continue
            assert abs(v) in {abs(x) for x in present}, (key, v, rec["evidence"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_never_raises_on_any_text(text):
    _check(text)
    article_facts(text, text[:20])
    trial_id_for(text[:10], text[10:30])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_spans_and_numbers_on_trial_like_text(text):
    _check(text)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.05, 5).map(lambda x: round(x, 2)), st.floats(0.01, 0.9), st.floats(1.05, 3))
def test_generated_ratio_sentences_are_read_back(value, lo_factor, hi_factor):
    lo, hi = round(value * lo_factor, 2), round(value * hi_factor, 2)
    assume(0 < lo < value < hi)
    text = f"Survival was longer with the drug (HR, {value:.2f}; 95% CI, {lo:.2f}\u2013{hi:.2f})."
    (rec,) = [r for r in extract(text) if r["type"] == "estimate"]
    assert (rec["value"], rec["ci_low"], rec["ci_high"]) == (value, lo, hi)


@pytest.mark.parametrize(
    "text",
    [
        "1" * 400 + " vs " + "2" * 400 + " months",
        "HR " + "9" * 500 + " (95% CI " + "1" * 400 + "-" + "3" * 400 + ")",
        "p=9.83\u00d710" + "9" * 50,
        "(n = " + "7" * 300 + ") " + "4" * 300 + " of " + "5" * 300 + " (" + "6" * 300 + "%)",
        "((((((((((" * 200 + "0.5 (0.1-0.9)",
        "\u00b7" * 100 + "&#99999999;&amp" + "\u2013" * 100,
    ],
)
def test_extreme_numbers_and_markup_do_not_break_it(text):
    _check(text)
