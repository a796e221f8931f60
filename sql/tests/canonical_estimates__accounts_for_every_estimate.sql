-- every core estimate is merged into exactly one row of marts.canonical_estimates, whose figures round to its own at the precision it was printed with
with

estimates as (

    select
        core_estimates.estimate_id,
        core_estimates.value,
        core_estimates.ci_low,
        core_estimates.ci_high,
        staged.figure_decimals
    from core.effect_estimates as core_estimates
    left join staging.estimates as staged
        on core_estimates.estimate_id = staged.estimate_id

),

merged as (

    select
        unnest(string_split(estimate_ids, ',')) as estimate_id,
        value,
        ci_low,
        ci_high
    from marts.canonical_estimates

),

final as (

    select
        estimates.estimate_id,
        count(merged.estimate_id) as n_rows,
        count(merged.estimate_id) filter (
            where abs(round(merged.value, estimates.figure_decimals) - estimates.value) < 1e-9
                and coalesce(abs(round(merged.ci_low, estimates.figure_decimals) - estimates.ci_low) < 1e-9,
                    merged.ci_low is null and estimates.ci_low is null)
                and coalesce(abs(round(merged.ci_high, estimates.figure_decimals) - estimates.ci_high) < 1e-9,
                    merged.ci_high is null and estimates.ci_high is null)
        ) as n_matching
    from estimates
    left join merged on estimates.estimate_id = merged.estimate_id
    group by estimates.estimate_id
    having count(merged.estimate_id) <> 1 or n_matching <> 1

)

select * from final
