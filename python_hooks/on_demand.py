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
    # many (entity_id, start, end, country) requests of one level, one query per kind:
    od.daily_metrics_many("ad", [("A1", "2024-06-01", "2024-06-01", None),
                                 ("A2", "2024-06-03", "2024-06-03", "US")])

Every query is one SQL statement built from CTEs, parameterised with ``$n``. It
answers a batch of requests of one level (``daily_metrics`` is a batch of one);
every relation carries the request, so a batch gives exactly what one query per
request would. It prunes early: only the trial starts and purchases of the
requested days and of the entity's users are read, then only those users'
conversions and cancellations; everything is deduplicated after that pruning (the
pruning filters only on parts of the dedup key), and only the entity's ads are
read from the Meta tables.

By default the cleaned sources are views over the Parquet files, so every query
reads the files (the "current dashboard" baseline). ``materialize=True`` loads
the cleaned rows once into temp tables of the connection (only the event names
that a metric reads); many queries then run much faster. The results are the same.

Readings of the contract
------------------------
Where the contract is silent this module takes the most literal reading:

* Default window: ``start_date`` / ``as_of_date`` are the min / max over ALL rows
  of the raw sources (``ad_performance_daily.date``,
  ``ad_performance_daily_country.date``, ``CAST(mixpanel_event.event_time AS
  DATE)``), rejected rows included ("the earliest date in the sources"); a NULL
  ``event_time`` has no date and is skipped by min / max.
* ``event_time`` is a UTC ``TIMESTAMP``; a ``TIMESTAMP WITH TIME ZONE`` column is
  taken as its UTC wall-clock time (``timezone('UTC', event_time)``), whatever
  the connection's ``TimeZone`` setting. "Events after the end of as_of_date"
  are those with ``event_time >= as_of_date + 1 day``; they are ignored
  everywhere (trials, conversions, purchases, refunds).
* Rejects (contract §2) are applied to single rows before any deduplication, so
  a rejected copy never hides a good one:

  - events: ``distinct_id`` NULL, ``''`` or containing ``,``; ``event_uuid`` or
    ``event_name`` NULL or ``''``; ``event_time`` NULL; ``revenue_usd`` NaN or
    ±Infinity (a NULL ``revenue_usd`` is kept). "Empty" is exactly ``''``: a
    blank id such as ``' '`` is kept, as is any id with surrounding spaces;
  - users: ``distinct_id`` NULL, ``''`` or containing ``,``;
  - Meta rows (both tables, the whole row): any of ``spend``, ``impressions``,
    ``clicks``, ``meta_trials``, ``meta_purchases`` negative, NaN or ±Infinity
    (tested on the value as DOUBLE). A NULL measure is kept and sums as 0;
  - ``user_product_metrics``: any of the three rates outside [0, 1], NaN or
    ±Infinity, or ``current_value`` negative, NaN or ±Infinity. A NULL rate or
    ``current_value`` is kept (the row exists; the NULL is skipped by the mean,
    the pair count and the sum).
* Event dedup: rows sharing (event_uuid, event_name, distinct_id, event_time) are
  one event (after the rejects above, so none of the four is NULL). If such rows
  differ in ``product_id`` / ``revenue_usd`` the kept row is the one with the
  smallest ``product_id`` then smallest ``revenue_usd`` (NULLs last).
* Meta dedup: exact duplicates over the contract columns (extra columns are
  ignored) are one row. Two *different* rows for the same key (a gate failure in
  dbt) are both summed here.
* Empty-string ids: an empty ``abi_*`` id, an empty id in ``id_hierarchy_mapping``
  and an empty ``ad_id`` in the Meta tables are treated as NULL (no entity).
* A user's ``country`` is trimmed (SQL ``trim``: spaces only, not tabs) and
  upper-cased: ``' us'`` is ``US``. NULL, ``''`` or blank (empty after trimming)
  is ``ZZ``. It is not mapped through the CSV and not checked against ISO-3166.
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
* ``user_product_metrics``: exact duplicate (kept) rows are one. A pair "has a
  metrics row" when a kept row with the same (distinct_id, product_id) exists; a
  NULL rate or ``current_value`` in that row is skipped by the mean / sum (SQL
  ``AVG``/``SUM``).
* ``*_estimate_pair_count`` is the number of non-NULL rate values that entered
  the matching mean (SQL ``count(rate)`` beside ``avg(rate)``), so that
  ``rate * count`` is always the exact sum behind the mean. With one metrics row
  per pair this is the number of pairs; two *different* kept rows for one pair
  (the contract names no key for the table) both enter the mean and both count.
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
  clipped range returns ``[]``.
* ``range_totals`` (contract §8) works from the unrounded daily rows of the
  clipped range (a non-existent breakdown row contributes nothing; a range with
  no row is all zeros). Summed: counts (a user with trials on two days counts
  twice), Meta measures, pair counts and the money columns except the costs
  (``net_actual_revenue_usd`` and ``estimated_revenue_usd`` included).
  Recomputed from the sums: the three actual rates (summed list lengths,
  returned as ``post_trial_user_count``, ``converted_user_count``,
  ``trial_refund_user_count``, ``purchase_refund_user_count``), the estimated
  rates (daily values weighted by their pair counts), both accuracy ratios (§5
  special cases on the sums), ``profit_usd`` = Σadjusted − Σspend,
  ``estimated_roas`` = Σadjusted ÷ Σspend, the four costs and
  ``click_to_trial_rate``. ``adjusted_estimated_revenue_usd`` is the sum of the
  daily values (not re-derived from the summed ratio).
