-- One row per data-quality check of the run (rejected_rows: one per source
-- table and reject reason), published with every release: its name, the
-- subject it is about (NULL for the run as a whole), severity `warn`, status
-- `pass` or `warn`, the count of offending keys and a short detail. Every
-- threshold is a var (dbt_project.yml; docs/operations.md, "Data-quality
-- checks"). A warning never blocks a release; the invariants stay error tests.
--   source_freshness              Meta's last date < as_of_date - quality_meta_max_lag_days, or
--                                 Mixpanel's last event date < as_of_date - quality_mixpanel_max_lag_days
--   rejected_rows                 a reason's rejected rows > quality_rejected_rows_max_share of its
--                                 source's rows (window cuts, outside_reporting_window and
--                                 after_as_of_date, are not defects and are not checked)
--   pairs_without_metrics         cohort pairs without a user_product_metrics row >
--                                 quality_pairs_without_metrics_max_share of the window's pairs
--   unmapped_country_spend        spend under ZZ > quality_unmapped_country_spend_max_share of the
--                                 window's per-country spend (count: the unmapped labels)
--   spend_without_mixpanel_users  ads with spend on each of the last quality_spend_without_users_days
--                                 days of Meta data and no Mixpanel trial or purchase user on them
--   event_volume_drop             the events of the last complete day (as_of_date, or Mixpanel's last
--                                 event date if earlier) < quality_event_volume_min_ratio x the median
--                                 of the quality_event_volume_baseline_days days before it

{%- set meta_lag = quality_threshold('quality_meta_max_lag_days', integer=true) %}
{%- set mixpanel_lag = quality_threshold('quality_mixpanel_max_lag_days', integer=true) %}
{%- set rejected_share = quality_threshold('quality_rejected_rows_max_share') %}
{%- set pairs_share = quality_threshold('quality_pairs_without_metrics_max_share') %}
{%- set unmapped_share = quality_threshold('quality_unmapped_country_spend_max_share') %}
{%- set spend_days = quality_threshold('quality_spend_without_users_days', integer=true) %}
{%- set volume_ratio = quality_threshold('quality_event_volume_min_ratio') %}
{%- set baseline_days = quality_threshold('quality_event_volume_baseline_days', integer=true) %}
{%- set text = dbt.type_string() %}


with

reporting_window as (

    select * from {{ ref('int_reporting_window_resolved') }}

),

reporting_dates as (

    select * from {{ ref('int_reporting_dates_generated') }}

),

source_freshness_measured as (

    select * from {{ ref('int_source_freshness_measured') }}

),

rejected_rows as (

    select * from {{ ref('int_source_rows_rejected') }}

),

cohort_pairs as (

    select * from {{ ref('int_cohort_pairs_matched') }}

),

meta_country_rows as (

    select * from {{ ref('stg_meta_ads__ad_performance_daily_country') }}

),

country_mapping as (

    select * from {{ ref('int_country_mapping_resolved') }}

),

ad_days as (

    select * from {{ ref('entity_daily_metrics') }}

),

events as (

    select * from {{ ref('stg_mixpanel__mixpanel_event') }}

),

-- source_freshness ---------------------------------------------------------

meta_freshness as (

    select last_date from source_freshness_measured
    where source_table = 'ad_performance_daily'

),

mixpanel_freshness as (

    select last_date from source_freshness_measured
    where source_table = 'mixpanel_event'

),

freshness_checked as (

    select
        'source_freshness' as check_name,
        cast(null as {{ text }}) as subject,
        case
            when
                meta_freshness.last_date is null
                or meta_freshness.last_date
                < {{ dbt.dateadd('day', -1 * meta_lag, 'reporting_window.as_of_date') }}
                then 1
            else 0
        end
        + case
            when
                mixpanel_freshness.last_date is null
                or mixpanel_freshness.last_date
                < {{ dbt.dateadd('day', -1 * mixpanel_lag, 'reporting_window.as_of_date') }}
                then 1
            else 0
        end as offending_count,
        {{ dbt.concat([
            "'Meta through '",
            "coalesce(cast(meta_freshness.last_date as " ~ text ~ "), 'no date')",
            "', Mixpanel through '",
            "coalesce(cast(mixpanel_freshness.last_date as " ~ text ~ "), 'no date')",
            "'; as_of_date '",
            "cast(reporting_window.as_of_date as " ~ text ~ ")",
            "'; warns when Meta lags more than " ~ meta_lag ~ " and Mixpanel more than " ~ mixpanel_lag ~ " day(s)'",
        ]) }} as detail
    from reporting_window
    cross join meta_freshness
    cross join mixpanel_freshness

),

-- rejected_rows ------------------------------------------------------------

rejects_counted as (

    select
        source_table,
        reject_reason,
        count(*) as rejected_count
    from rejected_rows
    where reject_reason not in ('outside_reporting_window', 'after_as_of_date')
    group by source_table, reject_reason

),

