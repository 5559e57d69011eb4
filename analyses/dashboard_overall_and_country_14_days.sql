-- Dashboard: overall AND per-country totals of one entity over a date range
-- (typically 14 days), in one query (the spec's "critical use case").
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

overall as (

    select
        'overall' as breakdown_type,
        'ALL' as country_code,
        sum(meta_spend) as total_spend,
        sum(mixpanel_trial_count) as total_trials,
        sum(mixpanel_purchase_count) as total_purchases,
        sum(adjusted_estimated_revenue_usd) as total_revenue,
        sum(profit_usd) as total_profit,
        avg(trial_accuracy_ratio) as avg_trial_accuracy
    from {{ ref('entity_daily_metrics') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between $3 and $4

),

by_country as (

    select
        'country' as breakdown_type,
        country_code,
        sum(meta_spend) as total_spend,
        sum(mixpanel_trial_count) as total_trials,
        sum(mixpanel_purchase_count) as total_purchases,
        sum(adjusted_estimated_revenue_usd) as total_revenue,
        sum(profit_usd) as total_profit,
        avg(trial_accuracy_ratio) as avg_trial_accuracy
    from {{ ref('entity_country_breakdown') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between $3 and $4
    group by country_code

),

unioned as (

    select * from overall
    union all
    select * from by_country

)

select * from unioned
order by breakdown_type desc, total_spend desc, country_code asc
