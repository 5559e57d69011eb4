-- The serving copy's (SQLite) api_overview_sparkline: every entity of one
-- level summed per day, the last $days days ending on $end_day, zero-filled,
-- each day's §8 totals of that day's rows (range_totals): one row of
-- level_daily_range_parts per day, read by its key.
-- Parameters (prepared statement): $1 entity_type, $2 end_day, $3 days

with recursive

days (series_date) as (

    {{ serving_sparkline_days('$2', '$3') }}

),

level_rows as (

    select *
    from {{ serving_table('level_daily_range_parts') }}
    where entity_type = $1

),

{{ daily_range_totals('level_rows', 'sqlite', one_row_per_day=true) }}
