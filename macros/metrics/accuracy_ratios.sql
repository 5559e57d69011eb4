{% macro trial_accuracy_ratio(mixpanel_count, meta_count) -%}
    case
        when coalesce({{ meta_count }}, 0) = 0 and {{ mixpanel_count }} > 0 then 100
        else {{ ad_precompute.safe_divide(mixpanel_count ~ ' * 100', meta_count) }}
    end
{%- endmacro %}

{% macro purchase_accuracy_ratio(mixpanel_count, meta_count) -%}
    {{ ad_precompute.safe_divide(mixpanel_count ~ ' * 100', meta_count) }}
{%- endmacro %}
