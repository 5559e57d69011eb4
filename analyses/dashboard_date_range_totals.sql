-- Dashboard: totals of one entity over a date range (overall).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day
-- Ratios of a range are recomputed from the summed counts with the same macros
-- as the daily rows, rather than averaged over days (an average of daily ratios
-- would weight a 1-trial day like a 100-trial day).

with

range_rows as (

    select *
    from {{ ref('entity_daily_metrics') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between $3 and $4

),

totals as (

    select
        sum(meta_spend) as total_spend,
        sum(meta_trial_count) as total_meta_trials,
        sum(meta_purchase_count) as total_meta_purchases,
        sum(mixpanel_trial_count) as total_trials,
        sum(mixpanel_purchase_count) as total_purchases,
        sum(actual_revenue_usd) as total_actual_revenue,
        sum(net_actual_revenue_usd) as total_net_actual_revenue,
        sum(adjusted_estimated_revenue_usd) as total_revenue,
        sum(profit_usd) as total_profit
    from range_rows

),

final as (

    select
        total_spend,
        total_meta_trials,
        total_meta_purchases,
        total_trials,
        total_purchases,
        total_actual_revenue,
        total_net_actual_revenue,
        total_revenue,
        total_profit,
        {{ safe_divide('total_revenue', 'total_spend') }} as total_roas,
        {{ trial_accuracy_ratio('total_trials', 'total_meta_trials') }} as trial_accuracy_ratio,
        {{ purchase_accuracy_ratio('total_purchases', 'total_meta_purchases') }} as purchase_accuracy_ratio
    from totals

)

select * from final
