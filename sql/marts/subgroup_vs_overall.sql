-- Each canonical subgroup estimate beside its trial's overall estimate for the same endpoint,
-- comparison and measure, with the complement (reported, or derived by inverse-variance
-- decomposition), the subgroup-vs-complement interaction, and the significance pattern.
with

canonical as (

    select * from marts.canonical_estimates

),

complementary_levels as (

    select * from staging.complementary_levels

),

subgroups as (

    select
        *,
        lower(trim(subgroup_variable)) as variable_key,
        lower(trim(subgroup_level)) as level_text,
        -- comparison words and signs that turn a level into its complement
        regexp_replace(
            replace(replace(lower(trim(subgroup_level)), '>=', '≥'), '<=', '≤'),
            '^((not|non|no|without|with)[\s-]+|[≥>≤<]\s*)', ''
        ) as level_stem,
        case
            when regexp_matches(lower(trim(subgroup_level)), '^(not|non|no|without)[\s-]') then 'negated'
            when regexp_matches(lower(trim(subgroup_level)), '^(≥|>=)') then 'at_least'
            when regexp_matches(lower(trim(subgroup_level)), '^(≤|<=)') then 'at_most'
            when regexp_matches(lower(trim(subgroup_level)), '^>') then 'above'
            when regexp_matches(lower(trim(subgroup_level)), '^<') then 'below'
            else 'plain'
        end as level_form
    from canonical
    where population = 'subgroup'

),

overalls as (

    select * from canonical where population = 'overall'

),

-- per subgroup figure, the overall figure of the same data cut where the choice exists:
-- the one sharing most articles, then the best corroborated
overall_choice as (

    select
        subgroups.canonical_estimate_id as subgroup_estimate_id,
        overalls.canonical_estimate_id as overall_estimate_id,
        row_number() over (
            partition by subgroups.canonical_estimate_id
            order by
                len(list_intersect(
                    string_split(subgroups.article_ids, ','), string_split(overalls.article_ids, ',')
                )) desc,
                overalls.n_articles desc,
                overalls.canonical_estimate_id
        ) as preference
    from subgroups
    inner join overalls
        on subgroups.trial_key = overalls.trial_key
        and subgroups.endpoint_key = overalls.endpoint_key
        and subgroups.comparison_key = overalls.comparison_key
        and subgroups.measure = overalls.measure

),

reported_complement_choice as (

    select
        subgroup.canonical_estimate_id as subgroup_estimate_id,
        complement.canonical_estimate_id as complement_estimate_id,
        row_number() over (
            partition by subgroup.canonical_estimate_id
            order by
                len(list_intersect(
                    string_split(subgroup.article_ids, ','), string_split(complement.article_ids, ',')
                )) desc,
                complement.n_articles desc,
                complement.canonical_estimate_id
        ) as preference
    from subgroups as subgroup
    inner join subgroups as complement
        on subgroup.trial_key = complement.trial_key
        and subgroup.endpoint_key = complement.endpoint_key
        and subgroup.comparison_key = complement.comparison_key
        and subgroup.measure = complement.measure
        and subgroup.variable_key = complement.variable_key
        and complement.se is not null
    -- a listed pair, alone or after a shared prefix ("node-positive" / "node-negative")
    left join complementary_levels
        on ends_with(subgroup.level_text, complementary_levels.level)
        and ends_with(complement.level_text, complementary_levels.complement_level)
        and left(subgroup.level_text, length(subgroup.level_text) - length(complementary_levels.level))
            = left(complement.level_text, length(complement.level_text) - length(complementary_levels.complement_level))
    where
        complementary_levels.level is not null
        or (
            subgroup.level_stem = complement.level_stem
            and list_contains(
                [
                    ['plain', 'negated'], ['negated', 'plain'],
                    ['at_least', 'below'], ['below', 'at_least'],
                    ['above', 'at_most'], ['at_most', 'above']
                ],
                [subgroup.level_form, complement.level_form]
            )
        )

),

paired as (

    select
        subgroup.*,
        overall.canonical_estimate_id as overall_estimate_id,
        overall.value as overall_value,
        overall.ci_low as overall_ci_low,
        overall.ci_high as overall_ci_high,
        overall.y as overall_y,
        overall.se as overall_se,
        complement.canonical_estimate_id as complement_estimate_id,
        complement.value as reported_complement_value,
        complement.ci_low as reported_complement_ci_low,
        complement.ci_high as reported_complement_ci_high,
        complement.y as reported_complement_y,
        complement.se as reported_complement_se,
        z_crit(subgroup.level) as zcrit
    from subgroups as subgroup
    inner join overall_choice
        on subgroup.canonical_estimate_id = overall_choice.subgroup_estimate_id
        and overall_choice.preference = 1
    inner join overalls as overall
        on overall_choice.overall_estimate_id = overall.canonical_estimate_id
    left join reported_complement_choice
        on subgroup.canonical_estimate_id = reported_complement_choice.subgroup_estimate_id
        and reported_complement_choice.preference = 1
    left join canonical as complement
        on reported_complement_choice.complement_estimate_id = complement.canonical_estimate_id

),

