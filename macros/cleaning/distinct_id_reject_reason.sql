{#- Why a distinct_id cannot be used (metric-contract §2), or NULL when it can.
    A comma would corrupt the comma-separated user lists. -#}
{% macro distinct_id_reject_reason(distinct_id) -%}
    case
        when {{ distinct_id }} is null then 'null_distinct_id'
        when {{ distinct_id }} = '' then 'empty_distinct_id'
        when {{ distinct_id }} like '%,%' then 'comma_in_distinct_id'
    end
{%- endmacro %}
