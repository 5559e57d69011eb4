-- One row per event of the cohort event types, up to the end of as_of_date
-- (later events are ignored, docs/metrics.md §1), for attributed users only.
-- Flags the refunds (docs/metrics.md §4) and the revenue events of the cohort
-- curves (docs/metrics.md §9: a conversion, initial purchase or renewal with
-- revenue_usd > 0).

with

events as (

    select * from {{ ref('stg_mixpanel__mixpanel_event') }}

),

users as (

    select distinct_id from {{ ref('int_users_attributed') }}

),

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

windowed as (

    select
        events.event_uuid,
        events.distinct_id,
        events.event_name,
        events.event_time,
        events.event_date,
        events.product_id,
        events.revenue_usd,
        {{ is_refund_event('events.event_name', 'events.revenue_usd') }} as is_refund,
        {{ is_revenue_event('events.event_name', 'events.revenue_usd') }} as is_revenue_event
    from events
    inner join users
        on events.distinct_id = users.distinct_id
    cross join reporting_window
    where
        events.event_date <= reporting_window.as_of_date
        and (
            events.event_name in ('RC Trial started', 'RC Trial converted', 'RC Initial purchase')
            or {{ is_refund_event('events.event_name', 'events.revenue_usd') }}
            or {{ is_revenue_event('events.event_name', 'events.revenue_usd') }}
        )

)

select * from windowed
