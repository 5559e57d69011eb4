-- The dashboard metrics of a batch of requests of one level (docs/metrics.md
-- §4–§5), from the cleaned sources (sources.sql): one row per request and day.
-- Parameters: $1 the requests, a list of STRUCT(req, eid, cc, d0, d1) (cc NULL =
-- overall, else a country code); $2 as_of_date; $3 trial_days; $4 / $5 the
-- batch's first d0 and last d1. Rendered with: v, level, by_country, materialized.
--
-- Every relation carries `req`, and every join and aggregate is per request, so a
-- batch of N requests gives exactly what N single queries would. The events are
-- pruned early: only the trial starts and purchases of the requested days and of
-- the entity's users, then only those users' conversions and cancellations; every
-- filter is on a part of the dedup key (event_name, distinct_id, event_time), so a
-- duplicate group is kept or dropped whole and deduplicated after the pruning.
-- Only the entity's ads are read from the Meta tables.
with

settings as (
    select
        -- the last post-trial cohort day, and the first instant after as_of_date
        cast(cast($2 as date) - cast($3 as integer) as date) as post_cutoff,
        cast(cast($2 as date) as timestamp) + interval 1 day as as_of_end
),

requests as (
    select
        cast(request.req as integer) as req,
        cast(request.eid as varchar) as eid,
        cast(request.cc as varchar) as cc,
        cast(request.d0 as date) as d0,
        cast(request.d1 as date) as d1
    from (select unnest($1) as request) as unnested_requests
),

spine as (
    select
        req,
        cast(unnest(generate_series(cast(d0 as timestamp), cast(d1 as timestamp), interval 1 day)) as date)
            as report_date
    from requests
),

{% if not materialized %}
-- On views over Parquet (the per-request dashboard path, one request at a time):
-- the request's users listed once, then one scan of the event file.
    entity_users_all as materialized (
    -- the entity's users, any country
        select distinct
            requests.req,
            user_entity.distinct_id,
            user_entity.country_code
        from requests
        inner join {{ v }}user_entities as user_entity on requests.eid = user_entity.{{ level }}_id
    ),

    entity_user_requests as (
        select distinct req from entity_users_all
    ),

    request_users as materialized (
        select distinct
            entity_users_all.req,
            entity_users_all.distinct_id
        from entity_users_all
        inner join requests on entity_users_all.req = requests.req
        where requests.cc is null or entity_users_all.country_code = requests.cc
    ),

    entity_events as materialized (
        select events.*
        from {{ v }}events as events
        cross join settings
        where
            events.event_time >= cast(cast($4 as date) as timestamp)
            and events.event_time < settings.as_of_end
            and events.distinct_id in (select request_users.distinct_id from request_users)
    ),

    cohort_events as (
        select
            request_users.req,
            entity_events.*
        from entity_events
        inner join request_users on entity_events.distinct_id = request_users.distinct_id
        inner join requests on request_users.req = requests.req
        where
            entity_events.event_name in ('RC Trial started', 'RC Initial purchase')
            and entity_events.event_time < cast(cast($5 as date) as timestamp) + interval 1 day
            and entity_events.event_time >= cast(requests.d0 as timestamp)
            and entity_events.event_time < cast(requests.d1 as timestamp) + interval 1 day
    ),

{% else %}
-- On the materialized tables (events sorted by time; validate's batches of many
-- requests): a range scan for the cohort with the request's users tested per
-- event (a campaign can hold a large share of all users, times many requests),
-- then a scan restricted to the cohort's users, who are few.
    entity_user_requests as (
        select requests.req
        from requests
        where requests.eid in (select user_entity.{{ level }}_id from {{ v }}user_entities as user_entity)
    ),

    cohort_events as (
        select
            requests.req,
            events.*
        from {{ v }}events as events
        inner join requests
            on
                events.event_time >= cast(requests.d0 as timestamp)
                and events.event_time < cast(requests.d1 as timestamp) + interval 1 day
        where
            events.event_name in ('RC Trial started', 'RC Initial purchase')
            and events.event_time >= cast(cast($4 as date) as timestamp)
            and events.event_time < cast(cast($5 as date) as timestamp) + interval 1 day
            and exists (
                select 1
                from {{ v }}user_entities as user_entity
                where
                    user_entity.distinct_id = events.distinct_id
                    and user_entity.{{ level }}_id = requests.eid
                    and (requests.cc is null or user_entity.country_code = requests.cc)
            )
    ),

{% endif %}

cohort_users as materialized (
    select distinct
        req,
        distinct_id
    from cohort_events
),

