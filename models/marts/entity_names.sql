-- One row per entity of the marts (campaign, adset, ad): its display name for
-- the read API, the canonical_name of the optional id_name_mapping, or else
-- the entity's id (docs/metrics.md §1, display names), and its parent in
-- id_hierarchy_mapping (an ad's adset, an adset's campaign; NULL for a campaign
-- and for an entity missing from the mapping), which the read API's
-- `parent_id` filter uses. No metric uses it.

with

entities as (

    select * from {{ ref('int_entities_unioned') }}

),

names as (

    select * from {{ ref('stg_meta_ads__id_name_mapping') }}

),

hierarchy as (

    select * from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}

),

-- an adset mapped under two campaigns (a mapping error) keeps the smallest id
parents as (

    select
        'ad' as entity_type,
        ad_id as entity_id,
        min(adset_id) as parent_id
    from hierarchy
    where adset_id is not null
    group by ad_id
    union all
    select
        'adset' as entity_type,
        adset_id as entity_id,
        min(campaign_id) as parent_id
    from hierarchy
    where campaign_id is not null
    group by adset_id

),

named as (

    select
        entities.entity_type,
        entities.entity_id,
        parents.parent_id,
        coalesce(names.canonical_name, entities.entity_id) as entity_name
    from entities
    left join names
        on
            entities.entity_type = names.entity_type
            and entities.entity_id = names.entity_id
    left join parents
        on
            entities.entity_type = parents.entity_type
            and entities.entity_id = parents.entity_id

)

select * from named
order by entity_type, entity_id
