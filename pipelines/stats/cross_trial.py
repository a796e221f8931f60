"""Pooling of one subgroup across trials: the frame behind marts.cross_trial_subgroups."""

import numpy as np
import pandas as pd

from pipelines.stats.pooling import PoolResult, pool
from schemas.vocabulary import RATIO_MEASURES

GROUP_KEYS = ["subgroup_variable", "subgroup_level", "endpoint", "measure"]
REQUIRED_COLUMNS = (
    "trial_id", *GROUP_KEYS, "comparison", "n_articles",
    "subgroup_y", "subgroup_se", "overall_y", "overall_se", "interaction_y", "interaction_se",
)
# Output label -> (tau2 estimator, test): REML with HKSJ is the recommended default, DL with
# a z test is metafor's default for DL and what older meta-analyses report.
FITS = {"REML": ("REML", "knha"), "DL": ("DL", "z")}
_STRING_COLUMNS = (*GROUP_KEYS, "trial_ids", "method")
_COUNT_COLUMNS = ("k_trials", "k_overall", "k_interaction")
# A list, not a tuple: frame[CROSS_TRIAL_COLUMNS] must select columns, not look up one key.
CROSS_TRIAL_COLUMNS = [
    *GROUP_KEYS, "k_trials", "trial_ids",
    "pooled_subgroup_value", "pooled_subgroup_ci_low", "pooled_subgroup_ci_high",
    "pooled_overall_value", "pooled_overall_ci_low", "pooled_overall_ci_high",
    "pooled_interaction_ratio", "pooled_interaction_ci_low", "pooled_interaction_ci_high",
    "pooled_interaction_p", "tau2", "i2", "q", "q_p", "method",
    "pooled_subgroup_p", "pi_low", "pi_high", "k_overall",
    "k_interaction", "interaction_tau2", "interaction_i2", "interaction_q", "interaction_q_p",
]


def cross_trial_subgroups(svo: pd.DataFrame) -> pd.DataFrame:
    """Meta-analyse each (subgroup_variable, subgroup_level, endpoint, measure) seen in 2+ trials.

    `svo` holds rows of marts.subgroup_vs_overall with `*_y` on the log scale for ratio
    measures and `*_se` their standard errors. Rows without a subgroup variable or level,
    trial, or a usable subgroup estimate (finite y, positive se) take no part. One row is
    kept per trial and group: the one with the most `n_articles`, then the smallest
    `subgroup_se`, then the first `comparison` alphabetically.

    Each group gives two rows, `method` 'REML' (REML tau2, HKSJ CI) and 'DL'
    (DerSimonian-Laird, z CI). The subgroup estimates are pooled (tau2, i2, q, q_p and the
    prediction interval describe that pooling); the overall estimates and the within-trial
    interactions are pooled over the trials that have them (`k_overall`, `k_interaction`),
    NaN when fewer than two. Values are on the natural scale (exp for ratio measures; for
    RD and MD the interaction columns hold the difference of differences); tau2 stays on
    the log scale. Sorted by the group keys, then method.
    """
    if svo.empty:
        return _typed(pd.DataFrame(columns=CROSS_TRIAL_COLUMNS))
    missing = sorted(set(REQUIRED_COLUMNS) - set(svo.columns))
    if missing:
        raise ValueError(f"subgroup_vs_overall frame lacks columns {missing}")
    chosen = _one_row_per_trial(_usable_rows(svo))
    rows = [
        _group_row(keys, group, label)
        for keys, group in chosen.groupby(GROUP_KEYS, sort=True)
        if len(group) >= 2
        for label in FITS
    ]
    out = pd.DataFrame(rows, columns=CROSS_TRIAL_COLUMNS)
    return _typed(out.sort_values([*GROUP_KEYS, "method"], ignore_index=True))


def _usable_rows(svo: pd.DataFrame) -> pd.DataFrame:
    keep = svo[[*GROUP_KEYS, "trial_id"]].notna().all(axis=1) & _finite_pair(
        svo["subgroup_y"], svo["subgroup_se"]
    )
    return svo.loc[keep, list(REQUIRED_COLUMNS)]


