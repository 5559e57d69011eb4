{% macro measure_input_columns(meta, cohorts) -%}
        -- meta measures
        coalesce({{ meta }}.meta_spend_usd, 0) as meta_spend_usd,
        coalesce({{ meta }}.meta_impressions, 0) as meta_impressions,
        coalesce({{ meta }}.meta_clicks, 0) as meta_clicks,
        coalesce({{ meta }}.meta_trials, 0) as meta_trials,
        coalesce({{ meta }}.meta_purchases, 0) as meta_purchases,

        -- user lists and counts
        {%- for list_name in ['trial', 'post_trial', 'converted', 'trial_refund', 'purchase', 'purchase_refund'] %}
        {{ cohorts }}.{{ list_name }}_user_ids,
        coalesce({{ cohorts }}.{{ list_name }}_users, 0) as {{ list_name }}_users,
        {%- endfor %}

        -- estimated rates (0 when no pair has a metrics row)
        coalesce({{ cohorts }}.trial_conversion_rate_estimated, 0) as trial_conversion_rate_estimated,
        coalesce({{ cohorts }}.trial_refund_rate_estimated, 0) as trial_refund_rate_estimated,
        coalesce({{ cohorts }}.purchase_refund_rate_estimated, 0) as purchase_refund_rate_estimated,
        coalesce({{ cohorts }}.trial_conversion_estimate_pair_count, 0) as trial_conversion_estimate_pair_count,
        coalesce({{ cohorts }}.trial_refund_estimate_pair_count, 0) as trial_refund_estimate_pair_count,
        coalesce({{ cohorts }}.purchase_refund_estimate_pair_count, 0) as purchase_refund_estimate_pair_count,

        -- money
        coalesce({{ cohorts }}.actual_revenue_usd, 0) as actual_revenue_usd,
        coalesce({{ cohorts }}.actual_refunds_usd, 0) as actual_refunds_usd,
        coalesce({{ cohorts }}.estimated_revenue_usd, 0) as estimated_revenue_usd,

        -- cohort quality inputs
        coalesce({{ cohorts }}.cohort_pairs, 0) as cohort_pairs,
        coalesce({{ cohorts }}.cohort_pairs_without_metrics, 0) as cohort_pairs_without_metrics
{%- endmacro %}
