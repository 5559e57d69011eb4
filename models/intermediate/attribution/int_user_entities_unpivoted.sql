-- One row per attributed user and level where the user has an entity:
-- (distinct_id, entity_type, entity_id). A user counts at every level where
-- they have an entity, with no other rollup (docs/metrics.md §3).

with

users as (

    select * from {{ ref('int_users_attributed') }}

),

unpivoted as (

    {% for level in ['campaign', 'adset', 'ad'] %}
        select
            distinct_id,
            country_code,
            '{{ level }}' as entity_type,
            {{ level }}_id as entity_id
        from users
        where {{ level }}_id is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unpivoted
