-- One row per Mixpanel user with a usable distinct_id, and the user's country
-- code: trimmed and upper-cased (' us' is 'US', docs/metrics.md §2), 'ZZ' when
-- missing or empty (docs/metrics.md §1).

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
        coalesce(nullif(upper(trim(country)), ''), 'ZZ') as country_code
    from base
    where reject_reason is null

)

select * from kept
