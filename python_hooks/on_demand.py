"""The "current dashboard" path: metrics of ONE entity computed at request time.

``OnDemandMetrics`` computes the dashboard metrics of one entity (campaign, adset
or ad) for one date range, overall or for one country, directly from the six raw
Parquet source tables with DuckDB SQL, the way a dashboard without
pre-computation would. It reads no dbt model and shares no code with the dbt
project: it is an independent second implementation of
``/work/shared/spec/metric-contract.md`` used to validate the pre-computed tables
(``entity_daily_metrics`` / ``entity_country_breakdown``) and as the baseline of
the performance benchmark.

Usage::

    od = OnDemandMetrics("data/sample", as_of_date="2024-06-30")
    rows = od.daily_metrics("campaign", "120200000001", "2024-06-01", "2024-06-14")
    us = od.daily_metrics("campaign", "120200000001", "2024-06-01", "2024-06-14", country="US")
    totals = od.range_totals("campaign", "120200000001", "2024-06-01", "2024-06-14")
    od.entities()  # {"campaign": [...], "adset": [...], "ad": [...]}

Every query is one SQL statement built from CTEs and parameterised with ``?``.
It prunes early: the entity's users are found first (one scan of
``mixpanel_user`` joined to the small hierarchy mapping), then only their
events are read and deduplicated, and only the entity's ads are read from the
Meta tables.

Readings of the contract
------------------------
Where the contract is silent this module takes the most literal reading:

* Default window: ``start_date`` / ``as_of_date`` are the min / max over ALL rows
  of the raw sources (``ad_performance_daily.date``,
  ``ad_performance_daily_country.date``, ``CAST(mixpanel_event.event_time AS
  DATE)``), rejected rows included ("the earliest date in the sources").
* ``event_time`` is a UTC ``TIMESTAMP``; a ``TIMESTAMP WITH TIME ZONE`` column is
  converted to UTC first. Events whose ``event_time`` is NULL are ignored.
  "Events after the end of as_of_date" are those with
  ``event_time >= as_of_date + 1 day``; they are ignored everywhere (trials,
  conversions, purchases, refunds).
* Event dedup: rows sharing (event_uuid, event_name, distinct_id, event_time) are
  one event; NULLs compare equal for this purpose (``PARTITION BY`` semantics).
  If such rows differ in ``product_id`` / ``revenue_usd`` the kept row is the
  one with the smallest ``product_id`` then smallest ``revenue_usd`` (NULLs last).
* Meta dedup: exact duplicates over the contract columns (extra columns are
  ignored) are one row. Two *different* rows for the same key (a gate failure in
  dbt) are both summed here. A NULL measure is not negative and counts as 0.
* Empty-string ids: an empty ``abi_*`` id, an empty id in ``id_hierarchy_mapping``
  and an empty ``ad_id`` in the Meta tables are treated as NULL (no entity).
  A user's ``country`` of NULL or ``''`` is ``ZZ``; otherwise it is used as is
  (not mapped through the CSV, not upper-cased).
* Users: exact duplicate user rows are one; conflicting duplicate rows of one
  ``distinct_id`` are not resolved (the user belongs to every entity/country any
  of its rows gives). ``has_abi_attribution`` must be TRUE (NULL is not TRUE).
* Fill rule through the mapping: an ad's parent (adset or campaign) is taken
  from ``id_hierarchy_mapping`` only when the ad maps to exactly one non-NULL
  value; likewise an adset's campaign only when the adset maps to exactly one
  non-NULL campaign. Otherwise the id "cannot be filled". The campaign is filled
  first from ``abi_ad_id``'s mapping and, failing that, from the user's adset at
  the adset level (own ``abi_ad_set_id`` or the one filled from ``abi_ad_id``).
* Meta roll-up: an ad's rows count for every distinct (adset, campaign) the ad
  is mapped to (the mapping is expected to have one row per ad).
* Entity set: "the ads in ad_performance_daily" are the ads of its non-rejected
  rows, over all dates (not only the window). The ids "that attributed users
  carry at that level" are the users' entities after the fill rule. An id
  outside the entity set raises ``ValueError``.
* Country mapping CSV: read with Python's ``csv`` module, every value as text,
  nothing converted to NULL (Namibia's ``NA`` stays ``'NA'``). Labels are matched
  exactly (case-sensitive, no trimming). An empty ``country_code`` is no
  mapping. If one label appears several times with different codes the
  smallest code is used. A NULL Meta label is unmapped (``ZZ``).
* Products: a pair's product is matched with SQL ``=``, so a NULL ``product_id``
  matches no conversion, no refund and no ``user_product_metrics`` row (the
  user still counts as a trial / purchase user).
* ``user_product_metrics``: exact duplicate rows are one. A pair "has a metrics
  row" when a row with the same (distinct_id, product_id) exists; a NULL rate or
  ``current_value`` in that row is skipped by the mean / sum (SQL ``AVG``/``SUM``).
* A trial pair of day D converts with ANY ``RC Trial converted`` event of the
  same product at or after its start time (not limited to day D or to the trial
  period). All such conversion events count in ``actual_revenue_usd``; all
  ``RC Initial purchase`` events of a purchase pair on day D count too.
* ``actual_refunds_usd`` sums each refund EVENT once per row: a refund that is
  both a trial-pair refund and a purchase-pair refund of the same row (same
  user and product, trial and purchase on the same day) is counted once.
* The refund test is ``contains(lower(event_name), 'cancel') AND revenue_usd < 0``.
* Lists are sorted with DuckDB's default (binary / code-point) ordering.
* ``daily_metrics`` clips [start, end] to [start_date, as_of_date]; an empty
  clipped range returns ``[]``. ``range_totals`` adds up the daily rows of the
  clipped range (a non-existent breakdown row contributes nothing), so a user
  with trials on two days counts twice (``SUM(mixpanel_trial_count)`` as in the
  spec's range query); its ``estimated_roas`` is recomputed from the totals
  (0 when spend is 0).
* Values are not rounded (money and rates are Python floats).
"""

