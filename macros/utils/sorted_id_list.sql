{% macro sorted_id_list(id_expression, order_column) -%}
    {{ return(adapter.dispatch('sorted_id_list', 'ad_precompute')(id_expression, order_column)) }}
{%- endmacro %}

{% macro default__sorted_id_list(id_expression, order_column) -%}
    {{ dbt.listagg(id_expression, "','", "order by " ~ order_column) }}
{%- endmacro %}

{% macro spark__sorted_id_list(id_expression, order_column) -%}
    array_join(array_sort(collect_set({{ id_expression }})), ',')
{%- endmacro %}
