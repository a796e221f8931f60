-- every core estimate lies inside its confidence interval, allowing half a unit of the second decimal for figures rounded to different precision
with

estimates as (

    select * from core.effect_estimates

),

final as (

    select *
    from estimates
    where value < ci_low - 0.005
        or value > ci_high + 0.005
        or ci_low > ci_high

)

select * from final