from __future__ import annotations

import csv
import datetime as _dt
import itertools
import os
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["OnDemandMetrics", "METRIC_COLUMNS", "LEVELS"]

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_COUNTRY_MAPPING_CSV = PROJECT_DIR / "seeds" / "breakdown_mapping_country.csv"

LEVELS = ("campaign", "adset", "ad")

# Required columns of each raw table (contract §1). Extra columns are ignored.
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "ad_performance_daily": (
        "date", "ad_id", "spend", "impressions", "clicks", "meta_trials", "meta_purchases",
    ),
    "ad_performance_daily_country": (
        "date", "ad_id", "country", "spend", "impressions", "clicks", "meta_trials",
        "meta_purchases",
    ),
    "id_hierarchy_mapping": ("ad_id", "adset_id", "campaign_id"),
    "mixpanel_user": (
        "distinct_id", "abi_campaign_id", "abi_ad_set_id", "abi_ad_id",
        "has_abi_attribution", "country",
    ),
    "mixpanel_event": (
        "event_uuid", "distinct_id", "event_name", "event_time", "product_id", "revenue_usd",
    ),
    "user_product_metrics": (
        "distinct_id", "product_id", "trial_conversion_rate",
        "trial_converted_to_refund_rate", "initial_purchase_to_refund_rate", "current_value",
    ),
}

# Columns of entity_daily_metrics, in the spec's order, without computed_at and
# data_quality_score.
METRIC_COLUMNS: tuple[str, ...] = (
    "entity_type", "entity_id", "date",
    "meta_spend", "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
    "trial_user_ids", "post_trial_user_ids", "converted_user_ids", "trial_refund_user_ids",
    "purchase_user_ids", "purchase_refund_user_ids",
    "trial_conversion_rate_estimated", "trial_conversion_rate_actual",
    "trial_refund_rate_estimated", "trial_refund_rate_actual",
    "purchase_refund_rate_estimated", "purchase_refund_rate_actual",
    "actual_revenue_usd", "actual_refunds_usd", "net_actual_revenue_usd",
    "estimated_revenue_usd", "adjusted_estimated_revenue_usd",
    "profit_usd", "estimated_roas", "trial_accuracy_ratio", "purchase_accuracy_ratio",
    "mixpanel_cost_per_trial", "mixpanel_cost_per_purchase",
    "meta_cost_per_trial", "meta_cost_per_purchase", "click_to_trial_rate",
)

_SUM_KEYS = (
    "meta_spend", "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
    "actual_revenue_usd", "actual_refunds_usd", "net_actual_revenue_usd",
    "estimated_revenue_usd", "adjusted_estimated_revenue_usd", "profit_usd",
)

_INSTANCE_COUNTER = itertools.count(1)

# --------------------------------------------------------------------------- #
# SQL fragments chosen per level (fixed strings, never user input).
# --------------------------------------------------------------------------- #

# The user's entity at a level (contract §3 fill rule). `u` = user, `ap` = the
# user's abi_ad_id in the mapping, `sp` = the user's adset in the mapping.
_USER_ENTITY_EXPR = {
    "ad": "u.abi_ad_id",
    "adset": "coalesce(u.abi_ad_set_id, ap.adset_id)",
    "campaign": "coalesce(u.abi_campaign_id, ap.campaign_id, sp.campaign_id)",
}

# The ads whose Meta rows roll up to the entity (contract §3 "Meta measures").
_ENTITY_ADS_SQL = {
    "ad": "SELECT params.eid AS ad_id FROM params",
    "adset": (
        "SELECT DISTINCT m.ad_id FROM {V}map AS m, params "
        "WHERE m.adset_id = params.eid AND m.ad_id IS NOT NULL"
    ),
    "campaign": (
        "SELECT DISTINCT m.ad_id FROM {V}map AS m, params "
        "WHERE m.campaign_id = params.eid AND m.ad_id IS NOT NULL"
    ),
}

_MAP_COLUMN = {"campaign": "campaign_id", "adset": "adset_id", "ad": "ad_id"}

# Parents through the mapping, only when unambiguous (see "Readings").
_PARENT_CTES = """
ad_parent AS (
    SELECT
        ad_id,
        CASE WHEN count(DISTINCT adset_id) = 1 THEN min(adset_id) END AS adset_id,
        CASE WHEN count(DISTINCT campaign_id) = 1 THEN min(campaign_id) END AS campaign_id
    FROM {V}map
    WHERE ad_id IS NOT NULL
    GROUP BY ad_id
),
adset_parent AS (
    SELECT
        adset_id,
        CASE WHEN count(DISTINCT campaign_id) = 1 THEN min(campaign_id) END AS campaign_id
    FROM {V}map
    WHERE adset_id IS NOT NULL
    GROUP BY adset_id
)"""

