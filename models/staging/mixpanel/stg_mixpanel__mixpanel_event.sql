-- One row per event: deduplicated deliveries with a usable distinct_id.

with

base as (

    select * from {{ ref('base_mixpanel__mixpanel_event') }}

),

kept as (

    select
        event_uuid,
        distinct_id,
        event_name,
        event_time,
        event_date,
        product_id,
        revenue_usd
    from base
    where reject_reason is null

)

select * from kept
