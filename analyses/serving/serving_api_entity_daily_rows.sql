-- The serving copy's (SQLite) api_entity_daily_rows: one entity's day rows
-- over a range, in date order, every stored metric except the user lists.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

select
    {{ serving_day_columns() }}
from {{ serving_table('entity_daily_metrics') }}
where
    entity_type = $1
    and entity_id = $2
    and date between $3 and $4
order by date
