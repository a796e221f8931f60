"""Shortcuts in sentence splitting, article context and the number grammar find exactly what the plain code finds."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.extraction import text

_BREAK_PIECES = ["Dr", "A", "x", "trial", "0.5", ".", ". ", "! ", "? ", "!", "?", ".\" ", ".) ", ".]\n", "?'\t", "\n",
                 "\n\n", " ", "\u00a0", "\u3000", "\x1c", "\x85", "\"", ")", "]"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_BREAK_PIECES), max_size=30).map("".join))
@example("It was 0.5. Really? Yes!\n\"Done.\" (End.)\x1cx")
def test_breaks_are_where_the_break_pattern_matches(sample):
    assert text._breaks(sample) == [m.start() for m in text._BREAK.finditer(sample)]


_SPECIAL_PIECES = ["a", " ", "?", "&amp;", "&", "\r\n", "\t", "\u00b7", "\u2013", "\u2014", "\u00a0", "\u3000", "\u00ad",
                   "\u201c", "\u2019", "\u00b2", "\u207b", "\u00e9", "\u2264", "\U0001d7d8", "\ud800"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SPECIAL_PIECES), max_size=30).map("".join))
def test_special_positions_are_where_the_special_class_matches(sample):
    assert text._special_positions(sample) == [m.start() for m in text._SPECIAL.finditer(sample)]


_ABBREV_PIECES = ["vs", "e.g", "i.e", "al", "Dr", "Fig", "approx", "no", "No", "ca", "cf", "Inc", "Ltd", "St", "A", "Z",
                  "x", "trial", "total", "xvs", "_", "\u00e9", "\u00c9", "1", ".", " ", "(", "\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_ABBREV_PIECES), max_size=12).map("".join))
@example("Dr. A. Marlow et al. vs. approx. e.g. i.e. Fig. 2, Inc. Ltd. St. No. no. ca. cf.")
def test_stops_that_may_end_an_abbreviation_are_all_the_regex_finds(sample):
    for pos in range(1, len(sample)):
        if sample[pos] == "." and text._ABBREV.match(sample, pos, pos + 1):
            assert text._may_end_abbreviation(sample, pos), (sample, pos)
