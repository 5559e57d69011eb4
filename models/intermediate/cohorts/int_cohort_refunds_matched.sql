-- One row per refund event and cohort product-day (distinct_id, product_id,
-- cohort_date, refund event): the one place where pairs meet their refunds
-- (metric-contract §4). A refund of the product counts for the day's converted
-- trial pair at or after its first matching conversion, and for the day's
-- purchase pair at or after the purchase. A refund of both pairs is one row,
-- so its money counts once (docs/decisions.md D12). Each pair's refunded flag
-- and the product-day's refund money are derived from this model
-- (int_entity_cohort_pairs_joined).

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

refundable_pairs as (

    select
        distinct_id,
        product_id,
        cohort_date,
        'trial' as pair_type,
        first_converted_at as refundable_from
    from trial_pairs
    where is_converted

    union all

    select
        distinct_id,
        product_id,
        cohort_date,
        'purchase' as pair_type,
        purchased_at as refundable_from
    from purchase_pairs

),

refunds_matched as (

    select
        -- keys
        refundable_pairs.distinct_id,
        refundable_pairs.product_id,
        refundable_pairs.cohort_date,
        events.event_uuid,
        events.event_name,
        events.event_time,

        -- the pairs it refunds
        max(case when refundable_pairs.pair_type = 'trial' then 1 else 0 end) = 1 as refunds_trial_pair,
        max(case when refundable_pairs.pair_type = 'purchase' then 1 else 0 end) = 1 as refunds_purchase_pair,

        -- money
        abs(events.revenue_usd) as refund_usd
    from refundable_pairs
    inner join events
        on
            refundable_pairs.distinct_id = events.distinct_id
            and refundable_pairs.product_id = events.product_id
            and refundable_pairs.refundable_from <= events.event_time
    where events.is_refund
    group by
        refundable_pairs.distinct_id,
        refundable_pairs.product_id,
        refundable_pairs.cohort_date,
        events.event_uuid,
        events.event_name,
        events.event_time,
        events.revenue_usd

)

select * from refunds_matched
