{#- numerator / denominator as a double; 0 when the denominator is 0 or NULL
    (metric-contract §5: every ratio with an empty denominator is 0). -#}
{% macro safe_divide(numerator, denominator) -%}
    case
        when coalesce({{ denominator }}, 0) = 0 then 0
        else cast({{ numerator }} as {{ ad_precompute.type_double() }}) / {{ denominator }}
    end
{%- endmacro %}
