-- Read API /api/entities/{level}/{entity_id}/curve: one entity's cohort curve
-- over the cohort dates start_day .. end_day (docs/metrics.md §9, cohort_curve_totals),
-- one row per horizon N, with the range's payback day on every row.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

curve_rows as (

    select
        entity_type,
        entity_id,
        days_since_cohort,
        {{ cohort_curve_columns('sum') | join(',\n        ') }},
        is_complete
    from {{ ref('entity_cohort_curves') }}
    where
        entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and cohort_date between cast($3 as date) and cast($4 as date)

),

{{ cohort_curve_totals('curve_rows') }},

final as (

    select
        *,
        {{ cohort_payback_days() }} over () as payback_days
    from curve_totals

)

select * from final
order by days_since_cohort
