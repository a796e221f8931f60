"""Axis decisions for forest plots: scale, null line, limits and ticks."""

import math

import pytest

from pipelines.reports.scales import (
    LOG10_RANGE, MAX_TICKS, axis_limits, axis_scale, is_plottable, log_ticks, null_value,
)


@pytest.mark.parametrize("measure", ["HR", "OR", "RR", "IRR", "hr"])
def test_ratio_measures_use_a_log_axis_with_null_one(measure):
    assert axis_scale(measure) == "log"
    assert null_value(measure) == 1.0


@pytest.mark.parametrize("measure", ["RD", "MD", None, ""])
def test_differences_and_unknown_measures_use_a_linear_axis_with_null_zero(measure):
    assert axis_scale(measure) == "linear"
    assert null_value(measure) == 0.0


def test_log_limits_cover_the_values_and_the_null():
    low, high = axis_limits([0.46, 0.82, 0.62], "HR")
    assert low < 0.46 and high > 1.0


def test_log_limits_ignore_values_a_log_axis_cannot_show():
    low, high = axis_limits([0.0, -0.3, math.nan, 2.5], "HR")
    assert 0 < low < 1.0 and high > 2.5


def test_log_limits_are_capped_for_absurdly_wide_intervals():
    low, high = axis_limits([1e-6, 1e6], "OR")
    assert low == pytest.approx(10 ** LOG10_RANGE[0])
    assert high == pytest.approx(10 ** LOG10_RANGE[1])


def test_linear_limits_cover_negative_differences_and_zero():
    low, high = axis_limits([-0.12, -0.05, -0.02], "RD")
    assert low < -0.12 and high > 0.0


def test_limits_without_any_value_still_frame_the_null():
    low, high = axis_limits([math.nan], "HR")
    assert low < 1.0 < high
    low, high = axis_limits([], "MD")
    assert low < 0.0 < high


def test_is_plottable_rejects_non_positive_only_on_log_axes():
    assert not is_plottable(0.0, "log")
    assert is_plottable(0.0, "linear")
    assert not is_plottable(math.inf, "linear")


@pytest.mark.parametrize("limits", [(0.4, 1.3), (0.3, 1.1), (0.05, 3.0), (0.01, 100.0), (0.9, 1.1)])
def test_log_ticks_fall_inside_the_limits_and_stay_few(limits):
    ticks = log_ticks(*limits)
    assert 2 <= len(ticks) <= MAX_TICKS
    assert all(limits[0] <= t <= limits[1] for t in ticks)
    assert ticks == sorted(ticks)


def test_log_ticks_mark_the_null():
    assert 1.0 in log_ticks(0.35, 1.5)
