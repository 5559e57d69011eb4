-- Dashboard: the 14-day sparkline of one entity row, ending on $3.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 target_day. Reads 14 rows, in order.

select
    date,
    meta_spend,
    adjusted_estimated_revenue_usd,
    profit_usd,
    estimated_roas,
    mixpanel_purchase_count,
    mixpanel_trial_count,
    trial_accuracy_ratio,
    purchase_accuracy_ratio
from {{ ref('entity_daily_metrics') }}
where
    entity_type = $1
    and entity_id = $2
    and date between {{ dbt.dateadd('day', -13, 'cast($3 as date)') }} and cast($3 as date)
order by date
