-- One row per entity and day of the reporting window (the full date spine,
-- docs/metrics.md §4 "The overall table"), with every raw input of the
-- overall metrics: Meta measures, cohort lists and sums, quality inputs.
-- Days where nothing happened carry zeros and NULL lists.

with

entities as (

    select * from {{ ref('int_entities_unioned') }}

),

reporting_dates as (

    select * from {{ ref('int_reporting_dates_generated') }}

),

meta_daily as (

    select * from {{ ref('int_meta_daily_rolled_up') }}

),

meta_country as (

    select * from {{ ref('int_meta_country_rolled_up') }}

),

cohorts as (

    select * from {{ ref('int_entity_daily_cohorts_aggregated') }}

),

unmapped_meta_countries as (

    select
        entity_type,
        entity_id,
        report_date,
        sum(unmapped_country_rows) as unmapped_country_rows
    from meta_country
    group by entity_type, entity_id, report_date

),

entity_days as (

    select
        entities.entity_type,
        entities.entity_id,
        entities.is_in_hierarchy_mapping,
        reporting_dates.report_date
    from entities
    cross join reporting_dates

),

joined as (

    select
        -- keys
        entity_days.entity_type,
        entity_days.entity_id,
        entity_days.report_date,

        {{ measure_input_columns('meta_daily', 'cohorts') }},

        -- quality inputs
        entity_days.is_in_hierarchy_mapping,
        coalesce(unmapped_meta_countries.unmapped_country_rows, 0) > 0
        or coalesce(cohorts.users_without_country, 0) > 0 as has_unmapped_country
    from entity_days
    left join meta_daily
        on
            entity_days.entity_type = meta_daily.entity_type
            and entity_days.entity_id = meta_daily.entity_id
            and entity_days.report_date = meta_daily.report_date
    left join cohorts
        on
            entity_days.entity_type = cohorts.entity_type
            and entity_days.entity_id = cohorts.entity_id
            and entity_days.report_date = cohorts.cohort_date
    left join unmapped_meta_countries
        on
            entity_days.entity_type = unmapped_meta_countries.entity_type
            and entity_days.entity_id = unmapped_meta_countries.entity_id
            and entity_days.report_date = unmapped_meta_countries.report_date

)

select * from joined
