-- The serving copy's (SQLite) api_entity_range_totals: every metric of one
-- entity over a date range with the rates' denominators and provisional flags,
-- the same range_totals formulas (flavour sqlite).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

range_rows as (

    select *
    from {{ serving_table('entity_daily_range_parts') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between $3 and $4

),

summed as (

    select
        {{ range_total_sums('sqlite') }}
    from range_rows

),

totals as (

    select
        {{ range_total_metrics('sqlite') }},
        {{ range_total_denominators() }}
    from summed

)

select * from totals
