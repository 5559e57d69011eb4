-- One row per purchase pair (distinct_id, product_id, cohort_date): a user's
-- `RC Initial purchase` of a product on day D, within the reporting window,
-- with its value estimates (metric-contract §4; its refunds are matched in
-- int_cohort_refunds_matched):
--   * purchased_at:  the earliest initial purchase of that user and product on D
--   * revenue:       all of that user's initial purchases of the product on D

with

events as (

    select * from {{ ref('int_revenuecat_events_windowed') }}

),

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

product_metrics as (

    select * from {{ ref('stg_mixpanel__user_product_metrics') }}

),

purchase_pairs as (

    select
        events.distinct_id,
        events.product_id,
        events.event_date as cohort_date,
        min(events.event_time) as purchased_at,
        coalesce(sum(events.revenue_usd), 0) as purchase_revenue_usd
    from events
    cross join reporting_window
    where
        events.event_name = 'RC Initial purchase'
        and events.event_date >= reporting_window.start_date
    group by events.distinct_id, events.product_id, events.event_date

),

final as (

    select
        -- keys
        purchase_pairs.distinct_id,
        purchase_pairs.product_id,
        purchase_pairs.cohort_date,

        -- lifecycle and money
        purchase_pairs.purchased_at,
        purchase_pairs.purchase_revenue_usd,

        -- value estimates
        product_metrics.initial_purchase_to_refund_rate,
        product_metrics.current_value_usd,

        -- flags
        product_metrics.distinct_id is not null as has_product_metrics
    from purchase_pairs
    left join product_metrics
        on
            purchase_pairs.distinct_id = product_metrics.distinct_id
            and purchase_pairs.product_id = product_metrics.product_id

)

select * from final
