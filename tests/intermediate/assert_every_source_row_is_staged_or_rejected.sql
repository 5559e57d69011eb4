-- Assert that nothing is dropped silently (metric-contract §2): for each
-- source table, rows read = rows kept in staging + rows rejected in staging.
-- Fails with one row per table whose counts do not add up.

with

counts as (

    select
        'ad_performance_daily' as source_table,
        (select count(*) from {{ source('meta_ads', 'ad_performance_daily') }}) as source_rows,
        (select count(*) from {{ ref('stg_meta_ads__ad_performance_daily') }}) as staged_rows,
        (
            select count(*) from {{ ref('base_meta_ads__ad_performance_daily') }}
            where reject_reason is not null
        ) as rejected_rows

    union all

    select
        'ad_performance_daily_country' as source_table,
        (select count(*) from {{ source('meta_ads', 'ad_performance_daily_country') }}) as source_rows,
        (select count(*) from {{ ref('stg_meta_ads__ad_performance_daily_country') }}) as staged_rows,
        (
            select count(*) from {{ ref('base_meta_ads__ad_performance_daily_country') }}
            where reject_reason is not null
        ) as rejected_rows

    union all

    select
        'id_hierarchy_mapping' as source_table,
        (select count(*) from {{ source('meta_ads', 'id_hierarchy_mapping') }}) as source_rows,
        (select count(*) from {{ ref('stg_meta_ads__id_hierarchy_mapping') }}) as staged_rows,
        (
            select count(*) from {{ ref('base_meta_ads__id_hierarchy_mapping') }}
            where reject_reason is not null
        ) as rejected_rows

    union all

    select
        'mixpanel_user' as source_table,
        (select count(*) from {{ source('mixpanel', 'mixpanel_user') }}) as source_rows,
        (select count(*) from {{ ref('stg_mixpanel__mixpanel_user') }}) as staged_rows,
        (
            select count(*) from {{ ref('base_mixpanel__mixpanel_user') }}
            where reject_reason is not null
        ) as rejected_rows

    union all

    select
        'mixpanel_event' as source_table,
        (select count(*) from {{ source('mixpanel', 'mixpanel_event') }}) as source_rows,
        (select count(*) from {{ ref('stg_mixpanel__mixpanel_event') }}) as staged_rows,
        (
            select count(*) from {{ ref('base_mixpanel__mixpanel_event') }}
            where reject_reason is not null
        ) as rejected_rows

    union all

    select
        'user_product_metrics' as source_table,
        (select count(*) from {{ source('mixpanel', 'user_product_metrics') }}) as source_rows,
        (select count(*) from {{ ref('stg_mixpanel__user_product_metrics') }}) as staged_rows,
        (
            select count(*) from {{ ref('base_mixpanel__user_product_metrics') }}
            where reject_reason is not null
        ) as rejected_rows

    union all

    -- optional: no file reads as no rows
    select
        'id_name_mapping' as source_table,
        (
            select count(*) from (
                {{ select_from_optional_source('meta_ads', 'id_name_mapping') }}
            ) as id_name_mapping
        ) as source_rows,
        (select count(*) from {{ ref('stg_meta_ads__id_name_mapping') }}) as staged_rows,
        (
            select count(*) from {{ ref('base_meta_ads__id_name_mapping') }}
            where reject_reason is not null
        ) as rejected_rows

)

select *
from counts
where source_rows <> staged_rows + rejected_rows
