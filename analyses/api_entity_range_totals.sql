-- Read API /api/entities/{level}/{entity_id}: every metric of one entity over a
-- date range (docs/metrics.md §8, range_totals), as dashboard_date_range_totals,
-- with the rates' denominators and provisional flags (range_total_denominators).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

range_rows as (

    select *
    from {{ ref('entity_daily_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and date between cast($3 as date) and cast($4 as date)

),

summed as (

    select
        {{ range_total_sums() }}
    from range_rows

),

totals as (

    select
        {{ range_total_metrics() }},
        {{ range_total_denominators() }}
    from summed

)

select * from totals
