-- The additive parts of every range total (docs/metrics.md §8) of
-- entity_daily_metrics, one row per row of the mart: the summed columns, the
-- weighted estimates and the list lengths (range_total_parts). The read API
-- sums these narrow rows instead of re-reading the user lists of every day it
-- totals (docs/decisions.md, "Read API").

with

mart_rows as (

    select * from {{ ref('entity_daily_metrics') }}

),

-- as_of_date - refund_maturity_days, for the maturing parts of the provisional refund rates
reporting_window as (

    select last_mature_refund_cohort_date
    from {{ ref('int_reporting_window_resolved') }}

),

mart_rows_dated as (

    select
        mart_rows.*,
        reporting_window.last_mature_refund_cohort_date
    from mart_rows
    cross join reporting_window

)

select
    entity_type,
    entity_id,
    date,
    {{ range_total_parts_columns() }}
from mart_rows_dated
order by entity_type, entity_id, date
