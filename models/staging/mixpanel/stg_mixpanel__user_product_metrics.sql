-- One row per user and product: the value-estimation outputs.

with

base as (

    select * from {{ ref('base_mixpanel__user_product_metrics') }}

),

kept as (

    select
        {{ staged_columns('mixpanel', 'user_product_metrics') | join(',\n        ') }}
    from base
    where reject_reason is null

)

select * from kept
