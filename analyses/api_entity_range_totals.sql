-- Read API /api/entities/{level}/{entity_id}: every metric of one entity over a
-- date range (docs/metrics.md §8, range_totals), as dashboard_date_range_totals,
-- with the rates' denominators and provisional flags (range_total_denominators).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

{{ entity_range_totals(ref('entity_daily_range_parts'), 'duckdb', denominators=true) }}
