-- The serving copy's (SQLite) api_entity_curve: one entity's cohort curve over
-- the cohort dates start_day .. end_day (cohort_curve_totals, flavour sqlite),
-- as api_entity_curve returns it. Per horizon, the running sums of the range's
-- last cohort date minus those of the day before it (entity_curve_running_parts:
-- every entity has a row for every day of the window and horizon, gate test
-- cohort_curve_grid_complete; none before the window's first day).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

horizons as (

    {{ select_cohort_horizons() }}

),

curve_sums as (

    select
        through_last.entity_type,
        through_last.entity_id,
        horizons.days_since_cohort,
        {{ cohort_curve_differences('through_last', 'before_first', 'sqlite') }}
    from horizons
    inner join {{ serving_table('entity_curve_running_parts') }} as through_last
        on
            through_last.entity_type = $1
            and through_last.entity_id = $2
            and horizons.days_since_cohort = through_last.days_since_cohort
            and through_last.cohort_date = $4
    left join {{ serving_table('entity_curve_running_parts') }} as before_first
        on
            before_first.entity_type = $1
            and before_first.entity_id = $2
            and horizons.days_since_cohort = before_first.days_since_cohort
            and before_first.cohort_date = date($3, '-1 day')

),

{{ cohort_curve_totals('curve_sums', 'sqlite', summed=true) }},

final as (

    select
        *,
        {{ cohort_payback_days() }} over () as payback_days
    from curve_totals

)

select * from final
order by days_since_cohort
