-- One row per entity of the marts (campaign, adset, ad): its display name for
-- the read API, the canonical_name of the optional id_name_mapping, or else
-- the entity's id (metric-contract §1, display names). No metric uses it.

with

entities as (

    select * from {{ ref('int_entities_unioned') }}

),

names as (

    select * from {{ ref('stg_meta_ads__id_name_mapping') }}

),

named as (

    select
        entities.entity_type,
        entities.entity_id,
        coalesce(names.canonical_name, entities.entity_id) as entity_name
    from entities
    left join names
        on
            entities.entity_type = names.entity_type
            and entities.entity_id = names.entity_id

)

select * from named
order by entity_type, entity_id