{% if not materialized %}
    follow_up_events as (
        select
            cohort_users.req,
            entity_events.*
        from entity_events
        inner join cohort_users on entity_events.distinct_id = cohort_users.distinct_id
        inner join requests on cohort_users.req = requests.req
        where
            (entity_events.event_name = 'RC Trial converted' or contains(lower(entity_events.event_name), 'cancel'))
            and entity_events.event_time >= cast(requests.d0 as timestamp)
    ),
{% else %}
    follow_up_events as (
        select
            cohort_users.req,
            events.*
        from {{ v }}events as events
        inner join cohort_users on events.distinct_id = cohort_users.distinct_id
        inner join requests on cohort_users.req = requests.req
        cross join settings
        where
            (events.event_name = 'RC Trial converted' or contains(lower(events.event_name), 'cancel'))
            and events.event_time >= cast(cast($4 as date) as timestamp)
            and events.event_time >= cast(requests.d0 as timestamp)
            and events.event_time < settings.as_of_end
    ),
{% endif %}

-- The request's id is an entity of its level (docs/metrics.md §3).
is_entity as (
    select
        requests.req,
        (
            requests.eid in (select hierarchy.{{ level }}_id from {{ v }}hierarchy as hierarchy)
            or requests.req in (select entity_user_requests.req from entity_user_requests)
            {%- if level == 'ad' %}
                or requests.eid in (select meta_daily.ad_id from {{ v }}meta_daily as meta_daily)
                or requests.eid in (select meta_country.ad_id from {{ v }}meta_country as meta_country)
            {%- endif %}
        ) as is_entity
    from requests
),

-- The ads whose Meta rows roll up to the entity (docs/metrics.md §3).
entity_ads as (
    {% if level == 'ad' %}
        select
            req,
            eid as ad_id
        from requests
    {% else %}
        select distinct
            requests.req,
            hierarchy.ad_id
        from requests
        inner join {{ v }}hierarchy as hierarchy on requests.eid = hierarchy.{{ level }}_id
        where hierarchy.ad_id is not null
    {% endif %}
),

-- Meta measures per request and day: overall from ad_performance_daily, for a
-- country from ad_performance_daily_country (label -> code, unmapped -> ZZ).
meta as (
    select
        meta_rows.req,
        meta_rows.report_date,
        sum(meta_rows.spend) as spend,
        sum(meta_rows.impressions) as impressions,
        sum(meta_rows.clicks) as clicks,
        sum(meta_rows.meta_trials) as meta_trials,
        sum(meta_rows.meta_purchases) as meta_purchases
    from (
        -- exact duplicate Meta rows are one
        select distinct
            performance.*,
            entity_ads.req
        from {{ v }}{{ 'meta_country' if by_country else 'meta_daily' }} as performance
        inner join entity_ads on performance.ad_id = entity_ads.ad_id
        inner join requests on entity_ads.req = requests.req
        where performance.report_date between requests.d0 and requests.d1
    ) as meta_rows
    {% if by_country %}
        inner join requests as country_requests on meta_rows.req = country_requests.req
        left join {{ v }}country_mapping as country_mapping on meta_rows.country = country_mapping.meta_country
        where coalesce(country_mapping.country_code, 'ZZ') = country_requests.cc
    {% endif %}
    group by meta_rows.req, meta_rows.report_date
),

-- Deliveries sharing (event_uuid, event_name, distinct_id, event_time) are one
-- event: the smallest product_id, then the smallest revenue_usd, NULLs last.
events_deduplicated as materialized (
    select *
    from (
        select * from cohort_events
        union all
        select * from follow_up_events
    ) as request_events
    qualify row_number() over (
            partition by req, event_uuid, event_name, distinct_id, event_time
            order by product_id nulls last, revenue_usd nulls last
        ) = 1
),

refund_events as (
    select *
    from events_deduplicated
    where contains(lower(event_name), 'cancel') and revenue_usd < 0
),

-- Trial pairs and purchase pairs (user, product, day D): their start, and the
-- revenue of a purchase pair's purchases.
{% for pairs, event_name in [('trial_pairs', 'RC Trial started'), ('purchase_pairs', 'RC Initial purchase')] %}
    {{ pairs }} as (
        select
            events_deduplicated.req,
            events_deduplicated.distinct_id,
            events_deduplicated.product_id,
            cast(events_deduplicated.event_time as date) as report_date,
            min(events_deduplicated.event_time) as start_time,
            sum(events_deduplicated.revenue_usd) as revenue
        from events_deduplicated
        inner join requests on events_deduplicated.req = requests.req
        where
            events_deduplicated.event_name = '{{ event_name }}'
            and cast(events_deduplicated.event_time as date) between requests.d0 and requests.d1
        group by
            events_deduplicated.req,
            events_deduplicated.distinct_id,
            events_deduplicated.product_id,
            cast(events_deduplicated.event_time as date)
    ),
{% endfor %}

