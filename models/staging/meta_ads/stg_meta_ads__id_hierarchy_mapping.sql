-- One row per ad: its adset and campaign.

with

base as (

    select * from {{ ref('base_meta_ads__id_hierarchy_mapping') }}

),

kept as (

    select
        ad_id,
        adset_id,
        campaign_id
    from base
    where reject_reason is null

)

select * from kept
