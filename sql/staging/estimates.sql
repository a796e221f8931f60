-- Effect estimates on their analysis scale: log for ratios, natural for differences,
-- with the standard error recovered from each interval at its own level.
with

estimates as (

    select * from core.effect_estimates

),

scaled as (

    select
        *,
        measure in ('HR', 'OR', 'RR', 'IRR') as is_ratio,
        ci_level is not null as level_stated,
        coalesce(ci_level, 95.0) as level
    from estimates

),

-- printed precision is inferred from the stored numbers (0.50 is stored as 0.5, so trailing
-- zeros are lost): at least 2 decimals for ratios, 1 for differences
precision as (

    select
        *,
        greatest(
            case when is_ratio then 2 else 1 end,
            list_max(list_transform(
                list_filter([value, ci_low, ci_high], lambda figure: figure is not null),
                lambda figure: coalesce(list_min(list_filter(
                    range(0, 13),
                    lambda d: abs(round(figure, d::integer) - figure) <= 1e-9 * greatest(1.0, abs(figure))
                )), 12)
            ))
        )::integer as figure_decimals,
        list_min(list_filter(
            range(0, 21),
            lambda d: abs(round(p, d::integer) - p) <= 1e-9 * p
        ))::integer as p_decimals
    from scaled

),

-- arm names are compared as sorted sets of content words, so that wording, case, dashes,
-- "plus"/"+" and filler such as "monotherapy" or "arm" do not split one comparison in two
arms as (

    select
        *,
        regexp_replace(
            lower(coalesce(comparison, '')), '\s+(versus|vs\.?|v\.)\s+', ' vs ', 'g'
        ) as comparison_clean
    from precision

),

arm_texts as (

    select
        *,
        coalesce(
            lower(experimental_arm),
            nullif(split_part(comparison_clean, ' vs ', 1), '')
        ) as experimental_text,
        coalesce(
            lower(comparator_arm),
            nullif(split_part(comparison_clean, ' vs ', 2), '')
        ) as comparator_text
    from arms

),

-- one lambda serves both arms: [1] experimental, [2] comparator
arm_tokens as (

    select
        *,
        list_transform(
            [coalesce(experimental_text, ''), coalesce(comparator_text, '')],
            lambda arm_text: list_sort(list_distinct(list_filter(
                list_transform(
                    regexp_split_to_array(
                        regexp_replace(
                            regexp_replace(arm_text, '\[[^\]]*\]', ' ', 'g'),
                            'standard[\s-]+of[\s-]+care', 'soc', 'g'
                        ),
                        '[^\pL\pN]+'
                    ),
                    lambda word: case word when 'soc' then 'standard' when 'pbo' then 'placebo' else word end
                ),
                lambda word: word <> '' and word not in (
                    'a', 'an', 'the', 'of', 'and', 'or', 'with', 'plus', 'alone', 'only', 'arm',
                    'arms', 'group', 'groups', 'monotherapy', 'therapy', 'treatment',
                    'combination', 'regimen', 'two', 'single', 'agent', 'patients'
                )
            )))
        ) as arm_token_sets
    from arm_texts

),

final as (

    select
        estimate_id,
        article_id,
        trial_id,
        coalesce(trial_id, 'article:' || article_id) as trial_key,
        endpoint,
        endpoint_text,
        -- the catch-all endpoints lump unrelated outcomes: only the same wording matches
        case
            when endpoint in ('OTHER', 'AE')
                then endpoint || ': ' || regexp_replace(lower(trim(coalesce(endpoint_text, ''))), '\s+', ' ', 'g')
            else endpoint
        end as endpoint_key,
        population,
        subgroup,
        subgroup_variable,
        subgroup_level,
        case
            when population = 'overall' then null
            when subgroup_variable is not null and subgroup_level is not null
                then lower(trim(subgroup_variable)) || ' = ' || lower(trim(subgroup_level))
            else nullif(regexp_replace(lower(trim(subgroup)), '\s+', ' ', 'g'), '')
        end as subgroup_key,
        comparison,
        experimental_arm,
        comparator_arm,
        arm_token_sets[1] as experimental_tokens,
        arm_token_sets[2] as comparator_tokens,
        measure,
        is_ratio,
        case when is_ratio then 1.0 else 0.0 end as null_value,
        value,
        ci_low,
        ci_high,
        figure_decimals,
        ci_level,
        level_stated,
        level,
        case when not is_ratio then value when value > 0 then ln(value) end as y,
        case when not is_ratio then ci_low when ci_low > 0 then ln(ci_low) end as y_low,
        case when not is_ratio then ci_high when ci_high > 0 then ln(ci_high) end as y_high,
        z_crit(level) as zcrit,
        se_from_ci(ci_low, ci_high, level, is_ratio) as se,
        p,
        p_decimals,
        p_relation,
        claimed_significance,
        evidence,
        span_start,
        span_end
    from arm_tokens

)

select * from final
