-- Read API /api/entities: one row per entity of a level, with every metric's
-- range total (docs/metrics.md §8, range_totals) and its cohort curve columns
-- (§9, cohort_curve_totals), sorted and paginated.
-- Parameters (prepared statement): $1 entity_type, $2 start_day, $3 end_day, $4 parent_id, $5 sort, $6 sort_order, $7 page_limit, $8 page_offset
-- ($4 NULL: every entity of the level; $5 'name', 'entity_id', a metric of
-- range_total_metric_names or a column of cohort_table_columns; $6 'asc' or 'desc'.)
-- Returns the page's rows in order, each with `total_rows` (entities that match
-- before pagination); a page past the end is one row with only total_rows set.

with

entities as (

    select *
    from {{ ref('entity_names') }}
    where
        entity_type = cast($1 as varchar)
        and (cast($4 as varchar) is null or parent_id = cast($4 as varchar))

),

range_rows as (

    select *
    from {{ ref('entity_daily_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and date between cast($2 as date) and cast($3 as date)

),

curve_rows as (

    select
        entity_type,
        entity_id,
        days_since_cohort,
        {{ cohort_curve_columns('sum') | join(',\n        ') }},
        is_complete
    from {{ ref('entity_cohort_curves') }}
    where
        entity_type = cast($1 as varchar)
        and cohort_date between cast($2 as date) and cast($3 as date)

),

{{ entity_table_page() }}
