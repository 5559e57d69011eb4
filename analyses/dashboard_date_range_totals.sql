-- Dashboard: every metric of one entity over a date range (overall), as
-- docs/metrics.md §8 defines range totals; the read API's
-- /api/entities/{level}/{entity_id} totals.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day
-- Ratios of a range are recomputed from the summed counts (range_totals), never
-- averaged over days (an average of daily ratios would weight a 1-trial day like
-- a 100-trial day).

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
        {{ range_total_metrics() }}
    from summed

)

select * from totals
