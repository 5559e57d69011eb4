-- One row per source row that is not used, with the reason (docs/metrics.md
-- §2: nothing is dropped silently): the cleaning rejects of each base_ model
-- (the reasons are the docs block col_reject_reason,
-- models/staging/_staging__docs.md), Meta rows outside the reporting window
-- (`outside_reporting_window`) and events after the end of as_of_date
-- (`after_as_of_date`). Every source row is in its stg_ model or here, and only
-- once in stg_. A rejected row keeps its staged columns (those of the sources
-- YAML) as text. Rows `precompute import` could not read come from its
-- import_rejects file (`unreadable_<column>`, `malformed_record`, ...).

with

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

rejected_in_staging as (
    {% for source_name, table_name in staged_source_tables() %}
        {%- if not loop.first %}

            union all
        {% endif %}

        select
            '{{ table_name }}' as source_table,
            reject_reason,
            {{ describe_record(staged_column_names(source_name, table_name)) }} as source_record
        from {{ ref('base_' ~ source_name ~ '__' ~ table_name) }}
        where reject_reason is not null
    {%- endfor %}

),

meta_outside_window as (
    {% for table_name in ['ad_performance_daily', 'ad_performance_daily_country'] %}
        {%- if not loop.first %}

            union all
        {% endif %}

        select
            '{{ table_name }}' as source_table,
            'outside_reporting_window' as reject_reason,
            {{ describe_record(staged_column_names('meta_ads', table_name), 'meta_rows') }} as source_record
        from {{ ref('stg_meta_ads__' ~ table_name) }} as meta_rows
        cross join reporting_window
        where
            meta_rows.report_date < reporting_window.start_date
            or meta_rows.report_date > reporting_window.as_of_date
    {%- endfor %}

),

events_after_as_of_date as (

    select
        'mixpanel_event' as source_table,
        'after_as_of_date' as reject_reason,
        {{ describe_record(staged_column_names('mixpanel', 'mixpanel_event'), 'events') }} as source_record
    from {{ ref('stg_mixpanel__mixpanel_event') }} as events
    cross join reporting_window
    where events.event_date > reporting_window.as_of_date

),

rejected_in_import as (

    select
        source_table,
        reject_reason,
        source_record
    from {{ ref('stg_precompute_import__import_rejects') }}

),

unioned as (

    select * from rejected_in_staging
    union all
    select * from meta_outside_window
    union all
    select * from events_after_as_of_date
    union all
    select * from rejected_in_import

)

select * from unioned
