-- The serving copy's (SQLite) dashboard_overall_and_country_14_days: one
-- entity's totals over a date range, overall and per country, the same
-- range_totals formulas (flavour sqlite), in the same shape and order. The
-- copy holds the country rows split: every country-day's delivery parts, and
-- the event parts of the country-days that have events.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

with

overall_rows as (

    select *
    from {{ serving_table('entity_daily_range_parts') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between $3 and $4

),

country_delivery_rows as (

    select *
    from {{ serving_table('entity_country_delivery_range_parts') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between $3 and $4

),

country_event_rows as (

    select *
    from {{ serving_table('entity_country_event_range_parts') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between $3 and $4

),

{{ overall_and_country_totals('sqlite', split_countries=true) }}
