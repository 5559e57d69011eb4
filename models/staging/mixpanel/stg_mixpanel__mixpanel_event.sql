-- One row per event: deduplicated deliveries with a usable distinct_id, and the
-- UTC calendar date of each.

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
        product_id,
        revenue_usd,
        cast(event_time as date) as event_date
    from base
    where reject_reason is null

)

select * from kept
