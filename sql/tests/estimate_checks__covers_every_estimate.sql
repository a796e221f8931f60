-- coverage guard: every core estimate appears exactly once in marts.estimate_checks, and nothing else does
with

estimates as (

    select estimate_id from core.effect_estimates

),

checks as (

    select estimate_id, count(*) as n_rows
    from marts.estimate_checks
    group by estimate_id

),

final as (

    select
        coalesce(estimates.estimate_id, checks.estimate_id) as estimate_id,
        estimates.estimate_id is null as unknown_estimate,
        coalesce(checks.n_rows, 0) as n_rows
    from estimates
    full outer join checks on estimates.estimate_id = checks.estimate_id
    where estimates.estimate_id is null or checks.n_rows is distinct from 1

)

select * from final
