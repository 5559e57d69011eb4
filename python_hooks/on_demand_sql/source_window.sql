-- The default window: the earliest and latest date of the
-- kept Meta rows and of the UTC dates of the kept events. Rendered with: v.
select
    min(source_date) as first_source_date,
    max(source_date) as last_source_date
from (
    select report_date as source_date from {{ v }}meta_daily
    union all
    select report_date as source_date from {{ v }}meta_country
    union all
    select cast(event_time as date) as source_date from {{ v }}kept_events
) as source_dates
