-- One row per day of the reporting window, start_date to as_of_date inclusive:
-- the date spine every entity gets a row for.

with

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

day_numbers as (

    {{ dbt.generate_series(var('max_window_days')) }}

),

spine as (

    select
        cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'reporting_window.start_date') }} as date)
            as report_date
    from day_numbers
    cross join reporting_window
    where day_numbers.generated_number <= reporting_window.window_days

)

select * from spine
