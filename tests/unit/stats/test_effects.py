"""Tests of pipelines.stats.effects with published and hand-computed values."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.stats.effects import complement, interaction, p_from_z, se_from_ci, z_crit
from pipelines.stats.pooling import pool


@pytest.mark.parametrize(("level", "want"), [(95, 1.959964), (90, 1.644854), (99, 2.575829)])
def test_z_crit_matches_tables(level, want):
    assert z_crit(level) == pytest.approx(want, abs=1e-6)


def test_z_crit_is_vectorized():
    assert np.allclose(z_crit([90, 95]), [1.644854, 1.959964], atol=1e-6)


def test_altman_bland_worked_example():
    # BMJ 2011;343:d2304: RR 0.81 (0.70 to 0.94) gives se 0.075, z -2.81, P = 0.005.
    se = se_from_ci(0.70, 0.94, 95, ratio=True)
    z = math.log(0.81) / se
    assert se == pytest.approx(0.075, abs=5e-4)
    assert z == pytest.approx(-2.81, abs=0.01)
    assert p_from_z(z) == pytest.approx(0.005, abs=5e-4)


@pytest.mark.parametrize(("low", "high", "level"), [(1.0, 4.919928, 95), (-1.644854, 1.644854, 90)])
def test_se_from_ci_of_a_difference(low, high, level):
    # Both intervals are 2 z* wide, so the standard error is 1.
    assert se_from_ci(low, high, level, ratio=False) == pytest.approx(1.0, abs=1e-6)


def test_se_from_ci_of_a_ratio_is_on_the_log_scale():
    # ln(e) - ln(1/e) = 2, over 2 * 1.959964
    assert se_from_ci(1 / math.e, math.e, 95, ratio=True) == pytest.approx(1 / 1.959964, abs=1e-6)


def test_se_from_ci_gives_nan_for_non_positive_ratio_limits():
    got = se_from_ci([0.0, 0.5], [1.2, 2.0], 95, ratio=True)
    assert math.isnan(got[0]) and got[1] > 0


@pytest.mark.parametrize(("z", "want"), [(0.0, 1.0), (1.959964, 0.05), (-2.575829, 0.01), (2.0, 0.0455003)])
def test_p_from_z_two_sided(z, want):
    assert p_from_z(z) == pytest.approx(want, abs=1e-6)


def test_complement_by_hand():
    # w_O = 5, w_S = 1, so w_C = 4 (se 0.5) and y_C = (5 * 0.2 - 1 * 1.0) / 4 = 0.
    y_c, se_c = complement(0.2, 1 / math.sqrt(5), 1.0, 1.0)
    assert y_c == pytest.approx(0.0, abs=1e-12)
    assert se_c == pytest.approx(0.5)


def test_complement_of_ember3_esr1_mutated_pfs():
    # STATISTICS.md: overall 0.87 (0.72-1.04) and ESR1-mutated 0.62 (0.46-0.82) give a
    # complement of about 1.10 (0.86-1.39).
    y_c, se_c = complement(math.log(0.87), se_from_ci(0.72, 1.04),
                           math.log(0.62), se_from_ci(0.46, 0.82))
    half = 1.959964 * se_c
    assert math.exp(y_c) == pytest.approx(1.10, abs=0.005)
    assert math.exp(y_c - half) == pytest.approx(0.86, abs=0.005)
    assert math.exp(y_c + half) == pytest.approx(1.39, abs=0.005)


@pytest.mark.parametrize(
    ("y_o", "se_o", "y_s", "se_s"),
    [(0.0, 0.2, 0.1, 0.2), (0.0, 0.3, 0.1, 0.2), (0.0, float("nan"), 0.1, 0.2), (0.0, 0.1, 0.1, 0.0)],
)
def test_no_complement_without_information_left(y_o, se_o, y_s, se_s):
    assert complement(y_o, se_o, y_s, se_s) is None


@settings(max_examples=80, deadline=None)
@given(st.floats(-2, 2), st.floats(0.01, 1), st.floats(-2, 2), st.floats(1.05, 10))
def test_subgroup_and_complement_recombine_into_the_overall(y_o, se_o, y_s, ratio):
    se_s = se_o * ratio
    y_c, se_c = complement(y_o, se_o, y_s, se_s)
    both = pool([y_s, y_c], [se_s**2, se_c**2], method="FE", test="z")
    assert both.mu == pytest.approx(y_o, abs=1e-8)
    assert both.se == pytest.approx(se_o, rel=1e-8)


def test_interaction_by_hand():
    # d = 1 - 0 = 1, se_d = sqrt(0.3^2 + 0.4^2) = 0.5, z = 2.
    d, se_d, lo, hi, p = interaction(1.0, 0.3, 0.0, 0.4)
    assert (d, se_d) == pytest.approx((1.0, 0.5))
    assert (lo, hi) == pytest.approx((1 - 0.979982, 1 + 0.979982), abs=1e-6)
    assert p == pytest.approx(0.0455003, abs=1e-6)


def test_interaction_is_vectorized_and_uses_the_level():
    d, se_d, lo, hi, p = interaction([1.0, 0.0], [0.3, 0.6], [0.0, 0.0], [0.4, 0.8], level=90)
    assert np.allclose(se_d, [0.5, 1.0])
    assert np.allclose(hi - d, [0.5 * 1.644854, 1.644854], atol=1e-6)
    assert p[1] == pytest.approx(1.0)
