-- Read API /api/overview/{level}/totals: every entity of one level summed over a
-- date range and over the previous period, each the §8 totals of its rows
-- (range_totals, with the rates' denominators and provisional flags), and the
-- change of each metric between them (range_total_changes).
-- Filtering on one level matters: every level carries the same spend.
-- Parameters (prepared statement): $1 entity_type, $2 start_day, $3 end_day, $4 previous_start, $5 previous_end
-- Returns three rows: period 'current', 'previous', 'change'.

with

periods as (

    select
        'current' as period,
        cast($2 as date) as first_day,
        cast($3 as date) as last_day
    union all
    select
        'previous' as period,
        cast($4 as date) as first_day,
        cast($5 as date) as last_day

),

level_rows as (

    select *
    from {{ ref('level_daily_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and date between cast($4 as date) and cast($3 as date)

),

{{ level_range_totals() }}
