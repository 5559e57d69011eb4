-- Every source row of user_product_metrics, cast, with the reason it is
-- rejected (NULL when kept).

with

source as (

    select * from {{ source('mixpanel', 'user_product_metrics') }}

),

renamed as (

    select
        -- keys
        cast(distinct_id as {{ dbt.type_string() }}) as distinct_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,

        -- estimates
        cast(trial_conversion_rate as {{ type_double() }}) as trial_conversion_rate,
        cast(trial_converted_to_refund_rate as {{ type_double() }}) as trial_converted_to_refund_rate,
        cast(initial_purchase_to_refund_rate as {{ type_double() }}) as initial_purchase_to_refund_rate,
        cast(current_value as {{ type_double() }}) as current_value_usd

    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by
                distinct_id, product_id, trial_conversion_rate, trial_converted_to_refund_rate,
                initial_purchase_to_refund_rate, current_value_usd
            order by distinct_id
        ) as copy_number
    from renamed

),

flagged as (

    select
        distinct_id,
        product_id,
        trial_conversion_rate,
        trial_converted_to_refund_rate,
        initial_purchase_to_refund_rate,
        current_value_usd,
        coalesce(
            {{ distinct_id_reject_reason('distinct_id') }},
            case when product_id is null or product_id = '' then 'null_product_id' end,
            case when copy_number > 1 then 'exact_duplicate' end
        ) as reject_reason
    from numbered

)

select * from flagged
