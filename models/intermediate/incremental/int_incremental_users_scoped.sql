-- One row per attributed user (distinct_id) whose cohort pairs an incremental
-- run recomputes: every user with a trial or purchase day that falls on a
-- touched entity-day at any of the user's levels (int_incremental_keys_touched).
-- A touched entity-day's lists need all of its users, not only the changed ones
-- (docs/decisions.md D77). Built only when var incremental_scope_dir is set.
{{ config(enabled=incremental_scope_active()) }}

with

user_entities as (

    select * from {{ ref('int_user_entities_unpivoted') }}

),

touched_keys as (

    select * from {{ ref('int_incremental_keys_touched') }}

),

cohort_starts as (

    select distinct
        distinct_id,
        event_date as report_date
    from {{ ref('int_revenuecat_events_windowed') }}
    where event_name in ('RC Trial started', 'RC Initial purchase')

),

scoped as (

    select distinct cohort_starts.distinct_id
    from cohort_starts
    inner join user_entities
        on cohort_starts.distinct_id = user_entities.distinct_id
    inner join touched_keys
        on
            user_entities.entity_type = touched_keys.entity_type
            and user_entities.entity_id = touched_keys.entity_id
            and cohort_starts.report_date = touched_keys.report_date

)

select * from scoped
