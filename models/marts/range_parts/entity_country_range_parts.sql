-- The additive parts of every range total (docs/metrics.md §8) of
-- entity_country_breakdown, one row per row of the mart (see
-- entity_daily_range_parts).

with

mart_rows as (

    select * from {{ ref('entity_country_breakdown') }}

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
    country_code,
    {{ range_total_parts_columns() }}
from mart_rows_dated
order by entity_type, entity_id, date, country_code