# Meta measures per day: overall from ad_performance_daily ...
_META_OVERALL_CTE = """
meta AS (
    SELECT
        a.date,
        sum(a.spend) AS spend,
        sum(a.impressions) AS impressions,
        sum(a.clicks) AS clicks,
        sum(a.meta_trials) AS meta_trials,
        sum(a.meta_purchases) AS meta_purchases
    FROM (
        SELECT DISTINCT r.*                       -- exact duplicate Meta rows are one
        FROM {V}apd AS r, params
        WHERE r.ad_id IN (SELECT ad_id FROM entity_ads)
          AND r.date BETWEEN params.d0 AND params.d1
    ) AS a
    GROUP BY a.date
)"""

# ... and for one country from ad_performance_daily_country, label -> code.
_META_COUNTRY_CTE = """
meta AS (
    SELECT
        a.date,
        sum(a.spend) AS spend,
        sum(a.impressions) AS impressions,
        sum(a.clicks) AS clicks,
        sum(a.meta_trials) AS meta_trials,
        sum(a.meta_purchases) AS meta_purchases
    FROM (
        SELECT DISTINCT r.*                       -- exact duplicate Meta rows are one
        FROM {V}apdc AS r, params
        WHERE r.ad_id IN (SELECT ad_id FROM entity_ads)
          AND r.date BETWEEN params.d0 AND params.d1
    ) AS a
    LEFT JOIN {V}cmap AS c ON c.meta_country = a.country
    CROSS JOIN params
    WHERE coalesce(c.country_code, 'ZZ') = params.cc
    GROUP BY a.date
)"""

