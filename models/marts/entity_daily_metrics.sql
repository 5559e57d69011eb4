-- One row per entity (campaign, adset, ad) and day of the reporting window:
-- every dashboard metric, overall (all countries). Rows are stored in
-- (entity_type, entity_id, date) order so that DuckDB's zone maps prune the
-- dashboard's point and range lookups.

with

inputs as (

    select
        *,
        -- the spec names the column `date`
        report_date as date  -- noqa: RF04
    from {{ ref('int_entity_daily_measures_joined') }}

),

{{ compute_dashboard_metrics('inputs', ['entity_type', 'entity_id', 'date']) }}

select * from dashboard_metrics
order by entity_type, entity_id, date
