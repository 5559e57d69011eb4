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

{% macro range_total_summed_columns() -%}
    {{ return([
        'meta_spend', 'meta_impressions', 'meta_clicks', 'meta_trial_count', 'meta_purchase_count',
        'mixpanel_trial_count', 'mixpanel_purchase_count',
        'trial_conversion_estimate_pair_count', 'trial_refund_estimate_pair_count',
        'purchase_refund_estimate_pair_count',
        'actual_revenue_usd', 'actual_refunds_usd', 'net_actual_revenue_usd',
        'estimated_revenue_usd', 'adjusted_estimated_revenue_usd',
    ]) }}
{%- endmacro %}

{% macro range_total_parts() -%}
    {%- set parts = {} -%}
    {%- for name in ad_precompute.range_total_summed_columns() -%}
        {%- do parts.update({name: name}) -%}
    {%- endfor -%}
    {%- for rate, pairs in [
        ('trial_conversion_rate_estimated', 'trial_conversion_estimate_pair_count'),
        ('trial_refund_rate_estimated', 'trial_refund_estimate_pair_count'),
        ('purchase_refund_rate_estimated', 'purchase_refund_estimate_pair_count'),
    ] -%}
        {%- do parts.update({rate ~ '_weighted': rate ~ ' * ' ~ pairs}) -%}
    {%- endfor -%}
    {%- for list_name in ['post_trial', 'converted', 'trial_refund', 'purchase', 'purchase_refund'] -%}
        {%- do parts.update({list_name ~ '_list_length': ad_precompute.list_length(list_name ~ '_user_ids')}) -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}

{% macro range_total_parts_columns() -%}
    {%- for name, expression in ad_precompute.range_total_parts().items() %}
    {{ expression }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro range_total_sums() -%}
    {%- for name in ad_precompute.range_total_parts() %}
    coalesce(sum({{ name }}), 0) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro range_total_metrics() -%}
    {%- set formulas = {
        'trial_conversion_rate_estimated': ad_precompute.safe_divide(
            'trial_conversion_rate_estimated_weighted', 'trial_conversion_estimate_pair_count'),
        'trial_conversion_rate_actual': ad_precompute.safe_divide(
            'converted_list_length', 'post_trial_list_length'),
        'trial_refund_rate_estimated': ad_precompute.safe_divide(
            'trial_refund_rate_estimated_weighted', 'trial_refund_estimate_pair_count'),
        'trial_refund_rate_actual': ad_precompute.safe_divide(
            'trial_refund_list_length', 'converted_list_length'),
        'purchase_refund_rate_estimated': ad_precompute.safe_divide(
            'purchase_refund_rate_estimated_weighted', 'purchase_refund_estimate_pair_count'),
        'purchase_refund_rate_actual': ad_precompute.safe_divide(
            'purchase_refund_list_length', 'purchase_list_length'),
        'profit_usd': 'adjusted_estimated_revenue_usd - meta_spend',
        'estimated_roas': ad_precompute.safe_divide('adjusted_estimated_revenue_usd', 'meta_spend'),
        'trial_accuracy_ratio': ad_precompute.trial_accuracy_ratio('mixpanel_trial_count', 'meta_trial_count'),
        'purchase_accuracy_ratio': ad_precompute.purchase_accuracy_ratio(
            'mixpanel_purchase_count', 'meta_purchase_count'),
        'mixpanel_cost_per_trial': ad_precompute.safe_divide('meta_spend', 'mixpanel_trial_count'),
        'mixpanel_cost_per_purchase': ad_precompute.safe_divide('meta_spend', 'mixpanel_purchase_count'),
        'meta_cost_per_trial': ad_precompute.safe_divide('meta_spend', 'meta_trial_count'),
        'meta_cost_per_purchase': ad_precompute.safe_divide('meta_spend', 'meta_purchase_count'),
        'click_to_trial_rate': ad_precompute.safe_divide('mixpanel_trial_count * 100', 'meta_clicks'),
    } -%}
    {%- for name in ad_precompute.range_total_metric_names() %}
    {{ formulas.get(name, name) }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro range_total_sort_value(sort_parameter) -%}
    case {{ sort_parameter }}
        {%- for name in ad_precompute.range_total_metric_names() %}
        when '{{ name }}' then cast({{ name }} as {{ ad_precompute.type_double() }})
        {%- endfor %}
    end
{%- endmacro %}
