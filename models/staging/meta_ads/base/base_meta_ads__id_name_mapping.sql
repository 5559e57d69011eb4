-- Every source row of the optional id_name_mapping, cast, with the reason it is
-- rejected (NULL when kept). No file: no rows (metric-contract §1, display
-- names). Rejected: a NULL or empty entity_type / entity_id (`null_key`), an
-- entity_type other than campaign / adset / ad, every row of an entity that
-- has two different names (`conflicting_canonical_name`), exact copies.
-- An empty canonical_name reads as NULL: the entity is then named by its id.
{%- set columns = staged_columns('meta_ads', 'id_name_mapping') %}

with

source as (

    {{ select_from_optional_source('meta_ads', 'id_name_mapping') }}

),

renamed as (

    select {{ stage_source_columns('meta_ads', 'id_name_mapping') }}
    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by {{ columns | join(',\n                ') }}
            order by entity_id
        ) as copy_number
    from renamed

),

names_counted as (

    select
        *,
        -- different rows (exact copies counted once) for the same entity
        sum(case when copy_number = 1 then 1 else 0 end) over (
            partition by entity_type, entity_id
        ) as distinct_rows_of_entity
    from numbered

),

flagged as (

    select
        {{ columns | join(',\n        ') }},
        case
            when entity_type is null or entity_type = '' or entity_id is null or entity_id = '' then 'null_key'
            when entity_type not in ('campaign', 'adset', 'ad') then 'unknown_entity_type'
            when distinct_rows_of_entity > 1 then 'conflicting_canonical_name'
            when copy_number > 1 then 'exact_duplicate'
        end as reject_reason
    from names_counted

)

select * from flagged
