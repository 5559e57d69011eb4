-- One row per entity and day with Meta performance in the reporting window:
-- the ad_performance_daily measures summed at each level (metric-contract §3, §5;
-- macros/meta/roll_up_meta_measures.sql).

with

{{ roll_up_meta_measures('stg_meta_ads__ad_performance_daily') }}

select * from meta_rolled_up
