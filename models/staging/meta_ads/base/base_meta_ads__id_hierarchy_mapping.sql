-- Every source row of id_hierarchy_mapping, cast, with the reason it is
-- rejected (NULL when kept). Empty parent ids are read as NULL.

with

source as (

    select * from {{ source('meta_ads', 'id_hierarchy_mapping') }}

),

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        nullif(cast(adset_id as {{ dbt.type_string() }}), '') as adset_id,
        nullif(cast(campaign_id as {{ dbt.type_string() }}), '') as campaign_id
    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by ad_id, adset_id, campaign_id
            order by ad_id
        ) as copy_number
    from renamed

),

flagged as (

    select
        ad_id,
        adset_id,
        campaign_id,
        case
            when ad_id is null or ad_id = '' then 'null_key'
            when copy_number > 1 then 'exact_duplicate'
        end as reject_reason
    from numbered

)

select * from flagged
