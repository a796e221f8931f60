-- every core estimate is merged into exactly one row of marts.canonical_estimates, with figures equal to its own
with

estimates as (

    select * from core.effect_estimates

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
            where merged.value = estimates.value
                and merged.ci_low is not distinct from estimates.ci_low
                and merged.ci_high is not distinct from estimates.ci_high
        ) as n_matching
    from estimates
    left join merged on estimates.estimate_id = merged.estimate_id
    group by estimates.estimate_id
    having count(merged.estimate_id) <> 1 or n_matching <> 1

)

select * from final
