-- every subgroup row of marts.subgroup_vs_overall has its overall row: a canonical overall estimate of the same trial, endpoint, comparison and measure with the figures shown
with

comparisons as (

    select * from marts.subgroup_vs_overall

),

overalls as (

    select * from marts.canonical_estimates where population = 'overall'

),

final as (

    select comparisons.*
    from comparisons
    left join overalls
        on comparisons.overall_estimate_id = overalls.canonical_estimate_id
        and comparisons.trial_key = overalls.trial_key
        and comparisons.endpoint_key = overalls.endpoint_key
        and comparisons.comparison_key = overalls.comparison_key
        and comparisons.measure = overalls.measure
        and comparisons.overall_value = overalls.value
        and comparisons.overall_ci_low is not distinct from overalls.ci_low
        and comparisons.overall_ci_high is not distinct from overalls.ci_high
    where overalls.canonical_estimate_id is null

)

select * from final