_DAILY_SQL = """
WITH
params AS (
    SELECT
        d0, d1, as_of, eid, cc,
        CAST(as_of - trial_days AS DATE) AS post_cutoff,         -- last post-trial day
        CAST(as_of AS TIMESTAMP) + INTERVAL 1 DAY AS as_of_end   -- events from here on are ignored
    FROM (
        SELECT
            CAST(? AS DATE) AS d0,
            CAST(? AS DATE) AS d1,
            CAST(? AS DATE) AS as_of,
            CAST(? AS INTEGER) AS trial_days,
            CAST(? AS VARCHAR) AS eid,
            CAST(? AS VARCHAR) AS cc                                -- NULL = overall
    )
),
spine AS (
    SELECT CAST(unnest(generate_series(
        CAST(d0 AS TIMESTAMP), CAST(d1 AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS date
    FROM params
),
{parent_ctes},
-- The entity's attributed users (any country): one scan of mixpanel_user.
entity_users_all AS MATERIALIZED (
    SELECT DISTINCT u.distinct_id, u.country_code
    FROM {V}user AS u
    LEFT JOIN ad_parent AS ap ON ap.ad_id = u.abi_ad_id
    LEFT JOIN adset_parent AS sp ON sp.adset_id = coalesce(u.abi_ad_set_id, ap.adset_id)
    CROSS JOIN params
    WHERE u.has_abi_attribution IS TRUE
      AND {user_entity} = params.eid
),
entity_users AS (
    SELECT eu.distinct_id
    FROM entity_users_all AS eu, params
    WHERE params.cc IS NULL OR eu.country_code = params.cc
),
is_entity AS (
    SELECT (
        EXISTS (SELECT 1 FROM {V}map AS m, params WHERE m.{map_col} = params.eid)
        OR EXISTS (SELECT 1 FROM entity_users_all)
        {apd_entity_check}
    ) AS ok
),
entity_ads AS (
    {entity_ads}
),
{meta_cte},
-- Only the entity's users' relevant events up to the end of as_of, then dedup.
events_pruned AS (
    SELECT e.event_uuid, e.distinct_id, e.event_name, e.event_time, e.product_id, e.revenue_usd
    FROM {V}event AS e, params
    WHERE e.distinct_id IN (SELECT distinct_id FROM entity_users)
      AND e.event_time < params.as_of_end
      AND (e.event_name IN ('RC Trial started', 'RC Trial converted', 'RC Initial purchase')
           OR contains(lower(e.event_name), 'cancel'))
),
ev AS MATERIALIZED (
    SELECT *
    FROM events_pruned
    QUALIFY row_number() OVER (
        PARTITION BY event_uuid, event_name, distinct_id, event_time
        ORDER BY product_id NULLS LAST, revenue_usd NULLS LAST) = 1
),
refund_events AS (
    SELECT *
    FROM ev
    WHERE contains(lower(event_name), 'cancel') AND revenue_usd < 0
),
-- Trial pairs (user, product, day D) with their start time.
trial_pairs AS (
    SELECT e.distinct_id, e.product_id, CAST(e.event_time AS DATE) AS date,
           min(e.event_time) AS start_time
    FROM ev AS e, params
    WHERE e.event_name = 'RC Trial started'
      AND CAST(e.event_time AS DATE) BETWEEN params.d0 AND params.d1
    GROUP BY e.distinct_id, e.product_id, CAST(e.event_time AS DATE)
),
-- Converted pairs: post-trial pairs with a conversion of the same product at or after start.
converted_pairs AS (
    SELECT t.distinct_id, t.product_id, t.date,
           min(c.event_time) AS first_conversion_time,
           sum(c.revenue_usd) AS conversion_revenue
    FROM trial_pairs AS t
    CROSS JOIN params
    JOIN ev AS c
      ON c.event_name = 'RC Trial converted'
     AND c.distinct_id = t.distinct_id
     AND c.product_id = t.product_id
     AND c.event_time >= t.start_time
    WHERE t.date <= params.post_cutoff
    GROUP BY t.distinct_id, t.product_id, t.date
),
trial_refunds AS (
    SELECT cp.date, cp.distinct_id, r.event_uuid, r.event_name, r.event_time, r.revenue_usd
    FROM converted_pairs AS cp
    JOIN refund_events AS r
      ON r.distinct_id = cp.distinct_id
     AND r.product_id = cp.product_id
     AND r.event_time >= cp.first_conversion_time
),
-- Purchase pairs (user, product, day D) with their purchase time.
purchase_pairs AS (
    SELECT e.distinct_id, e.product_id, CAST(e.event_time AS DATE) AS date,
           min(e.event_time) AS purchase_time,
           sum(e.revenue_usd) AS purchase_revenue
    FROM ev AS e, params
    WHERE e.event_name = 'RC Initial purchase'
      AND CAST(e.event_time AS DATE) BETWEEN params.d0 AND params.d1
    GROUP BY e.distinct_id, e.product_id, CAST(e.event_time AS DATE)
),
purchase_refunds AS (
    SELECT pp.date, pp.distinct_id, r.event_uuid, r.event_name, r.event_time, r.revenue_usd
    FROM purchase_pairs AS pp
    JOIN refund_events AS r
      ON r.distinct_id = pp.distinct_id
     AND r.product_id = pp.product_id
     AND r.event_time >= pp.purchase_time
),
-- The cohort's user_product_metrics rows (exact duplicates are one).
upm AS MATERIALIZED (
    SELECT DISTINCT m.*
    FROM {V}upm AS m
    WHERE m.distinct_id IN (SELECT distinct_id FROM trial_pairs
                            UNION SELECT distinct_id FROM purchase_pairs)
),
-- Per-day aggregates.
trial_agg AS (
    SELECT t.date,
           count(DISTINCT t.distinct_id) AS n_trial,
           string_agg(DISTINCT t.distinct_id, ',' ORDER BY t.distinct_id) AS trial_user_ids,
           avg(m.trial_conversion_rate) AS trial_conversion_rate_estimated
    FROM trial_pairs AS t
    LEFT JOIN upm AS m ON m.distinct_id = t.distinct_id AND m.product_id = t.product_id
    GROUP BY t.date
),
converted_agg AS (
    SELECT cp.date,
           count(DISTINCT cp.distinct_id) AS n_converted,
           string_agg(DISTINCT cp.distinct_id, ',' ORDER BY cp.distinct_id) AS converted_user_ids,
           avg(m.trial_converted_to_refund_rate) AS trial_refund_rate_estimated,
           sum(cp.conversion_revenue) AS conversion_revenue
    FROM converted_pairs AS cp
    LEFT JOIN upm AS m ON m.distinct_id = cp.distinct_id AND m.product_id = cp.product_id
    GROUP BY cp.date
),
trial_refund_agg AS (
    SELECT date,
           count(DISTINCT distinct_id) AS n_trial_refund,
           string_agg(DISTINCT distinct_id, ',' ORDER BY distinct_id) AS trial_refund_user_ids
    FROM trial_refunds
    GROUP BY date
),
purchase_agg AS (
    SELECT pp.date,
           count(DISTINCT pp.distinct_id) AS n_purchase,
           string_agg(DISTINCT pp.distinct_id, ',' ORDER BY pp.distinct_id) AS purchase_user_ids,
           avg(m.initial_purchase_to_refund_rate) AS purchase_refund_rate_estimated,
           sum(pp.purchase_revenue) AS purchase_revenue
    FROM purchase_pairs AS pp
    LEFT JOIN upm AS m ON m.distinct_id = pp.distinct_id AND m.product_id = pp.product_id
    GROUP BY pp.date
),
purchase_refund_agg AS (
    SELECT date,
           count(DISTINCT distinct_id) AS n_purchase_refund,
           string_agg(DISTINCT distinct_id, ',' ORDER BY distinct_id) AS purchase_refund_user_ids
    FROM purchase_refunds
    GROUP BY date
),
refund_money AS (   -- each refund event once per day-row
    SELECT date, sum(abs(revenue_usd)) AS refunds
    FROM (
        SELECT DISTINCT date, distinct_id, event_uuid, event_name, event_time, revenue_usd
        FROM (SELECT * FROM trial_refunds UNION ALL SELECT * FROM purchase_refunds)
    )
    GROUP BY date
),
estimated_revenue AS (  -- distinct (user, product) of trial ∪ purchase pairs with a metrics row
    SELECT pr.date, sum(m.current_value) AS estimated_revenue
    FROM (
        SELECT date, distinct_id, product_id FROM trial_pairs
        UNION
        SELECT date, distinct_id, product_id FROM purchase_pairs
    ) AS pr
    JOIN upm AS m ON m.distinct_id = pr.distinct_id AND m.product_id = pr.product_id
    GROUP BY pr.date
),
base AS (
    SELECT
        s.date,
        (mt.date IS NOT NULL) AS has_meta,
        coalesce(mt.spend, 0.0) AS meta_spend,
        CAST(coalesce(mt.impressions, 0) AS BIGINT) AS meta_impressions,
        CAST(coalesce(mt.clicks, 0) AS BIGINT) AS meta_clicks,
        CAST(coalesce(mt.meta_trials, 0) AS BIGINT) AS meta_trial_count,
        CAST(coalesce(mt.meta_purchases, 0) AS BIGINT) AS meta_purchase_count,
        coalesce(ta.n_trial, 0) AS mixpanel_trial_count,
        coalesce(pa.n_purchase, 0) AS mixpanel_purchase_count,
        ta.trial_user_ids,
        CASE WHEN s.date <= params.post_cutoff THEN ta.trial_user_ids END AS post_trial_user_ids,
        ca.converted_user_ids,
        tra.trial_refund_user_ids,
        pa.purchase_user_ids,
        pra.purchase_refund_user_ids,
        CASE WHEN s.date <= params.post_cutoff THEN coalesce(ta.n_trial, 0) ELSE 0 END AS n_post,
        coalesce(ca.n_converted, 0) AS n_converted,
        coalesce(tra.n_trial_refund, 0) AS n_trial_refund,
        coalesce(pra.n_purchase_refund, 0) AS n_purchase_refund,
        coalesce(ta.trial_conversion_rate_estimated, 0.0) AS trial_conversion_rate_estimated,
        coalesce(ca.trial_refund_rate_estimated, 0.0) AS trial_refund_rate_estimated,
        coalesce(pa.purchase_refund_rate_estimated, 0.0) AS purchase_refund_rate_estimated,
        coalesce(ca.conversion_revenue, 0.0) + coalesce(pa.purchase_revenue, 0.0) AS actual_revenue_usd,
        coalesce(rm.refunds, 0.0) AS actual_refunds_usd,
        coalesce(er.estimated_revenue, 0.0) AS estimated_revenue_usd
    FROM spine AS s
    CROSS JOIN params
    LEFT JOIN meta AS mt ON mt.date = s.date
    LEFT JOIN trial_agg AS ta ON ta.date = s.date
    LEFT JOIN converted_agg AS ca ON ca.date = s.date
    LEFT JOIN trial_refund_agg AS tra ON tra.date = s.date
    LEFT JOIN purchase_agg AS pa ON pa.date = s.date
    LEFT JOIN purchase_refund_agg AS pra ON pra.date = s.date
    LEFT JOIN refund_money AS rm ON rm.date = s.date
    LEFT JOIN estimated_revenue AS er ON er.date = s.date
),
rates AS (
    SELECT
        *,
        CASE WHEN n_post = 0 THEN 0.0
             ELSE CAST(n_converted AS DOUBLE) / n_post END AS trial_conversion_rate_actual,
        CASE WHEN n_converted = 0 THEN 0.0
             ELSE CAST(n_trial_refund AS DOUBLE) / n_converted END AS trial_refund_rate_actual,
        CASE WHEN mixpanel_purchase_count = 0 THEN 0.0
             ELSE CAST(n_purchase_refund AS DOUBLE) / mixpanel_purchase_count
        END AS purchase_refund_rate_actual,
        actual_revenue_usd - actual_refunds_usd AS net_actual_revenue_usd,
        CASE WHEN meta_trial_count = 0 AND mixpanel_trial_count > 0 THEN 100.0
             WHEN meta_trial_count = 0 THEN 0.0
             ELSE CAST(mixpanel_trial_count AS DOUBLE) / meta_trial_count * 100
        END AS trial_accuracy_ratio,
        CASE WHEN meta_purchase_count = 0 THEN 0.0
             ELSE CAST(mixpanel_purchase_count AS DOUBLE) / meta_purchase_count * 100
        END AS purchase_accuracy_ratio
    FROM base
),
adjusted AS (
    SELECT
        *,
        CASE WHEN mixpanel_purchase_count > mixpanel_trial_count
             THEN purchase_accuracy_ratio ELSE trial_accuracy_ratio END AS chosen_ratio
    FROM rates
),
final AS (
    SELECT
        *,
        CASE WHEN chosen_ratio = 0 THEN estimated_revenue_usd
             ELSE estimated_revenue_usd / (chosen_ratio / 100) END AS adjusted_estimated_revenue_usd
    FROM adjusted
)
SELECT
    f.date,
    f.has_meta,
    (SELECT ok FROM is_entity) AS is_entity,
    f.meta_spend, f.meta_impressions, f.meta_clicks, f.meta_trial_count, f.meta_purchase_count,
    f.mixpanel_trial_count, f.mixpanel_purchase_count,
    f.trial_user_ids, f.post_trial_user_ids, f.converted_user_ids, f.trial_refund_user_ids,
    f.purchase_user_ids, f.purchase_refund_user_ids,
    f.trial_conversion_rate_estimated, f.trial_conversion_rate_actual,
    f.trial_refund_rate_estimated, f.trial_refund_rate_actual,
    f.purchase_refund_rate_estimated, f.purchase_refund_rate_actual,
    f.actual_revenue_usd, f.actual_refunds_usd, f.net_actual_revenue_usd,
    f.estimated_revenue_usd, f.adjusted_estimated_revenue_usd,
    f.adjusted_estimated_revenue_usd - f.meta_spend AS profit_usd,
    CASE WHEN f.meta_spend = 0 THEN 0.0
         ELSE f.adjusted_estimated_revenue_usd / f.meta_spend END AS estimated_roas,
    f.trial_accuracy_ratio, f.purchase_accuracy_ratio,
    CASE WHEN f.mixpanel_trial_count = 0 THEN 0.0
         ELSE f.meta_spend / f.mixpanel_trial_count END AS mixpanel_cost_per_trial,
    CASE WHEN f.mixpanel_purchase_count = 0 THEN 0.0
         ELSE f.meta_spend / f.mixpanel_purchase_count END AS mixpanel_cost_per_purchase,
    CASE WHEN f.meta_trial_count = 0 THEN 0.0
         ELSE f.meta_spend / f.meta_trial_count END AS meta_cost_per_trial,
    CASE WHEN f.meta_purchase_count = 0 THEN 0.0
         ELSE f.meta_spend / f.meta_purchase_count END AS meta_cost_per_purchase,
    CASE WHEN f.meta_clicks = 0 THEN 0.0
         ELSE CAST(f.mixpanel_trial_count AS DOUBLE) / f.meta_clicks * 100
    END AS click_to_trial_rate
FROM final AS f
ORDER BY f.date
"""

