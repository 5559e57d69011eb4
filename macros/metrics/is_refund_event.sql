{#- A refund (metric-contract §4): a cancellation event (name contains "cancel",
    any case) with negative revenue. Zero, positive or NULL revenue is not a refund. -#}
{% macro is_refund_event(event_name, revenue_usd) -%}
    (lower({{ event_name }}) like '%cancel%' and {{ revenue_usd }} < 0)
{%- endmacro %}
