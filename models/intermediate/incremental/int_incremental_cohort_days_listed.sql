-- One row per attributed user, entity of the user and cohort day
-- (distinct_id, entity_type, entity_id, report_date): every day the user has an
-- `RC Trial started` or `RC Initial purchase` event, at each level where the
-- user has an entity. The rows of the marts the user is in, before the window's
-- start_date cut (a day outside the spine touches nothing). Built only when var
-- incremental_scope_dir is set (docs/decisions.md D77).
{{ config(enabled=incremental_scope_active()) }}

with

cohort_events as (

    select * from {{ ref('int_revenuecat_events_windowed') }}
    where event_name in ('RC Trial started', 'RC Initial purchase')

),

user_entities as (

    select * from {{ ref('int_user_entities_unpivoted') }}

),

cohort_days as (

    select distinct
        cohort_events.distinct_id,
        user_entities.entity_type,
        user_entities.entity_id,
        cohort_events.event_date as report_date
    from cohort_events
    inner join user_entities
        on cohort_events.distinct_id = user_entities.distinct_id

)

select * from cohort_days
