{% macro compute_dashboard_metrics(inputs, key_columns) -%}
{%- set money = 'decimal(18, 2)' -%}
{%- set wide_ratio = 'decimal(18, 4)' -%}
{%- set rate = 'decimal(5, 4)' -%}

ratios_computed as (

    select
        *,
        {{ ad_precompute.safe_divide('converted_users', 'post_trial_users') }} as trial_conversion_rate_actual,
        {{ ad_precompute.safe_divide('trial_refund_users', 'converted_users') }} as trial_refund_rate_actual,
        {{ ad_precompute.safe_divide('purchase_refund_users', 'purchase_users') }} as purchase_refund_rate_actual,
        {{ ad_precompute.trial_accuracy_ratio('trial_users', 'meta_trials') }} as trial_accuracy_ratio,
        {{ ad_precompute.purchase_accuracy_ratio('purchase_users', 'meta_purchases') }} as purchase_accuracy_ratio
    from {{ inputs }}

),

revenue_adjusted as (

    select
        *,
        {{ ad_precompute.adjusted_estimated_revenue(
            'estimated_revenue_usd', 'trial_users', 'purchase_users',
            'trial_accuracy_ratio', 'purchase_accuracy_ratio'
        ) }} as adjusted_estimated_revenue_usd
    from ratios_computed

),

dashboard_metrics as (

    select
        -- keys
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}

        -- meta advertising metrics
        cast(round(meta_spend_usd, 2) as {{ money }}) as meta_spend,
        cast(meta_impressions as integer) as meta_impressions,
        cast(meta_clicks as integer) as meta_clicks,
        cast(meta_trials as integer) as meta_trial_count,
        cast(meta_purchases as integer) as meta_purchase_count,

        -- mixpanel metrics
        cast(trial_users as integer) as mixpanel_trial_count,
        cast(purchase_users as integer) as mixpanel_purchase_count,

        -- user lists
        trial_user_ids,
        post_trial_user_ids,
        converted_user_ids,
        trial_refund_user_ids,
        purchase_user_ids,
        purchase_refund_user_ids,

        -- conversion and refund rates (fractions 0-1)
        cast(round(trial_conversion_rate_estimated, 4) as {{ rate }}) as trial_conversion_rate_estimated,
        cast(round(trial_conversion_rate_actual, 4) as {{ rate }}) as trial_conversion_rate_actual,
        cast(round(trial_refund_rate_estimated, 4) as {{ rate }}) as trial_refund_rate_estimated,
        cast(round(trial_refund_rate_actual, 4) as {{ rate }}) as trial_refund_rate_actual,
        cast(round(purchase_refund_rate_estimated, 4) as {{ rate }}) as purchase_refund_rate_estimated,
        cast(round(purchase_refund_rate_actual, 4) as {{ rate }}) as purchase_refund_rate_actual,

        -- pairs that entered each estimated rate's mean (weights for range totals, §8)
        cast(trial_conversion_estimate_pair_count as integer) as trial_conversion_estimate_pair_count,
        cast(trial_refund_estimate_pair_count as integer) as trial_refund_estimate_pair_count,
        cast(purchase_refund_estimate_pair_count as integer) as purchase_refund_estimate_pair_count,

        -- revenue (USD)
        cast(round(actual_revenue_usd, 2) as {{ money }}) as actual_revenue_usd,
        cast(round(actual_refunds_usd, 2) as {{ money }}) as actual_refunds_usd,
        cast(round(actual_revenue_usd - actual_refunds_usd, 2) as {{ money }}) as net_actual_revenue_usd,
        cast(round(estimated_revenue_usd, 2) as {{ money }}) as estimated_revenue_usd,
        cast(round(adjusted_estimated_revenue_usd, 2) as {{ money }}) as adjusted_estimated_revenue_usd,

        -- performance (ratios in percent)
        cast(round(adjusted_estimated_revenue_usd - meta_spend_usd, 2) as {{ money }}) as profit_usd,
        cast(round({{ ad_precompute.safe_divide('adjusted_estimated_revenue_usd', 'meta_spend_usd') }}, 4) as {{ wide_ratio }})
            as estimated_roas,
        cast(round(trial_accuracy_ratio, 4) as {{ wide_ratio }}) as trial_accuracy_ratio,
        cast(round(purchase_accuracy_ratio, 4) as {{ wide_ratio }}) as purchase_accuracy_ratio,

        -- cost (USD)
        cast(round({{ ad_precompute.safe_divide('meta_spend_usd', 'trial_users') }}, 2) as {{ money }})
            as mixpanel_cost_per_trial,
        cast(round({{ ad_precompute.safe_divide('meta_spend_usd', 'purchase_users') }}, 2) as {{ money }})
            as mixpanel_cost_per_purchase,
        cast(round({{ ad_precompute.safe_divide('meta_spend_usd', 'meta_trials') }}, 2) as {{ money }})
            as meta_cost_per_trial,
        cast(round({{ ad_precompute.safe_divide('meta_spend_usd', 'meta_purchases') }}, 2) as {{ money }})
            as meta_cost_per_purchase,
        cast(round({{ ad_precompute.safe_divide('trial_users * 100', 'meta_clicks') }}, 4) as {{ wide_ratio }})
            as click_to_trial_rate,

        -- metadata
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as computed_at,
        cast(round(
            {{ ad_precompute.data_quality_score(
                'cohort_pairs', 'cohort_pairs_without_metrics', 'has_unmapped_country',
                'is_in_hierarchy_mapping', 'meta_trials', 'trial_users', 'meta_purchases', 'purchase_users'
            ) }}, 2) as decimal(3, 2)) as data_quality_score

    from revenue_adjusted

)
{%- endmacro %}
