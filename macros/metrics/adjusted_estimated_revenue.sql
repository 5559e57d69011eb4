{#- Estimated revenue scaled up by the share of users Mixpanel misses
    (metric-contract §5, "adjusted_estimated_revenue_usd").

    ratio = purchase accuracy ratio when mixpanel purchases > mixpanel trials,
            otherwise the trial accuracy ratio;
    adjusted = estimated / (ratio / 100), or estimated itself when ratio = 0.
    Ratios are the unrounded percentages. -#}
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
