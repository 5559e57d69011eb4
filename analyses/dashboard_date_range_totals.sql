-- Dashboard: every metric of one entity over a date range (overall), as
-- docs/metrics.md §8 defines range totals (the read API's
-- /api/entities/{level}/{entity_id} runs api_entity_range_totals: the same, with
-- the rates' denominators).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day
-- Ratios of a range are recomputed from the summed counts (range_totals), never
-- averaged over days (an average of daily ratios would weight a 1-trial day like
-- a 100-trial day).

with

{{ entity_range_totals(ref('entity_daily_range_parts')) }}
