-- The legacy dashboard's SQLite schema, as its documentation gives it:
-- dates and datetimes are text, the event's product is inside event_json, and
-- each table has columns of its own that the contract does not use. Written by
-- python_hooks.importers.writers.write_legacy_sqlite (tests, benchmarks).

create table ad_performance_daily (
    ad_id text not null,
    date text not null,               -- YYYY-MM-DD
    adset_id text,
    campaign_id text,
    ad_name text,
    adset_name text,
    campaign_name text,
    spend real,
    impressions integer,
    clicks integer,
    meta_trials integer,
    meta_purchases integer
);

create table ad_performance_daily_country (
    ad_id text not null,
    date text not null,
    adset_id text,
    campaign_id text,
    ad_name text,
    adset_name text,
    campaign_name text,
    country text,                     -- a Meta label: United States
    spend real,
    impressions integer,
    clicks integer,
    meta_trials integer,
    meta_purchases integer
);

create table id_hierarchy_mapping (
    ad_id text,
    adset_id text,
    campaign_id text,
    relationship_confidence real,
    updated_at text
);

create table id_name_mapping (
    entity_type text,
    entity_id text,
    canonical_name text,
    updated_at text
);

create table meta_country_mapping (
    meta_country_name text,
    mixpanel_country_code text,
    is_active integer                 -- 1 / 0
);

create table mixpanel_user (
    distinct_id text,
    abi_ad_id text,
    abi_campaign_id text,
    abi_ad_set_id text,
    country text,
    has_abi_attribution integer,      -- 1 / 0
    first_seen text
);

create table mixpanel_event (
    event_uuid text primary key,      -- Mixpanel $insert_id: a delivery is stored once
    event_name text,
    distinct_id text,
    event_time text,                  -- YYYY-MM-DD HH:MM:SS[.ffffff], UTC
    revenue_usd real,
    event_json text                   -- {"event": ..., "properties": {"product_id": ..., ...}}
);

create table user_product_metrics (
    distinct_id text,
    product_id text,
    trial_conversion_rate real,
    trial_converted_to_refund_rate real,
    initial_purchase_to_refund_rate real,
    current_value real,
    updated_at text
);
