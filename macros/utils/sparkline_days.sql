{% macro sparkline_days(end_day, days) -%}
    {{ return(adapter.dispatch('sparkline_days', 'ad_precompute')(end_day, days)) }}
{%- endmacro %}

{% macro default__sparkline_days(end_day, days) -%}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error(
            "sparkline_days has no implementation for " ~ target.type
            ~ ": the read API's analyses run on DuckDB releases") }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__sparkline_days(end_day, days) -%}
    select cast(day_series.series_day as date) as series_date
    from
        range(
            cast(cast({{ end_day }} as date) - (cast({{ days }} as integer) - 1) as timestamp),
            cast(cast({{ end_day }} as date) + 1 as timestamp),
            interval 1 day
        ) as day_series (series_day)
{%- endmacro %}
