"""pandera models of the frames written to core.*: one class per table, named after it."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing.pandas import Series

from schemas.docs import column_doc
from schemas.vocabulary import (
    ENDPOINTS,
    MEASURES,
    P_RELATIONS,
    POPULATIONS,
    RATIO_MEASURES,
    STATISTICS,
)

# Rounded figures: a published CI limit may equal its estimate, and "0.87 (0.72-1.04)" style
# figures carry two decimals, so limits are compared with a little slack.
_ROUNDING = 1e-9


def _f(table: str, column: str, **kwargs) -> pa.Field:
    return pa.Field(description=column_doc(table, column), **kwargs)


class _Evidence(pa.DataFrameModel):
    """Columns every extracted row carries: where in which article its figures stand."""

    article_id: Series[str] = _f("core.effect_estimates", "article_id")
    trial_id: Series[str] = _f("core.effect_estimates", "trial_id", nullable=True)
    evidence: Series[str] = _f("core.effect_estimates", "evidence", str_length={"min_value": 1})
    span_start: Series[int] = _f("core.effect_estimates", "span_start", ge=0)
    span_end: Series[int] = _f("core.effect_estimates", "span_end", ge=0)

    @pa.dataframe_check(description="span_end - span_start equals the evidence length")
    def span_matches_evidence(cls, df):
        return (df["span_end"] - df["span_start"]) == df["evidence"].str.len()


class EffectEstimates(_Evidence):
    """between-arm effect estimates, one per figure in an article."""

    estimate_id: Series[str] = _f("core.effect_estimates", "estimate_id", unique=True)
    endpoint: Series[str] = _f("core.effect_estimates", "endpoint", isin=ENDPOINTS)
    endpoint_text: Series[str] = _f("core.effect_estimates", "endpoint_text", nullable=True)
    population: Series[str] = _f("core.effect_estimates", "population", isin=POPULATIONS)
    subgroup: Series[str] = _f("core.effect_estimates", "subgroup", nullable=True)
    subgroup_variable: Series[str] = _f("core.effect_estimates", "subgroup_variable", nullable=True)
    subgroup_level: Series[str] = _f("core.effect_estimates", "subgroup_level", nullable=True)
    comparison: Series[str] = _f("core.effect_estimates", "comparison", nullable=True)
    experimental_arm: Series[str] = _f("core.effect_estimates", "experimental_arm", nullable=True)
    comparator_arm: Series[str] = _f("core.effect_estimates", "comparator_arm", nullable=True)
    measure: Series[str] = _f("core.effect_estimates", "measure", isin=MEASURES)
    value: Series[float] = _f("core.effect_estimates", "value")
    ci_low: Series[float] = _f("core.effect_estimates", "ci_low", nullable=True)
    ci_high: Series[float] = _f("core.effect_estimates", "ci_high", nullable=True)
    ci_level: Series[float] = _f("core.effect_estimates", "ci_level", nullable=True, gt=0, lt=100)
    p: Series[float] = _f("core.effect_estimates", "p", nullable=True, ge=0, le=1)
    p_relation: Series[str] = _f("core.effect_estimates", "p_relation", nullable=True, isin=P_RELATIONS)
    claimed_significance: Series[pa.typing.pandas.BOOL] = _f(
        "core.effect_estimates", "claimed_significance", nullable=True
    )

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(description="ratio measures (HR OR RR IRR) and their CI limits are > 0")
    def ratio_positive(cls, df):
        ratio = df["measure"].isin(RATIO_MEASURES)
        positive = (df["value"] > 0) & ~(df["ci_low"] <= 0) & ~(df["ci_high"] <= 0)
        return ~ratio | positive

    @pa.dataframe_check(description="the CI is ordered low <= value <= high")
    def ci_brackets_value(cls, df):
        low_ok = df["ci_low"].isna() | (df["ci_low"] <= df["value"] + _ROUNDING)
        high_ok = df["ci_high"].isna() | (df["ci_high"] >= df["value"] - _ROUNDING)
        return low_ok & high_ok

    @pa.dataframe_check(description="a CI has both limits or neither")
    def ci_complete(cls, df):
        return df["ci_low"].isna() == df["ci_high"].isna()

    @pa.dataframe_check(description="a subgroup row names its subgroup; an overall row does not")
    def population_consistent(cls, df):
        sub = df["population"] == "subgroup"
        return (sub & df["subgroup"].notna()) | (~sub & df["subgroup"].isna())

    @pa.dataframe_check(description="a p-value has a relation and a relation has a p-value")
    def p_has_relation(cls, df):
        return df["p"].isna() == df["p_relation"].isna()


class ArmResults(_Evidence):
    """one arm's figure (median, rate, percentage...) in an article."""

    result_id: Series[str] = _f("core.arm_results", "result_id", unique=True)
    endpoint: Series[str] = _f("core.arm_results", "endpoint", isin=ENDPOINTS)
    endpoint_text: Series[str] = _f("core.arm_results", "endpoint_text", nullable=True)
    population: Series[str] = _f("core.arm_results", "population", isin=POPULATIONS)
    subgroup: Series[str] = _f("core.arm_results", "subgroup", nullable=True)
    subgroup_variable: Series[str] = _f("core.arm_results", "subgroup_variable", nullable=True)
    subgroup_level: Series[str] = _f("core.arm_results", "subgroup_level", nullable=True)
    arm: Series[str] = _f("core.arm_results", "arm", nullable=True)
    statistic: Series[str] = _f("core.arm_results", "statistic", isin=STATISTICS)
    value: Series[float] = _f("core.arm_results", "value")
    unit: Series[str] = _f("core.arm_results", "unit", nullable=True)
    ci_low: Series[float] = _f("core.arm_results", "ci_low", nullable=True)
    ci_high: Series[float] = _f("core.arm_results", "ci_high", nullable=True)
    n: Series[pa.typing.pandas.INT64] = _f("core.arm_results", "n", nullable=True, gt=0)

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(description="a percentage lies within 0-100")
    def percent_in_range(cls, df):
        pct = df["statistic"] == "percent"
        return ~pct | df["value"].between(0, 100)

    @pa.dataframe_check(description="the CI is ordered low <= value <= high")
    def ci_brackets_value(cls, df):
        low_ok = df["ci_low"].isna() | (df["ci_low"] <= df["value"] + _ROUNDING)
        high_ok = df["ci_high"].isna() | (df["ci_high"] >= df["value"] - _ROUNDING)
        return low_ok & high_ok


