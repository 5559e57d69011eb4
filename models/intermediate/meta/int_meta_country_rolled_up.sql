-- One row per entity, day and ISO country with Meta performance in the
-- reporting window: ad_performance_daily_country measures, Meta labels mapped
-- through the run's country mapping (int_country_mapping_resolved: the seed,
-- overridden label by label by an optional mapping file; unmapped → 'ZZ'),
-- summed per country code and level (docs/metrics.md §1, §3, §5;
-- macros/meta/roll_up_meta_measures.sql).

with

meta_performance as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily_country') }}

),

ad_hierarchy as (

    select * from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}

),

country_mapping as (

    select * from {{ ref('int_country_mapping_resolved') }}

),

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

{{ roll_up_meta_measures(
    'meta_performance', 'ad_hierarchy', 'reporting_window', country_mapping='country_mapping'
) }}

select * from meta_rolled_up
