-- Every source row of ad_performance_daily, cast and renamed (typed by the models
-- YAML's enforced contract), with the reason it is rejected (NULL when it
-- is kept): a NULL key, a non-finite or negative measure, an exact copy of an
-- earlier row (docs/metrics.md §2). stg_ keeps the kept rows; the rejects model
-- keeps the others.

with

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        cast(date as date) as report_date,
        cast(spend as {{ type_double() }}) as spend_usd,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(meta_trials as {{ dbt.type_bigint() }}) as meta_trials,
        cast(meta_purchases as {{ dbt.type_bigint() }}) as meta_purchases
    from {{ source('meta_ads', 'ad_performance_daily') }}

),

{{ flag_source_rows(meta_row_reject_reason(), copy_order_by='ad_id') }}

select * from flagged
