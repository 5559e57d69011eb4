-- Every source row of mixpanel_user, cast and renamed, with the reason it is
-- rejected (NULL when kept). Empty abi ids read as NULL; the country is
-- trimmed and upper-cased (' us' is 'US', metric-contract §2), and a missing
-- or empty one becomes 'ZZ' (metric-contract §1).

with

source as (

    select * from {{ source('mixpanel', 'mixpanel_user') }}

),

renamed as (

    select
        -- keys
        cast(distinct_id as {{ dbt.type_string() }}) as distinct_id,

        -- attribution
        nullif(cast(abi_campaign_id as {{ dbt.type_string() }}), '') as abi_campaign_id,
        nullif(cast(abi_ad_set_id as {{ dbt.type_string() }}), '') as abi_adset_id,
        nullif(cast(abi_ad_id as {{ dbt.type_string() }}), '') as abi_ad_id,
        coalesce(cast(has_abi_attribution as {{ dbt.type_boolean() }}), false) as has_abi_attribution,

        -- geography
        cast(country as {{ dbt.type_string() }}) as country,
        coalesce(nullif(upper(trim(cast(country as {{ dbt.type_string() }}))), ''), 'ZZ') as country_code

    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by
                distinct_id, abi_campaign_id, abi_adset_id, abi_ad_id, has_abi_attribution, country
            order by distinct_id
        ) as copy_number
    from renamed

),

flagged as (

    select
        distinct_id,
        abi_campaign_id,
        abi_adset_id,
        abi_ad_id,
        has_abi_attribution,
        country,
        country_code,
        coalesce(
            {{ distinct_id_reject_reason('distinct_id') }},
            case when copy_number > 1 then 'exact_duplicate' end
        ) as reject_reason
    from numbered

)

select * from flagged
