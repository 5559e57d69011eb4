{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite', 'ad_precompute')(expression)) }}
{%- endmacro %}

{% macro default__is_finite(expression) -%}
    (({{ expression }}) - ({{ expression }}) = 0)
{%- endmacro %}

{% macro duckdb__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}
