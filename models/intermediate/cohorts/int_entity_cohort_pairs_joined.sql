-- One row per entity and cohort pair: every trial pair and purchase pair of an
-- attributed user, repeated at each level where the user has an entity, with
-- the user's country, whether the pair is refunded, and the refund money of
-- the pair's product and day (both from int_cohort_refunds_matched).
-- Grain: (entity_type, entity_id, cohort_date,
-- distinct_id, product_id, pair_type).

with

cohort_pairs as (

    select * from {{ ref('int_cohort_pairs_matched') }}

),

user_entities as (

    select * from {{ ref('int_user_entities_unpivoted') }}

),

refunds as (

    select * from {{ ref('int_cohort_refunds_matched') }}

),

product_day_refunds as (

    select
        distinct_id,
        product_id,
        cohort_date,
        max(case when refunds_trial_pair then 1 else 0 end) = 1 as is_trial_pair_refunded,
        max(case when refunds_purchase_pair then 1 else 0 end) = 1 as is_purchase_pair_refunded,
        -- each refund event once, even when it refunds a trial and a purchase pair
        sum(refund_usd) as refund_usd
    from refunds
    group by distinct_id, product_id, cohort_date

),

joined as (

    select
        -- keys
        user_entities.entity_type,
        user_entities.entity_id,
        cohort_pairs.cohort_date,
        user_entities.country_code,
        cohort_pairs.distinct_id,
        cohort_pairs.product_id,
        cohort_pairs.pair_type,

        -- lifecycle
        cohort_pairs.is_post_trial,
        cohort_pairs.is_converted,

        -- money
        cohort_pairs.revenue_usd,

        -- value estimates
        cohort_pairs.has_product_metrics,
        cohort_pairs.trial_conversion_rate,
        cohort_pairs.trial_converted_to_refund_rate,
        cohort_pairs.initial_purchase_to_refund_rate,
        cohort_pairs.current_value_usd,

        -- refunds: is this pair refunded; the refunds of the user's product and
        -- day, each refund event once
        coalesce(
            case
                when cohort_pairs.pair_type = 'trial' then product_day_refunds.is_trial_pair_refunded
                else product_day_refunds.is_purchase_pair_refunded
            end,
            false
        ) as is_refunded,
        coalesce(product_day_refunds.refund_usd, 0) as product_day_refund_usd
    from cohort_pairs
    inner join user_entities
        on cohort_pairs.distinct_id = user_entities.distinct_id
    left join product_day_refunds
        on
            cohort_pairs.distinct_id = product_day_refunds.distinct_id
            and cohort_pairs.product_id = product_day_refunds.product_id
            and cohort_pairs.cohort_date = product_day_refunds.cohort_date

)

select * from joined
