-- Every source row of ad_performance_daily, cast and renamed (the columns, types
-- and names of the sources YAML), with the reason it is rejected (NULL when it
-- is kept): a NULL key, a non-finite or negative measure, an exact copy of an
-- earlier row (metric-contract §2). stg_ keeps the kept rows; the rejects model
-- keeps the others.

with

{{ flag_source_rows('meta_ads', 'ad_performance_daily', meta_row_reject_reason(), copy_order_by='ad_id') }}

select * from flagged
