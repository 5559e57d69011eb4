-- One row per ad: its adset and campaign.

with

base as (

    select * from {{ ref('base_meta_ads__id_hierarchy_mapping') }}

),

kept as (

    select
        {{ staged_columns('meta_ads', 'id_hierarchy_mapping') | join(',\n        ') }}
    from base
    where reject_reason is null

)

select * from kept
