-- One row per Mixpanel user with a usable distinct_id.

with

base as (

    select * from {{ ref('base_mixpanel__mixpanel_user') }}

),

kept as (

    select
        distinct_id,
        abi_campaign_id,
        abi_adset_id,
        abi_ad_id,
        has_abi_attribution,
        country,
        country_code
    from base
    where reject_reason is null

)

select * from kept
