{% macro is_revenue_event(event_name, revenue_usd) -%}
    ({{ event_name }} in ('RC Trial converted', 'RC Initial purchase', 'RC Renewal') and {{ revenue_usd }} > 0)
{%- endmacro %}
