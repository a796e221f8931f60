-- One comparison key per (trial, experimental arm words, comparator arm words): articles that
-- name the same comparator more or less fully ("SOC" / "SOC endocrine therapy" / "endocrine
-- therapy") meet on the fullest wording of it seen in the trial.
with

estimates as (

    select * from staging.estimates

),

arm_pairs as (

    select distinct
        trial_key,
        experimental_tokens,
        comparator_tokens
    from estimates

),

-- a comparator whose words are all contained in another's, for the same experimental arm,
-- is taken to name the same arm; the largest such wording represents the group
candidates as (

    select
        narrow.trial_key,
        narrow.experimental_tokens,
        narrow.comparator_tokens,
        wide.comparator_tokens as representative_tokens,
        row_number() over (
            partition by narrow.trial_key, narrow.experimental_tokens, narrow.comparator_tokens
            order by len(wide.comparator_tokens) desc, array_to_string(wide.comparator_tokens, ' ')
        ) as preference
    from arm_pairs as narrow
    inner join arm_pairs as wide
        on narrow.trial_key = wide.trial_key
        and narrow.experimental_tokens = wide.experimental_tokens
        and list_has_all(wide.comparator_tokens, narrow.comparator_tokens)

),

final as (

    select
        trial_key,
        experimental_tokens,
        comparator_tokens,
        array_to_string(experimental_tokens, ' ')
        || ' vs '
        || array_to_string(representative_tokens, ' ') as comparison_key
    from candidates
    where preference = 1

)

select * from final
