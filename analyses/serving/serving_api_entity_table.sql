-- The serving copy's (SQLite) api_entity_table: one row per entity of a level,
-- with every metric's range total (range_totals, flavour sqlite) and its cohort
-- curve columns (cohort_curve_totals), sorted and paginated, as api_entity_table
-- returns it.
-- Parameters (prepared statement): $1 entity_type, $2 start_day, $3 end_day, $4 parent_id, $5 sort, $6 sort_order, $7 page_limit, $8 page_offset

with

entities as (

    select
        entity_type,
        entity_id,
        entity_name,
        parent_id
    from {{ serving_table('entity_names') }}
    where
        entity_type = $1
        and ($4 is null or parent_id = $4)

),

range_rows as (

    select parts.*
    from entities
    inner join {{ serving_table('entity_daily_range_parts') }} as parts
        on
            entities.entity_type = parts.entity_type
            and entities.entity_id = parts.entity_id
    where parts.date between $2 and $3

),

curve_rows as (

    -- entity_id in (...): SQLite reads each entity's range by its key (a join
    -- would read every cohort row of the level, the table has no date index)
    select
        entity_type,
        entity_id,
        days_since_cohort,
        {{ cohort_curve_columns('sum') | join(',\n        ') }},
        is_complete
    from {{ serving_table('entity_cohort_curves') }}
    where
        entity_type = $1
        and entity_id in (select entities.entity_id from entities)
        and cohort_date between $2 and $3

),

{{ entity_table_page('sqlite') }}
