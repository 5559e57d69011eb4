-- Every source row of ad_performance_daily, cast and renamed, with the reason
-- it is rejected (NULL when it is kept). stg_ keeps the kept rows; the rejects
-- model keeps the others. Exact duplicates count once (metric-contract §2).

with

source as (

    select * from {{ source('meta_ads', 'ad_performance_daily') }}

),

renamed as (

    select
        -- keys
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(date as date) as report_date,

        -- measures
        cast(spend as {{ type_double() }}) as spend_usd,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(meta_trials as {{ dbt.type_bigint() }}) as meta_trials,
        cast(meta_purchases as {{ dbt.type_bigint() }}) as meta_purchases

    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by
                ad_id, report_date, spend_usd, impressions, clicks, meta_trials, meta_purchases
            order by ad_id
        ) as copy_number
    from renamed

),

flagged as (

    select
        ad_id,
        report_date,
        spend_usd,
        impressions,
        clicks,
        meta_trials,
        meta_purchases,
        {{ meta_row_reject_reason() }} as reject_reason
    from numbered

)

select * from flagged