* Values are not rounded (money and rates are Python floats).
"""

from __future__ import annotations

import csv
import datetime as _dt
import itertools
import os
from collections.abc import Iterable
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
    "trial_conversion_estimate_pair_count", "trial_refund_estimate_pair_count",
    "purchase_refund_estimate_pair_count",
    "actual_revenue_usd", "actual_refunds_usd", "net_actual_revenue_usd",
    "estimated_revenue_usd", "adjusted_estimated_revenue_usd",
    "profit_usd", "estimated_roas", "trial_accuracy_ratio", "purchase_accuracy_ratio",
    "mixpanel_cost_per_trial", "mixpanel_cost_per_purchase",
    "meta_cost_per_trial", "meta_cost_per_purchase", "click_to_trial_rate",
)

# Contract §8: the columns a range total sums (counts, Meta measures, money other
# than the costs). Everything else of a range total is a ratio of these sums.
_SUM_KEYS = (
    "meta_spend", "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
    "trial_conversion_estimate_pair_count", "trial_refund_estimate_pair_count",
    "purchase_refund_estimate_pair_count",
    "actual_revenue_usd", "actual_refunds_usd", "net_actual_revenue_usd",
    "estimated_revenue_usd", "adjusted_estimated_revenue_usd",
)
# Range totals of list lengths (§8 "list lengths"), by the list they count.
_LIST_COUNT_KEYS = {
    "post_trial_user_count": "post_trial_user_ids",
    "converted_user_count": "converted_user_ids",
    "trial_refund_user_count": "trial_refund_user_ids",
    "purchase_refund_user_count": "purchase_refund_user_ids",
}
# Estimated rate -> the pair count that weights it in a range total (§5, §8).
_ESTIMATE_WEIGHTS = {
    "trial_conversion_rate_estimated": "trial_conversion_estimate_pair_count",
    "trial_refund_rate_estimated": "trial_refund_estimate_pair_count",
    "purchase_refund_rate_estimated": "purchase_refund_estimate_pair_count",
}

_INSTANCE_COUNTER = itertools.count(1)

_MEASURES = ("spend", "impressions", "clicks", "meta_trials", "meta_purchases")
_RATES = ("trial_conversion_rate", "trial_converted_to_refund_rate", "initial_purchase_to_refund_rate")


def _bad_measure(column: str) -> str:
    """SQL test: the (DOUBLE) value is negative or non-finite; NULL is not bad."""
    return f"coalesce({column} < 0 OR NOT isfinite({column}), FALSE)"

# --------------------------------------------------------------------------- #
# SQL fragments chosen per level (fixed strings, never user input).
#
# One query answers a batch of *requests* of one level, all overall or all for a
# country: (req, eid, cc, d0, d1). Every relation below carries `req`, and every
# join and aggregate is per request, so a batch of N requests gives exactly what
# N single queries would (``daily_metrics`` is a batch of one).
# --------------------------------------------------------------------------- #

# Column of {V}user_entity holding the user's entity at a level.
_USER_ENTITY_COLUMN = {"ad": "ad_id", "adset": "adset_id", "campaign": "campaign_id"}

# The ads whose Meta rows roll up to the entity (contract §3 "Meta measures").
_ENTITY_ADS_SQL = {
    "ad": "SELECT rq.req, rq.eid AS ad_id FROM requests AS rq",
    "adset": (
        "SELECT DISTINCT rq.req, m.ad_id FROM requests AS rq "
        "JOIN {V}map AS m ON m.adset_id = rq.eid WHERE m.ad_id IS NOT NULL"
    ),
    "campaign": (
        "SELECT DISTINCT rq.req, m.ad_id FROM requests AS rq "
        "JOIN {V}map AS m ON m.campaign_id = rq.eid WHERE m.ad_id IS NOT NULL"
    ),
}

_MAP_COLUMN = {"campaign": "campaign_id", "adset": "adset_id", "ad": "ad_id"}

# Every attributed user with its entity at each level (contract §3 fill rule) and
# its country code. `u` = user, `ap` = the user's abi_ad_id in the mapping, `sp` =
# the user's adset in the mapping; parents only when unambiguous (see "Readings").
# Not deduplicated: every use is a semi join, a DISTINCT or a UNION.
_USER_ENTITY_SQL = """
WITH
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
)
SELECT
    u.distinct_id,
    u.country_code,
    u.abi_ad_id AS ad_id,
    coalesce(u.abi_ad_set_id, ap.adset_id) AS adset_id,
    coalesce(u.abi_campaign_id, ap.campaign_id, sp.campaign_id) AS campaign_id
