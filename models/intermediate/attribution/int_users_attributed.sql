-- One row per attributed Mixpanel user (has_abi_attribution, not rejected)
-- with their entity at each level (docs/metrics.md §3):
--   ad       = abi_ad_id
--   adset    = abi_ad_set_id, else the mapping's adset of abi_ad_id
--   campaign = abi_campaign_id, else the mapping's campaign of abi_ad_id,
--              else the campaign of the (own or filled) adset in the mapping
-- The user's own ids win over the mapping; a level that cannot be filled is NULL.

with

users as (

    select * from {{ ref('stg_mixpanel__mixpanel_user') }}
    where has_abi_attribution

),

ad_hierarchy as (

    select * from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}

),

-- an adset's campaign, only where the mapping names exactly one
adset_campaigns as (

    select
        adset_id,
        min(campaign_id) as campaign_id
    from ad_hierarchy
    where adset_id is not null and campaign_id is not null
    group by adset_id
    having count(distinct campaign_id) = 1

),

adset_filled as (

    select
        users.distinct_id,
        users.country_code,
        users.abi_ad_id,
        users.abi_adset_id,
        users.abi_campaign_id,
        ad_hierarchy.adset_id as mapped_adset_id,
        ad_hierarchy.campaign_id as mapped_campaign_id,
        ad_hierarchy.ad_id is not null as is_ad_in_mapping,
        coalesce(users.abi_adset_id, ad_hierarchy.adset_id) as adset_id
    from users
    left join ad_hierarchy
        on users.abi_ad_id = ad_hierarchy.ad_id

),

campaign_filled as (

    select
        adset_filled.*,
        adset_campaigns.campaign_id as adset_mapped_campaign_id,
        coalesce(
            adset_filled.abi_campaign_id,
            adset_filled.mapped_campaign_id,
            adset_campaigns.campaign_id
        ) as campaign_id
    from adset_filled
    left join adset_campaigns
        on adset_filled.adset_id = adset_campaigns.adset_id

),

final as (

    select
        -- keys
        distinct_id,

        -- entity at each level
        abi_ad_id as ad_id,
        adset_id,
        campaign_id,

        -- geography
        country_code,

        -- lineage, for the attribution-gaps model
        abi_ad_id,
        abi_adset_id,
        abi_campaign_id,
        is_ad_in_mapping,
        mapped_adset_id,
        coalesce(mapped_campaign_id, adset_mapped_campaign_id) as mapped_campaign_id
    from campaign_filled

)

select * from final