-- Converted pairs: post-trial pairs with a conversion of the product at or after the start.
converted_pairs as (
    select
        trial_pairs.req,
        trial_pairs.distinct_id,
        trial_pairs.product_id,
        trial_pairs.report_date,
        min(conversions.event_time) as first_conversion_time,
        sum(conversions.revenue_usd) as conversion_revenue
    from trial_pairs
    cross join settings
    inner join events_deduplicated as conversions
        on
            trial_pairs.req = conversions.req
            and conversions.event_name = 'RC Trial converted'
            and trial_pairs.distinct_id = conversions.distinct_id
            and trial_pairs.product_id = conversions.product_id
            and trial_pairs.start_time <= conversions.event_time
    where trial_pairs.report_date <= settings.post_cutoff
    group by trial_pairs.req, trial_pairs.distinct_id, trial_pairs.product_id, trial_pairs.report_date
),

-- The refunds of each converted pair (from its first conversion) and purchase pair.
{% for refunds, pairs, refundable_from in [
    ('trial_refunds', 'converted_pairs', 'first_conversion_time'),
    ('purchase_refunds', 'purchase_pairs', 'start_time'),
] %}
    {{ refunds }} as (
        select
            {{ pairs }}.req,
            {{ pairs }}.report_date,
            {{ pairs }}.distinct_id,
            refunds.event_uuid,
            refunds.event_name,
            refunds.event_time,
            refunds.revenue_usd
        from {{ pairs }}
        inner join refund_events as refunds
            on
                {{ pairs }}.req = refunds.req
                and {{ pairs }}.distinct_id = refunds.distinct_id
                and {{ pairs }}.product_id = refunds.product_id
                and {{ pairs }}.{{ refundable_from }} <= refunds.event_time
    ),
{% endfor %}

-- The cohort's user_product_metrics rows (exact duplicates are one).
product_metrics as materialized (
    select distinct metrics.*
    from {{ v }}product_metrics as metrics
    where
        metrics.distinct_id in (
            select trial_pairs.distinct_id from trial_pairs
            union
            select purchase_pairs.distinct_id from purchase_pairs
        )
),

-- The lists, estimated rates and revenue of the trial, converted and purchase pairs.
{% for kind, pairs, rate, estimate, revenue in [
    ('trial', 'trial_pairs', 'trial_conversion_rate', 'trial_conversion', none),
    ('converted', 'converted_pairs', 'trial_converted_to_refund_rate', 'trial_refund', 'conversion_revenue'),
    ('purchase', 'purchase_pairs', 'initial_purchase_to_refund_rate', 'purchase_refund', 'revenue'),
] %}
    {{ kind }}_totals as (
        select
            {{ pairs }}.req,
            {{ pairs }}.report_date,
            count(distinct {{ pairs }}.distinct_id) as {{ kind }}_users,
            string_agg(distinct {{ pairs }}.distinct_id, ',' order by {{ pairs }}.distinct_id) as {{ kind }}_user_ids,
            avg(product_metrics.{{ rate }}) as {{ estimate }}_rate_estimated,
            count(product_metrics.{{ rate }}) as {{ estimate }}_estimate_pair_count,
            {{ 'sum(' ~ pairs ~ '.' ~ revenue ~ ')' if revenue else 'null' }} as {{ kind }}_revenue
        from {{ pairs }}
        left join product_metrics
            on
                {{ pairs }}.distinct_id = product_metrics.distinct_id
                and {{ pairs }}.product_id = product_metrics.product_id
        group by {{ pairs }}.req, {{ pairs }}.report_date
    ),
{% endfor %}

-- The lists of the refunded users.
{% for kind in ['trial_refund', 'purchase_refund'] %}
    {{ kind }}_totals as (
        select
            req,
            report_date,
            count(distinct distinct_id) as {{ kind }}_users,
            string_agg(distinct distinct_id, ',' order by distinct_id) as {{ kind }}_user_ids
        from {{ kind }}s
        group by req, report_date
    ),
{% endfor %}

