-- The event parts of entity_country_range_parts (every part but the delivery
-- parts: macro range_total_event_parts), only on the rows where one of them is
-- not 0: about one country-day in six at year scale. A missing row's event
-- parts are all 0, so the sums over a range are the same.
-- A view: only the serving copy reads it, once per run.

{{ config(materialized='view') }}

{%- set events = range_total_event_parts() %}

with

country_parts as (

    select * from {{ ref('entity_country_range_parts') }}

)

select
    entity_type,
    entity_id,
    date,
    country_code,
    {{ events | join(',\n    ') }}
from country_parts
where
    {{ events | join(' != 0\n    or ') }} != 0
