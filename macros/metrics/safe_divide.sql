{% macro safe_divide(numerator, denominator) -%}
    case
        when coalesce({{ denominator }}, 0) = 0 then 0
        else cast({{ numerator }} as {{ ad_precompute.type_double() }}) / {{ denominator }}
    end
{%- endmacro %}
