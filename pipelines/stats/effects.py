"""Per-estimate arithmetic on effect sizes: standard errors from CIs, p-values, complements, interactions."""

import numpy as np
from scipy import stats


def z_crit(level=95.0):
    """The two-sided normal critical value for a `level` percent interval (1.959964 for 95)."""
    return stats.norm.ppf(0.5 + np.asarray(level, dtype=float) / 200.0)


def se_from_ci(low, high, level=95.0, ratio: bool = True):
    """Standard error recovered from a symmetric CI (on the log scale when `ratio`).

    Cochrane Handbook: se = (ln U - ln L) / (2 z*) for ratios, (U - L) / (2 z*) for
    differences. Non-positive ratio limits give NaN rather than an error.
    """
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if ratio:
        low, high = _log_positive(low), _log_positive(high)
    return (high - low) / (2.0 * z_crit(level))


def p_from_z(z):
    """Two-sided p-value of a standard normal statistic."""
    return 2.0 * stats.norm.sf(np.abs(np.asarray(z, dtype=float)))


def complement(y_o: float, se_o: float, y_s: float, se_s: float) -> tuple[float, float] | None:
    """The complement C of subgroup S within the overall O, by inverse-variance decomposition.

    O is taken as the fixed-effect combination of S and C, so w_C = w_O - w_S and
    y_C = (w_O y_O - w_S y_S) / w_C with se_C = 1 / sqrt(w_C). Returns None when the
    subgroup is at least as precise as the overall (w_O <= w_S), or on missing inputs.
    """
    if not all(np.isfinite(x) for x in (y_o, se_o, y_s, se_s)) or se_o <= 0 or se_s <= 0:
        return None
    w_o, w_s = 1.0 / se_o**2, 1.0 / se_s**2
    if w_o <= w_s:
        return None
    w_c = w_o - w_s
    return float((w_o * y_o - w_s * y_s) / w_c), float(1.0 / np.sqrt(w_c))


def interaction(y_s, se_s, y_c, se_c, level=95.0):
    """Difference between subgroup and complement, which are independent: (d, se_d, lo, hi, p).

    d = y_S - y_C and se_d = sqrt(se_S^2 + se_C^2); for ratio measures exp(d) and its
    limits are the ratio of ratios and its CI.
    """
    d = np.asarray(y_s, dtype=float) - np.asarray(y_c, dtype=float)
    se_d = np.hypot(np.asarray(se_s, dtype=float), np.asarray(se_c, dtype=float))
    half = z_crit(level) * se_d
    with np.errstate(divide="ignore", invalid="ignore"):
        p = p_from_z(d / se_d)
    return d, se_d, d - half, d + half, p


def _log_positive(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
