{#- `part` / `whole` as a percent with two decimals, as text ('12.5'); NULL when `whole` is NULL. -#}
{% macro percent_text(part, whole) -%}
    cast(round(100 * cast({{ part }} as {{ type_double() }}) / {{ whole }}, 2) as {{ dbt.type_string() }})
{%- endmacro %}
