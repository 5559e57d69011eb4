-- One row per (distinct_id, product_id, cohort_date) with a refunded trial
-- pair or purchase pair: the refund money of metric-contract §5,
-- `actual_refunds_usd`. A refund event counts once even when it refunds both
-- the trial pair and the purchase pair of the same product and day: the
-- refunds counted are those at or after the earlier of the two pairs' start
-- points (the first matching conversion, the purchase).

with

trial_pairs as (

    select * from {{ ref('int_trial_pairs_matched') }}

),

purchase_pairs as (

    select * from {{ ref('int_purchase_pairs_matched') }}

),

events as (

    select * from {{ ref('int_revenuecat_events_windowed') }}

),

refund_start_points as (

    select
        distinct_id,
        product_id,
        cohort_date,
        first_converted_at as counted_from
    from trial_pairs
    where is_refunded

    union all

    select
        distinct_id,
        product_id,
        cohort_date,
        purchased_at as counted_from
    from purchase_pairs
    where is_refunded

),

earliest_start_points as (

    select
        distinct_id,
        product_id,
        cohort_date,
        min(counted_from) as counted_from
    from refund_start_points
    group by distinct_id, product_id, cohort_date

),

refunds_matched as (

    select
        earliest_start_points.distinct_id,
        earliest_start_points.product_id,
        earliest_start_points.cohort_date,
        sum(abs(events.revenue_usd)) as refund_usd
    from earliest_start_points
    inner join events
        on
            earliest_start_points.distinct_id = events.distinct_id
            and earliest_start_points.product_id = events.product_id
            and earliest_start_points.counted_from <= events.event_time
    where events.is_refund
    group by earliest_start_points.distinct_id, earliest_start_points.product_id, earliest_start_points.cohort_date

)

select * from refunds_matched