class Arms(_Evidence):
    """a randomized arm named with its size."""

    arm_id: Series[str] = _f("core.arms", "arm_id", unique=True)
    arm: Series[str] = _f("core.arms", "arm", str_length={"min_value": 1})
    n: Series[int] = _f("core.arms", "n", gt=0)

    class Config:
        strict = True
        coerce = True


class Trials(pa.DataFrameModel):
    """one row per trial met in the articles."""

    trial_id: Series[str] = _f("core.trials", "trial_id", unique=True)
    acronym: Series[str] = _f("core.trials", "acronym", nullable=True)
    nct_id: Series[str] = _f("core.trials", "nct_id", nullable=True, str_matches=r"^NCT\d{8}$")
    condition: Series[str] = _f("core.trials", "condition", nullable=True)
    n_articles: Series[int] = _f("core.trials", "n_articles", ge=1)

    class Config:
        strict = True
        coerce = True


class ArticleFacts(pa.DataFrameModel):
    """what an article states about its trial (design, phase...)."""

    article_id: Series[str] = _f("core.article_facts", "article_id", unique=True)
    trial_id: Series[str] = _f("core.article_facts", "trial_id", nullable=True)
    acronym: Series[str] = _f("core.article_facts", "acronym", nullable=True)
    nct_id: Series[str] = _f("core.article_facts", "nct_id", nullable=True)
    condition: Series[str] = _f("core.article_facts", "condition", nullable=True)
    phase: Series[str] = _f("core.article_facts", "phase", nullable=True)
    design: Series[str] = _f("core.article_facts", "design", nullable=True)
    evidence_rating: Series[str] = _f("core.article_facts", "evidence_rating", nullable=True)

    class Config:
        strict = True
        coerce = True


# table name -> model, in the order the core asset writes them
CORE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "effect_estimates": EffectEstimates,
    "arm_results": ArmResults,
    "arms": Arms,
    "article_facts": ArticleFacts,
    "trials": Trials,
}