rejects_checked as (

    select
        'rejected_rows' as check_name,
        {{ dbt.concat(['rejects_counted.source_table', "': '", 'rejects_counted.reject_reason']) }} as subject,
        rejects_counted.rejected_count as offending_count,
        coalesce(source_freshness_measured.row_count, 0) = 0
        or rejects_counted.rejected_count
        > {{ rejected_share }} * source_freshness_measured.row_count as is_warning,
        {{ dbt.concat([
            "cast(rejects_counted.rejected_count as " ~ text ~ ")",
            "' of '",
            "cast(coalesce(source_freshness_measured.row_count, 0) as " ~ text ~ ")",
            "' rows ('",
            "coalesce(" ~ percent_text('rejects_counted.rejected_count', 'nullif(source_freshness_measured.row_count, 0)') ~ ", '-')",
            "' %) rejected; warns above " ~ rejected_share * 100 ~ " %'",
        ]) }} as detail
    from rejects_counted
    left join source_freshness_measured
        on rejects_counted.source_table = source_freshness_measured.source_table

),

no_rejects as (

    select
        'rejected_rows' as check_name,
        cast(null as {{ text }}) as subject,
        0 as offending_count,
        false as is_warning,
        'no rejected source rows' as detail
    from reporting_window
    where not exists (select 1 from rejects_counted)

),

-- pairs_without_metrics ----------------------------------------------------

pairs_counted as (

    select
        count(*) as pair_count,
        coalesce(sum(case when has_product_metrics then 0 else 1 end), 0) as pairs_without_metrics
    from cohort_pairs

),

pairs_checked as (

    select
        'pairs_without_metrics' as check_name,
        cast(null as {{ text }}) as subject,
        pairs_without_metrics as offending_count,
        pairs_without_metrics > {{ pairs_share }} * pair_count as is_warning,
        {{ dbt.concat([
            "cast(pairs_without_metrics as " ~ text ~ ")",
            "' of '",
            "cast(pair_count as " ~ text ~ ")",
            "' cohort pairs ('",
            "coalesce(" ~ percent_text('pairs_without_metrics', 'nullif(pair_count, 0)') ~ ", '-')",
            "' %) have no user_product_metrics row; warns above " ~ pairs_share * 100 ~ " %'",
        ]) }} as detail
    from pairs_counted

),

-- unmapped_country_spend ---------------------------------------------------

country_spend as (

    select
        meta_country_rows.meta_country,
        meta_country_rows.spend_usd,
        coalesce(country_mapping.country_code, 'ZZ') = 'ZZ' as is_unmapped
    from meta_country_rows
    cross join reporting_window
    left join country_mapping
        on meta_country_rows.meta_country = country_mapping.meta_country
    where
        meta_country_rows.report_date >= reporting_window.start_date
        and meta_country_rows.report_date <= reporting_window.as_of_date

),

unmapped_labels as (

    select distinct meta_country
    from country_spend
    where is_unmapped

),

unmapped_labels_listed as (

    select
        count(*) as label_count,
        {{ sorted_id_list('meta_country', 'meta_country') }} as labels
    from unmapped_labels

),

spend_summed as (

    select
        coalesce(sum(spend_usd), 0) as total_spend_usd,
        coalesce(sum(case when is_unmapped then spend_usd else 0 end), 0) as unmapped_spend_usd
    from country_spend

),

unmapped_checked as (

    select
        'unmapped_country_spend' as check_name,
        cast(null as {{ text }}) as subject,
        unmapped_labels_listed.label_count as offending_count,
        spend_summed.unmapped_spend_usd > {{ unmapped_share }} * spend_summed.total_spend_usd as is_warning,
        {{ dbt.concat([
            "coalesce(" ~ percent_text('spend_summed.unmapped_spend_usd', 'nullif(spend_summed.total_spend_usd, 0)') ~ ", '0.0')",
            "' % of the per-country spend of the window is under ZZ'",
            "case when unmapped_labels_listed.label_count > 0 then "
                ~ dbt.concat(["'; unmapped labels: '", "substring(replace(unmapped_labels_listed.labels, ',', ', '), 1, 300)"])
                ~ " else '' end",
            "'; warns above " ~ unmapped_share * 100 ~ " %'",
        ]) }} as detail
    from spend_summed
    cross join unmapped_labels_listed

),

-- spend_without_mixpanel_users ---------------------------------------------

