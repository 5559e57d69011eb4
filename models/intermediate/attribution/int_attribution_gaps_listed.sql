-- One row per attributed user, level and gap: where the user's own ids
-- disagree with id_hierarchy_mapping (the user's ids win), where the user's ad
-- is not in the mapping, and where a level cannot be filled at all
-- (docs/metrics.md §3, "attribution gaps").

with

users as (

    select * from {{ ref('int_users_attributed') }}

),

gaps as (

    select
        distinct_id,
        'adset' as entity_type,
        abi_adset_id as user_entity_id,
        mapped_adset_id as mapped_entity_id,
        'user_id_disagrees_with_mapping' as gap_type
    from users
    where abi_adset_id is not null and mapped_adset_id is not null and abi_adset_id <> mapped_adset_id

    union all

    select
        distinct_id,
        'campaign' as entity_type,
        abi_campaign_id as user_entity_id,
        mapped_campaign_id as mapped_entity_id,
        'user_id_disagrees_with_mapping' as gap_type
    from users
    where abi_campaign_id is not null and mapped_campaign_id is not null and abi_campaign_id <> mapped_campaign_id

    union all

    select
        distinct_id,
        'ad' as entity_type,
        abi_ad_id as user_entity_id,
        cast(null as {{ dbt.type_string() }}) as mapped_entity_id,
        'ad_not_in_mapping' as gap_type
    from users
    where abi_ad_id is not null and not is_ad_in_mapping

    {% for level in ['campaign', 'adset', 'ad'] %}
        union all

        select
            distinct_id,
            '{{ level }}' as entity_type,
            cast(null as {{ dbt.type_string() }}) as user_entity_id,
            cast(null as {{ dbt.type_string() }}) as mapped_entity_id,
            'no_entity_at_level' as gap_type
        from users
        where {{ level }}_id is null
    {% endfor %}

)

select * from gaps
