-- The serving copy's (SQLite) api_overview_sparkline: every entity of one
-- level summed per day, the last $days days ending on $end_day, zero-filled,
-- each day's §8 totals of that day's rows (range_totals).
-- Parameters (prepared statement): $1 entity_type, $2 end_day, $3 days

with recursive

days (series_date) as (

    {{ serving_sparkline_days('$2', '$3') }}

),

-- materialized: the level's rows of the range once (SQLite would rescan them per day)
level_rows as materialized (

    select *
    from {{ serving_table('entity_daily_range_parts') }}
    where
        entity_type = $1
        and date between date($2, printf('-%d days', $3 - 1)) and $2

),

{{ daily_range_totals('level_rows', 'sqlite') }}
