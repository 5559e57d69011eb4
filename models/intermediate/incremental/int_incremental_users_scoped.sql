-- One row per attributed user (distinct_id) whose cohort pairs an incremental
-- run recomputes: every user with a trial or purchase day that falls on a
-- touched entity-day at any of the user's levels (int_incremental_keys_touched).
-- A touched entity-day's lists need all of its users, not only the changed ones
-- (docs/decisions.md D77). Built only when var incremental_scope_dir is set.
{{ config(enabled=incremental_scope_active()) }}

with

cohort_days as (

    select * from {{ ref('int_incremental_cohort_days_listed') }}

),

touched_keys as (

    select * from {{ ref('int_incremental_keys_touched') }}

),

scoped as (

    select distinct cohort_days.distinct_id
    from cohort_days
    inner join touched_keys
        on
            cohort_days.entity_type = touched_keys.entity_type
            and cohort_days.entity_id = touched_keys.entity_id
            and cohort_days.report_date = touched_keys.report_date

)

select * from scoped
