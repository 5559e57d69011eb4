-- One row per entity (entity_type, entity_id): every campaign, adset and ad
-- the dashboard shows (docs/metrics.md §3), the union of
--   * the ids of each level in id_hierarchy_mapping,
--   * the ads with Meta performance rows, and their parents through the mapping,
--   * the ids attributed users carry at each level (after the fill rule).
-- Ads that appear only in the per-country Meta table are included too, so
-- that every breakdown row has its overall row (docs/decisions.md).

with

ad_hierarchy as (

    select * from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}

),

meta_daily as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily') }}

),

meta_country as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily_country') }}

),

user_entities as (

    select * from {{ ref('int_user_entities_unpivoted') }}

),

mapped_entities as (

    select
        'ad' as entity_type,
        ad_id as entity_id
    from ad_hierarchy
    union all
    select
        'adset' as entity_type,
        adset_id as entity_id
    from ad_hierarchy
    where adset_id is not null
    union all
    select
        'campaign' as entity_type,
        campaign_id as entity_id
    from ad_hierarchy
    where campaign_id is not null

),

mapped_entity_keys as (

    select distinct
        entity_type,
        entity_id
    from mapped_entities

),

performance_ads as (

    select ad_id from meta_daily
    union
    select ad_id from meta_country

),

all_entities as (

    select
        entity_type,
        entity_id
    from mapped_entities
    union
    select
        'ad' as entity_type,
        ad_id as entity_id
    from performance_ads
    union
    select
        entity_type,
        entity_id
    from user_entities

),

final as (

    select
        all_entities.entity_type,
        all_entities.entity_id,
        mapped_entity_keys.entity_id is not null as is_in_hierarchy_mapping
    from all_entities
    left join mapped_entity_keys
        on
            all_entities.entity_type = mapped_entity_keys.entity_type
            and all_entities.entity_id = mapped_entity_keys.entity_id

)

select * from final
