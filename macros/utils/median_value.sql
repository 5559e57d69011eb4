{#- The median of a numeric column in an aggregate (the mean of the two middle values
    when the count is even), on every engine. -#}
{% macro median_value(expression) -%}
    {{ return(adapter.dispatch('median_value', 'ad_precompute')(expression)) }}
{%- endmacro %}

{% macro default__median_value(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median_value(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro spark__median_value(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}
