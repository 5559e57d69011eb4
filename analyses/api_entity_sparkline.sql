-- Read API /api/entities/{level}/{entity_id}/sparkline: one entity's last
-- $days days ending on $end_day, one row per day, zero-filled (a day without a
-- row, such as a day before the window or a country without data that day, is
-- all zeros). With $country, the rows of that country in the breakdown.
-- Each day's values are the §8 totals of that day's row (range_totals).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 end_day, $4 days, $5 country
-- ($5 NULL: the overall row.)

with

days as (

    {{ sparkline_days('$3', '$4') }}

),

overall_rows as (

    select *
    from {{ ref('entity_daily_range_parts') }}
    where
        cast($5 as varchar) is null
        and entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and date between cast($3 as date) - (cast($4 as integer) - 1) and cast($3 as date)

),

country_rows as (

    select * exclude (country_code)
    from {{ ref('entity_country_range_parts') }}
    where
        country_code = cast($5 as varchar)
        and entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and date between cast($3 as date) - (cast($4 as integer) - 1) and cast($3 as date)

),

entity_rows as (

    select * from overall_rows
    union all by name
    select * from country_rows

),

{{ daily_range_totals('entity_rows', one_row_per_day=true) }}
