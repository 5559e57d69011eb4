-- Dashboard: every metric of one entity on one day (overall).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 day. A point lookup on the sort key.

-- every metric column, by design
select *  -- noqa: AM04
from {{ ref('entity_daily_metrics') }}
where
    entity_type = $1
    and entity_id = $2
    and date = $3