_ENTITIES_SQL = """
WITH
{parent_ctes},
user_entities AS (
    SELECT
        {ad_expr} AS ad,
        {adset_expr} AS adset,
        {campaign_expr} AS campaign
    FROM {V}user AS u
    LEFT JOIN ad_parent AS ap ON ap.ad_id = u.abi_ad_id
    LEFT JOIN adset_parent AS sp ON sp.adset_id = coalesce(u.abi_ad_set_id, ap.adset_id)
    WHERE u.has_abi_attribution IS TRUE
),
meta_ads AS (
    SELECT DISTINCT ad_id FROM {V}apd WHERE ad_id IS NOT NULL
),
all_entities AS (
    SELECT 'campaign' AS entity_type, campaign_id AS entity_id FROM {V}map
    UNION SELECT 'adset', adset_id FROM {V}map
    UNION SELECT 'ad', ad_id FROM {V}map
    UNION SELECT 'ad', ad_id FROM meta_ads
    UNION SELECT 'adset', m.adset_id FROM meta_ads JOIN {V}map AS m USING (ad_id)
    UNION SELECT 'campaign', m.campaign_id FROM meta_ads JOIN {V}map AS m USING (ad_id)
    UNION SELECT 'ad', ad FROM user_entities
    UNION SELECT 'adset', adset FROM user_entities
    UNION SELECT 'campaign', campaign FROM user_entities
)
SELECT entity_type, entity_id
FROM all_entities
WHERE entity_id IS NOT NULL
ORDER BY entity_type, entity_id
"""


