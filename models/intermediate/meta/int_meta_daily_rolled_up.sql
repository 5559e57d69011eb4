-- One row per entity and day with Meta performance in the reporting window:
-- the ad_performance_daily measures summed at each level (docs/metrics.md §3, §5;
-- macros/meta/roll_up_meta_measures.sql).

with

meta_performance as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily') }}

),

ad_hierarchy as (

    select * from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}

),

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

{{ roll_up_meta_measures('meta_performance', 'ad_hierarchy', 'reporting_window') }}

select * from meta_rolled_up
