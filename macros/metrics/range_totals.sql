{#-
    Totals over a set of rows of entity_daily_metrics or entity_country_breakdown
    (metric-contract §8): the one definition of every range formula, used by
    the read API's analyses (analyses/api_*.sql, dashboard_*.sql). Emits one
    aggregate select item per metric, named after the mart's column, and is
    used with a GROUP BY (or over the whole filtered set).

      * counts, Meta measures and money: sums of the rows (a count over a range
        counts cohort entries);
      * the three actual rates: ratio of the summed list lengths;
      * the three estimated rates: daily values weighted by their
        *_estimate_pair_count;
      * accuracy ratios, ROAS, costs and click_to_trial_rate: the §5 formulas
        applied to the sums; profit = Σ adjusted − Σ spend.

    An empty set (or a zero-filled day of a sparkline) gives 0 everywhere.
    Values are not rounded (the stored daily values already are).
-#}
{% macro range_total_metric_names() -%}
    {{ return([
        'meta_spend', 'meta_impressions', 'meta_clicks', 'meta_trial_count', 'meta_purchase_count',
        'mixpanel_trial_count', 'mixpanel_purchase_count',
        'trial_conversion_rate_estimated', 'trial_conversion_rate_actual',
        'trial_refund_rate_estimated', 'trial_refund_rate_actual',
        'purchase_refund_rate_estimated', 'purchase_refund_rate_actual',
        'trial_conversion_estimate_pair_count', 'trial_refund_estimate_pair_count',
        'purchase_refund_estimate_pair_count',
        'actual_revenue_usd', 'actual_refunds_usd', 'net_actual_revenue_usd',
        'estimated_revenue_usd', 'adjusted_estimated_revenue_usd',
        'profit_usd', 'estimated_roas', 'trial_accuracy_ratio', 'purchase_accuracy_ratio',
        'mixpanel_cost_per_trial', 'mixpanel_cost_per_purchase',
        'meta_cost_per_trial', 'meta_cost_per_purchase', 'click_to_trial_rate',
    ]) }}
{%- endmacro %}

{% macro range_sum(expression) -%}
    coalesce(sum({{ expression }}), 0)
{%- endmacro %}

{% macro range_weighted_mean(value_column, weight_column) -%}
    {{ ad_precompute.safe_divide(
        ad_precompute.range_sum(value_column ~ ' * ' ~ weight_column),
        ad_precompute.range_sum(weight_column)) }}
{%- endmacro %}

{% macro range_list_length_ratio(numerator_list, denominator_list) -%}
    {{ ad_precompute.safe_divide(
        ad_precompute.range_sum(ad_precompute.list_length(numerator_list)),
        ad_precompute.range_sum(ad_precompute.list_length(denominator_list))) }}
{%- endmacro %}

{% macro range_totals() -%}
    {%- set spend = ad_precompute.range_sum('meta_spend') -%}
    {%- set adjusted = ad_precompute.range_sum('adjusted_estimated_revenue_usd') -%}
    {%- set mixpanel_trials = ad_precompute.range_sum('mixpanel_trial_count') -%}
    {%- set mixpanel_purchases = ad_precompute.range_sum('mixpanel_purchase_count') -%}
    {%- set meta_trials = ad_precompute.range_sum('meta_trial_count') -%}
    {%- set meta_purchases = ad_precompute.range_sum('meta_purchase_count') -%}
    {%- set summed = [
        'meta_spend', 'meta_impressions', 'meta_clicks', 'meta_trial_count', 'meta_purchase_count',
        'mixpanel_trial_count', 'mixpanel_purchase_count',
        'trial_conversion_estimate_pair_count', 'trial_refund_estimate_pair_count',
        'purchase_refund_estimate_pair_count',
        'actual_revenue_usd', 'actual_refunds_usd', 'net_actual_revenue_usd',
        'estimated_revenue_usd', 'adjusted_estimated_revenue_usd',
    ] -%}
    {%- set formulas = {
        'trial_conversion_rate_estimated': ad_precompute.range_weighted_mean(
            'trial_conversion_rate_estimated', 'trial_conversion_estimate_pair_count'),
        'trial_conversion_rate_actual': ad_precompute.range_list_length_ratio(
            'converted_user_ids', 'post_trial_user_ids'),
        'trial_refund_rate_estimated': ad_precompute.range_weighted_mean(
            'trial_refund_rate_estimated', 'trial_refund_estimate_pair_count'),
        'trial_refund_rate_actual': ad_precompute.range_list_length_ratio(
            'trial_refund_user_ids', 'converted_user_ids'),
        'purchase_refund_rate_estimated': ad_precompute.range_weighted_mean(
            'purchase_refund_rate_estimated', 'purchase_refund_estimate_pair_count'),
        'purchase_refund_rate_actual': ad_precompute.range_list_length_ratio(
            'purchase_refund_user_ids', 'purchase_user_ids'),
        'profit_usd': adjusted ~ ' - ' ~ spend,
        'estimated_roas': ad_precompute.safe_divide(adjusted, spend),
        'trial_accuracy_ratio': ad_precompute.trial_accuracy_ratio(mixpanel_trials, meta_trials),
        'purchase_accuracy_ratio': ad_precompute.purchase_accuracy_ratio(mixpanel_purchases, meta_purchases),
        'mixpanel_cost_per_trial': ad_precompute.safe_divide(spend, mixpanel_trials),
        'mixpanel_cost_per_purchase': ad_precompute.safe_divide(spend, mixpanel_purchases),
        'meta_cost_per_trial': ad_precompute.safe_divide(spend, meta_trials),
        'meta_cost_per_purchase': ad_precompute.safe_divide(spend, meta_purchases),
        'click_to_trial_rate': ad_precompute.safe_divide(
            mixpanel_trials ~ ' * 100', ad_precompute.range_sum('meta_clicks')),
    } -%}
    {%- for name in ad_precompute.range_total_metric_names() %}
    {% if name in summed -%}
        {{ ad_precompute.range_sum(name) }}
    {%- else -%}
        {{ formulas[name] }}
    {%- endif %} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The sort key of the entity table: the whitelisted column named by the
    parameter `sort_parameter` (a metric of range_total_metric_names), as a double. -#}
{% macro range_total_sort_value(sort_parameter) -%}
    case {{ sort_parameter }}
        {%- for name in ad_precompute.range_total_metric_names() %}
        when '{{ name }}' then cast({{ name }} as {{ ad_precompute.type_double() }})
        {%- endfor %}
    end
{%- endmacro %}
