-- Every source row of ad_performance_daily_country, cast and renamed, with the
-- reason it is rejected (NULL when kept). Same rules as the daily table.
{%- set columns = staged_columns('meta_ads', 'ad_performance_daily_country') %}

with

source as (

    select * from {{ source('meta_ads', 'ad_performance_daily_country') }}

),

renamed as (

    select {{ stage_source_columns('meta_ads', 'ad_performance_daily_country') }}
    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by {{ columns | join(',\n                ') }}
            order by ad_id
        ) as copy_number
    from renamed

),

flagged as (

    select
        {{ columns | join(',\n        ') }},
        {{ meta_row_reject_reason() }} as reject_reason
    from numbered

)

select * from flagged
