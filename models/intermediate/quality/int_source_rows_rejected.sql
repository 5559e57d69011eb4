-- One row per source row that is not used, with the reason (metric-contract
-- §2: nothing is dropped silently). Reasons (described in the docs block
-- col_reject_reason, models/staging/_staging__docs.md):
--   null_key, non_finite_measure, negative_measure,
--   exact_duplicate                                    Meta rows / mapping rows
--   null_distinct_id, empty_distinct_id,
--   comma_in_distinct_id, exact_duplicate              Mixpanel users and events
--   null_event_uuid, empty_event_uuid, null_event_name,
--   empty_event_name, null_event_time,
--   non_finite_revenue, duplicate_delivery             events
--   null_product_id, non_finite_rate, rate_out_of_range,
--   non_finite_current_value, negative_current_value   user_product_metrics
--   null_key, unknown_entity_type,
--   conflicting_canonical_name, exact_duplicate        id_name_mapping (optional)
--   outside_reporting_window                           Meta rows before start_date / after as_of_date
--   after_as_of_date                                   events after the end of as_of_date
--   unreadable_<column>, malformed_record, invalid_json,
--   not_a_json_object, invalid_event_json,
--   inactive_mapping, invalid_country_code,
--   conflicting_country_code                           rows `precompute import` could not read (D46)
-- Every source row is in its stg_ model or here, and only once in stg_.

{#- the columns of each source, as staged, kept in source_record -#}
{% set rejected_sources = [
    ('ad_performance_daily', 'base_meta_ads__ad_performance_daily',
        ['ad_id', 'report_date', 'spend_usd', 'impressions', 'clicks', 'meta_trials', 'meta_purchases']),
    ('ad_performance_daily_country', 'base_meta_ads__ad_performance_daily_country',
        ['ad_id', 'report_date', 'meta_country', 'spend_usd', 'impressions', 'clicks', 'meta_trials', 'meta_purchases']),
    ('id_hierarchy_mapping', 'base_meta_ads__id_hierarchy_mapping',
        ['ad_id', 'adset_id', 'campaign_id']),
    ('mixpanel_user', 'base_mixpanel__mixpanel_user',
        ['distinct_id', 'abi_campaign_id', 'abi_adset_id', 'abi_ad_id', 'has_abi_attribution', 'country']),
    ('mixpanel_event', 'base_mixpanel__mixpanel_event',
        ['event_uuid', 'distinct_id', 'event_name', 'event_time', 'product_id', 'revenue_usd']),
    ('user_product_metrics', 'base_mixpanel__user_product_metrics',
        ['distinct_id', 'product_id', 'trial_conversion_rate', 'trial_converted_to_refund_rate',
         'initial_purchase_to_refund_rate', 'current_value_usd']),
    ('id_name_mapping', 'base_meta_ads__id_name_mapping',
        ['entity_type', 'entity_id', 'canonical_name']),
] %}

with

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

rejected_in_staging as (

    select
        'ad_performance_daily' as source_table,
        reject_reason,
        {{ describe_record(rejected_sources[0][2]) }} as source_record
    from {{ ref('base_meta_ads__ad_performance_daily') }}
    where reject_reason is not null

    union all

    select
        'ad_performance_daily_country' as source_table,
        reject_reason,
        {{ describe_record(rejected_sources[1][2]) }} as source_record
    from {{ ref('base_meta_ads__ad_performance_daily_country') }}
    where reject_reason is not null

    union all

    select
        'id_hierarchy_mapping' as source_table,
        reject_reason,
        {{ describe_record(rejected_sources[2][2]) }} as source_record
    from {{ ref('base_meta_ads__id_hierarchy_mapping') }}
    where reject_reason is not null

    union all

    select
        'mixpanel_user' as source_table,
        reject_reason,
        {{ describe_record(rejected_sources[3][2]) }} as source_record
    from {{ ref('base_mixpanel__mixpanel_user') }}
    where reject_reason is not null

    union all

    select
        'mixpanel_event' as source_table,
        reject_reason,
        {{ describe_record(rejected_sources[4][2]) }} as source_record
    from {{ ref('base_mixpanel__mixpanel_event') }}
    where reject_reason is not null

    union all

    select
        'user_product_metrics' as source_table,
        reject_reason,
        {{ describe_record(rejected_sources[5][2]) }} as source_record
    from {{ ref('base_mixpanel__user_product_metrics') }}
    where reject_reason is not null

    union all

    select
        'id_name_mapping' as source_table,
        reject_reason,
        {{ describe_record(rejected_sources[6][2]) }} as source_record
    from {{ ref('base_meta_ads__id_name_mapping') }}
    where reject_reason is not null

),

meta_daily_outside_window as (

    select
        'ad_performance_daily' as source_table,
        'outside_reporting_window' as reject_reason,
        {{ describe_record(rejected_sources[0][2], 'meta_daily') }} as source_record
    from {{ ref('stg_meta_ads__ad_performance_daily') }} as meta_daily
    cross join reporting_window
    where
        meta_daily.report_date < reporting_window.start_date
        or meta_daily.report_date > reporting_window.as_of_date

),

meta_country_outside_window as (

    select
        'ad_performance_daily_country' as source_table,
        'outside_reporting_window' as reject_reason,
        {{ describe_record(rejected_sources[1][2], 'meta_country') }} as source_record
    from {{ ref('stg_meta_ads__ad_performance_daily_country') }} as meta_country
    cross join reporting_window
    where
        meta_country.report_date < reporting_window.start_date
        or meta_country.report_date > reporting_window.as_of_date

),

events_after_as_of_date as (

    select
        'mixpanel_event' as source_table,
        'after_as_of_date' as reject_reason,
        {{ describe_record(rejected_sources[4][2], 'events') }} as source_record
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
    select * from meta_daily_outside_window
    union all
    select * from meta_country_outside_window
    union all
    select * from events_after_as_of_date
    union all
    select * from rejected_in_import

)

select * from unioned
