-- Every source row of id_hierarchy_mapping, cast, with the reason it is
-- rejected (NULL when kept). Empty parent ids are read as NULL.
{%- set columns = staged_columns('meta_ads', 'id_hierarchy_mapping') %}

with

source as (

    select * from {{ source('meta_ads', 'id_hierarchy_mapping') }}

),

renamed as (

    select {{ stage_source_columns('meta_ads', 'id_hierarchy_mapping') }}
    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by {{ columns | join(',\n                ') }}
            order by ad_id
        ) as copy_number
    from renamed

),

flagged as (

    select
        {{ columns | join(',\n        ') }},
        case
            when ad_id is null or ad_id = '' then 'null_key'
            when copy_number > 1 then 'exact_duplicate'
        end as reject_reason
    from numbered

)

select * from flagged
