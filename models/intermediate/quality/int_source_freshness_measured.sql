-- One row per source table of docs/metrics.md §1 (the six, not the optional
-- display names): how many rows it delivered and the first and last day they
-- cover, rejected rows included (what the source holds, not what was kept).
-- The day of a Meta row is its `date`; of an event, the UTC date of its
-- `event_time` (the session zone is UTC, profiles.yml). The mapping tables,
-- the users and the metrics rows carry no date: their dates are NULL. A day
-- after a source's last_date is incomplete for the metrics that source feeds.

{%- set dated = {
    'ad_performance_daily': 'report_date',
    'ad_performance_daily_country': 'report_date',
    'mixpanel_event': 'cast(event_time as date)',
} %}

with

{% for source_name, table_name in staged_source_tables() if table_name != 'id_name_mapping' %}
    {{ table_name }}_rows as (

        select * from {{ ref('base_' ~ source_name ~ '__' ~ table_name) }}

    ),

{% endfor %}
measured as (
    {% for source_name, table_name in staged_source_tables() if table_name != 'id_name_mapping' %}
        {%- if not loop.first %}

            union all
        {% endif %}

        select
            '{{ table_name }}' as source_table,
            '{{ "meta" if source_name == "meta_ads" else source_name }}' as source_system,
            count(*) as row_count,
            {% if table_name in dated -%}
                min({{ dated[table_name] }}) as first_date,
                max({{ dated[table_name] }}) as last_date
            {%- else -%}
                cast(null as date) as first_date,
                cast(null as date) as last_date
            {%- endif %}
        from {{ table_name }}_rows
    {%- endfor %}

)

select * from measured
