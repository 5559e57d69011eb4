-- The serving copy's (SQLite) api_entity_sparkline, overall rows only (a
-- country's sparkline is read from the release file): one entity's last $days
-- days ending on $end_day, zero-filled, each day's §8 totals (range_totals).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 end_day, $4 days

with recursive

days (series_date) as (

    {{ serving_sparkline_days('$3', '$4') }}

),

entity_rows as (

    select *
    from {{ serving_table('entity_daily_range_parts') }}
    where
        entity_type = $1
        and entity_id = $2
        and date between date($3, printf('-%d days', $4 - 1)) and $3

),

daily_sums as (

    select
        days.series_date,
        {{ range_total_sums('sqlite') }}
    from days
    left join entity_rows
        on days.series_date = entity_rows.date
    group by days.series_date

),

daily as (

    select
        -- named like the marts' column
        series_date as date,  -- noqa: RF04
        {{ range_total_metrics('sqlite') }}
    from daily_sums

)

select * from daily
order by date
