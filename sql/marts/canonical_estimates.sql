-- One row per distinct result for a (trial, endpoint, comparison, population, subgroup,
-- measure): articles printing the same figures, or the same figures at a coarser precision,
-- corroborate one another; different figures for the same key (other data cuts or analyses)
-- are all kept and flagged, never averaged.
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

-- an estimate joins the most precisely printed estimate of its key that rounds to its own
-- figures (0.697 (0.552–0.88) and 0.70 (0.55–0.88) are one result); itself when none is finer
representatives as (

    select
        printed.estimate_id,
        finer.estimate_id as representative_id,
        row_number() over (
            partition by printed.estimate_id
            order by finer.figure_decimals desc, finer.article_id, finer.span_start, finer.estimate_id
        ) as preference
    from keyed as printed
    inner join keyed as finer
        on printed.trial_key = finer.trial_key
        and printed.endpoint_key = finer.endpoint_key
        and printed.comparison_key = finer.comparison_key
        and printed.population = finer.population
        and printed.subgroup_key is not distinct from finer.subgroup_key
        and printed.measure = finer.measure
        and finer.figure_decimals >= printed.figure_decimals
        and abs(round(finer.value, printed.figure_decimals) - printed.value) < 1e-9
        and (printed.ci_low is null) = (finer.ci_low is null)
        and (printed.ci_high is null) = (finer.ci_high is null)
        and coalesce(abs(round(finer.ci_low, printed.figure_decimals) - printed.ci_low) < 1e-9, true)
        and coalesce(abs(round(finer.ci_high, printed.figure_decimals) - printed.ci_high) < 1e-9, true)

),

grouped as (

    select
        keyed.*,
        representatives.representative_id,
        -- reading order: first article, then first position in it
        row_number() over (
            partition by representatives.representative_id
            order by keyed.article_id, keyed.span_start, keyed.estimate_id
        ) as reading_order
    from keyed
    inner join representatives
        on keyed.estimate_id = representatives.estimate_id
        and representatives.preference = 1

),

results as (

    select
        representative_id,
        count(distinct article_id) as n_articles,
        string_agg(distinct article_id, ',' order by article_id) as article_ids,
        string_agg(estimate_id, ',' order by estimate_id) as estimate_ids,
        count(*) as n_estimates,
        first(ci_level order by reading_order) filter (where ci_level is not null) as ci_level,
        first({'p': p, 'p_relation': p_relation} order by reading_order)
            filter (where p is not null) as first_p,
        min(reading_order) filter (where estimate_id = representative_id) as representative_order,
        bool_or(claimed_significance) as any_claim_significant,
        bool_and(claimed_significance) as all_claims_significant
    from grouped
    group by representative_id

),

joined as (

    select
        first_read.estimate_id as canonical_estimate_id,
        first_read.trial_id,
        first_read.trial_key,
        first_read.endpoint,
        first_read.endpoint_key,
        first_read.endpoint_text,
        first_read.comparison_key,
        first_read.comparison,
        first_read.experimental_arm,
        first_read.comparator_arm,
        first_read.population,
        first_read.subgroup_key,
        first_read.subgroup,
        first_read.subgroup_variable,
        first_read.subgroup_level,
        first_read.measure,
        first_read.is_ratio,
        first_read.null_value,
        representative.value,
        representative.ci_low,
        representative.ci_high,
        representative.figure_decimals,
        results.ci_level,
        coalesce(results.ci_level, 95.0) as level,
        results.first_p.p as p,
        results.first_p.p_relation as p_relation,
        representative.y,
        se_from_ci(representative.ci_low, representative.ci_high, results.ci_level, representative.is_ratio)
            as se,
        results.n_articles,
        results.article_ids,
        results.n_estimates,
        results.estimate_ids,
        -- claims agree when all articles that make one make the same one
        case
            when results.any_claim_significant = results.all_claims_significant
                then results.all_claims_significant
        end as claimed_significance
    from results
    inner join grouped as first_read
        on results.representative_id = first_read.representative_id
        and first_read.reading_order = 1
    inner join keyed as representative
        on results.representative_id = representative.estimate_id

),

final as (

    select
        *,
        count(*) over (
            partition by trial_key, endpoint_key, comparison_key, population, subgroup_key, measure
        ) as n_figures,
        count(*) over (
            partition by trial_key, endpoint_key, comparison_key, population, subgroup_key, measure
        ) > 1 as conflicting
    from joined

)

select * from final
