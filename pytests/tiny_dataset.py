"""A tiny hand-written source data set whose metrics are worked out by hand.

Window: start_date 2025-01-01, as_of_date 2025-01-10, trial_days 7, so trial
cohorts of 2025-01-01 .. 2025-01-03 are post-trial.

Hierarchy: ads `000777` and `777` → adset `as1` → campaign `c1`;
ad `a2` → adset `as2` → campaign `c1`. Ad `orphan` is not in the mapping.

Users:
  u1  full attribution c1/as1/000777, US
  u2  only abi_ad_id 000777 (adset as1, campaign c1 filled), country NULL → ZZ
  u3  abi_ad_id `ghost` (not in mapping), own campaign c9, no adset, DE
  u4  has_abi_attribution FALSE → never counted
  u5  abi_ad_id 777, no adset (filled as1), own campaign c2 that disagrees
      with the mapping (c1): the user's id wins, and a gap is listed; US
  u6  only abi_ad_set_id as2 (campaign c1 filled from the adset), country '' → ZZ
  `bad,id` and NULL distinct_id are rejected.

Cohort curves (docs/metrics.md §9): CURVE_RANGES below are worked out by hand on
TABLES, CURVE_CELLS on EDGES (which adds a renewal).

EDGES adds to it every reject case of the source checks and the edge values (one
build, pytests/test_source_contract_v2.py and test_metrics.py):
  ad acc      1 Meta trial and 1 cent of spend against 100 Mixpanel trials (users
              acc_000..acc_099, country ' us'; acc_000's metrics row rejected: rate 1.5)
  ad nullm    a Meta row with NULL spend and clicks (kept as 0); users tz_user (a
              TIMESTAMPTZ trial at 23:30 UTC, DE) and blank_country ('   ' -> ZZ)
  ads nanm, infm, ninfm, negm   Meta rows with NaN / ±Infinity spend, negative impressions
  ad refund_once  user d12: trial, purchase, conversion and one refund of prod_d on 01-02
              (the refund counts once)
  ad country_only only in the per-country Meta table, label Namibia -> 'NA'
  u1's renewal of prod_w on 01-09 (19.99, D + 7 of its trial): it enters no metric
              but the cohort curves
  blank_ids   empty abi ids (read as NULL) on ad a2, country FR
  and rejected events, metrics rows and names (see test_source_contract_v2.py).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

START_DATE = "2025-01-01"
AS_OF_DATE = "2025-01-10"

TABLES: dict[str, str] = {
    "id_hierarchy_mapping": """
        select * from (values
            ('000777', 'as1', 'c1'),
            ('777',    'as1', 'c1'),
            ('a2',     'as2', 'c1'),
            ('a2',     'as2', 'c1')          -- exact duplicate: counted once
        ) as t(ad_id, adset_id, campaign_id)
    """,
    "ad_performance_daily": """
        select ad_id, cast(date as date) as date, cast(spend as double) as spend,
               cast(impressions as bigint) as impressions, cast(clicks as bigint) as clicks,
               cast(meta_trials as bigint) as meta_trials, cast(meta_purchases as bigint) as meta_purchases
        from (values
            ('000777', '2025-01-02', 10.00, 1000, 50, 4, 1),
            ('000777', '2025-01-02', 10.00, 1000, 50, 4, 1),   -- exact duplicate
            ('777',    '2025-01-02',  5.50,  500, 20, 0, 0),
            ('a2',     '2025-01-02', -1.00,  100, 10, 0, 0),   -- negative: rejected
            ('orphan', '2025-01-03',  3.00,  100,  0, 1, 0),   -- not in the mapping
            ('000777', '2025-01-12',  8.00,  800, 40, 2, 0)    -- after as_of_date
        ) as t(ad_id, date, spend, impressions, clicks, meta_trials, meta_purchases)
    """,
    "ad_performance_daily_country": """
        select ad_id, cast(date as date) as date, country, cast(spend as double) as spend,
               cast(impressions as bigint) as impressions, cast(clicks as bigint) as clicks,
               cast(meta_trials as bigint) as meta_trials, cast(meta_purchases as bigint) as meta_purchases
        from (values
            ('000777', '2025-01-02', 'United States', 6.00, 600, 30, 3, 1),
            ('000777', '2025-01-02', 'US',            1.00, 100,  5, 0, 0),  -- code label, also US
            ('000777', '2025-01-02', 'Atlantis',      3.00, 300, 15, 1, 0),  -- unmapped → ZZ
            ('777',    '2025-01-02', 'Germany',       5.50, 500, 20, 0, 0),
            ('777',    '2025-01-02', 'Germany',       5.50, 500, 20, 0, 0)   -- exact duplicate
        ) as t(ad_id, date, country, spend, impressions, clicks, meta_trials, meta_purchases)
    """,
    "mixpanel_user": """
        select distinct_id, abi_campaign_id, abi_ad_set_id, abi_ad_id,
               cast(has_abi_attribution as boolean) as has_abi_attribution, country
        from (values
            ('u1',     'c1', 'as1', '000777', true,  'US'),
            ('u2',     null, null,  '000777', true,  null),
            ('u3',     'c9', null,  'ghost',  true,  'DE'),
            ('u4',     'c1', 'as1', '000777', false, 'US'),
            ('u5',     'c2', null,  '777',    true,  'US'),
            ('u6',     null, 'as2', null,     true,  ''),
            ('bad,id', 'c1', 'as1', '000777', true,  'US'),
            (null,     'c1', 'as1', '000777', true,  'US')
        ) as t(distinct_id, abi_campaign_id, abi_ad_set_id, abi_ad_id, has_abi_attribution, country)
    """,
    "mixpanel_event": """
        select event_uuid, distinct_id, event_name, cast(event_time as timestamp) as event_time,
               product_id, cast(revenue_usd as double) as revenue_usd
        from (values
            ('e01', 'u1', 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null),
            ('e01', 'u1', 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null),  -- duplicate delivery
            ('e02', 'u1', 'RC Trial converted',   '2025-01-09 10:00:00', 'prod_w', 9.99),
            ('e03', 'u1', 'RC Cancellation',      '2025-01-09 12:00:00', 'prod_w', -9.99), -- refund
            ('e04', 'u1', 'RC Trial started',     '2024-12-31 09:00:00', 'prod_m', null),  -- before start_date
            ('e05', 'u1', 'RC Initial purchase',  '2025-01-11 09:00:00', 'prod_y', 49.99), -- after as_of_date
            ('e10', 'u2', 'RC Trial started',     '2025-01-02 00:00:00', 'prod_w', null),  -- midnight
            ('e11', 'u2', 'RC Trial converted',   '2025-01-08 10:00:00', 'prod_m', 4.99),  -- other product
            ('e12', 'u2', 'RC Cancellation',      '2025-01-05 10:00:00', 'prod_w', -1.00),
            ('e30', 'u3', 'RC Initial purchase',  '2025-01-02 08:00:00', 'prod_y', 49.99),
            ('e31', 'u3', 'RC CANCELLATION',      '2025-01-03 08:00:00', 'prod_y', -49.99),-- refund, any case
            ('e40', 'u4', 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null),  -- not attributed
            ('e50', 'u5', 'RC Trial started',     '2025-01-02 23:59:59', 'prod_w', null),
            ('e51', 'u5', 'RC Cancellation',      '2025-01-04 10:00:00', 'prod_w', -9.99), -- before conversion
            ('e52', 'u5', 'RC Trial converted',   '2025-01-06 10:00:00', 'prod_w', 9.99),
            ('e53', 'u5', 'RC Cancellation',      '2025-01-07 10:00:00', 'prod_w', 0.0),   -- zero: not a refund
            ('e60', 'u6', 'RC Initial purchase',  '2025-01-02 12:00:00', 'prod_y', 29.99),
            ('e61', 'u6', 'RC Trial started',     '2025-01-09 12:00:00', 'prod_w', null),  -- not post-trial
            ('e70', 'bad,id', 'RC Trial started', '2025-01-02 10:00:00', 'prod_w', null),  -- rejected
            ('e71', null, 'RC Trial started',     '2025-01-02 10:00:00', 'prod_w', null)   -- rejected
        ) as t(event_uuid, distinct_id, event_name, event_time, product_id, revenue_usd)
    """,
    "user_product_metrics": """
        select distinct_id, product_id,
               cast(trial_conversion_rate as double) as trial_conversion_rate,
               cast(trial_converted_to_refund_rate as double) as trial_converted_to_refund_rate,
               cast(initial_purchase_to_refund_rate as double) as initial_purchase_to_refund_rate,
               cast(current_value as double) as current_value
        from (values
            ('u1', 'prod_w', 0.5, 0.2, 0.1,  20.0),
            ('u2', 'prod_w', 0.3, 0.1, 0.1,  10.0),
            ('u3', 'prod_y', 0.0, 0.0, 0.25, 50.0),
            ('u6', 'prod_y', 0.0, 0.0, 0.15, 30.0),
            ('u6', 'prod_w', 0.4, 0.0, 0.0,  12.0)
            -- (u5, prod_w) is deliberately missing
        ) as t(distinct_id, product_id, trial_conversion_rate, trial_converted_to_refund_rate,
               initial_purchase_to_refund_rate, current_value)
    """,
}


# Every rejected row of TABLES, by (source table, reason) (int_source_rows_rejected).
REJECTS = {
    ("ad_performance_daily", "exact_duplicate"): 1,
    ("ad_performance_daily", "negative_measure"): 1,            # a2 -1.00
    ("ad_performance_daily", "outside_reporting_window"): 1,    # the 2025-01-12 row
    ("ad_performance_daily_country", "exact_duplicate"): 1,
    ("id_hierarchy_mapping", "exact_duplicate"): 1,
    ("mixpanel_user", "comma_in_distinct_id"): 1,
    ("mixpanel_user", "null_distinct_id"): 1,
    ("mixpanel_event", "comma_in_distinct_id"): 1,
    ("mixpanel_event", "null_distinct_id"): 1,
    ("mixpanel_event", "duplicate_delivery"): 1,                # u1's e01
    ("mixpanel_event", "after_as_of_date"): 1,                  # u1's e05
}

ACC_USERS = "select 'acc_' || lpad(cast(i as varchar), 3, '0') as distinct_id, i from range(100) as t(i)"

EDGES: dict[str, str] = {
    # widened types: impressions INTEGER (BIGINT expected)
    "ad_performance_daily": f"""
        select * replace (cast(impressions as integer) as impressions) from (
            {TABLES['ad_performance_daily']}
            union all
            select ad_id, cast(date as date), spend, impressions, clicks, meta_trials, meta_purchases
            from (values
                ('acc',   '2025-01-04', 0.01,                     100,  10,   1, 0),  -- 1 cent, 1 Meta trial
                ('nullm', '2025-01-04', null,                     100,  null, 0, 0),  -- NULL measures: kept as 0
                ('nanm',  '2025-01-04', cast('nan' as double),    1,    1,    0, 0),
                ('infm',  '2025-01-04', cast('inf' as double),    1,    1,    0, 0),
                ('ninfm', '2025-01-04', cast('-inf' as double),   1,    1,    0, 0),
                ('negm',  '2025-01-04', 1.0,                      -3,   0,    0, 0)
            ) as t(ad_id, date, spend, impressions, clicks, meta_trials, meta_purchases)
        )
    """,
    # widened types: date TIMESTAMP (DATE expected), clicks UINTEGER (BIGINT expected)
    "ad_performance_daily_country": f"""
        select * replace (cast(date as timestamp) as date, cast(clicks as uinteger) as clicks) from (
            {TABLES['ad_performance_daily_country']}
            union all
            select ad_id, cast(date as date), country, spend, impressions, clicks, meta_trials, meta_purchases
            from (values
                ('acc',   '2025-01-04', 'United States', 0.01,                  100, 10,   1, 0),
                ('nullm', '2025-01-04', 'Germany',       null,                  100, null, 0, 0),
                ('nanm',  '2025-01-04', 'Germany',       cast('nan' as double), 1,   1,    0, 0),
                ('country_only', '2025-01-04', 'Namibia',  2.0,                   20,  1,    0, 0)  -- code 'NA' 
            ) as t(ad_id, date, country, spend, impressions, clicks, meta_trials, meta_purchases)
        )
    """,
    "mixpanel_user": f"""
        {TABLES['mixpanel_user']}
        union all
        select distinct_id, null, null, 'acc', true, ' us' from ({ACC_USERS})
        union all
        select * from (values
            ('tz_user',       null, null, 'nullm', true, 'DE'),
            ('blank_country', null, null, 'nullm', true, '   '),
            ('d12',           null, null, 'refund_once', true, 'US'),
            ('blank_ids',     '',   '',   'a2',    true, 'FR')
        )
    """,
    # event_time is TIMESTAMPTZ for the whole file; every instant is given in UTC
    "mixpanel_event": f"""
        select * replace (cast(strftime(event_time, '%Y-%m-%d %H:%M:%S') || '+00' as timestamptz) as event_time)
        from (
            {TABLES['mixpanel_event']}
            union all
            select 'acc_e' || lpad(cast(i as varchar), 3, '0'), distinct_id, 'RC Trial started',
                   timestamp '2025-01-04 12:00:00', 'prod_acc', cast(null as double)
            from ({ACC_USERS})
            union all
            select event_uuid, distinct_id, event_name, cast(event_time as timestamp), product_id,
                   cast(revenue_usd as double)
            from (values
                ('tz_e1',       'tz_user',       'RC Trial started',    '2025-01-04 23:30:00', 'prod_w', null),
                ('blank_e1',    'blank_country', 'RC Trial started',    '2025-01-04 10:00:00', 'prod_w', null),
                (null,          'u1',            'RC Trial started',    '2025-01-03 10:00:00', 'prod_w', null),
                ('',            'u1',            'RC Trial started',    '2025-01-03 10:00:00', 'prod_w', null),
                ('e_nullname',  'u1',            null,                  '2025-01-03 10:00:00', 'prod_w', null),
                ('e_emptyname', 'u1',            '',                    '2025-01-03 10:00:00', 'prod_w', null),
                ('e_nulltime',  'u1',            'RC Trial started',    null,                  'prod_w', null),
                ('e_nulltime',  'u1',            'RC Trial started',    null,                  'prod_w', null),
                ('e_nan',       'u6',            'RC Initial purchase', '2025-01-05 10:00:00', 'prod_y', 'nan'),
                ('e_inf',       'u6',            'RC Initial purchase', '2025-01-05 11:00:00', 'prod_y', '-inf'),
                -- a bad copy of u3's purchase e30 that sorts first: it must not hide the good one
                ('e30',         'u3',            'RC Initial purchase', '2025-01-02 08:00:00', 'prod_a', 'nan'),
                -- a trial, a purchase and a conversion of one product on one day, one refund
                ('d12_t',       'd12',           'RC Trial started',    '2025-01-02 08:00:00', 'prod_d', null),
                ('d12_p',       'd12',           'RC Initial purchase', '2025-01-02 09:00:00', 'prod_d', '6.00'),
                ('d12_c',       'd12',           'RC Trial converted',  '2025-01-02 10:00:00', 'prod_d', '7.00'),
                ('d12_r',       'd12',           'RC Cancellation',     '2025-01-02 11:00:00', 'prod_d', '-7.00'),
                ('e06',         'u1',            'RC Renewal',          '2025-01-09 11:00:00', 'prod_w', '19.99'),
                ('blank_e1',    'blank_ids',     'RC Trial started',    '2025-01-03 10:00:00', 'prod_w', null)
            ) as t(event_uuid, distinct_id, event_name, event_time, product_id, revenue_usd)
        )
    """,
    "user_product_metrics": f"""
        {TABLES['user_product_metrics']}
        union all
        select distinct_id, 'prod_acc',
               case when i = 0 then 1.5 else 0.5 end,   -- acc_000: rate 1.5, rejected
               0.1, 0.1, 150.0
        from ({ACC_USERS})
        union all
        select distinct_id, product_id, cast(r1 as double), cast(r2 as double), cast(r3 as double),
               cast(cv as double)
        from (values
            ('u1',      'prod_rate_neg', '-0.1', '0.1', '0.1', '1'),
            ('u1',      'prod_rate_big', '0.1',  '0.1', '1.2', '1'),
            ('u1',      'prod_rate_nan', 'nan',  '0.1', '0.1', '1'),
            ('u1',      'prod_rate_inf', '0.1',  'inf', '0.1', '1'),
            ('u1',      'prod_cv_neg',   '0.1',  '0.1', '0.1', '-5'),
            ('u1',      'prod_cv_nan',   '0.1',  '0.1', '0.1', 'nan'),
            ('u1',      'prod_cv_inf',   '0.1',  '0.1', '0.1', 'inf'),
            ('tz_user', 'prod_w',        null,   null,  null,  null),    -- NULLs are kept
            ('d12',     'prod_d',        '0.8',  '0.5', '0.4', '50')
        ) as t(distinct_id, product_id, r1, r2, r3, cv)
    """,
    "id_name_mapping": """
        select * from (values
            ('campaign', 'c1',            'Campaign One'),
            ('ad',       '000777',        'Ad 000777'),
            ('adset',    'as1',           ''),              -- empty: named by its id
            ('ad',       '777',           'Seven'),
            ('ad',       '777',           'Seven'),         -- exact duplicate
            ('adset',    'as2',           'Two A'),         -- two names: both rejected
            ('adset',    'as2',           'Two B'),
            ('Campaign', 'c2',            'x'),             -- not campaign / adset / ad
            (null,       'c9',            'x'),
            ('ad',       '',              'x'),
            ('ad',       'not_an_entity', 'Zed')            -- kept, but no mart entity
        ) as t(entity_type, entity_id, canonical_name)
    """,
}


# Cohort curve rows of entity_cohort_curves worked out by hand (docs/metrics.md §9) on
# EDGES, key (level, entity, cohort day, N). The cohort pairs of 2025-01-02 and what they
# earn, as (day after D: event):
#   u1 prod_w trial from 10:00: 7: conversion 9.99, renewal 19.99 (EDGES only), refund 9.99
#   u2 prod_w trial from 00:00: 3: refund 1.00 (a refund at or after the start counts,
#                                  converted or not; its prod_m conversion is another product)
#   u3 prod_y purchase 08:00:   0: purchase 49.99; 1: refund 49.99
#   u5 prod_w trial 23:59:59:   2: refund 9.99 (after the start, before the conversion); 4: conversion 9.99
#   u6 prod_y purchase 12:00:   0: purchase 29.99
# as_of_date 01-10: N = 7 is complete for D <= 01-03, N = 14 never.
CURVE_CELLS: dict[tuple[str, str, str, int], dict] = {
    # u1 + u2, spend 10.00. N = 0: nothing yet
    ("ad", "000777", "2025-01-02", 0): dict(
        cohort_pair_count=2, meta_spend="10.00", gross_revenue_usd="0.00", refunds_usd="0.00",
        net_revenue_usd="0.00", cohort_roas="0.0000", is_complete=True),
    # N = 7, the last day of the horizon: 9.99 + 19.99 (renewal) = 29.98; 9.99 + 1.00 = 10.99;
    # net 18.99 / 10.00
    ("ad", "000777", "2025-01-02", 7): dict(
        cohort_pair_count=2, meta_spend="10.00", gross_revenue_usd="29.98", refunds_usd="10.99",
        net_revenue_usd="18.99", cohort_roas="1.8990", is_complete=True),
    # 01-16 > 01-10: incomplete, the values so far
    ("ad", "000777", "2025-01-02", 14): dict(
        cohort_pair_count=2, gross_revenue_usd="29.98", refunds_usd="10.99", net_revenue_usd="18.99",
        cohort_roas="1.8990", is_complete=False),
    # u1 + u2 + u6, spend 15.50: 29.99 / 15.50 = 1.93483...
    ("campaign", "c1", "2025-01-02", 0): dict(
        cohort_pair_count=3, meta_spend="15.50", gross_revenue_usd="29.99", refunds_usd="0.00",
        net_revenue_usd="29.99", cohort_roas="1.9348", is_complete=True),
    # 29.99 + 29.98 = 59.97; 10.99; 48.98 / 15.50 = 3.16
    ("campaign", "c1", "2025-01-02", 7): dict(
        gross_revenue_usd="59.97", refunds_usd="10.99", net_revenue_usd="48.98", cohort_roas="3.1600",
        is_complete=True),
    # u1 + u2 + u5, spend 15.50: 29.98 + 9.99 = 39.97; 10.99 + 9.99 = 20.98; 18.99 / 15.50 = 1.22516...
    ("adset", "as1", "2025-01-02", 7): dict(
        cohort_pair_count=3, gross_revenue_usd="39.97", refunds_usd="20.98", net_revenue_usd="18.99",
        cohort_roas="1.2252", is_complete=True),
    # u3 on c9, no spend: the refund of day 1 is not in N = 0; ROAS 0 without spend
    ("campaign", "c9", "2025-01-02", 0): dict(
        cohort_pair_count=1, meta_spend="0.00", gross_revenue_usd="49.99", refunds_usd="0.00",
        net_revenue_usd="49.99", cohort_roas="0.0000", is_complete=True),
    ("campaign", "c9", "2025-01-02", 7): dict(
        gross_revenue_usd="49.99", refunds_usd="49.99", net_revenue_usd="0.00", cohort_roas="0.0000"),
    # u6's prod_w trial of 01-09, nothing earned; D + 7 = 01-16: incomplete
    ("campaign", "c1", "2025-01-09", 7): dict(
        cohort_pair_count=1, meta_spend="0.00", gross_revenue_usd="0.00", net_revenue_usd="0.00",
        is_complete=False),
    # a day without pairs or spend
    ("campaign", "c1", "2025-01-05", 0): dict(
        cohort_pair_count=0, meta_spend="0.00", gross_revenue_usd="0.00", refunds_usd="0.00",
        net_revenue_usd="0.00", cohort_roas="0.0000", is_complete=True),
}

# Range totals of the curves over cohort days start..end (docs/metrics.md §9, read API), on
# TABLES (what a release of the tiny set holds; no renewal): per N, over the complete rows
# only, cohort_roas = sum(net) / sum(spend) (None here when no row is complete, as the read
# API gives it), complete_cohort_days of cohort_days; the payback day is the smallest N
# whose range ROAS is at least 1. From the pairs listed above CURVE_CELLS, without u1's
# renewal; every other day of these entities in the ranges has no spend and no revenue.
# as_of_date 01-10: N = 0 is complete on every day, N = 7 for D <= 01-03, N >= 14 never.
CURVE_RANGES: dict[tuple[str, str, str, str], dict] = {
    # c1 = u1 + u2 + u6, spend 15.50 on 01-02. N = 0: u6's purchase 29.99 / 15.50 -> pays
    # back on day 0. N = 7 (01-02, 01-03 complete): 29.99 + 9.99 = 39.98 - (9.99 + 1.00) = 28.99
    ("campaign", "c1", "2025-01-02", "2025-01-05"): {
        "horizons": {0: dict(cohort_roas="1.9348", net_revenue_usd="29.99", meta_spend="15.50", complete_cohort_days=4),
                     7: dict(cohort_roas="1.8703", net_revenue_usd="28.99", meta_spend="15.50", complete_cohort_days=2),
                     14: dict(cohort_roas=None, complete_cohort_days=0),
                     30: dict(cohort_roas=None, complete_cohort_days=0)},
        "cohort_days": 4, "payback_days": 0},
    # as1 = u1 + u2 + u5, spend 15.50: N = 0: 0; N = 7: 9.99 + 9.99 - (9.99 + 1.00 + 9.99) = -1.00
    # -> -0.0645: spend and no payback
    ("adset", "as1", "2025-01-02", "2025-01-05"): {
        "horizons": {0: dict(cohort_roas="0.0000", net_revenue_usd="0.00", meta_spend="15.50", complete_cohort_days=4),
                     7: dict(cohort_roas="-0.0645", net_revenue_usd="-1.00", meta_spend="15.50",
                             complete_cohort_days=2),
                     30: dict(cohort_roas=None, complete_cohort_days=0)},
        "cohort_days": 4, "payback_days": None},
    # ad 777 (u5 only), spend 5.50 on 01-02: net 0 at N = 0 and N = 7 -> no payback
    ("ad", "777", "2025-01-02", "2025-01-04"): {
        "horizons": {0: dict(cohort_roas="0.0000", net_revenue_usd="0.00", meta_spend="5.50", complete_cohort_days=3),
                     7: dict(cohort_roas="0.0000", net_revenue_usd="0.00", meta_spend="5.50", complete_cohort_days=2),
                     30: dict(cohort_roas=None, complete_cohort_days=0)},
        "cohort_days": 3, "payback_days": None},
    # c1 without 01-02: no spend, ROAS 0 -> no payback
    ("campaign", "c1", "2025-01-03", "2025-01-05"): {
        "horizons": {0: dict(cohort_roas="0.0000", net_revenue_usd="0.00", meta_spend="0.00", complete_cohort_days=3),
                     7: dict(cohort_roas="0.0000", net_revenue_usd="0.00", meta_spend="0.00", complete_cohort_days=1)},
        "cohort_days": 3, "payback_days": None},
}


def write(out_dir: Path, overrides: dict[str, str] | None = None, skip: tuple[str, ...] = ()) -> Path:
    """Write the six Parquet files into out_dir; `overrides` replaces a table's SQL
    (EDGES: the data set with every edge case)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {**TABLES, **(overrides or {})}
    con = duckdb.connect()
    try:
        for name, sql in tables.items():
            if name in skip:
                continue
            target = (out_dir / f"{name}.parquet").as_posix()
            con.execute(f"copy ({sql}) to '{target}' (format parquet)")
    finally:
        con.close()
    return out_dir
