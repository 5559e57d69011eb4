-- One row per named entity (entity_type, entity_id): its display name. Zero
-- rows when the optional id_name_mapping file is absent.

with

base as (

    select * from {{ ref('base_meta_ads__id_name_mapping') }}

),

kept as (

    select
        entity_type,
        entity_id,
        canonical_name
    from base
    where reject_reason is null

)

select * from kept
