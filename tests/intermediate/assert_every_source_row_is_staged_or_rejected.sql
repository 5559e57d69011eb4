-- Assert that nothing is dropped silently (metric-contract §2): for each
-- source table, rows read = rows kept in staging + rows rejected in staging.
-- Fails with one row per table whose counts do not add up.

with

{% set tables = [
    ('ad_performance_daily', 'meta_ads'),
    ('ad_performance_daily_country', 'meta_ads'),
    ('id_hierarchy_mapping', 'meta_ads'),
    ('mixpanel_user', 'mixpanel'),
    ('mixpanel_event', 'mixpanel'),
    ('user_product_metrics', 'mixpanel'),
] %}

counts as (

    {%- for table, source_name in tables %}
        {%- if not loop.first %}

        union all
        {%- endif %}

        select
            '{{ table }}' as source_table,
            (select count(*) from {{ source(source_name, table) }}) as source_rows,
            (select count(*) from {{ ref('stg_' ~ source_name ~ '__' ~ table) }}) as staged_rows,
            (
                select count(*) from {{ ref('base_' ~ source_name ~ '__' ~ table) }}
                where reject_reason is not null
            ) as rejected_rows
    {%- endfor %}

)

select *
from counts
where source_rows <> staged_rows + rejected_rows
