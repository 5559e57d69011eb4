-- Every source row of ad_performance_daily, cast and renamed (the columns, types
-- and names of the sources YAML), with the reason it is rejected (NULL when it
-- is kept). stg_ keeps the kept rows; the rejects model keeps the others. Exact
-- duplicates count once (metric-contract §2).
{%- set columns = staged_columns('meta_ads', 'ad_performance_daily') %}

with

source as (

    select * from {{ source('meta_ads', 'ad_performance_daily') }}

),

renamed as (

    select {{ stage_source_columns('meta_ads', 'ad_performance_daily') }}
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