def _as_date(value: Any, name: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{name}: not an ISO date: {value!r}") from exc
    raise TypeError(f"{name}: expected a date or 'YYYY-MM-DD' string, got {value!r}")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class OnDemandMetrics:
    """Request-time metrics of one entity, straight from the raw Parquet sources."""

    def __init__(
        self,
        raw_dir: str | os.PathLike[str],
        *,
        start_date: Any = None,
        as_of_date: Any = None,
        trial_days: int = 7,
        country_mapping_csv: str | os.PathLike[str] = DEFAULT_COUNTRY_MAPPING_CSV,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.raw_dir = Path(raw_dir)
        if isinstance(trial_days, bool) or not isinstance(trial_days, int) or trial_days < 0:
            raise ValueError(f"trial_days must be a non-negative int, got {trial_days!r}")
        self.trial_days = trial_days
        self.country_mapping_csv = Path(country_mapping_csv)
        self.con = con if con is not None else duckdb.connect()
        # Temp views get a per-instance prefix so instances can share a connection.
        self._v = f"_ondemand{next(_INSTANCE_COUNTER)}_"
        self._country_map_loaded = False
        self._sql_cache: dict[tuple[str, bool], str] = {}

        self._create_views()

        if start_date is None or as_of_date is None:
            lo, hi = self._source_date_bounds()
        self.start_date = _as_date(start_date, "start_date") if start_date is not None else lo
        self.as_of_date = _as_date(as_of_date, "as_of_date") if as_of_date is not None else hi
        if self.start_date is None or self.as_of_date is None:
            raise ValueError(f"{self.raw_dir}: the sources hold no date to default the window to")

    # ------------------------------------------------------------------ setup
    def _parquet(self, table: str) -> Path:
        path = self.raw_dir / f"{table}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"source table {table!r}: missing file {path}")
        return path

    def _columns(self, table: str) -> dict[str, str]:
        path = self._parquet(table)
        rows = self.con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({_sql_str(str(path))})"
        ).fetchall()
        cols = {r[0].lower(): r[1] for r in rows}
        for col in SOURCE_COLUMNS[table]:
            if col not in cols:
                raise ValueError(f"source table {table!r}: file {path} has no column {col!r}")
        return cols

    def _create_views(self) -> None:
        V = self._v
        src = {}
        for table in SOURCE_COLUMNS:
            cols = self._columns(table)
            src[table] = (f"read_parquet({_sql_str(str(self._parquet(table)))})", cols)

        def meta_view(name: str, table: str, with_country: bool) -> None:
            rel, _ = src[table]
            country = "CAST(country AS VARCHAR) AS country," if with_country else ""
            self.con.execute(f"""
                CREATE OR REPLACE TEMP VIEW {V}raw_{name} AS
                SELECT
                    CAST(date AS DATE) AS date,
                    CAST(ad_id AS VARCHAR) AS ad_id,
                    {country}
                    CAST(spend AS DOUBLE) AS spend,
                    CAST(impressions AS BIGINT) AS impressions,
                    CAST(clicks AS BIGINT) AS clicks,
                    CAST(meta_trials AS BIGINT) AS meta_trials,
                    CAST(meta_purchases AS BIGINT) AS meta_purchases
                FROM {rel}""")
            # Rejected: any negative measure (whole row). Exact duplicates are
            # collapsed in the queries, after pruning to the entity's ads.
            self.con.execute(f"""
                CREATE OR REPLACE TEMP VIEW {V}{name} AS
                SELECT
                    date, NULLIF(ad_id, '') AS ad_id, {'country,' if with_country else ''}
                    spend, impressions, clicks, meta_trials, meta_purchases
                FROM {V}raw_{name}
                WHERE NOT (coalesce(spend, 0) < 0 OR coalesce(impressions, 0) < 0
                           OR coalesce(clicks, 0) < 0 OR coalesce(meta_trials, 0) < 0
                           OR coalesce(meta_purchases, 0) < 0)""")

        meta_view("apd", "ad_performance_daily", False)
        meta_view("apdc", "ad_performance_daily_country", True)

        rel, _ = src["id_hierarchy_mapping"]
        self.con.execute(f"""
            CREATE OR REPLACE TEMP VIEW {V}map AS
            SELECT DISTINCT
                NULLIF(CAST(ad_id AS VARCHAR), '') AS ad_id,
                NULLIF(CAST(adset_id AS VARCHAR), '') AS adset_id,
                NULLIF(CAST(campaign_id AS VARCHAR), '') AS campaign_id
            FROM {rel}""")

        valid_id = "distinct_id IS NOT NULL AND distinct_id <> '' AND NOT contains(distinct_id, ',')"
        rel, _ = src["mixpanel_user"]
        self.con.execute(f"""
            CREATE OR REPLACE TEMP VIEW {V}user AS
            SELECT * FROM (
                SELECT
                    CAST(distinct_id AS VARCHAR) AS distinct_id,
                    NULLIF(CAST(abi_campaign_id AS VARCHAR), '') AS abi_campaign_id,
                    NULLIF(CAST(abi_ad_set_id AS VARCHAR), '') AS abi_ad_set_id,
                    NULLIF(CAST(abi_ad_id AS VARCHAR), '') AS abi_ad_id,
                    CAST(has_abi_attribution AS BOOLEAN) AS has_abi_attribution,
                    coalesce(NULLIF(CAST(country AS VARCHAR), ''), 'ZZ') AS country_code
                FROM {rel}
            )
            WHERE {valid_id}""")

        rel, cols = src["mixpanel_event"]
        if cols["event_time"].upper().startswith("TIMESTAMP WITH TIME ZONE"):
            event_time = "timezone('UTC', event_time)"
        else:
            event_time = "CAST(event_time AS TIMESTAMP)"
        self.con.execute(f"""
            CREATE OR REPLACE TEMP VIEW {V}raw_event AS
            SELECT
                CAST(event_uuid AS VARCHAR) AS event_uuid,
                CAST(distinct_id AS VARCHAR) AS distinct_id,
                CAST(event_name AS VARCHAR) AS event_name,
                {event_time} AS event_time,
                CAST(product_id AS VARCHAR) AS product_id,
                CAST(revenue_usd AS DOUBLE) AS revenue_usd
            FROM {rel}""")
        self.con.execute(f"""
            CREATE OR REPLACE TEMP VIEW {V}event AS
            SELECT * FROM {V}raw_event WHERE {valid_id}""")

        rel, _ = src["user_product_metrics"]
        self.con.execute(f"""
            CREATE OR REPLACE TEMP VIEW {V}upm AS
            SELECT
                CAST(distinct_id AS VARCHAR) AS distinct_id,
                CAST(product_id AS VARCHAR) AS product_id,
                CAST(trial_conversion_rate AS DOUBLE) AS trial_conversion_rate,
                CAST(trial_converted_to_refund_rate AS DOUBLE) AS trial_converted_to_refund_rate,
                CAST(initial_purchase_to_refund_rate AS DOUBLE) AS initial_purchase_to_refund_rate,
                CAST(current_value AS DOUBLE) AS current_value
            FROM {rel}""")

    def _load_country_mapping(self) -> None:
        """Load the seed CSV as text (no NULL conversion: Namibia is 'NA')."""
        if self._country_map_loaded:
            return
        path = self.country_mapping_csv
        if not path.is_file():
            raise FileNotFoundError(f"country mapping CSV not found: {path}")
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            for col in ("meta_country", "country_code"):
                if col not in header:
                    raise ValueError(f"country mapping CSV {path} has no column {col!r}")
            reader.fieldnames = header
            pairs = [(row["meta_country"], row["country_code"]) for row in reader]
        best: dict[str, str] = {}
        for label, code in pairs:
            if label is None or code is None or code == "":
                continue
            if label not in best or code < best[label]:
                best[label] = code
        V = self._v
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {V}cmap (meta_country VARCHAR, country_code VARCHAR)"
        )
        if best:
            self.con.executemany(f"INSERT INTO {V}cmap VALUES (?, ?)", sorted(best.items()))
        self._country_map_loaded = True

    def _source_date_bounds(self) -> tuple[_dt.date | None, _dt.date | None]:
        V = self._v
        return tuple(self.con.execute(f"""
            SELECT min(d), max(d) FROM (
                SELECT date AS d FROM {V}raw_apd
                UNION ALL SELECT date FROM {V}raw_apdc
                UNION ALL SELECT CAST(event_time AS DATE) FROM {V}raw_event
            )""").fetchall()[0])

    # ---------------------------------------------------------------- queries
    def _daily_sql(self, entity_type: str, by_country: bool) -> str:
        key = (entity_type, by_country)
        if key not in self._sql_cache:
            V = self._v
            apd_check = (
                f"OR EXISTS (SELECT 1 FROM {V}apd AS a, params WHERE a.ad_id = params.eid)"
                if entity_type == "ad"
                # Parents of Meta ads through the mapping are mapping ids: covered above.
                else ""
            )
            sql = _DAILY_SQL.format(
                V=V,
                parent_ctes=_PARENT_CTES.strip().format(V=V),
                user_entity=_USER_ENTITY_EXPR[entity_type],
                map_col=_MAP_COLUMN[entity_type],
                apd_entity_check=apd_check,
                entity_ads=_ENTITY_ADS_SQL[entity_type].format(V=V),
                meta_cte=(_META_COUNTRY_CTE if by_country else _META_OVERALL_CTE).strip().format(V=V),
            )
            self._sql_cache[key] = sql
        return self._sql_cache[key]

    def _clip(self, start: Any, end: Any) -> tuple[_dt.date, _dt.date]:
        d0 = max(_as_date(start, "start"), self.start_date)
        d1 = min(_as_date(end, "end"), self.as_of_date)
        return d0, d1

    @staticmethod
    def _check_level(entity_type: str) -> None:
        if entity_type not in LEVELS:
            raise ValueError(f"entity_type must be one of {LEVELS}, got {entity_type!r}")

    def daily_metrics(
        self,
        entity_type: str,
        entity_id: str,
        start: Any,
        end: Any,
        country: str | None = None,
    ) -> list[dict[str, Any] | None]:
        """One dict per day of [start, end] clipped to [start_date, as_of_date].

        Overall (``country=None``): every day has a row. For a country: the
        breakdown row of that day, or ``None`` when it does not exist (no Meta
        country data and no trial/purchase users for that country).
        """
        self._check_level(entity_type)
        if not isinstance(entity_id, str):
            raise TypeError(f"entity_id must be a str (ids are text), got {entity_id!r}")
        if country is not None:
            if not isinstance(country, str):
                raise TypeError(f"country must be a str country code, got {country!r}")
            self._load_country_mapping()
        d0, d1 = self._clip(start, end)
        if d0 > d1:
            return []
        sql = self._daily_sql(entity_type, country is not None)
        params = [d0, d1, self.as_of_date, self.trial_days, entity_id, country]
        rows = self.con.execute(sql, params).fetchall()
        if rows and not rows[0][2]:
            raise ValueError(f"{entity_type} {entity_id!r} is not in the entity set (contract §3)")

        out: list[dict[str, Any] | None] = []
        for row in rows:
            date, has_meta, _is_entity, *values = row
            rec: dict[str, Any] = {"entity_type": entity_type, "entity_id": entity_id, "date": date}
            rec.update(zip(METRIC_COLUMNS[3:], values))
            if country is not None:
                exists = has_meta or rec["mixpanel_trial_count"] > 0 or rec["mixpanel_purchase_count"] > 0
                if not exists:
                    out.append(None)
                    continue
                rec["country_code"] = country
            for k in METRIC_COLUMNS[3:]:
                v = rec[k]
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    rec[k] = int(v) if k in _INT_KEYS else float(v)
            out.append(rec)
        return out

    def range_totals(
        self,
        entity_type: str,
        entity_id: str,
        start: Any,
        end: Any,
        country: str | None = None,
    ) -> dict[str, Any]:
        """Dashboard-style totals over [start, end]: sums of the daily rows."""
        daily = self.daily_metrics(entity_type, entity_id, start, end, country)
        d0, d1 = self._clip(start, end)
        totals: dict[str, Any] = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "start": d0,
            "end": d1,
            "days": max((d1 - d0).days + 1, 0),
            "rows": sum(1 for r in daily if r is not None),
        }
        if country is not None:
            totals["country_code"] = country
        for k in _SUM_KEYS:
            zero: int | float = 0 if k in _INT_KEYS else 0.0
            totals[k] = sum((r[k] for r in daily if r is not None), zero)
        spend = totals["meta_spend"]
        totals["estimated_roas"] = totals["adjusted_estimated_revenue_usd"] / spend if spend else 0.0
        return totals

    def entities(self) -> dict[str, list[str]]:
        """The contract §3 entity set of each level, sorted."""
        V = self._v
        sql = _ENTITIES_SQL.format(
            V=V,
            parent_ctes=_PARENT_CTES.strip().format(V=V),
            ad_expr=_USER_ENTITY_EXPR["ad"],
            adset_expr=_USER_ENTITY_EXPR["adset"],
            campaign_expr=_USER_ENTITY_EXPR["campaign"],
        )
        result: dict[str, list[str]] = {level: [] for level in LEVELS}
        for entity_type, entity_id in self.con.execute(sql).fetchall():
            result[entity_type].append(entity_id)
        return result


_INT_KEYS = frozenset({
    "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
})