-- Each refund event once per row, even when it refunds a trial and a purchase pair.
refund_money as (
    select
        req,
        report_date,
        sum(abs(revenue_usd)) as refunds
    from (
        select distinct
            req,
            report_date,
            distinct_id,
            event_uuid,
            event_name,
            event_time,
            revenue_usd
        from (
            select * from trial_refunds
            union all
            select * from purchase_refunds
        ) as refunds
    ) as distinct_refunds
    group by req, report_date
),

-- The distinct (user, product) pairs of trial ∪ purchase pairs with a metrics row.
estimated_revenue as (
    select
        cohort_pairs.req,
        cohort_pairs.report_date,
        sum(product_metrics.current_value) as estimated_revenue
    from (
        select
            req,
            report_date,
            distinct_id,
            product_id
        from trial_pairs
        union
        select
            req,
            report_date,
            distinct_id,
            product_id
        from purchase_pairs
    ) as cohort_pairs
    inner join product_metrics
        on
            cohort_pairs.distinct_id = product_metrics.distinct_id
            and cohort_pairs.product_id = product_metrics.product_id
    group by cohort_pairs.req, cohort_pairs.report_date
),

inputs as (
    select
        spine.req,
        spine.report_date,
        cast(coalesce(meta.impressions, 0) as bigint) as meta_impressions,
        cast(coalesce(meta.clicks, 0) as bigint) as meta_clicks,
        cast(coalesce(meta.meta_trials, 0) as bigint) as meta_trial_count,
        cast(coalesce(meta.meta_purchases, 0) as bigint) as meta_purchase_count,
        trial_totals.trial_user_ids,
        converted_totals.converted_user_ids,
        trial_refund_totals.trial_refund_user_ids,
        purchase_totals.purchase_user_ids,
        purchase_refund_totals.purchase_refund_user_ids,
        meta.report_date is not null as has_meta,
        coalesce(meta.spend, 0.0) as meta_spend,
        coalesce(trial_totals.trial_users, 0) as mixpanel_trial_count,
        coalesce(purchase_totals.purchase_users, 0) as mixpanel_purchase_count,
        case when spine.report_date <= settings.post_cutoff then trial_totals.trial_user_ids end
            as post_trial_user_ids,
        case when spine.report_date <= settings.post_cutoff then coalesce(trial_totals.trial_users, 0) else 0 end
            as post_trial_users,
        coalesce(converted_totals.converted_users, 0) as converted_users,
        coalesce(trial_refund_totals.trial_refund_users, 0) as trial_refund_users,
        coalesce(purchase_refund_totals.purchase_refund_users, 0) as purchase_refund_users,
        coalesce(trial_totals.trial_conversion_rate_estimated, 0.0) as trial_conversion_rate_estimated,
        coalesce(converted_totals.trial_refund_rate_estimated, 0.0) as trial_refund_rate_estimated,
        coalesce(purchase_totals.purchase_refund_rate_estimated, 0.0) as purchase_refund_rate_estimated,
        coalesce(trial_totals.trial_conversion_estimate_pair_count, 0) as trial_conversion_estimate_pair_count,
        coalesce(converted_totals.trial_refund_estimate_pair_count, 0) as trial_refund_estimate_pair_count,
        coalesce(purchase_totals.purchase_refund_estimate_pair_count, 0) as purchase_refund_estimate_pair_count,
        coalesce(converted_totals.converted_revenue, 0.0) + coalesce(purchase_totals.purchase_revenue, 0.0)
            as actual_revenue_usd,
        coalesce(refund_money.refunds, 0.0) as actual_refunds_usd,
        coalesce(estimated_revenue.estimated_revenue, 0.0) as estimated_revenue_usd
    from spine
    cross join settings
    left join meta on spine.req = meta.req and spine.report_date = meta.report_date
    left join trial_totals on spine.req = trial_totals.req and spine.report_date = trial_totals.report_date
    left join converted_totals
        on spine.req = converted_totals.req and spine.report_date = converted_totals.report_date
    left join trial_refund_totals
        on spine.req = trial_refund_totals.req and spine.report_date = trial_refund_totals.report_date
    left join purchase_totals on spine.req = purchase_totals.req and spine.report_date = purchase_totals.report_date
    left join purchase_refund_totals
        on spine.req = purchase_refund_totals.req and spine.report_date = purchase_refund_totals.report_date
    left join refund_money on spine.req = refund_money.req and spine.report_date = refund_money.report_date
    left join estimated_revenue
        on spine.req = estimated_revenue.req and spine.report_date = estimated_revenue.report_date
),

