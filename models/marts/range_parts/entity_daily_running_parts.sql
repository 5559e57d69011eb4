-- The parts of entity_daily_range_parts as running sums: each row holds the
-- sums of its entity's rows up to and including its date. The sums of a date
-- range are the difference of two rows (the range's last row, minus the last
-- row before it), so the entity table reads two rows per entity for any range,
-- 1 day or 365 (macro range_total_differences).

with

entity_parts as (

    select * from {{ ref('entity_daily_range_parts') }}

)

select
    entity_type,
    entity_id,
    date,
    {{ range_total_running_sums(['entity_type', 'entity_id'], 'date') }}
from entity_parts
order by entity_type, entity_id, date
