-- Statistical helpers persisted in the warehouse for the models and for ad hoc queries.
-- Each macro is self-contained (no macro calls another): DuckDB cannot resolve a macro called
-- from a macro when the database file is attached under another name. DuckDB has no erf or
-- normal CDF, hence the approximations below; the single-element list_transform binds a
-- local name so that a sub-expression is written once.

-- Standard normal CDF. Tail from the Numerical Recipes erfcc Chebyshev fit
-- (fractional error below 1.2e-7 everywhere), so small tail probabilities stay accurate.
create or replace macro norm_cdf(x) as (
    list_transform(
        [abs(x) / sqrt(2.0)],
        lambda a: list_transform(
            [1.0 / (1.0 + 0.5 * a)],
            lambda t: 0.5 * t * exp(
                -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277))))))))
            )
        )[1]
    )[1]
    -- the lambda yields the upper tail 1 - Φ(|x|); reflect it for the sign of x
    * case when x >= 0 then -1.0 else 1.0 end
    + case when x >= 0 then 1.0 else 0.0 end
);

-- Two-sided p-value of a standard normal z: 2·(1 − Φ(|z|)) = erfc(|z|/√2), capped at 1
-- because the fit overshoots 1 by about 3e-8 at z = 0 (least() alone would turn a null into 1).
create or replace macro p_from_z(z) as case when z is not null then least(1.0, (
    list_transform(
        [abs(z) / sqrt(2.0)],
        lambda a: list_transform(
            [1.0 / (1.0 + 0.5 * a)],
            lambda t: t * exp(
                -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277))))))))
            )
        )[1]
    )[1]
)) end;

-- Critical value z* = Φ⁻¹(1 − α/2) of a two-sided interval at `level` percent (default 95),
-- by P. J. Acklam's rational approximation of the inverse normal (relative error below 1.2e-9):
-- 95 → 1.959964, 90 → 1.644854, 99 → 2.575829, 98.5 → 2.432379.
create or replace macro z_crit(level) as (
    list_transform(
        [0.5 + coalesce(level, 95.0) / 200.0],
        lambda p: case
            when p <= 0.5 or p >= 1.0 then null
            when p <= 0.97575 then list_transform(
                [p - 0.5],
                lambda q: q * (((((-3.969683028665376e+01 * q * q + 2.209460984245205e+02) * q * q
                    - 2.759285104469687e+02) * q * q + 1.383577518672690e+02) * q * q
                    - 3.066479806614716e+01) * q * q + 2.506628277459239e+00)
                    / (((((-5.447609879822406e+01 * q * q + 1.615858368580409e+02) * q * q
                    - 1.556989798598866e+02) * q * q + 6.680131188771972e+01) * q * q
                    - 1.328068155288572e+01) * q * q + 1.0)
            )[1]
            else list_transform(
                [sqrt(-2.0 * ln(1.0 - p))],
                lambda q: -(((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q
                    - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q
                    + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                    / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q
                    + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1.0)
            )[1]
        end
    )[1]
);

-- Standard error from a confidence interval at its own level (Cochrane Handbook 6.3.1):
-- (ln U − ln L) / (2·z*) for ratio measures, (U − L) / (2·z*) for differences.
-- Null when the interval is missing, empty, or (for ratios) not strictly positive.
create or replace macro se_from_ci(low, high, level, is_ratio) as (
    list_transform(
        [0.5 + coalesce(level, 95.0) / 200.0],
        lambda p: case
            when low is null or high is null or high <= low then null
            when is_ratio and low <= 0 then null
            when p <= 0.5 or p >= 1.0 then null
            else case when is_ratio then ln(high) - ln(low) else high - low end
                / (2.0 * case
                    when p <= 0.97575 then list_transform(
                        [p - 0.5],
                        lambda q: q * (((((-3.969683028665376e+01 * q * q + 2.209460984245205e+02) * q * q
                            - 2.759285104469687e+02) * q * q + 1.383577518672690e+02) * q * q
                            - 3.066479806614716e+01) * q * q + 2.506628277459239e+00)
                            / (((((-5.447609879822406e+01 * q * q + 1.615858368580409e+02) * q * q
                            - 1.556989798598866e+02) * q * q + 6.680131188771972e+01) * q * q
                            - 1.328068155288572e+01) * q * q + 1.0)
                    )[1]
                    else list_transform(
                        [sqrt(-2.0 * ln(1.0 - p))],
                        lambda q: -(((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q
                            - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q
                            + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                            / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q
                            + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1.0)
                    )[1]
                end)
        end
    )[1]
);
