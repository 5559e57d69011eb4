-- One row: the reporting window of this run (docs/metrics.md §1).
-- start_date / as_of_date come from the vars, or else from the earliest /
-- latest date found in the Meta tables and the events.

with

meta_daily as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily') }}

),

meta_country as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily_country') }}

),

events as (

    select * from {{ ref('stg_mixpanel__mixpanel_event') }}

),

source_dates as (

    select
        min(report_date) as first_date,
        max(report_date) as last_date
    from meta_daily
    union all
    select
        min(report_date) as first_date,
        max(report_date) as last_date
    from meta_country
    union all
    select
        min(event_date) as first_date,
        max(event_date) as last_date
    from events

),

source_bounds as (

    select
        min(first_date) as first_source_date,
        max(last_date) as last_source_date
    from source_dates

),

resolved as (

    select
        {{ window_date_var('start_date') or 'first_source_date' }} as start_date,
        {{ window_date_var('as_of_date') or 'last_source_date' }} as as_of_date,
        {{ trial_days() }} as trial_days,
        {{ refund_maturity_days() }} as refund_maturity_days,
        first_source_date,
        last_source_date
    from source_bounds

),

final as (

    select
        start_date,
        as_of_date,
        trial_days,
        -- a trial cohort of day D is post-trial when D <= as_of_date - trial_days
        cast({{ dbt.dateadd('day', -1 * trial_days(), 'as_of_date') }} as date)
            as last_post_trial_cohort_date,
        refund_maturity_days,
        -- a cohort of day D is old enough for its refunds when D <= as_of_date - refund_maturity_days
        cast({{ dbt.dateadd('day', -1 * refund_maturity_days(), 'as_of_date') }} as date)
            as last_mature_refund_cohort_date,
        1 + {{ dbt.datediff('start_date', 'as_of_date', 'day') }}
            as window_days,
        -- the dates found in the kept source rows (a later as_of_date is warned about)
        first_source_date,
        last_source_date
    from resolved

)

select * from final
