-- The cohort curves' sums as running sums, one row per entity and cohort date:
-- for each horizon N, the sums of the complete cohort dates up to and including
-- this one (docs/metrics.md §9), and how many cohort dates there were, complete
-- and in all, in the columns <name>_d<N> (macro cohort_curve_running_columns).
-- A range of cohort dates is the difference of two rows, so the entity table's
-- curve columns read two rows per entity for any range and every horizon
-- (macro cohort_curve_differences).

with

curve_rows as (

    select * from {{ ref('entity_cohort_curves') }}

),

-- each cohort date's sums, one column per horizon
cohort_date_sums as (

    select
        entity_type,
        entity_id,
        cohort_date,
        {{ cohort_curve_date_sums() }}
    from curve_rows
    group by entity_type, entity_id, cohort_date

)

select
    entity_type,
    entity_id,
    cohort_date,
    {{ cohort_curve_running_sums() }}
from cohort_date_sums
order by entity_type, entity_id, cohort_date
