-- Dashboard: overall AND per-country totals of one entity over a date range
-- (typically 14 days, or one day with start = end), in one query (the spec's
-- "critical use case"), in the spec's JSON shape: breakdown_type "all" /
-- country "ALL" first, then one row per country; total_spend, total_trials,
-- total_purchases and total_revenue, then every metric's §8 total, and the
-- denominators and provisional flags of the rates (range_total_denominators).
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

overall_sums as (

    select
        'all' as breakdown_type,
        'ALL' as country,
        {{ range_total_sums() }}
    from overall_rows

),

country_sums as (

    select
        'country' as breakdown_type,
        country_code as country,
        {{ range_total_sums() }}
    from country_rows
    group by country_code

),

unioned as (

    select * from overall_sums
    union all by name
    select * from country_sums

),

totals as (

    select
        breakdown_type,
        country,
        {{ range_total_metrics() }},
        {{ range_total_denominators() }}
    from unioned

),

final as (

    select
        * exclude (breakdown_type, country),
        breakdown_type,
        country,
        meta_spend as total_spend,
        mixpanel_trial_count as total_trials,
        mixpanel_purchase_count as total_purchases,
        adjusted_estimated_revenue_usd as total_revenue
    from totals

)

select * from final
order by breakdown_type asc, total_spend desc, country asc
