-- Every source row of the optional id_name_mapping, cast, with the reason it is
-- rejected (NULL when kept). No file: no rows (docs/metrics.md §1, display
-- names). Rejected: a NULL or empty entity_type / entity_id (`null_key`), an
-- entity_type other than campaign / adset / ad, every row of an entity that
-- has two different names (`conflicting_canonical_name`; exact copies count
-- once), exact copies. An empty canonical_name reads as NULL: the entity is
-- then named by its id.
{%- set reject_reason %}
case
            when entity_type is null or entity_type = '' or entity_id is null or entity_id = '' then 'null_key'
            when entity_type not in ('campaign', 'adset', 'ad') then 'unknown_entity_type'
            when sum(case when copy_number = 1 then 1 else 0 end) over (partition by entity_type, entity_id) > 1
                then 'conflicting_canonical_name'
        end
{%- endset %}

with

source as (

    {{ select_from_optional_source('meta_ads', 'id_name_mapping') }}

),

renamed as (

    select
        cast(entity_type as {{ dbt.type_string() }}) as entity_type,
        cast(entity_id as {{ dbt.type_string() }}) as entity_id,
        nullif(cast(canonical_name as {{ dbt.type_string() }}), '') as canonical_name
    from source

),

{{ flag_source_rows(reject_reason, copy_order_by='entity_id') }}

select * from flagged
