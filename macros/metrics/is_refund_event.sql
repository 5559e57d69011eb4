{% macro is_refund_event(event_name, revenue_usd) -%}
    (lower({{ event_name }}) like '%cancel%' and {{ revenue_usd }} < 0)
{%- endmacro %}
