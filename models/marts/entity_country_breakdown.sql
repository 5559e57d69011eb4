-- One row per entity, day and country (ISO alpha-2, 'ZZ' for unknown) that has
-- Meta country data or trial / purchase users: every dashboard metric, from
-- that country's own cohort. Stored in (entity_type, entity_id, date,
-- country_code) order for zone-map pruning.

with

inputs as (

    select
        *,
        -- the spec names the column `date`
        report_date as date  -- noqa: RF04
    from {{ ref('int_entity_country_measures_joined') }}

),

{{ compute_dashboard_metrics('inputs', ['entity_type', 'entity_id', 'date', 'country_code']) }}

select * from dashboard_metrics
order by entity_type, entity_id, date, country_code
