-- The serving copy's (SQLite) api_overview_sparkline: every entity of one
-- level summed per day, the last $days days ending on $end_day, zero-filled,
-- each day's §8 totals of that day's rows (range_totals).
-- Parameters (prepared statement): $1 entity_type, $2 end_day, $3 days

with recursive

days (series_date) as (

    {{ serving_sparkline_days('$2', '$3') }}

),

-- materialized, one row per day: the level's rows of the range summed per day
-- once (the join below would otherwise scan every row of the level per day).
-- A day's sums summed again are the same values (range_total_sums).
level_rows as materialized (

    select
        date,
        {{ range_total_sums('sqlite') }}
    from {{ serving_table('entity_daily_range_parts') }}
    where
        entity_type = $1
        and date between date($2, printf('-%d days', $3 - 1)) and $2
    group by date

),

{{ daily_range_totals('level_rows', 'sqlite') }}
