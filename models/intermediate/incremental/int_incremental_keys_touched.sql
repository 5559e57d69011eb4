-- One row per entity-day (entity_type, entity_id, report_date) that an
-- incremental run recomputes in both marts, all countries of it (issue 11;
-- docs/decisions.md D77). Built only when var incremental_scope_dir is set. The
-- union of:
--   * the keys `precompute run --incremental` found in the previous release
--     (the old cohorts of the touched users, changed Meta rows under the old
--     mapping): touched_keys;
--   * the new cohorts of the touched users (their trial / purchase days, at
--     their new entities);
--   * the changed Meta rows rolled up through the new mapping;
--   * every day of an entity whose mapping row changed, or that appeared,
--     disappeared or changed its is_in_hierarchy_mapping since the last release;
--   * every entity on the touched days (new days, cohorts becoming post-trial).
{{ config(enabled=incremental_scope_active()) }}

with

entities as (

    select * from {{ ref('int_entities_unioned') }}

),

reporting_dates as (

    select * from {{ ref('int_reporting_dates_generated') }}

),

ad_hierarchy as (

    select * from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}

),

cohort_days as (

    select * from {{ ref('int_incremental_cohort_days_listed') }}

),

previous_keys as (

    select * from {{ incremental_scope_file('touched_keys') }}

),

touched_users as (

    select * from {{ incremental_scope_file('touched_users') }}

),

touched_ad_days as (

    select * from {{ incremental_scope_file('touched_ad_days') }}

),

touched_entity_ids as (

    select * from {{ incremental_scope_file('touched_entity_ids') }}

),

touched_dates as (

    select * from {{ incremental_scope_file('touched_dates') }}

),

previous_entities as (

    select * from {{ incremental_scope_file('previous_entities') }}

),

user_cohort_keys as (

    select
        cohort_days.entity_type,
        cohort_days.entity_id,
        cohort_days.report_date
    from touched_users
    inner join cohort_days
        on touched_users.distinct_id = cohort_days.distinct_id

),

meta_keys as (

    select
        'ad' as entity_type,
        ad_id as entity_id,
        report_date
    from touched_ad_days
    union all
    select
        'adset' as entity_type,
        ad_hierarchy.adset_id as entity_id,
        touched_ad_days.report_date
    from touched_ad_days
    inner join ad_hierarchy
        on touched_ad_days.ad_id = ad_hierarchy.ad_id
    union all
    select
        'campaign' as entity_type,
        ad_hierarchy.campaign_id as entity_id,
        touched_ad_days.report_date
    from touched_ad_days
    inner join ad_hierarchy
        on touched_ad_days.ad_id = ad_hierarchy.ad_id

),

changed_entities as (

    select
        coalesce(entities.entity_type, previous_entities.entity_type) as entity_type,
        coalesce(entities.entity_id, previous_entities.entity_id) as entity_id
    from entities
    full outer join previous_entities
        on
            entities.entity_type = previous_entities.entity_type
            and entities.entity_id = previous_entities.entity_id
    where
        entities.entity_id is null
        or previous_entities.entity_id is null
        or entities.is_in_hierarchy_mapping != previous_entities.is_in_hierarchy_mapping
    union
    select
        entities.entity_type,
        entities.entity_id
    from entities
    inner join touched_entity_ids
        on entities.entity_id = touched_entity_ids.entity_id
    union
    select
        previous_entities.entity_type,
        previous_entities.entity_id
    from previous_entities
    inner join touched_entity_ids
        on previous_entities.entity_id = touched_entity_ids.entity_id

),

whole_entity_keys as (

    select
        changed_entities.entity_type,
        changed_entities.entity_id,
        reporting_dates.report_date
    from changed_entities
    cross join reporting_dates

),

whole_day_keys as (

    select
        entities.entity_type,
        entities.entity_id,
        touched_dates.report_date
    from entities
    cross join touched_dates

),

touched as (

    select
        entity_type,
        entity_id,
        report_date
    from previous_keys
    union
    select * from user_cohort_keys
    union
    select * from meta_keys
    union
    select * from whole_entity_keys
    union
    select * from whole_day_keys

)

select * from touched
where entity_id is not null
