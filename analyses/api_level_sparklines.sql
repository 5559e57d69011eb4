-- Read API /api/sparklines: the row sparklines of the entity table in one
-- query, for every entity of a level (or every child of $parent_id), the last
-- $days days ending on $end_day, one row per entity and day, zero-filled. Each
-- day's values are the §8 totals of that entity-day's row (range_total_sums,
-- range_total_metrics), as api_entity_sparkline gives them one entity at a time.
-- Parameters (prepared statement): $1 entity_type, $2 parent_id, $3 end_day, $4 days
-- ($2 NULL: every entity of the level.)

with

days as (

    {{ sparkline_days('$3', '$4') }}

),

entities as (

    select entity_id
    from {{ ref('entity_names') }}
    where
        entity_type = cast($1 as varchar)
        and (cast($2 as varchar) is null or parent_id = cast($2 as varchar))

),

level_rows as (

    select *
    from {{ ref('entity_daily_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and date between cast($3 as date) - (cast($4 as integer) - 1) and cast($3 as date)

),

{{ daily_range_totals('level_rows', 'duckdb', entities='entities', one_row_per_day=true) }}
