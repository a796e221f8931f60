-- Consistency checks of each estimate against its own interval: SE and z from the CI, the p
-- the CI implies, whether the reported p fits once rounding is allowed for, CI symmetry on the
-- analysis scale, and whether the text's claim of (non-)significance matches the CI. Rounding
-- allowances use the printed precision inferred in staging.estimates.
with

estimates as (

    select * from staging.estimates

),

rounding as (

    select
        *,
        0.5 * pow(10.0, -figure_decimals) as half_unit,
        0.5 * pow(10.0, -p_decimals) as p_half_unit
    from estimates

),

-- extremes of |y| and se over the rounding intervals of value, L and U; a positive figure
-- is a multiple of its unit, so it stays positive after subtracting half a unit
bounds as (

    select
        *,
        case when is_ratio then ln(value - half_unit) else value - half_unit end as y_lowest,
        case when is_ratio then ln(value + half_unit) else value + half_unit end as y_highest,
        case
            when ci_high - half_unit <= ci_low + half_unit then 0.0
            when is_ratio then (ln(ci_high - half_unit) - ln(ci_low + half_unit)) / (2.0 * zcrit)
            else (ci_high - ci_low - 2.0 * half_unit) / (2.0 * zcrit)
        end as se_smallest,
        case
            when is_ratio then (ln(ci_high + half_unit) - ln(ci_low - half_unit)) / (2.0 * zcrit)
            else (ci_high - ci_low + 2.0 * half_unit) / (2.0 * zcrit)
        end as se_largest,
        case
            when is_ratio then ln(ci_high - half_unit) + ln(ci_low - half_unit) - 2.0 * ln(value + half_unit)
            else ci_high + ci_low - 2.0 * value - 4.0 * half_unit
        end as asymmetry_lowest,
        case
            when is_ratio then ln(ci_high + half_unit) + ln(ci_low + half_unit) - 2.0 * ln(value - half_unit)
            else ci_high + ci_low - 2.0 * value + 4.0 * half_unit
        end as asymmetry_highest
    from rounding
    where se is not null and y is not null

),

p_ranges as (

    select
        estimate_id,
        asymmetry_lowest,
        asymmetry_highest,
        case
            when se_smallest <= 0 then 0.0
            else p_from_z(greatest(abs(y_lowest), abs(y_highest)) / se_smallest)
        end as p_ci_min,
        p_from_z(
            case
                when y_lowest <= 0 and y_highest >= 0 then 0.0
                else least(abs(y_lowest), abs(y_highest))
            end / se_largest
        ) as p_ci_max
    from bounds

),

checked as (

    select
        estimates.estimate_id,
        estimates.article_id,
        estimates.trial_id,
        estimates.endpoint,
        estimates.population,
        estimates.measure,
        estimates.is_ratio,
        estimates.value,
        estimates.ci_low,
        estimates.ci_high,
        estimates.level,
        estimates.p,
        estimates.p_relation,
        estimates.claimed_significance,
        estimates.se,
        case when estimates.is_ratio then estimates.se end as se_log,
        estimates.y / estimates.se as z,
        p_from_z(estimates.y / estimates.se) as p_from_ci,
        estimates.figure_decimals,
        estimates.half_unit,
        p_ranges.p_ci_min,
        p_ranges.p_ci_max,
        case
            when estimates.p is null or p_ranges.p_ci_min is null then null
            when coalesce(estimates.p_relation, '=') = '<' then p_ranges.p_ci_min < estimates.p
            when estimates.p_relation = '>' then p_ranges.p_ci_max > estimates.p
            else p_ranges.p_ci_min <= estimates.p + estimates.p_half_unit
                and p_ranges.p_ci_max >= estimates.p - estimates.p_half_unit
        end as p_consistent,
        estimates.ci_low <= estimates.value and estimates.value <= estimates.ci_high
            as ci_contains_value,
        p_ranges.asymmetry_lowest <= 0 and p_ranges.asymmetry_highest >= 0 as ci_symmetric,
        case
            when estimates.ci_low is null or estimates.ci_high is null then null
            -- a limit printed exactly at the null is ambiguous once rounding is allowed for
            when estimates.ci_low = estimates.null_value or estimates.ci_high = estimates.null_value
                then null
            else estimates.ci_low > estimates.null_value or estimates.ci_high < estimates.null_value
        end as ci_excludes_null
    from rounding as estimates
    left join p_ranges on estimates.estimate_id = p_ranges.estimate_id

),

final as (

    select
        *,
        claimed_significance = ci_excludes_null as claim_consistent
    from checked

)

select * from final
