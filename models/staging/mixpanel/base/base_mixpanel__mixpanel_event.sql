-- Every delivered event, cast and renamed, with the reason it is rejected
-- (NULL when kept; docs/metrics.md §2): an unusable distinct_id, a NULL or
-- empty event_uuid or event_name, a NULL event_time, a non-finite revenue_usd.
-- Deliveries sharing event_uuid, event_name, distinct_id and event_time are one
-- event, Mixpanel's own rule; among the usable copies the first by
-- (product_id, revenue_usd) is kept, the others are `duplicate_delivery`.
-- event_time is cast to TIMESTAMP in the session zone, UTC (profiles.yml), so a
-- TIMESTAMPTZ source is taken in UTC.

with

renamed as (

    select
        cast(event_uuid as {{ dbt.type_string() }}) as event_uuid,
        cast(distinct_id as {{ dbt.type_string() }}) as distinct_id,
        cast(event_name as {{ dbt.type_string() }}) as event_name,
        cast(event_time as {{ dbt.type_timestamp() }}) as event_time,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(revenue_usd as {{ type_double() }}) as revenue_usd
    from {{ source('mixpanel', 'mixpanel_event') }}

),

row_checked as (

    select
        *,
        coalesce(
            {{ distinct_id_reject_reason('distinct_id') }},
            case
                when event_uuid is null then 'null_event_uuid'
                when event_uuid = '' then 'empty_event_uuid'
                when event_name is null then 'null_event_name'
                when event_name = '' then 'empty_event_name'
                when event_time is null then 'null_event_time'
                when not {{ is_finite('revenue_usd') }} then 'non_finite_revenue'
            end
        ) as row_reject_reason
    from renamed

),

numbered as (

    select
        *,
        -- rejected rows are numbered apart, so that a bad copy never hides a good one
        row_number() over (
            partition by row_reject_reason, event_uuid, event_name, distinct_id, event_time
            order by product_id nulls last, revenue_usd nulls last
        ) as delivery_number
    from row_checked

),

flagged as (

    select
        {{ staged_column_names('mixpanel', 'mixpanel_event') | join(',\n        ') }},
        coalesce(
            row_reject_reason,
            case when delivery_number > 1 then 'duplicate_delivery' end
        ) as reject_reason
    from numbered

)

select * from flagged
