-- One row per refund event and cohort product-day (distinct_id, product_id,
-- cohort_date, refund event): the one place where pairs meet their refunds
-- (docs/metrics.md §4). A refund of the product counts for the day's converted
-- trial pair at or after its first matching conversion, and for the day's
-- purchase pair at or after the purchase. A refund of both pairs is one row,
-- so its money counts once. Each pair's refunded flag
-- and the product-day's refund money are derived from this model
-- (int_entity_cohort_pairs_joined).

with

cohort_pairs as (

    select * from {{ ref('int_cohort_pairs_matched') }}

),

events as (

    select * from {{ ref('int_revenuecat_events_windowed') }}

),

-- a converted trial pair is refundable from its first matching conversion, a
-- purchase pair from its purchase
refundable_pairs as (

    select
        distinct_id,
        product_id,
        cohort_date,
        pair_type,
        case when pair_type = 'trial' then first_converted_at else started_at end as refundable_from
    from cohort_pairs
    where pair_type = 'purchase' or is_converted

),

pair_refunds as (

    select
        refundable_pairs.distinct_id,
        refundable_pairs.product_id,
        refundable_pairs.cohort_date,
        refundable_pairs.pair_type,
        events.event_uuid,
        events.event_name,
        events.event_time,
        abs(events.revenue_usd) as refund_usd
    from refundable_pairs
    inner join events
        on
            refundable_pairs.distinct_id = events.distinct_id
            and refundable_pairs.product_id = events.product_id
            and refundable_pairs.refundable_from <= events.event_time
    where events.is_refund

),

-- one row per refund event: the pairs it refunds
refunds_matched as (

    select
        -- keys
        distinct_id,
        product_id,
        cohort_date,
        event_uuid,
        event_name,
        event_time,

        -- money
        refund_usd,

        -- the pairs it refunds
        max(case when pair_type = 'trial' then 1 else 0 end) = 1 as refunds_trial_pair,
        max(case when pair_type = 'purchase' then 1 else 0 end) = 1 as refunds_purchase_pair
    from pair_refunds
    group by distinct_id, product_id, cohort_date, event_uuid, event_name, event_time, refund_usd

)

select * from refunds_matched
