-- One row per distinct set of figures for a (trial, endpoint, comparison, population,
-- subgroup, measure): articles repeating the same figures corroborate one another; different
-- figures for the same key (other data cuts or analyses) are all kept and flagged, never averaged.
with

estimates as (

    select * from staging.estimates

),

comparisons as (

    select * from staging.comparisons

),

keyed as (

    select
        estimates.*,
        comparisons.comparison_key
    from estimates
    inner join comparisons
        on estimates.trial_key = comparisons.trial_key
        and estimates.experimental_tokens = comparisons.experimental_tokens
        and estimates.comparator_tokens = comparisons.comparator_tokens

),

-- reading order: first article, then first position in it
ordered as (

    select
        *,
        row_number() over (
            partition by
                trial_key, endpoint_key, comparison_key, population, subgroup_key, measure,
                value, ci_low, ci_high
            order by article_id, span_start, estimate_id
        ) as reading_order
    from keyed

),

figures as (

    select
        trial_key,
        endpoint_key,
        comparison_key,
        population,
        subgroup_key,
        measure,
        value,
        ci_low,
        ci_high,
        count(distinct article_id) as n_articles,
        string_agg(distinct article_id, ',' order by article_id) as article_ids,
        string_agg(estimate_id, ',' order by estimate_id) as estimate_ids,
        count(*) as n_estimates,
        first(ci_level order by reading_order) filter (where ci_level is not null) as ci_level,
        first({'p': p, 'p_relation': p_relation} order by reading_order)
            filter (where p is not null) as first_p,
        bool_or(claimed_significance) filter (where claimed_significance is not null)
            as any_claim_significant,
        bool_and(claimed_significance) filter (where claimed_significance is not null)
            as all_claims_significant
    from ordered
    group by all

),

firsts as (

    select * from ordered where reading_order = 1

),

joined as (

    select
        firsts.estimate_id as canonical_estimate_id,
        firsts.trial_id,
        figures.trial_key,
        firsts.endpoint,
        figures.endpoint_key,
        firsts.endpoint_text,
        figures.comparison_key,
        firsts.comparison,
        firsts.experimental_arm,
        firsts.comparator_arm,
        figures.population,
        figures.subgroup_key,
        firsts.subgroup,
        firsts.subgroup_variable,
        firsts.subgroup_level,
        figures.measure,
        firsts.is_ratio,
        firsts.null_value,
        figures.value,
        figures.ci_low,
        figures.ci_high,
        figures.ci_level,
        coalesce(figures.ci_level, 95.0) as level,
        figures.first_p.p as p,
        figures.first_p.p_relation as p_relation,
        firsts.y,
        se_from_ci(figures.ci_low, figures.ci_high, figures.ci_level, firsts.is_ratio) as se,
        figures.n_articles,
        figures.article_ids,
        figures.n_estimates,
        figures.estimate_ids,
        -- claims agree when all articles that make one make the same one
        case
            when figures.any_claim_significant is null then null
            when figures.any_claim_significant = figures.all_claims_significant
                then figures.all_claims_significant
        end as claimed_significance,
        count(*) over (
            partition by
                figures.trial_key, figures.endpoint_key, figures.comparison_key,
                figures.population, figures.subgroup_key, figures.measure
        ) as n_figures
    from figures
    inner join firsts
        on figures.trial_key = firsts.trial_key
        and figures.endpoint_key = firsts.endpoint_key
        and figures.comparison_key = firsts.comparison_key
        and figures.population = firsts.population
        and figures.subgroup_key is not distinct from firsts.subgroup_key
        and figures.measure = firsts.measure
        and figures.value = firsts.value
        and figures.ci_low is not distinct from firsts.ci_low
        and figures.ci_high is not distinct from firsts.ci_high

),

final as (

    select
        *,
        n_figures > 1 as conflicting
    from joined

)

select * from final
