-- Dashboard: the 28-day overview sparkline, ending on $2.
-- Parameters (prepared statement): $1 entity_type, $2 target_day
-- Filtering on one level matters: every level carries the same spend, so the
-- spec's unfiltered SUM would count it three times.

select
    date,
    sum(meta_spend) as daily_spend,
    sum(adjusted_estimated_revenue_usd) as daily_revenue,
    sum(profit_usd) as daily_profit
from {{ ref('entity_daily_metrics') }}
where
    entity_type = $1
    and date between {{ dbt.dateadd('day', -27, 'cast($2 as date)') }} and cast($2 as date)
group by date
order by date
