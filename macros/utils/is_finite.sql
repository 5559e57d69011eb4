{#- TRUE when a number is finite, FALSE for NaN, +Infinity and -Infinity,
    NULL for NULL (metric-contract §2: a non-finite measure, revenue, rate or
    value rejects its row; a NULL one does not). -#}
{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite', 'ad_precompute')(expression)) }}
{%- endmacro %}

{#- Portable: x - x is 0 for every finite x, and NaN for NaN and ±Infinity
    (NaN = 0 is false in IEEE arithmetic and in engines where NaN = NaN). -#}
{% macro default__is_finite(expression) -%}
    (({{ expression }}) - ({{ expression }}) = 0)
{%- endmacro %}

{% macro duckdb__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}
