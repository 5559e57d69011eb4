-- The serving copy's (SQLite) api_level_sparklines: the row sparklines of the
-- entity table, every entity of a level (or child of $parent_id), the last
-- $days days ending on $end_day, one row per entity and day, zero-filled.
-- Each (entity, day) is one row of entity_daily_range_parts, read by its key.
-- Parameters (prepared statement): $1 entity_type, $2 parent_id, $3 end_day, $4 days

with recursive

days (series_date) as (

    {{ serving_sparkline_days('$3', '$4') }}

),

entities as (

    select entity_id
    from {{ serving_table('entity_names') }}
    where
        entity_type = $1
        and ($2 is null or parent_id = $2)

),

level_rows as (

    select *
    from {{ serving_table('entity_daily_range_parts') }}
    where entity_type = $1

),

{{ daily_range_totals('level_rows', 'sqlite', entities='entities', one_row_per_day=true) }}
