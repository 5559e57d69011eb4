-- The serving copy's (SQLite) api_entity_table: one row per entity of a level,
-- with every metric's range total (range_totals, flavour sqlite) and its cohort
-- curve columns (cohort_curve_totals), sorted and paginated, as api_entity_table
-- returns it. The sums come from running sums: the entity's running sums on the
-- range's last day minus those on the day before it, two keyed reads per entity
-- for the parts and two for the curves (a column per horizon), whatever the
-- range's length.
-- entity_daily_metrics holds every entity on every day of the window (gate test
-- date_spine_complete): both days have a row, but the day before a range that
-- starts on the window's first day (none: the sums start at 0). The curves' sums
-- come the same way (serving_curve_range_sums).
-- Parameters (prepared statement): $1 entity_type, $2 start_day, $3 end_day, $4 parent_id, $5 sort, $6 sort_order, $7 page_limit, $8 page_offset

with

entities as (

    select
        entity_type,
        entity_id,
        entity_name,
        parent_id
    from {{ serving_table('entity_names') }}
    where
        entity_type = $1
        and ($4 is null or parent_id = $4)

),

entity_sums as (

    select
        entities.entity_type,
        entities.entity_id,
        {{ range_total_differences('through_last', 'before_first', 'sqlite') }}
    from entities
    inner join {{ serving_table('entity_daily_running_parts') }} as through_last
        on
            entities.entity_type = through_last.entity_type
            and entities.entity_id = through_last.entity_id
            and through_last.date = $3
    left join {{ serving_table('entity_daily_running_parts') }} as before_first
        on
            entities.entity_type = before_first.entity_type
            and entities.entity_id = before_first.entity_id
            and before_first.date = date($2, '-1 day')

),

{{ serving_curve_range_sums('entities', '$2', '$3') }},

{{ entity_table_page('sqlite', summed=true) }}
