-- The serving copy's (SQLite) api_entity_curve: one entity's cohort curve over
-- the cohort dates start_day .. end_day (cohort_curve_totals, flavour sqlite),
-- as api_entity_curve returns it: two keyed rows of running sums, a column per
-- horizon (serving_curve_range_sums).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

curve_entity as (

    select
        $1 as entity_type,
        $2 as entity_id

),

{{ serving_curve_range_sums('curve_entity', '$3', '$4') }},

{{ cohort_curve_totals('curve_sums', 'sqlite', summed=true) }},

final as (

    select
        *,
        {{ cohort_payback_days() }} over () as payback_days
    from curve_totals

)

select * from final
order by days_since_cohort
