-- One row per entity, cohort day and user country with at least one trial or purchase pair.
-- User lists, counts, estimated rates and money of docs/metrics.md §4–§5,
-- from the row's own cohort (macros/cohorts/aggregate_entity_cohorts.sql).

with

entity_cohort_pairs as (

    select * from {{ ref('int_entity_cohort_pairs_joined') }}

),

{{ aggregate_entity_cohorts('entity_cohort_pairs', ['entity_type', 'entity_id', 'cohort_date', 'country_code']) }}

select * from cohorts_aggregated
