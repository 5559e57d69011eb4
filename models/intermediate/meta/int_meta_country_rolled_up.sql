-- One row per entity, day and ISO country with Meta performance in the
-- reporting window: ad_performance_daily_country measures, Meta labels mapped
-- through the run's country mapping (int_country_mapping_resolved: the seed,
-- overridden label by label by an optional mapping file; unmapped → 'ZZ'),
-- summed per country code and level (metric-contract §1, §3, §5).

with

meta_country as (

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

mapped as (

    select
        meta_country.ad_id,
        meta_country.report_date,
        meta_country.spend_usd,
        meta_country.impressions,
        meta_country.clicks,
        meta_country.meta_trials,
        meta_country.meta_purchases,
        coalesce(country_mapping.country_code, 'ZZ') as country_code,
        case when country_mapping.country_code is null then 1 else 0 end as unmapped_country_rows
    from meta_country
    left join country_mapping
        on meta_country.meta_country = country_mapping.meta_country
    cross join reporting_window
    where meta_country.report_date between reporting_window.start_date and reporting_window.as_of_date

),

{{ roll_up_meta_measures('mapped', 'ad_hierarchy', ['country_code']) }}

select * from meta_rolled_up
