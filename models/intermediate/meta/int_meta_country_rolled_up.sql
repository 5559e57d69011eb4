-- One row per entity, day and ISO country with Meta performance in the
-- reporting window: ad_performance_daily_country measures, Meta labels mapped
-- through the run's country mapping (int_country_mapping_resolved: the seed,
-- overridden label by label by an optional mapping file; unmapped → 'ZZ'),
-- summed per country code and level (metric-contract §1, §3, §5;
-- macros/meta/roll_up_meta_measures.sql).

with

{{ roll_up_meta_measures('stg_meta_ads__ad_performance_daily_country', by_country=true) }}

select * from meta_rolled_up
