-- Read API /api/overview/{level}/sparkline: every entity of one level summed
-- per day, for the last $days days ending on $end_day, zero-filled. Each day is
-- the §8 total of that day's rows (range_totals): sums, and ratios of the sums
-- (a day's ROAS is Σ adjusted ÷ Σ spend, never an average of entities' ROAS).
-- Filtering on one level matters: every level carries the same spend.
-- Parameters (prepared statement): $1 entity_type, $2 end_day, $3 days

with

days as (

    {{ sparkline_days('$2', '$3') }}

),

level_rows as (

    select *
    from {{ ref('level_daily_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and date between cast($2 as date) - (cast($3 as integer) - 1) and cast($2 as date)

),

{{ daily_range_totals('level_rows', one_row_per_day=true) }}
