-- One row per ad, day and Meta country label: the rows that pass cleaning, exact duplicates counted once.

with

base as (

    select * from {{ ref('base_meta_ads__ad_performance_daily_country') }}

),

kept as (

    select
        ad_id,
        report_date,
        meta_country,
        spend_usd,
        impressions,
        clicks,
        meta_trials,
        meta_purchases
    from base
    where reject_reason is null

)

select * from kept
