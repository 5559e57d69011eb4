-- Every source row of user_product_metrics, cast, with the reason it is
-- rejected (NULL when kept; docs/metrics.md §2): an unusable distinct_id, no
-- product_id, a rate that is non-finite or outside [0, 1], a current_value that
-- is non-finite or negative, an exact copy. A rejected row's pair has no metrics
-- row. A NULL rate or value is kept (a NULL rate is skipped by its mean).
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

renamed as (

    select
        cast(distinct_id as {{ dbt.type_string() }}) as distinct_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(trial_conversion_rate as {{ type_double() }}) as trial_conversion_rate,
        cast(trial_converted_to_refund_rate as {{ type_double() }}) as trial_converted_to_refund_rate,
        cast(initial_purchase_to_refund_rate as {{ type_double() }}) as initial_purchase_to_refund_rate,
        cast(current_value as {{ type_double() }}) as current_value_usd
    from {{ source('mixpanel', 'user_product_metrics') }}

),

{{ flag_source_rows(reject_reason, copy_order_by='distinct_id') }}

select * from flagged
