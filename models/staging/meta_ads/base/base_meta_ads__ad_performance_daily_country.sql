-- Every source row of ad_performance_daily_country, cast and renamed, with the
-- reason it is rejected (NULL when kept). Same rules as the daily table.

with

{{ flag_source_rows('meta_ads', 'ad_performance_daily_country', meta_row_reject_reason(), copy_order_by='ad_id') }}

select * from flagged
