-- The serving copy's (SQLite) api_entity_range_totals: every metric of one
-- entity over a date range with the rates' denominators and provisional flags,
-- the same range_totals formulas (flavour sqlite).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

{{ entity_range_totals(serving_table('entity_daily_range_parts'), 'sqlite', denominators=true) }}
