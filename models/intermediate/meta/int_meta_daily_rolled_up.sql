-- One row per entity and day with Meta performance in the reporting window:
-- the ad_performance_daily measures summed at each level (metric-contract §3, §5).

with

meta_daily as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily') }}

),

ad_hierarchy as (

    select * from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}

),

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

windowed as (

    select
        meta_daily.ad_id,
        meta_daily.report_date,
        meta_daily.spend_usd,
        meta_daily.impressions,
        meta_daily.clicks,
        meta_daily.meta_trials,
        meta_daily.meta_purchases,
        0 as unmapped_country_rows
    from meta_daily
    cross join reporting_window
    where meta_daily.report_date between reporting_window.start_date and reporting_window.as_of_date

),

{{ roll_up_meta_measures('windowed', 'ad_hierarchy') }}

select * from meta_rolled_up
