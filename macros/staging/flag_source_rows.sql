{#- The staged columns are those `renamed` lists, as the model's enforced contract
    types them (its models YAML), without reject_reason. -#}
{% macro flag_source_rows(reject_reason, copy_order_by) -%}
{%- set columns = model.columns.keys() | reject('equalto', 'reject_reason') | list -%}
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