FROM {V}user AS u
LEFT JOIN ad_parent AS ap ON ap.ad_id = u.abi_ad_id
LEFT JOIN adset_parent AS sp ON sp.adset_id = coalesce(u.abi_ad_set_id, ap.adset_id)
WHERE u.has_abi_attribution IS TRUE
"""

# Meta measures per request and day: overall from ad_performance_daily ...
_META_OVERALL_CTE = """
meta AS (
    SELECT
        a.req,
        a.date,
        sum(a.spend) AS spend,
        sum(a.impressions) AS impressions,
        sum(a.clicks) AS clicks,
        sum(a.meta_trials) AS meta_trials,
        sum(a.meta_purchases) AS meta_purchases
    FROM (
        SELECT DISTINCT ea.req, r.*               -- exact duplicate Meta rows are one
        FROM {V}apd AS r
        JOIN entity_ads AS ea ON ea.ad_id = r.ad_id
        JOIN requests AS rq ON rq.req = ea.req
        WHERE r.date BETWEEN rq.d0 AND rq.d1
    ) AS a
    GROUP BY a.req, a.date
)"""

# ... and for the request's country from ad_performance_daily_country, label -> code.
_META_COUNTRY_CTE = """
meta AS (
    SELECT
        a.req,
        a.date,
        sum(a.spend) AS spend,
        sum(a.impressions) AS impressions,
        sum(a.clicks) AS clicks,
        sum(a.meta_trials) AS meta_trials,
        sum(a.meta_purchases) AS meta_purchases
    FROM (
        SELECT DISTINCT ea.req, r.*               -- exact duplicate Meta rows are one
        FROM {V}apdc AS r
        JOIN entity_ads AS ea ON ea.ad_id = r.ad_id
        JOIN requests AS rq ON rq.req = ea.req
        WHERE r.date BETWEEN rq.d0 AND rq.d1
    ) AS a
    JOIN requests AS rq ON rq.req = a.req
    LEFT JOIN {V}cmap AS c ON c.meta_country = a.country
    WHERE coalesce(c.country_code, 'ZZ') = rq.cc
    GROUP BY a.req, a.date
)"""

# The events a row can use, pruned before the dedup: every filter is on a part of
# the dedup key (event_name, distinct_id, event_time), so a duplicate group is kept
# or dropped whole. `cohort_events` are the trial starts and purchases in [d0, d1]
# of the request's users (users whose entity at the level is the request's, and,
# for a country request, whose country is the request's); `follow_up_events` the
# conversions and cancellations, from d0 (a pair starts on or after d0) to the end
# of as_of, of the users who have a cohort event. $4 / $5 (the batch's first d0
# and last d1) repeat the per-request bounds as constants that can prune a scan.
# In a batch, the request's users are tested per event (EXISTS on user_entity),
# not listed: a campaign can hold a large share of all users, times many requests.
_REQUEST_USER_TEST = """EXISTS (
        SELECT 1 FROM {V}user_entity AS ue
        WHERE ue.distinct_id = {e}.distinct_id
          AND ue.{user_entity_col} = rq.eid
          AND (rq.cc IS NULL OR ue.country_code = rq.cc))"""
# Two forms with the same result:
# * on views over Parquet (the per-request dashboard path, one request at a time):
#   the request's users listed once, then one scan of the event file;
_EVENT_CTES_ONE_SCAN = """
entity_users_all AS MATERIALIZED (      -- the entity's users, any country
    SELECT DISTINCT rq.req, ue.distinct_id, ue.country_code
    FROM requests AS rq
    JOIN {V}user_entity AS ue ON ue.{user_entity_col} = rq.eid
),
entity_user_reqs AS (                   -- the requests whose entity has users
    SELECT DISTINCT req FROM entity_users_all
),
request_users AS MATERIALIZED (
    SELECT DISTINCT eu.req, eu.distinct_id
    FROM entity_users_all AS eu
    JOIN requests AS rq ON rq.req = eu.req
    WHERE rq.cc IS NULL OR eu.country_code = rq.cc
),
entity_events AS MATERIALIZED (
    SELECT e.event_uuid, e.distinct_id, e.event_name, e.event_time, e.product_id, e.revenue_usd
    FROM {V}event AS e
    CROSS JOIN settings AS st
    WHERE e.event_time >= CAST(CAST($4 AS DATE) AS TIMESTAMP)
      AND e.event_time < st.as_of_end
      AND (e.event_name IN ('RC Trial started', 'RC Trial converted', 'RC Initial purchase')
           OR contains(lower(e.event_name), 'cancel'))
      AND e.distinct_id IN (SELECT distinct_id FROM request_users)
),
cohort_events AS (
    SELECT ru.req, ee.*
    FROM entity_events AS ee
    JOIN request_users AS ru ON ru.distinct_id = ee.distinct_id
    JOIN requests AS rq ON rq.req = ru.req
    WHERE ee.event_name IN ('RC Trial started', 'RC Initial purchase')
      AND ee.event_time < CAST(CAST($5 AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
      AND ee.event_time >= CAST(rq.d0 AS TIMESTAMP)
      AND ee.event_time < CAST(rq.d1 AS TIMESTAMP) + INTERVAL 1 DAY
),
cohort_users AS MATERIALIZED (
    SELECT DISTINCT req, distinct_id FROM cohort_events
),
follow_up_events AS (
    SELECT cu.req, ee.*
    FROM entity_events AS ee
    JOIN cohort_users AS cu ON cu.distinct_id = ee.distinct_id
    JOIN requests AS rq ON rq.req = cu.req
    WHERE (ee.event_name = 'RC Trial converted' OR contains(lower(ee.event_name), 'cancel'))
      AND ee.event_time >= CAST(rq.d0 AS TIMESTAMP)
),"""
# * on the materialized tables (events sorted by event_time; validate's batches of
#   many requests): a range scan for the cohort, the request's users tested per
#   event, then a scan restricted to the cohort's users, which are few.
_EVENT_CTES_TWO_SCANS = """
entity_user_reqs AS (                   -- the requests whose entity has users
    SELECT rq.req
    FROM requests AS rq
    WHERE rq.eid IN (SELECT ue.{user_entity_col} FROM {V}user_entity AS ue)
),
cohort_events AS (
    SELECT rq.req, e.event_uuid, e.distinct_id, e.event_name, e.event_time, e.product_id,
           e.revenue_usd
    FROM {V}event AS e
    JOIN requests AS rq
      ON e.event_time >= CAST(rq.d0 AS TIMESTAMP)
     AND e.event_time < CAST(rq.d1 AS TIMESTAMP) + INTERVAL 1 DAY
    WHERE e.event_name IN ('RC Trial started', 'RC Initial purchase')
      AND e.event_time >= CAST(CAST($4 AS DATE) AS TIMESTAMP)
      AND e.event_time < CAST(CAST($5 AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
      AND {request_user_test_e}
),
cohort_users AS MATERIALIZED (
    SELECT DISTINCT req, distinct_id FROM cohort_events
),
follow_up_events AS (
    SELECT cu.req, e.event_uuid, e.distinct_id, e.event_name, e.event_time, e.product_id,
           e.revenue_usd
    FROM {V}event AS e
    JOIN cohort_users AS cu ON cu.distinct_id = e.distinct_id
    JOIN requests AS rq ON rq.req = cu.req
    CROSS JOIN settings AS st
    WHERE (e.event_name = 'RC Trial converted' OR contains(lower(e.event_name), 'cancel'))
      AND e.event_time >= CAST(CAST($4 AS DATE) AS TIMESTAMP)
      AND e.event_time >= CAST(rq.d0 AS TIMESTAMP)
      AND e.event_time < st.as_of_end
),"""

# Parameters: $1 the requests (a list of STRUCT(req, eid, cc, d0, d1); cc NULL =
# overall), $2 as_of_date, $3 trial_days, $4 / $5 the smallest d0 / largest d1.
_DAILY_SQL = """
WITH
settings AS (
    SELECT
        CAST(CAST($2 AS DATE) - CAST($3 AS INTEGER) AS DATE) AS post_cutoff,  -- last post-trial day
        CAST(CAST($2 AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY AS as_of_end      -- events from here on are ignored
),
requests AS (
    SELECT
        CAST(r.req AS INTEGER) AS req,
        CAST(r.eid AS VARCHAR) AS eid,
        CAST(r.cc AS VARCHAR) AS cc,
        CAST(r.d0 AS DATE) AS d0,
        CAST(r.d1 AS DATE) AS d1
    FROM (SELECT unnest($1) AS r)
),
spine AS (
    SELECT req, CAST(unnest(generate_series(
        CAST(d0 AS TIMESTAMP), CAST(d1 AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS date
    FROM requests
),
{event_ctes}
is_entity AS (
    SELECT
        rq.req,
        (rq.eid IN (SELECT m.{map_col} FROM {V}map AS m)
         OR rq.req IN (SELECT req FROM entity_user_reqs)
         {apd_entity_check}) AS ok
    FROM requests AS rq
),
entity_ads AS (
    {entity_ads}
),
{meta_cte},
ev AS MATERIALIZED (
    SELECT *
    FROM (SELECT * FROM cohort_events UNION ALL SELECT * FROM follow_up_events)
    QUALIFY row_number() OVER (
        PARTITION BY req, event_uuid, event_name, distinct_id, event_time
        ORDER BY product_id NULLS LAST, revenue_usd NULLS LAST) = 1
),
refund_events AS (
    SELECT *
    FROM ev
    WHERE contains(lower(event_name), 'cancel') AND revenue_usd < 0
),
-- Trial pairs (user, product, day D) with their start time.
trial_pairs AS (
    SELECT e.req, e.distinct_id, e.product_id, CAST(e.event_time AS DATE) AS date,
           min(e.event_time) AS start_time
    FROM ev AS e
    JOIN requests AS rq ON rq.req = e.req
    WHERE e.event_name = 'RC Trial started'
      AND CAST(e.event_time AS DATE) BETWEEN rq.d0 AND rq.d1
    GROUP BY e.req, e.distinct_id, e.product_id, CAST(e.event_time AS DATE)
),
-- Converted pairs: post-trial pairs with a conversion of the same product at or after start.
converted_pairs AS (
    SELECT t.req, t.distinct_id, t.product_id, t.date,
           min(c.event_time) AS first_conversion_time,
           sum(c.revenue_usd) AS conversion_revenue
    FROM trial_pairs AS t
    CROSS JOIN settings AS st
    JOIN ev AS c
      ON c.req = t.req
     AND c.event_name = 'RC Trial converted'
     AND c.distinct_id = t.distinct_id
     AND c.product_id = t.product_id
     AND c.event_time >= t.start_time
    WHERE t.date <= st.post_cutoff
    GROUP BY t.req, t.distinct_id, t.product_id, t.date
),
trial_refunds AS (
    SELECT cp.req, cp.date, cp.distinct_id, r.event_uuid, r.event_name, r.event_time, r.revenue_usd
    FROM converted_pairs AS cp
    JOIN refund_events AS r
      ON r.req = cp.req
     AND r.distinct_id = cp.distinct_id
     AND r.product_id = cp.product_id
     AND r.event_time >= cp.first_conversion_time
),
-- Purchase pairs (user, product, day D) with their purchase time.
purchase_pairs AS (
    SELECT e.req, e.distinct_id, e.product_id, CAST(e.event_time AS DATE) AS date,
           min(e.event_time) AS purchase_time,
           sum(e.revenue_usd) AS purchase_revenue
    FROM ev AS e
    JOIN requests AS rq ON rq.req = e.req
    WHERE e.event_name = 'RC Initial purchase'
      AND CAST(e.event_time AS DATE) BETWEEN rq.d0 AND rq.d1
    GROUP BY e.req, e.distinct_id, e.product_id, CAST(e.event_time AS DATE)
),
purchase_refunds AS (
    SELECT pp.req, pp.date, pp.distinct_id, r.event_uuid, r.event_name, r.event_time, r.revenue_usd
    FROM purchase_pairs AS pp
    JOIN refund_events AS r
      ON r.req = pp.req
     AND r.distinct_id = pp.distinct_id
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
-- Per-request, per-day aggregates.
trial_agg AS (
    SELECT t.req, t.date,
           count(DISTINCT t.distinct_id) AS n_trial,
           string_agg(DISTINCT t.distinct_id, ',' ORDER BY t.distinct_id) AS trial_user_ids,
           avg(m.trial_conversion_rate) AS trial_conversion_rate_estimated,
           count(m.trial_conversion_rate) AS trial_conversion_estimate_pair_count
    FROM trial_pairs AS t
    LEFT JOIN upm AS m ON m.distinct_id = t.distinct_id AND m.product_id = t.product_id
    GROUP BY t.req, t.date
),
converted_agg AS (
    SELECT cp.req, cp.date,
           count(DISTINCT cp.distinct_id) AS n_converted,
           string_agg(DISTINCT cp.distinct_id, ',' ORDER BY cp.distinct_id) AS converted_user_ids,
           avg(m.trial_converted_to_refund_rate) AS trial_refund_rate_estimated,
           count(m.trial_converted_to_refund_rate) AS trial_refund_estimate_pair_count,
           sum(cp.conversion_revenue) AS conversion_revenue
    FROM converted_pairs AS cp
    LEFT JOIN upm AS m ON m.distinct_id = cp.distinct_id AND m.product_id = cp.product_id
    GROUP BY cp.req, cp.date
),
trial_refund_agg AS (
    SELECT req, date,
           count(DISTINCT distinct_id) AS n_trial_refund,
           string_agg(DISTINCT distinct_id, ',' ORDER BY distinct_id) AS trial_refund_user_ids
    FROM trial_refunds
    GROUP BY req, date
),
purchase_agg AS (
    SELECT pp.req, pp.date,
           count(DISTINCT pp.distinct_id) AS n_purchase,
           string_agg(DISTINCT pp.distinct_id, ',' ORDER BY pp.distinct_id) AS purchase_user_ids,
           avg(m.initial_purchase_to_refund_rate) AS purchase_refund_rate_estimated,
           count(m.initial_purchase_to_refund_rate) AS purchase_refund_estimate_pair_count,
           sum(pp.purchase_revenue) AS purchase_revenue
    FROM purchase_pairs AS pp
    LEFT JOIN upm AS m ON m.distinct_id = pp.distinct_id AND m.product_id = pp.product_id
    GROUP BY pp.req, pp.date
),
purchase_refund_agg AS (
    SELECT req, date,
           count(DISTINCT distinct_id) AS n_purchase_refund,
           string_agg(DISTINCT distinct_id, ',' ORDER BY distinct_id) AS purchase_refund_user_ids
    FROM purchase_refunds
    GROUP BY req, date
),
refund_money AS (   -- each refund event once per day-row
    SELECT req, date, sum(abs(revenue_usd)) AS refunds
    FROM (
        SELECT DISTINCT req, date, distinct_id, event_uuid, event_name, event_time, revenue_usd
        FROM (SELECT * FROM trial_refunds UNION ALL SELECT * FROM purchase_refunds)
    )
    GROUP BY req, date
),
estimated_revenue AS (  -- distinct (user, product) of trial ∪ purchase pairs with a metrics row
    SELECT pr.req, pr.date, sum(m.current_value) AS estimated_revenue
    FROM (
        SELECT req, date, distinct_id, product_id FROM trial_pairs
        UNION
        SELECT req, date, distinct_id, product_id FROM purchase_pairs
    ) AS pr
    JOIN upm AS m ON m.distinct_id = pr.distinct_id AND m.product_id = pr.product_id
    GROUP BY pr.req, pr.date
),
base AS (
    SELECT
        s.req,
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
        CASE WHEN s.date <= st.post_cutoff THEN ta.trial_user_ids END AS post_trial_user_ids,
        ca.converted_user_ids,
        tra.trial_refund_user_ids,
        pa.purchase_user_ids,
        pra.purchase_refund_user_ids,
        CASE WHEN s.date <= st.post_cutoff THEN coalesce(ta.n_trial, 0) ELSE 0 END AS n_post,
        coalesce(ca.n_converted, 0) AS n_converted,
        coalesce(tra.n_trial_refund, 0) AS n_trial_refund,
        coalesce(pra.n_purchase_refund, 0) AS n_purchase_refund,
        coalesce(ta.trial_conversion_rate_estimated, 0.0) AS trial_conversion_rate_estimated,
        coalesce(ca.trial_refund_rate_estimated, 0.0) AS trial_refund_rate_estimated,
        coalesce(pa.purchase_refund_rate_estimated, 0.0) AS purchase_refund_rate_estimated,
        coalesce(ta.trial_conversion_estimate_pair_count, 0) AS trial_conversion_estimate_pair_count,
        coalesce(ca.trial_refund_estimate_pair_count, 0) AS trial_refund_estimate_pair_count,
        coalesce(pa.purchase_refund_estimate_pair_count, 0) AS purchase_refund_estimate_pair_count,
        coalesce(ca.conversion_revenue, 0.0) + coalesce(pa.purchase_revenue, 0.0) AS actual_revenue_usd,
        coalesce(rm.refunds, 0.0) AS actual_refunds_usd,
        coalesce(er.estimated_revenue, 0.0) AS estimated_revenue_usd
    FROM spine AS s
    CROSS JOIN settings AS st
    LEFT JOIN meta AS mt ON mt.req = s.req AND mt.date = s.date
    LEFT JOIN trial_agg AS ta ON ta.req = s.req AND ta.date = s.date
    LEFT JOIN converted_agg AS ca ON ca.req = s.req AND ca.date = s.date
    LEFT JOIN trial_refund_agg AS tra ON tra.req = s.req AND tra.date = s.date
    LEFT JOIN purchase_agg AS pa ON pa.req = s.req AND pa.date = s.date
    LEFT JOIN purchase_refund_agg AS pra ON pra.req = s.req AND pra.date = s.date
    LEFT JOIN refund_money AS rm ON rm.req = s.req AND rm.date = s.date
    LEFT JOIN estimated_revenue AS er ON er.req = s.req AND er.date = s.date
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
    f.req,
    f.date,
    f.has_meta,
    ie.ok AS is_entity,
    f.meta_spend, f.meta_impressions, f.meta_clicks, f.meta_trial_count, f.meta_purchase_count,
    f.mixpanel_trial_count, f.mixpanel_purchase_count,
    f.trial_user_ids, f.post_trial_user_ids, f.converted_user_ids, f.trial_refund_user_ids,
    f.purchase_user_ids, f.purchase_refund_user_ids,
    f.trial_conversion_rate_estimated, f.trial_conversion_rate_actual,
    f.trial_refund_rate_estimated, f.trial_refund_rate_actual,
    f.purchase_refund_rate_estimated, f.purchase_refund_rate_actual,
    f.trial_conversion_estimate_pair_count, f.trial_refund_estimate_pair_count,
    f.purchase_refund_estimate_pair_count,
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
JOIN is_entity AS ie ON ie.req = f.req
ORDER BY f.req, f.date
"""

_ENTITIES_SQL = """
WITH
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
    UNION SELECT 'ad', ad_id FROM {V}user_entity
    UNION SELECT 'adset', adset_id FROM {V}user_entity
    UNION SELECT 'campaign', campaign_id FROM {V}user_entity
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
        materialize: bool = False,
    ) -> None:
        self.raw_dir = Path(raw_dir)
        self.materialize = bool(materialize)
        if isinstance(trial_days, bool) or not isinstance(trial_days, int) or trial_days < 0:
            raise ValueError(f"trial_days must be a non-negative int, got {trial_days!r}")
        self.trial_days = trial_days
        self.country_mapping_csv = Path(country_mapping_csv)
        self._own_con = con is None
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

    def close(self) -> None:
        """Free what this instance created: its own connection, or (on a shared
        connection) its temp views and tables."""
        if self._own_con:
            self.con.close()
            return
        for kind, table in (("VIEW", "duckdb_views()"), ("TABLE", "duckdb_tables()")):
            names = [r[0] for r in self.con.execute(
                f"SELECT {kind.lower()}_name FROM {table} WHERE temporary AND starts_with({kind.lower()}_name, ?)",
                [self._v]).fetchall()]
            for name in names:
                self.con.execute(f"DROP {kind} IF EXISTS {name}")

    def __enter__(self) -> "OnDemandMetrics":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

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
        """Typed views of the six sources, then the cleaned relations the queries read.

        ``raw_*`` views hold every row (the default window is taken from them). The
        cleaned relations apply the contract §2 rejects; they are views over the
        Parquet files, or temp tables loaded once when ``materialize`` is set.
        """
        V = self._v
        src = {}
        for table in SOURCE_COLUMNS:
            cols = self._columns(table)
            src[table] = (f"read_parquet({_sql_str(str(self._parquet(table)))})", cols)

        def clean(name: str, select_sql: str) -> None:
            kind = "TABLE" if self.materialize else "VIEW"
            self.con.execute(f"DROP VIEW IF EXISTS {V}{name}")
            self.con.execute(f"DROP TABLE IF EXISTS {V}{name}")
            self.con.execute(f"CREATE TEMP {kind} {V}{name} AS {select_sql}")

        def meta(name: str, table: str, with_country: bool) -> None:
            rel, _ = src[table]
            country = "CAST(country AS VARCHAR) AS country," if with_country else ""
            # Measures stay DOUBLE here so that the reject test sees NaN / ±Inf
            # whatever the file's numeric type; kept rows are cast to BIGINT below.
            self.con.execute(f"""
                CREATE OR REPLACE TEMP VIEW {V}raw_{name} AS
                SELECT
                    CAST(date AS DATE) AS date,
                    CAST(ad_id AS VARCHAR) AS ad_id,
                    {country}
                    CAST(spend AS DOUBLE) AS spend,
                    CAST(impressions AS DOUBLE) AS impressions,
                    CAST(clicks AS DOUBLE) AS clicks,
                    CAST(meta_trials AS DOUBLE) AS meta_trials,
                    CAST(meta_purchases AS DOUBLE) AS meta_purchases
                FROM {rel}""")
            # Rejected (§2): any negative or non-finite measure (whole row); a NULL
            # measure is kept (it sums as nothing, i.e. 0). Exact duplicates are
            # collapsed in the queries, after pruning to the entity's ads.
            bad = " OR ".join(_bad_measure(m) for m in _MEASURES)
            clean(name, f"""
                SELECT
                    date, NULLIF(ad_id, '') AS ad_id, {'country,' if with_country else ''}
                    spend,
                    CAST(impressions AS BIGINT) AS impressions,
                    CAST(clicks AS BIGINT) AS clicks,
                    CAST(meta_trials AS BIGINT) AS meta_trials,
                    CAST(meta_purchases AS BIGINT) AS meta_purchases
                FROM {V}raw_{name}
                WHERE NOT ({bad})""")

        meta("apd", "ad_performance_daily", False)
        meta("apdc", "ad_performance_daily_country", True)

        rel, _ = src["id_hierarchy_mapping"]
        clean("map", f"""
            SELECT DISTINCT
                NULLIF(CAST(ad_id AS VARCHAR), '') AS ad_id,
                NULLIF(CAST(adset_id AS VARCHAR), '') AS adset_id,
                NULLIF(CAST(campaign_id AS VARCHAR), '') AS campaign_id
            FROM {rel}""")

        valid_id = "distinct_id IS NOT NULL AND distinct_id <> '' AND NOT contains(distinct_id, ',')"
        rel, _ = src["mixpanel_user"]
        # country: trimmed and upper-cased; NULL or empty (after trimming) is ZZ.
        clean("user", f"""
            SELECT * FROM (
                SELECT
                    CAST(distinct_id AS VARCHAR) AS distinct_id,
                    NULLIF(CAST(abi_campaign_id AS VARCHAR), '') AS abi_campaign_id,
                    NULLIF(CAST(abi_ad_set_id AS VARCHAR), '') AS abi_ad_set_id,
                    NULLIF(CAST(abi_ad_id AS VARCHAR), '') AS abi_ad_id,
                    CAST(has_abi_attribution AS BOOLEAN) AS has_abi_attribution,
                    coalesce(NULLIF(upper(trim(CAST(country AS VARCHAR))), ''), 'ZZ') AS country_code
                FROM {rel}
            )
            WHERE {valid_id}""")

        clean("user_entity", _USER_ENTITY_SQL.format(V=V))

        rel, cols = src["mixpanel_event"]
        if cols["event_time"].upper() in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
            # The UTC wall-clock time of the instant, whatever the session TimeZone.
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
        # Rejected (§2): bad distinct_id, NULL / empty event_uuid or event_name, NULL
        # event_time, non-finite revenue (NULL revenue is kept). Only the event names
        # that any metric reads are kept: the queries filter on them anyway.
        clean("event", f"""
            SELECT * FROM {V}raw_event
            WHERE {valid_id}
              AND event_uuid IS NOT NULL AND event_uuid <> ''
              AND event_name IS NOT NULL AND event_name <> ''
              AND event_time IS NOT NULL
              AND (revenue_usd IS NULL OR isfinite(revenue_usd))
              AND (event_name IN ('RC Trial started', 'RC Trial converted', 'RC Initial purchase')
                   OR contains(lower(event_name), 'cancel'))
            {'ORDER BY event_time' if self.materialize else ''}""")

        rel, _ = src["user_product_metrics"]
        # Rejected (§2): a rate outside [0, 1] or non-finite, a current_value that is
        # negative or non-finite. NULL values are kept (skipped by AVG / SUM / count).
        bad_rate = " OR ".join(
            f"coalesce(NOT ({r} BETWEEN 0 AND 1) OR NOT isfinite({r}), FALSE)" for r in _RATES)
        clean("upm", f"""
            SELECT * FROM (
                SELECT
                    CAST(distinct_id AS VARCHAR) AS distinct_id,
                    CAST(product_id AS VARCHAR) AS product_id,
                    CAST(trial_conversion_rate AS DOUBLE) AS trial_conversion_rate,
                    CAST(trial_converted_to_refund_rate AS DOUBLE) AS trial_converted_to_refund_rate,
                    CAST(initial_purchase_to_refund_rate AS DOUBLE) AS initial_purchase_to_refund_rate,
                    CAST(current_value AS DOUBLE) AS current_value
                FROM {rel}
            )
            WHERE NOT ({bad_rate} OR {_bad_measure('current_value')})""")

    def _load_country_mapping(self) -> None:
        """Load the seed CSV as text (no NULL conversion: Namibia is 'NA'), then the
        run's optional ``breakdown_mapping_country.parquet`` over it."""
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
        # The run's own mapping file, when present, wins label by label (D47).
        run_mapping = self.raw_dir / "breakdown_mapping_country.parquet"
        if run_mapping.is_file():
            best.update(self.con.execute(
                "SELECT CAST(meta_country AS VARCHAR), min(CAST(country_code AS VARCHAR)) "
                f"FROM read_parquet({_sql_str(str(run_mapping))}) "
                "WHERE meta_country IS NOT NULL AND country_code IS NOT NULL GROUP BY 1").fetchall())
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
                f"OR rq.eid IN (SELECT a.ad_id FROM {V}apd AS a)"
                if entity_type == "ad"
                # Parents of Meta ads through the mapping are mapping ids: covered above.
                else ""
            )
            col = _USER_ENTITY_COLUMN[entity_type]
            event_ctes = (_EVENT_CTES_TWO_SCANS if self.materialize else _EVENT_CTES_ONE_SCAN).strip()
            sql = _DAILY_SQL.format(
                V=V,
                user_entity_col=col,
                event_ctes=event_ctes.format(
                    V=V, user_entity_col=col,
                    request_user_test_e=_REQUEST_USER_TEST.format(V=V, e="e", user_entity_col=col)),
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
        [result] = self.daily_metrics_many(entity_type, [(entity_id, start, end, country)])
        return result

    def daily_metrics_many(
        self,
        entity_type: str,
        requests: Iterable[tuple[str, Any, Any, str | None]],
        *,
        errors: str = "raise",
    ) -> list[Any]:
        """``daily_metrics`` for many ``(entity_id, start, end, country)`` requests of
        one level, in at most two queries (overall / by country). Same results as one
        ``daily_metrics`` call per request, in the order of ``requests``.

        ``errors="raise"`` raises the first error (an id outside the entity set);
        ``errors="return"`` puts the exception in that request's place instead.
        """
        self._check_level(entity_type)
        if errors not in ("raise", "return"):
            raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")
        requests = list(requests)
        results: list[Any] = [None] * len(requests)
        batches: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for i, (entity_id, start, end, country) in enumerate(requests):
            if not isinstance(entity_id, str):
                raise TypeError(f"entity_id must be a str (ids are text), got {entity_id!r}")
            if country is not None and not isinstance(country, str):
                raise TypeError(f"country must be a str country code, got {country!r}")
            d0, d1 = self._clip(start, end)
            if d0 > d1:
                results[i] = []
                continue
            batches[country is not None].append(
                {"req": i, "eid": entity_id, "cc": country, "d0": d0, "d1": d1})

        for by_country, batch in batches.items():
            if not batch:
                continue
            if by_country:
                self._load_country_mapping()
            params = [batch, self.as_of_date, self.trial_days,
                      min(r["d0"] for r in batch), max(r["d1"] for r in batch)]
            rows_by_req: dict[int, list[tuple]] = {r["req"]: [] for r in batch}
            for row in self.con.execute(self._daily_sql(entity_type, by_country), params).fetchall():
                rows_by_req[row[0]].append(row[1:])
            for r in batch:
                results[r["req"]] = self._records(entity_type, r["eid"], r["cc"], rows_by_req[r["req"]])

        for i, res in enumerate(results):
            if isinstance(res, Exception) and errors == "raise":
                raise res
        return results

    @staticmethod
    def _records(entity_type: str, entity_id: str, country: str | None,
                 rows: list[tuple]) -> list[dict[str, Any] | None] | ValueError:
        if rows and not rows[0][2]:
            return ValueError(f"{entity_type} {entity_id!r} is not in the entity set (contract §3)")
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
        """Dashboard totals over [start, end] (contract §8), from the daily rows only.

        Counts, Meta measures, pair counts and money (not the costs) are sums of the
        daily rows; every ratio is recomputed from those sums, never averaged. The
        extra ``*_user_count`` keys are the summed lengths of the other lists.
        """
        daily = [r for r in self.daily_metrics(entity_type, entity_id, start, end, country)
                 if r is not None]
        d0, d1 = self._clip(start, end)
        t: dict[str, Any] = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "start": d0,
            "end": d1,
            "days": max((d1 - d0).days + 1, 0),
            "rows": len(daily),
        }
        if country is not None:
            t["country_code"] = country
        for k in _SUM_KEYS:
            t[k] = sum((r[k] for r in daily), 0 if k in _INT_KEYS else 0.0)
        for k, ids in _LIST_COUNT_KEYS.items():
            t[k] = sum(_list_length(r[ids]) for r in daily)

        # Rates: actual = ratio of summed list lengths; estimated = daily values
        # weighted by their pair counts (= the mean over all the range's pairs).
        t["trial_conversion_rate_actual"] = _div(t["converted_user_count"], t["post_trial_user_count"])
        t["trial_refund_rate_actual"] = _div(t["trial_refund_user_count"], t["converted_user_count"])
        t["purchase_refund_rate_actual"] = _div(t["purchase_refund_user_count"],
                                                t["mixpanel_purchase_count"])
        for rate, weight in _ESTIMATE_WEIGHTS.items():
            t[rate] = _div(sum(r[rate] * r[weight] for r in daily), t[weight])

        # Accuracy ratios from the sums, with the §5 special cases.
        mp_trials, meta_trials = t["mixpanel_trial_count"], t["meta_trial_count"]
        if meta_trials == 0:
            t["trial_accuracy_ratio"] = 100.0 if mp_trials > 0 else 0.0
        else:
            t["trial_accuracy_ratio"] = mp_trials / meta_trials * 100
        t["purchase_accuracy_ratio"] = _div(t["mixpanel_purchase_count"], t["meta_purchase_count"]) * 100

        spend, adjusted = t["meta_spend"], t["adjusted_estimated_revenue_usd"]
        t["profit_usd"] = adjusted - spend
        t["estimated_roas"] = _div(adjusted, spend)
        t["mixpanel_cost_per_trial"] = _div(spend, mp_trials)
        t["mixpanel_cost_per_purchase"] = _div(spend, t["mixpanel_purchase_count"])
        t["meta_cost_per_trial"] = _div(spend, meta_trials)
        t["meta_cost_per_purchase"] = _div(spend, t["meta_purchase_count"])
        t["click_to_trial_rate"] = _div(mp_trials, t["meta_clicks"]) * 100
        return t

    def entities(self) -> dict[str, list[str]]:
        """The contract §3 entity set of each level, sorted."""
        V = self._v
        sql = _ENTITIES_SQL.format(V=V)
        result: dict[str, list[str]] = {level: [] for level in LEVELS}
        for entity_type, entity_id in self.con.execute(sql).fetchall():
            result[entity_type].append(entity_id)
        return result


_INT_KEYS = frozenset({
    "meta_impressions", "meta_clicks", "meta_trial_count", "meta_purchase_count",
    "mixpanel_trial_count", "mixpanel_purchase_count",
    "trial_conversion_estimate_pair_count", "trial_refund_estimate_pair_count",
    "purchase_refund_estimate_pair_count",
})


def _list_length(ids: str | None) -> int:
    return len(ids.split(",")) if ids else 0


def _div(numerator: float, denominator: float) -> float:
    """numerator / denominator; 0 when the denominator is 0 (§5 safe division)."""
    return numerator / denominator if denominator else 0.0
