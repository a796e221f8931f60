"""Text printed on forest plots."""

import math

import pytest

from pipelines.reports.labels import (
    format_estimate, format_interval, format_number, format_p, p_phrase, truncate,
)


def test_estimate_with_ci_reads_like_a_journal():
    assert format_estimate(0.62, 0.46, 0.82) == "0.62 (0.46–0.82)"


def test_published_trailing_zeros_are_kept():
    assert format_estimate(1.0, 0.79, 1.27) == "1.00 (0.79–1.27)"


@pytest.mark.parametrize("low, high", [(math.nan, 0.82), (0.46, math.nan), (math.nan, math.nan)])
def test_incomplete_ci_prints_the_point_only(low, high):
    assert format_estimate(0.62, low, high) == "0.62"


def test_missing_value_is_said_plainly():
    assert format_estimate(math.nan, 0.4, 0.9) == "not reported"


def test_negative_limits_use_to_instead_of_a_dash():
    assert format_interval(-1.2, 0.3) == "-1.20 to 0.30"


@pytest.mark.parametrize(
    "x, expected", [(123.4, "123"), (12.34, "12.3"), (0.5, "0.50"), (0.034, "0.034"), (0.0, "0.00")]
)
def test_number_precision_follows_magnitude(x, expected):
    assert format_number(x) == expected


@pytest.mark.parametrize(
    "p, relation, expected",
    [
        (0.12, None, "0.12"),
        (0.008, "=", "0.008"),
        (0.0043, None, "0.004"),
        (0.0004, None, "<0.001"),
        (0.001, "<", "<0.001"),
        (0.0001, "<", "<0.0001"),
        (0.997, None, ">0.99"),
        (math.nan, None, ""),
    ],
)
def test_p_values(p, relation, expected):
    assert format_p(p, relation) == expected


def test_p_phrase_puts_spaces_around_the_relation():
    assert p_phrase(0.857) == "p = 0.86"
    assert p_phrase(0.0002) == "p < 0.001"


def test_truncate_marks_the_cut():
    assert truncate("ESR1 mutation status = mutated", 10) == "ESR1 muta…"
    assert truncate("short", 10) == "short"
