"""Deterministic sample-data generator for the six source tables (docs/metrics.md §1).

Usage::

    python -m devtools.generate OUT_DIR [--seed N] [--scale small|year]
        [--ads N] [--days N] [--users-per-day N] [--start-date YYYY-MM-DD]

Writes ``ad_performance_daily``, ``ad_performance_daily_country``,
``id_hierarchy_mapping``, ``mixpanel_user``, ``mixpanel_event`` and
``user_product_metrics`` as ``<table>.parquet`` into OUT_DIR.

Design
------
* Everything random comes from one ``random.Random(seed)``; every table is written
  with an ``ORDER BY`` over all of its columns, so the same seed and arguments give
  the same rows in the same order.
* Rows are streamed to temporary CSV files holding only integers and plain text
  (dates as day offsets, money in cents, rates in 1/10000, timestamps in epoch
  microseconds) and converted to the contract types by DuckDB, which writes the
  Parquet. No float is ever formatted in Python.
* Meta data is generated per ad, day and Meta country label; the daily row is the
  exact sum of its country rows (spend is summed in cents), so the two Meta tables
  always agree.
* Attributed Mixpanel trial/purchase users are drawn from the Meta trials/purchases
  of their ad-day-country (about 80% captured, plus a few users where Meta reports
  nothing), which keeps every accuracy ratio far from the limits of ``DECIMAL(18,4)``.
* A fixed, seed-independent set of hand-written *edge fixtures* (ads ``000777``,
  ``777``, ``0099001``, ``ad_ghost_01`` and users named ``edge_*``) covers every
  edge case the contract names. No background (random) user is attributed to those
  ads, so their lists can be checked by hand. See ``EDGE_META`` and ``EDGE_USERS`` below.

Times are naive UTC timestamps. Background events stop at the *export time*,
06:00 on the day after the last Meta date, so a few events fall after the last Meta
date. The project's default ``as_of_date`` is the latest date in *any* source, i.e.
that export day; the edge cases "after as_of" below assume the run pins
``as_of_date`` to the last Meta date (``--vars '{as_of_date: <E>}'``).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date

import duckdb

from python_hooks.project import source_tables

# --------------------------------------------------------------------------- constants

NULL = "\\N"  # NULL marker in the intermediate CSV files
US_PER_SEC = 1_000_000
US_PER_HOUR = 3600 * US_PER_SEC
US_PER_DAY = 24 * US_PER_HOUR

SCALES = {
    "small": dict(campaigns=3, adsets=6, ads=12, days=21, users_per_day=40, labels=12, targets=(5, 10)),
    "year": dict(campaigns=8, adsets=40, ads=250, days=365, users_per_day=2000, labels=44, targets=(34, 44)),
}

# Meta country labels: (label, ISO alpha-2 or None when unmapped, trial share weight,
# cost per trial USD, local price factor). Ordered by importance: a scale with L labels
# uses the first L-5 names plus the special labels below.
COUNTRY_NAMES = [
    ("United States", "US", 30.0, 45, 1.00),
    ("United Kingdom", "GB", 8.0, 38, 1.00),
    ("Germany", "DE", 7.0, 36, 1.00),
    ("France", "FR", 5.0, 30, 1.00),
    ("Canada", "CA", 5.0, 40, 0.90),
    ("Australia", "AU", 4.0, 40, 0.90),
    ("Brazil", "BR", 5.0, 9, 0.50),
    ("India", "IN", 6.0, 5, 0.35),
    ("Japan", "JP", 3.0, 42, 1.00),
    ("South Korea", "KR", 2.0, 30, 0.90),
    ("Mexico", "MX", 3.0, 11, 0.60),
    ("Spain", "ES", 3.0, 22, 0.90),
    ("Italy", "IT", 3.0, 22, 0.90),
    ("Netherlands", "NL", 2.0, 33, 1.00),
    ("Sweden", "SE", 1.2, 34, 1.00),
    ("Switzerland", "CH", 1.0, 48, 1.10),
    ("Poland", "PL", 1.5, 14, 0.70),
    ("Norway", "NO", 0.8, 40, 1.10),
    ("Denmark", "DK", 0.8, 36, 1.00),
    ("Belgium", "BE", 1.0, 30, 1.00),
    ("Austria", "AT", 0.8, 33, 1.00),
    ("Ireland", "IE", 0.6, 34, 1.00),
    ("Portugal", "PT", 0.8, 16, 0.80),
    ("New Zealand", "NZ", 0.6, 36, 0.90),
    ("Singapore", "SG", 0.6, 30, 1.00),
    ("Philippines", "PH", 1.5, 6, 0.40),
    ("Indonesia", "ID", 1.5, 5, 0.40),
    ("Argentina", "AR", 1.0, 8, 0.40),
    ("Chile", "CL", 0.7, 12, 0.60),
    ("Colombia", "CO", 0.8, 9, 0.50),
    ("South Africa", "ZA", 0.7, 12, 0.50),
    ("Saudi Arabia", "SA", 0.6, 25, 1.00),
    ("United Arab Emirates", "AE", 0.6, 30, 1.00),
    ("Israel", "IL", 0.5, 28, 1.00),
    ("Thailand", "TH", 0.8, 9, 0.50),
    ("Finland", "FI", 0.6, 34, 1.00),
    ("Malaysia", "MY", 0.7, 9, 0.50),
    ("Greece", "GR", 0.5, 18, 0.80),
    ("Romania", "RO", 0.6, 10, 0.60),
]
# Labels that are the alpha-2 code itself (always "US"; "CA" and "DE" at larger scales).
CODE_LABELS = [("US", "US", 1.5, 45, 1.00), ("CA", "CA", 0.5, 40, 0.90), ("DE", "DE", 0.5, 36, 1.00)]
# Labels absent from the country mapping: they map to ZZ.
UNMAPPED_LABELS = [("Unknown", None, 0.4, 20, 1.00), ("Atlantis", None, 0.15, 20, 1.00)]

# product: price in cents, trial length in days (None: no trial), P(convert), renewal period (days)
PRODUCTS = {
    "prod_weekly": (699, 3, 0.50, 7),
    "prod_monthly": (1499, 7, 0.40, 30),
    "prod_annual": (4999, 7, 0.35, 365),
    "prod_lifetime": (9999, None, 0.0, None),
}
TRIAL_PRODUCTS = (["prod_weekly", "prod_monthly", "prod_annual"], [0.55, 0.15, 0.30])
PURCHASE_PRODUCTS = (["prod_weekly", "prod_monthly", "prod_annual", "prod_lifetime"], [0.15, 0.40, 0.35, 0.10])

ATTRIBUTED_SHARE = 0.70  # of all new users
TRIAL_SHARE = 0.50  # of attributed users
PURCHASE_SHARE = 0.08  # of attributed users
CAPTURE = 0.80  # share of Meta-reported trials/purchases that show up in Mixpanel

# --------------------------------------------------------------------------- edge fixtures

# Fixed ids of the edge fixtures (seed-independent).
EDGE_AD = "000777"  # leading zeros; in the mapping under the first adset of cmp_001
EDGE_AD_777 = "777"  # a different ad; in the mapping under the second adset of cmp_001
ORPHAN_AD = "0099001"  # in both Meta tables, NOT in id_hierarchy_mapping
GHOST_AD = "ad_ghost_01"  # only on users: not in Meta, not in the mapping
NEVER_DELIVERED_AD = "0055500"  # in the mapping only (no Meta rows, no users)

# The edge fixtures, as data (D0 = start_date + 2 days, E = the last Meta date; small defaults:
# D0 = 2025-01-03, E = 2025-01-21; with as_of_date pinned to E, as_of - trial_days = 2025-01-14).
# A day is D0, E, D0+n or E+n.
EDGE_PREAMBLE = """Edge fixtures (D0 = start_date + 2 days, E = last Meta date = start + days - 1; small
defaults: D0 = 2025-01-03, E = 2025-01-21; with as_of_date pinned to E,
as_of - trial_days = 2025-01-14).
Products/prices: prod_weekly 6.99, prod_monthly 14.99, prod_annual 49.99, prod_lifetime 99.99."""

# Meta rows of the edge ads (both tables; each daily row = the exact sum of its country rows):
# (ad, day, [(label, spend cents, impressions, clicks, meta_trials, meta_purchases)], labels whose
# country row is delivered twice, daily row delivered twice, note). A day after E, or one the ad
# already has (a short window), is left out.
EDGE_META = [
    (EDGE_AD, "D0", [("United States", 12037, 8012, 143, 9, 3), ("US", 1505, 1100, 19, 2, 0),
                     ("Germany", 4010, 3300, 51, 3, 1), ("Atlantis", 299, 260, 4, 1, 0),
                     ("Unknown", 50, 40, 0, 0, 0)], ("Germany",), True,
     "United States, US (alpha-2 label, same code), Germany, Atlantis, Unknown (unmapped->ZZ); the daily "
     "row AND the Germany country row are each delivered twice (exact duplicates)"),
    (EDGE_AD, "D0+1", [("United States", 6000, 4000, 70, 4, 1), ("Canada", 2525, 1500, 22, 2, 0)], (), False,
     "United States, Canada"),
    (EDGE_AD, "E", [("United States", 8888, 6000, 100, 5, 2), ("United Kingdom", 3001, 2100, 30, 2, 1)], (), False,
     "United States, United Kingdom"),
    (EDGE_AD_777, "D0", [("Canada", 5000, 3000, 40, 4, 1), ("CA", 1000, 600, 8, 1, 0),
                         ("France", 2000, 1500, -2, 0, 0)], (), False,
     "Canada, CA (alpha-2 label), France with clicks = -2 (negative measure, country table only; the daily "
     "row includes the -2 and stays positive)"),
    (EDGE_AD_777, "D0+1", [("United States", -1250, 0, 0, 0, 0)], (), False,
     "one United States row with spend = -12.50 (negative measure in BOTH tables)"),
    (ORPHAN_AD, "D0", [("United States", 3333, 2500, 40, 3, 1)], (), False,
     "United States (ad in Meta, not in id_hierarchy_mapping)"),
    (ORPHAN_AD, "D0+1", [("United States", 2222, 1800, 25, 2, 0)], (), False, "United States"),
]

# The edge users, in the order their rows are written (event uuids edge-0001, ... follow it):
# (distinct_id, (abi_campaign_id, abi_ad_set_id, abi_ad_id) or FULL, country, flags, events, note).
# Ids cmp_a / cmp_other / adset_a / adset_b are those of the tree (the first two campaigns; the
# first two adsets of cmp_a). Flags: dup (the user row and its metrics rows delivered twice),
# unattributed (has_abi_attribution FALSE), no_metrics (no user_product_metrics row; every other
# trial or purchase pair of a user has one). Events, separated by ";": day, time, event
# (open, trial, converted, purchase, cancel, renewal, expiration), product (W, M, A, L), revenue
# (price or -price: the product's price; or a number; none by default), "x2" = delivered twice.
FULL = ("cmp_a", "adset_a", EDGE_AD)
EDGE_USERS = [
    ("edge_full_us", FULL, "US", "dup", "D0 09:55 open; D0 10:00 trial W; D0+3 10:00:05 converted W price; "
     "D0+10 10:00:07 renewal W price", "trial W D0 10:00, converted W D0+3, renewal D0+10 (+exact duplicate "
     "user row and exact duplicate user_product_metrics row)"),
    ("edge_refund_after", FULL, "US", "", "D0 00:00 trial M; D0+7 00:00 converted M price; "
     "D0+9 13:00 cancel M -price", "trial M at D0 00:00:00, converted D0+7 00:00:00, refund -14.99 D0+9 -> trial refund"),
    ("edge_refund_before", FULL, "US", "", "D0 12:00 trial M; D0+2 12:00 cancel M -price; "
     "D0+7 12:00 converted M price", "trial M D0 12:00, refund -14.99 D0+2 BEFORE conversion D0+7 -> converted, no refund"),
    ("edge_xprod", FULL, "DE", "", "D0 23:59:59.999999 trial W; D0+3 09:00 converted A price",
     "trial W at D0 23:59:59.999999, converted on prod_annual -> NOT converted"),
    ("edge_cancel_zero", FULL, "DE", "", "D0 08:00 trial W 0; D0+3 08:00 converted W price; D0+5 08:00 cancel W 0",
     "trial W, converted, RC Cancellation revenue 0 -> not a refund"),
    ("edge_cancel_null", FULL, "US", "", "D0 07:00 trial A 0; D0+7 07:00 converted A price; D0+8 07:00 cancel A",
     "trial A (revenue 0), converted, RC Cancellation revenue NULL -> not a refund"),
    ("edge_dup", FULL, "US", "", "D0 09:00 trial W x2; D0+3 09:00 converted W price x2",
     "trial W and its conversion each delivered twice (same uuid/name/id/time)"),
    ("edge_no_metrics", FULL, "US", "no_metrics", "D0 11:00 trial W; D0+3 11:00 expiration W",
     "trial W, no user_product_metrics row"),
    ("edge_no_country", FULL, None, "", "D0 13:00 trial W; D0+1 13:00 cancel W", "country NULL -> ZZ"),
    ("edge_empty_country", FULL, "", "", "D0 14:00 trial M; D0+7 14:00 converted M price", "country '' -> ZZ"),
    ("edge_two_trials_same_day", FULL, "US", "", "D0 06:00 trial W; D0 18:00 trial W; D0 12:00 converted W price",
     "trial W at 06:00 and 18:00 on D0 (two uuids), converted D0 12:00 (after the earliest start -> converted)"),
    ("edge_two_products", FULL, "US", "", "D0 15:00 trial W; D0 15:30 trial A; D0+7 15:30 converted A price",
     "trials W and A on D0, converted on A only"),
    ("edge_conv_same_ts", FULL, "US", "", "D0 16:00 trial W; D0 16:00 converted W price",
     "conversion at exactly the trial start time -> converted"),
    ("edge_refund_same_ts", FULL, "US", "", "D0 17:00 trial W; D0+3 17:00 converted W price; "
     "D0+3 17:00 cancel W -price", "refund at exactly the conversion time -> trial refund"),
    ("edge_conv_after_asof", FULL, "US", "", "D0 19:00 trial W; E+1 00:00 converted W price",
     "trial W D0, conversion at E+1 00:00:00 (after as_of) -> not converted"),
    ("00042", FULL, "US", "", "D0 20:00 trial W", "numeric-looking distinct_id (text)"),
    ("42", FULL, "US", "", "D0 20:30 trial W; D0+3 20:30 converted W price", "numeric-looking distinct_id; converts"),
    ("edge,comma", FULL, "US", "", "D0 21:00 trial W; D0+3 21:00 converted W price", "rejected distinct_id"),
    (None, FULL, "US", "", "D0 21:30 trial W", "rejected distinct_id (NULL)"),
    ("", FULL, "US", "", "D0 21:45 trial W", "rejected distinct_id ('')"),
    ("edge_partial_ad_only", (None, None, EDGE_AD), "US", "", "D0 22:00 trial W",
     "only abi_ad_id -> ad, adset, campaign filled from the mapping"),
    ("edge_partial_adset_campaign", ("cmp_a", "adset_a", None), "US", "", "D0 22:10 trial W",
     "adset + campaign, no ad -> adset and campaign only"),
    ("edge_partial_campaign_only", ("cmp_a", None, None), "US", "", "D0 22:20 trial W",
     "campaign only -> campaign only"),
    ("edge_partial_adset_only", (None, "adset_a", None), "US", "", "D0 22:25 trial W",
     "adset only -> adset, campaign filled from the adset"),
    ("edge_mismatch_campaign", ("cmp_other", "adset_a", EDGE_AD), "US", "", "D0 22:30 trial W",
     "ad 000777, adset ads_001_01, campaign cmp_002 (mapping says cmp_001)"),
    ("edge_not_attributed", FULL, "US", "unattributed", "D0 22:40 trial W",
     "has_abi_attribution FALSE with ids -> not attributed"),
    ("edge_attr_no_ids", (None, None, None), "US", "", "D0 22:50 trial W",
     "has_abi_attribution TRUE, all ids NULL -> no entity"),
    ("edge_trial_multi_day", FULL, "US", "", "D0 23:00 trial W; D0+1 10:00 trial A", "trial W on D0 and trial A on D0+1"),
    ("edge_purchase", FULL, "US", "", "D0 15:00 purchase A price; D0+4 15:00 cancel A -price",
     "initial purchase A D0 15:00, refund -49.99 D0+4 -> purchase refund"),
    ("edge_purchase_refund_before", FULL, "US", "", "D0 14:00 cancel M -price; D0 16:00 purchase M price",
     "refund -14.99 D0 14:00 BEFORE purchase M D0 16:00 -> no purchase refund"),
    ("edge_purchase_dup", FULL, "US", "", "D0 18:00 purchase L price x2", "initial purchase L delivered twice"),
    ("edge_purchase_other_product_refund", FULL, "US", "", "D0 19:00 purchase M price; D0+2 19:00 cancel W -price",
     "purchase M, refund on prod_weekly -> no purchase refund"),
    ("edge_last_day_first", FULL, "US", "", "E 00:00 trial M", "trial M at E 00:00:00"),
    ("edge_last_day_late", FULL, "US", "", "E 23:59:59.999999 trial W", "trial W at E 23:59:59.999999"),
    ("edge_after_asof", FULL, "US", "", "E+1 00:00 trial W", "trial W at E+1 00:00:00 (ignored)"),
    ("edge_purchase_after_asof", FULL, "US", "", "E+1 01:00 purchase M price",
     "initial purchase M at E+1 01:00 (ignored)"),
    ("edge_777_a", ("cmp_a", "adset_b", EDGE_AD_777), "CA", "", "D0 12:00 trial W", "trial W on ad 777 D0"),
    ("edge_777_b", ("cmp_a", "adset_b", EDGE_AD_777), "FR", "", "D0 13:00 purchase M price",
     "purchase M on ad 777 D0"),
    ("edge_orphan_ad_only", (None, None, ORPHAN_AD), "US", "", "D0 10:30 trial W", "ad 0099001 only -> ad level only"),
    ("edge_orphan_with_parents", ("cmp_a", "adset_b", ORPHAN_AD), "US", "", "D0 10:45 trial W",
     "ad 0099001 + ads_001_02 + cmp_001 (user ids win)"),
    ("edge_ghost", ("cmp_a", None, GHOST_AD), "GB", "", "D0 11:30 trial W",
     "ad ad_ghost_01 + cmp_001, adset NULL -> ad ad_ghost_01, campaign cmp_001, no adset"),
]
EDGE_EVENT_NAMES = {"open": "App Open", "trial": "RC Trial started", "converted": "RC Trial converted",
                    "purchase": "RC Initial purchase", "cancel": "RC Cancellation", "renewal": "RC Renewal",
                    "expiration": "RC Expiration"}
EDGE_PRODUCTS = {"W": "prod_weekly", "M": "prod_monthly", "A": "prod_annual", "L": "prod_lifetime"}


def edge_cases_help() -> str:
    """The edge fixtures, for ``--help``."""
    lines = [EDGE_PREAMBLE, "", "Meta (both tables; each daily row = exact sum of its country rows):"]
    lines += [f"  {ad:7s} {day:5s}: {note}" for ad, day, *_, note in EDGE_META]
    lines += [f"  {NEVER_DELIVERED_AD:7s}      : in id_hierarchy_mapping only (never delivered)",
              "Users (all has_abi_attribution TRUE, full ids 000777/ads_001_01/cmp_001, country US, unless noted):"]
    lines += [f"  {did!s:34s} {note}" for did, *_, note in EDGE_USERS]
    return "\n".join(lines)


# user_product_metrics of the edge users: trial_conversion_rate, trial_converted_to_refund_rate,
# initial_purchase_to_refund_rate (1/10000), current_value (cents)
EDGE_METRICS = {
    "prod_weekly": (4200, 600, 300, 2150),
    "prod_monthly": (3500, 800, 400, 3275),
    "prod_annual": (2800, 1000, 500, 4499),
    "prod_lifetime": (0, 0, 250, 9999),
}

TABLES = list(source_tables())  # the six source tables; columns and types from the sources YAML

# The intermediate CSV holds each column in the sources YAML's order, as text, cast to its
# contract type on export; except these, which the generator writes as integers:
# column -> (CSV column, CSV type, the SQL that decodes it).
ENCODED = {
    "date": ("d", "INTEGER", "({start} + d)::DATE"),
    "spend": ("spend_c", "BIGINT", "spend_c::DOUBLE / 100.0"),
    "event_time": ("t_us", "BIGINT", "make_timestamp(t_us)::TIMESTAMP"),
    "revenue_usd": ("revenue_c", "BIGINT", "revenue_c::DOUBLE / 100.0"),
    "trial_conversion_rate": ("tcr", "BIGINT", "tcr::DOUBLE / 10000.0"),
    "trial_converted_to_refund_rate": ("ttr", "BIGINT", "ttr::DOUBLE / 10000.0"),
    "initial_purchase_to_refund_rate": ("ipr", "BIGINT", "ipr::DOUBLE / 10000.0"),
    "current_value": ("cv_c", "BIGINT", "cv_c::DOUBLE / 100.0"),
}
# The rows of each file are sorted by (the other columns follow, in file order):
SORT_FIRST = {
    "id_hierarchy_mapping": ["campaign_id", "adset_id", "ad_id"],
    "mixpanel_event": ["event_time", "event_uuid", "event_name", "distinct_id"],
    "ad_performance_daily": ["date"],
    "ad_performance_daily_country": ["date", "ad_id", "country"],
}


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class _Config:
    seed: int
    campaigns: int
    adsets: int
    ads: int
    days: int
    users_per_day: int
    labels: int
    targets: tuple
    start: date


def _resolve(seed, scale, ads, days, users_per_day, start_date) -> _Config:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
    sc = SCALES[scale]
    if isinstance(start_date, str):
        start_date = date.fromisoformat(start_date)
    n_ads = sc["ads"] if ads is None else int(ads)
    if n_ads < 1:
        raise ValueError("ads must be >= 1")
    if ads is None:
        n_campaigns, n_adsets = sc["campaigns"], sc["adsets"]
    else:
        n_adsets = max(1, min(n_ads, round(n_ads * sc["adsets"] / sc["ads"])))
        n_campaigns = max(1, min(n_adsets, round(n_adsets * sc["campaigns"] / sc["adsets"])))
    n_days = sc["days"] if days is None else int(days)
    if n_days < 1:
        raise ValueError("days must be >= 1")
    upd = sc["users_per_day"] if users_per_day is None else int(users_per_day)
    if upd < 0:
        raise ValueError("users_per_day must be >= 0")
    return _Config(int(seed), n_campaigns, n_adsets, n_ads, n_days, upd, sc["labels"], sc["targets"], start_date)


def _label_pool(n_labels: int):
    """The Meta country labels of a scale: names first, then alpha-2 labels and unmapped ones."""
    n_codes = 1 if n_labels < 20 else len(CODE_LABELS)
    n_names = max(1, n_labels - n_codes - len(UNMAPPED_LABELS))
    return COUNTRY_NAMES[:n_names] + CODE_LABELS[:n_codes] + UNMAPPED_LABELS


# --------------------------------------------------------------------------- helpers


class _Out:
    """Streams the intermediate CSV rows of the six tables."""

    def __init__(self, tmpdir: str):
        self.paths = {t: os.path.join(tmpdir, t + ".csv") for t in TABLES}
        self._files = {t: open(p, "w", newline="", encoding="utf-8") for t, p in self.paths.items()}
        self.w = {t: csv.writer(f, lineterminator="\n") for t, f in self._files.items()}

    def close(self):
        for f in self._files.values():
            f.close()


def _n(v):
    return NULL if v is None else v


class _Gen:
    def __init__(self, cfg: _Config, out: _Out):
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.out = out
        self.day0_us = (cfg.start.toordinal() - date(1970, 1, 1).toordinal()) * US_PER_DAY
        self.last = cfg.days - 1  # E, as a day offset
        self.cutoff_us = self.day_us(self.last + 1) + 6 * US_PER_HOUR  # export time
        self.used_ids: set = set()
        self.metric_pairs = 0
        self.w_event = out.w["mixpanel_event"].writerow
        self.w_user = out.w["mixpanel_user"].writerow
        self.w_metric = out.w["user_product_metrics"].writerow

    def day_us(self, d: int) -> int:
        return self.day0_us + d * US_PER_DAY

    # ---------------------------------------------------------------- hierarchy

    def build_tree(self):
        cfg, rng = self.cfg, self.rng
        campaigns = [f"cmp_{c + 1:03d}" for c in range(cfg.campaigns)]
        adsets = []  # (adset_id, campaign_id)
        per_campaign = [0] * cfg.campaigns
        for a in range(cfg.adsets):
            c = a % cfg.campaigns
            per_campaign[c] += 1
            adsets.append((f"ads_{c + 1:03d}_{per_campaign[c]:02d}", campaigns[c]))
        adsets.sort()
        per_adset = [0] * cfg.adsets
        used = {EDGE_AD, EDGE_AD_777, ORPHAN_AD, NEVER_DELIVERED_AD, GHOST_AD}
        pool = _label_pool(cfg.labels)
        weights = [p[2] for p in pool]
        campaign_w = {c: rng.lognormvariate(0, 0.5) for c in campaigns}
        ads = []
        for i in range(cfg.ads):
            a = i % cfg.adsets
            per_adset[a] += 1
            adset_id, campaign_id = adsets[a]
            if rng.random() < 0.4:  # numeric-looking Meta id with leading zeros
                while True:
                    ad_id = f"00{rng.randrange(10000, 100000)}"
                    if ad_id not in used:
                        break
            else:
                ad_id = f"ad_{adset_id[4:]}_{per_adset[a]:02d}"
            used.add(ad_id)
            # delivery window
            start = 0 if rng.random() < 0.88 else rng.randrange(0, max(1, int(cfg.days * 0.6)))
            end = cfg.days - 1
            if rng.random() < 0.08 and cfg.days - start > 8:
                end = rng.randrange(start + 7, cfg.days)
            # targeted labels: always United States, plus a weighted sample without replacement
            lo, hi = cfg.targets
            k = min(len(pool), rng.randint(lo, hi))
            keyed = sorted(
                ((rng.random() ** (1.0 / w), j) for j, w in enumerate(weights) if j != 0), reverse=True
            )
            targets = [0] + sorted(j for _, j in keyed[: k - 1])
            weight = campaign_w[campaign_id] * rng.lognormvariate(0, 0.8)
            ads.append((ad_id, adset_id, campaign_id, weight, start, end, targets))
        self.campaigns, self.adsets, self.ads, self.pool = campaigns, adsets, ads, pool

        # mapping: background ads + the edge ads that belong in it
        adsets_of_c1 = [s for s, c in adsets if c == campaigns[0]]
        self.adset_a = adsets_of_c1[0]
        self.adset_b = adsets_of_c1[1] if len(adsets_of_c1) > 1 else adsets_of_c1[0]
        self.cmp_a = campaigns[0]
        self.cmp_other = campaigns[1] if len(campaigns) > 1 else "cmp_002"
        mapping = [(ad_id, adset_id, campaign_id) for ad_id, adset_id, campaign_id, *_ in ads]
        mapping.append((EDGE_AD, self.adset_a, self.cmp_a))
        mapping.append((EDGE_AD_777, self.adset_b, self.cmp_a))
        mapping.append((NEVER_DELIVERED_AD, adsets[-1][0], adsets[-1][1]))
        w = self.out.w["id_hierarchy_mapping"].writerow
        for row in mapping:
            w(row)

    # ---------------------------------------------------------------- ids

    def new_distinct_id(self) -> str:
        rng = self.rng
        while True:
            r = rng.getrandbits(128)
            h = "%032x" % r
            kind = r & 15
            if kind < 9:  # iOS-style identifier
                h = h.upper()
                did = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            elif kind < 13:
                did = f"$device:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            else:
                did = "$RCAnonymousID:" + h
            if did not in self.used_ids:
                self.used_ids.add(did)
                return did

    # ---------------------------------------------------------------- events

    def _ev(self, did, name, t, product=None, revenue_c=None, dup_p=0.003):
        """Write one background event (dropped after the export time); a few are delivered twice."""
        if t > self.cutoff_us:
            return
        rng = self.rng
        row = ("%032x" % rng.getrandbits(128), did, name, t, _n(product), _n(revenue_c))
        self.w_event(row)
        if rng.random() < dup_p:
            self.w_event(row)

    def _renewals(self, did, product, t_paid, price_c):
        rng = self.rng
        period = PRODUCTS[product][3]
        if period is None:
            return
        period_us = period * US_PER_DAY
        t = t_paid
        while True:
            nxt = t + period_us + rng.randrange(0, 60 * US_PER_SEC)
            if nxt > self.cutoff_us:
                return
            if rng.random() < 0.8:
                self._ev(did, "RC Renewal", nxt, product, price_c)
                t = nxt
                continue
            if rng.random() < 0.5:  # auto-renew switched off: a cancellation that is not a refund
                self._ev(did, "RC Cancellation", t + rng.randrange(US_PER_HOUR, period_us), product,
                         0 if rng.random() < 0.4 else None)
            self._ev(did, "RC Expiration", nxt, product)
            return

    def _pre_events(self, did, t, lower_us):
        """App Open / onboarding / paywall before a paid event at t (never before the first day)."""
        rng = self.rng
        t_open = max(lower_us, t - rng.randrange(2 * 60 * US_PER_SEC, 90 * 60 * US_PER_SEC))
        self._ev(did, "App Open", t_open)
        if rng.random() < 0.5:
            self._ev(did, "Onboarding Completed", t_open + (t - t_open) // 3)
        self._ev(did, "Paywall Viewed", max(t_open, t - rng.randrange(10 * US_PER_SEC, 120 * US_PER_SEC)))

    def _later_sessions(self, did, t):
        rng = self.rng
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            self._ev(did, "App Open", t + rng.randrange(US_PER_HOUR, 10 * US_PER_DAY))

    def trial_user(self, did, d, pf):
        """Background trial flow starting on day d; returns the products of its trial pairs."""
        rng = self.rng
        t = self.day_us(d) + rng.randrange(US_PER_DAY)
        self._pre_events(did, t, self.day0_us)
        product = rng.choices(*TRIAL_PRODUCTS)[0]
        products = [product]
        self._ev(did, "RC Trial started", t, product, 0 if rng.random() < 0.3 else None)
        if rng.random() < 0.02:  # a second trial on another product the same day
            other = rng.choice([p for p in TRIAL_PRODUCTS[0] if p != product])
            t2 = min(t + rng.randrange(US_PER_SEC, 30 * 60 * US_PER_SEC), self.day_us(d + 1) - 1)
            self._ev(did, "RC Trial started", t2, other, None)
            products.append(other)
        price, trial_days, p_conv, _ = PRODUCTS[product]
        price_c = max(1, round(price * pf))
        t_end = t + trial_days * US_PER_DAY
        r = rng.random()
        if r < 0.12:  # cancelled during the trial: no revenue, not a refund
            self._ev(did, "RC Cancellation", t + rng.randrange(US_PER_HOUR, trial_days * US_PER_DAY), product,
                     0 if rng.random() < 0.5 else None)
            self._ev(did, "RC Expiration", t_end, product)
        elif r < 0.12 + 0.88 * p_conv:
            t_conv = t_end + rng.randrange(0, 120 * US_PER_SEC)
            conv_product = product
            if rng.random() < 0.003:  # converted on another product: not a conversion of this pair
                conv_product = rng.choice([p for p in TRIAL_PRODUCTS[0] if p != product])
                price_c = max(1, round(PRODUCTS[conv_product][0] * pf))
            self._ev(did, "RC Trial converted", t_conv, conv_product, price_c)
            if rng.random() < 0.07:  # refund
                self._ev(did, "RC Cancellation", t_conv + rng.randrange(US_PER_HOUR, 10 * US_PER_DAY),
                         conv_product, -price_c)
            else:
                self._renewals(did, conv_product, t_conv, price_c)
        else:
            self._ev(did, "RC Expiration", t_end, product)
        self._later_sessions(did, t)
        return products

    def purchase_user(self, did, d, pf):
        rng = self.rng
        t = self.day_us(d) + rng.randrange(US_PER_DAY)
        self._pre_events(did, t, self.day0_us)
        product = rng.choices(*PURCHASE_PRODUCTS)[0]
        price_c = max(1, round(PRODUCTS[product][0] * pf))
        self._ev(did, "RC Initial purchase", t, product, price_c)
        if rng.random() < 0.06:
            self._ev(did, "RC Cancellation", t + rng.randrange(US_PER_HOUR, 14 * US_PER_DAY), product, -price_c)
        else:
            self._renewals(did, product, t, price_c)
        self._later_sessions(did, t)
        return [product]

    def browse_user(self, did, d):
        rng = self.rng
        t = self.day_us(d) + rng.randrange(US_PER_DAY)
        self._ev(did, "App Open", t)
        if rng.random() < 0.6:
            self._ev(did, "Paywall Viewed", t + rng.randrange(10 * US_PER_SEC, 30 * 60 * US_PER_SEC))
        if rng.random() < 0.4:
            self._ev(did, "App Open", t + rng.randrange(US_PER_HOUR, 5 * US_PER_DAY))

    def metrics(self, did, products, pf, trial: bool):
        rng = self.rng
        for product in dict.fromkeys(products):
            if rng.random() < 0.04:  # deliberately missing
                continue
            price, _, p_conv, _ = PRODUCTS[product]
            tcr = min(0.95, max(0.01, p_conv * (0.5 + rng.random()))) if trial else min(0.95, p_conv * rng.random())
            ttr = min(0.5, 0.07 * (0.3 + 1.4 * rng.random()))
            ipr = min(0.5, 0.05 * (0.3 + 1.4 * rng.random()))
            mult = {"prod_weekly": 6.0, "prod_monthly": 3.0, "prod_annual": 1.2, "prod_lifetime": 1.0}[product]
            cv = price * pf * (tcr * mult if trial else mult * 0.9) * (0.6 + 0.8 * rng.random())
            self.w_metric((did, product, round(tcr * 10000), round(ttr * 10000), round(ipr * 10000), round(cv)))
            self.metric_pairs += 1

    # ---------------------------------------------------------------- background

    def background(self):
        cfg, rng = self.cfg, self.rng
        pool, ads = self.pool, self.ads
        w_daily = self.out.w["ad_performance_daily"].writerow
        w_country = self.out.w["ad_performance_daily_country"].writerow
        rnd, rrange = rng.random, rng.randrange
        label_w = [p[2] for p in pool]
        label_cpt = [p[3] for p in pool]
        code_pf = {}
        for _, code, w, _, pf in pool:
            if code is not None:
                code_pf.setdefault(code, pf)
        global_codes = list(code_pf)
        global_w = [sum(p[2] for p in pool if p[1] == c) for c in global_codes]
        t_ratio = ATTRIBUTED_SHARE * TRIAL_SHARE / CAPTURE
        p_ratio = PURCHASE_SHARE / TRIAL_SHARE
        ad_meta = {ad[0]: (ad[1], ad[2]) for ad in ads}
        other_campaigns = {
            c: [x for x in self.campaigns if x != c] or [f"cmp_{len(self.campaigns) + 1:03d}"] for c in self.campaigns
        }

        def stoch(x):
            i = int(x)
            return i + (1 if rnd() < x - i else 0)

        def binom(n, p):
            k = 0
            for _ in range(n):
                if rnd() < p:
                    k += 1
            return k

        for d in range(cfg.days):
            weekday = (cfg.start.toordinal() + d) % 7  # 0 = Sunday .. 6 = Saturday (ordinal 1 is a Monday)
            season = (1.12 if weekday in (0, 6) else 1.0) * (0.8 + 0.45 * d / max(1, cfg.days - 1))
            n_day = max(0, round(cfg.users_per_day * season * (0.94 + 0.12 * rnd())))
            active = [a for a in ads if a[4] <= d <= a[5] and rnd() >= 0.02]
            total_w = sum(a[3] for a in active) or 1.0
            t_day = n_day * t_ratio
            day_rows = []  # (ad_id, label index, expected trials) for browsing users
            attributed = []  # (ad_id, label index, kind)
            for ad_id, _, _, aw, _, _, targets in active:
                labels = [j for j in targets if rnd() < (0.98 if j == 0 else 0.95)] or [0]
                raw = [label_w[j] * (0.75 + 0.5 * rnd()) for j in labels]
                e_ad = t_day * aw / total_w
                scale = e_ad / sum(raw)
                sums = [0, 0, 0, 0, 0]
                for j, r in zip(labels, raw):
                    e = r * scale
                    cpt = label_cpt[j]
                    trials = stoch(e)
                    purchases = stoch(e * p_ratio)
                    spend_c = max(1, round(e * cpt * (0.7 + 0.6 * rnd()) * 100))
                    impressions = max(1, round(spend_c / (cpt * 0.35) * 10 * (0.9 + 0.2 * rnd())))
                    clicks = max(trials, stoch(impressions * 0.011 * (0.6 + 0.8 * rnd())))
                    row = (ad_id, d, pool[j][0], spend_c, impressions, clicks, trials, purchases)
                    w_country(row)
                    if rnd() < 0.0002:
                        w_country(row)  # exact duplicate delivery
                    sums[0] += spend_c
                    sums[1] += impressions
                    sums[2] += clicks
                    sums[3] += trials
                    sums[4] += purchases
                    day_rows.append((ad_id, j, e))
                    n_t = binom(trials, CAPTURE) + (1 if rnd() < 0.012 else 0)
                    n_p = binom(purchases, CAPTURE) + (1 if rnd() < 0.004 else 0)
                    for _ in range(n_t):
                        attributed.append((ad_id, j, 0))
                    for _ in range(n_p):
                        attributed.append((ad_id, j, 1))
                drow = (ad_id, d, *sums)
                w_daily(drow)
                if rnd() < 0.0005:
                    w_daily(drow)  # exact duplicate delivery
            # attributed users who neither trial nor purchase
            n_browse = round(sum(1 for a in attributed if a[2] == 0) * 0.9)
            if day_rows and n_browse:
                cum, acc = [], 0.0
                for r in day_rows:
                    acc += r[2] + 1e-3
                    cum.append(acc)
                for r in rng.choices(day_rows, cum_weights=cum, k=n_browse):
                    attributed.append((r[0], r[1], 2))

            for ad_id, j, kind in attributed:
                did = self.new_distinct_id()
                adset_id, campaign_id = ad_meta[ad_id]
                _, code, _, _, pf = pool[j]
                if code is None:
                    country = None if rnd() < 0.6 else ""
                else:
                    r = rnd()
                    country = None if r < 0.015 else ("" if r < 0.02 else code)
                r = rnd()
                has = "true"
                if r < 0.86:
                    ids = (campaign_id, adset_id, ad_id)
                elif r < 0.90:
                    ids = (None, None, ad_id)
                elif r < 0.93:
                    ids = (campaign_id, adset_id, None)
                elif r < 0.95:
                    ids = (campaign_id, None, None)
                elif r < 0.955:
                    ids = (rng.choice(other_campaigns[campaign_id]), adset_id, ad_id)  # disagrees with mapping
                elif r < 0.96:
                    ids = (None, None, None)
                elif r < 0.98:
                    ids, has = (campaign_id, adset_id, ad_id), "false"  # attribution expired
                else:
                    ids, has = (None, None, None), "false"
                self.w_user((did, _n(ids[0]), _n(ids[1]), _n(ids[2]), has, _n(country)))
                if kind == 0:
                    self.metrics(did, self.trial_user(did, d, pf), pf, True)
                elif kind == 1:
                    self.metrics(did, self.purchase_user(did, d, pf), pf, False)
                else:
                    self.browse_user(did, d)

            # unattributed (organic) users
            for _ in range(max(0, n_day - len(attributed))):
                did = self.new_distinct_id()
                r = rnd()
                if r < 0.03:
                    country = None
                elif r < 0.04:
                    country = ""
                else:
                    country = rng.choices(global_codes, global_w)[0]
                pf = code_pf.get(country, 1.0)
                self.w_user((did, NULL, NULL, NULL, "false", _n(country)))
                r = rnd()
                if r < 0.45:
                    self.metrics(did, self.trial_user(did, d, pf), pf, True)
                elif r < 0.52:
                    self.metrics(did, self.purchase_user(did, d, pf), pf, False)
                else:
                    self.browse_user(did, d)

    # ---------------------------------------------------------------- edge fixtures

    def edges(self):
        """The seed-independent rows of EDGE_META and EDGE_USERS (the contract's edge cases)."""
        d0, e = min(2, self.cfg.days - 1), self.last
        w_daily = self.out.w["ad_performance_daily"].writerow
        w_country = self.out.w["ad_performance_daily_country"].writerow
        ids = {"cmp_a": self.cmp_a, "cmp_other": self.cmp_other, "adset_a": self.adset_a, "adset_b": self.adset_b}
        price = {p: v[0] for p, v in PRODUCTS.items()}

        def day(spec: str) -> int:
            base, _, offset = spec.partition("+")
            return (d0 if base == "D0" else e) + int(offset or 0)

        meta_days: set[tuple[str, int]] = set()
        for ad_id, spec, rows, twice_labels, twice_daily, _note in EDGE_META:
            d = day(spec)
            if d > e or (ad_id, d) in meta_days:
                continue
            meta_days.add((ad_id, d))
            for label, *measures in rows:
                for _ in range(2 if label in twice_labels else 1):
                    w_country((ad_id, d, label, *measures))
            sums = [sum(column) for column in zip(*(measures for _, *measures in rows))]
            for _ in range(2 if twice_daily else 1):
                w_daily((ad_id, d, *sums))

        uuids = itertools.count(1)
        pairs = []  # (distinct_id, product) with a metrics row, in order
        for did, user_ids, country, flags, events, _note in EDGE_USERS:
            row = (_n(did), *(_n(ids.get(i, i)) for i in user_ids),
                   "false" if "unattributed" in flags else "true", _n(country))
            for _ in range(2 if "dup" in flags else 1):
                self.w_user(row)
            for event in events.split(";"):
                when, clock, kind, *rest = event.split()
                twice = rest[-1:] == ["x2"]
                product = EDGE_PRODUCTS[rest[0]] if rest and rest[0] in EDGE_PRODUCTS else None
                revenue = rest[1] if len(rest) > 1 and rest[1] != "x2" else None
                revenue_c = (price[product] if revenue == "price" else -price[product] if revenue == "-price"
                             else None if revenue is None else int(revenue))
                hh, mm, *sec = clock.split(":")
                seconds, _, micros = (sec[0] if sec else "0").partition(".")
                t = self.day_us(day(when)) + ((int(hh) * 60 + int(mm)) * 60 + int(seconds)) * US_PER_SEC + int(
                    micros or 0)
                ev_row = (f"edge-{next(uuids):04d}", _n(did), EDGE_EVENT_NAMES[kind], t, _n(product), _n(revenue_c))
                for _ in range(2 if twice else 1):
                    self.w_event(ev_row)
                if kind in ("trial", "purchase") and "no_metrics" not in flags:
                    pairs.append((did, product, "dup" in flags))
        for did, product, twice in dict.fromkeys(p for p in pairs if p[0] not in (None, "")):
            for _ in range(2 if twice else 1):
                self.w_metric((did, product, *EDGE_METRICS[product]))


# --------------------------------------------------------------------------- export


def _export(tmpdir: str, paths: dict, out_dir: str, start: date) -> dict:
    con = duckdb.connect()
    counts = {}
    try:
        for table, types in source_tables().items():
            csv_columns, select = {}, []
            for column, contract_type in types.items():
                name, csv_type, decode = ENCODED.get(column, (column, contract_type.upper(), None))
                csv_columns[name] = csv_type
                select.append(f"{decode.format(start=f'DATE {start.isoformat()!r}')} AS {column}" if decode
                              else f"{column}::{contract_type.upper()} AS {column}")
            order = SORT_FIRST.get(table, []) + [c for c in types if c not in SORT_FIRST.get(table, [])]
            columns_sql = "{" + ", ".join(f"'{k}': '{v}'" for k, v in csv_columns.items()) + "}"
            src = (
                f"read_csv('{paths[table]}', header=false, delim=',', quote='\"', escape='\"', "
                f"nullstr='\\N', allow_quoted_nulls=false, auto_detect=false, columns={columns_sql})"
            )
            target = os.path.join(out_dir, table + ".parquet")
            tmp_target = target + ".tmp"
            con.execute(
                f"COPY (SELECT {', '.join(select)} FROM {src} ORDER BY {', '.join(order)}) "
                f"TO '{tmp_target}' (FORMAT parquet)"
            )
            os.replace(tmp_target, target)
            counts[table] = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    finally:
        con.close()
    return counts


def generate(out_dir, seed=42, scale="small", ads=None, days=None, users_per_day=None,
             start_date=date(2025, 1, 1)) -> dict:
    """Write the six source tables as Parquet into out_dir; return {table: row count}."""
    cfg = _resolve(seed, scale, ads, days, users_per_day, start_date)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gen_sources_") as tmpdir:
        out = _Out(tmpdir)
        try:
            gen = _Gen(cfg, out)
            gen.build_tree()
            gen.edges()
            gen.background()
        finally:
            out.close()
        return _export(tmpdir, out.paths, out_dir, cfg.start)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.generate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=edge_cases_help())
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--scale", choices=sorted(SCALES), default="small")
    p.add_argument("--ads", type=int)
    p.add_argument("--days", type=int)
    p.add_argument("--users-per-day", type=int)
    p.add_argument("--start-date", type=date.fromisoformat, default=date(2025, 1, 1))
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    counts = generate(a.out_dir, seed=a.seed, scale=a.scale, ads=a.ads, days=a.days,
                      users_per_day=a.users_per_day, start_date=a.start_date)
    for table, n in counts.items():
        print(f"{table:32s} {n:>10,d}")
    print(f"wrote {len(counts)} tables to {a.out_dir} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