-- inverse-variance decomposition: the overall estimate as the fixed-effect combination of
-- the subgroup and its complement (STATISTICS.md), possible only when w_O > w_S
decomposed as (

    select
        *,
        case
            when reported_complement_se is not null then 'reported'
            when se > 0 and overall_se > 0 and overall_se < se then 'derived'
        end as complement_source,
        case when se > 0 and overall_se > 0 and overall_se < se
            then 1.0 / (overall_se * overall_se) - 1.0 / (se * se)
        end as derived_complement_weight
    from paired

),

complemented as (

    select
        *,
        case complement_source
            when 'reported' then reported_complement_y
            when 'derived' then (overall_y / (overall_se * overall_se) - y / (se * se))
                / derived_complement_weight
        end as complement_y,
        case complement_source
            when 'reported' then reported_complement_se
            when 'derived' then 1.0 / sqrt(derived_complement_weight)
        end as complement_se
    from decomposed

),

interactions as (

    select
        *,
        y - complement_y as interaction_y,
        sqrt(se * se + complement_se * complement_se) as interaction_se
    from complemented

),

natural_scale as (

    select
        *,
        case when is_ratio then exp(y - overall_y) else y - overall_y end as ratio_to_overall,
        case complement_source
            when 'reported' then reported_complement_value
            when 'derived' then case when is_ratio then exp(complement_y) else complement_y end
        end as complement_value,
        case complement_source
            when 'reported' then reported_complement_ci_low
            when 'derived' then case
                when is_ratio then exp(complement_y - zcrit * complement_se)
                else complement_y - zcrit * complement_se
            end
        end as complement_ci_low,
        case complement_source
            when 'reported' then reported_complement_ci_high
            when 'derived' then case
                when is_ratio then exp(complement_y + zcrit * complement_se)
                else complement_y + zcrit * complement_se
            end
        end as complement_ci_high,
        case when is_ratio then exp(interaction_y) else interaction_y end as interaction_ratio,
        case
            when is_ratio then exp(interaction_y - zcrit * interaction_se)
            else interaction_y - zcrit * interaction_se
        end as interaction_ci_low,
        case
            when is_ratio then exp(interaction_y + zcrit * interaction_se)
            else interaction_y + zcrit * interaction_se
        end as interaction_ci_high,
        p_from_z(interaction_y / interaction_se) as interaction_p
    from interactions

),

significance as (

    select
        *,
        ci_low > null_value or ci_high < null_value as subgroup_significant,
        overall_ci_low > null_value or overall_ci_high < null_value as overall_significant,
        complement_ci_low > null_value or complement_ci_high < null_value
            as complement_significant
    from natural_scale

),

final as (

    select
        trial_id,
        trial_key,
        endpoint,
        endpoint_key,
        measure,
        comparison,
        comparison_key,
        subgroup,
        subgroup_key,
        subgroup_variable,
        subgroup_level,
        canonical_estimate_id as subgroup_estimate_id,
        overall_estimate_id,
        complement_estimate_id,
        is_ratio,
        level as ci_level,
        n_articles,
        article_ids,
        conflicting,
        value as subgroup_value,
        ci_low as subgroup_ci_low,
        ci_high as subgroup_ci_high,
        overall_value,
        overall_ci_low,
        overall_ci_high,
        ratio_to_overall,
        complement_value,
        complement_ci_low,
        complement_ci_high,
        complement_source,
        interaction_ratio,
        interaction_ci_low,
        interaction_ci_high,
        interaction_p,
        case
            when subgroup_significant and complement_significant
                and (y > 0) <> (complement_y > 0) then 'qualitative_interaction'
            when subgroup_significant and overall_significant then 'both_significant'
            when subgroup_significant and not overall_significant then 'subgroup_only_significant'
            when not subgroup_significant and overall_significant then 'overall_only_significant'
            when not subgroup_significant and not overall_significant then 'neither_significant'
        end as pattern,
        y as subgroup_y,
        se as subgroup_se,
        overall_y,
        overall_se,
        complement_y,
        complement_se,
        interaction_y,
        interaction_se
    from significance

)

select * from final
