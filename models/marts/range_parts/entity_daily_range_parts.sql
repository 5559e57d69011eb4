-- The additive parts of every range total (docs/metrics.md §8) of
-- entity_daily_metrics, one row per row of the mart: the summed columns, the
-- weighted estimates and the list lengths (range_total_parts). The read API
-- sums these narrow rows instead of re-reading the user lists of every day it
-- totals (docs/decisions.md, "Read API").

with

mart_rows as (

    select * from {{ ref('entity_daily_metrics') }}

)

select
    entity_type,
    entity_id,
    date,
    {{ range_total_parts_columns() }}
from mart_rows
order by entity_type, entity_id, date
