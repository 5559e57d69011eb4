{#- Mixpanel vs Meta tracking accuracy, in percent (metric-contract §5).

    trial:    mixpanel / meta * 100; 100 when meta = 0 and mixpanel > 0; 0 when both are 0.
    purchase: mixpanel / meta * 100; 0 when meta = 0 (no 100 special case, as in
              the current dashboard). -#}
{% macro trial_accuracy_ratio(mixpanel_count, meta_count) -%}
    case
        when coalesce({{ meta_count }}, 0) = 0 and {{ mixpanel_count }} > 0 then 100
        else {{ ad_precompute.safe_divide(mixpanel_count ~ ' * 100', meta_count) }}
    end
{%- endmacro %}

{% macro purchase_accuracy_ratio(mixpanel_count, meta_count) -%}
    {{ ad_precompute.safe_divide(mixpanel_count ~ ' * 100', meta_count) }}
{%- endmacro %}