def _one_row_per_trial(rows: pd.DataFrame) -> pd.DataFrame:
    ordered = rows.sort_values(
        [*GROUP_KEYS, "trial_id", "n_articles", "subgroup_se", "comparison"],
        ascending=[True] * len(GROUP_KEYS) + [True, False, True, True],
        na_position="last",
        kind="mergesort",
    )
    return ordered.drop_duplicates([*GROUP_KEYS, "trial_id"], keep="first")


def _group_row(keys: tuple, group: pd.DataFrame, label: str) -> dict:
    method, test = FITS[label]
    natural = _exp if keys[GROUP_KEYS.index("measure")] in RATIO_MEASURES else _identity
    sub = pool(group["subgroup_y"], group["subgroup_se"] ** 2, method=method, test=test)
    overall = _pool_available(group, "overall", method, test)
    inter = _pool_available(group, "interaction", method, test)
    return {
        **dict(zip(GROUP_KEYS, keys)),
        "k_trials": sub.k,
        "trial_ids": ",".join(sorted(group["trial_id"].astype(str))),
        **_interval("pooled_subgroup_value", "pooled_subgroup_ci_low", "pooled_subgroup_ci_high",
                    sub, natural),
        "pooled_subgroup_p": sub.pval,
        "pi_low": natural(sub.pi_lb),
        "pi_high": natural(sub.pi_ub),
        "tau2": sub.tau2, "i2": sub.I2, "q": sub.QE, "q_p": sub.QEp,
        "method": label,
        "k_overall": int(_finite_pair(group["overall_y"], group["overall_se"]).sum()),
        **_interval("pooled_overall_value", "pooled_overall_ci_low", "pooled_overall_ci_high",
                    overall, natural),
        "k_interaction": int(_finite_pair(group["interaction_y"], group["interaction_se"]).sum()),
        **_interval("pooled_interaction_ratio", "pooled_interaction_ci_low",
                    "pooled_interaction_ci_high", inter, natural),
        "pooled_interaction_p": _field(inter, "pval"),
        "interaction_tau2": _field(inter, "tau2"),
        "interaction_i2": _field(inter, "I2"),
        "interaction_q": _field(inter, "QE"),
        "interaction_q_p": _field(inter, "QEp"),
    }


def _pool_available(group: pd.DataFrame, prefix: str, method: str, test: str) -> PoolResult | None:
    """Pool `{prefix}_y` over the trials where it and its se are usable; None below two."""
    usable = group[_finite_pair(group[f"{prefix}_y"], group[f"{prefix}_se"])]
    if len(usable) < 2:
        return None
    return pool(usable[f"{prefix}_y"], usable[f"{prefix}_se"] ** 2, method=method, test=test)


def _interval(value: str, low: str, high: str, fit: PoolResult | None, natural) -> dict:
    if fit is None:
        return {value: np.nan, low: np.nan, high: np.nan}
    return {value: natural(fit.mu), low: natural(fit.ci_lb), high: natural(fit.ci_ub)}


def _field(fit: PoolResult | None, name: str) -> float:
    return np.nan if fit is None else getattr(fit, name)


def _finite_pair(y: pd.Series, se: pd.Series) -> pd.Series:
    y, se = pd.to_numeric(y, errors="coerce"), pd.to_numeric(se, errors="coerce")
    return np.isfinite(y) & np.isfinite(se) & (se > 0)


def _identity(x: float) -> float:
    return x


def _exp(x: float) -> float:
    """A log-ratio back on the ratio scale. A bound beyond about 709 on the log scale (a pooled
    interval from two or three wildly discordant trials) has no finite ratio: it is +inf, said
    once in the table, not warned about on every run."""
    with np.errstate(over="ignore"):
        return float(np.exp(x))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Fix the dtypes, so that an empty frame registers in SQL with the same column types."""
    dtypes = {
        c: object if c in _STRING_COLUMNS else "int64" if c in _COUNT_COLUMNS else "float64"
        for c in CROSS_TRIAL_COLUMNS
    }
    return frame.astype(dtypes)
