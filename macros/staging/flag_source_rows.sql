{% macro flag_source_rows(source_name, table_name, reject_reason, copy_order_by, optional=false) -%}
{%- set columns = ad_precompute.staged_columns(source_name, table_name) -%}
source as (

    {% if optional -%}
        {{ ad_precompute.select_from_optional_source(source_name, table_name) }}
    {%- else -%}
        select * from {{ source(source_name, table_name) }}
    {%- endif %}

),

renamed as (

    select {{ ad_precompute.stage_source_columns(source_name, table_name) }}
    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by {{ columns | join(',\n                ') }}
            order by {{ copy_order_by }}
        ) as copy_number
    from renamed

),

flagged as (

    select
        {{ columns | join(',\n        ') }},
        -- the row's own problem first; an exact copy of an earlier row counts once
        coalesce({{ reject_reason }}, case when copy_number > 1 then 'exact_duplicate' end) as reject_reason
    from numbered

)
{%- endmacro %}
