"""Inverse-variance meta-analysis of one effect per study, computed as R metafor's rma() does."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

METHODS = ("REML", "DL", "PM", "FE")
TESTS = ("z", "knha", "adhoc")

# Upper end of the tau2 search for the iterative estimators; it is widened if ever too small.
_TAU2_START_MAX = 100.0


@dataclass(frozen=True)
class PoolResult:
    """A pooled estimate with its uncertainty and heterogeneity, named as metafor names them.

    `mu`, `se`, the CI and the prediction interval are on the scale of the inputs (the log
    scale for ratio measures); `I2` is in percent; `QE`/`QEp` are Cochran's Q and its
    chi-square p-value on k-1 df.
    """

    k: int
    method: str
    test: str
    mu: float
    se: float
    ci_lb: float
    ci_ub: float
    pval: float
    tau2: float
    I2: float
    QE: float
    QEp: float
    pi_lb: float
    pi_ub: float


def pool(yi, vi, method: str = "REML", test: str = "knha", level: float = 95.0) -> PoolResult:
    """Pool estimates `yi` with sampling variances `vi`, like metafor's rma(yi, vi, method, test).

    method: "REML", "DL" (DerSimonian-Laird), "PM" (Paule-Mandel) or "FE" (fixed effect).
    test: "z" (normal), "knha" (Hartung-Knapp-Sidik-Jonkman, t with k-1 df) or "adhoc"
    (HKSJ with its variance factor truncated below at 1). The prediction interval is
    mu +- crit * sqrt(tau2 + se^2) with the same critical value as the CI, and NaN for FE.
    A single study gives its own estimate and standard error with tau2 = 0, and NaN for
    what needs two studies (I2, Q's p-value, the prediction interval, t-based CI and p).
    """
    y, v = _check_inputs(yi, vi, method, test, level)
    k = y.size
    q, q_p = _cochran_q(y, v)
    tau2 = 0.0 if k == 1 else _TAU2_ESTIMATORS[method](y, v)
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(np.sqrt(_variance_factor(y, w, mu, test) / np.sum(w)))
    t_defined = k > 1 or test == "z"  # a t reference needs k - 1 >= 1 df
    dist = stats.norm() if test == "z" else stats.t(df=max(k - 1, 1))
    crit = float(dist.ppf(0.5 + level / 200.0)) if t_defined else float("nan")
    pval = _two_sided_p(mu, se, dist) if t_defined else float("nan")
    pi_half = crit * np.sqrt(tau2 + se**2) if method != "FE" and k > 1 else float("nan")
    return PoolResult(
        k=k, method=method, test=test, mu=mu, se=se,
        ci_lb=mu - crit * se, ci_ub=mu + crit * se, pval=pval,
        tau2=tau2, I2=_i_squared(method, q, tau2, v), QE=q, QEp=q_p,
        pi_lb=float(mu - pi_half), pi_ub=float(mu + pi_half),
    )


def _check_inputs(yi, vi, method: str, test: str, level: float) -> tuple[np.ndarray, np.ndarray]:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, not {test!r}")
    if not 0.0 < level < 100.0:
        raise ValueError(f"level is a percentage in (0, 100), not {level!r}")
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size == 0 or y.size != v.size:
        raise ValueError("yi and vi must be non-empty and of equal length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("yi must be finite, and vi finite and positive")
    return y, v


def _two_sided_p(mu: float, se: float, dist) -> float:
    """p-value of mu / se; HKSJ gives se = 0 for identical estimates, then z is +-inf or NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(2.0 * dist.sf(np.abs(np.float64(mu) / se)))


def _cochran_q(y: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    w = 1.0 / v
    mu_fe = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - mu_fe) ** 2))
    q_p = float(stats.chi2.sf(q, y.size - 1)) if y.size > 1 else float("nan")
    return q, q_p


def _variance_factor(y: np.ndarray, w: np.ndarray, mu: float, test: str) -> float:
    """Hartung-Knapp's multiplier of the model variance 1/sum(w); 1 for the z test."""
    if test == "z" or y.size == 1:
        return 1.0
    factor = float(np.sum(w * (y - mu) ** 2) / (y.size - 1))
    return max(factor, 1.0) if test == "adhoc" else factor


def _i_squared(method: str, q: float, tau2: float, v: np.ndarray) -> float:
    """I2 in percent: from Q for fixed effect, from tau2 and the typical variance otherwise."""
    k = v.size
    if k == 1:
        return float("nan")
    if method == "FE":
        return 100.0 * max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    w = 1.0 / v
    typical_v = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))
    return float(100.0 * tau2 / (tau2 + typical_v))


def _tau2_fe(y: np.ndarray, v: np.ndarray) -> float:
    return 0.0


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / v
    q, _ = _cochran_q(y, v)
    return float(max(0.0, (q - (y.size - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w))))


def _generalized_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return float(np.sum(w * (y - mu) ** 2))


def _tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel: the tau2 at which the generalized Q equals its expectation k-1."""
    return _root_from_zero(lambda t: _generalized_q(t, y, v) - (y.size - 1))


def _reml_score(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Derivative of the restricted log-likelihood in tau2 (times 2), intercept-only model."""
    w = 1.0 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return float(np.sum(w**2 * (y - mu) ** 2) - (np.sum(w) - np.sum(w**2) / np.sum(w)))


def _tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """REML: the root of the restricted score on tau2 >= 0 (0 when the score starts negative)."""
    return _root_from_zero(lambda t: _reml_score(t, y, v))


def _root_from_zero(f: Callable[[float], float]) -> float:
    """A root of f on (0, inf) bracketed from 0, or 0 if f(0) <= 0 (the estimate is truncated).

    Both estimating functions are negative for large tau2, so widening the upper end brackets
    a root; brentq then solves it far past metafor's own convergence threshold. (A REML
    likelihood with several local maxima, which is rare, may give a different one than
    metafor's Fisher scoring.)
    """
    if f(0.0) <= 0.0:
        return 0.0
    upper = _TAU2_START_MAX
    while f(upper) > 0.0:
        upper *= 10.0
    return float(optimize.brentq(f, 0.0, upper, xtol=1e-14, rtol=1e-14, maxiter=500))


_TAU2_ESTIMATORS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "FE": _tau2_fe,
    "DL": _tau2_dl,
    "PM": _tau2_pm,
    "REML": _tau2_reml,
}
