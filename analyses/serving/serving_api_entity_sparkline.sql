-- The serving copy's (SQLite) api_entity_sparkline, overall rows only (a
-- country's sparkline is read from the release file): one entity's last $days
-- days ending on $end_day, zero-filled, each day's §8 totals (range_totals).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 end_day, $4 days

with recursive

days (series_date) as (

    {{ serving_sparkline_days('$3', '$4') }}

),

entity_rows as (

    select *
    from {{ serving_table('entity_daily_range_parts') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between date($3, printf('-%d days', $4 - 1)) and $3

),

{{ daily_range_totals('entity_rows', 'sqlite') }}
