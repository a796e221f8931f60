-- ratio measures (HR, OR, RR, IRR) have a positive estimate and positive confidence limits, so their logarithms exist
with

estimates as (

    select * from core.effect_estimates

),

final as (

    select *
    from estimates
    where measure in ('HR', 'OR', 'RR', 'IRR')
        and (value <= 0 or ci_low <= 0 or ci_high <= 0)

)

select * from final
