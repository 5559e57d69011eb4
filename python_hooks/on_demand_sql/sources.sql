-- The cleaned sources of the on-demand path (docs/metrics.md §2), from the views
-- {{ v }}src_<table> over the Parquet files. Views (every query then reads the
-- files, as a dashboard without pre-computation would), or temp tables loaded
-- once when materialized. Rendered with: v (this instance's prefix), kind
-- ('view' or 'table'), materialized, event_time_is_tz.

{% for name, table in [('meta_daily', 'ad_performance_daily'), ('meta_country', 'ad_performance_daily_country')] %}
-- Meta rows. Measures are read as DOUBLE, so that the reject test sees NaN and
-- ±Infinity whatever the file's numeric type. Rejected: a NULL or empty ad_id,
-- a NULL date, a negative or non-finite measure. A NULL measure is kept and sums
-- as 0. Exact duplicates are collapsed by the queries, after pruning.
    create temp {{ kind }} {{ v }}{{ name }} as
    with typed as (
        select
            cast(date as date) as report_date,
            nullif(cast(ad_id as varchar), '') as ad_id,
            {% if name == 'meta_country' %}cast(country as varchar) as country,{% endif %}
            cast(spend as double) as spend,
            cast(impressions as double) as impressions,
            cast(clicks as double) as clicks,
            cast(meta_trials as double) as meta_trials,
            cast(meta_purchases as double) as meta_purchases
        from {{ v }}src_{{ table }}
    )

    select
        report_date,
        ad_id,
        {% if name == 'meta_country' %}country,{% endif %}
        spend,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(meta_trials as bigint) as meta_trials,
        cast(meta_purchases as bigint) as meta_purchases
    from typed
    where
        ad_id is not null
        and report_date is not null
        and not coalesce(spend < 0 or not isfinite(spend), false)
        and not coalesce(impressions < 0 or not isfinite(impressions), false)
        and not coalesce(clicks < 0 or not isfinite(clicks), false)
        and not coalesce(meta_trials < 0 or not isfinite(meta_trials), false)
        and not coalesce(meta_purchases < 0 or not isfinite(meta_purchases), false);
{% endfor %}

-- The hierarchy mapping: a row without an ad_id is rejected; empty parents are NULL.
create temp {{ kind }} {{ v }}hierarchy as
select distinct
    nullif(cast(ad_id as varchar), '') as ad_id,
    nullif(cast(adset_id as varchar), '') as adset_id,
    nullif(cast(campaign_id as varchar), '') as campaign_id
from {{ v }}src_id_hierarchy_mapping
where nullif(cast(ad_id as varchar), '') is not null;

-- Users with a usable distinct_id; empty abi ids are NULL; the country is
-- trimmed and upper-cased, 'ZZ' when NULL or empty.
create temp {{ kind }} {{ v }}users as
with typed as (
    select
        cast(distinct_id as varchar) as distinct_id,
        cast(has_abi_attribution as boolean) as has_abi_attribution,
        nullif(cast(abi_campaign_id as varchar), '') as abi_campaign_id,
        nullif(cast(abi_ad_set_id as varchar), '') as abi_ad_set_id,
        nullif(cast(abi_ad_id as varchar), '') as abi_ad_id,
        coalesce(nullif(upper(trim(cast(country as varchar))), ''), 'ZZ') as country_code
    from {{ v }}src_mixpanel_user
)

select *
from typed
where distinct_id is not null and distinct_id <> '' and not contains(distinct_id, ',');

-- Every attributed user with its entity at each level (docs/metrics.md §3 fill
-- rule) and its country code. A parent is taken from the mapping only when it is
-- unambiguous (one non-NULL value). Not deduplicated: every use is a semi join, a
-- DISTINCT or a UNION.
create temp {{ kind }} {{ v }}user_entities as
with

ad_parents as (
    select
        ad_id,
        case when count(distinct adset_id) = 1 then min(adset_id) end as adset_id,
        case when count(distinct campaign_id) = 1 then min(campaign_id) end as campaign_id
    from {{ v }}hierarchy
    group by ad_id
),

adset_parents as (
    select
        adset_id,
        case when count(distinct campaign_id) = 1 then min(campaign_id) end as campaign_id
    from {{ v }}hierarchy
    where adset_id is not null
    group by adset_id
)

select
    user_rows.distinct_id,
    user_rows.country_code,
    user_rows.abi_ad_id as ad_id,
    coalesce(user_rows.abi_ad_set_id, ad_parents.adset_id) as adset_id,
    coalesce(user_rows.abi_campaign_id, ad_parents.campaign_id, adset_parents.campaign_id) as campaign_id
from {{ v }}users as user_rows
left join ad_parents on user_rows.abi_ad_id = ad_parents.ad_id
left join adset_parents on coalesce(user_rows.abi_ad_set_id, ad_parents.adset_id) = adset_parents.adset_id
where user_rows.has_abi_attribution is true;

-- Every usable event (the default window reads them all). Rejected: an unusable
-- distinct_id, a NULL or empty event_uuid or event_name, a NULL event_time, a
-- non-finite revenue_usd (a NULL one is kept). A TIMESTAMPTZ event_time is taken
-- as its UTC wall-clock time, whatever the connection's TimeZone.
create temp view {{ v }}kept_events as
with typed as (
    select
        cast(event_uuid as varchar) as event_uuid,
        cast(distinct_id as varchar) as distinct_id,
        cast(event_name as varchar) as event_name,
        {% if event_time_is_tz %}timezone('UTC', event_time){% else %}cast(event_time as timestamp){% endif %}
            as event_time,
        cast(product_id as varchar) as product_id,
        cast(revenue_usd as double) as revenue_usd
    from {{ v }}src_mixpanel_event
)

select *
from typed
where
    distinct_id is not null and distinct_id <> '' and not contains(distinct_id, ',')
    and event_uuid is not null and event_uuid <> ''
    and event_name is not null and event_name <> ''
    and event_time is not null
    and (revenue_usd is null or isfinite(revenue_usd));

-- The events a metric reads: trial starts, conversions, initial purchases,
-- renewals (the cohort curves) and cancellations (sorted by time when
-- materialized, for range scans).
create temp {{ kind }} {{ v }}events as
select
    event_uuid,
    distinct_id,
    event_name,
    event_time,
    product_id,
    revenue_usd
from {{ v }}kept_events
where
    event_name in ('RC Trial started', 'RC Trial converted', 'RC Initial purchase', 'RC Renewal')
    or contains(lower(event_name), 'cancel')
order by {{ 'event_time' if materialized else 'all' }};

-- user_product_metrics. Rejected: a rate outside [0, 1] or non-finite, a
-- current_value that is negative or non-finite. A NULL rate or value is kept
-- (skipped by the means, the pair counts and the sums).
create temp {{ kind }} {{ v }}product_metrics as
with typed as (
    select
        cast(distinct_id as varchar) as distinct_id,
        cast(product_id as varchar) as product_id,
        cast(trial_conversion_rate as double) as trial_conversion_rate,
        cast(trial_converted_to_refund_rate as double) as trial_converted_to_refund_rate,
        cast(initial_purchase_to_refund_rate as double) as initial_purchase_to_refund_rate,
        cast(current_value as double) as current_value
    from {{ v }}src_user_product_metrics
)

select *
from typed
where
    not coalesce(current_value < 0 or not isfinite(current_value), false)
    and not coalesce(not (trial_conversion_rate between 0 and 1) or not isfinite(trial_conversion_rate), false)
    and not coalesce(
        not (trial_converted_to_refund_rate between 0 and 1) or not isfinite(trial_converted_to_refund_rate), false
    )
    and not coalesce(
        not (initial_purchase_to_refund_rate between 0 and 1) or not isfinite(initial_purchase_to_refund_rate), false
    );
