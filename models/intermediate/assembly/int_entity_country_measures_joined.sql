-- One row per entity, day and country that has Meta country data (after
-- mapping) or trial / purchase users (docs/metrics.md §4 "Countries in the
-- breakdown"), with every raw input of the breakdown metrics.

with

entities as (

    select * from {{ ref('int_entities_unioned') }}

),

meta_country as (

    select * from {{ ref('int_meta_country_rolled_up') }}

),

cohorts as (

    select * from {{ ref('int_entity_country_cohorts_aggregated') }}

),

-- the keys of either side (each side is unique on them, tested): one full outer
-- join instead of a distinct union of the keys and two left joins
measures_joined as (

    select
        -- keys
        coalesce(meta_country.entity_type, cohorts.entity_type) as entity_type,
        coalesce(meta_country.entity_id, cohorts.entity_id) as entity_id,
        coalesce(meta_country.report_date, cohorts.cohort_date) as report_date,
        coalesce(meta_country.country_code, cohorts.country_code) as country_code,

        {{ measure_input_columns('meta_country', 'cohorts') }}
    from meta_country
    full outer join cohorts
        on
            meta_country.entity_type = cohorts.entity_type
            and meta_country.entity_id = cohorts.entity_id
            and meta_country.report_date = cohorts.cohort_date
            and meta_country.country_code = cohorts.country_code

),

joined as (

    select
        measures_joined.*,

        -- quality inputs
        entities.is_in_hierarchy_mapping,
        measures_joined.country_code = 'ZZ' as has_unmapped_country
    from measures_joined
    inner join entities
        on
            measures_joined.entity_type = entities.entity_type
            and measures_joined.entity_id = entities.entity_id

)

select * from joined
