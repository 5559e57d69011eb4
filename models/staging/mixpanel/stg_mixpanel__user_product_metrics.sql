-- One row per user and product: the value-estimation outputs.

with

base as (

    select * from {{ ref('base_mixpanel__user_product_metrics') }}

),

kept as (

    select
        distinct_id,
        product_id,
        trial_conversion_rate,
        trial_converted_to_refund_rate,
        initial_purchase_to_refund_rate,
        current_value_usd
    from base
    where reject_reason is null

)

select * from kept