last_meta_days as (

    select reporting_dates.report_date
    from reporting_dates
    cross join reporting_window
    cross join meta_freshness
    where
        reporting_dates.report_date
        <= case
            when meta_freshness.last_date < reporting_window.as_of_date then meta_freshness.last_date
            else reporting_window.as_of_date
        end
        and reporting_dates.report_date
        > {{ dbt.dateadd('day', -1 * spend_days, "case
            when meta_freshness.last_date < reporting_window.as_of_date then meta_freshness.last_date
            else reporting_window.as_of_date
        end") }}

),

ads_without_users as (

    select ad_days.entity_id
    from ad_days
    inner join last_meta_days
        on ad_days.date = last_meta_days.report_date
    where ad_days.entity_type = 'ad'
    group by ad_days.entity_id
    having
        sum(case when ad_days.meta_spend > 0 then 1 else 0 end) = {{ spend_days }}
        and sum(ad_days.mixpanel_trial_count + ad_days.mixpanel_purchase_count) = 0

),

ads_listed as (

    select
        count(*) as ad_count,
        {{ sorted_id_list('entity_id', 'entity_id') }} as ad_ids
    from ads_without_users

),

spend_days_bounds as (

    select
        count(*) as day_count,
        min(report_date) as first_day,
        max(report_date) as last_day
    from last_meta_days

),

spend_without_users_checked as (

    select
        'spend_without_mixpanel_users' as check_name,
        cast(null as {{ text }}) as subject,
        ads_listed.ad_count as offending_count,
        ads_listed.ad_count > 0 as is_warning,
        case
            when spend_days_bounds.day_count < {{ spend_days }}
                then 'fewer than {{ spend_days }} days of Meta data in the window'
            when ads_listed.ad_count = 0
                then {{ dbt.concat([
                    "'every ad with spend on each day from '",
                    "cast(spend_days_bounds.first_day as " ~ text ~ ")",
                    "' to '",
                    "cast(spend_days_bounds.last_day as " ~ text ~ ")",
                    "' has a Mixpanel trial or purchase user'",
                ]) }}
            else {{ dbt.concat([
                "'spend on each day from '",
                "cast(spend_days_bounds.first_day as " ~ text ~ ")",
                "' to '",
                "cast(spend_days_bounds.last_day as " ~ text ~ ")",
                "' and no Mixpanel trial or purchase user, ads: '",
                "substring(replace(ads_listed.ad_ids, ',', ', '), 1, 300)",
            ]) }}
        end as detail
    from ads_listed
    cross join spend_days_bounds

),

-- event_volume_drop --------------------------------------------------------

checked_event_day as (

    select
        case
            when mixpanel_freshness.last_date < reporting_window.as_of_date then mixpanel_freshness.last_date
            else reporting_window.as_of_date
        end as checked_date
    from reporting_window
    cross join mixpanel_freshness

),

events_per_day as (

    select
        event_date,
        count(*) as event_count
    from events
    group by event_date

),

volume_days as (

    select
        reporting_dates.report_date,
        reporting_dates.report_date = checked_event_day.checked_date as is_checked_day,
        coalesce(events_per_day.event_count, 0) as event_count
    from reporting_dates
    cross join checked_event_day
    left join events_per_day
        on reporting_dates.report_date = events_per_day.event_date
    where
        reporting_dates.report_date <= checked_event_day.checked_date
        and reporting_dates.report_date
        >= {{ dbt.dateadd('day', -1 * baseline_days, 'checked_event_day.checked_date') }}

),

volume_compared as (

    select
        max(case when is_checked_day then report_date end) as checked_date,
        coalesce(sum(case when is_checked_day then event_count end), 0) as checked_count,
        sum(case when is_checked_day then 0 else 1 end) as baseline_day_count,
        {{ median_value('case when not is_checked_day then event_count end') }} as baseline_median
    from volume_days

),

volume_checked as (

    select
        'event_volume_drop' as check_name,
        cast(null as {{ text }}) as subject,
        case
            when checked_count < {{ volume_ratio }} * baseline_median then 1
            else 0
        end as offending_count,
        coalesce(checked_count < {{ volume_ratio }} * baseline_median, false) as is_warning,
        case
            when checked_date is null or baseline_day_count = 0
                then 'no day of events to compare with the days before it'
            else {{ dbt.concat([
                "cast(checked_count as " ~ text ~ ")",
                "' events on '",
                "cast(checked_date as " ~ text ~ ")",
                "'; median of the '",
                "cast(baseline_day_count as " ~ text ~ ")",
                "' days before: '",
                "cast(round(cast(baseline_median as " ~ type_double() ~ "), 1) as " ~ text ~ ")",
                "'; warns below " ~ volume_ratio * 100 ~ " % of it'",
            ]) }}
        end as detail
    from volume_compared

),

-- every check --------------------------------------------------------------

checks_unioned as (

    select
        check_name,
        subject,
        offending_count,
        offending_count > 0 as is_warning,
        detail
    from freshness_checked
    union all
    select * from rejects_checked
    union all
    select * from no_rejects
    union all
    select * from pairs_checked
    union all
    select * from unmapped_checked
    union all
    select * from spend_without_users_checked
    union all
    select * from volume_checked

),

final as (

    select
        cast(check_name as {{ text }}) as check_name,
        cast(subject as {{ text }}) as subject,
        cast('warn' as {{ text }}) as severity,
        cast(case when is_warning then 'warn' else 'pass' end as {{ text }}) as status,
        cast(offending_count as {{ dbt.type_bigint() }}) as offending_count,
        cast(detail as {{ text }}) as detail
    from checks_unioned

)

select * from final
