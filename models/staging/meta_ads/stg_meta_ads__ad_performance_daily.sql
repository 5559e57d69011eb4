-- One row per ad and day: the Meta daily rows that pass cleaning, exact duplicates counted once.

with

base as (

    select * from {{ ref('base_meta_ads__ad_performance_daily') }}

),

kept as (

    select
        ad_id,
        report_date,
        spend_usd,
        impressions,
        clicks,
        meta_trials,
        meta_purchases
    from base
    where reject_reason is null

)

select * from kept
