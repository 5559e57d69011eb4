{#-
    Totals over a set of rows of entity_daily_metrics or entity_country_breakdown
    (metric-contract §8): the one definition of every range formula, used by
    the read API's analyses (analyses/api_*.sql, dashboard_*.sql). Emits one
    select item per metric, named after the mart's column. Two stages, so that
    each sum is written (and computed) once and a query stays small enough to
    plan in a few milliseconds (docs/decisions.md, "Read API"):

      summed as (select {{ range_total_sums() }} from <range_parts rows> [group by]),
      totals as (select {{ range_total_metrics() }} from summed)

    The parts (range_total_parts) are stored per mart row by the models of
    models/marts/range_parts/, so that a range total reads narrow numeric rows,
    never the user lists.

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

{#- The additive parts of every §8 total, each summed once: the summed
    columns under their own names, plus the weighted estimates and the list
    lengths that the ratios need. -#}
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

{#- The select items of the range_parts models (models/marts/range_parts/):
    each part of range_total_parts(), per row of a mart. -#}
{% macro range_total_parts_columns() -%}
    {%- for name, expression in ad_precompute.range_total_parts().items() %}
    {{ expression }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Stage 1, over rows of a range_parts model (with a GROUP BY, or over the
    whole set): each part summed, 0 when the set is empty. -#}
{% macro range_total_sums() -%}
    {%- for name in ad_precompute.range_total_parts() %}
    coalesce(sum({{ name }}), 0) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Stage 2, over rows of stage 1: every metric of range_total_metric_names(),
    named after the mart's column. -#}
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

{#- The sort key of the entity table: the whitelisted column named by the
    parameter `sort_parameter` (a metric of range_total_metric_names), as a double. -#}
{% macro range_total_sort_value(sort_parameter) -%}
    case {{ sort_parameter }}
        {%- for name in ad_precompute.range_total_metric_names() %}
        when '{{ name }}' then cast({{ name }} as {{ ad_precompute.type_double() }})
        {%- endfor %}
    end
{%- endmacro %}
