-- The cohort revenue curves (docs/metrics.md §9) of a batch of requests of one
-- level, from the cleaned sources (sources.sql): one row per request and horizon
-- N, with the cohort's pair count and its money up to D + N (the spend and the
-- ratio are added by on_demand.py, from daily_metrics.sql). Parameters: $1 the
-- requests, a list of STRUCT(req, eid, d) (d = the cohort day D); $2 as_of_date;
-- $3 the horizons, a list of integers. Rendered with: v, level.
with

settings as (
    -- the first instant after as_of_date
    select cast(cast($2 as date) as timestamp) + interval 1 day as as_of_end
),

requests as (
    select
        cast(request.req as integer) as req,
        cast(request.eid as varchar) as eid,
        cast(request.d as date) as cohort_date
    from (select unnest($1) as request) as unnested_requests
),

horizons as (
    select cast(unnest($3) as integer) as days_since_cohort
),

-- the entity's users with a trial start or an initial purchase on D
cohort_users as materialized (
    select distinct
        requests.req,
        events.distinct_id
    from {{ v }}events as events
    inner join requests
        on
            events.event_time >= cast(requests.cohort_date as timestamp)
            and events.event_time < cast(requests.cohort_date as timestamp) + interval 1 day
    where
        events.event_name in ('RC Trial started', 'RC Initial purchase')
        and exists (
            select 1
            from {{ v }}user_entities as user_entity
            where
                user_entity.distinct_id = events.distinct_id
                and user_entity.{{ level }}_id = requests.eid
        )
),

-- their events from D to the end of as_of_date. Deliveries sharing (event_uuid,
-- event_name, distinct_id, event_time) are one event: the smallest product_id,
-- then the smallest revenue_usd, NULLs last.
user_events as materialized (
    select
        events.*,
        cohort_users.req
    from {{ v }}events as events
    inner join cohort_users on events.distinct_id = cohort_users.distinct_id
    inner join requests on cohort_users.req = requests.req
    cross join settings
    where
        events.event_time >= cast(requests.cohort_date as timestamp)
        and events.event_time < settings.as_of_end
    qualify row_number() over (
            partition by cohort_users.req, events.event_uuid, events.event_name, events.distinct_id, events.event_time
            order by events.product_id nulls last, events.revenue_usd nulls last
        ) = 1
),

-- one pair per (user, product) with a trial start or an initial purchase on D,
-- from the earliest of them
cohort_pairs as (
    select
        user_events.req,
        user_events.distinct_id,
        user_events.product_id,
        min(user_events.event_time) as start_time
    from user_events
    inner join requests on user_events.req = requests.req
    where
        user_events.event_name in ('RC Trial started', 'RC Initial purchase')
        and cast(user_events.event_time as date) = requests.cohort_date
    group by user_events.req, user_events.distinct_id, user_events.product_id
),

pair_counts as (
    select
        req,
        count(*) as cohort_pair_count
    from cohort_pairs
    group by req
),

-- the pairs' revenue events and refunds at or after their start, by day after D
earnings as (
    select
        cohort_pairs.req,
        date_diff('day', requests.cohort_date, cast(user_events.event_time as date)) as days_after,
        sum(
            case
                when
                    user_events.event_name in ('RC Trial converted', 'RC Initial purchase', 'RC Renewal')
                    and user_events.revenue_usd > 0
                    then user_events.revenue_usd
                else 0.0
            end
        ) as gross_revenue_usd,
        sum(
            case
                when contains(lower(user_events.event_name), 'cancel') and user_events.revenue_usd < 0
                    then -user_events.revenue_usd
                else 0.0
            end
        ) as refunds_usd
    from cohort_pairs
    inner join requests on cohort_pairs.req = requests.req
    inner join user_events
        on
            cohort_pairs.req = user_events.req
            and cohort_pairs.distinct_id = user_events.distinct_id
            and cohort_pairs.product_id = user_events.product_id
            and cohort_pairs.start_time <= user_events.event_time
    group by cohort_pairs.req, date_diff('day', requests.cohort_date, cast(user_events.event_time as date))
)

select
    requests.req,
    horizons.days_since_cohort,
    coalesce(pair_counts.cohort_pair_count, 0) as cohort_pair_count,
    coalesce(sum(earnings.gross_revenue_usd), 0.0) as gross_revenue_usd,
    coalesce(sum(earnings.refunds_usd), 0.0) as refunds_usd
from requests
cross join horizons
left join pair_counts on requests.req = pair_counts.req
left join earnings
    on
        requests.req = earnings.req
        and horizons.days_since_cohort >= earnings.days_after
group by requests.req, horizons.days_since_cohort, pair_counts.cohort_pair_count
order by requests.req, horizons.days_since_cohort
