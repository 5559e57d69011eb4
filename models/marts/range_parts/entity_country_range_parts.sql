-- The additive parts of every range total (docs/metrics.md §8) of
-- entity_country_breakdown, one row per row of the mart (see
-- entity_daily_range_parts).

with

mart_rows as (

    select * from {{ ref('entity_country_breakdown') }}

)

select
    entity_type,
    entity_id,
    date,
    country_code,
    {{ range_total_parts_columns() }}
from mart_rows
order by entity_type, entity_id, date, country_code
