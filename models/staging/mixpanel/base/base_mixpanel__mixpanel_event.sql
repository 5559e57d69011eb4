-- Every delivered event, cast and renamed, with the reason it is rejected
-- (NULL when kept). Deliveries sharing event_uuid, event_name, distinct_id and
-- event_time are one event, Mixpanel's own rule (metric-contract §2); the
-- first copy by (product_id, revenue_usd) is kept.

with

source as (

    select * from {{ source('mixpanel', 'mixpanel_event') }}

),

renamed as (

    select
        -- keys
        cast(event_uuid as {{ dbt.type_string() }}) as event_uuid,
        cast(distinct_id as {{ dbt.type_string() }}) as distinct_id,

        -- event
        cast(event_name as {{ dbt.type_string() }}) as event_name,
        cast(event_time as {{ dbt.type_timestamp() }}) as event_time,
        cast(cast(event_time as {{ dbt.type_timestamp() }}) as date) as event_date,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(revenue_usd as {{ type_double() }}) as revenue_usd

    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by event_uuid, event_name, distinct_id, event_time
            order by product_id nulls last, revenue_usd nulls last
        ) as delivery_number
    from renamed

),

flagged as (

    select
        event_uuid,
        distinct_id,
        event_name,
        event_time,
        event_date,
        product_id,
        revenue_usd,
        coalesce(
            {{ distinct_id_reject_reason('distinct_id') }},
            case when delivery_number > 1 then 'duplicate_delivery' end
        ) as reject_reason
    from numbered

)

select * from flagged
