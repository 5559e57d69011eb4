{#- The ids of a group as one comma-separated list, distinct and sorted
    ascending in binary (byte) order (metric-contract §4, "Rules for every
    list"; docs/decisions.md). NULL ids are skipped; a group with no id gives ''
    (the caller makes that NULL). An aggregate: use it with GROUP BY.

      id_expression   the id, or NULL for a row that is not in the list
      order_column    the column to sort by (the id itself)

    dbt's listagg honours `order by` on most engines, but dbt-spark's drops it
    (array_join(collect_list(...))), hence a Spark version. -#}
{% macro sorted_id_list(id_expression, order_column) -%}
    {{ return(adapter.dispatch('sorted_id_list', 'ad_precompute')(id_expression, order_column)) }}
{%- endmacro %}

{% macro default__sorted_id_list(id_expression, order_column) -%}
    {{ dbt.listagg(id_expression, "','", "order by " ~ order_column) }}
{%- endmacro %}

{#- collect_set drops NULLs and duplicates; array_sort orders strings by their
    bytes, as DuckDB's default collation does. -#}
{% macro spark__sorted_id_list(id_expression, order_column) -%}
    array_join(array_sort(collect_set({{ id_expression }})), ',')
{%- endmacro %}
