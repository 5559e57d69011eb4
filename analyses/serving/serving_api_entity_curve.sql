-- The serving copy's (SQLite) api_entity_curve: one entity's cohort curve over
-- the cohort dates start_day .. end_day (cohort_curve_totals, flavour sqlite),
-- as api_entity_curve returns it.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

curve_rows as (

    select
        entity_type,
        entity_id,
        days_since_cohort,
        {{ cohort_curve_columns('sum') | join(',\n        ') }},
        is_complete
    from {{ serving_table('entity_cohort_curves') }}
    where
        entity_type = $1
        and entity_id = $2
        and cohort_date between $3 and $4

),

{{ cohort_curve_totals('curve_rows', 'sqlite') }},

final as (

    select
        *,
        {{ cohort_payback_days() }} over () as payback_days
    from curve_totals

)

select * from final
order by days_since_cohort
