-- each pooled group's k_trials, k_interaction and trial_ids match the rows of marts.subgroup_vs_overall it pools: per (variable, level, endpoint, measure) one row per known trial among rows with a subgroup estimate and standard error, the one with most n_articles, then smallest subgroup_se, then first comparison
with

pooled as (

    select * from marts.cross_trial_subgroups

),

comparisons as (

    select *
    from marts.subgroup_vs_overall
    where subgroup_variable is not null
        and subgroup_level is not null
        and trial_id is not null
        and isfinite(subgroup_y)
        and subgroup_se > 0

),

selected as (

    select
        *,
        row_number() over (
            partition by subgroup_variable, subgroup_level, endpoint, measure, trial_id
            order by n_articles desc, subgroup_se asc nulls last, comparison
        ) as preference
    from comparisons

),

expected as (

    select
        subgroup_variable,
        subgroup_level,
        endpoint,
        measure,
        count(*) as k_trials,
        count(*) filter (where interaction_y is not null and interaction_se is not null)
            as k_interaction,
        string_agg(trial_id, ',' order by trial_id) as trial_ids
    from selected
    where preference = 1
    group by all

),

final as (

    select
        pooled.subgroup_variable,
        pooled.subgroup_level,
        pooled.endpoint,
        pooled.measure,
        pooled.method,
        pooled.k_trials,
        expected.k_trials as expected_k_trials,
        pooled.k_interaction,
        expected.k_interaction as expected_k_interaction,
        pooled.trial_ids,
        expected.trial_ids as expected_trial_ids
    from pooled
    left join expected
        on pooled.subgroup_variable = expected.subgroup_variable
        and pooled.subgroup_level = expected.subgroup_level
        and pooled.endpoint = expected.endpoint
        and pooled.measure = expected.measure
    where expected.k_trials is null
        or pooled.k_trials <> expected.k_trials
        or pooled.k_interaction <> expected.k_interaction
        or replace(pooled.trial_ids, ' ', '') <> expected.trial_ids

)

select * from final
