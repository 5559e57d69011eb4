-- The serving copy's (SQLite) api_level_range_totals: every entity of one level
-- summed over a date range and over the previous period, and the change of each
-- metric (range_totals, flavour sqlite).
-- Parameters (prepared statement): $1 entity_type, $2 start_day, $3 end_day, $4 previous_start, $5 previous_end

with

periods as (

    select
        'current' as period,
        $2 as first_day,
        $3 as last_day
    union all
    select
        'previous' as period,
        $4 as first_day,
        $5 as last_day

),

-- materialized: the level's rows of both periods once
level_rows as materialized (

    select *
    from {{ serving_table('level_daily_range_parts') }}
    where
        entity_type = $1
        and date between $4 and $3

),

{{ level_range_totals('sqlite') }}
