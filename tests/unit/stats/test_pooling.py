"""Tests of pipelines.stats.pooling against R metafor 3.8.1 reference values and hand computations."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pipelines.stats.pooling import pool

GOLDEN = Path(__file__).resolve().parents[3].parent / "shared" / "stats" / "golden.json"
# golden.json fit name -> (method, test) as passed to metafor's rma()
FITS = {
    "REML_knha": ("REML", "knha"),
    "REML_z": ("REML", "z"),
    "REML_adhoc": ("REML", "adhoc"),
    "DL_z": ("DL", "z"),
    "DL_knha": ("DL", "knha"),
    "PM_z": ("PM", "z"),
    "FE": ("FE", "z"),
}
FIELDS = ("mu", "se", "ci_lb", "ci_ub", "pval", "tau2", "I2", "QE", "QEp", "pi_lb", "pi_ub")


def _golden() -> dict:
    if not GOLDEN.exists():
        pytest.skip(f"metafor reference values not found at {GOLDEN}")
    return json.loads(GOLDEN.read_text())


def _golden_params() -> list:
    if not GOLDEN.exists():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{GOLDEN} is absent"))]
    cases = json.loads(GOLDEN.read_text())
    return [pytest.param(case, fit, id=f"{case}-{fit}")
            for case, body in cases.items() for fit in body["fits"]]


@pytest.mark.parametrize(("case", "fit"), _golden_params())
def test_reproduces_metafor(case, fit):
    body = _golden()[case]
    got = pool(body["yi"], body["vi"], *FITS[fit])
    assert got.k == body["k"]
    for field in FIELDS:
        want = body["fits"][fit][field]
        value = getattr(got, field)
        if want is None:
            assert math.isnan(value), f"{field}: metafor gives none, got {value}"
        else:
            tol = 1e-2 if field == "I2" else 1e-4
            assert value == pytest.approx(want, abs=tol), field


def test_golden_covers_every_fit_named_in_its_readme():
    cases = _golden()
    assert len(cases) == 5
    assert all(set(body["fits"]) == set(FITS) for body in cases.values())


def test_two_equally_precise_studies_by_hand():
    # y = (0, 2), v = (1, 1): Q = 2, and DL, PM and REML all solve to tau2 = 1, so each
    # study weighs 1/2, mu = 1 and se = 1; typical variance s2 = 1 gives I2 = 50%.
    for method in ("REML", "DL", "PM"):
        got = pool([0.0, 2.0], [1.0, 1.0], method=method, test="z")
        assert got.tau2 == pytest.approx(1.0, abs=1e-9)
        assert got.mu == pytest.approx(1.0)
        assert got.se == pytest.approx(1.0)
        assert (got.ci_lb, got.ci_ub) == pytest.approx((1 - 1.959964, 1 + 1.959964), abs=1e-6)
        assert (got.pi_lb, got.pi_ub) == pytest.approx(
            (1 - 1.959964 * math.sqrt(2), 1 + 1.959964 * math.sqrt(2)), abs=1e-6)
        assert got.I2 == pytest.approx(50.0)
        assert got.QE == pytest.approx(2.0)
        assert got.QEp == pytest.approx(0.157299, abs=1e-6)  # chi-square(1) tail beyond 2


def test_hksj_by_hand():
    # Same studies: the HKSJ factor sum w (y - mu)^2 / (k - 1) = 1, so se stays 1 and the
    # interval uses t with 1 df (12.7062); p = 2 P(T1 > 1) = 0.5.
    got = pool([0.0, 2.0], [1.0, 1.0], method="REML", test="knha")
    assert (got.ci_lb, got.ci_ub) == pytest.approx((1 - 12.7062, 1 + 12.7062), abs=1e-4)
    assert got.pval == pytest.approx(0.5)


def test_fixed_effect_is_the_weighted_mean_and_has_no_prediction_interval():
    # weights 4 and 1: mu = (4*0 + 1*1)/5 = 0.2, se = 1/sqrt(5)
    got = pool([0.0, 1.0], [0.25, 1.0], method="FE", test="z")
    assert got.mu == pytest.approx(0.2)
    assert got.se == pytest.approx(1 / math.sqrt(5))
    assert got.tau2 == 0.0
    assert math.isnan(got.pi_lb) and math.isnan(got.pi_ub)


def test_adhoc_never_narrower_than_knha():
    y, v = [-0.20, -0.22, -0.19, -0.21], [0.010, 0.020, 0.015, 0.012]
    knha, adhoc = pool(y, v, test="knha"), pool(y, v, test="adhoc")
    z = pool(y, v, test="z")
    assert knha.se < z.se  # these estimates agree far better than their variances suggest
    assert adhoc.se == pytest.approx(z.se)


def test_single_study_returns_itself():
    got = pool([0.3], [0.04], method="REML", test="knha")
    assert (got.k, got.mu, got.se, got.tau2, got.QE) == (1, 0.3, pytest.approx(0.2), 0.0, 0.0)
    for field in ("ci_lb", "ci_ub", "pval", "I2", "QEp", "pi_lb", "pi_ub"):
        assert math.isnan(getattr(got, field)), field
    z = pool([0.3], [0.04], method="DL", test="z")
    assert (z.ci_lb, z.ci_ub) == pytest.approx((0.3 - 1.959964 * 0.2, 0.3 + 1.959964 * 0.2))
    assert z.pval == pytest.approx(2 * stats.norm.sf(1.5))


def test_level_changes_the_critical_value():
    got = pool([0.0, 2.0], [1.0, 1.0], method="DL", test="z", level=90.0)
    assert got.ci_ub - got.mu == pytest.approx(1.644854, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"yi": [0.1], "vi": [0.0]}, "positive"),
        ({"yi": [0.1, np.nan], "vi": [0.1, 0.1]}, "finite"),
        ({"yi": [0.1, 0.2], "vi": [0.1]}, "equal length"),
        ({"yi": [], "vi": []}, "non-empty"),
        ({"yi": [0.1], "vi": [0.1], "method": "HS"}, "method"),
        ({"yi": [0.1], "vi": [0.1], "test": "t"}, "test"),
        ({"yi": [0.1], "vi": [0.1], "level": 150.0}, "level"),
    ],
)
def test_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool(**kwargs)


studies = st.integers(min_value=2, max_value=8).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-2, 2), min_size=k, max_size=k),
        st.lists(st.floats(0.005, 1.0), min_size=k, max_size=k),
    )
)


def _restricted_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return -0.5 * (np.sum(np.log(v + tau2)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))


@settings(max_examples=60, deadline=None)
@given(studies)
def test_reml_tau2_is_a_maximum_of_the_restricted_likelihood(data):
    y, v = map(np.array, data)
    tau2 = pool(y, v, method="REML").tau2
    step = 1e-4 * max(tau2, 1e-2)
    at = _restricted_loglik(tau2, y, v)
    assert at >= _restricted_loglik(tau2 + step, y, v) - 1e-12
    if tau2 > 0:
        assert at >= _restricted_loglik(tau2 - step, y, v) - 1e-12


@settings(max_examples=60, deadline=None)
@given(studies)
def test_paule_mandel_sets_generalized_q_to_its_expectation(data):
    y, v = map(np.array, data)
    tau2 = pool(y, v, method="PM").tau2
    w = 1 / (v + tau2)
    q_gen = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
    if tau2 > 0:
        assert q_gen == pytest.approx(len(y) - 1, rel=1e-8)
    else:
        assert q_gen <= len(y) - 1


@settings(max_examples=60, deadline=None)
@given(studies, st.floats(-3, 3), st.sampled_from(["REML", "DL", "PM"]))
def test_shift_moves_only_the_location(data, shift, method):
    y, v = map(np.array, data)
    base, moved = pool(y, v, method=method), pool(y + shift, v, method=method)
    assert moved.mu == pytest.approx(base.mu + shift, abs=1e-9)
    assert moved.ci_lb == pytest.approx(base.ci_lb + shift, abs=1e-8)
    assert moved.tau2 == pytest.approx(base.tau2, abs=1e-9)
    assert moved.QE == pytest.approx(base.QE, rel=1e-6, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(studies, st.randoms(use_true_random=False))
def test_order_of_studies_does_not_matter(data, rng):
    y, v = data
    order = list(range(len(y)))
    rng.shuffle(order)
    base = pool(y, v)
    shuffled = pool([y[i] for i in order], [v[i] for i in order])
    assert shuffled.mu == pytest.approx(base.mu, abs=1e-12)
    assert shuffled.tau2 == pytest.approx(base.tau2, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(studies, st.sampled_from(["REML", "DL", "PM"]), st.sampled_from(["z", "knha", "adhoc"]))
def test_prediction_interval_contains_confidence_interval(data, method, test):
    got = pool(*data, method=method, test=test)
    assert got.tau2 >= 0
    assert 0 <= got.I2 <= 100
    assert got.pi_lb <= got.ci_lb <= got.mu <= got.ci_ub <= got.pi_ub
