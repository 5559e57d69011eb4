-- Assert that nothing is dropped silently (docs/metrics.md §2): for each
-- source table, rows read = rows kept in staging + rows rejected in staging.
-- Fails with one row per table whose counts do not add up. An optional source
-- without its file reads as no rows.

with

counts as (
    {% for source_name, table_name in staged_source_tables() %}
        {%- set staged = source_name ~ '__' ~ table_name %}
        {%- if not loop.first %}

            union all
        {% endif %}
        select
            '{{ table_name }}' as source_table,
            (
                select count(*) from (
                    {{ select_from_optional_source(source_name, table_name) }}
                ) as source_rows
            ) as source_rows,
            (select count(*) from {{ ref('stg_' ~ staged) }}) as staged_rows,
            (
                select count(*) from {{ ref('base_' ~ staged) }}
                where reject_reason is not null
            ) as rejected_rows
    {%- endfor %}

)

select *
from counts
where source_rows <> staged_rows + rejected_rows
