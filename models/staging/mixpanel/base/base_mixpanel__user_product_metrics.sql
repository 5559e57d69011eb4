-- Every source row of user_product_metrics, cast, with the reason it is
-- rejected (NULL when kept; metric-contract §2): an unusable distinct_id, no
-- product_id, a rate that is non-finite or outside [0, 1], a current_value that
-- is non-finite or negative, an exact copy. A rejected row's pair has no metrics
-- row. A NULL rate or value is kept (a NULL rate is skipped by its mean, D13).
{%- set reject_reason %}
coalesce(
            {{ distinct_id_reject_reason('distinct_id') }},
            case
                when product_id is null or product_id = '' then 'null_product_id'
                when
                    not {{ is_finite('trial_conversion_rate') }}
                    or not {{ is_finite('trial_converted_to_refund_rate') }}
                    or not {{ is_finite('initial_purchase_to_refund_rate') }}
                    then 'non_finite_rate'
                when
                    trial_conversion_rate < 0 or trial_conversion_rate > 1
                    or trial_converted_to_refund_rate < 0 or trial_converted_to_refund_rate > 1
                    or initial_purchase_to_refund_rate < 0 or initial_purchase_to_refund_rate > 1
                    then 'rate_out_of_range'
                when not {{ is_finite('current_value_usd') }} then 'non_finite_current_value'
                when current_value_usd < 0 then 'negative_current_value'
            end
        )
{%- endset %}

with

{{ flag_source_rows('mixpanel', 'user_product_metrics', reject_reason, copy_order_by='distinct_id') }}

select * from flagged
