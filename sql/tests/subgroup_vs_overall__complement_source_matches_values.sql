-- complement_source is set exactly when a complement is shown, and the interaction is computed exactly when the complement and subgroup both have standard errors
with

comparisons as (

    select * from marts.subgroup_vs_overall

),

final as (

    select *
    from comparisons
    where (complement_source is null) <> (complement_value is null)
        or (complement_source is not null and complement_source not in ('reported', 'derived'))
        or (complement_source = 'reported' and complement_estimate_id is null)
        or (complement_source = 'derived' and not (overall_se < subgroup_se))
        or (interaction_ratio is null) <> (subgroup_se is null or complement_se is null)

)

select * from final
