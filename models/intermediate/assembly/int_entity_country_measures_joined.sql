-- One row per entity, day and country that has Meta country data (after
-- mapping) or trial / purchase users (metric-contract §4 "Countries in the
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

breakdown_keys as (

    select
        entity_type,
        entity_id,
        report_date,
        country_code
    from meta_country
    union
    select
        entity_type,
        entity_id,
        cohort_date as report_date,
        country_code
    from cohorts

),

-- an incremental run: only the touched entity-days (macros/incremental/)
scoped_keys as (

    select * from breakdown_keys
    {{ incremental_scope_filter('keys', [
        'breakdown_keys.entity_type', 'breakdown_keys.entity_id', 'breakdown_keys.report_date',
    ]) }}

),

joined as (

    select
        -- keys
        breakdown_keys.entity_type,
        breakdown_keys.entity_id,
        breakdown_keys.report_date,
        breakdown_keys.country_code,

        {{ measure_input_columns('meta_country', 'cohorts') }},

        -- quality inputs
        entities.is_in_hierarchy_mapping,
        breakdown_keys.country_code = 'ZZ' as has_unmapped_country
    from scoped_keys as breakdown_keys
    inner join entities
        on
            breakdown_keys.entity_type = entities.entity_type
            and breakdown_keys.entity_id = entities.entity_id
    left join meta_country
        on
            breakdown_keys.entity_type = meta_country.entity_type
            and breakdown_keys.entity_id = meta_country.entity_id
            and breakdown_keys.report_date = meta_country.report_date
            and breakdown_keys.country_code = meta_country.country_code
    left join cohorts
        on
            breakdown_keys.entity_type = cohorts.entity_type
            and breakdown_keys.entity_id = cohorts.entity_id
            and breakdown_keys.report_date = cohorts.cohort_date
            and breakdown_keys.country_code = cohorts.country_code

)

select * from joined
