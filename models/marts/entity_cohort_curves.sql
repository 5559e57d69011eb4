-- One row per entity (campaign, adset, ad), cohort day D and horizon N (the var
-- cohort_horizons): the actual revenue of the day's cohort up to D + N,
-- renewals included, against the day's spend (docs/metrics.md §9). Every
-- entity and day of entity_daily_metrics has a row for every N. Rows are
-- stored in (entity_type, entity_id, cohort_date, days_since_cohort) order.
--
-- The cohort pairs and the refund and revenue-event flags are those of the
-- marts (int_cohort_pairs_matched, int_entity_cohort_pairs_joined,
-- int_revenuecat_events_windowed). The money is summed per pair and event day
-- first, then per entity, day and days after D, and only then over the horizons.

with

daily_inputs as (

    select * from {{ ref('int_entity_daily_measures_joined') }}

),

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

pairs_matched as (

    select * from {{ ref('int_cohort_pairs_matched') }}

),

entity_pairs_joined as (

    select * from {{ ref('int_entity_cohort_pairs_joined') }}

),

events as (

    select * from {{ ref('int_revenuecat_events_windowed') }}

),

horizons as (

    {{ ad_precompute.select_cohort_horizons() }}

),

-- a (user, product) that is a trial pair and a purchase pair on D is one
-- cohort pair, from the earlier of its two starts
cohort_pairs as (

    select
        distinct_id,
        product_id,
        cohort_date,
        min(started_at) as started_at
    from pairs_matched
    group by distinct_id, product_id, cohort_date

),

-- the revenue events and refunds of each pair, at or after its start
pair_events as (

    select
        cohort_pairs.distinct_id,
        cohort_pairs.product_id,
        cohort_pairs.cohort_date,
        {{ dbt.datediff('cohort_pairs.cohort_date', 'events.event_date', 'day') }}
            as days_after_cohort,
        case when events.is_revenue_event then events.revenue_usd else 0 end as gross_revenue_usd,
        case when events.is_refund then abs(events.revenue_usd) else 0 end as refunds_usd
    from cohort_pairs
    inner join events
        on
            cohort_pairs.distinct_id = events.distinct_id
            and cohort_pairs.product_id = events.product_id
            and cohort_pairs.started_at <= events.event_time
    where events.is_revenue_event or events.is_refund

),

-- what each pair earned on each day after D
pair_earnings as (

    select
        distinct_id,
        product_id,
        cohort_date,
        days_after_cohort,
        sum(gross_revenue_usd) as gross_revenue_usd,
        sum(refunds_usd) as refunds_usd
    from pair_events
    group by distinct_id, product_id, cohort_date, days_after_cohort

),

-- the cohort pairs of each entity and day (a user counts at every level
-- where they have an entity)
entity_pairs as (

    select distinct
        entity_type,
        entity_id,
        cohort_date,
        distinct_id,
        product_id
    from entity_pairs_joined

),

entity_pair_counts as (

    select
        entity_type,
        entity_id,
        cohort_date,
        count(*) as cohort_pair_count
    from entity_pairs
    group by entity_type, entity_id, cohort_date

),

entity_daily_earnings as (

    select
        entity_pairs.entity_type,
        entity_pairs.entity_id,
        entity_pairs.cohort_date,
        pair_earnings.days_after_cohort,
        sum(pair_earnings.gross_revenue_usd) as gross_revenue_usd,
        sum(pair_earnings.refunds_usd) as refunds_usd
    from entity_pairs
    inner join pair_earnings
        on
            entity_pairs.distinct_id = pair_earnings.distinct_id
            and entity_pairs.product_id = pair_earnings.product_id
            and entity_pairs.cohort_date = pair_earnings.cohort_date
    group by
        entity_pairs.entity_type,
        entity_pairs.entity_id,
        entity_pairs.cohort_date,
        pair_earnings.days_after_cohort

),

-- an event counts for horizon N when its date is at most D + N
entity_horizon_earnings as (

    select
        entity_daily_earnings.entity_type,
        entity_daily_earnings.entity_id,
        entity_daily_earnings.cohort_date,
        horizons.days_since_cohort,
        sum(entity_daily_earnings.gross_revenue_usd) as gross_revenue_usd,
        sum(entity_daily_earnings.refunds_usd) as refunds_usd
    from entity_daily_earnings
    inner join horizons
        on entity_daily_earnings.days_after_cohort <= horizons.days_since_cohort
    group by
        entity_daily_earnings.entity_type,
        entity_daily_earnings.entity_id,
        entity_daily_earnings.cohort_date,
        horizons.days_since_cohort

),

curve_cells as (

    select
        daily_inputs.entity_type,
        daily_inputs.entity_id,
        daily_inputs.report_date as cohort_date,
        horizons.days_since_cohort,
        daily_inputs.meta_spend_usd,
        {{ dbt.datediff('daily_inputs.report_date', 'reporting_window.as_of_date', 'day') }}
        >= horizons.days_since_cohort as is_complete
    from daily_inputs
    cross join horizons
    cross join reporting_window

),

curves_joined as (

    select
        curve_cells.entity_type,
        curve_cells.entity_id,
        curve_cells.cohort_date,
        curve_cells.days_since_cohort,
        curve_cells.meta_spend_usd,
        curve_cells.is_complete,
        coalesce(entity_pair_counts.cohort_pair_count, 0) as cohort_pair_count,
        coalesce(entity_horizon_earnings.gross_revenue_usd, 0) as gross_revenue_usd,
        coalesce(entity_horizon_earnings.refunds_usd, 0) as refunds_usd
    from curve_cells
    left join entity_pair_counts
        on
            curve_cells.entity_type = entity_pair_counts.entity_type
            and curve_cells.entity_id = entity_pair_counts.entity_id
            and curve_cells.cohort_date = entity_pair_counts.cohort_date
    left join entity_horizon_earnings
        on
            curve_cells.entity_type = entity_horizon_earnings.entity_type
            and curve_cells.entity_id = entity_horizon_earnings.entity_id
            and curve_cells.cohort_date = entity_horizon_earnings.cohort_date
            and curve_cells.days_since_cohort = entity_horizon_earnings.days_since_cohort

),

final as (

    select
        -- keys
        entity_type,
        entity_id,
        cohort_date,
        cast(days_since_cohort as integer) as days_since_cohort,

        -- cohort
        cast(cohort_pair_count as integer) as cohort_pair_count,

        -- money (USD), rounded once, when stored
        cast(round(meta_spend_usd, 2) as decimal(18, 2)) as meta_spend,
        cast(round(gross_revenue_usd, 2) as decimal(18, 2)) as gross_revenue_usd,
        cast(round(refunds_usd, 2) as decimal(18, 2)) as refunds_usd,
        cast(round(gross_revenue_usd - refunds_usd, 2) as decimal(18, 2)) as net_revenue_usd,

        -- performance
        cast(
            round({{ ad_precompute.safe_divide('gross_revenue_usd - refunds_usd', 'meta_spend_usd') }}, 4)
            as decimal(18, 4)
        ) as cohort_roas,
        is_complete,

        -- metadata
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as computed_at
    from curves_joined

)

select * from final
order by entity_type, entity_id, cohort_date, days_since_cohort
