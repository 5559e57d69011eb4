-- One row per cohort pair (distinct_id, product_id, cohort_date, pair_type): a
-- user's `RC Trial started` (a trial pair) or `RC Initial purchase` (a purchase
-- pair) of a product on day D, within the reporting window, with its value
-- estimates and, for a trial pair, its conversion (docs/metrics.md §4; the
-- refunds are matched in int_cohort_refunds_matched):
--   * started_at:   the earliest trial start or purchase of that user and product on D
--   * post-trial:   a trial pair with D <= as_of_date - trial_days
--   * converted:    a post-trial pair with an `RC Trial converted` of the same
--                   product at or after started_at
--   * revenue:      a trial pair's matching conversions; a purchase pair's
--                   initial purchases of the product on D

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

cohort_pairs as (

    select
        events.distinct_id,
        events.product_id,
        events.event_date as cohort_date,
        case when events.event_name = 'RC Trial started' then 'trial' else 'purchase' end as pair_type,
        min(events.event_time) as started_at,
        coalesce(sum(events.revenue_usd), 0) as purchase_revenue_usd
    from events
    cross join reporting_window
    where
        events.event_name in ('RC Trial started', 'RC Initial purchase')
        and events.event_date >= reporting_window.start_date
    group by events.distinct_id, events.product_id, events.event_date, events.event_name

),

post_trial_flagged as (

    select
        cohort_pairs.*,
        cohort_pairs.pair_type = 'trial'
        and cohort_pairs.cohort_date <= reporting_window.last_post_trial_cohort_date as is_post_trial
    from cohort_pairs
    cross join reporting_window

),

conversions_matched as (

    select
        post_trial_flagged.distinct_id,
        post_trial_flagged.product_id,
        post_trial_flagged.cohort_date,
        min(events.event_time) as first_converted_at,
        coalesce(sum(events.revenue_usd), 0) as conversion_revenue_usd
    from post_trial_flagged
    inner join events
        on
            post_trial_flagged.distinct_id = events.distinct_id
            and post_trial_flagged.product_id = events.product_id
            and post_trial_flagged.started_at <= events.event_time
    where
        post_trial_flagged.is_post_trial
        and events.event_name = 'RC Trial converted'
    group by post_trial_flagged.distinct_id, post_trial_flagged.product_id, post_trial_flagged.cohort_date

),

final as (

    select
        -- keys
        post_trial_flagged.distinct_id,
        post_trial_flagged.product_id,
        post_trial_flagged.cohort_date,
        post_trial_flagged.pair_type,

        -- lifecycle
        post_trial_flagged.started_at,
        post_trial_flagged.is_post_trial,
        conversions_matched.first_converted_at,
        product_metrics.current_value_usd,
        conversions_matched.distinct_id is not null as is_converted,

        -- money
        case
            when post_trial_flagged.pair_type = 'trial' then coalesce(conversions_matched.conversion_revenue_usd, 0)
            else post_trial_flagged.purchase_revenue_usd
        end as revenue_usd,

        -- value estimates: whether the pair has a metrics row, and the rates of its kind
        product_metrics.distinct_id is not null as has_product_metrics,
        case when post_trial_flagged.pair_type = 'trial' then product_metrics.trial_conversion_rate end
            as trial_conversion_rate,
        case when post_trial_flagged.pair_type = 'trial' then product_metrics.trial_converted_to_refund_rate end
            as trial_converted_to_refund_rate,
        case when post_trial_flagged.pair_type = 'purchase' then product_metrics.initial_purchase_to_refund_rate end
            as initial_purchase_to_refund_rate
    from post_trial_flagged
    left join conversions_matched
        on
            post_trial_flagged.distinct_id = conversions_matched.distinct_id
            and post_trial_flagged.product_id = conversions_matched.product_id
            and post_trial_flagged.cohort_date = conversions_matched.cohort_date
    left join product_metrics
        on
            post_trial_flagged.distinct_id = product_metrics.distinct_id
            and post_trial_flagged.product_id = product_metrics.product_id

)

select * from final
