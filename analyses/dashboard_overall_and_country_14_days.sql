-- Dashboard: overall AND per-country totals of one entity over a date range
-- (typically 14 days, or one day with start = end), in one query (the spec's
-- "critical use case"), in the spec's JSON shape: breakdown_type "all" /
-- country "ALL" first, then one row per country; total_spend, total_trials,
-- total_purchases and total_revenue, then every metric's §8 total.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

overall_rows as (

    select *
    from {{ ref('entity_daily_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and date between cast($3 as date) and cast($4 as date)

),

country_rows as (

    select *
    from {{ ref('entity_country_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and date between cast($3 as date) and cast($4 as date)

),

{{ overall_and_country_totals() }}
