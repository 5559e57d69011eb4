-- Every source row of mixpanel_user, cast and renamed, with the reason it is
-- rejected (NULL when kept): an unusable distinct_id, or an exact copy. Empty
-- abi ids read as NULL, a NULL has_abi_attribution as FALSE;
-- stg_ adds the country code.

with

renamed as (

    select
        cast(distinct_id as {{ dbt.type_string() }}) as distinct_id,
        nullif(cast(abi_campaign_id as {{ dbt.type_string() }}), '') as abi_campaign_id,
        nullif(cast(abi_ad_set_id as {{ dbt.type_string() }}), '') as abi_adset_id,
        nullif(cast(abi_ad_id as {{ dbt.type_string() }}), '') as abi_ad_id,
        coalesce(cast(has_abi_attribution as {{ dbt.type_boolean() }}), false) as has_abi_attribution,
        cast(country as {{ dbt.type_string() }}) as country
    from {{ source('mixpanel', 'mixpanel_user') }}

),

{{ flag_source_rows(distinct_id_reject_reason('distinct_id'), copy_order_by='distinct_id') }}

select * from flagged
