-- The cohort curves' sums as running sums: per entity and horizon N, each row
-- holds the sums of the complete cohort dates up to and including its cohort
-- date (docs/metrics.md §9), and how many cohort dates there were, complete and
-- in all. A range of cohort dates is the difference of two rows, so the entity
-- table's curve columns read two rows per entity and horizon for any range
-- (macro cohort_curve_differences).

with

curve_rows as (

    select * from {{ ref('entity_cohort_curves') }}

)

select
    entity_type,
    entity_id,
    days_since_cohort,
    cohort_date,
    {{ cohort_curve_running_sums() }}
from curve_rows
order by entity_type, entity_id, days_since_cohort, cohort_date