ratios as (
    select
        *,
        case
            when post_trial_users = 0 then 0.0 else cast(converted_users as double) / post_trial_users
        end as trial_conversion_rate_actual,
        case
            when converted_users = 0 then 0.0 else cast(trial_refund_users as double) / converted_users
        end as trial_refund_rate_actual,
        case
            when mixpanel_purchase_count = 0 then 0.0
            else cast(purchase_refund_users as double) / mixpanel_purchase_count
        end as purchase_refund_rate_actual,
        actual_revenue_usd - actual_refunds_usd as net_actual_revenue_usd,
        case
            when meta_trial_count = 0 and mixpanel_trial_count > 0 then 100.0
            when meta_trial_count = 0 then 0.0
            else cast(mixpanel_trial_count as double) / meta_trial_count * 100
        end as trial_accuracy_ratio,
        case
            when meta_purchase_count = 0 then 0.0
            else cast(mixpanel_purchase_count as double) / meta_purchase_count * 100
        end as purchase_accuracy_ratio
    from inputs
),

adjusted as (
    select
        *,
        case
            when mixpanel_purchase_count > mixpanel_trial_count then purchase_accuracy_ratio
            else trial_accuracy_ratio
        end as chosen_ratio
    from ratios
),

revenue_adjusted as (
    select
        *,
        case
            when chosen_ratio = 0 then estimated_revenue_usd else estimated_revenue_usd / (chosen_ratio / 100)
        end as adjusted_estimated_revenue_usd
    from adjusted
)

select
    revenue_adjusted.req,
    revenue_adjusted.report_date,
    revenue_adjusted.has_meta,
    is_entity.is_entity,
    revenue_adjusted.meta_spend,
    revenue_adjusted.meta_impressions,
    revenue_adjusted.meta_clicks,
    revenue_adjusted.meta_trial_count,
    revenue_adjusted.meta_purchase_count,
    revenue_adjusted.mixpanel_trial_count,
    revenue_adjusted.mixpanel_purchase_count,
    revenue_adjusted.trial_user_ids,
    revenue_adjusted.post_trial_user_ids,
    revenue_adjusted.converted_user_ids,
    revenue_adjusted.trial_refund_user_ids,
    revenue_adjusted.purchase_user_ids,
    revenue_adjusted.purchase_refund_user_ids,
    revenue_adjusted.trial_conversion_rate_estimated,
    revenue_adjusted.trial_conversion_rate_actual,
    revenue_adjusted.trial_refund_rate_estimated,
    revenue_adjusted.trial_refund_rate_actual,
    revenue_adjusted.purchase_refund_rate_estimated,
    revenue_adjusted.purchase_refund_rate_actual,
    revenue_adjusted.trial_conversion_estimate_pair_count,
    revenue_adjusted.trial_refund_estimate_pair_count,
    revenue_adjusted.purchase_refund_estimate_pair_count,
    revenue_adjusted.actual_revenue_usd,
    revenue_adjusted.actual_refunds_usd,
    revenue_adjusted.net_actual_revenue_usd,
    revenue_adjusted.estimated_revenue_usd,
    revenue_adjusted.adjusted_estimated_revenue_usd,
    revenue_adjusted.trial_accuracy_ratio,
    revenue_adjusted.purchase_accuracy_ratio,
    revenue_adjusted.adjusted_estimated_revenue_usd - revenue_adjusted.meta_spend as profit_usd,
    case
        when revenue_adjusted.meta_spend = 0 then 0.0
        else revenue_adjusted.adjusted_estimated_revenue_usd / revenue_adjusted.meta_spend
    end as estimated_roas,
    {%- for cost, count in [
        ('mixpanel_cost_per_trial', 'mixpanel_trial_count'),
        ('mixpanel_cost_per_purchase', 'mixpanel_purchase_count'),
        ('meta_cost_per_trial', 'meta_trial_count'),
        ('meta_cost_per_purchase', 'meta_purchase_count'),
    ] %}
        case
            when revenue_adjusted.{{ count }} = 0 then 0.0
            else revenue_adjusted.meta_spend / revenue_adjusted.{{ count }}
        end as {{ cost }},
    {%- endfor %}
    case
        when revenue_adjusted.meta_clicks = 0 then 0.0
        else cast(revenue_adjusted.mixpanel_trial_count as double) / revenue_adjusted.meta_clicks * 100
    end as click_to_trial_rate
from revenue_adjusted
inner join is_entity on revenue_adjusted.req = is_entity.req
order by revenue_adjusted.req, revenue_adjusted.report_date
