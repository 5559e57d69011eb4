-- One row per trial pair (distinct_id, product_id, cohort_date): a user's
-- `RC Trial started` for a product on day D, within the reporting window,
-- matched to its conversion and value estimates (metric-contract §4; its
-- refunds are matched in int_cohort_refunds_matched):
--   * started_at:   the earliest trial start of that user and product on D
--   * post-trial:   D <= as_of_date - trial_days
--   * converted:    post-trial, and an `RC Trial converted` of the same
--                   product at or after started_at

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

trial_pairs as (

    select
        events.distinct_id,
        events.product_id,
        events.event_date as cohort_date,
        min(events.event_time) as started_at
    from events
    cross join reporting_window
    where
        events.event_name = 'RC Trial started'
        and events.event_date >= reporting_window.start_date
    group by events.distinct_id, events.product_id, events.event_date

),

post_trial_flagged as (

    select
        trial_pairs.*,
        trial_pairs.cohort_date <= reporting_window.last_post_trial_cohort_date as is_post_trial
    from trial_pairs
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

        -- lifecycle
        post_trial_flagged.started_at,
        post_trial_flagged.is_post_trial,
        conversions_matched.first_converted_at,

        -- value estimates
        product_metrics.trial_conversion_rate,
        product_metrics.trial_converted_to_refund_rate,
        product_metrics.current_value_usd,

        -- flags
        conversions_matched.distinct_id is not null as is_converted,
        product_metrics.distinct_id is not null as has_product_metrics,

        -- money
        coalesce(conversions_matched.conversion_revenue_usd, 0) as conversion_revenue_usd
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
