-- Pairs of subgroup levels that split a binary subgroup variable into complementary halves,
-- in both directions, also matched after a shared prefix ("node-positive" / "node-negative").
-- Extend the list here when the subgroup vocabulary gains new wordings;
-- levels of the forms "X" / "not X", "non-X", "no X", "without X" and "with X" / "without X"
-- are recognised without being listed (see marts.subgroup_vs_overall).
with

pairs as (

    select * from (
        values
            ('mutated', 'wild-type'),
            ('mutated', 'wild type'),
            ('mutant', 'wild-type'),
            ('mutation', 'no mutation'),
            ('altered', 'not altered'),
            ('altered', 'non-altered'),
            ('positive', 'negative'),
            ('present', 'absent'),
            ('detected', 'not detected'),
            ('yes', 'no'),
            ('high', 'low'),
            ('premenopausal', 'postmenopausal'),
            ('pre-menopausal', 'post-menopausal'),
            ('male', 'female'),
            ('men', 'women')
    ) as pair (level, complement_level)

),

final as (

    select level, complement_level from pairs
    union all
    select complement_level as level, level as complement_level from pairs

)

select * from final
