-- The serving copy's (SQLite) api_entity_sparkline: one entity's last $days
-- days ending on $end_day, zero-filled, each day's §8 totals (range_totals);
-- with $country, the rows of that country in the breakdown (its delivery rows
-- and, where it has them, its event rows).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 end_day, $4 days, $5 country
-- ($5 NULL: the overall row.)

with recursive

days (series_date) as (

    {{ serving_sparkline_days('$3', '$4') }}

),

-- materialized: the few rows once (SQLite would evaluate the union per day)
entity_rows as materialized (

    select
        date,
        {{ serving_range_part_columns() }}
    from {{ serving_table('entity_daily_range_parts') }}
    where
        $5 is null
        and entity_type = $1
        and entity_id = $2
        and date between date($3, printf('-%d days', $4 - 1)) and $3

    union all

    select
        delivery.date,
        {{ range_total_split_parts('delivery', 'events') }}
    from {{ serving_table('entity_country_delivery_range_parts') }} as delivery
    left join {{ serving_table('entity_country_event_range_parts') }} as events
        on
            delivery.entity_type = events.entity_type
            and delivery.entity_id = events.entity_id
            and delivery.date = events.date
            and delivery.country_code = events.country_code
    where
        delivery.country_code = $5
        and delivery.entity_type = $1
        and delivery.entity_id = $2
        and delivery.date between date($3, printf('-%d days', $4 - 1)) and $3

),

{{ daily_range_totals('entity_rows', 'sqlite', one_row_per_day=true) }}
