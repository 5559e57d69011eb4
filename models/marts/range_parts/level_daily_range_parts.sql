-- The parts of every range total (docs/metrics.md §8) of a whole level, per
-- day: entity_daily_range_parts summed over every entity of the level. The
-- overview sparkline reads one row per day here instead of summing every
-- entity's rows of the day on each request.

with

entity_parts as (

    select * from {{ ref('entity_daily_range_parts') }}

)

select
    entity_type,
    date,
    {{ range_total_sums() }}
from entity_parts
group by entity_type, date
order by entity_type, date
