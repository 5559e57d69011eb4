{% macro adjusted_estimated_revenue(estimated_revenue, mixpanel_trials, mixpanel_purchases, trial_ratio, purchase_ratio) -%}
    case
        when {{ mixpanel_purchases }} > {{ mixpanel_trials }} then
            case
                when {{ purchase_ratio }} = 0 then {{ estimated_revenue }}
                else {{ estimated_revenue }} / ({{ purchase_ratio }} / 100.0)
            end
        when {{ trial_ratio }} = 0 then {{ estimated_revenue }}
        else {{ estimated_revenue }} / ({{ trial_ratio }} / 100.0)
    end
{%- endmacro %}
