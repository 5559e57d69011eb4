{% macro list_length(list_column) -%}
    case
        when {{ list_column }} is null or {{ list_column }} = '' then 0
        else {{ dbt.length(list_column) }} - {{ dbt.length(dbt.replace(list_column, "','", "''")) }} + 1
    end
{%- endmacro %}
