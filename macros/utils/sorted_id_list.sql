{% macro sorted_id_list(id_expression, order_column) -%}
    {{ return(adapter.dispatch('sorted_id_list', 'ad_precompute')(id_expression, order_column)) }}
{%- endmacro %}

{% macro default__sorted_id_list(id_expression, order_column) -%}
    {{ dbt.listagg(id_expression, "','", "order by " ~ order_column) }}
{%- endmacro %}

{% macro spark__sorted_id_list(id_expression, order_column) -%}
    array_join(array_sort(collect_set({{ id_expression }})), ',')
{%- endmacro %}

{#- DuckDB: an ordered string_agg sorts every group on its own, which made the two cohort
    aggregations the slowest models of the build; collecting a list and sorting it is the
    same list (byte order of distinct_id, as `order by`) at a third of the cost. -#}
{% macro duckdb__sorted_id_list(id_expression, order_column) -%}
    array_to_string(list_sort(list({{ id_expression }}) filter (where {{ id_expression }} is not null)), ',')
{%- endmacro %}
