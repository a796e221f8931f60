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
