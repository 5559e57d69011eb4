{#- The serving copy of a release (python_hooks/release.py writes it): SQLite
    tables named like the release's tables, read by the analyses of analyses/serving/.
    SQLite has no three-part names, so those analyses name a table with
    serving_table() instead of ref(); the copy is made of the same tables. -#}
{% macro serving_table(name) -%}
    {%- if name not in ['entity_names', 'entity_daily_range_parts', 'entity_daily_metrics',
                        'entity_country_delivery_range_parts', 'entity_country_event_range_parts',
                        'level_daily_range_parts', 'entity_daily_running_parts', 'entity_curve_running_parts'] -%}
        {{ exceptions.raise_compiler_error('serving_table: ' ~ name ~ ' is not in the serving copy') }}
    {%- endif -%}
    "{{ name }}"
{%- endmacro %}

{#- The days of a sparkline in SQLite: a recursive CTE body named days
    (series_date), the `days` days ending on `end_day` (ISO date text). -#}
{% macro serving_sparkline_days(end_day, days) -%}
    select date({{ end_day }}, printf('-%d days', {{ days }} - 1)) as series_date
    union all
    select date(series_date, '+1 day') as series_date
    from days
    where series_date < {{ end_day }}
{%- endmacro %}

{#- The range parts' columns (every column of a range_parts table but its key),
    comma-separated: what a union of overall and country rows selects. -#}
{% macro serving_range_part_columns() -%}
    {{ ad_precompute.range_total_parts().keys() | join(', ') }}
{%- endmacro %}

{#- The columns of a day row as the read API returns it: every column of
    entity_daily_metrics except its key and the user lists (served from DuckDB). -#}
{% macro serving_day_columns() -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- set marts = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'model')
            | selectattr('name', 'equalto', 'entity_daily_metrics') | list -%}
        {%- for column in marts[0].columns.values() -%}
            {%- if column.name not in ['entity_type', 'entity_id'] and not column.name.endswith('_user_ids') -%}
                {%- do names.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for name in names %}
    {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- CTEs horizons and curve_sums (cohort_curve_totals' curve_sums, summed) of the cohort
    dates start_day .. end_day, per entity of the CTE `entities` (entity_type, entity_id)
    and horizon: the running sums of entity_curve_running_parts on the range's last day
    minus those on the day before it, each horizon in its own columns. Every entity has a
    row for every day of the window and every horizon (gate test
    cohort_curve_grid_complete), so both are keyed reads, two per entity: the horizons
    are crossed in after them (a CROSS JOIN keeps its left side the outer loop in
    SQLite). A range that starts on the window's first day has no day before (the sums
    start at 0). -#}
{% macro serving_curve_range_sums(entities, start_day, end_day) -%}
horizons as (

    {{ ad_precompute.select_cohort_horizons() }}

),

curve_sums as (

    select
        {{ entities }}.entity_type,
        {{ entities }}.entity_id,
        horizons.days_since_cohort,
        {{ ad_precompute.cohort_curve_differences('through_last', 'before_first', 'horizons.days_since_cohort',
                                                  'sqlite') }}
    from {{ entities }}
    inner join {{ ad_precompute.serving_table('entity_curve_running_parts') }} as through_last
        on
            {{ entities }}.entity_type = through_last.entity_type
            and {{ entities }}.entity_id = through_last.entity_id
            and through_last.cohort_date = {{ end_day }}
    left join {{ ad_precompute.serving_table('entity_curve_running_parts') }} as before_first
        on
            {{ entities }}.entity_type = before_first.entity_type
            and {{ entities }}.entity_id = before_first.entity_id
            and before_first.cohort_date = date({{ start_day }}, '-1 day')
    cross join horizons

)
{%- endmacro %}
