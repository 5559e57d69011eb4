-- The entity set of each level (docs/metrics.md §3): the
-- mapping's ids, the ads of the kept Meta rows (both tables, any date) and the ids
-- attributed users carry after the fill rule. Rendered with: v.
with

meta_ads as (
    select ad_id from {{ v }}meta_daily
    union
    select ad_id from {{ v }}meta_country
),

all_entities as (
    select
        'campaign' as entity_type,
        campaign_id as entity_id
    from {{ v }}hierarchy
    union
    select
        'adset' as entity_type,
        adset_id as entity_id
    from {{ v }}hierarchy
    union
    select
        'ad' as entity_type,
        ad_id as entity_id
    from {{ v }}hierarchy
    union
    select
        'ad' as entity_type,
        ad_id as entity_id
    from meta_ads
    union
    select
        'ad' as entity_type,
        ad_id as entity_id
    from {{ v }}user_entities
    union
    select
        'adset' as entity_type,
        adset_id as entity_id
    from {{ v }}user_entities
    union
    select
        'campaign' as entity_type,
        campaign_id as entity_id
    from {{ v }}user_entities
)

select
    entity_type,
    entity_id
from all_entities
where entity_id is not null
order by entity_type, entity_id
