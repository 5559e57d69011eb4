-- The delivery parts of entity_country_range_parts (Meta's spend, impressions,
-- clicks, trials and purchases: macro range_total_delivery_parts), one row per
-- row of it. With entity_country_event_range_parts it makes the serving copy's
-- country rows: a country breakdown sums these 5 parts over every country-day
-- and the event parts over the few country-days that have events.
-- Every row, never filtered: the breakdown left-joins the event rows to these.
-- A view: only the serving copy reads it, once per run.

{{ config(materialized='view') }}

with

country_parts as (

    select * from {{ ref('entity_country_range_parts') }}

)

select
    entity_type,
    entity_id,
    date,
    country_code,
    {{ range_total_delivery_parts() | join(',\n    ') }}
from country_parts
