-- Every source row of id_hierarchy_mapping, cast, with the reason it is
-- rejected (NULL when kept): no ad_id, or an exact copy. Empty parent ids are
-- read as NULL.

with

renamed as (

    select
        cast(ad_id as {{ dbt.type_string() }}) as ad_id,
        nullif(cast(adset_id as {{ dbt.type_string() }}), '') as adset_id,
        nullif(cast(campaign_id as {{ dbt.type_string() }}), '') as campaign_id
    from {{ source('meta_ads', 'id_hierarchy_mapping') }}

),

{{ flag_source_rows("case when ad_id is null or ad_id = '' then 'null_key' end", copy_order_by='ad_id') }}

select * from flagged
